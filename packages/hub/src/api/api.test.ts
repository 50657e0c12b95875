import t from 'tap';
import { downTopic, encodeUp, upTopic } from '@sentinela/shared';
import { createSite } from '../store/sites.js';
import { createApiToken, issueEnrollToken } from '../store/tokens.js';
import { birth, collect, connectSite, event, startTestHub, status } from '../test-support/harness.js';

async function call(port: number, path: string, init: RequestInit = {}) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, init);
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    // HTML or metrics text
  }
  return { status: res.status, json, text, type: res.headers.get('content-type') };
}

const enroll = (port: number, token: string) =>
  call(port, '/api/v1/enroll', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });

t.test('enrolment', async (t) => {
  const { hub, db, logs } = await startTestHub(t);
  createSite(db, { id: 'hf-0001', name: 'CS Chamanculo' });
  const { token } = issueEnrollToken(db, 'hf-0001', 1);

  const ok = await enroll(hub.httpPort, token);
  t.equal(ok.status, 200);
  t.equal(ok.json.siteId, 'hf-0001');
  t.equal(ok.json.username, 'hf-0001');
  t.equal(ok.json.mqtt.port, hub.mqttPort);
  t.type(ok.json.password, 'string');
  const client = await connectSite(t, hub.mqttPort, 'hf-0001', ok.json.password);
  t.ok(client.connected, 'the new password works');

  const again = await enroll(hub.httpPort, token);
  t.equal(again.status, 409);
  t.match(again.json.error, /^this enrolment token was already used at \d{4}-\d\d-\d\dT.*; ask the hub admin for a new one \(sentinela-hub sites token --id hf-0001\)$/);

  const old = issueEnrollToken(db, 'hf-0001', 1, new Date(Date.now() - 2 * 3600_000));
  const expired = await enroll(hub.httpPort, old.token);
  t.equal(expired.status, 410);
  t.match(expired.json.error, /^this enrolment token expired at .*; ask the hub admin for a new one/);

  const unknown = await enroll(hub.httpPort, 'enr_nope');
  t.equal(unknown.status, 401);
  t.match(unknown.json.error, /unknown enrolment token/);

  const bad = await call(hub.httpPort, '/api/v1/enroll', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  t.equal(bad.status, 400, 'schema-checked body');

  // Re-enrolment: a new token replaces the password; the live connection is dropped and the old password refused.
  const closed = new Promise<void>((r) => client.once('close', () => r()));
  const re = await enroll(hub.httpPort, issueEnrollToken(db, 'hf-0001', 1).token);
  t.equal(re.status, 200);
  await closed;
  await logs.waitFor(/closed the MQTT connection of site hf-0001: its password changed/);
  await t.rejects(connectSite(t, hub.mqttPort, 'hf-0001', ok.json.password), /Bad username or password/i, 'old password revoked');
  t.ok((await connectSite(t, hub.mqttPort, 'hf-0001', re.json.password)).connected, 'new password works');
});

t.test('API auth, sites and events', async (t) => {
  const { hub, db } = await startTestHub(t);
  const noToken = await call(hub.httpPort, '/api/v1/sites');
  t.equal(noToken.status, 401);
  t.match(noToken.json.error, /API token is required/);
  const badToken = await call(hub.httpPort, '/api/v1/sites', { headers: { authorization: 'Bearer sat_wrong' } });
  t.equal(badToken.status, 401);
  t.match(badToken.json.error, /unknown API token/);
  t.equal((await call(hub.httpPort, '/api/v1/sites/hf-0001/events')).status, 401, 'events need a token too');

  const token = createApiToken(db, 'test');
  const auth = { headers: { authorization: `Bearer ${token}` } };
  createSite(db, { id: 'hf-0001', name: 'CS Chamanculo', province: 'maputo-cidade' });
  createSite(db, { id: 'hf-0002' });
  const { token: enr } = issueEnrollToken(db, 'hf-0001', 1);
  const { json: creds } = await enroll(hub.httpPort, enr);
  const c = await connectSite(t, hub.mqttPort, 'hf-0001', creds.password);
  const acks = await collect(c, downTopic('hf-0001', 'ack'));
  await c.publishAsync(upTopic('hf-0001', 'birth'), encodeUp(birth('hf-0001', 1)), { qos: 1 });
  await c.publishAsync(upTopic('hf-0001', 'status'), encodeUp(status('hf-0001', 1)), { qos: 1 });
  await acks.next();
  for (const seq of [2, 4]) await c.publishAsync(upTopic('hf-0001', 'event'), encodeUp(event('hf-0001', seq)), { qos: 1 });
  await acks.next();
  await hub.ingest.flush();

  const list = await call(hub.httpPort, '/api/v1/sites', auth);
  t.equal(list.status, 200);
  t.same(list.json.sites.map((s: any) => [s.id, s.state]), [['hf-0001', 'online'], ['hf-0002', 'never-seen']]);

  const one = await call(hub.httpPort, '/api/v1/sites/hf-0001', auth);
  t.equal(one.status, 200);
  t.match(one.json, {
    id: 'hf-0001',
    name: 'CS Chamanculo',
    province: 'maputo-cidade',
    state: 'online',
    agentVersion: '0.1.0',
    messagesReceived: 3,
    missing: 1,
    backlog: { pending: 1, source: 'status' },
    latestStatus: { type: 'status', seq: 1, host: { hostname: 'hf-0001-srv' } },
  });
  t.same(one.json.gaps.map((g: any) => [g.maxSeq, g.received, g.missing]), [[4, 3, 1]]);

  t.equal((await call(hub.httpPort, '/api/v1/sites/hf-0404', auth)).status, 404);
  const events = await call(hub.httpPort, '/api/v1/sites/hf-0001/events?limit=1', auth);
  t.equal(events.status, 200);
  t.equal(events.json.events.length, 1);
  t.match(events.json.events[0], { type: 'event', code: 'service.down', receivedAt: String });
  t.equal((await call(hub.httpPort, '/api/v1/sites/hf-0001/events?limit=0', auth)).status, 400, 'limit is schema-checked');
});

t.test('healthz, metrics and the console', async (t) => {
  const { hub, db } = await startTestHub(t);
  createSite(db, { id: 'hf-0001', name: 'CS <Chamanculo>' });
  const health = await call(hub.httpPort, '/healthz');
  t.same([health.status, health.json], [200, { ok: true, db: 'ok' }]);
  const metrics = await call(hub.httpPort, '/metrics');
  t.equal(metrics.status, 200);
  t.match(metrics.text, /sentinela_hub_sites\{state="never-seen"\} 1/);
  t.match(metrics.text, /sentinela_hub_mqtt_clients_connected 0/);
  t.match(metrics.text, /process_cpu_user_seconds_total/);
  // The console needs a session: a page without one redirects to the login page (bilingual, no external assets).
  const page = await fetch(`http://127.0.0.1:${hub.httpPort}/`, { redirect: 'manual' });
  t.equal(page.status, 302);
  t.equal(page.headers.get('location'), '/login?next=%2F');
  const login = await call(hub.httpPort, '/login');
  t.equal(login.status, 200);
  t.match(login.type, /text\/html/);
  t.match(login.text, /Entrar na consola/);
  t.notMatch(login.text, /https?:\/\//, 'no external URL');
  const en = await fetch(`http://127.0.0.1:${hub.httpPort}/lang?to=en&next=/login`, { redirect: 'manual' });
  t.match(en.headers.get('set-cookie'), /sentinela_lang=en; Path=\/; SameSite=Strict/);
  t.equal((await call(hub.httpPort, '/login', { headers: { cookie: 'sentinela_lang=en' } })).text.includes('Log in to the console'), true);
  t.equal((await call(hub.httpPort, '/assets/uPlot.js')).status, 200, 'uPlot is served by the hub');
  db.close(); // the database stops answering
  const down = await call(hub.httpPort, '/healthz');
  t.equal(down.status, 503);
  t.match(down.json, { ok: false, db: 'error' });
});

t.test('a cookie whose value does not percent-decode is no cookie: 401 or the login page, never 500 (issue 18)', async (t) => {
  const { hub } = await startTestHub(t);
  for (const cookie of ['sentinela_session=%', 'sentinela_session=%E0%A4%A', 'sentinela_lang=%; sentinela_session=%zz']) {
    const api = await call(hub.httpPort, '/api/v1/session', { headers: { cookie } });
    t.equal(api.status, 401, `API with ${cookie}`);
    const page = await call(hub.httpPort, '/alerts', { headers: { cookie }, redirect: 'manual' });
    t.ok(page.status < 500, `console page with ${cookie}: ${page.status}`);
  }
});

t.test('a number in a query string or path that is not finite (1e309) is a 400, never a 500 (issue 18)', async (t) => {
  const { hub, db } = await startTestHub(t);
  createSite(db, { id: 'hf-0001' });
  const token = createApiToken(db, 'ops', new Date(), 'admin');
  const headers = { authorization: `Bearer ${token}` };
  for (const path of ['/api/v1/sites/hf-0001/events?limit=1e309', '/api/v1/sites/hf-0001/history?days=-1e309', '/api/v1/audit?limit=1e309', '/api/v1/audit?before=1e309']) {
    const r = await call(hub.httpPort, path, { headers });
    t.equal(r.status, 400, path);
    t.match(r.json?.error, /must be a finite number/);
  }
  t.equal((await call(hub.httpPort, '/api/v1/sites/hf-0001/events?limit=1e3', { headers })).status, 200, 'an ordinary number in exponent form still works');
});
