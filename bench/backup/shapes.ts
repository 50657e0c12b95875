/**
 * Day-1 and day-2 files of every dump shape the backup benchmark measures (issue 17), written by
 * the real tools where they are installed:
 * - mysqldump-extended: `mariadb-dump` in its default shape (extended INSERTs, many rows a line);
 * - mysqldump-rows: `mariadb-dump --skip-extended-insert` (one row a line);
 * - pg-plain, pg-custom: `pg_dump -Fp` and `pg_dump -Fc -Z0`;
 * - mongo-archive: the `mongodump --archive` format (mongo-tools is not installed here): the same
 *   rows as BSON documents, in namespace segments interleaved as parallel collection dumps write them;
 * - tar: `tar` of a folder where a few files changed (two grown, two edited, one added, one removed);
 * - sqlite: a SQLite database file (better-sqlite3's online backup, as the sqlite source copies it);
 * - binary: random bytes with 0.05 % of them changed at random and 1 MiB inserted in the middle.
 * Day 2 of the databases is the clinical change of generate.ts (0.05 % of rows updated, 0.5 % appended).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, renameSync, readFileSync, rmSync, statSync, writeFileSync, appendFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { applyDay2Change, createClinicalDatabase, dropDatabase, rowBatches, rowsFor, TABLES, type ClinicalDb, type Table } from './generate.js';
import { prng } from '../lib/prng.js';

export interface Shape {
  name: string;
  day1: string;
  day2: string;
  /** The tokenizer the source that takes this shape uses by default (format version 1 needed one). */
  tokenizer: 'lines' | 'pages' | 'chunks';
}

export const SHAPE_NAMES = ['mysqldump-extended', 'mysqldump-rows', 'pg-plain', 'pg-custom', 'mongo-archive', 'tar', 'sqlite', 'binary'] as const;

const EXT: Record<(typeof SHAPE_NAMES)[number], string> = { 'mysqldump-extended': 'sql', 'mysqldump-rows': 'sql', 'pg-plain': 'sql', 'pg-custom': 'dump', 'mongo-archive': 'archive', tar: 'tar', sqlite: 'db', binary: 'bin' };
const TOKENIZER: Record<(typeof SHAPE_NAMES)[number], Shape['tokenizer']> = { 'mysqldump-extended': 'chunks', 'mysqldump-rows': 'lines', 'pg-plain': 'lines', 'pg-custom': 'chunks', 'mongo-archive': 'chunks', tar: 'chunks', sqlite: 'pages', binary: 'chunks' };

/**
 * The shapes whose two files are in `dir` (kept from an earlier run: they must be of the same size),
 * after generating there those that are missing. Generated ones are written complete before they
 * count: a run stopped while generating leaves no half file that a later run would take.
 */
export async function keptShapes(dir: string, opts: { observations: number; log: (line: string) => void; only?: readonly string[] }): Promise<Shape[]> {
  mkdirSync(dir, { recursive: true });
  const names = SHAPE_NAMES.filter((n) => !opts.only || opts.only.includes(n));
  const file = (n: (typeof SHAPE_NAMES)[number], day: number) => join(dir, `${n}.day${day}.${EXT[n]}`);
  const missing = names.filter((n) => !existsSync(file(n, 1)) || !existsSync(file(n, 2)));
  if (missing.length) {
    const tmp = join(dir, `generating-${process.pid}`);
    mkdirSync(tmp, { recursive: true });
    for (const s of await makeShapes(tmp, { ...opts, only: missing })) for (const day of [1, 2]) renameSync(day === 1 ? s.day1 : s.day2, file(s.name as (typeof SHAPE_NAMES)[number], day));
    rmSync(tmp, { recursive: true, force: true });
  }
  const out = names.map((n) => ({ name: n, day1: file(n, 1), day2: file(n, 2), tokenizer: TOKENIZER[n] }));
  for (const s of out) opts.log(`${s.name} (kept in ${dir}): day 1 ${statSync(s.day1).size} bytes, day 2 ${statSync(s.day2).size} bytes`);
  return out;
}

function sh(cmd: string): void {
  execFileSync('sh', ['-c', cmd], { stdio: ['ignore', 'ignore', 'inherit'] });
}

export async function makeShapes(work: string, opts: { observations: number; log: (line: string) => void; only?: readonly string[] }): Promise<Shape[]> {
  const want = (n: string) => !opts.only || opts.only.includes(n);
  const out: Shape[] = [];
  const path = (shape: string, day: number, ext: string) => join(work, `${shape}.day${day}.${ext}`);
  const stamp = Date.now().toString(36);

  if (want('mysqldump-extended') || want('mysqldump-rows')) {
    const db: ClinicalDb = { dialect: 'mariadb', conn: { host: '127.0.0.1', database: `sentinela_bench_shapes_${stamp}` } };
    opts.log(`mariadb: generating ${opts.observations} observations…`);
    await createClinicalDatabase(db, { observations: opts.observations });
    try {
      const dump = (extra: string, file: string) =>
        sh(`mariadb-dump -h 127.0.0.1 -u root --single-transaction --skip-dump-date ${extra} ${db.conn.database} > '${file}'`);
      for (let day = 1; day <= 2; day++) {
        if (day === 2) await applyDay2Change(db);
        opts.log(`mariadb: dumping day ${day}…`);
        if (want('mysqldump-extended')) dump('', path('mysqldump-extended', day, 'sql'));
        if (want('mysqldump-rows')) dump('--skip-extended-insert', path('mysqldump-rows', day, 'sql'));
      }
    } finally {
      await dropDatabase(db);
    }
    if (want('mysqldump-extended')) out.push({ name: 'mysqldump-extended', day1: path('mysqldump-extended', 1, 'sql'), day2: path('mysqldump-extended', 2, 'sql'), tokenizer: 'chunks' });
    if (want('mysqldump-rows')) out.push({ name: 'mysqldump-rows', day1: path('mysqldump-rows', 1, 'sql'), day2: path('mysqldump-rows', 2, 'sql'), tokenizer: 'lines' });
  }

  if (want('pg-plain') || want('pg-custom') || want('mongo-archive')) {
    const db: ClinicalDb = { dialect: 'postgres', conn: { host: '127.0.0.1', user: 'postgres', database: `sentinela_bench_shapes_${stamp}` } };
    opts.log(`postgres: generating ${opts.observations} observations…`);
    await createClinicalDatabase(db, { observations: opts.observations });
    try {
      for (let day = 1; day <= 2; day++) {
        if (day === 2) await applyDay2Change(db);
        opts.log(`postgres: dumping day ${day}…`);
        sh(`pg_dump -h 127.0.0.1 -U postgres -Fp -f '${path('pg-plain', day, 'sql')}' ${db.conn.database}`);
        if (want('pg-custom')) sh(`pg_dump -h 127.0.0.1 -U postgres -Fc -Z0 -f '${path('pg-custom', day, 'dump')}' ${db.conn.database}`);
        if (want('mongo-archive')) await mongoArchive(path('pg-plain', day, 'sql'), path('mongo-archive', day, 'archive'));
      }
    } finally {
      await dropDatabase(db);
    }
    if (want('pg-plain')) out.push({ name: 'pg-plain', day1: path('pg-plain', 1, 'sql'), day2: path('pg-plain', 2, 'sql'), tokenizer: 'lines' });
    else for (let day = 1; day <= 2; day++) rmSync(path('pg-plain', day, 'sql'));
    if (want('pg-custom')) out.push({ name: 'pg-custom', day1: path('pg-custom', 1, 'dump'), day2: path('pg-custom', 2, 'dump'), tokenizer: 'chunks' });
    if (want('mongo-archive')) out.push({ name: 'mongo-archive', day1: path('mongo-archive', 1, 'archive'), day2: path('mongo-archive', 2, 'archive'), tokenizer: 'chunks' });
  }

  // The file shapes are sized like the SQL dumps: about 110 bytes per observation.
  const bytes = opts.observations * 110;
  if (want('tar')) {
    opts.log('tar: a folder, then a few of its files changed…');
    tarShape(work, bytes, path('tar', 1, 'tar'), path('tar', 2, 'tar'));
    out.push({ name: 'tar', day1: path('tar', 1, 'tar'), day2: path('tar', 2, 'tar'), tokenizer: 'chunks' });
  }
  if (want('sqlite')) {
    opts.log('sqlite: generating, then the day-2 change…');
    sqliteShape(work, opts.observations, path('sqlite', 1, 'db'), path('sqlite', 2, 'db'));
    out.push({ name: 'sqlite', day1: path('sqlite', 1, 'db'), day2: path('sqlite', 2, 'db'), tokenizer: 'pages' });
  }
  if (want('binary')) {
    opts.log('binary: random bytes, 0.05 % changed, 1 MiB inserted in the middle…');
    binaryShape(bytes, path('binary', 1, 'bin'), path('binary', 2, 'bin'));
    out.push({ name: 'binary', day1: path('binary', 1, 'bin'), day2: path('binary', 2, 'bin'), tokenizer: 'chunks' });
  }
  for (const s of out) opts.log(`${s.name}: day 1 ${statSync(s.day1).size} bytes, day 2 ${statSync(s.day2).size} bytes`);
  return out;
}

/** Random bytes; day 2 has 0.05 % of its bytes changed at random and 1 MiB inserted in the middle. */
export function binaryShape(bytes: number, day1: string, day2: string): void {
  const data = randomBytes(bytes);
  writeFileSync(day1, data);
  const r = prng(17);
  for (let i = Math.round(bytes * 0.0005); i > 0; i--) {
    const at = Math.floor(r() * bytes);
    data[at] = (data[at]! + 1 + Math.floor(r() * 255)) & 0xff;
  }
  const mid = bytes >> 1;
  const fd = openSync(day2, 'w');
  writeSync(fd, data, 0, mid);
  writeSync(fd, randomBytes(1 << 20));
  writeSync(fd, data, mid, bytes - mid);
  closeSync(fd);
}

/**
 * A folder of clinical-looking files (TSV exports, scanned forms as random bytes, small configs),
 * tarred; day 2: two exports grew, one form and one config were edited, one file added, one removed.
 */
function tarShape(work: string, bytes: number, day1: string, day2: string): void {
  const dir = join(work, 'tar-folder');
  rmSync(dir, { recursive: true, force: true });
  const r = prng(5);
  const files: string[] = [];
  let total = 0;
  const counts = rowsFor(Math.max(1000, Math.round(bytes / 110)));
  for (let i = 0; total < bytes; i++) {
    const sub = join(dir, `dir${i % 7}`);
    mkdirSync(sub, { recursive: true });
    const kind = i % 5;
    const f = join(sub, kind === 0 ? `scan-${i}.pdf` : kind === 1 ? `config-${i}.ini` : `export-${i}.tsv`);
    let content: Buffer;
    if (kind === 0) content = randomBytes(20_000 + Math.floor(r() * 400_000));
    else if (kind === 1) content = Buffer.from(Array.from({ length: 20 + Math.floor(r() * 80) }, (_, k) => `key${k} = value ${Math.floor(r() * 1e6)}`).join('\n') + '\n');
    else {
      const n = 200 + Math.floor(r() * 3000);
      const table = TABLES[i % 3] as Table;
      const lines: string[] = [];
      const rr = prng(i);
      for (let k = 0; k < n; k++) lines.push(`${k}\t${Math.floor(rr() * 1e6)}\t${table}\t${(rr() * 100).toFixed(2)}\tCS ${Math.floor(rr() * 90)}\t${k % 13 === 0 ? 'revisto' : '\\N'}`);
      content = Buffer.from(lines.join('\n') + '\n');
    }
    writeFileSync(f, content);
    files.push(f);
    total += content.length;
  }
  void counts;
  const tar = (to: string) => sh(`tar -C '${dir}' --sort=name --mtime='2024-01-01 00:00Z' --owner=0 --group=0 -cf '${to}' .`);
  tar(day1);
  const exports = files.filter((f) => f.endsWith('.tsv'));
  for (const f of exports.slice(3, 5)) appendFileSync(f, Array.from({ length: 300 }, (_, k) => `${90000 + k}\t${k}\tnew\t1.00\tCS 1\t\\N`).join('\n') + '\n');
  const scan = files.find((f) => f.endsWith('.pdf'))!;
  const buf = readFileSync(scan);
  buf.fill(7, 1000, 1400);
  writeFileSync(scan, buf);
  const conf = files.find((f) => f.endsWith('.ini'))!;
  writeFileSync(conf, readFileSync(conf, 'utf8').replace('key3 =', 'key3 = changed'));
  writeFileSync(join(dir, 'dir3', 'added-form.pdf'), randomBytes(150_000));
  rmSync(exports[exports.length >> 1]!);
  // Files changed on day 2 carry day 2's time, as they would.
  sh(`touch -d '2024-01-02 00:00Z' '${exports[3]}' '${exports[4]}' '${scan}' '${conf}' '${join(dir, 'dir3', 'added-form.pdf')}'`);
  sh(`tar -C '${dir}' --sort=name --owner=0 --group=0 -cf '${day2}' .`);
  rmSync(dir, { recursive: true, force: true });
}

/** The clinical tables in SQLite; day 2 the change of generate.ts, applied in SQL. */
function sqliteShape(work: string, observations: number, day1: string, day2: string): void {
  const live = join(work, 'live.db');
  rmSync(live, { force: true });
  const db = new Database(live);
  db.exec(`CREATE TABLE patients (id INTEGER PRIMARY KEY, nid TEXT, given_name TEXT, family_name TEXT, sex TEXT, birth_date TEXT, district TEXT, phone TEXT, created_at TEXT);
CREATE TABLE encounters (id INTEGER PRIMARY KEY, patient_id INTEGER, encounter_type TEXT, encounter_datetime TEXT, location TEXT, provider TEXT, notes TEXT);
CREATE INDEX encounters_patient ON encounters (patient_id);
CREATE TABLE observations (id INTEGER PRIMARY KEY, encounter_id INTEGER, patient_id INTEGER, concept_id INTEGER, value_numeric REAL, value_text TEXT, obs_datetime TEXT);`);
  const counts = rowsFor(observations);
  const fill = (table: Table, from: number, to: number, seed: number) => {
    const cols = table === 'patients' ? 9 : 7;
    const stmt = db.prepare(`INSERT INTO ${table} VALUES (${Array(cols).fill('?').join(',')})`);
    const tx = db.transaction((lines: string[]) => {
      for (const l of lines) stmt.run(l.split('\t').map((v) => (v === '\\N' ? null : v)));
    });
    for (const chunk of rowBatches(table, from, to, seed, counts)) tx(chunk.split('\n').filter(Boolean));
  };
  for (const t of TABLES) fill(t, 1, counts[t], 1);
  db.close();
  execFileSync('cp', [live, day1]);
  const db2 = new Database(live);
  const r = prng(1001);
  for (const t of TABLES) {
    const n = counts[t];
    const upd = db2.prepare(`UPDATE ${t} SET ${t === 'patients' ? "phone = '86' || id" : t === 'encounters' ? "notes = COALESCE(notes, '') || ' (revisto)'" : 'value_numeric = value_numeric + 1'} WHERE id = ?`);
    db2.transaction(() => {
      for (let i = Math.round(n * 0.0005); i > 0; i--) upd.run(1 + Math.floor(r() * n));
    })();
  }
  db2.close();
  const db3 = new Database(live);
  const cols = (t: Table) => (t === 'patients' ? 9 : 7);
  for (const t of TABLES) {
    const n = counts[t];
    const stmt = db3.prepare(`INSERT INTO ${t} VALUES (${Array(cols(t)).fill('?').join(',')})`);
    const lines = [...rowBatches(t, n + 1, n + Math.round(n * 0.005), 1001, counts)].join('').split('\n').filter(Boolean);
    db3.transaction(() => {
      for (const l of lines) stmt.run(l.split('\t').map((v) => (v === '\\N' ? null : v)));
    })();
  }
  db3.close();
  execFileSync('cp', [live, day2]);
  rmSync(live);
}

// ---- mongodump --archive ----

/** A BSON document of the given fields (int32 ids, doubles, strings, UTC dates, nulls). */
function bson(fields: Array<[string, unknown]>): Buffer {
  const parts: Buffer[] = [];
  for (const [k, v] of fields) {
    const key = Buffer.from(`${k}\0`);
    if (v === null) parts.push(Buffer.of(0x0a), key);
    else if (typeof v === 'number' && Number.isInteger(v) && Math.abs(v) < 2 ** 31) {
      const b = Buffer.alloc(4);
      b.writeInt32LE(v);
      parts.push(Buffer.of(0x10), key, b);
    } else if (typeof v === 'number') {
      const b = Buffer.alloc(8);
      b.writeDoubleLE(v);
      parts.push(Buffer.of(0x01), key, b);
    } else if (typeof v === 'bigint') {
      const b = Buffer.alloc(8);
      b.writeBigInt64LE(v);
      parts.push(Buffer.of(0x12), key, b);
    } else if (typeof v === 'boolean') parts.push(Buffer.of(0x08), key, Buffer.of(v ? 1 : 0));
    else if (v instanceof Date) {
      const b = Buffer.alloc(8);
      b.writeBigInt64LE(BigInt(v.getTime()));
      parts.push(Buffer.of(0x09), key, b);
    } else {
      const s = Buffer.from(String(v));
      const len = Buffer.alloc(4);
      len.writeInt32LE(s.length + 1);
      parts.push(Buffer.of(0x02), key, len, s, Buffer.of(0));
    }
  }
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(4);
  head.writeInt32LE(body.length + 5);
  return Buffer.concat([head, body, Buffer.of(0)]);
}

const TERMINATOR = Buffer.from([0xff, 0xff, 0xff, 0xff]);
const SEGMENT = 16 * 1024; // documents a collection dumper hands the muxer at once

function typed(col: string, v: string): unknown {
  if (v === '\\N') return null;
  if (/(_at|_datetime|_date)$/.test(col)) return new Date(`${v.replace(' ', 'T')}Z`);
  if (/^-?\d+$/.test(v) && v.length < 10) return Number(v);
  if (col.startsWith('value_numeric')) return Number(v);
  return v;
}

/**
 * The rows of a pg_dump plain file as a `mongodump --archive` file: magic, header, one metadata
 * document per collection, terminator; then namespace segments (header, documents, terminator),
 * interleaved as collections dumped in parallel at the same rate write them; then each
 * collection's EOF header.
 */
async function mongoArchive(pgPlain: string, to: string): Promise<void> {
  const collections = new Map<string, { cols: string[]; docs: Buffer[] }>();
  let current: { cols: string[]; docs: Buffer[] } | null = null;
  for await (const line of createInterface({ input: createReadStream(pgPlain), crlfDelay: Infinity })) {
    if (current) {
      if (line === '\\.') current = null;
      else {
        const v = line.split('\t');
        current.docs.push(bson(current.cols.map((c, i) => [c === 'id' ? '_id' : c, typed(c, v[i]!)])));
      }
      continue;
    }
    const m = /^COPY public\.(\w+) \(([^)]*)\) FROM stdin;$/.exec(line);
    if (m) {
      current = { cols: m[2]!.split(', '), docs: [] };
      collections.set(m[1]!, current);
    }
  }
  const out = createWriteStream(to);
  const write = (b: Buffer) => out.write(b);
  const magic = Buffer.alloc(4);
  magic.writeUInt32LE(0x8199e26d);
  write(magic);
  write(bson([['concurrent_collections', 4], ['version', '0.1'], ['server_version', '6.0.14'], ['tool_version', '100.9.4']]));
  for (const [name, c] of collections) {
    const meta = JSON.stringify({ indexes: [{ v: 2, key: { _id: 1 }, name: '_id_' }], uuid: '', collectionName: name, type: 'collection' });
    write(bson([['db', 'clinic'], ['collection', name], ['metadata', meta], ['size', c.docs.length], ['type', 'collection']]));
  }
  write(TERMINATOR);
  const state = [...collections].map(([name, c]) => ({ name, docs: c.docs, next: 0, written: 0 }));
  for (;;) {
    const live = state.filter((s) => s.next < s.docs.length);
    if (!live.length) break;
    const s = live.reduce((a, b) => (b.written < a.written ? b : a));
    write(bson([['db', 'clinic'], ['collection', s.name], ['EOF', false], ['CRC', 0n]]));
    let n = 0;
    while (s.next < s.docs.length && n < SEGMENT) {
      const d = s.docs[s.next++]!;
      write(d);
      n += d.length;
    }
    s.written += n;
    write(TERMINATOR);
    if (!out.writableNeedDrain) continue;
    await new Promise<void>((res) => out.once('drain', () => res()));
  }
  for (const s of state) {
    write(bson([['db', 'clinic'], ['collection', s.name], ['EOF', true], ['CRC', 0n]]));
    write(TERMINATOR);
  }
  await new Promise<void>((res, rej) => out.end((err?: Error | null) => (err ? rej(err) : res())));
}
