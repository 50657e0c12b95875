/**
 * `verify`, `prune` and `snapshots` on a spool with garbage and a damaged full snapshot, as an
 * administrator runs them: the real CLI in its own process.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync, utimesSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../fixtures.test-support.js';
import { MasterKey } from '../repository/keys.js';
import { initRepository } from '../repository/repository.js';
import { ShellSource } from '../repository/shell-source.test-support.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

t.test('verify reports unreferenced objects and .tmp-* leftovers; prune --dry-run lists them, prune removes them; snapshots warns on a damaged full snapshot and names its deltas', async (t) => {
  const dir = tempDir(t);
  const config = join(dir, 'agent.yaml');
  writeFileSync(config, `dataDir: ${dir}\nhub:\n  mqttUrl: mqtt://127.0.0.1:1\n`);
  const key = MasterKey.generate();
  key.save(join(dir, 'backup.key'));
  const spool = join(dir, 'repository');
  const repo = await initRepository(spool, { siteId: 'site', key });
  const full = await repo.backup(new ShellSource('clinic', 'seq 1 200000'));
  const d1 = await repo.backup(new ShellSource('clinic', 'seq 1 200001'));
  const d2 = await repo.backup(new ShellSource('clinic', 'seq 1 200002'));
  const other = await repo.backup(new ShellSource('other', 'seq 5 90000'));
  // Garbage: a snapshot removed without prune, and an interrupted write; both older than the grace period.
  rmSync(join(spool, 'snapshots', d2.id)); // as forget does: its objects stay until prune
  writeFileSync(join(spool, 'objects', '.tmp-0123456789ab'), 'half an object');
  const old = new Date(Date.now() - 7 * 3600 * 1000);
  for (const sub of readdirSync(join(spool, 'objects'))) if (!sub.startsWith('.')) for (const f of readdirSync(join(spool, 'objects', sub))) utimesSync(join(spool, 'objects', sub, f), old, old);
  utimesSync(join(spool, 'objects', '.tmp-0123456789ab'), old, old);

  const v = await cli(['verify', '--config', config, '--json']);
  t.equal(v.code, 0, 'garbage is not a problem');
  const report = JSON.parse(v.stdout) as { unreferenced: { objects: number; bytes: number }; tempFiles: { files: number } };
  t.ok(report.unreferenced.objects >= 1, `${report.unreferenced.objects} unreferenced objects reported`);
  t.equal(report.tempFiles.files, 1, 'the .tmp-* leftover reported');
  t.match((await cli(['verify', '--config', config])).stdout, /objects no snapshot lists .* 1 leftover \.tmp-\* files/);

  const dry = await cli(['prune', '--config', config, '--dry-run', '--json']);
  t.equal(dry.code, 0);
  const dr = JSON.parse(dry.stdout) as { removedObjects: number; removedTempFiles: number; dryRun: boolean };
  t.same({ objects: dr.removedObjects, temps: dr.removedTempFiles, dryRun: dr.dryRun }, { objects: report.unreferenced.objects, temps: 1, dryRun: true }, 'dry run: what it would remove');
  t.ok(existsSync(join(spool, 'objects', '.tmp-0123456789ab')), 'dry run removes nothing');
  const pr = await cli(['prune', '--config', config]);
  t.equal(pr.code, 0);
  t.match(pr.stdout, new RegExp(`removed ${report.unreferenced.objects} unreferenced objects and 1 leftover`));
  const after = JSON.parse((await cli(['verify', '--config', config, '--json', '--read-data'])).stdout) as { unreferenced: { objects: number }; tempFiles: { files: number }; problems: unknown[] };
  t.same({ u: after.unreferenced.objects, tmp: after.tempFiles.files, problems: after.problems }, { u: 0, tmp: 0, problems: [] }, 'prune left a clean, intact repository');

  // A second chain, then its full snapshot's manifest damaged.
  const f2 = await repo.backup(new ShellSource('lab', 'seq 1 50000'));
  const l1 = await repo.backup(new ShellSource('lab', 'seq 1 50001'));
  const l2 = await repo.backup(new ShellSource('lab', 'seq 1 50002'));
  const file = join(spool, 'snapshots', f2.id);
  const env = JSON.parse(readFileSync(file, 'utf8')) as { manifest: string };
  const m = Buffer.from(env.manifest, 'base64');
  m[20] = m[20]! ^ 1;
  writeFileSync(file, JSON.stringify({ ...env, manifest: m.toString('base64') }));
  const s = await cli(['snapshots', '--config', config]);
  t.equal(s.code, 1, 'snapshots exits 1 when it skips one');
  t.match(s.stderr, new RegExp(`WARNING skipped snapshot ${f2.id}, its manifest is damaged`));
  t.match(s.stderr, new RegExp(`cannot be restored either: ${l1.id}, ${l2.id}`), 'names the deltas that depend on it');
  t.match(s.stdout, other.id, 'the readable snapshots are still listed');
  const bad = await cli(['verify', '--config', config]);
  t.equal(bad.code, 1);
  t.match(bad.stdout, new RegExp(`PROBLEM bad-manifest ${f2.id}: .*the deltas ${l1.id}, ${l2.id} depend on it`));
  void full;
  void d1;
});
