import t from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createLogger } from '@sentinela/shared';
import { openDb } from '../database.js';
import { createSite } from '../store/sites.js';
import { createApiToken } from '../store/tokens.js';
import { startTestHub, tempDir, testConfig } from '../harness.test-support.js';
import { AlertEngine } from '../alerts/engine.js';
import { addMaintenance, openAlerts } from '../alerts/store.js';
import { Webhook } from '../alerts/webhook.js';
import { hashPassword, verifyPassword } from '../users/password.js';
import { LoginThrottle } from '../users/throttle.js';
import { createUser } from '../users/users.js';
import { listAudit } from '../users/audit.js';
import { evaluateSite } from '../alerts/rules.js';
import { gunzipSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { overviewQuery } from './pages.js';
import { downIntervals, uptimePct } from '../core/link-uptime.js';

t.test('scrypt hashes verify, carry their parameters, and differ per salt', async (t) => {
  const h = await hashPassword('correct horse battery');
  t.match(h, /^scrypt\$32768\$8\$1\$[\w-]{22}\$[\w-]{43}$/);
  t.ok(await verifyPassword('correct horse battery', h));
  t.notOk(await verifyPassword('correct horse batterY', h));
  t.not(await hashPassword('correct horse battery'), h, 'salted');
});

t.test('the login throttle waits per user and address: one person\'s typos do not lock out the others behind the same address', async (t) => {
  const th = new LoginThrottle({ free: 2, baseMs: 1000, maxMs: 8000, forgetMs: 60_000, wideFree: 6 });
  const now = 1_000_000;
  th.failed('ana', '10.0.0.1', now);
  th.failed('ana', '10.0.0.1', now);
  t.equal(th.waitMs('ana', '10.0.0.1', now), 1000, 'after the free attempts: 1 s');
  t.equal(th.waitMs('bob', '10.0.0.1', now), 0, 'another user at the same address (the proxy, the clinic NAT) is not slowed');
  t.equal(th.waitMs('ana', '10.0.0.2', now), 0, 'the same user from another address is not slowed yet');
  for (const u of ['carl', 'dina', 'eva', 'fred']) th.failed(u, '10.0.0.1', now);
  t.ok(th.waitMs('zoe', '10.0.0.1', now) > 0, 'one address trying many accounts is slowed for every account');
  for (let i = 3; i <= 7; i++) th.failed('gil', `10.0.1.${i}`, now);
  th.failed('gil', '10.0.1.8', now);
  t.ok(th.waitMs('gil', '10.0.9.9', now) > 0, 'many addresses guessing one account slow that account');
  for (let i = 0; i < 10; i++) th.failed('ana', '10.0.0.3', now);
  t.equal(th.waitMs('ana', '10.0.0.3', now), 8000, 'capped');
  t.equal(th.waitMs('ana', '10.0.0.3', now + 61_000), 0, 'forgotten after a quiet while');
  const fresh = new LoginThrottle({ free: 2, baseMs: 1000, maxMs: 8000, forgetMs: 60_000 });
  fresh.failed('ana', '10.0.0.1', now);
  fresh.failed('ana', '10.0.0.1', now);
  fresh.succeeded('ana', '10.0.0.1');
  t.equal(fresh.waitMs('ana', '10.0.0.1', now), 0, 'the right password clears the pair');
});

t.test('WAN uptime from births and deaths', async (t) => {
  const H = 3_600_000;
  const ev = [
    { kind: 'birth' as const, at: 0 },
    { kind: 'death' as const, at: 10 * H },
    { kind: 'birth' as const, at: 16 * H },
  ];
  t.same(downIntervals(ev, 0, 24 * H, true), [{ start: 10 * H, end: 16 * H }]);
  t.equal(uptimePct(ev, 0, 24 * H, true), 75);
  t.equal(uptimePct(ev.slice(2), 0, 24 * H, true), 100, 'counted from the first connection of a new site');
});

t.test('alerts: raised, deduplicated, cleared, held by maintenance, one alert for a flapping site', async (t) => {
  // A real HTTP receiver for the webhook.
  const hooks: string[] = [];
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const j = JSON.parse(body) as { event: string; alert: { rule: string } };
      hooks.push(`${j.event}:${j.alert.rule}`);
      res.end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  t.teardown(() => receiver.close());
  const dir = tempDir(t);
  const config = testConfig(join(dir, 'data'), { alerts: { flapConnects: 3, webhookUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook` } });
  const db = openDb(config.dataDir);
  t.teardown(() => db.close());
  const webhook = new Webhook(config.alerts.webhookUrl, 'hub-test', createLogger('t', 'error'));
  const engine = new AlertEngine({ db, config, logger: createLogger('t', 'error'), webhook, clearHoldMs: 0 });
  const now = Date.now();
  const status = (disk: number) =>
    JSON.stringify({ ts: new Date(now).toISOString(), host: { filesystems: [{ mount: '/', fs: '/dev/sda2', type: 'ext4', sizeBytes: 100e9, usedBytes: disk * 1e9, usePct: disk }] } });
  const setStatus = (id: string, disk: number) =>
    db.prepare('UPDATE sites SET last_seen_at = ?, last_status_at = ?, last_status_json = ?, connected = 1 WHERE id = ?').run(new Date(now).toISOString(), new Date(now).toISOString(), status(disk), id);
  for (const id of ['hf-a', 'hf-b', 'hf-c']) createSite(db, { id });

  setStatus('hf-a', 95);
  engine.evaluateSites(['hf-a'], now);
  engine.evaluateSites(['hf-a'], now + 1000);
  t.same(openAlerts(db, 'hf-a').map((a) => a.rule), ['low-disk'], 'raised once, not twice');
  setStatus('hf-a', 50);
  engine.evaluateSites(['hf-a'], now + 2000);
  t.same(openAlerts(db, 'hf-a'), [], 'cleared when the condition is gone');
  while (hooks.length < 2) await new Promise((r) => setTimeout(r, 20));
  t.same(hooks.sort(), ['cleared:low-disk', 'raised:low-disk'], 'the webhook hears both');

  addMaintenance(db, { siteId: 'hf-b', startsAt: new Date(now - 1000).toISOString(), endsAt: new Date(now + 3_600_000).toISOString(), reason: 'disk swap', by: 'ana' });
  setStatus('hf-b', 99);
  engine.evaluateSites(['hf-b'], now);
  t.same(openAlerts(db, 'hf-b'), [], 'silenced by a maintenance window');

  // A site that reconnects again and again, its disk going up and down: one flapping alert.
  const birth = db.prepare("INSERT INTO connections (site_id, bd_seq, kind, at) VALUES ('hf-c', ?, 'birth', ?)");
  for (let i = 0; i < 6; i++) {
    birth.run(i, new Date(now + i * 1000).toISOString());
    setStatus('hf-c', i % 2 ? 50 : 95);
    engine.evaluateSites(['hf-c'], now + i * 1000);
  }
  t.same(openAlerts(db, 'hf-c').map((a) => a.rule).sort(), ['flapping'], 'only the flapping alert is open');
  t.ok((db.prepare("SELECT COUNT(*) FROM alerts WHERE site_id = 'hf-c'").pluck().get() as number) <= 4, 'not one alert per flap');

  // A backlog drained from the past does not raise alerts about the past.
  db.prepare("UPDATE sites SET last_status_at = ?, last_status_json = ? WHERE id = 'hf-a'").run(new Date(now - 86_400_000).toISOString(), status(99));
  engine.evaluateSites(['hf-a'], now + 5000);
  t.same(openAlerts(db, 'hf-a').map((a) => a.rule), [], 'an old status raises nothing');
});

t.test('the API: sessions with CSRF, roles for users and tokens, audit', async (t) => {
  const { hub, db } = await startTestHub(t);
  createSite(db, { id: 'hf-0001' });
  db.prepare("INSERT INTO alerts (site_id, rule, severity, message, raised_at, updated_at) VALUES ('hf-0001', 'silent', 'warning', 'x', 'now', 'now')").run();
  await createUser(db, { name: 'ana', role: 'operator', password: 'operadora-2024' });
  await createUser(db, { name: 'vera', role: 'viewer', password: 'leitora-2024!' });
  const base = `http://127.0.0.1:${hub.httpPort}`;
  const login = async (name: string, password: string) => {
    const r = await fetch(`${base}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, password }) });
    const j = (await r.json()) as { csrf: string };
    return { status: r.status, cookie: r.headers.get('set-cookie')?.split(';')[0] ?? '', csrf: j.csrf };
  };
  const ack = (headers: Record<string, string>) => fetch(`${base}/api/v1/alerts/1/ack`, { method: 'POST', headers });

  t.equal((await login('ana', 'nope-nope-nope')).status, 401);
  const vera = await login('vera', 'leitora-2024!');
  t.equal(vera.status, 200);
  t.equal((await ack({ cookie: vera.cookie, 'x-csrf-token': vera.csrf })).status, 403, 'a viewer may not acknowledge');
  const ana = await login('ana', 'operadora-2024');
  t.equal((await ack({ cookie: ana.cookie })).status, 403, 'no CSRF token: refused');
  t.equal((await ack({ cookie: ana.cookie, 'x-csrf-token': vera.csrf })).status, 403, "another session's CSRF token: refused");
  t.equal((await ack({ cookie: ana.cookie, 'x-csrf-token': ana.csrf, origin: 'http://evil.example' })).status, 403, 'a foreign Origin: refused');
  t.equal((await ack({ cookie: ana.cookie, 'x-csrf-token': ana.csrf })).status, 200, 'the operator with the token');
  t.equal((await ack({ cookie: ana.cookie, 'x-csrf-token': ana.csrf })).status, 409, 'already acknowledged');
  t.equal((await ack({ authorization: `Bearer ${createApiToken(db, 'wall')}` })).status, 403, 'a viewer token may not act');
  t.equal((await fetch(`${base}/api/v1/users`, { headers: { cookie: ana.cookie } })).status, 403, 'users are for admins');
  t.equal((await fetch(`${base}/api/v1/fleet`, { headers: { cookie: 'sentinela_session=ses_forged' } })).status, 401, 'a forged session');
  const out = await fetch(`${base}/api/v1/session`, { method: 'DELETE', headers: { cookie: ana.cookie, 'x-csrf-token': ana.csrf } });
  t.equal(out.status, 200);
  t.equal((await fetch(`${base}/api/v1/fleet`, { headers: { cookie: ana.cookie } })).status, 401, 'logged out');
  const audit = db.prepare('SELECT actor, action, ok FROM audit ORDER BY id').all() as Array<{ actor: string; action: string; ok: number }>;
  t.ok(audit.some((a) => a.actor === 'ana' && a.action === 'alert.ack' && a.ok === 1));
  t.ok(audit.some((a) => a.actor === 'vera' && a.action === 'alert.ack' && a.ok === 0));
  t.ok(audit.some((a) => a.actor === 'ana' && a.action === 'logout'));
});

t.test('behind the trusted proxy: the audit log and the throttle see the client; HSTS over HTTPS; a foreign-Origin login is audited', async (t) => {
  const { hub, db } = await startTestHub(t, { http: { listen: { host: '127.0.0.1', port: 0 }, trustProxy: ['127.0.0.1'] } });
  await createUser(db, { name: 'ana', role: 'operator', password: 'operadora-2024' });
  await createUser(db, { name: 'bia', role: 'viewer', password: 'leitora-bia-2024' });
  const base = `http://127.0.0.1:${hub.httpPort}`;
  const login = (name: string, password: string, headers: Record<string, string> = {}) =>
    fetch(`${base}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ name, password }) });
  const from = (ip: string) => ({ 'x-forwarded-for': ip });

  for (let i = 0; i < 3; i++) t.equal((await login('ana', `wrong-${i}`, from('203.0.113.7'))).status, 401);
  t.equal((await login('ana', 'operadora-2024', from('203.0.113.7'))).status, 429, 'ana at that client waits');
  t.equal((await login('bia', 'leitora-bia-2024', from('203.0.113.7'))).status, 200, 'bia behind the same client address is not locked out');
  t.equal((await login('ana', 'operadora-2024', from('203.0.113.8'))).status, 200, 'ana from her own desk logs in');
  const last = listAudit(db, 1)[0]!;
  t.equal(last.ip, '203.0.113.8', 'the audit log shows the client, not the proxy');

  const foreign = await login('ana', 'operadora-2024', { origin: 'http://evil.example' });
  t.equal(foreign.status, 403);
  t.match(await foreign.json(), { code: 'login_foreign' });
  t.match(listAudit(db, 1)[0], { actor: 'ana', action: 'login', ok: 0, detail: /foreign origin/ }, 'a login refused for a foreign Origin is audited');

  t.equal((await fetch(`${base}/login`)).headers.get('strict-transport-security'), null, 'no HSTS over plain HTTP');
  t.equal((await fetch(`${base}/login`, { headers: { 'x-forwarded-proto': 'https' } })).headers.get('strict-transport-security'), 'max-age=31536000', 'HSTS when the proxy says HTTPS');
});

t.test('without a trusted proxy X-Forwarded-For is ignored; answers are compressed; sites and alerts come in pages', async (t) => {
  const { hub, db } = await startTestHub(t);
  await createUser(db, { name: 'ana', role: 'operator', password: 'operadora-2024' });
  for (let i = 0; i < 30; i++) createSite(db, { id: `hf-${String(i).padStart(4, '0')}`, name: `Centro de Saúde ${i}` });
  const ins = db.prepare("INSERT INTO alerts (site_id, rule, severity, message, raised_at, updated_at) VALUES (?, 'silent', ?, 'x', ?, ?)");
  for (let i = 0; i < 30; i++) ins.run(`hf-${String(i).padStart(4, '0')}`, i % 3 ? 'warning' : 'critical', new Date(1e12 + i).toISOString(), 'now');
  const base = `http://127.0.0.1:${hub.httpPort}`;
  const r = await fetch(`${base}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': '198.51.100.1' }, body: JSON.stringify({ name: 'ana', password: 'operadora-2024' }) });
  t.equal(r.status, 200);
  t.equal(listAudit(db, 1)[0]!.ip, '127.0.0.1', 'a client cannot name its own address');
  const token = createApiToken(db, 'wall');
  const auth = { authorization: `Bearer ${token}` };

  const sites = (await (await fetch(`${base}/api/v1/sites?limit=10&offset=20`, { headers: auth })).json()) as { sites: Array<{ id: string }>; total: number };
  t.same(sites.sites.map((s) => s.id), Array.from({ length: 10 }, (_, i) => `hf-${String(20 + i).padStart(4, '0')}`), 'the third page of ten, by id');
  t.equal(sites.total, 30);
  const crit = (await (await fetch(`${base}/api/v1/alerts?severity=critical&limit=4`, { headers: auth })).json()) as { alerts: Array<{ severity: string }>; matched: number; counts: Record<string, number> };
  t.equal(crit.alerts.length, 4);
  t.ok(crit.alerts.every((a) => a.severity === 'critical'));
  t.same({ matched: crit.matched, counts: crit.counts }, { matched: 10, counts: { critical: 10, warning: 20, info: 0 } });
  const all = (await (await fetch(`${base}/api/v1/alerts?offset=28`, { headers: auth })).json()) as { alerts: unknown[]; matched: number };
  t.same([all.alerts.length, all.matched], [2, 30], 'the last page');

  // The change feed tells the console of new sites within its poll (1 s): wait until the fleet holds all 30.
  for (let i = 0; i < 100; i++) {
    const f = (await (await fetch(`${base}/api/v1/fleet?limit=30`, { headers: auth })).json()) as { sites: unknown[] };
    if (f.sites.length === 30) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  // Raw HTTP, so that the encoding can be seen (fetch decodes it).
  const { request } = await import('node:http');
  const raw = await new Promise<{ enc: string | undefined; body: Buffer }>((resolve, reject) => {
    request(`${base}/api/v1/fleet?limit=30`, { headers: { ...auth, 'accept-encoding': 'gzip' } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ enc: res.headers['content-encoding'], body: Buffer.concat(parts) }));
    }).on('error', reject).end();
  });
  t.equal(raw.enc, 'gzip', 'the fleet JSON is compressed');
  t.equal((JSON.parse(gunzipSync(raw.body).toString()) as { sites: unknown[] }).sites.length, 30);
});

t.test('alert rules: a service that does not answer is critical; no USB alert where no USB is configured', async (t) => {
  const cfg = testConfig('/nonexistent').alerts;
  const now = Date.parse('2026-12-03T12:00:00Z');
  const base = { lastSeenAt: new Date(now).toISOString(), statusFresh: true, power: null, fullest: null, connectsInWindow: 0, raisedInWindow: 0 };
  const down = evaluateSite({ ...base, backups: null, servicesDown: [{ name: 'openmrs-db', target: '127.0.0.1:3306', error: 'connect ECONNREFUSED' }] }, cfg, now);
  t.match(down, [{ rule: 'service-down', severity: 'critical', data: { services: ['openmrs-db'] } }]);
  const backups = (usbRotationDays: number | null | undefined, disks: number) => ({
    sources: [{ name: 'db', kind: 'mysql', running: false, lastLocal: { at: new Date(now).toISOString(), snapshotId: 's', storedBytes: 1 }, lastUsb: null, lastPeer: null, lastOffsite: null, lastFailure: null }],
    localAt: new Date(now).toISOString(), usbAt: null, offsiteAt: null, usbAttached: false, usbLastAttachedAt: null, usbRotationDays, failed: false,
    disks: Array.from({ length: disks }, (_, i) => ({ id: `d${i}`, label: `D${i}`, attached: false, lastCopyAt: null, snapshots: 0 })),
  });
  const rules = (b: ReturnType<typeof backups>) => evaluateSite({ ...base, backups: b }, cfg, now).map((w) => w.rule);
  t.same(rules(backups(null, 0)), [], 'no USB configured: no "no USB disk"');
  t.same(rules(backups(7, 0)), ['no-usb'], 'USB configured, never attached');
  t.same(rules(backups(undefined, 0)), [], 'an older agent with no disk registered: nothing');
  t.same(rules(backups(undefined, 1)), ['no-usb'], 'an older agent with a registered disk');
});

t.test('the overview\'s filters from its address: valid ones kept, anything else refused without throwing (fuzz)', async (t) => {
  t.same(overviewQuery({}), { q: '', province: '', state: '', sort: 'urgency', offset: 0, limit: 100 });
  t.same(overviewQuery({ q: 'gaza', state: 'degraded', sort: 'name', offset: '200' }), { q: 'gaza', province: '', state: 'degraded', sort: 'name', offset: 200, limit: 100 });
  for (const bad of [{ offset: '-1' }, { offset: '1.5' }, { offset: 'x' }, { state: 'dead' }, { sort: 'evil' }, { q: 'x'.repeat(101) }]) t.equal(overviewQuery(bad), null, JSON.stringify(bad).slice(0, 40));
  const keys = ['q', 'province', 'state', 'sort', 'offset'];
  for (let i = 0; i < 5000; i++) {
    const q: Record<string, string> = {};
    for (const k of keys) if (Math.random() < 0.6) q[k] = randomBytes(Math.floor(Math.random() * 8)).toString(Math.random() < 0.5 ? 'latin1' : 'utf8');
    const r = overviewQuery(q);
    if (r) t.ok(Number.isInteger(r.offset) && r.offset! >= 0 && r.limit === 100 && (r.q ?? '').length <= 100, 'bounded') || t.fail(JSON.stringify(q));
  }
});
