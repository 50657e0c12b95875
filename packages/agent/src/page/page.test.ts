/** The page's pure parts: the rules (colour and sentence per area), the PIN hash and its rate limit, the HTML. */
import t from 'tap';
import type { StatusBackups, StatusNetwork, StatusPower } from '@sentinela/shared';
import { glance, type GlanceInput, type LiveStatus } from './rules.js';
import { checkPin, hashPin } from './pin.js';
import { pinBackoff } from './pin-gate.js';
import { esc, renderPage } from './html.js';
import type { StatusDocument } from './document.js';

const NOW = Date.parse('2026-03-10T10:00:00Z');
const at = (hoursAgo: number) => new Date(NOW - hoursAgo * 3_600_000).toISOString();

const backups = (o: { localH?: number; usbH?: number | null; attached?: boolean; disks?: number } = {}): StatusBackups => ({
  sources: [
    {
      name: 'openmrs',
      kind: 'mariadb',
      running: false,
      lastLocal: { at: at(o.localH ?? 0.5), snapshotId: 's1', contentBytes: 1, storedBytes: 1, durationMs: 1 },
      lastUsb: o.usbH === null ? null : { at: at(o.usbH ?? 1), snapshotId: 's1', diskId: 'd1', label: 'disco A' },
      lastPeer: null,
      lastOffsite: null,
      lastFailure: null,
    },
  ],
  disks: Array.from({ length: o.disks ?? 1 }, (_, i) => ({ id: `d${i}`, label: 'disco A', lastAttachedAt: at(o.attached === false ? 240 : 0), lastCopyAt: at(1), snapshots: 3, attached: o.attached ?? true })),
  usbAttached: o.attached ?? true,
  usbCopying: false,
  usbLastAttachedAt: at(o.attached === false ? 240 : 0),
  peer: null,
});
const power = (state: StatusPower['state'] = 'mains'): StatusPower => ({
  watch: 'on', contact: 'ok', state, flags: [], charge: 80, runtimeSec: 1260, loadPct: 20, inputVoltage: 230, lastSeenAt: at(0),
  onBatterySince: state === 'battery' ? at(0.2) : null, shutdownDueAt: null, outage: null, lastOutage: null,
});
const network = (verdict: StatusNetwork['verdict'] = 'ok'): StatusNetwork => ({
  verdict,
  lan: { target: 'gw', up: verdict !== 'lan-down', latencyMs: 1, lossPct: 0 },
  dns: null,
  hub: { target: 'hub', up: verdict === 'ok', latencyMs: 5, lossPct: 0 },
  mqttRttMs: null,
  wan: { up: verdict === 'ok', since: at(1), uptimeTodayPct: 100, uptimeYesterdayPct: 100, outage: null, lastOutage: null },
  interfaces: [],
});
const input = (live: Partial<LiveStatus> = {}, diskPct = 40): GlanceInput => ({
  now: NOW,
  live: {
    sampledAt: at(0),
    host: { hostname: 'srv', uptimeSec: 1, cpu: { cores: 2, load1: 0, load5: 0, load15: 0, usagePct: 1 }, memory: { totalBytes: 100, usedBytes: 40, availableBytes: 60 }, filesystems: [{ mount: '/', fs: '/dev/sda1', type: 'ext4', sizeBytes: 100, usedBytes: diskPct, usePct: diskPct }] },
    services: [{ name: 'MariaDB', target: '127.0.0.1:3306', up: true }],
    power: power(),
    network: network(),
    backups: backups(),
    hubConnected: true,
    ...live,
  },
  usbRotationDays: 7,
  backupConfigured: true,
  offsiteConfigured: false,
  dataDir: '/var/lib/sentinela/agent',
  outboxPending: 0,
});
const card = (i: GlanceInput, id: string) => glance(i).cards.find((c) => c.id === id)!;

t.test('all good: every card green, no sentence', async (t) => {
  const g = glance(input());
  t.equal(g.overall, 'green');
  t.same(g.cards.map((c) => [c.id, c.level, c.todo]), [['backups', 'green', null], ['power', 'green', null], ['network', 'green', null], ['server', 'green', null]]);
});

t.test('each problem: its colour and its sentence in both languages', async (t) => {
  const usb = card(input({ backups: backups({ attached: false, usbH: 200 }) }), 'backups');
  t.equal(usb.level, 'amber');
  t.same(usb.todo, { pt: 'Ligue o disco USB de backup.', en: 'Plug in the backup USB disk.' });
  t.equal(card(input({ backups: backups({ disks: 0, usbH: null }) }), 'backups').level, 'red', 'no disk ever prepared');
  t.equal(card(input({ backups: backups({ localH: 30 }) }), 'backups').level, 'red', 'no local backup for a day');
  const battery = card(input({ power: power('battery') }), 'power');
  t.equal(battery.level, 'amber');
  t.match(battery.todo!.pt, /a UPS está na bateria/);
  t.match(battery.todo!.en, /the UPS is on battery/);
  t.equal(card(input({ power: power('low-battery') }), 'power').level, 'red');
  const login = card(input({ power: { ...power(), login: 'failed', loginMessage: 'ERR ACCESS-DENIED' } }), 'power');
  t.equal(login.level, 'amber', 'issue 18 item 8: a refused upsd login is a problem even on mains');
  t.match(login.todo, { pt: /recusa o login do agente/, en: /refuses the agent's login/ });
  const never = card(input({ power: { ...power('lost-contact'), contact: 'error', lastSeenAt: null } }), 'power');
  t.equal(never.level, 'red', 'never read: unknown and unprotected');
  t.match(never.todo, { pt: /nunca conseguiu ler a UPS/, en: /never read the UPS/ });
  const wan = card(input({ network: network('wan-down') }), 'network');
  t.equal(wan.level, 'amber');
  t.match(wan.todo!.pt, /^Sem ligação ao hub desde \d\d:\d\d: verifique o router/);
  const suspected = { ...network('wan-down'), wan: { ...network('wan-down').wan, up: true } };
  t.match(card(input({ network: suspected }), 'network').todo!.pt, /^Sem ligação ao hub: /, 'before the WAN is declared down, no "since" from the up time');
  t.equal(card(input({ network: network('lan-down') }), 'network').level, 'red');
  t.equal(card(input({}, 96), 'server').level, 'red', 'disk 96 % full');
  t.equal(card(input({ services: [{ name: 'MariaDB', target: 'x', up: false }] }), 'server').level, 'red', 'database down');
  t.equal(glance(input({ network: network('wan-down'), power: power('low-battery') })).overall, 'red', 'the worst card decides');
});

t.test('the queue in words: one message, several messages', async (t) => {
  const queue = (n: number) => card({ ...input({ network: network('ok') }), outboxPending: n }, 'network').facts.find((f) => f.label.en === 'Queue')!.value;
  t.same(queue(1), { pt: '1 mensagem à espera de envio', en: '1 message waiting to be sent' });
  t.same(queue(3), { pt: '3 mensagens à espera de envio', en: '3 messages waiting to be sent' });
});

t.test('the PIN: scrypt record, right and wrong PINs, a malformed record', async (t) => {
  const rec = await hashPin('4821');
  t.match(rec, /^scrypt\$16384\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
  t.notMatch(rec, /4821/);
  t.equal(await checkPin('4821', rec), true);
  t.equal(await checkPin('4822', rec), false);
  t.equal(await checkPin('4821', 'plain$4821'), false);
});

t.test('the PIN gate: free attempts, then a doubling wait, reset by a success', async (t) => {
  const g = pinBackoff(2);
  const ip = '192.0.2.7';
  const t0 = 1_000_000;
  g.failed(ip, t0);
  t.equal(g.waitMs(ip, t0), 0);
  g.failed(ip, t0);
  t.equal(g.waitMs(ip, t0), 5000);
  t.equal(g.waitMs('192.0.2.8', t0), 0, 'another address is not held up');
  t.equal(g.waitMs(ip, t0 + 5000), 0);
  g.failed(ip, t0 + 5000);
  t.equal(g.waitMs(ip, t0 + 5000), 10_000, 'the wait doubles');
  for (let i = 0; i < 20; i++) g.failed(ip, t0 + 5000);
  t.equal(g.waitMs(ip, t0 + 5000), 300_000, 'capped at 5 minutes');
  g.clear(ip);
  t.equal(g.waitMs(ip, t0 + 5000), 0, 'a right PIN resets it');
});

t.test('the HTML: escaped, both languages, actions disabled without the PIN', async (t) => {
  t.equal(esc('<b a="1">&\''), '&lt;b a=&quot;1&quot;&gt;&amp;&#39;');
  const i = input({ backups: backups({ attached: false, usbH: 200 }) });
  const doc = { site: 'hf-<x>', outages: [], events: [], glance: glance(i), live: i.live } as unknown as StatusDocument;
  const view = (lang: 'pt' | 'en', state: 'none' | 'locked' | 'open') =>
    renderPage({ lang, doc, now: NOW, refreshSeconds: 30, siteName: null, actions: { state, csrf: 'tok', disks: { attached: [], blank: [] }, flash: null, verify: null } });
  const pt = view('pt', 'none');
  t.match(pt, /Ligue o disco USB de backup\./);
  t.match(pt, /hf-&lt;x&gt;/, 'the site id is escaped');
  t.match(pt, /<fieldset id="action-forms" data-state="none" disabled>/);
  t.match(pt, /<button type="submit" id="action-backup" disabled>/);
  t.notMatch(pt, /<link|src="http/, 'no external asset');
  t.match(view('en', 'locked'), /Plug in the backup USB disk\./);
  t.match(view('en', 'locked'), /data-state="locked" disabled/);
  t.notMatch(view('pt', 'open'), /id="action-backup" disabled/, 'usable once unlocked');
});

t.test('the last restore drill: passed, failed (red, with what to do), never', async (t) => {
  const fact = (c: ReturnType<typeof card>) => c.facts.find((f) => f.label.en === 'Last restore drill')!.value;
  const now = Date.parse(input().live.sampledAt);
  const passed = card({ ...input(), lastDrill: { at: new Date(now - 2 * 86_400_000).toISOString(), failed: [] } }, 'backups');
  t.match(fact(passed), { pt: /^passou há 2 dias/, en: /^passed 2 days ago/ });
  t.equal(passed.level, 'green');
  const failed = card({ ...input(), lastDrill: { at: new Date(now - 3_600_000).toISOString(), failed: ['emr (usb:disco A)'] } }, 'backups');
  t.match(fact(failed), { pt: /^FALHOU há 60 min.*emr \(usb:disco A\)/, en: /^FAILED 60 min ago.*emr \(usb:disco A\)/ });
  t.equal(failed.level, 'red');
  t.match(failed.todo, { pt: /não se restaurou no teste/, en: /did not restore in the drill/ });
  t.same(fact(card(input(), 'backups')), { pt: 'nunca', en: 'never' });
});
