/**
 * Must show (issue 16, items 1 and 2): restore drills reported to the hub. With a real agent, a real
 * MariaDB source, a scratch MariaDB server the drill starts itself and a real hub:
 * - a flipped byte in one USB object: the drill fails that copy, the hub gets the report and raises
 *   drill-failed naming the USB disk;
 * - a dump that restores but lost rows (the real mariadb-dump with every tenth observation filtered
 *   out): the manifest's counts from the database disagree, the drill fails, the hub's alert says so;
 * - in Chromium: the site page's last drill per source and location, the fleet view of sites without
 *   a passing drill, the continuity report as a page, CSV, and PDF whose text (pdftotext) carries
 *   every field.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { hubWithEnrolledAgent, NEVER } from '@sentinela/tools/harness/fleet.js';
import { consoleLogin, openBrowser } from '@sentinela/tools/harness/browser.js';
import { tempDir, uniqueSiteId } from '@sentinela/tools/harness/tmp.js';
import { waitFor } from '@sentinela/tools/harness/wait.js';

type Generator = typeof import('../bench/backup/generate.js');
const gen = (await import(new URL('../../bench/dist/backup/generate.js', import.meta.url).href)) as Generator;

interface Result {
  source: string;
  location: string;
  ok: boolean;
  problems: string[];
}
interface Alert {
  siteId: string | null;
  rule: string;
  message: string;
}

const tag = `${process.pid.toString(36)}${randomBytes(2).toString('hex')}`;
const filesUnder = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));

t.test('drills reach the hub: a damaged USB copy and a dump that lost rows each raise an alert; the console shows them and reports them as page, CSV and PDF', async (t) => {
  const dir = tempDir('drill-report');
  t.teardown(dir.remove);
  const src = { dialect: 'mariadb' as const, conn: { host: '127.0.0.1', database: `sn_drillrep_${tag}` } };
  await gen.dropDatabase(src);
  t.teardown(() => gen.dropDatabase(src));
  const counts = await gen.createClinicalDatabase(src, { observations: 3000, seed: 5 });
  const media = join(dir.path, 'media');
  const disk = join(media, 'disco-a');
  mkdirSync(disk, { recursive: true });
  const { hub, siteId, agent } = await hubWithEnrolledAgent(t, dir.path, 'hf-drep', {
    overrides: { backup: { sources: [{ name: 'emr', kind: 'mariadb', host: '127.0.0.1', database: src.conn.database, schedule: NEVER }], usb: { mountRoots: [media], pollSeconds: 1 } } },
  }, ['--name', 'CS Drill', '--province', 'niassa']);
  const idle = uniqueSiteId('hf-nodrill');
  await hub.addSite(idle, ['--province', 'niassa']);
  const api = await hub.addApiToken('drill-test');
  const password = 'drill-test-password-1';
  await hub.addUser('olga', 'viewer', password);
  t.equal((await agent.cli(['backup'])).code, 0);
  const snaps = async () => JSON.parse((await agent.cli(['snapshots', '--json', '--from', 'spool'])).stdout) as Array<{ id: string; tables: Record<string, number>; sourceTables?: Record<string, number> }>;
  t.same((await snaps())[0]?.sourceTables, counts, "the manifest records the database's own row counts at the dump's point in time");
  t.equal((await agent.cli(['disk', 'init', disk, '--label', 'disco A'])).code, 0);
  await agent.start();
  t.teardown(() => agent.proc.stop());
  await agent.proc.waitForLog('the copy to the USB disk', (l) => l.code === 'usb.copy_completed', 30_000);

  const drill = async (...args: string[]) => {
    const r = await agent.cli(['drill', '--json', ...args]);
    return { code: r.code, stderr: r.stderr, results: (JSON.parse(r.stdout || '{"results":[]}') as { results: Result[] }).results };
  };
  const drillAlert = async (match: RegExp) => {
    let last = '';
    return waitFor(
      `the hub's drill-failed alert to match ${match}`,
      async () => {
        const a = (await hub.api<{ alerts: Alert[] }>('/api/v1/alerts', api)).alerts.find((x) => x.siteId === siteId && x.rule === 'drill-failed');
        last = a?.message ?? '';
        return a && match.test(a.message) ? a : undefined;
      },
      30_000,
      250,
    ).catch((err: Error) => Promise.reject(new Error(`${err.message}; last: ${last}`)));
  };

  const good = await drill();
  t.equal(good.code, 0, `the first drill passes: ${good.stderr}`);

  // One byte flipped in the largest object on the USB disk.
  const victim = filesUnder(join(disk, 'objects')).sort((a, b) => statSync(b).size - statSync(a).size)[0]!;
  const bytes = readFileSync(victim);
  bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
  writeFileSync(victim, bytes);
  const damaged = await drill();
  t.equal(damaged.code, 1, 'the drill of a damaged USB copy fails');
  t.same(damaged.results.map((r) => [r.location, r.ok]), [['spool', true], ['usb:disco A', false]], 'only the USB copy fails');
  const a1 = await drillAlert(/emr from usb:disco A/);
  t.pass(`the hub raised drill-failed: ${a1.message}`);

  // The real mariadb-dump with every tenth observation row filtered out: it restores, but lost rows.
  const wrap = join(dir.path, 'bin');
  mkdirSync(wrap);
  const real = execFileSync('sh', ['-c', 'command -v mariadb-dump'], { encoding: 'utf8' }).trim();
  writeFileSync(join(wrap, 'mariadb-dump'), `#!/bin/sh\n"${real}" "$@" | grep -v '^INSERT INTO \`observations\` VALUES ([0-9]*0,'\nexit 0\n`);
  chmodSync(join(wrap, 'mariadb-dump'), 0o755);
  const lossy = await agent.cli(['backup'], { PATH: `${wrap}:${process.env.PATH}` });
  t.equal(lossy.code, 0, `the lossy dump "succeeds": ${lossy.stderr}`);
  const newest = (await snaps()).at(-1)!;
  t.equal(newest.tables.observations, counts.observations - counts.observations / 10, 'the dump stream holds a tenth fewer observations');
  t.equal(newest.sourceTables?.observations, counts.observations, 'while the database had them all');
  const lost = await drill('--from', 'spool');
  t.equal(lost.code, 1, 'the drill of the dump that lost rows fails');
  t.match(lost.results[0]?.problems.join(' '), /table observations: 2700 rows restored, the database had 3000 at backup time \(the dump lost rows\)/, 'and says which table lost how many rows');
  const a2 = await drillAlert(/lost rows/);
  t.pass(`the hub's alert says so: ${a2.message}`);

  // The console, in Chromium.
  const browser = await openBrowser(join(dir.path, 'chromium'), hub.httpUrl);
  t.teardown(() => browser.close());
  const { page } = browser;
  await consoleLogin(page, hub.httpUrl, 'olga', password);
  await page.goto(`${hub.httpUrl}/lang?to=en&next=/sites/${siteId}`);
  const row = (loc: string) => page.locator(`#drills tr[data-location="${loc}"]`);
  t.match(await row('spool').innerText(), /emr\s+spool\s+FAIL[\s\S]*lost rows/, 'the site page: the spool copy failed, with why');
  t.match(await row('usb:disco A').innerText(), /FAIL[\s\S]*within the objective of 60 min|FAIL/, 'the USB copy failed');
  t.match(await row('usb:disco A').innerText(), /within the objective of 1 h/, 'RPO against the objective');
  await browser.shot('drill-site');
  await page.goto(`${hub.httpUrl}/lang?to=pt&next=/sites/${siteId}`);
  t.match(await row('spool').innerText(), /FALHOU/, 'in Portuguese too');

  await page.goto(`${hub.httpUrl}/lang?to=en&next=/drills`);
  t.match(await page.locator('#drills-late').innerText(), new RegExp(`${idle}[\\s\\S]*never`), 'the fleet view lists the site that never drilled');
  t.notMatch(await page.locator('#drills-late').innerText(), new RegExp(siteId), 'and not the site with a passing drill within the period');
  await browser.shot('drill-fleet');

  const q = `site=${siteId}`;
  await page.goto(`${hub.httpUrl}/reports/continuity?${q}`);
  t.match(await page.locator('#report-summary').innerText(), /5 restores tested: 3 passed, 2 failed/, 'the report counts every restore of the period');
  await browser.shot('drill-report');
  const csv = await (await page.request.get(`${hub.httpUrl}/reports/continuity.csv?${q}`)).text();
  const csvLines = csv.trim().split('\r\n');
  t.equal(csvLines.length, 6, 'the CSV: a header and one line per restore');
  t.match(csvLines[0], /^Site,Province,Run by,Date,Start time \(UTC\),Drill duration \(s\),Host,Versions,Source,Copy restored from,Snapshot,Result/, 'with named columns');
  t.match(csvLines[5], /lost rows/, 'and the deviations');

  const pdfRes = await page.request.get(`${hub.httpUrl}/reports/continuity.pdf?${q}`);
  t.equal(pdfRes.headers()['content-type'], 'application/pdf');
  const pdfFile = join(dir.path, 'report.pdf');
  writeFileSync(pdfFile, await pdfRes.body());
  const text = execFileSync('pdftotext', ['-layout', pdfFile, '-'], { encoding: 'utf8' }).replace(/\s+/g, ' ');
  for (const field of [
    'Continuity test report',
    'Run by cli:',
    'Date 20',
    'Start time (UTC)',
    'Drill duration (s)',
    'Host ',
    'Versions agent ',
    'mariadbd ',
    'Copy restored from usb:disco A',
    'Copy restored from spool',
    'Source emr',
    'Result PASS',
    'Result FAIL',
    'RTO measured (s)',
    'RTO projected to the current size (s)',
    'RTO objective (s) 3600',
    'RTO met',
    'RPO (s)',
    'RPO objective (s) 3600',
    'RPO met',
    'Previous drill RTO (s)',
    'Deviations',
    'the dump lost rows',
    `Province niassa`,
    siteId,
  ])
    t.ok(text.includes(field), `the PDF's text carries "${field}"`);
  t.same(browser.pageErrors, [], 'no script errors');
  t.same(browser.external, [], 'no request left the hub');
});
