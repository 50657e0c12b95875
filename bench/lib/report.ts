/** What every benchmark returns, and how it is printed: a table for people, one JSON line with --json. */
export interface BenchResult {
  name: string;
  /** What was run: sizes, counts, settings. */
  setup: Record<string, string | number>;
  /** Our figures. */
  figures: Record<string, number>;
  /** The reference peer's figures, measured in the same run. */
  peer: { name: string; figures: Record<string, number> };
  /** ours / peer, for each figure both have (higher is better unless the name says otherwise). */
  ratios: Record<string, number>;
  /** When the figures are medians over rounds: each round's own figures, ours and the peer's. */
  rounds?: Array<{ figures: Record<string, number>; peer: Record<string, number> }>;
  notes?: string[];
}

export function ratiosOf(ours: Record<string, number>, peer: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(ours)) {
    const p = peer[k];
    if (typeof p === 'number' && p !== 0) out[k] = Math.round((v / p) * 1000) / 1000;
  }
  return out;
}

const fmt = (v: number | string | undefined) => (v === undefined ? '—' : typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(2)) : v);

export function printTable(r: BenchResult): string {
  const keys = [...new Set([...Object.keys(r.figures), ...Object.keys(r.peer.figures)])];
  const rows = [['figure', 'sentinela', r.peer.name, 'ratio'], ...keys.map((k) => [k, fmt(r.figures[k]), fmt(r.peer.figures[k]), fmt(r.ratios[k])])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const line = (row: string[]) => row.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  const setup = Object.entries(r.setup).map(([k, v]) => `${k}=${v}`).join(' ');
  return [`## ${r.name}  (${setup})`, line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line), ...(r.notes ?? []).map((n) => `note: ${n}`), ''].join('\n');
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** The median: percentile 50 of the values, sorted here (for an odd count, the middle value). */
export function median(values: number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50);
}
