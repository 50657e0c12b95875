/**
 * Seeds a hub database directly through the store (what a week of ingest would have left):
 * sites with their latest status and birth, a week of status samples, some events, and a
 * week of connections (WAN outages) per site. One transaction per site batch, prepared statements.
 */
import { markAllHours, openDb } from '@sentinela/hub';
import { statusPayload } from '@sentinela/tools/harness/console-seed.js';

export const PROVINCES = ['cabo-delgado', 'gaza', 'inhambane', 'manica', 'maputo-cidade', 'maputo-provincia', 'nampula', 'niassa', 'sofala', 'tete', 'zambezia'];

export interface SeedOptions {
  dataDir: string;
  sites: number;
  days: number;
  /** Minutes between status samples kept in the history. */
  sampleMinutes: number;
  now?: number;
}

export function seedFleet(o: SeedOptions): { messages: number; connections: number } {
  const db = openDb(o.dataDir, { synchronous: 'normal' });
  const now = o.now ?? Date.now();
  const iso = (t: number) => new Date(t).toISOString();
  const site = db.prepare(
    `INSERT INTO sites (id, name, province, created_at, enrolled_at, last_seen_at, connected, bd_seq, agent_version, birth_json, birth_at, last_status_json, last_status_at, last_status_stream, last_status_seq)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const msg = db.prepare('INSERT INTO messages (site_id, stream, seq, type, ts, received_at, payload) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const stream = db.prepare('INSERT INTO streams (site_id, stream, max_seq, received_count, first_at, last_at) VALUES (?, ?, ?, ?, ?, ?)');
  const conn = db.prepare('INSERT INTO connections (site_id, bd_seq, kind, clean, at) VALUES (?, ?, ?, ?, ?)');
  let messages = 0;
  let connections = 0;
  const from = now - o.days * 86_400_000;
  const step = o.sampleMinutes * 60_000;
  const batch = db.transaction((first: number, last: number) => {
    for (let i = first; i < last; i++) {
      const id = `hf-${PROVINCES[i % PROVINCES.length]!.slice(0, 8)}-${String(i).padStart(4, '0')}`;
      const st = `stream-${id}`;
      // A fleet with every kind of site: 1 in 10 silent, 1 in 25 on battery, 1 in 15 with a stale backup…
      const silentH = i % 10 === 0 ? 3 + (i % 48) : 0;
      const lastTs = now - silentH * 3_600_000 - (i % 60) * 1000;
      const variant = {
        diskPct: i % 17 === 0 ? 94 : 30 + (i % 50),
        onBattery: i % 25 === 0,
        backupAgeHours: i % 15 === 0 ? 30 : (i % 50) / 60,
        usbAttached: i % 9 !== 0,
        verifyError: i % 97 === 0 ? 'checksum mismatch' : null,
        wanUp: true,
        pending: silentH ? 0 : i % 40,
      };
      let seq = 0;
      let latest = '';
      for (let t = from; t <= lastTs; t += step) {
        const p = JSON.stringify(statusPayload({ site: id, stream: st, seq: ++seq, ts: new Date(t), ...variant }));
        msg.run(id, st, seq, 'status', iso(t), iso(t), p);
        latest = p;
      }
      for (let d = 0; d < o.days; d++) {
        const t = from + d * 86_400_000 + 8 * 3_600_000;
        msg.run(id, st, ++seq, 'event', iso(t), iso(t), JSON.stringify({ v: 1, type: 'event', site: id, stream: st, seq, ts: iso(t), code: 'power.outage.end', severity: 'warning', message: 'Mains power is back after 25 minutes on battery.' }));
      }
      messages += seq;
      stream.run(id, st, seq, seq, iso(from), iso(lastTs));
      // Daily WAN cuts: a death in the evening, a birth the next morning (the GovNet pattern).
      let bd = 0;
      conn.run(id, ++bd, 'birth', null, iso(from));
      for (let d = 0; d < o.days; d++) {
        const down = from + d * 86_400_000 + 18 * 3_600_000;
        const up = down + (6 + (i % 8)) * 3_600_000;
        if (up > lastTs) break;
        conn.run(id, bd, 'death', 0, iso(down));
        conn.run(id, ++bd, 'birth', null, iso(up));
        connections += 2;
      }
      const birth = JSON.stringify({ v: 1, type: 'birth', site: id, ts: iso(lastTs), bdSeq: bd, stream: st, agent: { version: i % 13 === 0 ? '0.0.9' : '0.1.0', hostname: `${id}-srv`, platform: 'linux', node: 'v20.19.0' }, outbox: { pending: 0, pendingBytes: 0, oldestTs: null, thinned: 0 } });
      site.run(id, `Centro de Saúde ${i}`, PROVINCES[i % PROVINCES.length], iso(from), iso(from), iso(lastTs), silentH ? 0 : 1, bd, i % 13 === 0 ? '0.0.9' : '0.1.0', birth, iso(lastTs), latest, iso(lastTs), st, seq - o.days);
    }
  });
  for (let i = 0; i < o.sites; i += 50) batch(i, Math.min(o.sites, i + 50));
  // Written past ingest: the console's time lookups need the hour marks ingest would have kept.
  markAllHours(db);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return { messages, connections };
}
