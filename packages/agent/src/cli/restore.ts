/**
 * `sentinela-agent restore`: a snapshot from any copy (spool, USB disk, the secondary server's mirror,
 * any repository folder) to a file, a folder or a new database, then the per-table row counts checked
 * against the manifest. Works on a bare machine with only a disk and the recovery code.
 */
import { resolve, join } from 'node:path';
import type { AGENT_VERB_OPTIONS, AgentConfig, SnapshotManifest } from '@sentinela/shared';
import { EXIT_FAILURE, EXIT_OK, formatBytes, progressPrinter, UsageError, type VerbInput } from '@sentinela/shared/cli';
import type { Repository } from '../repository/api.js';
import { openRepository } from '../backup/repo.js';
import { restoreServer, restoreSnapshot, restoreTargets, RestoreRefused, WrongTarget, type RestoreReport, type RestoreTarget } from '../sources/index.js';
import type { DbConnection } from '../sources/connection.js';
import { ClientError } from '../sources/sql-cli.js';
import { optionalAgentConfig } from './config.js';
import { fetchFromHub, HubFetchError } from '../offsite/fetch.js';
import { existsSync } from 'node:fs';
import { escrowedKeyIn, loadKey, repositoryDir } from './repo-access.js';

type Values = VerbInput<typeof AGENT_VERB_OPTIONS.restore>['values'];

async function pickSnapshot(repo: Repository, values: Values): Promise<SnapshotManifest> {
  if (typeof values.snapshot === 'string') {
    const found = (await repo.snapshots()).find((s) => s.id === values.snapshot);
    if (!found) throw new UsageError(`sentinela-agent restore: no snapshot ${values.snapshot} in ${repo.dir} (list them with: sentinela-agent snapshots)`);
    return found;
  }
  if (typeof values.source !== 'string' || !values.latest)
    throw new UsageError('sentinela-agent restore: say what to restore: --snapshot ID, or --source NAME --latest\nsee: sentinela-agent restore --help');
  const all = await repo.snapshots({ source: values.source });
  const latest = all[all.length - 1];
  if (!latest) {
    const sources = [...new Set((await repo.snapshots()).map((s) => s.source))];
    throw new UsageError(`sentinela-agent restore: no snapshot of source "${values.source}" in ${repo.dir}; sources there: ${sources.join(', ') || 'none'}`);
  }
  return latest;
}

/** The server for --to-database: --host, --port, --user, --password-file over the configured source's. */
export function restoreConnection(values: Values, config: AgentConfig | null, manifest: SnapshotManifest, database: string): DbConnection {
  const port = values.port;
  if (port !== undefined && !/^\d{1,5}$/.test(port)) throw new UsageError(`sentinela-agent restore: --port ${port} is not a port number`);
  return restoreServer(config, manifest, database, { host: values.host, port: port === undefined ? undefined : Number(port), user: values.user, passwordFile: values['password-file'] });
}

/** The target the command line names, with the same words as the options. */
function targetOf(values: Values, config: AgentConfig | null, manifest: SnapshotManifest): RestoreTarget {
  if (values['to-database'] !== undefined) return { to: 'database', conn: restoreConnection(values, config, manifest, values['to-database']) };
  if (values['to-dir'] !== undefined) return { to: 'dir', path: resolve(values['to-dir']) };
  return { to: 'file', path: resolve(values['to-file']!) };
}

const TARGET_OPTION = { file: '--to-file', dir: '--to-dir', database: '--to-database' } as const;

/** One line for a database client's refusal, with what to do when it is a missing right. */
export function clientFailure(err: ClientError, conn: DbConnection): string {
  const who = conn.user ? `user ${conn.user}` : 'the default user';
  if (/\b(1044|1045|1142|1227)\b|permission denied|must be owner|password authentication failed/i.test(err.message))
    return `${err.message} — ${who} may not create and load database ${conn.database}; restore needs an admin of the server: --user ADMIN --password-file FILE (the backup user only reads)`;
  return err.message;
}

export async function restoreVerb({ values, given, io }: VerbInput<typeof AGENT_VERB_OPTIONS.restore>): Promise<number> {
  const config = optionalAgentConfig(values.config, given);
  const targets = (['to-file', 'to-dir', 'to-database'] as const).filter((k) => typeof values[k] === 'string');
  if (targets.length !== 1) throw new UsageError('sentinela-agent restore: give one target: --to-file FILE, --to-dir DIR or --to-database NAME\nsee: sentinela-agent restore --help');
  const from = typeof values.from === 'string' ? values.from : 'spool';
  let dir: string;
  let escrowed: string | undefined;
  if (from === 'hub') {
    // The hub's off-site copy (after fire or flood): downloaded first, with the escrowed key when the hub holds it.
    if (!config) throw new UsageError('sentinela-agent restore: --from hub needs --config (the enrolled agent.yaml of this server)');
    if (typeof values.snapshot !== 'string' && !values.latest) throw new UsageError('sentinela-agent restore: say what to restore: --snapshot ID, or --source NAME --latest');
    const fetching = progressPrinter(io, 'download');
    try {
      const snapshot = typeof values.snapshot === 'string' ? values.snapshot : 'latest';
      const source = snapshot === 'latest' && typeof values.source === 'string' ? values.source : undefined;
      const got = await fetchFromHub(config, snapshot, (n) => fetching.update({ phase: 'from the hub', doneBytes: n }), source);
      fetching.done();
      io.err(`downloaded ${formatBytes(got.bytes)} (${got.files} files) from the hub into ${got.dir}`);
      dir = got.dir;
      escrowed = typeof values['recovery-code'] === 'string' ? undefined : existsSync(join(got.dir, 'backup.key')) ? join(got.dir, 'backup.key') : undefined;
    } catch (err) {
      fetching.done();
      if (err instanceof HubFetchError) {
        io.err(`sentinela-agent restore: ${err.message}`);
        return EXIT_FAILURE;
      }
      throw err;
    }
  } else {
    dir = repositoryDir('restore', from, config);
    escrowed = escrowedKeyIn(dir, values, config);
  }
  const key = loadKey('restore', values, config, escrowed);
  const repo = await openRepository(dir, key);
  const manifest = await pickSnapshot(repo, values);
  io.err(`restoring ${manifest.id} (${manifest.kind}, ${formatBytes(manifest.content.bytes)}, taken ${manifest.finishedAt}) from ${dir}`);

  const progress = progressPrinter(io, 'restore');
  const total = manifest.content.bytes;
  const onBytes = (n: number) => progress.update({ phase: 'writing', doneBytes: n, totalBytes: total });
  const target = targetOf(values, config, manifest);
  const conn = target.to === 'database' ? target.conn : undefined;
  const content = repo.read(manifest.id);
  const opts = { force: values.force === true, onProgress: onBytes };
  let report: RestoreReport;
  try {
    if (conn?.user && !conn.passwordFile) io.err(`note: --user ${conn.user} without --password-file: connecting without a password`);
    report = await restoreSnapshot(content, manifest, target, opts);
  } catch (err) {
    progress.done();
    content.destroy();
    if (err instanceof WrongTarget)
      throw new UsageError(`sentinela-agent restore: a ${err.kind} snapshot cannot go to ${TARGET_OPTION[err.to]}; use ${restoreTargets(err.kind).map((to) => TARGET_OPTION[to]).join(' or ')}`);
    if (err instanceof RestoreRefused) {
      io.err(`sentinela-agent restore: refused: ${err.message}`);
      return EXIT_FAILURE;
    }
    if (err instanceof ClientError && conn) {
      io.err(`sentinela-agent restore: ${clientFailure(err, conn)}`);
      return EXIT_FAILURE;
    }
    throw err;
  }
  progress.done();
  if (values.json) io.out(JSON.stringify({ snapshot: manifest.id, source: manifest.source, kind: manifest.kind, from: dir, ...report }, null, 2));
  else {
    io.out(`restored ${manifest.id} into ${report.target}: ${formatBytes(report.bytes)}`);
    const names = Object.keys(report.tables);
    if (names.length) {
      const w = Math.max(5, ...names.map((n) => n.length));
      io.out(`${'table'.padEnd(w)}  ${'expected'.padStart(10)}  ${'found'.padStart(10)}`);
      for (const n of names) io.out(`${n.padEnd(w)}  ${String(report.tables[n]!.expected).padStart(10)}  ${String(report.tables[n]!.found).padStart(10)}${report.tables[n]!.expected === report.tables[n]!.found ? '' : '  DIFFERS'}`);
    } else if (manifest.kind !== 'files') io.out('no per-table row counts to check for this target (the content was checked against its SHA-256)');
    io.out(report.ok ? 'check: OK' : `check FAILED:\n  ${report.problems.join('\n  ')}`);
  }
  return report.ok ? EXIT_OK : EXIT_FAILURE;
}
