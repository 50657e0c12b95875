/**
 * Must show (issue 3): real databases of clinical shape — MariaDB and PostgreSQL with a million
 * observation rows, a SQLite file written to during the backup, a configuration folder — dumped,
 * damaged, restored into a fresh database or folder, and found equal to the source at backup time.
 *
 * The dump goes to a file here and restore reads it back; the round trip through the encrypted
 * repository (Repository.backup/read) is the same stream, tested with the repository.
 */
import t from 'tap';
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSource, initRepository, MasterKey, query, restoreFiles, restoreMariadb, restorePostgres, restoreSqlite, restoreToFile, type DumpInfo, type Source } from '@sentinela/agent';
import { tempDir } from '@sentinela/tools/harness/tmp.js';

type Generator = typeof import('../bench/backup/generate.js');
const gen = (await import(new URL('../../bench/dist/backup/generate.js', import.meta.url).href)) as Generator;

const OBSERVATIONS = Number(process.env.SENTINELA_TEST_OBSERVATIONS ?? gen.SIZES.test);
const unique = (p: string) => `${p}_${process.pid}_${Date.now().toString(36)}`;
const secs = (ms: number) => (ms / 1000).toFixed(1);
const mb = (bytes: number) => (bytes / 1e6).toFixed(1);

/** Dumps `source` to a file; returns the manifest-like info and the file. */
async function dumpToFile(source: Source, file: string): Promise<{ info: DumpInfo; bytes: number; ms: number }> {
  const started = Date.now();
  const dump = source.dump();
  const written = await restoreToFile(dump.stream, file);
  const info = await dump.info;
  return { info, bytes: written.bytes, ms: Date.now() - started };
}

for (const dialect of ['mariadb', 'postgres'] as const) {
  t.test(`${dialect}: ${OBSERVATIONS} observations dumped, damaged, restored into a new database, every table equal`, async (t) => {
    const dir = tempDir(`br-${dialect}`);
    t.teardown(dir.remove);
    const user = dialect === 'postgres' ? 'postgres' : undefined;
    const src = { dialect, conn: { host: '127.0.0.1', user, database: unique('sn_clinic') } };
    const copy = { dialect, conn: { ...src.conn, database: unique('sn_restored') } };
    t.teardown(() => gen.dropDatabase(src));
    t.teardown(() => gen.dropDatabase(copy));

    let started = Date.now();
    const counts = await gen.createClinicalDatabase(src, { observations: OBSERVATIONS, seed: 7 });
    t.comment(`generated ${JSON.stringify(counts)} in ${secs(Date.now() - started)} s`);

    // Through the repository, as the agent does it: a full snapshot, a small change, then a delta.
    const source = createSource({ kind: dialect, name: 'emr', ...src.conn, host: '127.0.0.1' });
    const repo = await initRepository(join(dir.path, 'repo'), { siteId: 'hf-test', key: MasterKey.generate() });
    started = Date.now();
    const first = await repo.backup(source);
    t.same(first.tables, counts, 'row counts taken from the stream equal the database');
    t.comment(`day 1: ${mb(first.content.bytes)} MB of dump stored as ${mb(first.stored)} MB in ${secs(Date.now() - started)} s, ${first.tool.name} ${first.tool.version}`);
    await query(dialect, src.conn, "UPDATE patients SET given_name = 'Amélia' WHERE id % 1000 = 0");
    const atBackup = await gen.tableChecksums(src);
    started = Date.now();
    const second = await repo.backup(source);
    t.equal(second.base, first.id, 'the second snapshot is a delta against the first');
    t.ok(second.stored < first.stored / 20, `the delta stores ${second.stored} bytes against ${first.stored} for the full`);
    t.comment(`day 2: ${second.stored} bytes stored in ${secs(Date.now() - started)} s`);

    // Damage: rows changed and deleted in every table.
    await query(dialect, src.conn, "UPDATE patients SET family_name = 'X' WHERE id % 97 = 0");
    await query(dialect, src.conn, 'DELETE FROM observations WHERE id % 13 = 0');
    await query(dialect, src.conn, 'UPDATE observations SET concept_id = 0 WHERE id % 1001 = 1');
    await query(dialect, src.conn, 'DELETE FROM encounters WHERE id % 50 = 0');
    const damaged = await gen.tableChecksums(src);
    for (const table of gen.TABLES) t.not(damaged[table], atBackup[table], `${table} is damaged`);

    started = Date.now();
    let progressed = 0;
    const restore = dialect === 'mariadb' ? restoreMariadb : restorePostgres;
    const report = await restore(repo.read(second.id), copy.conn, { expectedTables: second.tables, onProgress: (b) => (progressed = b) });
    const restoreMs = Date.now() - started;
    t.ok(report.ok, `row counts match the snapshot: ${report.problems.join('; ')}`);
    t.equal(progressed, second.content.bytes, 'progress reached the whole dump');
    t.same(await gen.tableChecksums(copy), atBackup, 'every table of the restored database equals the source at backup time');
    t.comment(`restore (full + delta): ${secs(restoreMs)} s (${mb(second.content.bytes / (restoreMs / 1000))} MB/s of dump, ${Math.round(OBSERVATIONS / (restoreMs / 1000))} observation rows/s)`);

    await t.rejects(restore(repo.read(second.id), copy.conn), /already exists/, 'never over an existing database without force');
  });
}

t.test('sqlite: backed up while another process writes; the copy is consistent and equal to the source at that moment', async (t) => {
  const dir = tempDir('br-sqlite');
  t.teardown(dir.remove);
  const file = join(dir.path, 'app.db');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE encounters (id INTEGER PRIMARY KEY, patient TEXT NOT NULL, at TEXT NOT NULL); CREATE TABLE observations (id INTEGER PRIMARY KEY, encounter_id INTEGER NOT NULL, value REAL NOT NULL)');
  const addEnc = db.prepare('INSERT INTO encounters (patient, at) VALUES (?, ?)');
  const addObs = db.prepare('INSERT INTO observations (encounter_id, value) VALUES (?, ?)');
  db.transaction(() => {
    for (let i = 0; i < 20_000; i++) {
      const id = addEnc.run(`P${i % 3000}`, new Date(1.6e12 + i * 60_000).toISOString()).lastInsertRowid;
      for (let k = 0; k < 5; k++) addObs.run(id, i * 0.5 + k);
    }
  })();
  db.close();

  // Another process keeps writing: each transaction adds one encounter and exactly five observations.
  const writerScript = `
    const Database = require(${JSON.stringify(createRequire(import.meta.url).resolve('better-sqlite3'))});
    const db = new Database(process.argv[1], { timeout: 10000 });
    const e = db.prepare("INSERT INTO encounters (patient, at) VALUES ('W', datetime('now'))");
    const o = db.prepare('INSERT INTO observations (encounter_id, value) VALUES (?, ?)');
    const tx = db.transaction(() => { const id = e.run().lastInsertRowid; for (let k = 0; k < 5; k++) o.run(id, k); });
    for (let i = 0; i < 50; i++) tx(); // some writes are in before the backup starts, whatever the scheduling
    process.stdout.write('ready\\n');
    for (;;) tx();`;
  const writer = spawn(process.execPath, ['-e', writerScript, file], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => writer.kill('SIGKILL'));
  await new Promise<void>((resolve) => writer.stdout!.once('data', () => resolve()));

  const source = createSource({ kind: 'sqlite', name: 'app', path: file }, { tmpDir: dir.path });
  const dumped = await dumpToFile(source, join(dir.path, 'app.snapshot'));
  writer.kill('SIGKILL');
  await new Promise((resolve) => writer.once('exit', resolve));
  const tables = dumped.info.tables!;
  t.ok(tables.encounters! > 20_000, `the writer was writing during the backup (${tables.encounters! - 20_000} encounters added before the snapshot)`);
  t.equal(tables.observations, tables.encounters! * 5, 'consistent: no half transaction in the copy');

  const restored = join(dir.path, 'restored.db');
  const report = await restoreSqlite(createReadStream(join(dir.path, 'app.snapshot')), restored, { expectedTables: tables });
  t.ok(report.ok, report.problems.join('; '));
  // Equal to the source at backup time: the writer only appends, so the source's rows up to the copy's last id.
  const sum = (path: string, table: string, maxId: number) => {
    const d = new Database(path, { readonly: true });
    try {
      const h = createHash('sha256');
      for (const row of d.prepare(`SELECT * FROM ${table} WHERE id <= ? ORDER BY id`).iterate(maxId)) h.update(JSON.stringify(row));
      return h.digest('hex');
    } finally {
      d.close();
    }
  };
  for (const table of ['encounters', 'observations']) t.equal(sum(restored, table, tables[table]!), sum(file, table, tables[table]!), `${table} equal to the source at backup time`);
  // Damage the source, restore over it with force: it is the snapshot again.
  const live = new Database(file);
  live.exec('DELETE FROM observations WHERE id % 7 = 0; UPDATE encounters SET patient = NULL WHERE 0');
  live.close();
  const again = await restoreSqlite(createReadStream(join(dir.path, 'app.snapshot')), file, { expectedTables: tables, force: true });
  t.ok(again.ok, again.problems.join('; '));
  t.same(again.tables.observations, { expected: tables.observations, found: tables.observations });
});

t.test('config folder: include/exclude, damaged, restored into a fresh folder', async (t) => {
  const dir = tempDir('br-files');
  t.teardown(dir.remove);
  const conf = join(dir.path, 'etc');
  for (const sub of ['openmrs', 'nginx/sites', 'cache', 'logs']) mkdirSync(join(conf, sub), { recursive: true });
  const files: Record<string, string | Buffer> = {
    'openmrs/openmrs-runtime.properties': 'connection.url=jdbc:mysql://localhost:3306/openmrs\n',
    'openmrs/modules.list': Array.from({ length: 200 }, (_, i) => `module-${i}.omod`).join('\n'),
    'nginx/sites/emr.conf': 'server { listen 80; }\n',
    'nginx/cert.pem': Buffer.alloc(3000, 65),
    'cache/blob.bin': Buffer.alloc(100_000, 1),
    'logs/access.log': 'GET /\n',
    'openmrs/settings.bak': 'old',
  };
  for (const [p, c] of Object.entries(files)) writeFileSync(join(conf, p), c);
  const source = createSource({ kind: 'files', name: 'config', path: conf, include: ['openmrs/**', 'nginx/**'], exclude: ['*.bak', 'cache', 'logs/'] });
  const dumped = await dumpToFile(source, join(dir.path, 'config.tar'));
  const expected = ['nginx/cert.pem', 'nginx/sites/emr.conf', 'openmrs/modules.list', 'openmrs/openmrs-runtime.properties'];
  t.same(dumped.info.files!.map((f) => f.path), expected, 'included, not excluded, in a stable order');
  const atBackup = Object.fromEntries(expected.map((p) => [p, readFileSync(join(conf, p))]));

  writeFileSync(join(conf, 'openmrs/openmrs-runtime.properties'), 'damaged');
  unlinkSync(join(conf, 'nginx/sites/emr.conf'));

  const out = join(dir.path, 'restored');
  const report = await restoreFiles(createReadStream(join(dir.path, 'config.tar')), out, { expectedFiles: dumped.info.files });
  t.ok(report.ok, report.problems.join('; '));
  for (const p of expected) t.same(readFileSync(join(out, p)), atBackup[p], `${p} as at backup time`);
  t.equal(statSync(join(out, 'nginx/cert.pem')).mode & 0o777, statSync(join(conf, 'nginx/cert.pem')).mode & 0o777, 'modes kept');
  t.notOk(existsSync(join(out, 'cache')) || existsSync(join(out, 'logs')) || existsSync(join(out, 'openmrs/settings.bak')), 'excluded files are not there');
  rmSync(out, { recursive: true, force: true });
});
