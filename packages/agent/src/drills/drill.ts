/**
 * A restore drill: the newest snapshot of each source, from every place that holds it (the spool,
 * each attached USB disk, the secondary server's mirror, the hub's off-site copy), restored into a
 * scratch target and checked against the facts the manifest recorded at backup time: per-table row
 * counts and per-table SHA-256 of the rows for databases (the restored copy is dumped again with the
 * same flags), the SHA-256 of every file for folders. Each result records RTO (wall time to fetch,
 * restore and check; a scratch server's own start is not counted) and RPO (age of the data restored).
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Transform } from 'node:stream';
import { SENTINELA_VERSION, type AgentConfig, type DrillReport, type DrillResult, type SnapshotManifest } from '@sentinela/shared';
import type { MasterKey } from '../repository/keys.js';
import { openRepository } from '../backup/repo.js';
import { credentialsPath, repositoryPath } from '../paths.js';
import { restoreFiles, restoreMariadb, restorePostgres, restoreSqlite } from '../sources/index.js';
import { mariadbArgs, myIdent, pgIdent, postgresArgs, type DbConnection } from '../sources/connection.js';
import { MARIADB_DUMP_FLAGS } from '../sources/mariadb.js';
import { PG_DUMP_FLAGS } from '../sources/postgres.js';
import { findTool } from '../sources/process.js';
import { mariadbTableSums, postgresTableSums } from '../sources/table-sums.js';
import { readDiskLabel } from '../locations/disk-label.js';
import { siteDisks } from '../locations/usb.js';
import { fetchFromHub } from '../offsite/fetch.js';
import { configuredScratchMariadb, scratchDir, startScratchMariadb, type ScratchServer } from './scratch.js';
import { configuredScratchPostgres, startScratchPostgres } from './scratch-postgres.js';
import { query } from '../sources/sql-cli.js';

export interface DrillLocation {
  /** spool, usb:<label>, peer, hub */
  name: string;
  /** The repository folder; for the hub, none: each source's newest copy is downloaded first. */
  dir: string;
  fromHub?: boolean;
}

export const HUB_LOCATION: DrillLocation = { name: 'hub', dir: '', fromHub: true };

/** What restoring and checking one copy finds; runDrill adds where from and the times. */
type Checked = Pick<DrillResult, 'source' | 'kind' | 'snapshot' | 'ok' | 'problems' | 'bytes'>;

/**
 * Every place this site's copies are: the spool, each attached USB disk, the peer mirror when
 * labelled, and the hub when the agent sends off-site copies and is enrolled.
 */
export function drillLocations(config: AgentConfig): DrillLocation[] {
  const out: DrillLocation[] = [{ name: 'spool', dir: repositoryPath(config) }];
  for (const d of siteDisks(config)) out.push({ name: `usb:${d.label}`, dir: d.path });
  const peer = config.backup?.peer?.path;
  if (peer && readDiskLabel(peer)?.siteId === config.site.id) out.push({ name: 'peer', dir: peer });
  if (config.offsite?.enabled && existsSync(credentialsPath(config))) out.push(HUB_LOCATION);
  return out;
}

/** Dumps a restored database again with the backup's flags and returns its per-table row sums. */
async function dumpSums(kind: 'mariadb' | 'postgres', conn: Omit<DbConnection, 'database'>, database: string): Promise<Record<string, string>> {
  let tool: string;
  let args: string[];
  let env: NodeJS.ProcessEnv = {};
  let cleanup = () => undefined as void;
  let sums: { stage: Transform; sums: () => Record<string, string> };
  if (kind === 'mariadb') {
    tool = findTool(['mariadb-dump', 'mysqldump']) ?? 'mariadb-dump';
    const a = mariadbArgs(conn);
    args = [...a.args, ...MARIADB_DUMP_FLAGS, '--', database];
    cleanup = a.cleanup;
    sums = mariadbTableSums();
  } else {
    tool = 'pg_dump';
    const a = postgresArgs(conn);
    args = [...a.args, ...PG_DUMP_FLAGS, '--dbname', database];
    env = a.env;
    sums = postgresTableSums();
  }
  const child = spawn(tool, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  const exit = new Promise<number | null>((r) => child.on('close', r));
  await pipeline(child.stdout, sums.stage, createWriteStream('/dev/null'));
  const code = await exit;
  cleanup();
  if (code !== 0) throw new Error(`${tool} of the restored copy failed: ${err.trim().split('\n').slice(-1)[0]}`);
  return sums.sums();
}

function compareSums(expected: Record<string, string> | undefined, found: Record<string, string>): string[] {
  if (!expected) return [];
  const problems: string[] = [];
  for (const t of new Set([...Object.keys(expected), ...Object.keys(found)]))
    if (expected[t] !== found[t]) problems.push(`table ${t}: its rows differ from the snapshot's (content checksum)`);
  return problems;
}

/** Row counts the source database itself had at the dump's snapshot (manifest sourceTables) against the restored copy's. */
function compareCounts(expected: Record<string, number> | undefined, found: Record<string, number> | undefined): string[] {
  if (!expected || !found) return [];
  const problems: string[] = [];
  for (const t of Object.keys(expected))
    if (found[t] !== expected[t]) problems.push(`table ${t}: ${found[t] ?? 0} rows restored, the database had ${expected[t]} at backup time (the dump lost rows)`);
  return problems;
}

type Scratch = (kind: 'mariadb' | 'postgres') => Promise<ScratchServer>;

async function drillOne(config: AgentConfig, m: SnapshotManifest, repoDir: string, key: MasterKey, scratch: Scratch, n: number): Promise<Checked> {
  const repo = await openRepository(repoDir, key);
  const base = { source: m.source, kind: m.kind, snapshot: m.id };
  if (m.kind === 'mariadb' || m.kind === 'postgres') {
    const kind = m.kind;
    const s = await scratch(kind);
    // A unique name: a configured scratch server may hold a copy a killed drill left (removed by name below on the next run).
    const database = `sentinela_drill_${process.pid}_${n}`;
    const conn = { ...s.conn, database };
    try {
      const content = repo.read(m.id);
      const report = kind === 'mariadb' ? await restoreMariadb(content, conn, { expectedTables: m.tables }) : await restorePostgres(content, conn, { expectedTables: m.tables });
      const found = Object.fromEntries(Object.entries(report.tables).map(([t, c]) => [t, c.found]));
      const problems = [...report.problems, ...compareCounts(m.sourceTables, found), ...compareSums(m.tableSums, await dumpSums(kind, s.conn, database))];
      return { ...base, ok: problems.length === 0, problems, bytes: report.bytes };
    } finally {
      // A configured scratch server outlives the drill: its copy goes now (a throwaway server goes whole).
      if (s.shared && kind === 'mariadb') await query('mariadb', conn, `DROP DATABASE IF EXISTS ${myIdent(database)}`, null).catch(() => undefined);
      if (s.shared && kind === 'postgres') await query('postgres', conn, `DROP DATABASE IF EXISTS ${pgIdent(database)} WITH (FORCE)`, 'postgres').catch(() => undefined);
    }
  }
  const content = repo.read(m.id);
  if (m.kind === 'files') {
    const dir = scratchDir(config, 'files');
    const report = await restoreFiles(content, join(dir, 'restored'), { force: true, expectedFiles: m.files });
    return { ...base, ok: report.ok, problems: report.problems, bytes: report.bytes };
  }
  if (m.kind === 'sqlite') {
    const dir = scratchDir(config, 'sqlite');
    const report = await restoreSqlite(content, join(dir, 'restored.db'), { expectedTables: m.tables });
    return { ...base, ok: report.ok, problems: report.problems, bytes: report.bytes };
  }
  content.destroy();
  return { ...base, ok: false, problems: [`a ${m.kind} source is not drilled yet (no scratch target for it)`], bytes: 0 };
}

/** The newest copy of `source` the hub holds, downloaded into a scratch folder: its folder and manifests. */
async function fromHub(config: AgentConfig, key: MasterKey, source: string): Promise<{ dir: string; snaps: SnapshotManifest[] }> {
  const dir = join(scratchDir(config, 'hub'), 'repo');
  await fetchFromHub(config, 'latest', undefined, source, dir);
  return { dir, snaps: await (await openRepository(dir, key)).snapshots() };
}

export async function runDrill(
  config: AgentConfig,
  key: MasterKey,
  opts: { by: string; sources?: string[]; locations?: DrillLocation[]; host: string; onResult?: (r: DrillResult) => void },
): Promise<DrillReport> {
  const startedAt = new Date();
  const results: DrillResult[] = [];
  const sources = (config.backup?.sources ?? []).filter((s) => !opts.sources || opts.sources.includes(s.name));
  const versions: Record<string, string> = { agent: SENTINELA_VERSION, node: process.versions.node };
  const servers = new Map<'mariadb' | 'postgres', Promise<ScratchServer>>();
  /** Seconds spent starting scratch servers: environment, not restore, so outside every RTO. */
  let setupSeconds = 0;
  const scratch: Scratch = async (kind) => {
    let server = servers.get(kind);
    if (!server) {
      const t0 = Date.now();
      const d = config.drills;
      server = kind === 'mariadb' ? (d.scratchMariadb ? configuredScratchMariadb(d.scratchMariadb) : startScratchMariadb(config)) : d.scratchPostgres ? configuredScratchPostgres(d.scratchPostgres) : startScratchPostgres(config);
      servers.set(kind, server);
      server.then((s) => (versions[kind === 'mariadb' ? 'mariadbd' : 'postgres'] = s.version)).catch(() => undefined);
      await server.catch(() => undefined);
      setupSeconds += (Date.now() - t0) / 1000;
    }
    return server;
  };
  // The size of the data now (the spool's newest snapshot of each source): a copy that is older (smaller) has its RTO projected to it.
  const fullBytes = new Map<string, number>();
  const spool = await openRepository(repositoryPath(config), key).then((r) => r.snapshots()).catch(() => [] as SnapshotManifest[]);
  for (const m of spool) fullBytes.set(m.source, m.content.bytes);
  let n = 0;
  try {
    for (const loc of opts.locations ?? drillLocations(config)) {
      let snaps: SnapshotManifest[] = [];
      let opened: string | null = null;
      if (!loc.fromHub) {
        try {
          if (!existsSync(loc.dir)) throw new Error(`${loc.dir} is not there`);
          snaps = await (await openRepository(loc.dir, key)).snapshots();
        } catch (err) {
          opened = (err as Error).message;
        }
      }
      for (const s of sources) {
        const t0 = Date.now();
        const setup0 = setupSeconds;
        let dir = loc.dir;
        if (loc.fromHub) {
          // The download is part of this copy's RTO: after a fire, it is the first step of the restore.
          opened = null;
          try {
            ({ dir, snaps } = await fromHub(config, key, s.name));
          } catch (err) {
            snaps = [];
            opened = (err as Error).message;
          }
        }
        const newest = snaps.filter((m) => m.source === s.name).at(-1);
        if (newest) fullBytes.set(s.name, Math.max(fullBytes.get(s.name) ?? 0, newest.content.bytes));
        let r: Checked;
        if (!newest) r = { source: s.name, kind: s.kind, snapshot: null, ok: false, problems: [opened ? `the copy cannot be read: ${opened}` : `no snapshot of ${s.name} here`], bytes: 0 };
        else {
          try {
            r = await drillOne(config, newest, dir, key, scratch, ++n);
          } catch (err) {
            r = { source: s.name, kind: s.kind, snapshot: newest.id, ok: false, problems: [(err as Error).message.split('\n')[0]!], bytes: 0 };
          }
        }
        const seconds = Math.max(0, (Date.now() - t0) / 1000 - (setupSeconds - setup0));
        const result: DrillResult = {
          ...r,
          location: loc.name,
          rtoSeconds: Math.round(seconds * 1000) / 1000,
          rpoSeconds: newest ? Math.round((Date.now() - Date.parse(newest.finishedAt)) / 1000) : null,
          projectedRtoSeconds: r.ok && r.bytes > 0 ? Math.round((seconds * Math.max(r.bytes, fullBytes.get(s.name) ?? 0)) / r.bytes) : null,
        };
        results.push(result);
        opts.onResult?.(result);
      }
    }
  } finally {
    for (const server of servers.values()) await (await server.catch(() => null))?.stop();
  }
  return { by: opts.by, startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), host: opts.host, versions, results, ok: results.every((r) => r.ok) };
}
