/**
 * A restore drill: the newest snapshot of each source, from every place that holds it (the spool,
 * each attached USB disk, the secondary server's mirror), restored into a scratch target and
 * checked against the facts the manifest recorded at backup time: per-table row counts and, for
 * MariaDB, per-table SHA-256 of the rows (the restored copy is dumped again with the same flags).
 * Each result records RTO (wall time to restore and check) and RPO (age of the data restored).
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { SENTINELA_VERSION, type AgentConfig, type DrillReport, type DrillResult, type SnapshotManifest } from '@sentinela/shared';
import type { MasterKey } from '../repository/keys.js';
import { openRepository } from '../backup/repo.js';
import { repositoryPath } from '../paths.js';
import { restoreFiles, restoreMariadb, restoreSqlite } from '../sources/index.js';
import { mariadbArgs } from '../sources/connection.js';
import { MARIADB_DUMP_FLAGS } from '../sources/mariadb.js';
import { findTool } from '../sources/process.js';
import { mariadbTableSums } from '../sources/table-sums.js';
import { readDiskLabel } from '../locations/disk-label.js';
import { siteDisks } from '../locations/usb.js';
import { configuredScratch, scratchDir, startScratchMariadb, type ScratchMariadb } from './scratch.js';
import { myIdent, type DbConnection } from '../sources/connection.js';
import { query } from '../sources/sql-cli.js';

export interface DrillLocation {
  /** spool, usb:<label>, peer */
  name: string;
  dir: string;
}

/** What restoring and checking one copy finds; runDrill adds where from and the times. */
type Checked = Pick<DrillResult, 'source' | 'kind' | 'snapshot' | 'ok' | 'problems' | 'bytes'>;

/** Every place this site's copies are: the spool, each attached USB disk, the peer mirror when labelled. */
export function drillLocations(config: AgentConfig): DrillLocation[] {
  const out: DrillLocation[] = [{ name: 'spool', dir: repositoryPath(config) }];
  for (const d of siteDisks(config)) out.push({ name: `usb:${d.label}`, dir: d.path });
  const peer = config.backup?.peer?.path;
  if (peer && readDiskLabel(peer)?.siteId === config.site.id) out.push({ name: 'peer', dir: peer });
  return out;
}

/** Dumps a restored database again and returns its per-table row sums. */
async function dumpSums(conn: Omit<DbConnection, 'database'>, database: string): Promise<Record<string, string>> {
  const tool = findTool(['mariadb-dump', 'mysqldump']) ?? 'mariadb-dump';
  const a = mariadbArgs(conn);
  const child = spawn(tool, [...a.args, ...MARIADB_DUMP_FLAGS, '--', database], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const sums = mariadbTableSums();
  const exit = new Promise<number | null>((r) => child.on('close', r));
  await pipeline(child.stdout, sums.stage, createWriteStream('/dev/null'));
  const code = await exit;
  a.cleanup();
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

async function drillOne(config: AgentConfig, m: SnapshotManifest, repoDir: string, key: MasterKey, scratch: () => Promise<ScratchMariadb>, n: number): Promise<Checked> {
  const repo = await openRepository(repoDir, key);
  const content = repo.read(m.id);
  const base = { source: m.source, kind: m.kind, snapshot: m.id };
  if (m.kind === 'mariadb') {
    const s = await scratch();
    // A unique name: a configured scratch server may hold a copy a killed drill left (removed by name below on the next run).
    const database = `sentinela_drill_${process.pid}_${n}`;
    try {
      const report = await restoreMariadb(content, { ...s.conn, database }, { expectedTables: m.tables });
      const found = Object.fromEntries(Object.entries(report.tables).map(([t, c]) => [t, c.found]));
      const problems = [...report.problems, ...compareCounts(m.sourceTables, found), ...compareSums(m.tableSums, await dumpSums(s.conn, database))];
      return { ...base, ok: problems.length === 0, problems, bytes: report.bytes };
    } finally {
      // A configured scratch server outlives the drill: its copy goes now (a throwaway server goes whole).
      if (s.shared) await query('mariadb', { ...s.conn, database }, `DROP DATABASE IF EXISTS ${myIdent(database)}`, null).catch(() => undefined);
    }
  }
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

export async function runDrill(
  config: AgentConfig,
  key: MasterKey,
  opts: { by: string; sources?: string[]; locations?: DrillLocation[]; host: string; onResult?: (r: DrillResult) => void },
): Promise<DrillReport> {
  const startedAt = new Date();
  const results: DrillResult[] = [];
  const sources = (config.backup?.sources ?? []).filter((s) => !opts.sources || opts.sources.includes(s.name));
  let server: Promise<ScratchMariadb> | null = null;
  const versions: Record<string, string> = { agent: SENTINELA_VERSION, node: process.versions.node };
  const scratch = () =>
    (server ??= (config.drills.scratchMariadb ? configuredScratch(config.drills.scratchMariadb) : startScratchMariadb(config)).then((s) => {
      versions.mariadbd = s.version;
      return s;
    }));
  /** The newest size of each source: a copy that is older (smaller) than the data now is projected to it. */
  const fullBytes = new Map<string, number>();
  let n = 0;
  try {
    for (const loc of opts.locations ?? drillLocations(config)) {
      let snaps: SnapshotManifest[] = [];
      let opened: string | null = null;
      try {
        if (!existsSync(loc.dir)) throw new Error(`${loc.dir} is not there`);
        snaps = await (await openRepository(loc.dir, key)).snapshots();
      } catch (err) {
        opened = (err as Error).message;
      }
      for (const s of sources) {
        const newest = snaps.filter((m) => m.source === s.name).at(-1);
        const t0 = Date.now();
        if (newest) fullBytes.set(s.name, Math.max(fullBytes.get(s.name) ?? 0, newest.content.bytes));
        let r: Checked;
        if (!newest) r = { source: s.name, kind: s.kind, snapshot: null, ok: false, problems: [opened ? `the copy cannot be read: ${opened}` : `no snapshot of ${s.name} here`], bytes: 0 };
        else {
          try {
            r = await drillOne(config, newest, loc.dir, key, scratch, ++n);
          } catch (err) {
            r = { source: s.name, kind: s.kind, snapshot: newest.id, ok: false, problems: [(err as Error).message.split('\n')[0]!], bytes: 0 };
          }
        }
        const seconds = (Date.now() - t0) / 1000;
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
    if (server) await (await (server as Promise<ScratchMariadb>).catch(() => null))?.stop();
  }
  return { by: opts.by, startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), host: opts.host, versions, results, ok: results.every((r) => r.ok) };
}
