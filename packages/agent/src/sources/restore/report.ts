/** What every restore target returns, and the options they share. */
import { Transform } from 'node:stream';

export interface RestoreOptions {
  /** Replace an existing database / file / non-empty folder. Without it, restore refuses. */
  force?: boolean;
  /** Bytes of the dump consumed so far. */
  onProgress?: (bytes: number) => void;
  /** The manifest's per-table row counts: the restored database is checked against them. */
  expectedTables?: Record<string, number>;
}

export interface RestoreReport {
  /** The database, file or folder restored into. */
  target: string;
  /** Bytes of the dump read. */
  bytes: number;
  tables: Record<string, { expected: number; found: number }>;
  /** Anything that differs from what the snapshot says (missing tables, wrong counts, failed integrity check). */
  problems: string[];
  ok: boolean;
}

/** A restore that was refused before it touched anything (existing target without force, unsafe name). */
export class RestoreRefused extends Error {
  override name = 'RestoreRefused';
}

/** Compares found row counts with the expected ones; `found` lacks the tables that do not exist. */
export function compareTables(expected: Record<string, number> | undefined, found: Record<string, number>): Pick<RestoreReport, 'tables' | 'problems'> {
  const tables: RestoreReport['tables'] = {};
  const problems: string[] = [];
  for (const [name, exp] of Object.entries(expected ?? {})) {
    const got = found[name];
    tables[name] = { expected: exp, found: got ?? 0 };
    if (got === undefined) problems.push(`table ${name} is missing`);
    else if (got !== exp) problems.push(`table ${name} has ${got} rows, the snapshot says ${exp}`);
  }
  return { tables, problems };
}

/** A pass-through stage that reports the bytes that went by. */
export function byteCounter(onProgress?: (bytes: number) => void): { stage: Transform; bytes: () => number } {
  let n = 0;
  const stage = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      n += chunk.length;
      onProgress?.(n);
      cb(null, chunk);
    },
  });
  return { stage, bytes: () => n };
}
