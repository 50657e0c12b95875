import t from 'tap';
import { join } from 'node:path';
import { tempDir } from '../harness.test-support.js';
import { openDb } from '../database.js';
import type { Db } from '../store/db.js';
import { UpstreamLog } from './log.js';
import { dropUpstreamLog } from './schema.js';

const message = (db: Db, seq: number, at: string) =>
  db
    .prepare(`INSERT OR IGNORE INTO messages (site_id, stream, seq, type, ts, received_at, payload) VALUES ('hf-1', 'stream-01', ?, 'event', ?, ?, ?)`)
    .run(seq, at, at, JSON.stringify({ seq }));

t.test('the outgoing log: history first, then every new row once, in store order; the cursor moves only on ack', async (t) => {
  const db = openDb(join(tempDir(t), 'data'));
  t.teardown(() => db.close());
  db.prepare(`INSERT INTO sites (id, created_at, agent_version) VALUES ('hf-1', 'now', '1.2.3')`).run();
  message(db, 2, '2026-01-01T00:00:02.000Z');
  message(db, 1, '2026-01-01T00:00:01.000Z');
  db.prepare(`INSERT INTO connections (site_id, bd_seq, kind, clean, at) VALUES ('hf-1', 0, 'death', 0, '2026-01-01T00:00:03.000Z')`).run();

  const log = new UpstreamLog(db, 'dps-x');
  const first = log.next(10);
  t.same(first.items.map((i) => (i.kind === 'message' ? JSON.parse(i.payload).seq : `${i.event}@${i.bdSeq}`)), [1, 2, 'death@0'], 'what the hub held, by arrival time');
  t.same(first.items[2], { n: 3, kind: 'connection', site: 'hf-1', event: 'death', bdSeq: 0, clean: false, at: '2026-01-01T00:00:03.000Z', agentVersion: '1.2.3' });

  message(db, 3, '2026-01-01T00:00:04.000Z');
  message(db, 3, '2026-01-01T00:00:04.000Z'); // a duplicate the ingest ignores is not logged
  t.equal(log.backlog(), 4, 'new rows are logged by the trigger, duplicates not');
  t.same(log.next(2).items.map((i) => i.n), [1, 2], 'at most maxItems per batch');

  log.ack(3);
  t.equal(log.cursor(), 3);
  t.same(log.next(10).items.map((i) => i.n), [4], 'after the ack, only what follows');
  log.ack(2);
  t.equal(log.cursor(), 3, 'a late ack never moves the cursor back');
  t.equal(db.prepare('SELECT count(*) FROM upstream_log').pluck().get(), 1, 'acked rows are forgotten');

  const reopened = new UpstreamLog(db, 'dps-x');
  t.equal(reopened.cursor(), 3, 'the cursor is durable');
  t.equal(reopened.backlog(), 1, 'opening again does not log the history twice');

  dropUpstreamLog(db);
  message(db, 4, '2026-01-01T00:00:05.000Z');
  t.equal(db.prepare(`SELECT count(*) FROM sqlite_master WHERE name = 'upstream_log'`).pluck().get(), 0, 'switched off: no log, no trigger');
});
