/**
 * Per-table SHA-256 of a mariadb-dump stream's row lines (one `INSERT INTO \`t\` VALUES (…);` per row,
 * --order-by-primary): the fact a restore drill checks a restored copy against, by dumping that
 * copy with the same flags through the same stage. Equal sums mean every row came back as it was.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform } from 'node:stream';

const INSERT = Buffer.from('INSERT INTO `');

export function mariadbTableSums(): { stage: Transform; sums: () => Record<string, string> } {
  const hashes = new Map<string, Hash>();
  let carry: Buffer[] = [];
  const line = (l: Buffer) => {
    if (l.length < INSERT.length || l.compare(INSERT, 0, INSERT.length, 0, INSERT.length) !== 0) return;
    const end = l.indexOf('` VALUES ', INSERT.length);
    if (end === -1) return;
    const name = l.toString('utf8', INSERT.length, end).replace(/``/g, '`');
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
