/**
 * Re-batches a one-row-per-line MariaDB dump on its way into the server: consecutive
 * `INSERT INTO `t` VALUES (…);` lines of the same table become one multi-row INSERT of up to
 * `maxStatement` bytes. The dump is one row per line for the sake of the delta; restore would be
 * about ten times slower executing it that way (one statement, one round trip, one parse per row).
 * Rows are committed in transactions of about `commitEvery` bytes rather than one by one.
 */
import { Transform } from 'node:stream';

const INSERT = Buffer.from('INSERT INTO `');
const VALUES = Buffer.from('` VALUES (');
const END = Buffer.from(');\n');
const COMMA = Buffer.from(',');
const SEMI = Buffer.from(';\n');
const COMMIT = Buffer.from('COMMIT;\n');

export class InsertRebatcher extends Transform {
  private carry: Buffer[] = [];
  private prefix: Buffer | undefined;
  private rows: Buffer[] = [];
  private rowsSize = 0;
  private sinceCommit = 0;
  private out: Buffer[] = [];
  private started = false;

  constructor(
    private readonly maxStatement = 1024 * 1024,
    private readonly commitEvery = 32 * 1024 * 1024,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (!this.started) {
      this.started = true;
      this.out.push(Buffer.from('SET autocommit=0;\n'));
    }
    let start = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      if (this.carry.length) {
        this.carry.push(chunk.subarray(start, nl + 1));
        this.line(Buffer.concat(this.carry));
        this.carry = [];
      } else this.line(chunk.subarray(start, nl + 1));
      start = nl + 1;
    }
    // Copy: the tail outlives this chunk.
    if (start < chunk.length) this.carry.push(Buffer.from(chunk.subarray(start)));
    this.drain();
    cb();
  }

  override _flush(cb: (err?: Error | null) => void): void {
    if (this.carry.length) this.line(Buffer.concat(this.carry));
    this.flushBatch();
    if (this.started) this.out.push(COMMIT);
    this.drain();
    cb();
  }

  private line(line: Buffer): void {
    const isInsert = line[0] === 0x49 && line.length > INSERT.length + END.length && line.compare(INSERT, 0, INSERT.length, 0, INSERT.length) === 0 && line.compare(END, 0, END.length, line.length - END.length) === 0;
    const at = isInsert ? line.indexOf(VALUES, INSERT.length) : -1;
    if (at === -1) {
      this.flushBatch();
      this.out.push(line);
      return;
    }
    const split = at + VALUES.length - 1; // the "(" of the row
    const prefix = line.subarray(0, split);
    const row = line.subarray(split, line.length - 2); // "(…)" without ";\n"
    if (this.prefix && (this.rowsSize + row.length + 1 > this.maxStatement || !prefix.equals(this.prefix))) this.flushBatch();
    if (!this.prefix) this.prefix = prefix;
    else this.rows.push(COMMA);
    this.rows.push(row);
    this.rowsSize += row.length + 1;
  }

  private flushBatch(): void {
    if (!this.prefix) return;
    this.out.push(this.prefix, ...this.rows, SEMI);
    this.sinceCommit += this.prefix.length + this.rowsSize;
    this.prefix = undefined;
    this.rows = [];
    this.rowsSize = 0;
    if (this.sinceCommit >= this.commitEvery) {
      this.out.push(COMMIT);
      this.sinceCommit = 0;
    }
  }

  private drain(): void {
    if (this.out.length) this.push(Buffer.concat(this.out));
    this.out = [];
  }
}
