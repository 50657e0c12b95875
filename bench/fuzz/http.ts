/**
 * Target (e): HTTP requests at a real hub process's API and console. Seeds are real requests with
 * a valid admin API token, a console session (cookie and CSRF token) or a site's own credentials:
 * every route of the API and every console page. Mutations: the method, a path segment, the query
 * (repeated keys, odd values), a header (dropped, repeated, its value odd: a cookie with broken
 * percent-encoding, a token one character off, a content-length that lies, chunked garbage), the
 * JSON body (structurally, or as bytes, or past the body limit). Written as raw HTTP/1.1 over TCP,
 * so that nothing a client library would refuse to send is left out.
 *
 * A 5xx is a failure (the hub did not know what to say), as are the hub exiting and a request left
 * without an answer while /healthz still answers.
 */
import net from 'node:net';
import { join } from 'node:path';
import { provisionSites } from '@sentinela/tools/harness/provision.js';
import { tempDir } from '@sentinela/tools/harness/tmp.js';
import { FuzzHub } from './hub-process.js';
import { mutateBytes, mutateJson, oddString } from './mutate.js';
import { Rng } from './rng.js';
import { campaign, Tally, type Outcome, type TargetReport } from './tally.js';
import type { TargetRun } from './fuzz.bench.js';

const ANSWER_MS = 10_000;
const LANES = 4;
const MAX_DEATHS = 3;

interface Req {
  method: string;
  path: string[];
  query: Array<[string, string]>;
  headers: Array<[string, string]>;
  body: unknown;
  /** Bytes in place of the JSON body. */
  raw?: Buffer;
  /** A content-length that does not match the body. */
  lengthOverride?: number;
}

interface Auth {
  token: string;
  cookie: string;
  csrf: string;
  site: { siteId: string; password: string };
}

function seedRequests(a: Auth): Req[] {
  const bearer: [string, string] = ['authorization', `Bearer ${a.token}`];
  const session: Array<[string, string]> = [['cookie', `sentinela_session=${encodeURIComponent(a.cookie)}; sentinela_lang=pt`], ['x-csrf-token', a.csrf]];
  const basic: [string, string] = ['authorization', `Basic ${Buffer.from(`${a.site.siteId}:${a.site.password}`).toString('base64')}`];
  const get = (path: string, auth: Array<[string, string]>, query: Array<[string, string]> = []): Req => ({ method: 'GET', path: path.split('/').slice(1), query, headers: auth, body: null });
  const send = (method: string, path: string, auth: Array<[string, string]>, body: unknown): Req => ({ method, path: path.split('/').slice(1), query: [], headers: [...auth, ['content-type', 'application/json']], body });
  const s = a.site.siteId;
  const until = new Date(Date.now() + 3600_000).toISOString();
  return [
    get('/healthz', []),
    get('/metrics', []),
    get('/api/v1/sites', [bearer]),
    get(`/api/v1/sites/${s}`, [bearer]),
    get(`/api/v1/sites/${s}/events`, [bearer], [['limit', '10']]),
    get(`/api/v1/sites/${s}/history`, session, [['days', '1']]),
    get(`/api/v1/sites/${s}/outages`, [bearer], [['days', '7']]),
    get(`/api/v1/sites/${s}/alerts`, session),
    get('/api/v1/fleet', session, [['state', 'silent'], ['q', 'hf'], ['sort', 'name'], ['limit', '50']]),
    get('/api/v1/alerts', [bearer]),
    send('POST', '/api/v1/alerts/1/ack', session, {}),
    get('/api/v1/maintenance', [bearer]),
    send('POST', '/api/v1/maintenance', [bearer], { siteId: s, endsAt: until, reason: 'generator repair' }),
    send('DELETE', '/api/v1/maintenance/1', session, null),
    get('/api/v1/users', [bearer]),
    send('POST', '/api/v1/users', [bearer], { name: 'tecnico', role: 'viewer', password: 'a long enough password' }),
    get('/api/v1/audit', session, [['limit', '20'], ['before', '1000']]),
    send('POST', '/api/v1/enroll', [], { token: 'not-a-token-0123456789' }),
    send('POST', '/api/v1/session', [], { name: 'fuzz-admin', password: 'wrong password' }),
    get('/api/v1/session', session),
    get('/api/v1/escrow-key', []),
    get(`/api/v1/sites/${s}/snapshots`, [bearer]),
    get(`/api/v1/sites/${s}/snapshots/20261124T100000Z-clinic-abc12345/export`, [basic], [['source', 'clinic']]),
    get('/', session),
    get('/login', []),
    get(`/sites/${s}`, session),
    get(`/sites/${s}/restore`, session),
    get('/restore', session),
    get('/alerts', session),
    get('/admin', session),
    get('/lang', session, [['to', 'en'], ['next', '/alerts']]),
    get('/assets/uPlot.css', []),
  ];
}

/** Percent-encoding of any string's UTF-8 bytes (encodeURIComponent throws on a lone surrogate). */
const pct = (s: string) => [...Buffer.from(s, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'get', 'PROPFIND', 'G\u0000T', ''];
const ODD_SEGMENTS = ['..', '%2e%2e', '%00', '%', '%zz', '%E0%A4%A', '', '*', ':id', '%2F', 'x'.repeat(5000), encodeURIComponent('ção'), '-1', '1e400', '0x10', 'HF-UPPER'];
const ODD_HEADER_VALUES = ['', ' ', '%', '%E0%A4%A', 'x'.repeat(9000), 'a\u0000b', 'Bearer', 'Bearer  ', 'Basic', 'Basic !!!', 'Basic Og==', 'sentinela_session=%', 'sentinela_session=%E0%A4%A; sentinela_lang=%', 'sentinela_session=; =x; ;;', 'null', 'http://evil.example', 'chunked', '-1', '99999999999999999999', 'application/json; charset=utf-16', 'text/plain', 'multipart/form-data; boundary=x'];

function mutateRequest(rng: Rng, seed: Req, auth: Auth): Req {
  const r: Req = { ...seed, path: [...seed.path], query: seed.query.map(([k, v]) => [k, v]), headers: seed.headers.map(([k, v]) => [k, v]) };
  for (let n = rng.between(1, 3); n > 0; n--) {
    switch (rng.below(11)) {
      case 0:
        r.method = rng.pick(METHODS);
        break;
      case 1: {
        const i = rng.below(r.path.length + 1);
        if (rng.chance(0.6) && i < r.path.length) r.path[i] = rng.pick(ODD_SEGMENTS);
        else if (rng.chance(0.5)) r.path.splice(i, 0, rng.pick(ODD_SEGMENTS));
        else r.path.splice(i, 1);
        break;
      }
      case 2:
        if (r.query.length && rng.chance(0.5)) r.query[rng.below(r.query.length)]![1] = rng.chance(0.5) ? rng.pick(['-1', '0', '1e309', 'NaN', '[]', '%', '9007199254740993', 'x'.repeat(10_000), 'true']) : pct(oddString(rng));
        else r.query.push([rng.pick(['limit', 'days', 'before', 'state', 'q', 'sort', 'to', 'next', 'source', 'key', 'limit[]', '__proto__', '']), rng.pick(['1', '-5', '%', 'a', '100000', 'https://evil.example/', '//evil'])]);
        break;
      case 3:
        if (r.headers.length) r.headers.splice(rng.below(r.headers.length), 1);
        break;
      case 4:
        if (r.headers.length) r.headers.push([...r.headers[rng.below(r.headers.length)]!]);
        break;
      case 5: {
        // A header's value changed: odd, or the credential one character off.
        if (!r.headers.length) break;
        const h = r.headers[rng.below(r.headers.length)]!;
        if (rng.chance(0.4) && h[1].length > 8) {
          const at = rng.below(h[1].length);
          h[1] = h[1].slice(0, at) + rng.pick(['A', '0', '%', '=', ';', ' ']) + h[1].slice(at + 1);
        } else h[1] = rng.pick(ODD_HEADER_VALUES);
        break;
      }
      case 6:
        r.headers.push([rng.pick(['content-type', 'origin', 'host', 'cookie', 'authorization', 'x-csrf-token', 'accept-language', 'transfer-encoding', 'expect', 'x-forwarded-for']), rng.pick([...ODD_HEADER_VALUES, `Bearer ${auth.token}`])]);
        break;
      case 7:
      case 8:
        r.body = r.body === null ? { x: 1 } : r.body;
        r.raw = Buffer.from(mutateJson(rng, r.body));
        if (!r.headers.some(([k]) => k === 'content-type')) r.headers.push(['content-type', 'application/json']);
        break;
      case 9:
        r.raw = rng.chance(0.2) ? Buffer.alloc(70 * 1024, 0x20) : mutateBytes(rng, r.raw ?? Buffer.from(JSON.stringify(r.body ?? {})));
        break;
      default:
        r.lengthOverride = rng.pick([0, 1, 5, 100_000, -1]);
    }
  }
  return r;
}

function encodeRequest(r: Req): { bytes: Buffer; complete: boolean } {
  const body = r.raw ?? (r.body === null ? Buffer.alloc(0) : Buffer.from(JSON.stringify(r.body)));
  const query = r.query.length ? `?${r.query.map(([k, v]) => `${k}=${v}`).join('&')}` : '';
  const headers: Array<[string, string]> = [['host', '127.0.0.1'], ['connection', 'close'], ...r.headers];
  const chunked = headers.some(([k, v]) => k === 'transfer-encoding' && v === 'chunked');
  if ((body.length || r.lengthOverride !== undefined) && !chunked) headers.push(['content-length', String(r.lengthOverride ?? body.length)]);
  const head = `${r.method} /${r.path.join('/')}${query} HTTP/1.1\r\n${headers.map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`;
  // A request whose body is shorter than it says, or chunked without its end, waits for bytes that never come.
  const complete = !chunked && (r.lengthOverride === undefined || r.lengthOverride <= body.length);
  return { bytes: Buffer.concat([Buffer.from(head, 'utf8'), body]), complete };
}

type End = { status: number | null; closed: boolean; text: string };

async function send(port: number, bytes: Buffer, complete: boolean): Promise<End> {
  const sock = net.connect(port, '127.0.0.1');
  let text = '';
  let closed = false;
  let wake: () => void = () => undefined;
  sock.setEncoding('latin1');
  sock.on('data', (d: string) => {
    if (text.length < 4096) text += d;
    wake();
  });
  sock.on('error', () => undefined);
  sock.on('close', () => {
    closed = true;
    wake();
  });
  const status = () => {
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
    return m ? Number(m[1]) : null;
  };
  try {
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', resolve);
      sock.once('error', reject);
    });
    sock.write(bytes);
    if (!complete) sock.end();
    const deadline = Date.now() + ANSWER_MS;
    let timer: NodeJS.Timeout | undefined;
    while (status() === null && !closed && Date.now() < deadline) {
      await new Promise<void>((r) => {
        wake = r;
        timer = setTimeout(r, deadline - Date.now());
      });
      clearTimeout(timer);
    }
    return { status: status(), closed, text };
  } catch {
    return { status: null, closed: true, text };
  } finally {
    sock.destroy();
  }
}

async function healthz(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5000) })).status < 500;
  } catch {
    return false;
  }
}

async function login(url: string, name: string, password: string): Promise<{ cookie: string; csrf: string }> {
  const res = await fetch(`${url}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, password }) });
  if (!res.ok) throw new Error(`login: ${res.status} ${await res.text()}`);
  const cookie = /sentinela_session=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1];
  if (!cookie) throw new Error('login: no session cookie');
  return { cookie: decodeURIComponent(cookie), csrf: ((await res.json()) as { csrf: string }).csrf };
}

export async function fuzzHttp(opts: TargetRun): Promise<TargetReport> {
  const tally = new Tally('http', opts.seed, opts.failureFile);
  const dir = tempDir('sentinela-fuzz-http-');
  const fh = await new FuzzHub(join(dir.path, 'hub')).start();
  try {
    const [site] = await provisionSites(fh.dataDir, fh.hub.httpUrl, 1, 'fz-http');
    const t = await fh.hub.cli(['tokens', 'add', '--name', 'fuzz', '--role', 'admin', '--json']);
    if (t.code !== 0) throw new Error(`tokens add: ${t.stderr}`);
    const password = 'fuzz admin password 1';
    await fh.hub.addUser('fuzz-admin', 'admin', password);
    const auth: Auth = { token: (JSON.parse(t.stdout) as { token: string }).token, ...(await login(fh.hub.httpUrl, 'fuzz-admin', password)), site: site! };
    const seeds = seedRequests(auth);
    let sessions = 1;
    const inFlight = new Map<number, string>();
    const recent: string[] = [];
    await campaign(
      opts.inputs,
      LANES,
      async (index) => {
        await fh.ready();
        const rng = Rng.forInput(opts.seed, 'http', index);
        const req = rng.chance(0.9) ? mutateRequest(rng, rng.pick(seeds), auth) : rng.pick(seeds);
        const { bytes, complete } = encodeRequest(req);
        const record = bytes.toString('latin1');
        const proc = fh.hub.proc;
        const deaths = fh.deaths;
        inFlight.set(index, record);
        const end = await send(fh.hub.httpPort, bytes, complete);
        inFlight.delete(index);
        recent.push(record);
        if (recent.length > 2 * LANES) recent.shift();
        if (!proc.running) {
          await proc.exited;
          const suspects = [...new Set([...recent, ...inFlight.values()])];
          if (fh.deaths <= MAX_DEATHS && (await fh.restartAfter(proc))) tally.add(index, { kind: 'crash', detail: `${fh.lastExit}\n(${suspects.length} requests were in flight or just answered; all are in the failure file)` }, suspects.join('\n----\n'));
          return;
        }
        if (proc !== fh.hub.proc || fh.deaths !== deaths) return; // met a hub starting again: tested nothing
        let outcome: Outcome;
        if (end.status !== null && end.status >= 500) outcome = { kind: 'crash', detail: `answered ${end.status}: ${end.text.slice(0, 1500)}` };
        else if (end.status !== null) outcome = end.status < 400 ? { kind: 'accepted' } : { kind: 'refused', why: String(end.status) };
        else if (end.closed) outcome = { kind: 'refused', why: 'closed without an answer' };
        else outcome = (await healthz(fh.hub.httpUrl)) ? { kind: 'hang', detail: `no answer within ${ANSWER_MS} ms` } : { kind: 'crash', detail: 'the hub stopped answering /healthz' };
        tally.add(index, outcome, record);
        // A mutated request may log the session out: log in again so that session-borne requests keep reaching their routes.
        if (index % 100 === 99) {
          const me = await fetch(`${fh.hub.httpUrl}/api/v1/session`, { headers: { cookie: `sentinela_session=${encodeURIComponent(auth.cookie)}` } }).catch(() => null);
          // Wrong passwords among the inputs throttle logins from this address: then try again later.
          const again = me?.status === 401 ? await login(fh.hub.httpUrl, 'fuzz-admin', password).catch(() => null) : null;
          if (again) {
            Object.assign(auth, again);
            seeds.splice(0, seeds.length, ...seedRequests(auth));
            sessions++;
          }
        }
        if (index % 1000 === 999) opts.log(`fuzz http: ${index + 1} inputs…`);
      },
      () => fh.deaths > MAX_DEATHS,
    );
    tally.report.extra = { 'console logins': sessions };
    return tally.finish();
  } finally {
    await fh.stop();
    dir.remove();
  }
}
