/**
 * `restore --from hub`: downloads a snapshot's chain from the hub's off-site store (the export API,
 * authenticated with the site's own enrolment credentials) into a local repository folder, with
 * the escrowed key (backup.key) when the hub holds it. Used on a replacement server after fire or
 * flood: enrol it, then restore.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { extractTar, type AgentConfig } from '@sentinela/shared';
import { readCredentials } from '../enroll/credentials.js';
import { hubRequest, HubRequestError, readText, type HubResponse } from '../enroll/hub-http.js';
import { credentialsPath } from '../paths.js';

export class HubFetchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HubFetchError';
  }
}

/** A download that stalls this long fails (the hub or the WAN went away). */
const IDLE_TIMEOUT_MS = 120_000;

export interface FetchedCopy {
  dir: string;
  bytes: number;
  files: number;
}

/**
 * Downloads `snapshot` (an id, or `latest`: the newest whole copy, of `source` when given) of this
 * site into `<dataDir>/from-hub/<snapshot>-<time>/`, or into `into` (a drill's scratch folder).
 */
export async function fetchFromHub(config: AgentConfig, snapshot: string, onBytes?: (n: number) => void, source?: string, into?: string): Promise<FetchedCopy> {
  const creds = readCredentials(credentialsPath(config));
  if (!creds) throw new HubFetchError(`this server is not enrolled (no ${credentialsPath(config)}): run "sentinela-agent enroll" with a token from the hub ("sentinela-hub sites token --id ${config.site.id}"), then restore`);
  const url = `${creds.hubHttpUrl.replace(/\/+$/, '')}/api/v1/sites/${encodeURIComponent(creds.siteId)}/snapshots/${encodeURIComponent(snapshot)}/export?key=1${source ? `&source=${encodeURIComponent(source)}` : ''}`;
  const auth = Buffer.from(`${creds.siteId}:${creds.password}`).toString('base64');
  let res: HubResponse;
  try {
    res = await hubRequest(url, { headers: { authorization: `Basic ${auth}` }, caFile: config.hub.caFile, timeoutMs: IDLE_TIMEOUT_MS });
  } catch (err) {
    if (err instanceof HubRequestError) throw new HubFetchError(err.message);
    throw err;
  }
  const type = String(res.headers['content-type'] ?? '');
  if (res.status < 200 || res.status > 299) {
    const text = await readText(res);
    let detail = text;
    try {
      detail = (JSON.parse(text) as { error?: string }).error ?? text;
    } catch {
      /* not JSON */
    }
    throw new HubFetchError(`the hub refused the export of ${snapshot} for site ${creds.siteId} (HTTP ${res.status}): ${detail.slice(0, 300)}`);
  }
  if (!type.startsWith('application/x-tar')) {
    res.body.destroy();
    throw new HubFetchError(`the hub holds no off-site copy of ${snapshot} for site ${creds.siteId}: restore from the USB disk or the secondary server`);
  }
  const dir = into ?? join(config.dataDir, 'from-hub', `${snapshot}-${new Date().toISOString().replace(/[:.]/g, '')}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  let bytes = 0;
  const files = await extractTar(res.body, dir, (n) => {
    bytes = n;
    onBytes?.(n);
  });
  return { dir, bytes, files };
}
