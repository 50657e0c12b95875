/** `sentinela-agent backup`: back up now, every source or one, into the local spool. */
import { describeHolder, type AGENT_VERB_OPTIONS, type SnapshotManifest } from '@sentinela/shared';
import { EXIT_FAILURE, EXIT_OK, formatBytes, progressPrinter, UsageError, type VerbInput } from '@sentinela/shared/cli';
import { loadOrCreateKey } from '../repository/keys.js';
import { createSource } from '../sources/index.js';
import { openOrInitSpool } from '../backup/spool.js';
import { BackupState, backupStatePath } from '../backup/state.js';
import { backupSource, failureText } from '../backup/runner.js';
import { backupKeyPath, repositoryPath } from '../paths.js';
import { loadAgentConfig } from './config.js';
import { backupConfig, siteIdOf } from './backup-context.js';

export async function backupVerb({ values, io }: VerbInput<typeof AGENT_VERB_OPTIONS.backup>): Promise<number> {
  const config = loadAgentConfig(values.config);
  const cfg = backupConfig(config, 'backup');
  const wanted = typeof values.source === 'string' ? cfg.sources.filter((s) => s.name === values.source) : cfg.sources;
  if (wanted.length === 0) throw new UsageError(`sentinela-agent backup: no source named "${String(values.source)}"; sources: ${cfg.sources.map((s) => s.name).join(', ')}`);

  const { key, created } = loadOrCreateKey(backupKeyPath(config));
  if (created) io.err(`a new backup key was created at ${backupKeyPath(config)}: print its recovery code with "sentinela-agent key export" and keep it with the USB disks`);
  const repo = await openOrInitSpool(repositoryPath(config), siteIdOf(config, 'backup'), key);
  const state = BackupState.open(backupStatePath(config));
  const done: Array<{ manifest: SnapshotManifest; durationMs: number }> = [];
  let failed = 0;
  try {
    for (const sc of wanted) {
      const progress = progressPrinter(io, sc.name);
      try {
        const r = await backupSource(repo, createSource(sc, { tmpDir: config.dataDir }), state, {
          rebaseEvery: cfg.rebaseEvery,
          onProgress: progress.update,
          onLockWait: (h) => io.err(`waiting for the repository: in use by ${h.map(describeHolder).join('; ')}`),
        });
        progress.done();
        done.push(r);
        if (!values.json)
          io.out(`${sc.name}: ${r.manifest.id}  ${formatBytes(r.manifest.content.bytes)} dumped, ${formatBytes(r.manifest.stored)} stored, ${(r.durationMs / 1000).toFixed(1)} s${r.manifest.base ? ` (delta, chain ${r.manifest.chain})` : ' (full)'}`);
      } catch (err) {
        progress.done();
        failed++;
        io.err(`sentinela-agent backup: ${sc.name} failed: ${failureText(err)}`);
      }
    }
  } finally {
    state.close();
  }
  if (values.json)
    io.out(JSON.stringify(done.map((d) => ({ id: d.manifest.id, source: d.manifest.source, contentBytes: d.manifest.content.bytes, storedBytes: d.manifest.stored, durationMs: d.durationMs, base: d.manifest.base, chain: d.manifest.chain, tables: d.manifest.tables ?? null })), null, 2));
  return failed > 0 ? EXIT_FAILURE : EXIT_OK;
}
