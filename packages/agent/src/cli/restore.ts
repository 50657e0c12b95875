/**
 * `sentinela-agent restore`: a snapshot from any copy (spool, USB disk, the secondary server's mirror,
 * any repository folder) to a file, a folder or a new database, then the per-table row counts checked
 * against the manifest. Works on a bare machine with only a disk and the recovery code.
 */
import { resolve } from 'node:path';
import type { AgentConfig, BackupSourceConfig, SnapshotManifest } from '@sentinela/shared';
import { MasterKey } from '../repository/keys.js';
import type { Repository } from '../repository/api.js';
import { openRepository } from '../backup/repo.js';
import { backupKeyPath, repositoryPath } from '../paths.js';
import { scanForDisks } from '../locations/usb.js';
import { restoreFiles, restoreMariadb, restorePostgres, restoreSqlite, restoreToFile, RestoreRefused, type RestoreReport } from '../sources/index.js';
import type { DbConnection } from '../sources/connection.js';
import { EXIT_FAILURE, EXIT_OK, loadAgentConfig, parseVerbArgs, UsageError, type Io } from './io.js';
import { VERB_HELP } from './help.js';
import { progressPrinter } from './progress.js';
import { formatBytes } from './status.js';
import { fetchFromHub, HubFetchError } from '../offsite/fetch.js';
import { join } from 'node:path';
import { existsSync } from 'node:fs';

const OPTIONS = {
  config: { type: 'string', short: 'c' },
  snapshot: { type: 'string' },
  source: { type: 'string' },
  latest: { type: 'boolean' },
  from: { type: 'string' },
  'to-file': { type: 'string' },
  'to-dir': { type: 'string' },
  'to-database': { type: 'string' },
  force: { type: 'boolean' },
  'recovery-code': { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  user: { type: 'string' },
  'password-file': { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** The repository folder `--from` names: spool (default), peer, usb (the first disk of the site mounted), or a folder. */
function repositoryDir(from: string, config: AgentConfig | null): string {
  const need = (what: string): AgentConfig => {
    if (!config) throw new UsageError(`sentinela-agent restore: --from ${what} needs --config; on a bare machine give the disk's folder: --from /media/DISK`);
    return config;
  };
  if (from === 'spool') return repositoryPath(need('spool'));
  if (from === 'peer') {
    const path = need('peer').backup?.peer?.path;
    if (!path) throw new UsageError('sentinela-agent restore: --from peer but the config has no backup.peer.path');
    return path;
  }
  if (from === 'usb') {
    const c = need('usb');
    const site = c.site.id;
    const disks = scanForDisks(c.backup?.usb?.mountRoots ?? ['/media', '/mnt', '/run/media']).filter((d) => !site || d.label.siteId === site);
    if (disks.length === 0) throw new UsageError('sentinela-agent restore: --from usb but no backup disk of this site is mounted; plug it in, or give its folder: --from /media/DISK');
    return disks[0]!.path;
  }
  return resolve(from);
}

function loadKey(values: Record<string, string | boolean | undefined>, config: AgentConfig | null, escrowed?: string): MasterKey {
  if (typeof values['recovery-code'] === 'string') return MasterKey.fromRecoveryCode(values['recovery-code']);
  if (escrowed) return MasterKey.load(escrowed);
  if (!config) throw new UsageError('sentinela-agent restore: give --config (to use the site key file) or --recovery-code CODE');
  return MasterKey.load(backupKeyPath(config));
}

async function pickSnapshot(repo: Repository, values: Record<string, string | boolean | undefined>): Promise<SnapshotManifest> {
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

/** Connection for --to-database: the configured source of the same name, overridden by flags. */
function connection(values: Record<string, string | boolean | undefined>, config: AgentConfig | null, manifest: SnapshotManifest, database: string): DbConnection {
  const sc = config?.backup?.sources.find((s: BackupSourceConfig) => s.name === manifest.source && s.kind === manifest.kind) as
    | (BackupSourceConfig & { host?: string; port?: number; user?: string; passwordFile?: string })
    | undefined;
  const str = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const port = str('port') ?? sc?.port;
  return {
    host: str('host') ?? sc?.host,
    port: port === undefined ? undefined : Number(port),
    user: str('user') ?? sc?.user,
    passwordFile: str('password-file') ?? sc?.passwordFile,
    database,
  };
}

export async function restoreCommand(args: string[], io: Io): Promise<number> {
  const { values } = parseVerbArgs('restore', args, OPTIONS);
  if (values.help) {
    io.out(VERB_HELP.restore!);
    return EXIT_OK;
  }
  const config = typeof values.config === 'string' ? loadAgentConfig(values.config) : null;
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
    dir = repositoryDir(from, config);
    // An export from the hub made --with-key holds the escrowed key (README.txt there says so).
    if (typeof values['recovery-code'] !== 'string' && !config && existsSync(join(dir, 'backup.key'))) escrowed = join(dir, 'backup.key');
  }
  const key = loadKey(values, config, escrowed);
  const repo = await openRepository(dir, key);
  const manifest = await pickSnapshot(repo, values);
  io.err(`restoring ${manifest.id} (${manifest.kind}, ${formatBytes(manifest.content.bytes)}, taken ${manifest.finishedAt}) from ${dir}`);

  const progress = progressPrinter(io, 'restore');
  const total = manifest.content.bytes;
  const onBytes = (n: number) => progress.update({ phase: 'writing', doneBytes: n, totalBytes: total });
  const content = repo.read(manifest.id);
  const opts = { force: values.force === true, onProgress: onBytes, expectedTables: manifest.tables };
  let report: RestoreReport;
  try {
    if (typeof values['to-database'] === 'string') {
      const conn = connection(values, config, manifest, values['to-database']);
      if (manifest.kind === 'mariadb') report = await restoreMariadb(content, conn, opts);
      else if (manifest.kind === 'postgres') report = await restorePostgres(content, conn, opts);
      else throw new UsageError(`sentinela-agent restore: a ${manifest.kind} snapshot goes to a file or folder (--to-file / --to-dir), not --to-database`);
    } else if (typeof values['to-dir'] === 'string') {
      if (manifest.kind !== 'files') throw new UsageError(`sentinela-agent restore: --to-dir is for files sources; this is a ${manifest.kind} snapshot (use --to-file)`);
      report = await restoreFiles(content, resolve(values['to-dir']), { ...opts, expectedFiles: manifest.files });
    } else {
      const file = resolve(values['to-file'] as string);
      report = manifest.kind === 'sqlite' ? await restoreSqlite(content, file, opts) : await restoreToFile(content, file, opts);
    }
  } catch (err) {
    progress.done();
    content.destroy();
    if (err instanceof RestoreRefused) {
      io.err(`sentinela-agent restore: refused: ${err.message}`);
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
