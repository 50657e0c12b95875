/**
 * Format-2 delta encoder: byte operations against the previous version (byte-delta-format.ts),
 * found the way rsync, xdelta and zstd's long-distance matcher find them, forward only so that
 * backup and restore both stream.
 *
 * While the two versions agree it compares their bytes (memcmp) and copies. Where they differ it
 * hashes the new version from there with a rolling gear hash and, at content-defined anchors (one
 * position in 64 on average, decided by the last 32 bytes alone, so the same content gives the same
 * anchors in both versions), looks the hash up in an index of the base's anchors over a bounded
 * window ahead of the base cursor. A candidate is checked on the bytes and extended backward (down to
 * where the difference began) and forward; a far jump needs a longer match. What lies before the
 * match in the new version is inserted; what lies before it in the base is skipped.
 *
 * Memory is bounded whatever the dump size: the base window (16 MiB by default, plus the 2 MiB
 * history behind the cursor), the index of its anchors (at most 12 MiB, touched only where used),
 * and up to 4 MiB of the new version. The tokenizer plays no part: a dump's shape (rows per line, pages, archives) does not
 * matter. Only the decoder is the format.
 */
import { ByteOpWriter, MAX_LITERAL } from './byte-delta-format.js';
import { anchorHash, HASHED, isRun, nextAnchor } from './gear-anchors.js';

export interface ByteDeltaOptions {
  /** Base bytes ahead of the cursor searched for where the versions agree again: bounds memory and the longest deletion found. */
  window?: number;
  /** Base bytes behind the cursor that content may be copied back from (`P`); 0: forward only. */
  history?: number;
  /** Filled in as the delta is written: the farthest back a `P` reached (the manifest's `reach`). */
  used?: { reach: number };
}

const WAYS = 4; // base positions kept per index bucket
const OUT_PIECE = 64 * 1024;
const NEW_CAPACITY = 4 * 1024 * 1024;
const LOOKAHEAD = 64 * 1024; // new bytes held beyond the scan, so that a candidate is judged on enough bytes
const KEEP_BACK = 64 * 1024; // new bytes kept before the scan when a long insert is flushed (for backward extension)
const RECHECK = 16; // positions skipped after a failed lookup (runs of one byte anchor everywhere)
const SUBSTITUTION_SPAN = 128; // bytes scanned in place for a same-length change before a search
/**
 * Base bytes indexed around the cursor when a search starts; the span doubles with every
 * INDEX_DOUBLING new bytes hashed, so that ~3 KiB into a search it covers the whole window.
 */
const INDEX_START = 4096;
const INDEX_DOUBLING = 256;
/**
 * A match shorter than SURE found near the cursor is taken only once the whole window around it is
 * indexed: it may be a few bytes in common (archive headers, one row's prefix) with the real
 * continuation far away (mongodump's interleaved collections: 256 KiB around gave 195 KB on the
 * quick archive, the whole window 137 KB, at the same time).
 */
const SURE = 256;
const SURE_SPAN = Number.MAX_SAFE_INTEGER;
/** Base bytes read beyond what a search has indexed (forward extension, the next widening). */
const AHEAD_MARGIN = 1024 * 1024;
const indexSpan = (searched: number) => INDEX_START * 2 ** Math.min(20, Math.floor(searched / INDEX_DOUBLING));

/** A bounded window over a byte stream, addressed by absolute offsets. */
class Window {
  readonly buf: Buffer;
  /** buf's memory as 32-bit words (nextAnchor). */
  readonly words: Int32Array;
  /** Absolute offset of buf[0]. */
  start = 0;
  len = 0;
  private pending: Buffer | null = null;
  private drop = 0;
  private done = false;
  private readonly it: AsyncIterator<Buffer | Uint8Array | string>;

  constructor(src: AsyncIterable<Buffer | Uint8Array | string>, capacity: number) {
    this.it = src[Symbol.asyncIterator]();
    this.buf = Buffer.allocUnsafeSlow(capacity); // its own memory: starts on a word boundary
    this.words = new Int32Array(this.buf.buffer, this.buf.byteOffset, capacity >> 2);
  }

  get end(): number {
    return this.start + this.len;
  }
  /** Bytes up to `abs` are held, or the stream has no more: fill(abs) would wait for nothing (most calls; an await each costs more than a small change's whole work). */
  has(abs: number): boolean {
    return this.end >= abs || (this.done && this.pending === null);
  }
  /** No byte at or after `abs` will ever come. */
  exhausted(abs: number): boolean {
    return this.done && this.pending === null && abs >= this.end;
  }

  /** Reads until `abs` bytes are held, the buffer is full, or the stream ends; bytes before `keepFrom` may go. */
  async fill(abs: number, keepFrom: number): Promise<void> {
    if (keepFrom > this.end) {
      this.drop += keepFrom - this.end;
      this.start = keepFrom;
      this.len = 0;
    }
    while (this.end < abs) {
      let chunk = this.pending;
      this.pending = null;
      if (!chunk) {
        if (this.done) return;
        const r = await this.it.next();
        if (r.done) {
          this.done = true;
          return;
        }
        const v = r.value;
        chunk = typeof v === 'string' ? Buffer.from(v) : Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.length);
      }
      if (this.drop) {
        const d = Math.min(this.drop, chunk.length);
        this.drop -= d;
        chunk = chunk.subarray(d);
        if (!chunk.length) continue;
      }
      let room = this.buf.length - this.len;
      const dead = keepFrom - this.start;
      // Slide only once a quarter is dead: sliding a full window to free a little moves all it holds.
      // (The base's window then stops short of its target; the new version's always has a quarter dead.)
      if (room < chunk.length && dead > 0 && dead >= this.buf.length >> 2) {
        this.buf.copyWithin(0, dead, this.len);
        this.start += dead;
        this.len -= dead;
        room = this.buf.length - this.len;
      }
      const n = Math.min(room, chunk.length);
      chunk.copy(this.buf, this.len, 0, n);
      this.len += n;
      if (n < chunk.length) {
        this.pending = chunk.subarray(n);
        if (this.len === this.buf.length) return;
      }
    }
  }

  byte(abs: number): number {
    return this.buf[abs - this.start]!;
  }
  view(from: number, to: number): Buffer {
    return this.buf.subarray(from - this.start, to - this.start);
  }
  async close(): Promise<void> {
    await this.it.return?.(undefined);
  }
}

/** Anchor hash → base positions (absolute offsets just past the hashed bytes); WAYS per bucket, stale ones reused. */
class AnchorIndex {
  private readonly keys: Uint32Array;
  private readonly pos: Float64Array;
  private readonly shift: number;

  constructor(anchors: number) {
    let bits = 10;
    while ((1 << bits) * WAYS < anchors * 2) bits++;
    this.shift = 32 - bits;
    // Zeroed, not filled: 0 is an empty slot (a position is at least HASHED), and a bucket's pages
    // are touched only when used (a fresh page costs ~25 µs on the benchmark's VM: 3,000 of them for
    // a change or two).
    this.keys = new Uint32Array((1 << bits) * WAYS);
    this.pos = new Float64Array((1 << bits) * WAYS);
  }

  private bucket(h: number): number {
    return (Math.imul(h, 0x9e3779b1) >>> this.shift) * WAYS;
  }

  /** Adds an anchor; positions below `floor` (beyond the history behind the cursor) are free slots. Full buckets keep their nearer entries. */
  add(h: number, p: number, floor: number): void {
    const b = this.bucket(h);
    for (let s = b; s < b + WAYS; s++) {
      const q = this.pos[s]!;
      if (q === p && this.keys[s] === h) return;
      if (q < floor || q === 0) {
        this.keys[s] = h;
        this.pos[s] = p;
        return;
      }
    }
  }

  /** Positions at or after `floor` recorded for `h`, in ascending order. */
  lookup(h: number, floor: number, out: number[]): void {
    out.length = 0;
    const b = this.bucket(h);
    for (let s = b; s < b + WAYS; s++) if (this.keys[s] === h && this.pos[s]! >= floor) out.push(this.pos[s]!);
    if (out.length > 1) out.sort((x, y) => x - y);
  }
}

/** Length of the common prefix of a[ai…] and b[bi…] (both at least `lim` long). */
function commonPrefix(a: Buffer, ai: number, b: Buffer, bi: number, lim: number): number {
  let from = 0;
  for (let block = 1 << 20; block >= 64; block >>= 4) {
    while (from < lim) {
      const end = Math.min(from + block, lim);
      if (a.compare(b, bi + from, bi + end, ai + from, ai + end) !== 0) break;
      from = end;
    }
    if (from >= lim) return lim;
  }
  while (from < lim && a[ai + from] === b[bi + from]) from++;
  return from;
}

/** Length of the common suffix of a[0..lim) and b[0..lim) (the backward extension of a match). */
function commonSuffix(a: Buffer, b: Buffer, lim: number): number {
  let n = 0;
  for (let block = 64; n < lim; block = Math.min(block * 4, 1 << 20)) {
    const k = Math.min(block, lim - n);
    if (a.compare(b, lim - n - k, lim - n, lim - n - k, lim - n) !== 0) break;
    n += k;
  }
  while (n < lim && a[lim - 1 - n] === b[lim - 1 - n]) n++;
  return n;
}

/**
 * Bytes a match must span to be taken, by how far ahead in the base it jumps (0 for a copy back,
 * which moves nothing). A jump moves the cursor away from where the versions were aligned, and
 * what it skips soon leaves the history, so a far one must be a deletion (what follows goes on
 * matching), not a few bytes in common with another place (tar headers, padding around a
 * difference): those are cheaper inserted.
 */
function needed(jump: number): number {
  return jump < 4096 ? 32 : jump < 256 * 1024 ? 128 : Math.min(jump >> 3, 48 * 1024);
}

export async function* encodeByteDelta(base: AsyncIterable<Buffer>, next: AsyncIterable<Buffer>, opts: ByteDeltaOptions = {}): AsyncGenerator<Buffer> {
  const W = opts.window ?? 16 * 1024 * 1024;
  const H = opts.history ?? 0;
  const used = opts.used ?? { reach: 0 };
  const B = new Window(base, W + H + 1024 * 1024);
  const N = new Window(next, NEW_CAPACITY);
  const index = new AnchorIndex((W + H) >> 6);
  const w = new ByteOpWriter();
  let bCur = 0; // base bytes consumed (copied or skipped)
  let nEmit = 0; // new bytes emitted (copied or inserted)
  // The base's anchors are indexed over [idxLo, idxHi) (positions of the hashed bytes' last byte): near the cursor only, widened as a search goes on.
  let idxLo = 0;
  let idxHi = 0;
  /** How far around the cursor this search has indexed the base. */
  let span = 0;
  function widen(to: number): void {
    span = to;
    indexAround(to);
  }
  let unmatched = 0; // bytes inserted since the last match
  const candidates: number[] = [];
  /** The oldest base byte still reachable (copied back with `P`). */
  const floor = () => Math.max(0, bCur - H);

  /** Adds the anchors whose hashed bytes end in base[from, to). */
  function hashBase(from: number, to: number): void {
    const buf = B.buf;
    const off = B.start;
    const fl = floor();
    let h = 0;
    let r = Math.max(B.start, from - HASHED + 1) - off;
    const first = r + HASHED - 1;
    const end = to - off;
    while (r < end) {
      r = nextAnchor(buf, B.words, r, end, h);
      h = anchorHash();
      if (r >= end) break;
      if (r >= first && !isRun(buf, r)) index.add(h, r + off + 1, fl);
      r++;
    }
  }

  /**
   * Indexes the base from `span` bytes behind the cursor (at most the history) to `span` ahead (at
   * most the window). A search starts near the cursor and widens with the new bytes it hashed, so
   * that a small change costs a little hashing on both sides, not the whole base: a far match is
   * found later than with the whole window indexed, but extended back to where the difference began.
   */
  function indexAround(span: number): void {
    const lo = Math.max(bCur - Math.min(H, span), floor(), B.start);
    const hi = Math.min(bCur + Math.min(W, span), B.end);
    if (lo >= hi) return;
    if (idxLo >= idxHi || lo > idxHi || hi < idxLo) {
      hashBase(lo, hi);
      idxLo = lo;
      idxHi = hi;
      return;
    }
    if (lo < idxLo) (hashBase(lo, idxLo), (idxLo = lo));
    if (hi > idxHi) (hashBase(idxHi, hi), (idxHi = hi));
  }

  /**
   * A change that kept the length (a byte flipped, a page's counter, a value of the same width):
   * the versions agree again, in place, within a few bytes. Checked before any hashing, on the bytes.
   */
  function trySubstitution(): boolean {
    const lim = Math.min(B.end - bCur, N.end - nEmit, SUBSTITUTION_SPAN + HASHED);
    const bb = B.buf;
    const nb = N.buf;
    const bo = bCur - B.start;
    const no = nEmit - N.start;
    let run = 0;
    let last = -1;
    for (let i = 0; i < lim; i++) {
      if (bb[bo + i] !== nb[no + i]) {
        run = 0;
        last = i;
      } else if (++run >= HASHED && last >= 0 && !isRun(nb, no + i)) {
        const n = last + 1;
        w.skip(n);
        bCur += n;
        insertUpTo(nEmit + n);
        unmatched = 0;
        return true;
      }
    }
    return false;
  }

  /** Inserts new bytes up to `to`; after a long unmatched stretch the base moves on as much (a replaced region). */
  function insertUpTo(to: number): void {
    if (to <= nEmit) return;
    w.insert(N.view(nEmit, to)); // the writer copies: the window's bytes are overwritten as it moves
    unmatched += to - nEmit;
    if (unmatched > W >> 1) {
      const n = Math.min(to - nEmit, B.end - bCur); // never past the base's end
      w.skip(n);
      bCur += n;
    }
    nEmit = to;
  }

  /**
   * The new anchor ending at `j` with hash h: takes the candidate with the longest match (the
   * nearest ahead on a tie) if it is long enough; true when one was taken. A match that starts
   * behind the cursor is copied back (`P`) up to the cursor; one ahead skips up to its start.
   */
  function tryMatch(h: number, j: number, newEnd: number): boolean {
    const low = Math.max(floor(), B.start);
    let { best, bestLen, bestBack } = bestCandidate(h, j, newEnd, low);
    // A short match near the cursor may be a few bytes in common (archive headers, padding) with the
    // real continuation elsewhere: judged against every candidate of the window before it is taken.
    if (best >= 0 && bestLen < SURE && span < SURE_SPAN) {
      widen(SURE_SPAN);
      ({ best, bestLen, bestBack } = bestCandidate(h, j, newEnd, low));
    }
    if (best < 0) return false;
    const start = best - bestBack;
    unmatched = 0;
    if (start >= bCur) {
      w.skip(start - bCur);
      bCur = start;
      insertUpTo(j - bestBack);
    } else {
      insertUpTo(j - bestBack);
      const n = Math.min(bestLen, bCur - start);
      w.past(bCur - start, n);
      used.reach = Math.max(used.reach, bCur - start);
      nEmit += n;
    }
    unmatched = 0;
    return true;
  }

  /** The candidate for the new anchor ending at `j` with the longest match (the nearest ahead on a tie), if long enough. */
  function bestCandidate(h: number, j: number, newEnd: number, low: number): { best: number; bestLen: number; bestBack: number } {
    index.lookup(h, low + 1, candidates);
    let best = -1;
    let bestLen = 0;
    let bestBack = 0;
    for (const p of candidates) {
      const maxBack = Math.min(j - nEmit, p - low);
      const back = maxBack > 0 ? commonSuffix(N.view(j - maxBack, j), B.view(p - maxBack, p), maxBack) : 0;
      const fwdLim = Math.min(B.end - p, newEnd - j, LOOKAHEAD);
      const fwd = fwdLim > 0 ? commonPrefix(B.buf, p - B.start, N.buf, j - N.start, fwdLim) : 0;
      const start = p - back;
      const atEnd = j + fwd === newEnd && N.exhausted(newEnd);
      const len = back + fwd;
      if (len < (atEnd ? 16 : needed(Math.max(0, start - bCur)))) continue;
      // On a tie: ahead of the cursor (the nearest: candidates ascend) beats behind it (the nearest),
      // since a copy moves the cursor on and a copy back does not.
      const ahead = start >= bCur;
      const bestAhead = best >= 0 && best - bestBack >= bCur;
      if (len > bestLen || (len === bestLen && !bestAhead && (ahead || best >= 0))) {
        best = p;
        bestLen = len;
        bestBack = back;
      }
    }
    return { best, bestLen, bestBack };
  }

  /**
   * From a difference at (bCur, nEmit): hashes the new version until an anchor matches in the
   * base, or it ends. Yields the ops of a long insert as they come: new content (a table added,
   * rows appended) costs no more memory than the rest, whatever its size.
   */
  /** Base bytes held ahead of the cursor for an index `s` far: only as many as the search needs, since every 16 MiB held costs a 16 MiB move each time the window slides. */
  const aheadFor = (s: number) => bCur + Math.min(W, Math.max(s, SURE_SPAN) + AHEAD_MARGIN);

  async function* search(): AsyncGenerator<Buffer> {
    if (!B.has(aheadFor(indexSpan(0)))) await B.fill(aheadFor(indexSpan(0)), floor());
    if (B.exhausted(bCur) && !H) {
      // Nothing left to match: the rest of the new version is inserted as it comes.
      for (;;) {
        insertUpTo(N.end);
        if (w.pendingBytes >= OUT_PIECE) yield w.take();
        await N.fill(nEmit + MAX_LITERAL, nEmit);
        if (N.exhausted(nEmit)) return;
      }
    }
    widen(indexSpan(0));
    let j = nEmit;
    let h = 0;
    const validFrom = j + HASHED - 1; // the first byte whose hash covers 32 new bytes
    let nextCheck = 0;
    let widenAt = j + INDEX_DOUBLING;
    for (;;) {
      if (!N.has(j + 2 * LOOKAHEAD)) await N.fill(j + 2 * LOOKAHEAD, nEmit);
      const last = N.exhausted(N.end);
      const newEnd = N.end;
      const scanEnd = last ? newEnd : newEnd - LOOKAHEAD;
      const buf = N.buf;
      const off = N.start;
      while (j < scanEnd) {
        const r = nextAnchor(buf, N.words, j - off, scanEnd - off, h);
        h = anchorHash();
        j = r + off;
        if (j >= scanEnd) break;
        // An anchor at j.
        if (j >= widenAt) {
          const to = Math.max(span, indexSpan(j - nEmit));
          if (!B.has(aheadFor(to))) await B.fill(aheadFor(to), floor());
          widen(to);
          widenAt = j + INDEX_DOUBLING;
        }
        if (j >= validFrom && j + 1 >= nextCheck && !isRun(buf, r)) {
          if (tryMatch(h, j + 1, newEnd)) return;
          nextCheck = j + 1 + RECHECK;
        }
        j++;
      }
      if (last) {
        insertUpTo(newEnd);
        return;
      }
      // A long stretch with nothing in common: insert most of it, keep a little for a backward extension.
      if (j - nEmit > MAX_LITERAL) {
        const before = bCur;
        insertUpTo(j - KEEP_BACK);
        yield w.take();
        if (bCur !== before) {
          // The base moved on: index what it reached.
          const to = Math.max(span, indexSpan(j - nEmit));
          await B.fill(aheadFor(to), floor());
          widen(to);
        }
      }
    }
  }

  try {
    for (;;) {
      if (w.pendingBytes >= OUT_PIECE) yield w.take();
      // The new version first: a dump tool's output is what must not wait.
      if (!N.has(nEmit + 1)) await N.fill(nEmit + 1, nEmit);
      if (N.exhausted(nEmit)) break;
      if (!B.has(bCur + 1)) await B.fill(bCur + 1, floor());
      if (B.end > bCur) {
        const lim = Math.min(B.end - bCur, N.end - nEmit);
        const same = commonPrefix(B.buf, bCur - B.start, N.buf, nEmit - N.start, lim);
        if (same > 0) {
          w.copy(same);
          bCur += same;
          nEmit += same;
          unmatched = 0;
          continue;
        }
      }
      const span = SUBSTITUTION_SPAN + HASHED;
      if (!B.has(bCur + span)) await B.fill(bCur + span, floor());
      if (!N.has(nEmit + span)) await N.fill(nEmit + span, nEmit);
      if (trySubstitution()) continue;
      yield* search();
    }
    w.end();
    yield w.take();
  } finally {
    await B.close();
    await N.close();
  }
}
