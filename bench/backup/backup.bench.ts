/**
 * Backup of every dump shape of issue 17 (shapes.ts), day 1 and day 2, against restic (Debian's
 * package) on the same files, with the size of `zstd --long=29 --patch-from=day1 day2` as the
 * near-limit reference for day 2. Sentinela's steps each run in their own process (measure.ts), so
 * that each shape's peak RSS is its own. Both tools read the same files, so that the databases'
 * dump time is outside the comparison.
 *
 * SENTINELA_BENCH_SHAPES=name,name limits the run to some shapes (names: shapes.ts);
 * SENTINELA_BENCH_OBSERVATIONS=N sets the size (observations rows) instead of quick or full;
 * SENTINELA_BENCH_DUMPS=DIR keeps the dump files in DIR and reuses those already there (a full-size
 * dump takes far longer to generate than to back up: generate once, measure as often as needed).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchResult } from '../lib/report.js';
import { SIZES } from './generate.js';
import { duSize, sh } from './dumps.js';
import { keptShapes, makeShapes, type Shape } from './shapes.js';

const MEASURE = join(dirname(fileURLToPath(import.meta.url)), 'measure.js');

async function timed<T>(fn: () => Promise<T> | T): Promise<{ s: number; value: T }> {
  const t0 = process.hrtime.bigint();
  const value = await fn();
  return { s: Number(process.hrtime.bigint() - t0) / 1e9, value };
}

interface Step {
  s: number;
  cpu_s: number;
  stored: number;
  max_rss_mb: number;
}

function step(name: string, repo: string, file: string, tokenizer: string, keyFile: string): Step {
  const r = spawnSync(process.execPath, [MEASURE, name, repo, file, tokenizer, keyFile], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`sentinela ${name} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Step;
}

const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

async function measureShape(work: string, shape: Shape, log: (line: string) => void) {
  const dir = join(work, shape.name);
  const repo = join(dir, 'repo');
  const keyFile = join(dir, 'key.json');
  execFileSync('mkdir', ['-p', dir]);
  log(`${shape.name}: sentinela day 1, day 2, restore…`);
  const d1 = step('day1', repo, shape.day1, shape.tokenizer, keyFile);
  const d2 = step('day2', repo, shape.day2, shape.tokenizer, keyFile);
  const restored = join(dir, 'restored');
  const rs = step('restore', repo, restored, shape.tokenizer, keyFile);
  execFileSync('cmp', [restored, shape.day2]);
  rmSync(restored);

  log(`${shape.name}: restic day 1, day 2, restore…`);
  const resticDir = join(dir, 'restic');
  const env = { RESTIC_PASSWORD: 'bench', RESTIC_REPOSITORY: resticDir, RESTIC_CACHE_DIR: join(dir, 'restic-cache') };
  // --stdin like a dump piped from the database tool, fed from the same file. CPU time (all its
  // threads) by time(1): on a shared machine wall time measures the load as much as the tool.
  const cpuFile = join(dir, 'restic-cpu');
  const rb = async (file: string) => {
    const r = await timed(() => sh(`/usr/bin/time -f '%U %S' -o '${cpuFile}' restic backup --quiet --stdin --stdin-filename dump < '${file}'`, env));
    const [u, sys] = readFileSync(cpuFile, 'utf8').trim().split(/\s+/).slice(-2).map(Number) as [number, number];
    return { ...r, cpu: u + sys };
  };
  sh('restic init', env);
  const size0 = duSize(resticDir);
  const p1 = await rb(shape.day1);
  const size1 = duSize(resticDir);
  const p2 = await rb(shape.day2);
  const size2 = duSize(resticDir);
  const pr = await timed(() => sh(`restic restore latest --target '${join(dir, 'restic-restore')}'`, env));
  rmSync(join(dir, 'restic-restore'), { recursive: true, force: true });

  log(`${shape.name}: zstd --long=29 --patch-from…`);
  const patch = join(dir, 'day2.patch.zst');
  execFileSync('zstd', ['-q', '-f', '--long=29', `--patch-from=${shape.day1}`, shape.day2, '-o', patch]);
  const zstdPatch = statSync(patch).size;
  rmSync(dir, { recursive: true, force: true });

  const ours = {
    dump_bytes: statSync(shape.day2).size,
    day1_stored_bytes: d1.stored,
    day2_stored_bytes: d2.stored,
    zstd_patch_bytes: zstdPatch,
    day2_over_zstd_patch: round(d2.stored / zstdPatch),
    max_rss_mb: Math.max(d1.max_rss_mb, d2.max_rss_mb, rs.max_rss_mb),
    day2_rss_mb: d2.max_rss_mb,
    restore_rss_mb: rs.max_rss_mb,
    day1_backup_s: round(d1.s),
    day2_backup_s: round(d2.s),
    restore_day2_s: round(rs.s),
    day2_time_over_restic: round(d2.s / p2.s),
    day2_cpu_s: round(d2.cpu_s),
    day2_cpu_over_restic: round(d2.cpu_s / p2.cpu),
    restore_time_over_restic: round(rs.s / pr.s),
  };
  const peer = { day1_stored_bytes: size1 - size0, day2_stored_bytes: size2 - size1, day1_backup_s: round(p1.s), day2_backup_s: round(p2.s), day2_cpu_s: round(p2.cpu), restore_day2_s: round(pr.s) };
  log(`${shape.name}: ${JSON.stringify(ours)}`);
  return { ours, peer };
}

export async function run_(opts: { full: boolean; log: (line: string) => void }): Promise<BenchResult> {
  const { full, log } = opts;
  const only = process.env.SENTINELA_BENCH_SHAPES?.split(',').filter(Boolean);
  const work = mkdtempSync(join(tmpdir(), 'sentinela-bench-backup-'));
  const observations = Number(process.env.SENTINELA_BENCH_OBSERVATIONS) || (full ? SIZES.full : SIZES.quick);
  const kept = process.env.SENTINELA_BENCH_DUMPS;
  try {
    const shapes = kept ? await keptShapes(kept, { observations, log, ...(only ? { only } : {}) }) : await makeShapes(work, { observations, log, ...(only ? { only } : {}) });
    const figures: Record<string, number> = {};
    const peer: Record<string, number> = {};
    const ratios: Record<string, number> = {};
    const notes: string[] = [];
    for (const shape of shapes) {
      const r = await measureShape(work, shape, log);
      if (!kept) (rmSync(shape.day1), rmSync(shape.day2));
      for (const [k, v] of Object.entries(r.ours)) figures[`${shape.name}.${k}`] = v;
      for (const [k, v] of Object.entries(r.peer)) peer[`${shape.name}.${k}`] = v;
      ratios[`${shape.name}.day2_stored_bytes`] = round(r.ours.day2_stored_bytes / r.peer.day2_stored_bytes);
      ratios[`${shape.name}.day2_backup_s`] = r.ours.day2_time_over_restic;
      ratios[`${shape.name}.day2_cpu_s`] = r.ours.day2_cpu_over_restic;
      ratios[`${shape.name}.restore_day2_s`] = r.ours.restore_time_over_restic;
      notes.push(
        `${shape.name} (${r.ours.dump_bytes} bytes): day 2 = ${r.ours.day2_over_zstd_patch} × the zstd patch (target ≤ 1.5), peak RSS ${r.ours.max_rss_mb} MB (≤ 256), day-2 time ${r.ours.day2_time_over_restic} × restic's (CPU ${r.ours.day2_cpu_over_restic} ×), restore ${r.ours.restore_time_over_restic} × restic's (≤ 1.0)`,
      );
    }
    return {
      name: 'backup',
      setup: { size: full ? 'full' : 'quick', observations, shapes: shapes.map((s) => s.name).join(','), cores: 2 },
      figures,
      peer: { name: 'restic 0.14', figures: peer },
      ratios,
      notes,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
export { run_ as run };
