/**
 * The hub console in a real headless Chromium against a real hub process: log in, the fleet,
 * filters, a site page, acknowledging an alert, exporting a backup; roles enforced in the page
 * and in the API; logged-out requests refused; repeated wrong passwords slowed down.
 * Seeded through the hub's own CLI (sites, users, tokens), the enrolment API and real MQTT publishes.
 * Screenshots go to test-output/screenshots/.
 */
import t from 'tap';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import mqtt from 'mqtt';
import { chromium, type BrowserContext } from 'playwright-core';
import { HubHandle } from '@sentinela/tools/harness/fleet.js';
import { consoleLogin } from '@sentinela/tools/harness/browser.js';
import { REPO_ROOT } from '@sentinela/tools/harness/paths.js';
import { tempDir } from '@sentinela/tools/harness/tmp.js';
import { waitFor } from '@sentinela/tools/harness/wait.js';
import { statusPayload, type SiteSample } from '@sentinela/tools/harness/console-seed.js';

// Browser-side code in page.evaluate: only what it touches (the test project has no DOM lib).
declare const document: any;
declare const window: any;
declare const location: any;
declare function getComputedStyle(el: any): any;
type HTMLElement = any;
type HTMLMetaElement = any;

const dir = tempDir('console');
t.teardown(dir.remove);
const SHOTS = resolve(REPO_ROOT, 'test-output/screenshots');
mkdirSync(SHOTS, { recursive: true });

const PASSWORDS = { ana: 'operadora-ana-2024', vera: 'leitora-vera-2024', root: 'administrador-2024' };

interface Seed {
  id: string;
  name: string;
  province: string;
  sample?: Omit<SiteSample, 'site' | 'stream' | 'seq' | 'ts'>;
  /** Sends a clean death after the status (the site shows offline). */
  leave?: boolean;
}

const SITES: Seed[] = [
  { id: 'hf-maputo-0001', name: 'CS Chamanculo', province: 'maputo-cidade', sample: { diskPct: 95, backupAgeHours: 0.5 } },
  { id: 'hf-maputo-0002', name: 'CS Polana Caniço', province: 'maputo-cidade', sample: { onBattery: true, backupAgeHours: 0.2 } },
  { id: 'hf-gaza-0001', name: 'CS Chókwè', province: 'gaza', sample: { backupAgeHours: 30, usbAttached: false }, leave: true },
  { id: 'hf-gaza-0002', name: 'HR Chibuto', province: 'gaza', sample: { backupAgeHours: 0.3, verifyError: 'checksum mismatch in chunk 12' } },
  { id: 'hf-sofala-0001', name: 'CS Munhava', province: 'sofala', sample: { backups: false } },
  { id: 'hf-sofala-0002', name: 'HC Beira', province: 'sofala', sample: { backupAgeHours: 0.4 } },
  // Its clinical database refuses connections: online, but degraded, with a critical alert.
  { id: 'hf-tete-0001', name: 'CS Moatize', province: 'tete', sample: { backupAgeHours: 0.3, dbDown: true } },
  // No USB disks configured at all: healthy, and no "no USB disk" alert.
  { id: 'hf-tete-0002', name: 'CS Angónia', province: 'tete', sample: { backupAgeHours: 0.3, noUsb: true } },
];
const ALL = SITES.length + 1; // and one never seen

async function publishSite(hub: HubHandle, s: Seed, token: string): Promise<void> {
  const res = await fetch(`${hub.httpUrl}/api/v1/enroll`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
  const cred = (await res.json()) as { password: string };
  const client = await mqtt.connectAsync(hub.mqttUrl, { clientId: s.id, username: s.id, password: cred.password, clean: false, reconnectPeriod: 0, protocolVersion: 4 });
  const up = (type: string) => `sentinela/v1/site/${s.id}/up/${type}`;
  const stream = `stream-${s.id}`;
  await client.publishAsync(up('birth'), JSON.stringify({ v: 1, type: 'birth', site: s.id, ts: new Date().toISOString(), bdSeq: 1, stream, agent: { version: '0.1.0', hostname: `${s.id}-srv`, platform: 'linux', node: process.version }, outbox: { pending: 0, pendingBytes: 0, oldestTs: null, thinned: 0 } }), { qos: 1 });
  // A few hours of history (one sample every 20 min) so that the charts have lines.
  let seq = 0;
  for (let h = 6; h >= 0; h -= 1 / 3) {
    const ts = new Date(Date.now() - h * 3_600_000);
    await client.publishAsync(up('status'), JSON.stringify(statusPayload({ site: s.id, stream, seq: ++seq, ts, ...s.sample })), { qos: 1 });
  }
  await client.publishAsync(up('event'), JSON.stringify({ v: 1, type: 'event', site: s.id, stream, seq: ++seq, ts: new Date().toISOString(), code: 'power.outage.end', severity: 'warning', message: 'Mains power is back after 30 minutes on battery.' }), { qos: 1 });
  if (s.leave) await client.publishAsync(up('death'), JSON.stringify({ v: 1, type: 'death', site: s.id, bdSeq: 1, clean: true }), { qos: 1 });
  await client.endAsync();
}


t.test('the console in Chromium', async (t) => {
  const hub = await new HubHandle({ dir: join(dir.path, 'hub'), hubId: 'dps-maputo' }).start();
  t.teardown(() => hub.proc.stop());

  // Users and tokens through the CLI, passwords from files (the prompt is for people).
  for (const [name, role] of [['ana', 'operator'], ['vera', 'viewer'], ['root', 'admin']] as const) {
    const file = join(dir.path, `${name}.pw`);
    writeFileSync(file, `${PASSWORDS[name]}\n`, { mode: 0o600 });
    const r = await hub.cli(['users', 'add', '--name', name, '--role', role, '--password-file', file]);
    t.equal(r.code, 0, `users add ${name}: ${r.stderr}`);
  }
  const viewerToken = await hub.addApiToken('wallboard');
  // The admin's session, opened before the wrong-password test throttles this address.
  const adminLogin = await fetch(`${hub.httpUrl}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'root', password: PASSWORDS.root }) });
  t.equal(adminLogin.status, 200);
  const setCookie = adminLogin.headers.get('set-cookie')!;
  t.match(setCookie, /^sentinela_session=ses_[^;]+;/);
  t.same(setCookie.split('; ').slice(1).sort(), ['HttpOnly', 'Max-Age=43200', 'Path=/', 'SameSite=Strict'], 'HttpOnly, SameSite=Strict (no Secure on plain HTTP)');
  const adminCookie = adminLogin.headers.get('set-cookie')!.split(';')[0]!;
  const opToken = JSON.parse((await hub.cli(['tokens', 'add', '--name', 'noc', '--role', 'operator', '--json'])).stdout).token as string;

  // Sites through the CLI; six agents' worth of messages over real MQTT.
  for (const s of SITES) {
    const token = await hub.addSite(s.id, ['--name', s.name, '--province', s.province]);
    await publishSite(hub, s, token);
  }
  await hub.addSite('hf-niassa-0001', ['--name', 'CS Lichinga', '--province', 'niassa']); // never seen

  const api = async (path: string, token: string, init: RequestInit = {}) => {
    const res = await fetch(`${hub.httpUrl}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers ?? {}) } });
    return { status: res.status, json: (await res.json().catch(() => null)) as any };
  };
  // The alert engine runs within a second or two of the messages.
  const diskAlert = await waitFor('the low-disk alert of hf-maputo-0001', async () => {
    const r = await api('/api/v1/alerts', viewerToken);
    return (r.json?.alerts as any[] | undefined)?.find((a) => a.siteId === 'hf-maputo-0001' && a.rule === 'low-disk');
  });
  const open = (await api('/api/v1/alerts', viewerToken)).json.alerts as Array<{ siteId: string; rule: string }>;
  t.ok(open.some((a) => a.siteId === 'hf-maputo-0002' && a.rule === 'on-battery'), 'on battery raises an alert');
  t.ok(open.some((a) => a.siteId === 'hf-gaza-0002' && a.rule === 'verify-failed'), 'a failed verification raises an alert');
  t.ok(open.some((a) => a.siteId === 'hf-gaza-0001' && a.rule === 'backup-rpo'), 'a backup older than the RPO raises an alert');
  t.ok(open.some((a) => a.siteId === 'hf-gaza-0001' && a.rule === 'no-usb'), 'no USB disk for days raises an alert');
  t.equal(open.filter((a) => a.siteId === 'hf-maputo-0001' && a.rule === 'low-disk').length, 1, 'deduplicated: one alert for 19 samples');
  const dbDown = await waitFor('the service-down alert of hf-tete-0001', async () => ((await api('/api/v1/alerts', viewerToken)).json?.alerts as any[] | undefined)?.find((a) => a.siteId === 'hf-tete-0001' && a.rule === 'service-down'));
  t.equal(dbDown.severity, 'critical', 'a clinical database refusing connections is a critical alert (the technician page says "urgent action")');
  const angonia = await waitFor('the status of hf-tete-0002', async () => (await api('/api/v1/fleet?q=hf-tete-0002', viewerToken)).json?.sites?.find((s: any) => s.backup));
  t.match(angonia, { backup: { localAt: String }, usb: { attached: false, lastAttachedAt: null } }, 'the status of the site without USB arrived (no disk attached, none ever)');
  await new Promise((res) => setTimeout(res, 3000)); // the change watcher polls each second and evaluates at once
  const later = (await api('/api/v1/alerts', viewerToken)).json.alerts as Array<{ siteId: string; rule: string }>;
  t.notOk(later.some((a) => a.siteId === 'hf-tete-0002'), 'a site with no USB configured raises no "no USB disk" (nor anything else)');
  const paged = (await api('/api/v1/sites?limit=3', viewerToken)).json;
  t.same([paged.sites.length, paged.total], [3, ALL], '/api/v1/sites comes in pages');

  // The API refuses what a role does not allow, and anyone without credentials.
  t.equal((await api(`/api/v1/alerts/${diskAlert.id}/ack`, viewerToken, { method: 'POST' })).status, 403, 'a viewer token cannot acknowledge');
  t.equal((await api('/api/v1/sites/hf-maputo-0001/snapshots/latest/export', viewerToken)).status, 403, 'a viewer token cannot export');
  t.equal((await fetch(`${hub.httpUrl}/api/v1/fleet`)).status, 401, 'no credentials: 401');
  t.equal((await fetch(`${hub.httpUrl}/api/v1/alerts/${diskAlert.id}/ack`, { method: 'POST' })).status, 401, 'logged-out action: 401');
  const page0 = await fetch(`${hub.httpUrl}/sites/hf-maputo-0001`, { redirect: 'manual' });
  t.equal(page0.status, 302, 'a logged-out page redirects…');
  t.match(page0.headers.get('location'), /^\/login\?next=/, '…to the login page');
  t.equal((await api('/api/v1/fleet?limit=1', opToken)).status, 200, 'an operator token reads');

  const profile = join(dir.path, 'chromium-profile');
  const context: BrowserContext = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    acceptDownloads: true,
    viewport: { width: 1440, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  t.teardown(() => context.close());
  const page = context.pages()[0] ?? (await context.newPage());
  const external: string[] = [];
  page.on('request', (r) => {
    if (!r.url().startsWith(hub.httpUrl) && !r.url().startsWith('data:')) external.push(r.url());
  });
  const consoleErrors: string[] = [];
  page.on('pageerror', (e) => consoleErrors.push(e.message));

  await t.test('an operator logs in and sees the fleet, most urgent first', async (t) => {
    await consoleLogin(page, hub.httpUrl, 'ana', PASSWORDS.ana);
    const ids = await page.$$eval('#fleet tbody tr', (rows) => rows.map((r) => (r as HTMLElement).dataset.site));
    t.equal(ids.length, ALL, 'every site');
    t.ok(['hf-sofala-0002', 'hf-tete-0002'].includes(ids[ids.length - 1]!), 'a healthy site last');
    t.ok(['hf-gaza-0002', 'hf-maputo-0002', 'hf-gaza-0001', 'hf-tete-0001'].includes(ids[0]!), `an urgent site first (${ids[0]})`);
    t.match(await page.textContent('#counts'), new RegExp(`${ALL}\\s*Total`));
    t.match(await page.textContent('#fleet'), /Nunca visto/, 'Portuguese by default');
    const moatize = page.locator('tr[data-site="hf-tete-0001"]');
    t.equal(await moatize.getAttribute('data-state'), 'degraded', 'the site whose database does not answer is not "online"');
    t.match(await moatize.textContent(), /Degradado.*Não responde: openmrs-db/);
    t.match(await page.textContent('#counts'), /1\s*Degradado/);
    t.equal(await page.isVisible('#live'), true, 'the live indicator on a live page');
    // WCAG AA: every badge's text on its background at least 4.5:1.
    const ratios = await page.$$eval('.badge, .count, .live', (els) => {
      const lum = (c: string) => {
        const [r, g, b] = (c.match(/[\d.]+/g) ?? []).slice(0, 3).map((x) => Number(x) / 255).map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
        return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
      };
      const bgOf = (el: any): string => {
        for (let e = el; e; e = e.parentElement) {
          const bg = getComputedStyle(e).backgroundColor;
          if (bg && !/rgba\(0, 0, 0, 0\)|transparent/.test(bg)) return bg;
        }
        return 'rgb(255, 255, 255)';
      };
      return els.map((el: any) => {
        const a = lum(getComputedStyle(el).color), b = lum(bgOf(el));
        return { text: el.textContent.trim().slice(0, 20), ratio: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05) };
      });
    });
    const low = ratios.filter((r: { ratio: number }) => r.ratio < 4.5);
    t.same(low, [], `every badge at least 4.5:1 (${ratios.length} measured)`);
    t.same(await page.$$eval('th', (ths) => ths.filter((th: any) => !th.textContent.trim()).length), 0, 'no empty table header');
    await page.screenshot({ path: join(SHOTS, 'overview.png'), fullPage: true });
  });

  await t.test('filters: province, state and text', async (t) => {
    await page.selectOption('#province', 'gaza');
    await page.waitForFunction(() => document.body.dataset.matched === '2');
    t.same((await page.$$eval('#fleet tbody tr', (r) => r.map((x) => (x as HTMLElement).dataset.site))).sort(), ['hf-gaza-0001', 'hf-gaza-0002']);
    await page.selectOption('#state', 'offline');
    await page.waitForFunction(() => document.body.dataset.matched === '1');
    t.match(await page.textContent('#fleet tbody'), /hf-gaza-0001/);
    await page.selectOption('#province', '');
    await page.selectOption('#state', '');
    await page.fill('#q', 'polana');
    await page.waitForFunction(() => document.body.dataset.matched === '1');
    t.match(await page.textContent('#fleet tbody'), /CS Polana Caniço/);
    t.match(page.url(), /q=polana/, 'the filter is in the address, so it can be shared');
    await page.fill('#q', '');
    await page.waitForFunction((n) => document.body.dataset.matched === String(n), ALL);
  });

  await t.test('a site page: summary, charts, timelines, backups; acknowledge; export', async (t) => {
    await Promise.all([page.waitForURL(/\/sites\/hf-maputo-0001$/), page.click('a[href="/sites/hf-maputo-0001"]')]);
    await page.waitForSelector('body[data-ready="1"]');
    t.ok(await page.$('#charts .uplot'), 'uPlot charts drawn');
    t.match(await page.textContent('#timelines'), /Energia/);
    t.match(await page.textContent('#backups'), /openmrs/);
    t.match(await page.textContent('#events'), /power\.outage\.end/);
    t.match(await page.textContent('#events'), /A energia da rede voltou\./, 'the event worded in Portuguese from its code');
    t.notMatch(await page.textContent('main'), /Mains power is back|is \d+% full/, 'no English agent or alert sentence on a Portuguese page');
    t.match(await page.textContent('#site-alerts'), /O disco \/ está 95% cheio\./, 'the alert worded in Portuguese from its rule and data');
    t.match(await page.textContent('#timelines .axis'), /^\d{2}\/\d{2}\/\d{4} \d{2}:\d{2}/, 'day first, 24 h');
    const ticks = ((await page.getAttribute('#charts .uplot', 'data-ticks')) ?? '').split('|');
    t.ok(ticks.length > 1 && ticks.every((x) => /^(\d{2}\/\d{2}|\d{2}:\d{2})$/.test(x)), `chart axes day/month and 24 h, not US (${ticks.join(' ')})`);
    await page.screenshot({ path: join(SHOTS, 'site.png'), fullPage: true });

    await page.click(`button.ack[data-id="${diskAlert.id}"]`);
    await page.waitForSelector(`tr[data-alert="${diskAlert.id}"] >> text=reconhecido por ana`);
    t.pass('acknowledged in the page');
    const after = (await api('/api/v1/sites/hf-maputo-0001/alerts', viewerToken)).json.alerts.find((a: any) => a.id === diskAlert.id);
    t.match(after, { ackedBy: 'ana', ackedAt: String });

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-latest')]);
    const file = join(dir.path, 'export.json');
    await download.saveAs(file);
    const bundle = JSON.parse(readFileSync(file, 'utf8'));
    t.match(bundle, { kind: 'sentinela-site-bundle', site: { id: 'hf-maputo-0001' }, exportedBy: 'ana', offsiteCopy: null });
    t.ok(bundle.events.length > 0, 'the events are in the export');

    await page.click('#lang-en');
    await page.waitForSelector('body[data-ready="1"]');
    t.match(await page.textContent('h2 >> nth=0'), /Alerts/, 'English on request');
    t.match(await page.textContent('#site-alerts'), /acknowledged by ana/);
    await page.click('a[href="/sites/hf-maputo-0001/restore"]');
    t.match(await page.textContent('main'), /From the USB disk/);
    t.notMatch(await page.textContent('main'), /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/, 'no raw ISO time on the restore page');
    t.equal(await page.isVisible('#live'), false, 'no "not live" badge on a page that is not live');
    await page.click('#lang-pt');
    t.match(await page.textContent('main'), /A partir do disco USB/);
    await page.click('#logout');
    await page.waitForURL(/\/login/);
  });

  await t.test('the alerts page: Portuguese words, severity filter, live updates', async (t) => {
    await consoleLogin(page, hub.httpUrl, 'ana', PASSWORDS.ana);
    await page.goto(`${hub.httpUrl}/alerts`);
    await page.waitForSelector('body[data-ready="1"]');
    const text = await page.textContent('#alerts');
    t.match(text, /Nenhum disco USB de cópias ligado desde \d{2}\/\d{2}\/\d{4}/, 'the no-usb alert in Portuguese');
    t.match(text, /Não responde: openmrs-db/, 'the service-down alert in Portuguese');
    t.notMatch(text, /no USB backup disk|not answering|older than the RPO/, 'no English alert text');
    const total = Number(await page.evaluate(() => document.body.dataset.matched));
    await page.selectOption('#severity', 'critical');
    await page.waitForFunction(() => new URL(location.href).searchParams.get('severity') === 'critical' && document.querySelectorAll('#alerts tr[data-severity="warning"]').length === 0);
    const crit = await page.$$eval('#alerts tbody tr', (rows) => rows.map((r: any) => r.dataset.severity));
    t.ok(crit.length > 0 && crit.length < total && crit.every((s) => s === 'critical'), `only critical alerts (${crit.length} of ${total})`);
    await page.selectOption('#severity', '');
    await page.waitForFunction((n) => document.querySelectorAll('#alerts tbody tr').length === n, total);
    // Someone else acknowledges an alert: the open page follows it without a reload.
    const target = (await api('/api/v1/alerts', viewerToken)).json.alerts.find((a: any) => !a.ackedAt && a.siteId === 'hf-tete-0001');
    t.equal((await api(`/api/v1/alerts/${target.id}/ack`, opToken, { method: 'POST' })).status, 200);
    await page.waitForSelector(`tr[data-alert="${target.id}"] >> text=reconhecido por token:noc`, { timeout: 15_000 });
    t.pass('the alerts page updated live');
    await page.click('#logout');
    await page.waitForURL(/\/login/);
  });

  await t.test('a viewer sees but cannot act, in the page or through the API', async (t) => {
    await consoleLogin(page, hub.httpUrl, 'vera', PASSWORDS.vera);
    await page.goto(`${hub.httpUrl}/sites/hf-maputo-0002`);
    await page.waitForSelector('body[data-ready="1"]');
    t.equal(await page.$$eval('button.ack', (b) => b.length), 0, 'no acknowledge button');
    t.equal(await page.$('#export-latest'), null, 'no export button');
    const alertId = (await api('/api/v1/sites/hf-maputo-0002/alerts', viewerToken)).json.alerts[0].id as number;
    // The same request the operator's button makes, from the viewer's session with its CSRF token.
    const refused = await page.evaluate(async (id) => {
      const csrf = (document.querySelector('meta[name="csrf-token"]') as HTMLMetaElement).content;
      const ack = await fetch(`/api/v1/alerts/${id}/ack`, { method: 'POST', headers: { 'x-csrf-token': csrf } });
      const exp = await fetch('/api/v1/sites/hf-maputo-0002/snapshots/latest/export');
      const noCsrf = await fetch('/api/v1/session', { method: 'DELETE' });
      return [ack.status, exp.status, noCsrf.status];
    }, alertId);
    t.same(refused, [403, 403, 403], 'acknowledge and export refused; a session request without the CSRF token refused');
    const audit = (await api('/api/v1/audit', opToken)).status;
    t.equal(audit, 403, 'an operator token cannot read the audit log');
    await page.click('#logout');
    await page.waitForURL(/\/login/);
  });

  await t.test('wrong passwords are slowed down', async (t) => {
    const statuses: string[] = [];
    for (let i = 0; i < 5; i++) {
      await page.evaluate(() => {
        const e = document.querySelector('#login-error');
        e.textContent = '';
        delete e.dataset.status;
      });
      await page.fill('#name', 'ana');
      await page.fill('#password', `wrong-${i}`);
      await page.click('#login-button');
      await page.waitForFunction(() => document.querySelector('#login-error').dataset.status !== undefined);
      statuses.push((await page.getAttribute('#login-error', 'data-status'))!);
    }
    t.same(statuses.slice(0, 3), ['401', '401', '401'], 'the first wrong passwords are answered');
    t.ok(statuses.slice(3).includes('429'), `then the user must wait (${statuses.join(',')})`);
    t.match(await page.textContent('#login-error'), /Demasiadas tentativas erradas\. Tente de novo dentro de \d+ s\./, 'the page says how long to wait');
    // Let the wait grow (each wrong password after the wait doubles it) until it is long enough to test without a race.
    const login = (password: string) => fetch(`${hub.httpUrl}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'ana', password }) });
    for (let wait = 0; wait < 8; ) {
      const w = await login('still-wrong');
      wait = w.status === 429 ? Number(w.headers.get('retry-after')) : 0;
      if (w.status === 429 && wait < 8) await new Promise((res) => setTimeout(res, wait * 1000));
    }
    const r = await login(PASSWORDS.ana);
    t.equal(r.status, 429, 'even the right password waits while throttled');
    t.match(r.headers.get('retry-after'), /^\d+$/);
    await page.fill('#name', 'vera');
    await page.fill('#password', PASSWORDS.vera);
    await Promise.all([page.waitForURL((u) => u.pathname === '/'), page.click('#login-button')]);
    t.pass('another user at the same address still logs in');
    await page.click('#logout');
    await page.waitForURL(/\/login/);
  });

  await t.test('the admin sees the audit log of every action', async (t) => {
    const cookie = adminCookie;
    const entries = ((await (await fetch(`${hub.httpUrl}/api/v1/audit`, { headers: { cookie } })).json()) as any).entries as Array<{ actor: string; action: string; ok: number }>;
    const has = (actor: string, action: string, ok: number) => entries.some((e) => e.actor === actor && e.action === action && e.ok === ok);
    t.ok(has('ana', 'login', 1) && has('ana', 'alert.ack', 1) && has('ana', 'export', 1), 'the operator’s actions');
    t.ok(has('vera', 'alert.ack', 0) && has('vera', 'export', 0), 'the viewer’s refused attempts');
    t.ok(has('ana', 'login', 0), 'wrong passwords');
    t.ok(has('token:wallboard', 'alert.ack', 0), 'refused API token actions');
    t.ok(has('cli', 'users.add', 1), 'users made with the CLI');
  });

  await t.test('without JavaScript the login form posts, and no password goes in the address', async (t) => {
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'] });
    t.teardown(() => browser.close());
    const ctx = await browser.newContext({ javaScriptEnabled: false });
    const p = await ctx.newPage();
    const urls: string[] = [];
    p.on('request', (r) => urls.push(r.url()));
    await p.goto(`${hub.httpUrl}/login?next=%2Falerts`);
    await p.fill('#name', 'root');
    await p.fill('#password', 'not-the-password');
    await Promise.all([p.waitForLoadState('domcontentloaded'), p.click('#login-button')]);
    t.match(await p.textContent('#login-error'), /Utilizador ou palavra-passe errados\./, 'refused, said in Portuguese on the page');
    await p.fill('#name', 'root');
    await p.fill('#password', PASSWORDS.root);
    await Promise.all([p.waitForURL(/\/alerts$/), p.click('#login-button')]);
    t.pass('logged in and sent on to the page asked for');
    t.same(urls.filter((u) => /password|administrador/.test(u)), [], 'the password never appears in an address');
  });

  t.same(external, [], 'no request left the hub (no CDN)');
  t.same(consoleErrors, [], 'no script errors in the pages');
});
