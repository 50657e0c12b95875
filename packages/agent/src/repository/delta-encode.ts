/**
 * Forward-only delta encoder: reads the base's and the new version's token streams side by side,
 * each through a bounded lookahead window, and emits C/S/I/E operations (delta-format.ts).
 *
 * Where they differ, it looks for the nearest new token (fewest inserted) that reappears ahead in
 * the base window, confirmed by the tokens after it, and skips the base up to there. This covers a
 * dump's updated rows (S 1, I 1), appended rows (I n) and deleted rows (S n) at the cost of what
 * changed. Only the decoder's behaviour is the format; these heuristics may change freely.
 *
 * From bytes (encodeDeltaBytes), where both versions run equal it compares raw bytes and only
 * counts the tokens it copies: a dump of millions of lines, most of them unchanged, then costs a
 * memcmp and a newline scan instead of a Buffer object per line on each side.
 */
import type { Tokenizer } from '../sources/source.js';
import { OpWriter } from './delta-format.js';
import { ByteReader } from './byte-reader.js';
import { countCuts, createCutter, type Cutter } from './tokenizers.js';

export interface DeltaEncoderOptions {
  /** Base tokens held for lookups ahead (and their bytes); bounds memory and the longest deletion seen whole. */
  baseWindowTokens?: number;
  baseWindowBytes?: number;
  /** New tokens held for lookups ahead. */
  newWindowTokens?: number;
  newWindowBytes?: number;
}

const CONFIRM = 4; // tokens that must agree after a resync point (a lone "--" line is no anchor)
const MAX_CANDIDATES = 64; // base positions tried per token (long runs of identical pages)
const OUT_PIECE = 64 * 1024;
const NEAR = 8; // tokens tried on each side before the index

const SMALL = 64; // tokens pulled per side while the versions agree (enough for the near search)
const RAW_BACK_BYTES = 1024 * 1024; // most window bytes put back to return to byte comparison

export async function* encodeDelta(base: AsyncIterable<Buffer[]>, next: AsyncIterable<Buffer[]>, opts: DeltaEncoderOptions = {}): AsyncGenerator<Buffer> {
  yield* encode(new TokenSide(base), new TokenSide(next), null, opts);
}

/** The same op stream as encodeDelta over both versions cut with `kind`, from their bytes. */
export async function* encodeDeltaBytes(kind: Tokenizer, base: AsyncIterable<Buffer>, next: AsyncIterable<Buffer>, opts: DeltaEncoderOptions = {}): AsyncGenerator<Buffer> {
  yield* encode(new ByteSide(kind, base), new ByteSide(kind, next), kind, opts);
}

interface Side {
  /** The next batch of tokens; null at the end. */
  pull(): Promise<Buffer[] | null>;
  close(): Promise<void>;
}

class TokenSide implements Side {
  private readonly it: AsyncIterator<Buffer[]>;
  constructor(src: AsyncIterable<Buffer[]>) {
    this.it = src[Symbol.asyncIterator]();
  }
  async pull(): Promise<Buffer[] | null> {
    const r = await this.it.next();
    return r.done ? null : r.value;
  }
  async close(): Promise<void> {
    await this.it.return?.(undefined);
  }
}

const SLICE = 16 * 1024; // cut around a difference: a few rows on each side, not a whole chunk of the dump

/** Bytes not yet cut in front of a cutter; tokens can be put back as bytes. */
class ByteSide extends ByteReader implements Side {
  /** The cutter was ended: every byte has left as tokens. */
  finished = false;
  private cutter: Cutter;
  constructor(
    private readonly kind: Tokenizer,
    src: AsyncIterable<Buffer>,
  ) {
    super(src);
    this.cutter = createCutter(kind);
  }

  async pull(): Promise<Buffer[] | null> {
    while (!this.finished) {
      if (this.raw.length) {
        const piece = this.raw.subarray(0, SLICE);
        this.raw = this.raw.subarray(piece.length);
        const tokens = this.cutter.push(piece);
        if (tokens.length) return tokens;
      } else if (!(await this.more())) {
        this.finished = true;
        const tokens = this.cutter.end();
        return tokens.length ? tokens : null;
      }
    }
    return null;
  }

  /** Puts `tokens` (the window's rest) and the cutter's partial token back in front of `raw`. */
  unpull(tokens: Buffer[]): void {
    const partial = this.cutter.end();
    this.cutter = createCutter(this.kind);
    this.unread([...tokens, ...partial]);
  }
}

/** Length of the common prefix of a and b within their first `lim` bytes. */
function commonPrefix(a: Buffer, b: Buffer, lim: number): number {
  let from = 0;
  for (let block = 1 << 20; block >= 64; block >>= 4) {
    while (from < lim) {
      const end = Math.min(from + block, lim);
      if (a.compare(b, from, end, from, end) !== 0) break;
      from = end;
    }
    if (from >= lim) return lim;
  }
  while (from < lim && a[from] === b[from]) from++;
  return from;
}

/**
 * Both sides at a common token boundary with nothing cut yet: copies the tokens their bytes share.
 * Returns how many; stops before the first token that differs, or when one side ends.
 */
async function rawRun(kind: Tokenizer, b: ByteSide, n: ByteSide): Promise<number> {
  let total = 0;
  for (;;) {
    // The new version first: a dump tool's output is what must not wait (a bare child stdout nobody reads is flushed away at exit).
    if (!n.raw.length && !(await n.more())) return total;
    if (!b.raw.length && !(await b.more())) return total;
    const lim = Math.min(b.raw.length, n.raw.length);
    const same = commonPrefix(b.raw, n.raw, lim);
    // Cuts decided by the shared bytes alone are cuts of both sides.
    const { count, end } = countCuts(kind, n.raw, same);
    if (count) {
      total += count;
      b.raw = b.raw.subarray(end);
      n.raw = n.raw.subarray(end);
    }
    if (same < lim) return total;
    // Equal as far as the shorter goes: what is left of it is part of one token; read on.
    if (!(await (b.raw.length <= n.raw.length ? b : n).more())) return total;
  }
}

async function* encode(baseSide: Side, newSide: Side, kind: Tokenizer | null, opts: DeltaEncoderOptions): AsyncGenerator<Buffer> {
  const BW_T = opts.baseWindowTokens ?? 1 << 16;
  const BW_B = opts.baseWindowBytes ?? 32 * 1024 * 1024;
  const NW_T = opts.newWindowTokens ?? 4096;
  const NW_B = opts.newWindowBytes ?? 8 * 1024 * 1024;
  const raw = kind !== null && baseSide instanceof ByteSide && newSide instanceof ByteSide ? { kind, b: baseSide, n: newSide } : null;

  // Base window: arrays from bHead; absolute position of bTok[bHead] is bPos.
  let bTok: Buffer[] = [];
  let bHash: number[] = [];
  let bNext: number[] = [];
  let bHead = 0;
  let bPos = 0;
  let bBytes = 0;
  let bEnded = false;
  // Hash index over base positions [bPos, idxTo): first and last position of each hash, chained by bNext.
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  let idxTo = 0;
  // New window.
  let nTok: Buffer[] = [];
  let nHash: Array<number | undefined> = [];
  let nHead = 0;
  let nBytes = 0;
  let nEnded = false;
  // Both sides stand at the same point of agreement with empty windows: compare bytes.
  let rawReady = raw !== null;

  const bLen = () => bTok.length - bHead;
  const nLen = () => nTok.length - nHead;
  const at = (p: number) => p - bPos + bHead;

  /** Fills the windows up to the given sizes (the full ones before a search, a few tokens while in step). */
  async function fill(nt: number, nb: number, bt: number, bb: number): Promise<void> {
    while (!nEnded && nLen() < nt && nBytes < nb) {
      const r = await newSide.pull();
      if (r === null) nEnded = true;
      else for (const t of r) (nTok.push(t), nHash.push(undefined), (nBytes += t.length));
    }
    while (!bEnded && bLen() < bt && bBytes < bb) {
      const r = await baseSide.pull();
      if (r === null) bEnded = true;
      else for (const t of r) (bTok.push(t), bHash.push(0), bNext.push(-1), (bBytes += t.length));
    }
  }
  const fillFull = () => fill(NW_T, NW_B, BW_T, BW_B);

  /** Puts both windows back as bytes, to compare bytes again (they stand in step, and hold little). */
  function backToRaw(): void {
    raw!.b.unpull(bTok.slice(bHead));
    raw!.n.unpull(nTok.slice(nHead));
    bTok = [];
    bHash = [];
    bNext = [];
    bHead = 0;
    bBytes = 0;
    first.clear();
    last.clear();
    idxTo = bPos;
    nTok = [];
    nHash = [];
    nHead = 0;
    nBytes = 0;
    rawReady = true;
  }

  function advanceBase(k: number): void {
    for (let p = bPos; p < bPos + k; p++) {
      const i = at(p);
      bBytes -= bTok[i]!.length;
      if (p < idxTo) {
        const h = bHash[i]!;
        const nx = bNext[i]!;
        if (nx === -1) (first.delete(h), last.delete(h));
        else first.set(h, nx);
      }
    }
    bHead += k;
    bPos += k;
    if (idxTo < bPos) idxTo = bPos;
    if (bHead > 32768 && bHead * 2 > bTok.length) {
      bTok = bTok.slice(bHead);
      bHash = bHash.slice(bHead);
      bNext = bNext.slice(bHead);
      bHead = 0;
    }
  }

  function consumeNew(k: number): void {
    for (let j = 0; j < k; j++) nBytes -= nTok[nHead + j]!.length;
    nHead += k;
    if (nHead > 4096 && nHead * 2 > nTok.length) {
      nTok = nTok.slice(nHead);
      nHash = nHash.slice(nHead);
      nHead = 0;
    }
  }

  function indexBase(): void {
    const end = bPos + bLen();
    for (let p = idxTo; p < end; p++) {
      const i = at(p);
      const h = tokenHash(bTok[i]!);
      bHash[i] = h;
      bNext[i] = -1;
      const t = last.get(h);
      if (t === undefined) first.set(h, p);
      else bNext[at(t)] = p;
      last.set(h, p);
    }
    idxTo = end;
  }

  /** Tokens new[j..] and base[p..] agree for CONFIRM tokens, or up to the end of what is visible. */
  function agrees(j: number, p: number): boolean {
    for (let k = 0; k < CONFIRM; k++) {
      if (j + k >= nLen() || p + k >= bPos + bLen()) return k > 0;
      if (!nTok[nHead + j + k]!.equals(bTok[at(p + k)]!)) return false;
    }
    return true;
  }

  /** Most differences are an updated row or a few rows in or out: close pairs first. */
  function searchNear(): { j: number; p: number } | null {
    const nearN = Math.min(NEAR, nLen());
    const nearB = Math.min(NEAR, bLen());
    for (let d = 1; d < nearN + nearB; d++) {
      for (let j = Math.max(0, d - nearB + 1); j <= Math.min(d, nearN - 1); j++) {
        if (agrees(j, bPos + d - j)) return { j, p: bPos + d - j };
      }
    }
    return null;
  }

  /** Through the index over the whole base window (which costs time and garbage). */
  function searchIndexed(): { j: number; p: number } | null {
    indexBase();
    for (let j = 0; j < nLen(); j++) {
      let h = nHash[nHead + j];
      if (h === undefined) h = nHash[nHead + j] = tokenHash(nTok[nHead + j]!);
      let p = first.get(h);
      for (let c = 0; p !== undefined && p !== -1 && c < MAX_CANDIDATES; c++) {
        if (agrees(j, p)) return { j, p };
        p = bNext[at(p)];
      }
    }
    return null;
  }

  const w = new OpWriter();
  let unmatched = 0;
  try {
    for (;;) {
      if (rawReady) {
        const k = await rawRun(raw!.kind, raw!.b, raw!.n);
        w.copy(k);
        bPos += k;
        idxTo = bPos;
        rawReady = false;
      }
      await fill(Math.min(SMALL, NW_T), NW_B, Math.min(SMALL, BW_T), BW_B);
      if (w.pendingBytes >= OUT_PIECE) yield Buffer.concat(w.take());
      const n = nLen();
      if (n === 0) break;
      if (bLen() === 0) {
        for (let j = 0; j < n; j++) w.insert(nTok[nHead + j]!);
        consumeNew(n);
        continue;
      }
      let run = 0;
      const max = Math.min(n, bLen());
      while (run < max && nTok[nHead + run]!.equals(bTok[bHead + run]!)) run++;
      if (run > 0) {
        w.copy(run);
        advanceBase(run);
        consumeNew(run);
        unmatched = 0;
        // In step again, with little in the windows: back to comparing bytes.
        if (raw && run === max && !raw.b.finished && !raw.n.finished && bBytes + nBytes <= RAW_BACK_BYTES) backToRaw();
        continue;
      }
      let m = searchNear();
      if (!m) {
        await fillFull();
        m = searchNear() ?? searchIndexed();
      }
      if (m) {
        w.skip(m.p - bPos);
        advanceBase(m.p - bPos);
        for (let j = 0; j < m.j; j++) w.insert(nTok[nHead + j]!);
        consumeNew(m.j);
        unmatched = 0;
        continue;
      }
      // Nothing in the new window appears ahead in the base: it is all new.
      const all = nLen();
      for (let j = 0; j < all; j++) w.insert(nTok[nHead + j]!);
      consumeNew(all);
      unmatched += all;
      // Long unmatched: probably a deletion longer than the base window; jump the base ahead.
      if (unmatched >= 4 * BW_T && !bEnded) {
        w.skip(bLen());
        advanceBase(bLen());
        unmatched = 0;
      }
    }
    w.end();
    yield Buffer.concat(w.take());
  } finally {
    await baseSide.close();
  }
}

/** FNV-1a over the first and last 256 bytes and the length: equality is always checked on the bytes. */
function tokenHash(t: Buffer): number {
  let h = 0x811c9dc5 ^ t.length;
  const n = t.length;
  const head = Math.min(n, 256);
  for (let i = 0; i < head; i++) h = Math.imul(h ^ t[i]!, 0x01000193);
  for (let i = Math.max(head, n - 256); i < n; i++) h = Math.imul(h ^ t[i]!, 0x01000193);
  return h >>> 0;
}
