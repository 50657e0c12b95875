/**
 * Per-table SHA-256 of a dump stream's row lines: the fact a restore drill checks a restored copy
 * against, by dumping that copy with the same flags through the same stage. Equal sums mean every
 * row came back as it was, in the same order.
 * - mariadb-dump (--skip-extended-insert --order-by-primary): one `INSERT INTO \`t\` VALUES (…);` per row.
 * - pg_dump plain: the data lines of each `COPY t (…) FROM stdin;` block, up to its `\.` line. A
 *   freshly loaded table is read back in the order it was loaded, which is the dump's order.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform } from 'node:stream';
import { copyTableName } from './lines.js';

const INSERT = Buffer.from('INSERT INTO `');
const COPY = Buffer.from('COPY ');
const END_OF_COPY = Buffer.from('\\.\n');

/** The table a line's row belongs to (undefined: not a row); called on every whole line, newline included. */
type Classifier = (line: Buffer) => string | undefined;

function lineSums(classify: Classifier): { stage: Transform; sums: () => Record<string, string> } {
  const hashes = new Map<string, Hash>();
  let carry: Buffer[] = [];
  const line = (l: Buffer) => {
    const name = classify(l);
    if (name === undefined) return;
    let h = hashes.get(name);
    if (!h) hashes.set(name, (h = createHash('sha256')));
    h.update(l);
  };
  const stage = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      let start = 0;
      for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
        if (carry.length) {
          carry.push(chunk.subarray(start, nl + 1));
          line(Buffer.concat(carry));
          carry = [];
        } else line(chunk.subarray(start, nl + 1));
        start = nl + 1;
      }
      if (start < chunk.length) carry.push(Buffer.from(chunk.subarray(start)));
      cb(null, chunk);
    },
    flush(cb) {
      if (carry.length) line(Buffer.concat(carry));
      cb();
    },
  });
  return { stage, sums: () => Object.fromEntries([...hashes].map(([n, h]) => [n, h.copy().digest('hex')])) };
}

export function mariadbTableSums(): { stage: Transform; sums: () => Record<string, string> } {
  return lineSums((l) => {
    if (l.length < INSERT.length || l.compare(INSERT, 0, INSERT.length, 0, INSERT.length) !== 0) return undefined;
    const end = l.indexOf('` VALUES ', INSERT.length);
    return end === -1 ? undefined : l.toString('utf8', INSERT.length, end).replace(/``/g, '`');
  });
}

export function postgresTableSums(): { stage: Transform; sums: () => Record<string, string> } {
  let current: string | undefined;
  return lineSums((l) => {
    if (current !== undefined) {
      if (l.equals(END_OF_COPY)) return (current = undefined);
      return current;
    }
    if (l.length > COPY.length && l.compare(COPY, 0, COPY.length, 0, COPY.length) === 0) {
      // A table without rows gets no sum, on both sides (as with MariaDB).
      current = copyTableName(l.toString('utf8').replace(/\r?\n$/, ''));
    }
    return undefined;
  });
}
