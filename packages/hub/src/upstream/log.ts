/** The DPS hub's outgoing log (schema.ts): the next batch after the MoH hub's cursor, and the cursor's advance on its ack. */
import type { RelayItem } from '@sentinela/shared';
import type { Db } from '../store/db.js';
import { ensureUpstreamLog } from './schema.js';

/** Items of one batch, at most this many bytes of JSON, so that a batch fits the MoH hub's default 256 KiB payload limit. */
export const MAX_BATCH_BYTES = 160 * 1024;

interface LogRow {
  n: number;
  site_id: string;
  payload: string | null;
  kind: 'birth' | 'death' | null;
  bd_seq: number | null;
  clean: number | null;
  at: string | null;
  agent_version: string | null;
}

export class UpstreamLog {
  private readonly st;

  constructor(
    private readonly db: Db,
    readonly relayId: string,
  ) {
    ensureUpstreamLog(db);
    this.st = {
      cursor: db.prepare('SELECT acked_n FROM upstream_cursor WHERE relay_id = ?').pluck(),
      rows: db.prepare(`
        SELECT l.n, l.site_id, m.payload, c.kind, c.bd_seq, c.clean, c.at, s.agent_version
        FROM upstream_log l
        LEFT JOIN messages m ON l.stream IS NOT NULL AND m.site_id = l.site_id AND m.stream = l.stream AND m.seq = l.seq
        LEFT JOIN connections c ON c.id = l.connection_id
        LEFT JOIN sites s ON s.id = l.site_id AND l.connection_id IS NOT NULL
        WHERE l.n > ? ORDER BY l.n LIMIT ?`),
      setCursor: db.prepare(`INSERT INTO upstream_cursor (relay_id, acked_n) VALUES (:relay, :upTo) ON CONFLICT (relay_id) DO UPDATE SET acked_n = max(acked_n, :upTo)`),
      prune: db.prepare('DELETE FROM upstream_log WHERE n <= ?'),
      backlog: db.prepare('SELECT count(*) FROM upstream_log WHERE n > ?').pluck(),
      name: db.prepare('SELECT name FROM sites WHERE id = ?').pluck(),
    };
  }

  /** The highest n the MoH hub acknowledged (0: none yet). */
  cursor(): number {
    return (this.st.cursor.get(this.relayId) as number | undefined) ?? 0;
  }

  backlog(): number {
    return this.st.backlog.get(this.cursor()) as number;
  }

  /** The next items after the cursor, in storage order (a row whose message is gone is passed over). */
  next(maxItems: number): { items: RelayItem[]; lastN: number } {
    const rows = this.st.rows.all(this.cursor(), maxItems) as LogRow[];
    const items: RelayItem[] = [];
    let bytes = 0;
    let lastN = this.cursor();
    for (const r of rows) {
      const item: RelayItem | null =
        r.payload !== null
          ? { n: r.n, kind: 'message', site: r.site_id, payload: r.payload }
          : r.kind !== null
            ? { n: r.n, kind: 'connection', site: r.site_id, event: r.kind, bdSeq: r.bd_seq!, clean: r.clean === null ? null : r.clean === 1, at: r.at!, agentVersion: r.agent_version }
            : null;
      if (item) {
        const size = JSON.stringify(item).length;
        if (items.length > 0 && bytes + size > MAX_BATCH_BYTES) break;
        bytes += size;
        items.push(item);
      }
      lastN = r.n;
    }
    return { items, lastN };
  }

  /** This hub's names of these sites (those that have one). */
  names(siteIds: Iterable<string>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const id of new Set(siteIds)) {
      const name = this.st.name.get(id) as string | null | undefined;
      if (name) out[id] = name;
    }
    return out;
  }

  /** The MoH hub holds every item up to `upTo`: move the cursor and forget them, in one transaction. */
  ack(upTo: number): void {
    this.db.transaction(() => {
      this.st.setCursor.run({ relay: this.relayId, upTo });
      this.st.prune.run(upTo);
    })();
  }
}
