/** `sentinela-agent verify`: checks a repository's structure, and with --read-data every object. */
import type { VerifyReport } from '../repository/api.js';
import { openRepository } from '../repository/repository.js';
import { RepositoryError } from '../repository/errors.js';
import type { AGENT_VERB_OPTIONS } from '@sentinela/shared';
import { EXIT_FAILURE, EXIT_OK, formatBytes, progressPrinter, type VerbInput } from '@sentinela/shared/cli';
import { optionalAgentConfig } from './config.js';
import { chosenDir, escrowedKeyIn, loadKey } from './repo-access.js';

export async function verifyVerb({ values, given, io }: VerbInput<typeof AGENT_VERB_OPTIONS.verify>): Promise<number> {
  const config = optionalAgentConfig(values.config, given);
  const dir = chosenDir('verify', values, config);
  const progress = progressPrinter(io, 'verify');
  let report: VerifyReport;
  try {
    const repo = await openRepository(dir, loadKey('verify', values, config, escrowedKeyIn(dir, values, config)));
    report = await repo.verify({ readData: values['read-data'] === true, onProgress: progress.update });
  } catch (err) {
    if (!(err instanceof RepositoryError)) throw err;
    progress.done();
    io.err(`sentinela-agent verify: ${err.message}`);
    return EXIT_FAILURE;
  }
  progress.done();
  if (values.json) io.out(JSON.stringify({ repository: dir, ...report }, null, 2));
  else {
    const how = values['read-data'] ? `every object read and decrypted (${formatBytes(report.bytesRead)})` : 'structure and object presence (add --read-data to read every object)';
    io.out(`${dir}: ${report.snapshots} snapshots, ${report.objects} objects; checked ${how}`);
    for (const p of report.problems) io.out(`PROBLEM ${p.kind} ${p.item}: ${p.detail}`);
    if (report.unreferenced.objects || report.tempFiles.files)
      io.out(
        `garbage (not a problem; \`sentinela-agent prune\` removes it): ${report.unreferenced.objects} objects no snapshot lists (${formatBytes(report.unreferenced.bytes)}), ${report.tempFiles.files} leftover .tmp-* files (${formatBytes(report.tempFiles.bytes)})`,
      );
    io.out(report.problems.length ? `${report.problems.length} problems found` : 'no problems found');
  }
  return report.problems.length ? EXIT_FAILURE : EXIT_OK;
}
