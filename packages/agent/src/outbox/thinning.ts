/**
 * Which status samples to drop when the outbox is over its size limit. Pure, so it can be tested
 * on its own. Each round deletes every other row of the oldest half (keeping the oldest of each
 * pair), so old history gets coarser rather than vanishing, and recent samples stay at full
 * resolution. Stops as soon as enough bytes are freed.
 */
export interface SizedRow {
  seq: number;
  bytes: number;
}

/** `rows`: status rows, oldest first. Returns the seqs to delete, ascending. */
export function chooseThinning(rows: readonly SizedRow[], bytesToFree: number): number[] {
  const dropped: number[] = [];
  let freed = 0;
  let remaining = rows.slice();
  while (freed < bytesToFree && remaining.length > 0) {
    const half = Math.ceil(remaining.length / 2);
    if (half < 2) {
      // One or two rows left: no pair to thin, drop the oldest.
      const row = remaining.shift()!;
      dropped.push(row.seq);
      freed += row.bytes;
      continue;
    }
    const kept: SizedRow[] = [];
    for (let i = 0; i < half; i++) {
      const row = remaining[i]!;
      if (i % 2 === 1 && freed < bytesToFree) {
        dropped.push(row.seq);
        freed += row.bytes;
      } else kept.push(row);
    }
    remaining = kept.concat(remaining.slice(half));
  }
  return dropped.sort((a, b) => a - b);
}
