/** The MoH hub's relay receiver judges relayed messages by this hub's own limits (hub.yaml mqtt.*), not the defaults. */
import t from 'tap';
import { encodeRelay, type RelayBatch } from '@sentinela/shared';
import { HubMetrics } from '../metrics.js';
import { openDb } from '../database.js';
import { LogCapture, status, STREAM, tempDir } from '../harness.test-support.js';
import { RelayReceiver } from './receiver.js';
import { createRelay, RelayRegistry } from './relays.js';

t.test('a relayed stream is judged by the configured mqtt.maxSeqJump and mqtt.maxClockAheadSeconds', async (t) => {
  const db = openDb(tempDir(t));
  t.teardown(() => db.close());
  createRelay(db, 'dps-1', 'Maputo');
  const receiver = new RelayReceiver({
    db,
    registry: new RelayRegistry(db),
    logger: new LogCapture().logger,
    metrics: new HubMetrics(),
    commitIntervalMs: 5,
    maxPayloadBytes: 256 * 1024,
    maxSeqJump: 10,
    maxClockAheadSeconds: 30,
  });
  t.teardown(() => receiver.close());
  const site = 'hf-relayed-1';
  // Seq 1, then 50: 48 skipped, more than 10 ahead (a jump here; with the default million, 48 missing).
  // Seq 50 is dated 2 minutes ahead: past 30 s it takes its arrival time (with the default 5 minutes it keeps its own).
  const ahead = new Date(Date.now() + 120_000).toISOString();
  const items = [status(site, 1), status(site, 50, STREAM, ahead)].map((m, i) => ({ n: i + 1, kind: 'message' as const, site, payload: JSON.stringify(m) }));
  const batch: RelayBatch = { v: 1, type: 'batch', relay: 'dps-1', province: 'Maputo', items };
  await receiver.handle('dps-1', encodeRelay(batch));
  await receiver.ingest.flush();
  const s = db.prepare('SELECT max_seq, received_count, jumped FROM streams WHERE site_id = ? AND stream = ?').get(site, STREAM);
  t.same(s, { max_seq: 50, received_count: 2, jumped: 48 }, 'the 48 skipped seqs count as jumped, not missing');
  const ts = db.prepare('SELECT ts FROM messages WHERE site_id = ? AND seq = 50').pluck().get(site) as string;
  t.ok(ts < ahead, `seq 50 stored with its arrival time (${ts}), not ${ahead}`);
});
