/**
 * The agent's local status page in a real headless Chromium, against an agent running in this
 * process with real peers: upsd with its dummy-ups driver (power), TCP listeners this test opens and
 * closes (the LAN gateway and the hub), a SQLite database and a slow dump command (backups), a folder
 * moved under usb.mountRoots (plugging in the USB disk). PIN and disk set up through the real CLI.
 * One state each: USB disk missing, all good, on battery, WAN down; with screenshots
 * test-output/screenshots/page-*.png.
 */
import t from 'tap';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { AgentConfig } from '@sentinela/shared';
import { startAgent, writeCredentials, type RunningAgent } from '@sentinela/agent';
import { NEVER } from '@sentinela/tools/harness/fleet.js';
import { capturedLogger } from '@sentinela/tools/harness/log.js';
import { openBrowser } from '@sentinela/tools/harness/browser.js';
import { NutServer, NUT_USERS } from '@sentinela/tools/harness/nut.js';
import { AGENT_BIN } from '@sentinela/tools/harness/paths.js';
import { runNode } from '@sentinela/tools/harness/process.js';
import { close, listener, portOf } from '@sentinela/tools/harness/tcp.js';
import { tempDir } from '@sentinela/tools/harness/tmp.js';
import { waitFor } from '@sentinela/tools/harness/wait.js';

// Browser-side code in page.evaluate: only what it touches (the test project has no DOM lib).
declare const document: any;
declare const window: any;

type Level = 'green' | 'amber' | 'red' | 'grey';
interface Doc {
  glance: { overall: Level; cards: Array<{ id: string; level: Level; todo: { pt: string; en: string } | null }> } | null;
  live: { sampledAt: string; backups?: { sources: Array<{ name: string; running: boolean; lastLocal: unknown; lastUsb: unknown }> } } | null;
  outages: Array<{ kind: string; end: string | null }>;
  events: Array<{ kind: string }>;
  outbox: { pending: number };
}

const COLOUR: Record<Level, string> = { green: 'rgb(27, 127, 59)', amber: 'rgb(224, 138, 0)', red: 'rgb(198, 40, 40)', grey: 'rgb(136, 136, 136)' };
const PIN = '4821';


t.test('the local status page in Chromium: four states, English, the PIN, a backup while the page answers', async (t) => {
  const dir = tempDir('page');
  t.teardown(dir.remove);
  const nut = await new NutServer({ 'ups.status': 'OL', 'battery.charge': 100, 'battery.runtime': 1800 }).start();
  t.teardown(() => nut.stop());
  const gateway = await listener();
  const hub = await listener();
  t.teardown(async () => {
    await close(gateway);
    await close(hub).catch(() => undefined);
  });

  const dataDir = join(dir.path, 'agent');
  const media = join(dir.path, 'media');
  const drawer = join(dir.path, 'drawer');
  mkdirSync(media, { recursive: true });
  mkdirSync(join(drawer, 'disco-a'), { recursive: true });
  const dbFile = join(dir.path, 'clinic.db');
  const db = new Database(dbFile);
  db.exec('CREATE TABLE patients (id INTEGER PRIMARY KEY, name TEXT)');
  for (let i = 0; i < 200; i++) db.prepare('INSERT INTO patients (name) VALUES (?)').run(`patient ${i}`);
  db.close();

  writeCredentials(join(dataDir, 'credentials.json'), { siteId: 'hf-page', username: 'hf-page', password: 'p', hubHttpUrl: 'http://x', enrolledAt: new Date().toISOString() });
  const raw = {
    dataDir,
    site: { name: 'CS Teste' },
    hub: { mqttUrl: `mqtt://127.0.0.1:${portOf(hub)}`, reconnectSeconds: 3600 },
    sampling: { intervalSeconds: 3600 },
    power: {
      source: { kind: 'nut', host: '127.0.0.1', port: nut.port, ups: nut.ups, username: NUT_USERS.primary.username, passwordFile: nut.passwordFile('primary'), timeoutSeconds: 2 },
      pollSeconds: 0.5,
      debounceSeconds: 1,
      graceSeconds: 3600,
      shutdownCommand: ['/bin/true'],
    },
    network: { intervalSeconds: 0.5, attempts: 2, timeoutMs: 300, downAfterRounds: 2, lan: { gateway: `127.0.0.1:${portOf(gateway)}` }, hub: { tcp: `127.0.0.1:${portOf(hub)}` } },
    backup: {
      sources: [
        { name: 'clinic', kind: 'sqlite', path: dbFile, schedule: NEVER },
        // Slow on purpose: the page must keep answering while it runs.
        { name: 'files', kind: 'command', command: ['sh', '-c', 'sleep 4; head -c 3000000 /dev/urandom'], schedule: NEVER },
      ],
      usb: { mountRoots: [media], pollSeconds: 1 },
    },
    page: { listen: { host: '127.0.0.1', port: 0 }, pinAttempts: 4, refreshSeconds: 3600 },
  };
  const configFile = join(dir.path, 'agent.yaml');
  writeFileSync(configFile, JSON.stringify(raw, null, 2)); // JSON is YAML
  const cli = (args: string[]) => runNode(AGENT_BIN, [...args, '--config', configFile]);

  // The backup key and a USB disk labelled with the real CLI; the disk then sits in a drawer.
  const key = await cli(['key', 'init']);
  t.equal(key.code, 0, key.stderr);
  const init = await cli(['disk', 'init', join(drawer, 'disco-a'), '--label', 'disco A']);
  t.equal(init.code, 0, init.stderr);

  const { logger, lines } = capturedLogger('page');
  const agent: RunningAgent = await startAgent(AgentConfig.parse(raw), logger);
  t.teardown(() => agent.close());
  const pageModule = agent.modules.find((m) => m.name === 'page') as unknown as { address: { host: string; port: number } };
  const base = `http://127.0.0.1:${pageModule.address.port}`;
  const status = async (): Promise<Doc> => (await (await fetch(`${base}/api/status`)).json()) as Doc;
  const cardLevel = async (id: string) => (await status()).glance?.cards.find((c) => c.id === id)?.level;

  const b = await openBrowser(join(dir.path, 'chromium'), base, { width: 412, height: 900 }); // a small screen
  t.teardown(() => b.close());
  const { page } = b;
  const visibleCard = async (id: string) =>
    page.evaluate((id: string) => {
      const el = document.getElementById(`card-${id}`);
      return { level: el.getAttribute('data-level'), colour: window.getComputedStyle(el).borderLeftColor, text: el.innerText as string };
    }, id);
  const formsDisabled = () => page.evaluate(() => document.getElementById('action-forms').disabled as boolean);

  await waitFor('UPS on mains and the WAN up', async () => (await cardLevel('power')) === 'green' && (await cardLevel('network')) === 'green');

  await t.test('without a PIN: actions shown disabled and refused', async (t) => {
    await page.goto(base);
    t.match(await page.textContent('header h1'), /Unidade CS Teste/, 'the header names the clinic, not its id');
    t.notMatch(await page.textContent('header h1'), /hf-page/);
    t.equal(await formsDisabled(), true, 'the action forms are disabled');
    t.match(await page.textContent('#no-pin'), /Ainda não há PIN/);
    t.equal(await page.isDisabled('#action-backup'), true);
    const api = await fetch(`${base}/api/actions/backup`, { method: 'POST', headers: { 'x-sentinela-pin': PIN } });
    t.equal(api.status, 403, 'the API refuses');
    const form = await fetch(`${base}/actions/backup`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'csrf=x', redirect: 'manual' });
    t.equal(form.status, 403, 'a form post refuses');
  });

  const setPin = join(dir.path, 'pin.txt');
  writeFileSync(setPin, `${PIN}\n`, { mode: 0o600 });
  const pinSet = await cli(['page', 'set-pin', '--pin-file', setPin]);
  t.equal(pinSet.code, 0, pinSet.stderr);
  t.match(pinSet.stdout, /PIN definido \/ PIN set/);

  await t.test('with the PIN set but not entered: still refused, in the browser and the API', async (t) => {
    t.equal((await fetch(`${base}/api/actions/backup`, { method: 'POST' })).status, 403, 'no PIN header: 403');
    t.equal((await fetch(`${base}/api/actions/backup`, { method: 'POST', headers: { 'x-sentinela-pin': '0000' } })).status, 403, 'wrong PIN: 403');
    await page.goto(base);
    t.equal(await formsDisabled(), true, 'locked: the forms stay disabled');
    // A post forged from this locked page (the disabled button enabled by hand) is still refused.
    await page.evaluate(() => {
      document.getElementById('action-forms').disabled = false;
      document.getElementById('action-backup').disabled = false;
    });
    const [refused] = await Promise.all([page.waitForNavigation(), page.click('#action-backup')]);
    t.equal(refused?.status(), 403);
    t.match(await page.textContent('#message'), /As ações pedem o PIN/);
    await page.goto(base);
    await page.fill('#pin', '9999');
    const [wrong] = await Promise.all([page.waitForNavigation(), page.click('#unlock')]);
    t.equal(wrong?.status(), 403, 'wrong PIN in the browser: 403');
    t.match(await page.textContent('#message'), /PIN errado/);
  });

  await t.test('with the PIN: a backup runs and the page answers while it runs', async (t) => {
    await page.goto(base);
    await page.fill('#pin', PIN);
    await Promise.all([page.waitForNavigation(), page.click('#unlock')]);
    t.equal(await formsDisabled(), false, 'unlocked: the forms are usable');
    await Promise.all([page.waitForNavigation(), page.click('#action-backup')]);
    t.match(await page.textContent('#flash'), /Cópia iniciada/);
    // The answer itself says the backup is running: it was served during the backup.
    const during = await waitFor('a status answered during the backup', async () => {
      const d = await status();
      return d.live?.backups?.sources.some((s) => s.running) ? d : null;
    });
    t.ok(during.live!.backups!.sources.some((s) => s.running), 'GET /api/status answered while a backup runs');
    const html = await waitFor('the page answered during the backup', async () => {
      const res = await fetch(`${base}/`);
      const text = await res.text();
      return res.status === 200 && /cópia em curso/.test(text) ? text : null;
    });
    t.match(html, /cópia em curso/, 'GET / answered while a backup runs');
    await waitFor('both sources backed up', async () => (await status()).live?.backups?.sources.every((s) => s.lastLocal && !s.running), 30_000);
    t.equal(lines.filter((l) => l.code === 'backup.completed').length, 2, 'two snapshots, one per source');
    await page.goto(base);
    await Promise.all([page.waitForNavigation(), page.click('#action-verify')]);
    t.match(await page.textContent('#flash'), /Verificação iniciada/);
    await waitFor('the verification done', async () => {
      await page.goto(base);
      return /Última verificação: 0 problemas/.test((await page.textContent('#verify-state')) ?? '');
    });
    const sent = await fetch(`${base}/api/actions/send-status`, { method: 'POST', headers: { 'x-sentinela-pin': PIN } });
    t.equal(sent.status, 202, 'the API runs an action with the PIN');
    t.match(((await sent.json()) as { message: { en: string } }).message.en, /Status queued for the hub/);
  });

  await t.test('state: USB disk missing', async (t) => {
    await page.goto(base);
    const c = await visibleCard('backups');
    t.equal(c.level, 'amber');
    t.equal(c.colour, COLOUR.amber, 'drawn amber');
    t.match(c.text, /Ligue o disco USB de backup/);
    t.equal(await page.getAttribute('body', 'data-overall'), 'amber');
    await b.shot('page-usb-missing');
  });

  await t.test('state: all good once the disk is plugged in', async (t) => {
    renameSync(join(drawer, 'disco-a'), join(media, 'disco-a'));
    await waitFor('the disk holds a copy of every source', async () => (await status()).live?.backups?.sources.every((s) => s.lastUsb), 30_000);
    await waitFor('all green', async () => (await status()).glance?.overall === 'green');
    await page.goto(base);
    for (const id of ['backups', 'power', 'network', 'server']) {
      const c = await visibleCard(id);
      t.equal(c.level, 'green', `${id} green`);
      t.equal(c.colour, COLOUR.green, `${id} drawn green`);
    }
    t.match(await page.textContent('#overall'), /Tudo bem/);
    t.match(await page.textContent('#card-backups'), /ligado: disco A/);
    t.equal(await page.locator('.todo').count(), 0, 'nothing to do');
    await b.shot('page-all-good');
  });

  await t.test('the English switch', async (t) => {
    await Promise.all([page.waitForNavigation(), page.click('#lang-switch')]);
    t.match(await page.textContent('#overall'), /All good/);
    t.match(await page.textContent('#card-backups'), /Last local backup/);
    t.equal(await page.getAttribute('html', 'lang'), 'en');
    await page.goto(base); // the choice is kept in a cookie
    t.match(await page.textContent('#overall'), /All good/);
    t.match(await page.textContent('#action-backup'), /Back up now/);
    await Promise.all([page.waitForNavigation(), page.click('#lang-switch')]);
    t.match(await page.textContent('#overall'), /Tudo bem/);
  });

  await t.test('state: on battery', async (t) => {
    await nut.set({ 'ups.status': 'OB DISCHRG', 'battery.charge': 81, 'battery.runtime': 1260 });
    await waitFor('power amber', async () => (await cardLevel('power')) === 'amber');
    await page.goto(base);
    const c = await visibleCard('power');
    t.equal(c.colour, COLOUR.amber);
    t.match(c.text, /na bateria/);
    t.match(c.text, /81 %/);
    t.match(c.text, /21 min/);
    t.match(c.text, /Sem energia da rede: a UPS está na bateria/);
    t.match(c.text, /Na bateria desde|bateria desde/i);
    await b.shot('page-on-battery');
    await page.goto(`${base}/?lang=en`);
    t.match((await visibleCard('power')).text, /Mains power is off: the UPS is on battery/);
    await page.goto(`${base}/?lang=pt`);
    await nut.set({ 'ups.status': 'OL CHRG', 'battery.charge': 82 });
    await waitFor('power green again', async () => (await cardLevel('power')) === 'green');
    await waitFor('the outage recorded', async () => (await status()).outages.some((o) => o.kind === 'power' && o.end !== null));
  });

  await t.test('state: WAN down (hub unreachable)', async (t) => {
    await close(hub);
    await waitFor('the WAN declared down', async () => {
      const d = await status();
      return d.glance?.cards.find((c) => c.id === 'network')?.level === 'amber' && (d.live as { network?: { wan: { up: boolean | null } } }).network?.wan.up === false;
    });
    await page.goto(base);
    const c = await visibleCard('network');
    t.equal(c.colour, COLOUR.amber);
    t.match(c.text, /em baixo desde/);
    t.match(c.text, /Sem ligação ao hub desde \d\d:\d\d: verifique o router e a ligação GovNet/);
    t.match(await page.textContent('#outages'), /Energia/, 'the power outage is listed');
    t.match(await page.textContent('#events'), /Cópia de clinic concluída/);
    await b.shot('page-wan-down');
  });

  await t.test('status --json is the document GET /api/status answers', async (t) => {
    const api = await status();
    const r = await cli(['status', '--json']);
    t.equal(r.code, 0, r.stderr);
    const local = JSON.parse(r.stdout) as Doc;
    t.same(local.live, api.live, 'the same live status (the one the page last saw)');
    t.same(local.glance, api.glance, 'the same colours and sentences');
    t.same(local.outages, api.outages);
    t.same(local.events, api.events);
  });

  await t.test('wrong PINs slow a client down', async (t) => {
    for (let i = 0; i < 4; i++) t.equal((await fetch(`${base}/api/actions/send-status`, { method: 'POST', headers: { 'x-sentinela-pin': '1111' } })).status, 403);
    const locked = await fetch(`${base}/api/actions/send-status`, { method: 'POST', headers: { 'x-sentinela-pin': PIN } });
    t.equal(locked.status, 429, 'even the right PIN waits now');
    t.ok(Number(locked.headers.get('retry-after')) >= 1, `Retry-After ${locked.headers.get('retry-after')} s`);
  });

  t.same(b.external, [], 'no external asset requested');
  t.same(b.pageErrors, [], 'no script error');
});
