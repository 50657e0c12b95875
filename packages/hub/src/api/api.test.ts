import t from 'tap';
import { downTopic, encodeUp, upTopic, type UpMessage } from '@sentinela/shared';
import { createSite } from '../store/sites.js';
import { createApiToken, issueEnrollToken } from '../store/tokens.js';
import { sqliteSql } from '../store/sqlite-sql.js';
import { birth, collect, connectSite, event, startTestHub, status } from '../harness.test-support.js';

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
  const { token } = await issueEnrollToken(sqliteSql(db), 'hf-0001', 1);

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

  const old = await issueEnrollToken(sqliteSql(db), 'hf-0001', 1, new Date(Date.now() - 2 * 3600_000));
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
  const re = await enroll(hub.httpPort, (await issueEnrollToken(sqliteSql(db), 'hf-0001', 1)).token);
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
  const { token: enr } = await issueEnrollToken(sqliteSql(db), 'hf-0001', 1);
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
  t.same(one.json.gaps.map((g: any) => [g.maxSeq, g.received, g.thinned, g.missing]), [[4, 3, 0, 1]]);

  // The agent dropped seqs 5 and 6 when its outbox was full and says so in its next status: thinned, not missing.
  const thinnedStatus = status('hf-0001', 7) as Extract<ReturnType<typeof status>, { type: 'status' }>;
  thinnedStatus.outbox = { pending: 0, pendingBytes: 0, oldestTs: null, thinned: 2 };
  await c.publishAsync(upTopic('hf-0001', 'status'), encodeUp(thinnedStatus), { qos: 1 });
  await acks.next();
  await hub.ingest.flush();
  const after = await call(hub.httpPort, '/api/v1/sites/hf-0001', auth);
  t.equal(after.json.missing, 1, 'only seq 3 is missing');
  t.same(after.json.gaps.map((g: any) => [g.maxSeq, g.received, g.thinned, g.missing]), [[7, 4, 2, 1]]);

  t.equal((await call(hub.httpPort, '/api/v1/sites/hf-0404', auth)).status, 404);
  const events = await call(hub.httpPort, '/api/v1/sites/hf-0001/events?limit=1', auth);
  t.equal(events.status, 200);
  t.equal(events.json.events.length, 1);
  t.match(events.json.events[0], { type: 'event', code: 'service.down', receivedAt: String });
  t.equal((await call(hub.httpPort, '/api/v1/sites/hf-0001/events?limit=0', auth)).status, 400, 'limit is schema-checked');
});

t.test('rows an older hub stored nesting 60,000 deep do not break any answer; they are skipped or flagged (issue 18 item 2)', async (t) => {
  const { hub, db, logs } = await startTestHub(t);
  const token = createApiToken(db, 'test');
  const auth = { headers: { authorization: `Bearer ${token}` } };
  createSite(db, { id: 'hf-0001' });
  createSite(db, { id: 'hf-0002' });
  const nest = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
  const deep = (m: object) => JSON.stringify(m).replace(/}$/, `,"x":${nest(60_000)}}`);
  // What a hub before the depth limit stored: straight into ingest, as its check let it through.
  const good = status('hf-0001', 1, 'stream-good-0001', new Date(Date.now() - 60_000).toISOString());
  hub.ingest.accept('hf-0001', good, JSON.stringify(good));
  const bad = status('hf-0001', 1, 'stream-evil-0001');
  hub.ingest.accept('hf-0001', bad, deep(bad));
  const badEvent = event('hf-0001', 2, 'stream-evil-0001');
  hub.ingest.accept('hf-0001', badEvent, deep(badEvent));
  hub.ingest.accept('hf-0001', event('hf-0001', 3, 'stream-evil-0001'));
  const b = birth('hf-0001', 1);
  hub.ingest.accept('hf-0001', b, deep(b));
  hub.ingest.accept('hf-0002', status('hf-0002', 1));
  await hub.ingest.flush();
  t.match(db.prepare("SELECT last_status_stream FROM sites WHERE id = 'hf-0001'").pluck().get(), 'stream-evil-0001', 'the deep row is the stored latest status');

  const list = await call(hub.httpPort, '/api/v1/sites', auth);
  t.equal(list.status, 200, '/api/v1/sites answers');
  t.match(list.json.sites[1], { id: 'hf-0002', latestStatus: { seq: 1 }, latestStatusUnreadable: null }, 'the other site is shown whole');
  const one = await call(hub.httpPort, '/api/v1/sites/hf-0001', auth);
  t.equal(one.status, 200, '/api/v1/sites/hf-0001 answers');
  t.equal(one.json.latestStatus, null);
  t.equal(one.json.latestStatusUnreadable, "stored before the protocol's nesting limit: JSON nests 60001 levels deep; the limit is 64");
  const events = await call(hub.httpPort, '/api/v1/sites/hf-0001/events', auth);
  t.equal(events.status, 200, '/events answers');
  t.same(events.json.events.map((e: any) => [e.seq, e.code ?? null, e.unreadable ?? null]).sort(), [
    [2, null, "stored before the protocol's nesting limit: JSON nests 60001 levels deep; the limit is 64"],
    [3, 'service.down', null],
  ], 'the deep event keeps its place, flagged; the others are whole');
  const history = await call(hub.httpPort, '/api/v1/sites/hf-0001/history', auth);
  t.equal(history.status, 200, '/history answers');
  t.equal(history.json.t.length, 1, 'the readable status is charted, the deep one skipped');
  t.equal((await call(hub.httpPort, '/api/v1/sites/hf-0001/outages', auth)).status, 200, '/outages answers');
  t.equal((await call(hub.httpPort, '/api/v1/fleet', auth)).status, 200, '/fleet answers');
  t.equal((await call(hub.httpPort, '/api/v1/sites/hf-0001/snapshots', auth)).status, 200, 'the snapshot catalogue answers');
  t.notOk(logs.find((l) => /call stack|malformed JSON/i.test(JSON.stringify(l))), 'no stack overflow nor malformed JSON anywhere in the log');
});

t.test('the issue 18 attack over MQTT: every answer stays 200 for everyone and the real agent stays the latest', async (t) => {
  const { hub, db } = await startTestHub(t);
  const token = createApiToken(db, 'test');
  const auth = { headers: { authorization: `Bearer ${token}` } };
  for (const id of ['hf-0001', 'hf-0002']) createSite(db, { id });
  const sites: Record<string, Awaited<ReturnType<typeof connectSite>>> = {};
  for (const id of ['hf-0001', 'hf-0002']) {
    const { json: creds } = await enroll(hub.httpPort, (await issueEnrollToken(sqliteSql(db), id, 1)).token);
    sites[id] = await connectSite(t, hub.mqttPort, id, creds.password);
  }
  const acks = await collect(sites['hf-0001']!, downTopic('hf-0001', 'ack'));
  const nest = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
  // The attack: a schema-valid status on a new stream, dated 2099, 60,000 levels deep; and the same without the nesting.
  const forged = status('hf-0001', 1, 'forged-stream-01', '2099-01-01T00:00:00.000Z');
  await sites['hf-0001']!.publishAsync(upTopic('hf-0001', 'status'), Buffer.from(JSON.stringify(forged).replace(/}$/, `,"x":${nest(60_000)}}`)), { qos: 1 });
  t.match((await acks.next()).rejected, [{ seq: 1, reason: /too-deep/ }]);
  await sites['hf-0001']!.publishAsync(upTopic('hf-0001', 'status'), encodeUp({ ...forged, seq: 2 }), { qos: 1 });
  t.same((await acks.next()).acked, [[2, 2]], 'the dated-2099 status is stored');
  // The real agent, and another site, go on.
  await sites['hf-0001']!.publishAsync(upTopic('hf-0001', 'status'), encodeUp(status('hf-0001', 41)), { qos: 1 });
  await acks.next();
  await sites['hf-0002']!.publishAsync(upTopic('hf-0002', 'status'), encodeUp(status('hf-0002', 1)), { qos: 1 });
  await hub.ingest.flush();
  for (const path of ['/api/v1/sites', '/api/v1/sites/hf-0001', '/api/v1/sites/hf-0001/events', '/api/v1/sites/hf-0001/history', '/api/v1/sites/hf-0002', '/api/v1/fleet']) {
    t.equal((await call(hub.httpPort, path, auth)).status, 200, `${path} answers`);
  }
  const one = (await call(hub.httpPort, '/api/v1/sites/hf-0001', auth)).json;
  t.match(one.latestStatus, { stream: 'stream-test-0001', seq: 41 }, "the real agent's status is the latest");
});

t.test('a seq past 2^40 is refused, so the gap count stays true (issue 18 item 3)', async (t) => {
  const { hub, db } = await startTestHub(t);
  const token = createApiToken(db, 'test');
  createSite(db, { id: 'hf-0001' });
  const { token: enr } = await issueEnrollToken(sqliteSql(db), 'hf-0001', 1);
  const { json: creds } = await enroll(hub.httpPort, enr);
  const c = await connectSite(t, hub.mqttPort, 'hf-0001', creds.password);
  const acks = await collect(c, downTopic('hf-0001', 'ack'));
  await c.publishAsync(upTopic('hf-0001', 'status'), encodeUp(status('hf-0001', 1)), { qos: 1 });
  t.same((await acks.next()).acked, [[1, 1]]);
  await c.publishAsync(upTopic('hf-0001', 'status'), Buffer.from(JSON.stringify(status('hf-0001', 2 ** 53 - 1))), { qos: 1 });
  const site = async () => (await call(hub.httpPort, '/api/v1/sites/hf-0001', { headers: { authorization: `Bearer ${token}` } })).json;
  for (let i = 0; i < 50 && (await hub.metrics.registry.getSingleMetricAsString('sentinela_hub_messages_refused_total')).indexOf('invalid') < 0; i++) await new Promise((r) => setTimeout(r, 20));
  await hub.ingest.flush();
  t.match(await site(), { messagesReceived: 1, missing: 0 }, 'not missing: 9007199254740990');
});

t.test('a seq far ahead of its stream counts as a jump, not 10^12 missing, through both MQTT lanes (issue 18 item 3)', async (t) => {
  const { hub, db, logs } = await startTestHub(t);
  const token = createApiToken(db, 'test');
  createSite(db, { id: 'hf-0001' });
  const { json: creds } = await enroll(hub.httpPort, (await issueEnrollToken(sqliteSql(db), 'hf-0001', 1)).token);
  // A QoS 1 PUBLISH up to 64 KiB takes the fast lane (broker/fast-lane.ts); a larger one goes through aedes.
  const lanes = { fast: { stream: 'stream-fast-lane', padding: '' }, aedes: { stream: 'stream-aedes-lane', padding: 'x'.repeat(70_000) } };
  for (const [lane, o] of Object.entries(lanes)) {
    const c = await connectSite(t, hub.mqttPort, 'hf-0001', creds.password);
    const acks = await collect(c, downTopic('hf-0001', 'ack'));
    // seq 5 (1-4 missing), 9 (6-8 missing: within mqtt.maxSeqJump), then 2^40 - 1 (a jump), then 6 (late: no longer missing).
    for (const seq of [5, 9, 2 ** 40 - 1, 6]) {
      const payload = encodeUp({ ...status('hf-0001', seq, o.stream), ...(o.padding ? { note: o.padding } : {}) } as UpMessage);
      t.equal(payload.length > 64 * 1024, lane === 'aedes', `${lane} lane: a ${payload.length}-byte payload`);
      await c.publishAsync(upTopic('hf-0001', 'status'), payload, { qos: 1 });
      t.same((await acks.next()).acked, [[seq, seq]], `${lane} lane: seq ${seq} stored and acked`);
    }
    await c.endAsync();
  }
  await hub.ingest.flush();
  const site = (await call(hub.httpPort, '/api/v1/sites/hf-0001', { headers: { authorization: `Bearer ${token}` } })).json;
  for (const o of Object.values(lanes)) {
    const gap = site.gaps.find((g: { stream: string }) => g.stream === o.stream);
    // The 2^40 - 11 seqs between 9 and 2^40 - 1 are jumped; 1-4, 7 and 8 are missing.
    t.match(gap, { maxSeq: 2 ** 40 - 1, received: 4, jumped: 2 ** 40 - 11, missing: 6 }, `${o.stream}: the jump is not missing`);
  }
  t.equal(site.messagesReceived, 8);
  t.equal(site.missing, 12, 'the site shows 12 missing, not 2 × 1,099,511,627,766');
  await logs.waitFor(/site hf-0001 stream stream-fast-lane jumped from seq 9 to 1099511627775, more than mqtt.maxSeqJump \(1000000\) ahead/);
  await logs.waitFor(/stream stream-aedes-lane jumped from seq 9 to 1099511627775/);
  t.match(await hub.metrics.registry.getSingleMetricAsString('sentinela_hub_seq_jumps_total'), /sentinela_hub_seq_jumps_total 2/);
  // A new stream that starts past the window: the same rule (0 is its highest).
  const c = await connectSite(t, hub.mqttPort, 'hf-0001', creds.password);
  const acks = await collect(c, downTopic('hf-0001', 'ack'));
  await c.publishAsync(upTopic('hf-0001', 'status'), encodeUp(status('hf-0001', 2 ** 40, 'stream-new-one')), { qos: 1 });
  t.same((await acks.next()).acked, [[2 ** 40, 2 ** 40]]);
  await hub.ingest.flush();
  const again = (await call(hub.httpPort, '/api/v1/sites/hf-0001', { headers: { authorization: `Bearer ${token}` } })).json;
  t.match(again.gaps.find((g: { stream: string }) => g.stream === 'stream-new-one'), { received: 1, jumped: 2 ** 40 - 1, missing: 0 });
  t.equal(again.missing, 12);
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
  t.match(en.headers.get('set-cookie'), /^sentinela_lang=en;/);
  t.match(en.headers.get('set-cookie'), /; Path=\/(;|$)/);
  t.match(en.headers.get('set-cookie'), /; SameSite=Strict(;|$)/);
  t.notMatch(en.headers.get('set-cookie'), /HttpOnly/, 'the page script may read the language');
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
