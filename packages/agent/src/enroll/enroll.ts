/** Exchanges a one-time enrolment token for the site's credentials at the hub's HTTP API. */
import { isSiteId } from '@sentinela/shared';
import { writeCredentials, type Credentials } from './credentials.js';
import { hubRequest, HubRequestError, readText, type HubResponse } from './hub-http.js';

export interface EnrollRequest {
  /** Base URL of the hub's HTTP API, e.g. http://10.0.0.5:8080 */
  hubUrl: string;
  token: string;
  credentialsFile: string;
  /** site.id from the config, when set: the hub's answer must match it. */
  expectedSiteId?: string | undefined;
  /** hub.caFile from the config, for a hub served over https. */
  caFile?: string | undefined;
  timeoutMs?: number;
}

export interface EnrollResult {
  credentials: Credentials;
  mqttPort: number | null;
}

/** Every failure is an EnrollError with a sentence fit for the person at the keyboard. */
export class EnrollError extends Error {
  constructor(
    message: string,
    readonly status: number | null = null,
  ) {
    super(message);
    this.name = 'EnrollError';
  }
}

export async function enroll(req: EnrollRequest): Promise<EnrollResult> {
  const base = req.hubUrl.replace(/\/+$/, '');
  const url = `${base}/api/v1/enroll`;
  let res: HubResponse;
  let text: string;
  try {
    res = await hubRequest(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ token: req.token }),
      caFile: req.caFile,
      timeoutMs: req.timeoutMs ?? 30_000,
    });
    text = await readText(res);
  } catch (err) {
    if (err instanceof HubRequestError) throw new EnrollError(err.message);
    throw new EnrollError(`the hub at ${url} broke off its answer: ${(err as Error).message}`);
  }
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    /* handled below */
  }
  const b = (body ?? {}) as Record<string, unknown>;
  if (res.status !== 200) {
    const hubSays = typeof b.error === 'string' ? b.error : text.trim().slice(0, 300) || (res.body.statusMessage ?? '');
    throw new EnrollError(`the hub refused the enrolment (HTTP ${res.status}): ${hubSays}`, res.status);
  }
  if (typeof b.siteId !== 'string' || !isSiteId(b.siteId) || typeof b.username !== 'string' || typeof b.password !== 'string') {
    throw new EnrollError(`the hub at ${url} answered 200 but without siteId, username and password; is this a Sentinela hub?`, 200);
  }
  if (req.expectedSiteId && req.expectedSiteId !== b.siteId) {
    throw new EnrollError(
      `this token enrols site "${b.siteId}" but the config says site.id: ${req.expectedSiteId}; ` +
        'use a token made for this site, or correct site.id in the config (credentials not written)',
    );
  }
  const mqtt = b.mqtt as { port?: unknown } | undefined;
  const credentials: Credentials = {
    siteId: b.siteId,
    username: b.username,
    password: b.password,
    hubHttpUrl: base,
    enrolledAt: new Date().toISOString(),
  };
  writeCredentials(req.credentialsFile, credentials);
  return { credentials, mqttPort: typeof mqtt?.port === 'number' ? mqtt.port : null };
}
