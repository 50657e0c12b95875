/**
 * A pass-through stage that shows each line's beginning to a callback: how row counts are taken from
 * a dump while it streams by, without a second query and without holding more than one line head.
 */
import { Transform } from 'node:stream';

/** Bytes of a line's beginning the callback sees (enough for a COPY or INSERT header). */
const HEAD = 4096;

export class LineHeads extends Transform {
  private carry: Buffer[] = [];
  private carrySize = 0;

  /** `onLine` gets the line without its newline, cut to `HEAD` bytes; `whole` is false when it was cut. */
  constructor(private readonly onLine: (head: Buffer, whole: boolean) => void) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null, data?: Buffer) => void): void {
    let start = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      if (this.carrySize > 0) {
        this.keep(chunk.subarray(start, nl));
        this.emitCarry();
      } else {
        this.onLine(chunk.subarray(start, Math.min(nl, start + HEAD)), nl - start <= HEAD);
      }
      start = nl + 1;
    }
    if (start < chunk.length) this.keep(chunk.subarray(start));
    cb(null, chunk);
  }

  override _flush(cb: (err?: Error | null) => void): void {
    if (this.carrySize > 0) this.emitCarry();
    cb();
  }

  private keep(part: Buffer): void {
    // Only the head matters; a line's tail beyond HEAD is counted but not kept.
    const room = HEAD - Math.min(this.carrySize, HEAD);
    if (room > 0) this.carry.push(Buffer.from(part.subarray(0, room)));
    this.carrySize += part.length;
  }

  private emitCarry(): void {
    const head = Buffer.concat(this.carry);
    this.onLine(head.subarray(0, HEAD), this.carrySize <= HEAD);
    this.carry = [];
    this.carrySize = 0;
  }
}

const INSERT = Buffer.from('INSERT INTO `');
const CREATE = Buffer.from('CREATE TABLE `');

function startsWith(buf: Buffer, prefix: Buffer): boolean {
  return buf.length >= prefix.length && buf.compare(prefix, 0, prefix.length, 0, prefix.length) === 0;
}

function backtickName(head: Buffer, from: number): string | undefined {
  const text = head.toString('utf8', from);
  // `` is an escaped backtick inside the name.
  const m = /^((?:[^`]|``)*)`/.exec(text);
  return m ? m[1]!.replace(/``/g, '`') : undefined;
}

/**
 * Counts rows in a mariadb-dump stream written with --skip-extended-insert (one INSERT per row).
 * Tables also appear with 0 when the dump creates them but holds no row.
 */
export function mariadbRowCounter(): { stage: LineHeads; tables: Record<string, number> } {
  const tables: Record<string, number> = {};
  const stage = new LineHeads((head) => {
    if (head[0] === 0x49 /* I */ && startsWith(head, INSERT)) {
      const name = backtickName(head, INSERT.length);
      if (name !== undefined) tables[name] = (tables[name] ?? 0) + 1;
    } else if (head[0] === 0x43 /* C */ && startsWith(head, CREATE)) {
      const name = backtickName(head, CREATE.length);
      if (name !== undefined) tables[name] ??= 0;
    }
  });
  return { stage, tables };
}

/**
 * The table a plain-format pg_dump COPY line loads, as a name `SELECT count(*) FROM <name>` accepts:
 * the schema is dropped when it is `public`, identifiers stay quoted as pg_dump wrote them.
 */
export function copyTableName(line: string): string | undefined {
  const m = /^COPY (.+?) (?:\(.*\) )?FROM stdin;$/.exec(line);
  if (!m) return undefined;
  return m[1]!.startsWith('public.') ? m[1]!.slice('public.'.length) : m[1]!;
}

/** Counts the data lines of each COPY … FROM stdin; block of a plain pg_dump. */
export function postgresRowCounter(): { stage: LineHeads; tables: Record<string, number> } {
  const tables: Record<string, number> = {};
  let current: string | undefined;
  const stage = new LineHeads((head, whole) => {
    if (current !== undefined) {
      if (head.length === 2 && head[0] === 0x5c && head[1] === 0x2e) current = undefined; // "\."
      else tables[current]! += 1;
    } else if (head[0] === 0x43 /* C */ && head.toString('latin1', 0, 5) === 'COPY ') {
      // A very long column list cuts the line's head: its name is still at the start.
      current = whole ? copyTableName(head.toString('utf8')) : copyTableName(`${/^COPY \S+/.exec(head.toString('utf8'))?.[0]} FROM stdin;`);
      if (current !== undefined) tables[current] ??= 0;
    }
  });
  return { stage, tables };
}
