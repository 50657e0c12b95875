/**
 * The day-1 and day-2 dump files the backup and off-site benchmarks share: a clinical database
 * generated in the real MariaDB, dumped by the agent's own MariaDB source, changed as on a day
 * (generate.ts), dumped again; the database is dropped afterwards. Also the small shell helpers
 * both benchmarks use to drive restic and measure what it adds.
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { MariadbSource } from '@sentinela/agent';
import { applyDay2Change, createClinicalDatabase, dropDatabase, SIZES, type ClinicalDb } from './generate.js';

export interface DayDumps {
  day1: string;
  day2: string;
  /** Size of the day-2 dump in bytes. */
  dumpBytes: number;
  change: Awaited<ReturnType<typeof applyDay2Change>>;
}

export async function clinicalDumps(work: string, opts: { database: string; full: boolean; log: (line: string) => void }): Promise<DayDumps> {
  const db: ClinicalDb = { dialect: 'mariadb', conn: { host: '127.0.0.1', database: opts.database } };
  const observations = opts.full ? SIZES.full : SIZES.quick;
  opts.log(`generating the clinical database (${observations} observations)…`);
  await createClinicalDatabase(db, { observations });
  try {
    const source = new MariadbSource({ name: 'clinic', kind: 'mariadb', host: '127.0.0.1', database: opts.database });
    const dumpTo = async (file: string) => {
      const d = source.dump();
      await pipeline(d.stream, createWriteStream(file));
      await d.info;
    };
    const day1 = join(work, 'day1.sql');
    const day2 = join(work, 'day2.sql');
    opts.log('dumping day 1…');
    await dumpTo(day1);
    opts.log('applying the day-2 change and dumping day 2…');
    const change = await applyDay2Change(db);
    await dumpTo(day2);
    const dumpBytes = statSync(day2).size;
    opts.log(`dumps: day 1 ${statSync(day1).size} bytes, day 2 ${dumpBytes} bytes; change ${JSON.stringify(change)}`);
    return { day1, day2, dumpBytes, change };
  } finally {
    await dropDatabase(db);
  }
}

/** Bytes of every file under dir (what a repository holds on disk). */
export function duSize(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    total += e.isDirectory() ? duSize(p) : statSync(p).size;
  }
  return total;
}

/** Runs a shell command line; throws with its stderr when it fails. */
export function sh(cmd: string, env: NodeJS.ProcessEnv = {}): void {
  const r = spawnSync('sh', ['-c', cmd], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr?.toString().slice(0, 500)}`);
}
