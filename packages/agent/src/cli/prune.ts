/** `sentinela-agent prune`: removes objects no snapshot lists and leftover `.tmp-*` files. */
import { describeHolder, type AGENT_VERB_OPTIONS } from '@sentinela/shared';
import { EXIT_FAILURE, EXIT_OK, formatBytes, progressPrinter, UsageError, type VerbInput } from '@sentinela/shared/cli';
import type { PruneResult } from '../repository/api.js';
import { MasterKey } from '../repository/keys.js';
import { openRepository } from '../repository/repository.js';
import { RepositoryError } from '../repository/errors.js';
import { backupKeyPath, repositoryPath } from '../paths.js';
import { loadAgentConfig } from './config.js';

export async function pruneVerb({ values, io }: VerbInput<typeof AGENT_VERB_OPTIONS.prune>): Promise<number> {
  const config = loadAgentConfig(values.config);
  const dir = typeof values.repo === 'string' ? values.repo : repositoryPath(config);
  const grace = typeof values['grace-hours'] === 'string' ? Number(values['grace-hours']) : 6;
  if (!Number.isFinite(grace) || grace < 0) throw new UsageError(`prune: --grace-hours must be a number of hours ≥ 0, not "${values['grace-hours']}"`);
  const dryRun = values['dry-run'] === true;
  const progress = progressPrinter(io, 'prune');
  let result: PruneResult;
  try {
    const repo = await openRepository(dir, MasterKey.load(backupKeyPath(config)));
    result = await repo.prune({
      graceMs: grace * 3600 * 1000,
      dryRun,
      onProgress: progress.update,
      onLockWait: (h) => io.err(`waiting for the repository: in use by ${h.map(describeHolder).join('; ')}`),
    });
  } catch (err) {
    if (!(err instanceof RepositoryError)) throw err;
    progress.done();
    io.err(`sentinela-agent prune: ${err.message}`);
    return EXIT_FAILURE;
  }
  progress.done();
  if (values.json) io.out(JSON.stringify({ repository: dir, ...result }, null, 2));
  else {
    const verb = dryRun ? 'would remove' : 'removed';
    io.out(`${dir}: ${verb} ${result.removedObjects} unreferenced objects and ${result.removedTempFiles} leftover .tmp-* files, ${formatBytes(result.freedBytes)}`);
    if (result.sparedYoung) io.out(`kept ${result.sparedYoung} younger than ${grace} h (a backup or copy may be writing them)`);
  }
  return EXIT_OK;
}
