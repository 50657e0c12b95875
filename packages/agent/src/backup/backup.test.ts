import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { AgentConfig, StatusBackups, type Severity } from '@sentinela/shared';
import { memoryLogger, tempDir } from '../fixtures.test-support.js';
import { Outbox } from '../outbox/outbox.js';
import type { AgentContext } from '../module.js';
import { finalBackupFor } from '../power/final-backup.js';
import { BackupModule } from './module.js';
import { BackupQueue } from './queue.js';
import { RwLock } from './lock.js';
import { BackupState, snapshotSource, snapshotTime } from './state.js';

t.test('the queue runs one backup at a time and never queues a source twice', async (t) => {
  const log: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const q = new BackupQueue(async (s) => {
    log.push(`start ${s}`);
    if (s === 'a') await gate;
    log.push(`end ${s}`);
  });
  const a1 = q.trigger('a');
  const a2 = q.trigger('a');
  const b = q.trigger('b');
  t.equal(a1, a2, 'asking again joins the same run');
  t.ok(q.isBusy('a'));
  release();
  await Promise.all([a1, b]);
  t.same(log, ['start a', 'end a', 'start b', 'end b']);
  await q.idle();
  t.notOk(q.isBusy('a'));
});

t.test('the spool lock: prune waits for backups, and backups wait for prune', async (t) => {
  const lock = new RwLock();
  const log: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const r1 = lock.shared(async () => {
    log.push('backup start');
    await gate;
    log.push('backup end');
  });
  const w = lock.exclusive(async () => void log.push('prune'));
  const r2 = lock.shared(async () => void log.push('copy'));
  release();
  await Promise.all([r1, w, r2]);
  t.same(log, ['backup start', 'backup end', 'prune', 'copy']);
});

t.test('snapshot ids give their time and source without the key', async (t) => {
  t.equal(snapshotTime('20250102T030405Z-openmrs-db-k3j4'), '2025-01-02T03:04:05.000Z');
  t.equal(snapshotSource('20250102T030405Z-openmrs-db-k3j4'), 'openmrs-db');
});

t.test('the module: backups, events with the tool error, status section, final backup estimate', async (t) => {
  const dir = tempDir(t);
  const dbFile = join(dir, 'clinic.db');
  const db = new Database(dbFile);
  db.exec('CREATE TABLE patients (id INTEGER PRIMARY KEY, name TEXT)');
  const ins = db.prepare('INSERT INTO patients (name) VALUES (?)');
  for (let i = 0; i < 200; i++) ins.run(`patient ${i}`);
  db.close();
  writeFileSync(join(dir, 'fail.sh'), 'echo "mongodump: connection refused to 127.0.0.1:27017" >&2; exit 3\n');

  const config = AgentConfig.parse({
    dataDir: join(dir, 'data'),
    site: { id: 'hf-mod-test' },
    hub: { mqttUrl: 'mqtt://127.0.0.1:1' },
    backup: {
      sources: [
        { name: 'clinic', kind: 'sqlite', path: dbFile, schedule: '0 0 1 1 *' },
        { name: 'mongo', kind: 'command', command: ['sh', join(dir, 'fail.sh')], schedule: '0 0 1 1 *' },
      ],
    },
  });
  const { logger } = memoryLogger();
  const outbox = Outbox.open({ path: join(dir, 'outbox.db'), siteId: 'hf-mod-test', logger });
  t.teardown(() => outbox.close());
  const events: Array<{ code: string; severity: Severity; message: string; data?: Record<string, unknown> }> = [];
  const ctx: AgentContext = {
    config,
    siteId: 'hf-mod-test',
    logger,
    outbox,
    event: (code, severity, message, data) => {
      events.push({ code, severity, message, data });
      outbox.appendEvent(code, severity, message, data);
    },
    sampleNow: async () => {},
  };
  const mod = new BackupModule(ctx);
  await mod.start();
  t.teardown(() => mod.close());
  t.ok(events.some((e) => e.code === 'backup.key_created'), 'a new key is announced, with what to do');
  t.equal(finalBackupFor(config)?.estimateSeconds(), null, 'no estimate before any backup');

  await Promise.all([mod.trigger('clinic'), mod.trigger('mongo')]);
  const ok = events.find((e) => e.code === 'backup.completed');
  t.equal(ok?.severity, 'info');
  t.equal(ok?.data?.source, 'clinic');
  const bad = events.find((e) => e.code === 'backup.failed');
  t.equal(bad?.severity, 'warning');
  t.match(bad?.message, /connection refused to 127\.0\.0\.1:27017/, "the tool's own words");

  const status = StatusBackups.parse((await mod.status()).backups);
  const clinic = status.sources.find((s) => s.name === 'clinic')!;
  t.match(clinic.lastLocal?.snapshotId, /-clinic-/);
  t.equal(clinic.lastFailure, null);
  t.match(status.sources.find((s) => s.name === 'mongo')?.lastFailure?.error, /connection refused/);
  t.equal(status.usbAttached, false);

  for (let i = 0; i < 2; i++) await mod.trigger('mongo');
  t.equal(events.filter((e) => e.code === 'backup.failed').pop()?.severity, 'critical', 'three failures in a row: critical');

  // The final backup: estimate from what was measured, then a real run.
  const final = finalBackupFor(config)!;
  t.equal(final.estimateSeconds(), null, 'a source that never succeeded leaves the estimate unknown');
  const state = BackupState.open(join(config.dataDir, 'backups.db'));
  t.teardown(() => state.close());
  const before = state.recentDurations('clinic').length;
  await final.run(new AbortController().signal);
  t.equal(state.recentDurations('clinic').length, before + 1, 'the final backup backed up the source again');
});
