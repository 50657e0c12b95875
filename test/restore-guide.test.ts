/**
 * Must show (issue 16, item 3): the console's restore guide for a site, run command by command. A
 * real agent backs up a real MariaDB database and a folder, copies them to a USB disk (a folder
 * under its mount roots), mirrors them to the secondary server's folder and sends them off-site to
 * a real hub. Then the page is fetched as a console user sees it, and every command it shows is run
 * as shown, placeholders filled in, in its playbook:
 * - A, database corruption: the source database loses rows; restored from the USB disk;
 * - B, server dead: the main server's data is gone; the secondary server restores from its mirror
 *   with the recovery code alone;
 * - C, fire or flood: a new bare server is enrolled anew and restores from the hub with the
 *   recovery code.
 * Each restored database equals the source at backup time table by table (a checksum over every
 * row), each restored folder file by file; each playbook's wall time is printed.
 */
import t from 'tap';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { MasterKey, query } from '@sentinela/agent';
import { AgentHandle, hubWithNewSite, NEVER } from '@sentinela/tools/harness/fleet.js';
import { AGENT_BIN, HUB_BIN } from '@sentinela/tools/harness/paths.js';
import { runNode } from '@sentinela/tools/harness/process.js';
import { tempDir } from '@sentinela/tools/harness/tmp.js';
import { waitFor } from '@sentinela/tools/harness/wait.js';
import { offsiteLog } from '@sentinela/tools/harness/offsite.js';
import { consoleHtml, guideCommands } from '@sentinela/tools/harness/restore-guide.js';

type Generator = typeof import('../bench/backup/generate.js');
const gen = (await import(new URL('../../bench/dist/backup/generate.js', import.meta.url).href)) as Generator;

const OBSERVATIONS = 20_000;
const echo = process.env.SENTINELA_TEST_ECHO ? (l: string) => process.stderr.write(`${l}\n`) : undefined;
const tag = `${process.pid.toString(36)}${randomBytes(2).toString('hex')}`;
const snapshotsOn = (dir: string): string[] => {
  try {
    return readdirSync(join(dir, 'snapshots')).filter((n) => /^\d{8}T/.test(n));
  } catch {
    return [];
  }
};
const filesOf = (dir: string): Record<string, string> => Object.fromEntries(readdirSync(dir).map((n) => [n, readFileSync(join(dir, n)).toString('hex')]));

t.test('every command of the restore guide runs, in each of the three playbooks, and restores the data as it was', async (t) => {
  const dir = tempDir('restore-guide');
  t.teardown(dir.remove);
  const emr = `emr-${tag}`;
  const src = { dialect: 'mariadb' as const, conn: { host: '127.0.0.1', database: `sn_guide_${tag}` } };
  const restoredDb = (what: string) => ({ dialect: 'mariadb' as const, conn: { host: '127.0.0.1', database: `sn_guide_${tag}_${what}` } });
  const usbDb = { dialect: 'mariadb' as const, conn: { host: '127.0.0.1', database: `${emr.replace(/-/g, '_')}_restored` } };
  const peerDb = restoredDb('peer');
  const hubDb = restoredDb('hub');
  for (const d of [src, usbDb, peerDb, hubDb]) {
    await gen.dropDatabase(d);
    t.teardown(() => gen.dropDatabase(d));
  }
  await gen.createClinicalDatabase(src, { observations: OBSERVATIONS, seed: 5 });
  const scans = join(dir.path, 'scans');
  mkdirSync(scans);
  for (let i = 0; i < 4; i++) writeFileSync(join(scans, `scan-${i}.bin`), randomBytes(3000 + i));

  const { hub, siteId, token } = await hubWithNewSite(t, join(dir.path, 'hub'), 'hf-guide');
  await hub.addUser('tecnica', 'operator', 'senha-de-teste-1');
  const media = join(dir.path, 'media');
  const disk = join(media, 'disco-a');
  const mirror = join(dir.path, 'secondary', 'sentinela');
  mkdirSync(disk, { recursive: true });
  mkdirSync(mirror, { recursive: true });
  const sources = [
    { name: emr, kind: 'mariadb', host: '127.0.0.1', database: src.conn.database, schedule: NEVER },
    { name: 'scans', kind: 'files', path: scans, schedule: NEVER },
  ];
  const agent = new AgentHandle({
    dir: join(dir.path, 'main'),
    siteId,
    mqttUrl: hub.mqttUrl,
    echo,
    overrides: { backup: { sources, usb: { mountRoots: [media], pollSeconds: 1 }, peer: { path: mirror } }, offsite: {} },
  });
  await agent.enroll(hub.httpUrl, token);
  const backup = await agent.cli(['backup', '--json']);
  t.equal(backup.code, 0, backup.stderr);
  const ids = (JSON.parse(backup.stdout) as Array<{ id: string }>).map((s) => s.id);
  const atBackup = await gen.tableChecksums(src);
  const scansAtBackup = filesOf(scans);
  t.equal((await agent.cli(['disk', 'init', disk, '--label', 'disco A'])).code, 0, 'USB disk labelled');
  t.equal((await agent.cli(['disk', 'init', mirror, '--peer'])).code, 0, 'mirror folder labelled');
  await agent.start();
  t.teardown(() => agent.proc.stop());
  await waitFor('both snapshots on the USB disk and the mirror', () => ids.every((id) => snapshotsOn(disk).includes(id) && snapshotsOn(mirror).includes(id)), 120_000, 200);
  for (const id of ids) await agent.proc.waitForLog(`${id} off-site`, offsiteLog(id), 180_000);
  await waitFor('the hub to see the backups in the status', async () => (await consoleHtml(hub, `/sites/${siteId}/restore`, 'tecnica', 'senha-de-teste-1')).includes(ids[0]!), 60_000, 500);
  const code = MasterKey.load(join(agent.opts.dir, 'data', 'backup.key')).toRecoveryCode();
  await agent.proc.stop();

  const html = await consoleHtml(hub, `/sites/${siteId}/restore`, 'tecnica', 'senha-de-teste-1');
  t.match(html, /id="offsite-held"/, 'the page says the hub holds off-site copies of this site');
  t.notMatch(html, /ainda não guarda|does not keep off-site/, 'and never that it keeps none');
  for (const id of ids) t.match(html, id, `it names the off-site copy ${id}`);
  const commands = guideCommands(html);
  t.same(Object.keys(commands).sort(), ['hub', 'peer', 'usb'], 'the page has commands for the three playbooks');
  t.ok(commands.usb!.some((c) => c.includes('--from usb')), 'playbook A reads the USB disk (--from usb)');
  t.ok(commands.usb!.some((c) => /^sentinela-agent snapshots .*--from usb/.test(c)), 'and lists the copies on the disk, not the spool');
  let ran = 0;
  const run = async (playbook: string, cmd: string, fill: Record<string, string>) => {
    let line = cmd;
    for (const [k, v] of Object.entries(fill)) line = line.split(k).join(v);
    const words = line.split(' ');
    const bin = words[0] === 'sentinela-hub' ? HUB_BIN : AGENT_BIN;
    t.equal(words[0]?.startsWith('sentinela-'), true, `${playbook}: ${cmd}`);
    const r = await runNode(bin, words.slice(1));
    ran++;
    t.equal(r.code, 0, `${playbook}: exit 0 for: ${cmd}\n${r.stderr.slice(-600)}`);
    return r;
  };

  // A: the database is corrupted (rows lost); the USB disk restores it into a new database.
  await query('mariadb', src.conn, 'DELETE FROM observations WHERE id % 5 = 0');
  let started = Date.now();
  for (const cmd of commands.usb!) await run('A', cmd, { '/etc/sentinela/agent.yaml': agent.configFile, '<PASTA-DE-RESTAURO>': join(dir.path, 'restore-usb') });
  const tA = Date.now() - started;
  t.same(await gen.tableChecksums(usbDb), atBackup, 'A: every table restored from the USB disk equals the source at backup time');
  t.same(filesOf(join(dir.path, 'restore-usb', 'scans')), scansAtBackup, 'A: every file restored from the USB disk is as it was');

  // B: the main server is dead (its data gone); the secondary server has only its mirror and the code.
  rmSync(agent.opts.dir, { recursive: true, force: true });
  started = Date.now();
  for (const cmd of commands.peer!)
    await run('B', cmd, { '<PASTA-DO-ESPELHO>': mirror, '<CÓDIGO-DE-RECUPERAÇÃO>': code, '<BASE-DE-DADOS>': peerDb.conn.database, '<PASTA-DE-RESTAURO>': join(dir.path, 'restore-peer') });
  const tB = Date.now() - started;
  t.same(await gen.tableChecksums(peerDb), atBackup, 'B: every table restored on the secondary server equals the source at backup time');
  t.same(filesOf(join(dir.path, 'restore-peer', 'scans')), scansAtBackup, 'B: every file restored on the secondary server is as it was');

  // C: fire or flood: a new bare server (fresh install, same sources configured), enrolled anew.
  const fresh = new AgentHandle({ dir: join(dir.path, 'new-server'), siteId, mqttUrl: hub.mqttUrl, overrides: { backup: { sources } } });
  started = Date.now();
  const [tokenCmd, enrollCmd, ...restores] = commands.hub!;
  const tok = await run('C', tokenCmd!, { '/etc/sentinela/hub.yaml': hub.configFile });
  const newToken = /^\s+(\S+)\s*$/m.exec(tok.stdout)?.[1] ?? '';
  t.ok(newToken, `C: the token command printed a token`);
  const fillC = { '/etc/sentinela/agent.yaml': fresh.configFile, '<ENDEREÇO-DO-HUB>': hub.httpUrl, '<TOKEN>': newToken, '<CÓDIGO-DE-RECUPERAÇÃO>': code, '<BASE-DE-DADOS>': hubDb.conn.database, '<PASTA-DE-RESTAURO>': join(dir.path, 'restore-hub') };
  await run('C', enrollCmd!, fillC);
  for (const cmd of restores) await run('C', cmd, fillC);
  const tC = Date.now() - started;
  t.same(await gen.tableChecksums(hubDb), atBackup, 'C: every table restored from the hub equals the source at backup time');
  t.same(filesOf(join(dir.path, 'restore-hub', 'scans')), scansAtBackup, 'C: every file restored from the hub is as it was');

  t.equal(ran, commands.usb!.length + commands.peer!.length + commands.hub!.length, `all ${ran} commands shown were run`);
  t.comment(`playbook times (${OBSERVATIONS} observations, ${ids.length} sources): A database corruption, from USB: ${(tA / 1000).toFixed(1)} s; B server dead, secondary server from its mirror: ${(tB / 1000).toFixed(1)} s; C fire or flood, new server from the hub: ${(tC / 1000).toFixed(1)} s`);
});
