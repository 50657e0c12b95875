/**
 * Must show (issue 16, item 1): restore drills with the real agent, a real MariaDB source and a
 * scratch MariaDB server the drill starts itself. A drill restores the newest snapshot from the
 * spool and the USB disk and checks every table's rows against the manifest; a flipped byte in one
 * USB object fails the USB copy (and only it); a drill killed with SIGKILL leaves a scratch server
 * and a clinical copy behind, and the next drill removes both first.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { hubWithEnrolledAgent, NEVER } from '@sentinela/tools/harness/fleet.js';
import { AGENT_BIN } from '@sentinela/tools/harness/paths.js';
import { tempDir } from '@sentinela/tools/harness/tmp.js';
import { waitFor } from '@sentinela/tools/harness/wait.js';

type Generator = typeof import('../bench/backup/generate.js');
const gen = (await import(new URL('../../bench/dist/backup/generate.js', import.meta.url).href)) as Generator;

interface Result {
  source: string;
  location: string;
  snapshot: string | null;
  ok: boolean;
  problems: string[];
  rtoSeconds: number;
  rpoSeconds: number | null;
}

const tag = `${process.pid.toString(36)}${randomBytes(2).toString('hex')}`;
const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/\bState:\s+Z/.test(readFileSync(`/proc/${pid}/status`, 'utf8'));

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

t.test('restore drills: spool and USB pass; a flipped byte on the USB disk fails that copy; a killed drill leaves nothing behind', async (t) => {
  const dir = tempDir('drill');
  t.teardown(dir.remove);
  const src = { dialect: 'mariadb' as const, conn: { host: '127.0.0.1', database: `sn_drill_${tag}` } };
  await gen.dropDatabase(src);
  t.teardown(() => gen.dropDatabase(src));
  const counts = await gen.createClinicalDatabase(src, { observations: 5000, seed: 9 });
  const media = join(dir.path, 'media');
  const disk = join(media, 'disco-a');
  mkdirSync(disk, { recursive: true });
  const { agent } = await hubWithEnrolledAgent(t, dir.path, 'hf-drill', {
    overrides: { backup: { sources: [{ name: 'emr', kind: 'mariadb', host: '127.0.0.1', database: src.conn.database, schedule: NEVER }], usb: { mountRoots: [media], pollSeconds: 1 } } },
  });
  const backup = await agent.cli(['backup']);
  t.equal(backup.code, 0, backup.stderr);
  const snap = (JSON.parse((await agent.cli(['snapshots', '--json'])).stdout) as Array<{ id: string; tables: Record<string, number>; tableSums?: Record<string, string> }>)[0]!;
  t.same(snap.tables, counts, 'the manifest records the row count of every table');
  t.same(Object.keys(snap.tableSums ?? {}).sort(), [...gen.TABLES].sort(), 'and a checksum of the rows of every table');
  t.equal((await agent.cli(['disk', 'init', disk, '--label', 'disco A'])).code, 0);
  await agent.start();
  await agent.proc.waitForLog('the copy to the USB disk', (l) => l.code === 'usb.copy_completed', 30_000);
  await agent.proc.stop();

  const drill = async () => {
    const r = await agent.cli(['drill', '--json']);
    return { ...r, report: JSON.parse(r.stdout || '{}') as { ok: boolean; host: string; results: Result[] } };
  };
  const good = await drill();
  t.equal(good.code, 0, `a drill of sound copies passes: ${good.stderr}`);
  t.same(
    good.report.results.map((r) => [r.location, r.snapshot, r.ok]),
    [
      ['spool', snap.id, true],
      ['usb:disco A', snap.id, true],
    ],
    'the newest snapshot restored from the spool and from the USB disk, both checked',
  );
  for (const r of good.report.results) t.ok(r.rtoSeconds > 0 && r.rpoSeconds !== null && r.rpoSeconds >= 0, `${r.location}: RTO ${r.rtoSeconds} s, RPO ${r.rpoSeconds} s recorded`);
  t.ok(existsSync(join(agent.opts.dir, 'data', 'drills', 'last.json')), 'the last drill is kept for the status page');
  t.notOk(existsSync(join(agent.opts.dir, 'data', 'drills', 'scratch')), 'no scratch copy is left after the drill');

  // One byte flipped in the largest object on the USB disk.
  const objects = filesUnder(join(disk, 'objects')).sort((a, b) => statSync(b).size - statSync(a).size);
  const victim = objects[0]!;
  const bytes = readFileSync(victim);
  bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
  writeFileSync(victim, bytes);
  const damaged = await drill();
  t.equal(damaged.code, 1, 'the drill fails');
  const [spool, usb] = damaged.report.results;
  t.equal(spool?.ok, true, 'the spool copy still passes');
  t.equal(usb?.ok, false, 'the USB copy fails');
  t.match(usb?.problems.join(' ') ?? '', /damaged|SHA-256|authenticat|tamper/i, `and says why: ${usb?.problems.join('; ')}`);
  t.match(damaged.stderr, /FAIL emr from usb:disco A/, 'the failing copy is named on stderr');

  // A drill killed while its scratch server runs: the next drill removes what it left.
  const scratch = join(agent.opts.dir, 'data', 'drills', 'scratch');
  const child = spawn(process.execPath, [AGENT_BIN, 'drill', '--config', agent.configFile, '--from', 'spool'], { stdio: 'ignore' });
  const pidFile = await waitFor(
    'the scratch server to run',
    () => (existsSync(scratch) ? readdirSync(scratch).map((d) => join(scratch, d, 'server.pid')).find((f) => existsSync(f) && existsSync(join(f, '..', 'mysqld.sock'))) : undefined),
    60_000,
    50,
  );
  const serverPid = Number(readFileSync(pidFile, 'utf8'));
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  t.ok(alive(serverPid), 'after SIGKILL the scratch server and its copy are still there');
  const next = await agent.cli(['drill', '--from', 'spool']);
  t.equal(next.code, 0, next.stderr);
  t.match(next.stderr, /removed a drill's leftover scratch copy/, 'the next drill says it removed the leftovers');
  await waitFor('the leftover server to be gone', () => !alive(serverPid), 10_000);
  t.notOk(existsSync(scratch), 'and nothing of the scratch copies remains');

  // Killed again (a power cut, say): this time the agent's start removes what it left.
  const again = spawn(process.execPath, [AGENT_BIN, 'drill', '--config', agent.configFile, '--from', 'spool'], { stdio: 'ignore' });
  const pidFile2 = await waitFor(
    'the scratch server to run again',
    () => (existsSync(scratch) ? readdirSync(scratch).map((d) => join(scratch, d, 'server.pid')).find((f) => existsSync(f) && existsSync(join(f, '..', 'mysqld.sock'))) : undefined),
    60_000,
    50,
  );
  const serverPid2 = Number(readFileSync(pidFile2, 'utf8'));
  again.kill('SIGKILL');
  await new Promise((r) => again.once('exit', r));
  await agent.start();
  await agent.proc.waitForLog('the leftovers removed at start', (l) => typeof l.msg === 'string' && l.msg.startsWith('removed the scratch copy an interrupted restore drill left behind'), 20_000);
  await agent.proc.stop();
  await waitFor('the second leftover server to be gone', () => !alive(serverPid2), 10_000);
  t.notOk(existsSync(join(scratch, pidFile2.split('/').at(-2)!)), 'the agent removed the killed drill\'s copy when it started');
});
