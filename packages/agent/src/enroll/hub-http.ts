/**
 * HTTP(S) requests from the agent to the hub's API (enrolment, restore from the hub), trusting the
 * CA in hub.caFile. Node's fetch cannot take a CA per request (only NODE_EXTRA_CA_CERTS, for the
 * whole process), so this uses node:http(s), which can.
 */
import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface HubRequestOptions {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** hub.caFile from the config: the CA that signed the hub's certificate (else the system CAs). */
  caFile?: string | undefined;
  timeoutMs?: number;
}

export interface HubResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body as a stream; read it with readText, or consume or destroy it. */
  body: IncomingMessage;
}

/** Every failure to get an answer, in a sentence that says what to do. */
export class HubRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HubRequestError';
  }
}

/** Certificate checks that fail because the chain does not lead to a CA the agent trusts. */
const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);

/** Why a connection to the hub failed, naming hub.caFile where that is the fix. */
export function explainFailure(url: URL, code: string, caFile: string | undefined): string {
  if (UNTRUSTED.has(code)) {
    return caFile
      ? `the hub's certificate is not signed by the CA in hub.caFile (${caFile}) (${code}); copy the hub's CA certificate (PEM) to that file`
      : `the hub's certificate is not signed by a CA this server trusts (${code}); set hub.caFile in the agent's config to the hub's CA certificate (PEM)`;
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    return `the hub's certificate is not valid at this server's time (${code}); check the clock here (date) and the certificate's dates at the hub`;
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return `the hub's certificate is not made for "${url.hostname}" (${code}); use the host name the certificate names in the hub URL`;
  }
  return code;
}

export function hubRequest(url: string, opts: HubRequestOptions = {}): Promise<HubResponse> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return Promise.reject(new HubRequestError(`"${url}" is not a valid URL; give the hub's address as http://HOST:PORT or https://HOST:PORT`));
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    return Promise.reject(new HubRequestError(`"${url}" is not an http:// or https:// URL`));
  }
  let ca: Buffer | undefined;
  if (opts.caFile && u.protocol === 'https:') {
    try {
      ca = readFileSync(opts.caFile);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      return Promise.reject(new HubRequestError(`cannot read hub.caFile (${opts.caFile}): ${code}`));
    }
  }
  const timeoutMs = opts.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(
      u,
      {
        method: opts.method ?? 'GET',
        headers: { ...opts.headers, ...(opts.body !== undefined ? { 'content-length': String(Buffer.byteLength(opts.body)) } : {}) },
        timeout: timeoutMs,
        ...(ca ? { ca } : {}),
      },
      (res) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res }),
    );
    let timedOut = false;
    // Idle time, also while a body streams: a hub that stops answering fails the request.
    req.on('timeout', () => {
      timedOut = true;
      req.destroy();
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      const why = timedOut ? `no answer within ${timeoutMs} ms` : explainFailure(u, err.code ?? err.message, opts.caFile);
      reject(new HubRequestError(`cannot reach the hub at ${url}: ${why}`));
    });
    req.end(opts.body);
  });
}

/** The whole body as text (answers of the API are small JSON). */
export async function readText(res: HubResponse): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of res.body) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
