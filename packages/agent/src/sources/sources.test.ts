/** Sources and restore targets on small real databases and folders (the 1M-row round trip is in test/backup-restore.test.ts). */
import t from 'tap';
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createSource, DumpError, PathMatcher, InsertRebatcher, RestoreRefused, restoreFiles, restoreMariadb, restorePostgres, restoreSqlite, restoreToFile, query, tarStream, type Dump } from './index.js';

const uniq = (p: string) => `${p}_${process.pid}_${Date.now().toString(36)}`;
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'sentinela-src-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
};

async function collect(dump: Dump): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of dump.stream) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** Reads the stream to its end or error; returns the error (never throws). */
async function drainError(dump: Dump): Promise<Error | undefined> {
  try {
    await collect(dump);
    return undefined;
  } catch (err) {
    return err as Error;
  }
}

t.test('glob patterns', async (t) => {
  const m = new PathMatcher(['*.log', 'cache', 'etc/**/*.key', '/top.txt', '*.{tmp,bak}', 'x?[0-9]']);
  t.ok(m.matches('a/b/c.log'));
  t.ok(m.matches('cache/x/y.conf'), 'a folder name covers its content');
  t.ok(m.matches('etc/ssl/private/a.key'));
  t.ok(m.matches('etc/a.key'), '**/ matches zero folders');
  t.notOk(m.matches('other/etc/a.key'), 'patterns with / are anchored');
  t.ok(m.matches('top.txt'));
  t.notOk(m.matches('sub/top.txt'));
  t.ok(m.matches('q/file.bak'));
  t.ok(m.matches('xa7'));
  t.notOk(m.matches('agent.yaml'));
  t.ok(new PathMatcher([]).empty);
});

t.test('files: include/exclude, tar readable by tar(1), restore, refusal, traversal', async (t) => {
  const src = tmp();
  mkdirSync(join(src, 'conf/ssl'), { recursive: true });
  mkdirSync(join(src, 'logs'));
  writeFileSync(join(src, 'conf/agent.yaml'), 'site: hf-1\n');
  writeFileSync(join(src, 'conf/ssl/site.key'), 'KEY');
  writeFileSync(join(src, 'conf/cache.tmp'), 'x');
  writeFileSync(join(src, 'logs/a.log'), 'log');
  const long = 'd'.repeat(60) + '/' + 'f'.repeat(80) + '-ção.txt';
  mkdirSync(join(src, 'conf', long.split('/')[0]!));
  writeFileSync(join(src, 'conf', long), Buffer.alloc(70_000, 7));
  symlinkSync('agent.yaml', join(src, 'conf/current.yaml'));
  const source = createSource({ kind: 'files', name: 'conf', path: src, include: ['conf/**'], exclude: ['*.tmp'] });
  t.equal(source.tokenizer, 'chunks');
  const dump = source.dump();
  const tarFile = join(tmp(), 'conf.tar');
  const report = await restoreToFile(dump.stream, tarFile);
  const info = await dump.info;
  t.same(info.files!.map((f) => f.path).sort(), ['conf/agent.yaml', `conf/${long}`, 'conf/current.yaml', 'conf/ssl/site.key'].sort());
  t.equal(report.bytes % 512, 0);
  // GNU tar reads it: the archive is restorable without Sentinela.
  const listed = execFileSync('tar', ['-tf', tarFile], { encoding: 'utf8' }).trim().split('\n').sort();
  t.same(listed, info.files!.map((f) => f.path).sort());

  const out = join(tmp(), 'restored');
  const r = await restoreFiles(source.dump().stream, out, { expectedFiles: info.files });
  t.ok(r.ok, r.problems.join('; '));
  t.equal(readFileSync(join(out, 'conf/agent.yaml'), 'utf8'), 'site: hf-1\n');
  t.equal(readFileSync(join(out, 'conf', long)).length, 70_000);
  t.equal(readlinkSync(join(out, 'conf/current.yaml')), 'agent.yaml');
  t.notOk(existsSync(join(out, 'logs')));
  await t.rejects(restoreFiles(source.dump().stream, out), RestoreRefused, 'a non-empty folder is refused');
  // Every file's SHA-256 is recorded, and a restored file whose content differs at the same size is named.
  t.equal(info.files!.find((f) => f.path === 'conf/agent.yaml')?.sha256, createHash('sha256').update('site: hf-1\n').digest('hex'), 'the SHA-256 of each file is recorded');
  const other = info.files!.map((f) => (f.path === 'conf/agent.yaml' ? { ...f, sha256: createHash('sha256').update('site: hf-2\n').digest('hex') } : f));
  const bad = await restoreFiles(source.dump().stream, join(tmp(), 'restored-2'), { expectedFiles: other });
  t.same(bad.problems, ["conf/agent.yaml: its content differs from the snapshot's (SHA-256)"], 'a file whose content differs is named');

  // An archive with ../ in a path is refused, and nothing lands outside.
  const evilDir = tmp();
  const evil = Readable.from(tarStream([{ path: '../escape.txt', source: join(src, 'conf/agent.yaml'), type: 'file', mode: 0o644, size: 11, mtime: new Date(), uid: 0, gid: 0 }]));
  await t.rejects(restoreFiles(evil, join(evilDir, 'in')), /unsafe path/);
  t.notOk(existsSync(join(evilDir, 'escape.txt')));
});

t.test('command: stdout is the dump; a failure is a DumpError with its stderr, and the stream errors', async (t) => {
  const ok = createSource({ kind: 'command', name: 'cmd', command: ['sh', '-c', 'printf "a\\nb\\n"'], tokenizer: 'lines' });
  t.equal(ok.tokenizer, 'lines');
  const d = ok.dump();
  t.equal((await collect(d)).toString(), 'a\nb\n');
  t.equal((await d.info).tool.name, 'sh');

  const bad = createSource({ kind: 'command', name: 'cmd', command: ['sh', '-c', 'echo partial; echo "disk exploded" >&2; exit 3'], tokenizer: 'chunks' }).dump();
  const streamErr = await drainError(bad);
  t.ok(streamErr, 'the stream errors: a truncated dump never ends cleanly');
  const err = await bad.info.catch((e: unknown) => e);
  t.type(err, DumpError);
  t.equal((err as DumpError).toolOutput, 'disk exploded');
  t.match((err as DumpError).message, /exited with code 3: disk exploded/);

  const missing = createSource({ kind: 'command', name: 'cmd', command: ['/nonexistent/dumper'], tokenizer: 'chunks' }).dump();
  t.ok(await drainError(missing));
  await t.rejects(missing.info, /not installed/);
});

t.test('rebatcher joins one-row INSERTs of a table, keeps everything else in order', async (t) => {
  const input = ['DROP TABLE IF EXISTS `a`;', 'INSERT INTO `a` VALUES (1,\'x;\');', 'INSERT INTO `a` VALUES (2,\'y\');', 'INSERT INTO `b` VALUES (3);', 'UNLOCK TABLES;', ''].join('\n');
  const out: Buffer[] = [];
  for await (const c of Readable.from([Buffer.from(input.slice(0, 30)), Buffer.from(input.slice(30))]).pipe(new InsertRebatcher())) out.push(c as Buffer);
  t.equal(Buffer.concat(out).toString(), ['SET autocommit=0;', 'DROP TABLE IF EXISTS `a`;', "INSERT INTO `a` VALUES (1,'x;'),(2,'y');", 'INSERT INTO `b` VALUES (3);', 'UNLOCK TABLES;', 'COMMIT;', ''].join('\n'));
});

t.test('mariadb: dump with row counts, restore into a new database, refusals, failures', async (t) => {
  const db = uniq('sn_src');
  const copy = uniq('sn_copy');
  const conn = { host: '127.0.0.1', database: db };
  t.teardown(() => query('mariadb', conn, `DROP DATABASE IF EXISTS ${db}; DROP DATABASE IF EXISTS ${copy}`, null));
  await query('mariadb', conn, `CREATE DATABASE ${db}`, null);
  await query('mariadb', conn, "CREATE TABLE p (id INT PRIMARY KEY, name VARCHAR(40), photo BLOB); CREATE TABLE empty_t (id INT PRIMARY KEY); INSERT INTO p VALUES (1,'Ana\\nMaria',X'00FF0A'),(2,'Zé',NULL),(3,'it''s',X'')");
  const source = createSource({ kind: 'mariadb', name: 'emr', host: '127.0.0.1', database: db });
  const dump = source.dump();
  const text = (await collect(dump)).toString();
  const info = await dump.info;
  t.same(info.tables, { p: 3, empty_t: 0 });
  t.match(info.tool, { name: 'mariadb-dump', version: /^\d+\.\d+/ });
  t.match(text, /INSERT INTO `p` VALUES \(1,'Ana\\nMaria',0x00FF0A\);\n/, 'one row per line, blobs in hex');

  const progress: number[] = [];
  const r = await restoreMariadb(source.dump().stream, { ...conn, database: copy }, { expectedTables: info.tables, onProgress: (b) => progress.push(b) });
  t.ok(r.ok, r.problems.join('; '));
  t.same(r.tables.p, { expected: 3, found: 3 });
  t.ok(progress.length > 0 && progress.at(-1) === r.bytes);
  t.same(await query('mariadb', conn, 'SELECT id, name, HEX(photo) FROM p ORDER BY id', copy), await query('mariadb', conn, 'SELECT id, name, HEX(photo) FROM p ORDER BY id', db));
  await t.rejects(restoreMariadb(source.dump().stream, { ...conn, database: copy }), RestoreRefused, 'an existing database is refused');
  const forced = await restoreMariadb(source.dump().stream, { ...conn, database: copy }, { force: true, expectedTables: { ...info.tables, ghost: 1 } });
  t.notOk(forced.ok, 'a table the snapshot has but the database lacks is reported');
  t.match(forced.problems, [/ghost is missing/]);

  // Wrong password, through a password file (never on the command line).
  const pw = join(tmp(), 'pw');
  writeFileSync(pw, 'wrong\n', { mode: 0o600 });
  const denied = createSource({ kind: 'mariadb', name: 'emr', host: '127.0.0.1', user: 'nobody_here', passwordFile: pw, database: db }).dump();
  t.ok(await drainError(denied));
  const err = (await denied.info.catch((e: unknown) => e)) as DumpError;
  t.type(err, DumpError);
  t.match(err.toolOutput, /Access denied/);
  const gone = createSource({ kind: 'mariadb', name: 'emr', host: '127.0.0.1', database: uniq('sn_gone') }).dump();
  t.ok(await drainError(gone), 'a missing database: the stream errors');
  await t.rejects(gone.info, /Unknown database/);
});

t.test('postgres: plain dump with COPY row counts, restore, refusal, failure', async (t) => {
  const db = uniq('sn_src');
  const copy = uniq('sn_copy');
  const conn = { host: '127.0.0.1', user: 'postgres', database: db };
  t.teardown(async () => {
    await query('postgres', conn, `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`, 'postgres');
    await query('postgres', conn, `DROP DATABASE IF EXISTS ${copy} WITH (FORCE)`, 'postgres');
  });
  await query('postgres', conn, `CREATE DATABASE ${db}`, 'postgres');
  await query('postgres', conn, 'CREATE TABLE p (id int PRIMARY KEY, name text); CREATE TABLE "Mixed Case" (id int); CREATE SCHEMA lab; CREATE TABLE lab.result (id int); INSERT INTO p VALUES (1, E\'a\\nb\'), (2, \'c\'); INSERT INTO lab.result VALUES (1)', db);
  const source = createSource({ kind: 'postgres', name: 'pg', host: '127.0.0.1', user: 'postgres', database: db });
  const dump = source.dump();
  const text = (await collect(dump)).toString();
  const info = await dump.info;
  t.same(info.tables, { p: 2, '"Mixed Case"': 0, 'lab.result': 1 });
  t.match(info.tool, { name: 'pg_dump', version: /^\d+/ });
  t.match(text, /COPY public\.p \(id, name\) FROM stdin;\n1\ta\\nb\n2\tc\n\\\.\n/);
  const r = await restorePostgres(source.dump().stream, { ...conn, database: copy }, { expectedTables: info.tables });
  t.ok(r.ok, r.problems.join('; '));
  t.same(r.tables['lab.result'], { expected: 1, found: 1 });
  await t.rejects(restorePostgres(source.dump().stream, { ...conn, database: copy }), RestoreRefused);
  const gone = createSource({ kind: 'postgres', name: 'pg', host: '127.0.0.1', user: 'postgres', database: uniq('sn_gone') }).dump();
  t.ok(await drainError(gone));
  const err = (await gone.info.catch((e: unknown) => e)) as DumpError;
  t.match(err.toolOutput, /does not exist/);
  // A dump that fails half-way through a restore leaves no table behind (single transaction).
  const broken = Readable.from([Buffer.from('CREATE TABLE t1 (id int);\nTHIS IS NOT SQL;\n')]);
  await t.rejects(restorePostgres(broken, { ...conn, database: copy }, { force: true }), /syntax error/);
  t.same(await query('postgres', conn, "SELECT count(*) FROM pg_tables WHERE tablename = 't1'", copy), [['0']]);
});

t.test('sqlite: online copy, pages, row counts, restore with integrity check', async (t) => {
  const dir = tmp();
  const file = join(dir, 'app.db');
  const app = new Database(file);
  t.teardown(() => app.close());
  app.pragma('journal_mode = WAL');
  app.exec('CREATE TABLE obs (id INTEGER PRIMARY KEY, v TEXT); CREATE TABLE none (x)');
  const ins = app.prepare('INSERT INTO obs (v) VALUES (?)');
  app.transaction(() => {
    for (let i = 0; i < 5000; i++) ins.run(`value ${i}`);
  })();
  const source = createSource({ kind: 'sqlite', name: 'app', path: file }, { tmpDir: dir });
  t.equal(source.tokenizer, 'pages');
  const dump = source.dump();
  const target = join(dir, 'restored.db');
  const r = await restoreSqlite(dump.stream, target);
  const info = await dump.info;
  t.same(info.tables, { none: 0, obs: 5000 });
  t.equal(r.bytes % 4096, 0, 'whole pages');
  const checked = await restoreSqlite(source.dump().stream, join(dir, 'again.db'), { expectedTables: info.tables });
  t.ok(checked.ok, checked.problems.join('; '));
  await t.rejects(restoreSqlite(source.dump().stream, target), RestoreRefused, 'never over an existing file without force');
  const missing = createSource({ kind: 'sqlite', name: 'app', path: join(dir, 'nope.db') }).dump();
  t.ok(await drainError(missing));
  await t.rejects(missing.info, DumpError);
  // A stream that is not a SQLite file fails the integrity check and is not renamed into place.
  await t.rejects(restoreSqlite(Readable.from([Buffer.alloc(8192, 1)]), join(dir, 'junk.db')));
  t.notOk(existsSync(join(dir, 'junk.db')));
});
