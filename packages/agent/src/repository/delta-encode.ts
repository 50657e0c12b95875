/**
 * Forward-only delta encoder: reads the base's and the new version's token streams side by side,
 * each through a bounded lookahead window, and emits C/S/I/E operations (delta-format.ts).
 *
 * Where they differ, it looks for the nearest new token (fewest inserted) that reappears ahead in
 * the base window, confirmed by the tokens after it, and skips the base up to there. This covers a
 * dump's updated rows (S 1, I 1), appended rows (I n) and deleted rows (S n) at the cost of what
 * changed. Only the decoder's behaviour is the format; these heuristics may change freely.
 */
import { OpWriter } from './delta-format.js';

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

export async function* encodeDelta(base: AsyncIterable<Buffer[]>, next: AsyncIterable<Buffer[]>, opts: DeltaEncoderOptions = {}): AsyncGenerator<Buffer> {
  const BW_T = opts.baseWindowTokens ?? 1 << 16;
  const BW_B = opts.baseWindowBytes ?? 32 * 1024 * 1024;
  const NW_T = opts.newWindowTokens ?? 4096;
  const NW_B = opts.newWindowBytes ?? 8 * 1024 * 1024;
  const baseIt = base[Symbol.asyncIterator]();
  const newIt = next[Symbol.asyncIterator]();

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

  const bLen = () => bTok.length - bHead;
  const nLen = () => nTok.length - nHead;
  const at = (p: number) => p - bPos + bHead;

  async function fill(): Promise<void> {
    while (!nEnded && nLen() < NW_T && nBytes < NW_B) {
      const r = await newIt.next();
      if (r.done) nEnded = true;
      else for (const t of r.value) (nTok.push(t), nHash.push(undefined), (nBytes += t.length));
    }
    while (!bEnded && bLen() < BW_T && bBytes < BW_B) {
      const r = await baseIt.next();
      if (r.done) bEnded = true;
      else for (const t of r.value) (bTok.push(t), bHash.push(0), bNext.push(-1), (bBytes += t.length));
    }
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

  function search(): { j: number; p: number } | null {
    // Most differences are an updated row or a few rows in or out: try close pairs before building
    // the index over the whole base window (which costs time and garbage).
    const nearN = Math.min(NEAR, nLen());
    const nearB = Math.min(NEAR, bLen());
    for (let d = 1; d < nearN + nearB; d++) {
      for (let j = Math.max(0, d - nearB + 1); j <= Math.min(d, nearN - 1); j++) {
        if (agrees(j, bPos + d - j)) return { j, p: bPos + d - j };
      }
    }
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
  for (;;) {
    await fill();
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
      continue;
    }
    const m = search();
    if (m) {
      w.skip(m.p - bPos);
      advanceBase(m.p - bPos);
      for (let j = 0; j < m.j; j++) w.insert(nTok[nHead + j]!);
      consumeNew(m.j);
      unmatched = 0;
      continue;
    }
    // Nothing in the new window appears ahead in the base: it is all new.
    for (let j = 0; j < n; j++) w.insert(nTok[nHead + j]!);
    consumeNew(n);
    unmatched += n;
    // Long unmatched: probably a deletion longer than the base window; jump the base ahead.
    if (unmatched >= 4 * BW_T && !bEnded) {
      w.skip(bLen());
      advanceBase(bLen());
      unmatched = 0;
    }
  }
  w.end();
  yield Buffer.concat(w.take());
  await baseIt.return?.(undefined);
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
