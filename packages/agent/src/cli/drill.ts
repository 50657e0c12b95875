/** `sentinela-agent drill`: a restore drill now, its report on stdout and in <dataDir>/drills/last.json. */
import { hostname, userInfo } from 'node:os';
import { rmSync } from 'node:fs';
import type { AGENT_VERB_OPTIONS } from '@sentinela/shared';
import { EXIT_FAILURE, EXIT_OK, UsageError, type VerbInput } from '@sentinela/shared/cli';
import { loadAgentConfig } from './config.js';
import { loadKey, repositoryDir } from './repo-access.js';
import { drillLocations, HUB_LOCATION, runDrill } from '../drills/drill.js';
import { removeLeftovers, scratchRoot } from '../drills/scratch.js';
import { recordDrill } from '../drills/record.js';

export async function drillVerb({ values, io }: VerbInput<typeof AGENT_VERB_OPTIONS.drill>): Promise<number> {
  const config = loadAgentConfig(values.config);
  if (!config.backup) throw new UsageError('sentinela-agent drill: the config has no backup: section');
  for (const dir of removeLeftovers(config)) io.err(`removed a drill's leftover scratch copy: ${dir}`);
  const from = typeof values.from === 'string' ? values.from : null;
  const locations = from === null ? drillLocations(config) : drillLocations(config).filter((l) => l.name === from || l.name.startsWith(`${from}:`));
  if (from !== null && locations.length === 0) locations.push(from === 'hub' ? HUB_LOCATION : { name: from, dir: repositoryDir('drill', from, config) });
  const sources = typeof values.source === 'string' ? [values.source] : undefined;
  if (sources && !config.backup.sources.some((s) => s.name === sources[0])) throw new UsageError(`sentinela-agent drill: no source "${sources[0]}" in the config`);
  const key = loadKey('drill', values, config);
  const report = await runDrill(config, key, {
    by: `cli:${userInfo().username}`,
    sources,
    locations,
    host: hostname(),
    onResult: (r) => io.err(`${r.ok ? 'PASS' : 'FAIL'} ${r.source} from ${r.location}: ${r.snapshot ?? '-'} in ${r.rtoSeconds.toFixed(1)} s${r.ok ? '' : `: ${r.problems.join('; ')}`}`),
  });
  rmSync(scratchRoot(config), { recursive: true, force: true });
  if (!recordDrill(config, report)) io.err('the agent is not enrolled: the drill report is kept locally and not sent to the hub');
  if (values.json) io.out(JSON.stringify(report, null, 2));
  else {
    for (const r of report.results)
      io.out(`${r.ok ? 'PASS' : 'FAIL'}  ${r.source.padEnd(12)} ${r.location.padEnd(16)} RTO ${r.rtoSeconds.toFixed(1)} s  RPO ${r.rpoSeconds === null ? '-' : `${Math.round(r.rpoSeconds / 60)} min`}${r.projectedRtoSeconds !== null && r.projectedRtoSeconds > r.rtoSeconds * 1.05 ? ` (RTO at the current size ${Math.round(r.projectedRtoSeconds)} s)` : ''}${r.ok ? '' : `  ${r.problems.join('; ')}`}`);
    io.out(report.ok ? 'drill: every copy restored and checked' : 'drill FAILED: see the lines above');
  }
  return report.ok ? EXIT_OK : EXIT_FAILURE;
}
