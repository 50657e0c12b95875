/**
 * A clinical-shaped database for the backup tests and benchmark: patients, encounters and
 * observations (50 observations per patient, 10 per encounter), as an EMR of a health facility holds
 * them. Deterministic: the same seed and size give the same rows, so dumps can be compared across runs.
 * Loaded in bulk (LOAD DATA LOCAL INFILE for MariaDB, COPY for PostgreSQL) from a generated stream.
 *
 *   node bench/dist/backup/generate.js --dialect mariadb|postgres --database NAME
 *        [--size test|quick|full|<observations>] [--seed N] [--day2] [--drop]
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, createWriteStream, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline as pipelineAsync } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { query, runClient, type DbConnection, type Dialect } from '@sentinela/agent';
import { prng } from '../lib/prng.js';

export interface ClinicalDb {
  dialect: Dialect;
  conn: DbConnection;
}

/** Observation rows per size: test ≥ 1 M rows (~115 MB of mariadb-dump), quick ~70 MB, full ~1 GB. */
export const SIZES = { test: 1_000_000, quick: 600_000, full: 8_600_000 } as const;
export const TABLES = ['patients', 'encounters', 'observations'] as const;
export type Table = (typeof TABLES)[number];

export function rowsFor(observations: number): Record<Table, number> {
  return { patients: Math.ceil(observations / 50), encounters: Math.ceil(observations / 10), observations };
}

const GIVEN = ['Ana', 'Maria', 'João', 'José', 'Fátima', 'Celeste', 'Armando', 'Lurdes', 'Inês', 'Carlos', 'Rosa', 'Paulo', 'Teresa', 'Alberto', 'Luísa', 'Manuel', 'Graça', 'Domingos', 'Esperança', 'Felizarda'];
const FAMILY = ['Macuácua', 'Sitoe', 'Chissano', 'Mondlane', 'Nhantumbo', 'Cossa', 'Mabunda', 'Tembe', 'Muianga', 'Langa', 'Chambal', 'Matsinhe', 'Nhaca', 'Zandamela', 'Massingue', 'Bila'];
const DISTRICTS = ['Chókwè', 'Xai-Xai', 'Manhiça', 'Matola', 'Boane', 'Namaacha', 'Marracuene', 'Chibuto', 'Guijá', 'Bilene'];
const ENCOUNTER_TYPES = ['ADULT_INITIAL', 'ADULT_RETURN', 'PEDS_INITIAL', 'PEDS_RETURN', 'ANC', 'TB_SCREENING', 'LAB_RESULT', 'PHARMACY'];
const PROVIDERS = ['enf. Mussa', 'dr. Tivane', 'tec. Bata', 'enf. Cuna', 'dr. Macamo', 'tec. Uamusse'];
const NOTES = ['Sem queixas', 'Tosse há 2 semanas', 'Febre, cefaleia', 'Adesão boa', 'Faltou à consulta anterior', 'Referido para laboratório', 'Gravidez 24 semanas', 'Perda de peso'];
/** [concept id, numeric range or coded answers] — a few of the concepts an HIV/TB/ANC programme records. */
const CONCEPTS: Array<[number, [number, number] | string[]]> = [
  [5089, [3, 110]], // weight kg
  [5090, [50, 195]], // height cm
  [5088, [35, 41]], // temperature
  [5085, [80, 180]], // systolic BP
  [5086, [50, 110]], // diastolic BP
  [5497, [10, 1500]], // CD4
  [856, [0, 250000]], // viral load
  [1305, ['DETECTED', 'NOT DETECTED', 'LOW LEVEL']],
  [1088, ['TDF/3TC/DTG', 'AZT/3TC/NVP', 'ABC/3TC/LPV-r', 'TDF/3TC/EFV']],
  [6174, ['Tosse', 'Febre', 'Suores noturnos', 'Nenhum']],
  [1659, ['POSITIVO', 'NEGATIVO', 'INDETERMINADO']],
];

const BASE = Date.UTC(2019, 0, 1) / 1000;
function datetime(sec: number): string {
  return new Date((BASE + sec) * 1000).toISOString().slice(0, 19).replace('T', ' ');
}
function pick<T>(r: () => number, list: readonly T[]): T {
  return list[Math.floor(r() * list.length)]!;
}

/** Row `id` of a table as a tab-separated line (COPY text format = LOAD DATA defaults; \N is NULL). */
function rowLine(table: Table, id: number, r: () => number, counts: Record<Table, number>): string {
  switch (table) {
    case 'patients': {
      const birth = datetime(Math.floor(r() * 4 * 365 * 86400) - 60 * 365 * 86400).slice(0, 10);
      const phone = r() < 0.7 ? `84${String(Math.floor(r() * 1e7)).padStart(7, '0')}` : '\\N';
      return `${id}\t0105${String(id).padStart(8, '0')}/${10 + Math.floor(r() * 15)}\t${pick(r, GIVEN)}\t${pick(r, FAMILY)}\t${r() < 0.55 ? 'F' : 'M'}\t${birth}\t${pick(r, DISTRICTS)}\t${phone}\t${datetime(Math.floor(r() * 5 * 365 * 86400))}`;
    }
    case 'encounters': {
      const notes = r() < 0.4 ? pick(r, NOTES) : '\\N';
      return `${id}\t${1 + Math.floor(r() * counts.patients)}\t${pick(r, ENCOUNTER_TYPES)}\t${datetime(Math.floor(r() * 5 * 365 * 86400))}\tCS ${pick(r, DISTRICTS)}\t${pick(r, PROVIDERS)}\t${notes}`;
    }
    case 'observations': {
      const encounter = 1 + Math.floor(r() * counts.encounters);
      const [concept, answer] = pick(r, CONCEPTS);
      const numeric = Array.isArray(answer) && typeof answer[0] === 'number' ? (answer[0] + r() * ((answer[1] as number) - answer[0])).toFixed(2) : '\\N';
      const text = numeric === '\\N' ? pick(r, answer as string[]) : '\\N';
      return `${id}\t${encounter}\t${1 + Math.floor(r() * counts.patients)}\t${concept}\t${numeric}\t${text}\t${datetime(Math.floor(r() * 5 * 365 * 86400))}`;
    }
  }
}

/** Rows `from`..`to` (inclusive) of a table as TSV lines, in batches of 2000 lines joined by `\n`. */
export function* rowBatches(table: Table, from: number, to: number, seed: number, counts: Record<Table, number>): Generator<string> {
  const r = prng(seed * 31 + TABLES.indexOf(table));
  let batch: string[] = [];
  for (let id = from; id <= to; id++) {
    batch.push(rowLine(table, id, r, counts));
    if (batch.length === 2000) {
      yield batch.join('\n') + '\n';
      batch = [];
    }
  }
  if (batch.length) yield batch.join('\n') + '\n';
}

/** Rows `from`..`to` (inclusive) of a table as a stream of TSV, in batches of about 256 KB. */
export function rowStream(table: Table, from: number, to: number, seed: number, counts: Record<Table, number>): Readable {
  return Readable.from(rowBatches(table, from, to, seed, counts));
}

function schema(dialect: Dialect): string {
  const my = dialect === 'mariadb';
  const engine = my ? ' ENGINE=InnoDB DEFAULT CHARSET=utf8mb4' : '';
  return [
    `CREATE TABLE patients (id INT NOT NULL PRIMARY KEY, nid VARCHAR(20) NOT NULL, given_name VARCHAR(40) NOT NULL, family_name VARCHAR(40) NOT NULL, sex CHAR(1) NOT NULL, birth_date DATE NOT NULL, district VARCHAR(40) NOT NULL, phone VARCHAR(20) NULL, created_at ${my ? 'DATETIME' : 'TIMESTAMP'} NOT NULL)${engine};`,
    `CREATE TABLE encounters (id INT NOT NULL PRIMARY KEY, patient_id INT NOT NULL, encounter_type VARCHAR(30) NOT NULL, encounter_datetime ${my ? 'DATETIME' : 'TIMESTAMP'} NOT NULL, location VARCHAR(60) NOT NULL, provider VARCHAR(40) NOT NULL, notes VARCHAR(255) NULL)${engine};`,
    'CREATE INDEX encounters_patient ON encounters (patient_id);',
    `CREATE TABLE observations (id BIGINT NOT NULL PRIMARY KEY, encounter_id INT NOT NULL, patient_id INT NOT NULL, concept_id INT NOT NULL, value_numeric DECIMAL(12,2) NULL, value_text VARCHAR(120) NULL, obs_datetime ${my ? 'DATETIME' : 'TIMESTAMP'} NOT NULL)${engine};`,
  ].join('\n');
}

async function load(db: ClinicalDb, table: Table, rows: Readable): Promise<void> {
  if (db.dialect === 'postgres') {
    await runClient('postgres', db.conn, db.conn.database, { input: rows, sql: `COPY ${table} FROM STDIN` });
    return;
  }
  // LOAD DATA LOCAL INFILE needs a path it can open: node gives children a socket, not a pipe, as
  // stdin (so /dev/stdin fails with ENXIO), hence a FIFO.
  const dir = mkdtempSync(join(tmpdir(), 'sentinela-gen-'));
  const fifo = join(dir, 'rows.tsv');
  execFileSync('mkfifo', ['-m', '600', fifo]);
  try {
    const writing = pipelineAsync(rows, createWriteStream(fifo));
    const loading = runClient('mariadb', db.conn, db.conn.database, { sql: `LOAD DATA LOCAL INFILE '${fifo}' INTO TABLE ${table} CHARACTER SET utf8mb4` }).catch((err: Error) => {
      // The client failed before reading: open the FIFO ourselves so that the writer is not stuck.
      closeSync(openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK));
      throw err;
    });
    await Promise.all([loading, writing.catch(() => undefined)]);
    await writing;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function dropDatabase(db: ClinicalDb): Promise<void> {
  if (db.dialect === 'mariadb') await query('mariadb', db.conn, `DROP DATABASE IF EXISTS \`${db.conn.database}\``, null);
  else await query('postgres', db.conn, `DROP DATABASE IF EXISTS "${db.conn.database}" WITH (FORCE)`, 'postgres');
}

/** Creates the database (replacing one of the same name) and fills it; returns the row counts. */
export async function createClinicalDatabase(db: ClinicalDb, opts: { observations: number; seed?: number }): Promise<Record<Table, number>> {
  const seed = opts.seed ?? 1;
  const counts = rowsFor(opts.observations);
  await dropDatabase(db);
  if (db.dialect === 'mariadb') await query('mariadb', db.conn, `CREATE DATABASE \`${db.conn.database}\``, null);
  else await query('postgres', db.conn, `CREATE DATABASE "${db.conn.database}"`, 'postgres');
  await query(db.dialect, db.conn, schema(db.dialect));
  for (const table of TABLES) await load(db, table, rowStream(table, 1, counts[table], seed, counts));
  if (db.dialect === 'postgres') await query('postgres', db.conn, 'ANALYZE');
  return counts;
}

async function countsOf(db: ClinicalDb): Promise<Record<Table, { rows: number; maxId: number }>> {
  const rows = await query(db.dialect, db.conn, TABLES.map((t) => `SELECT '${t}', COUNT(*), COALESCE(MAX(id), 0) FROM ${t}`).join(' UNION ALL '));
  return Object.fromEntries(rows.map(([t, n, max]) => [t, { rows: Number(n), maxId: Number(max) }])) as Record<Table, { rows: number; maxId: number }>;
}

/**
 * The day-2 change of the benchmark: in each table, 0.05 % of the rows updated at random and 0.5 %
 * appended. Returns how many rows were updated and appended per table.
 */
export async function applyDay2Change(db: ClinicalDb, opts: { seed?: number; updateFraction?: number; appendFraction?: number } = {}): Promise<Record<Table, { updated: number; appended: number }>> {
  const seed = (opts.seed ?? 1) + 1000;
  const r = prng(seed);
  const before = await countsOf(db);
  const counts = Object.fromEntries(TABLES.map((t) => [t, before[t].rows])) as Record<Table, number>;
  const out = {} as Record<Table, { updated: number; appended: number }>;
  const change: Record<Table, string> = {
    patients: `phone = CONCAT('86', LPAD(CAST(id AS ${db.dialect === 'mariadb' ? 'CHAR' : 'TEXT'}), 7, '0'))`,
    encounters: "notes = CONCAT(COALESCE(notes, ''), ' (revisto)')",
    observations: "value_numeric = CASE WHEN value_numeric IS NULL THEN NULL ELSE value_numeric + 1 END, value_text = CASE WHEN value_text IS NULL THEN NULL ELSE CONCAT(value_text, ' *') END",
  };
  for (const table of TABLES) {
    const { rows, maxId } = before[table];
    const nUpdate = Math.round(rows * (opts.updateFraction ?? 0.0005));
    const ids = new Set<number>();
    while (ids.size < Math.min(nUpdate, rows)) ids.add(1 + Math.floor(r() * maxId));
    const list = [...ids];
    for (let i = 0; i < list.length; i += 1000) await query(db.dialect, db.conn, `UPDATE ${table} SET ${change[table]} WHERE id IN (${list.slice(i, i + 1000).join(',')})`);
    const nAppend = Math.round(rows * (opts.appendFraction ?? 0.005));
    if (nAppend) await load(db, table, rowStream(table, maxId + 1, maxId + nAppend, seed, counts));
    out[table] = { updated: list.length, appended: nAppend };
  }
  return out;
}

/**
 * A checksum of each table's content, equal for equal tables: CHECKSUM TABLE on MariaDB, an md5 over
 * the rows' md5s in primary-key order on PostgreSQL.
 */
export async function tableChecksums(db: ClinicalDb, tables: readonly string[] = TABLES): Promise<Record<string, string>> {
  if (db.dialect === 'mariadb') {
    const rows = await query('mariadb', db.conn, `CHECKSUM TABLE ${tables.map((t) => `\`${t}\``).join(', ')} EXTENDED`);
    return Object.fromEntries(rows.map(([name, sum]) => [name!.split('.').pop()!, sum!]));
  }
  const rows = await query('postgres', db.conn, tables.map((t) => `SELECT '${t}', md5(COALESCE(string_agg(md5(x::text), '' ORDER BY x.id), '')) FROM ${t} x`).join(' UNION ALL '));
  return Object.fromEntries(rows.map(([name, sum]) => [name!, sum!]));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      dialect: { type: 'string', default: 'mariadb' },
      database: { type: 'string' },
      host: { type: 'string', default: '127.0.0.1' },
      user: { type: 'string' },
      size: { type: 'string', default: 'quick' },
      seed: { type: 'string', default: '1' },
      day2: { type: 'boolean' },
      drop: { type: 'boolean' },
    },
  });
  if (!values.database || (values.dialect !== 'mariadb' && values.dialect !== 'postgres')) {
    process.stderr.write('usage: generate.js --dialect mariadb|postgres --database NAME [--size test|quick|full|N] [--seed N] [--day2] [--drop]\n');
    process.exit(2);
  }
  const db: ClinicalDb = { dialect: values.dialect, conn: { host: values.host, user: values.user ?? (values.dialect === 'postgres' ? 'postgres' : undefined), database: values.database } };
  const seed = Number(values.seed);
  const started = Date.now();
  if (values.drop) await dropDatabase(db);
  else if (values.day2) process.stdout.write(`${JSON.stringify(await applyDay2Change(db, { seed }))}\n`);
  else {
    const size = values.size as string;
    const observations = size in SIZES ? SIZES[size as keyof typeof SIZES] : Number(size);
    process.stdout.write(`${JSON.stringify(await createClinicalDatabase(db, { observations, seed }))}\n`);
  }
  process.stderr.write(`done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  });
}
