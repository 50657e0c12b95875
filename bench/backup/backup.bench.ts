/**
 * Backup of a clinical MariaDB dump, day 1 and day 2 (0.05 % of rows updated at random, 0.5 %
 * appended: generate.ts), against restic (Debian's package) on the same dump files, with the size
 * of `zstd --long=29 --patch-from=day1 day2` as the near-limit reference for day 2.
 * Both tools read the same dump file, so that the database's dump time is outside the comparison.
 */
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { CommandSource, MasterKey, initRepository } from '@sentinela/agent';
import { ratiosOf, type BenchResult } from '../lib/report.js';
import { dropDatabase, SIZES, type ClinicalDb } from './generate.js';
import { clinicalDumps, duSize, sh } from './dumps.js';

const DB = 'sentinela_bench_backup';

async function timed<T>(fn: () => Promise<T> | T): Promise<{ s: number; value: T }> {
  const t0 = process.hrtime.bigint();
  const value = await fn();
  return { s: Number(process.hrtime.bigint() - t0) / 1e9, value };
}

export async function run_(opts: { full: boolean; log: (line: string) => void }): Promise<BenchResult> {
  const { full, log } = opts;
  const work = mkdtempSync(join(tmpdir(), 'sentinela-bench-backup-'));
  const db: ClinicalDb = { dialect: 'mariadb', conn: { host: '127.0.0.1', database: DB } };
  try {
    const { day1, day2, dumpBytes, change } = await clinicalDumps(work, { database: DB, full, log });

    // Sentinela: the same file read by the `command` source (cat), as the agent would stream a dump.
    const repoDir = join(work, 'repo');
    const repo = await initRepository(repoDir, { siteId: 'bench', key: MasterKey.generate() });
    const fileSource = (file: string) => new CommandSource({ name: 'clinic', kind: 'command', command: ['cat', file], tokenizer: 'lines' });
    log('sentinela: day 1…');
    const o1 = await timed(() => repo.backup(fileSource(day1)));
    log('sentinela: day 2…');
    const o2 = await timed(() => repo.backup(fileSource(day2)));
    log('sentinela: restore of day 2…');
    const restored = join(work, 'restored.sql');
    const or = await timed(() => pipeline(repo.read(o2.value.id), createWriteStream(restored)));
    if (statSync(restored).size !== dumpBytes) throw new Error('the restored dump differs in size');
    rmSync(restored);
    const ours = {
      day1_backup_s: o1.s,
      day2_backup_s: o2.s,
      day1_stored_bytes: o1.value.stored,
      day2_stored_bytes: o2.value.stored,
      restore_day2_s: or.s,
    };

    // restic, same files.
    const resticDir = join(work, 'restic');
    const env = { RESTIC_PASSWORD: 'bench', RESTIC_REPOSITORY: resticDir, RESTIC_CACHE_DIR: join(work, 'restic-cache') };
    // --stdin like a dump piped from the database tool, fed from the same file.
    const rb = async (file: string) => timed(() => sh(`restic backup --quiet --stdin --stdin-filename clinic.sql < '${file}'`, env));
    sh('restic init', env);
    const size0 = duSize(resticDir);
    log('restic: day 1…');
    const p1 = await rb(day1);
    const size1 = duSize(resticDir);
    log('restic: day 2…');
    const p2 = await rb(day2);
    const size2 = duSize(resticDir);
    log('restic: restore of day 2…');
    const pr = await timed(() => sh(`restic restore latest --target '${join(work, 'restic-restore')}'`, env));
    rmSync(join(work, 'restic-restore'), { recursive: true, force: true });
    const peer = { day1_backup_s: p1.s, day2_backup_s: p2.s, day1_stored_bytes: size1 - size0, day2_stored_bytes: size2 - size1, restore_day2_s: pr.s };

    log('zstd --long=29 --patch-from…');
    const patch = join(work, 'day2.patch.zst');
    execFileSync('zstd', ['-q', '-f', '--long=29', `--patch-from=${day1}`, day2, '-o', patch]);
    const zstdPatch = statSync(patch).size;

    const ratios = ratiosOf(ours, peer);
    const vsZstd = Math.round((ours.day2_stored_bytes / zstdPatch) * 1000) / 1000;
    return {
      name: 'backup',
      setup: { size: full ? 'full' : 'quick', observations: full ? SIZES.full : SIZES.quick, dump_bytes: dumpBytes, zstd_patch_bytes: zstdPatch, cores: 2 },
      figures: { ...ours, day2_over_zstd_patch: vsZstd, max_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024) },
      peer: { name: 'restic 0.14', figures: peer },
      ratios,
      notes: [
        `day-2 stored bytes: ${ours.day2_stored_bytes} = ${vsZstd} × the zstd patch (${zstdPatch}); target ≤ 1.5`,
        `backup time vs restic: day 1 ${ratios.day1_backup_s ?? '—'}, day 2 ${ratios.day2_backup_s ?? '—'}; target ≤ 1.5 (lower is better for times and bytes)`,
        `restore of day 2 (full through one delta): ${ours.restore_day2_s.toFixed(1)} s for ${dumpBytes} bytes`,
        `day-2 change: ${JSON.stringify(change)}`,
      ],
    };
  } finally {
    await dropDatabase(db).catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  }
}
export { run_ as run };
