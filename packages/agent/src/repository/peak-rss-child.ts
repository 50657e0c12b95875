/**
 * For memory-bound.test.ts: one step of a backup of a generated dump of any size, in its own
 * process so that its peak RSS is its own. `node peak-rss-child.js day1|day2|restore REPO KEYFILE BYTES`
 * prints one JSON line { step, bytes, sha256, peak_mb }. The dump is generated as it streams (a
 * multi-GB dump never touches the disk): mysqldump-like rows; day 2 changes 0.05 % of them at
 * scattered places, inserts 1 MiB of new rows in the middle and appends 0.5 % at the end.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { MasterKey } from './keys.js';
import { initRepository, openRepository } from './repository.js';
import type { Source } from '../sources/source.js';

const ROW_BYTES = 36; // about: bytes per generated row
const BLOCK_ROWS = 16384;

/** A deterministic 32-bit hash of a row number (and a salt). */
function mix(k: number, salt: number): number {
  let h = Math.imul(k ^ salt, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  return (h ^ (h >>> 13)) >>> 0;
}

function row(k: number, day: number): string {
  const h = mix(k, 1);
  // 0.05 % of the rows carry another value on day 2.
  const value = day === 2 && mix(k, 2) % 2000 === 0 ? h % 99991 : h % 30011;
  return `(${k},${h % 50000},'LOINC-${(h >>> 8) % 9000}',${value}.${h % 97}),\n`;
}

export function* generatedDump(bytes: number, day: 1 | 2): Generator<Buffer> {
  const rows = Math.ceil(bytes / ROW_BYTES);
  const extra = day === 2 ? Math.ceil(rows * 0.005) : 0;
  const middle = rows >> 1;
  yield Buffer.from('-- generated dump\nINSERT INTO `observations` VALUES\n');
  for (let from = 0; from < rows + extra; from += BLOCK_ROWS) {
    let s = '';
    for (let k = from; k < Math.min(from + BLOCK_ROWS, rows + extra); k++) {
      if (day === 2 && k === middle) for (let i = 0; i < (1 << 20) / ROW_BYTES; i++) s += row(1e9 + i, 2);
      s += row(k, day);
    }
    yield Buffer.from(s);
  }
}

function peakRssMb(): number {
  const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return Math.round(Number(m![1]) / 1024);
}

async function main(): Promise<void> {
  const [step, repoDir, keyFile, size] = process.argv.slice(2) as [string, string, string, string];
  const key = existsSync(keyFile) ? MasterKey.load(keyFile) : MasterKey.generate();
  if (!existsSync(keyFile)) key.save(keyFile);
  let bytes = 0;
  let sha256: string;
  if (step === 'restore') {
    const repo = await openRepository(repoDir, key);
    const hash = createHash('sha256');
    for await (const buf of repo.read((await repo.snapshots()).at(-1)!.id)) {
      hash.update(buf as Buffer);
      bytes += (buf as Buffer).length;
    }
    sha256 = hash.digest('hex');
  } else {
    const repo = existsSync(repoDir) ? await openRepository(repoDir, key) : await initRepository(repoDir, { siteId: 'memory', key });
    const source: Source = {
      name: 'generated',
      kind: 'command',
      tokenizer: 'lines',
      dump: () => ({ stream: Readable.from(generatedDump(Number(size), step === 'day1' ? 1 : 2)), info: Promise.resolve({ tool: { name: 'generator', version: '1' } }) }),
    };
    const m = await repo.backup(source);
    bytes = m.content.bytes;
    sha256 = m.content.sha256;
  }
  process.stdout.write(`${JSON.stringify({ step, bytes, sha256, peak_mb: peakRssMb() })}\n`);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
