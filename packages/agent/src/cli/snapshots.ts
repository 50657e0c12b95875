/** `sentinela-agent snapshots`: the complete snapshots of the spool, a USB disk, the secondary server's mirror or any copy (--from). */
import type { AGENT_VERB_OPTIONS, SnapshotManifest } from '@sentinela/shared';
import { EXIT_FAILURE, EXIT_OK, formatBytes, type VerbInput } from '@sentinela/shared/cli';
import type { DamagedSnapshot } from '../repository/api.js';
import { openRepository } from '../repository/repository.js';
import { RepositoryError } from '../repository/errors.js';
import { optionalAgentConfig } from './config.js';
import { chosenDir, escrowedKeyIn, loadKey } from './repo-access.js';

export async function snapshotsVerb({ values, given, io }: VerbInput<typeof AGENT_VERB_OPTIONS.snapshots>): Promise<number> {
  // A bare machine (the secondary server, a new server) names the folder and gives the recovery code.
  const config = optionalAgentConfig(values.config, given);
  const dir = chosenDir('snapshots', values, config);
  let list: SnapshotManifest[];
  let damaged: DamagedSnapshot[];
  try {
    const repo = await openRepository(dir, loadKey('snapshots', values, config, escrowedKeyIn(dir, values, config)));
    list = await repo.snapshots(typeof values.source === 'string' ? { source: values.source } : {});
    damaged = await repo.damagedSnapshots();
  } catch (err) {
    if (!(err instanceof RepositoryError)) throw err;
    io.err(`sentinela-agent snapshots: ${err.message}`);
    return EXIT_FAILURE;
  }
  io.out(values.json ? JSON.stringify(list, null, 2) : formatSnapshots(list, dir));
  // A damaged manifest is not listed: say so on stderr, with what it takes down, and exit 1.
  for (const d of damaged) io.err(damagedText(d));
  return damaged.length ? EXIT_FAILURE : EXIT_OK;
}

export function damagedText(d: DamagedSnapshot): string {
  const deps = d.dependents.length ? `; the deltas that depend on it cannot be restored either: ${d.dependents.join(', ')}` : '';
  return `sentinela-agent snapshots: WARNING skipped snapshot ${d.id}, its manifest is damaged (${d.detail})${deps}; run verify`;
}

export function formatSnapshots(list: SnapshotManifest[], dir: string): string {
  if (list.length === 0) return `no snapshots in ${dir}`;
  const rows = [
    ['id', 'source', 'kind', 'time', 'type', 'content', 'stored', 'tables'],
    ...list.map((m) => [
      m.id,
      m.source,
      m.kind,
      m.finishedAt.replace(/\.\d+Z$/, 'Z'),
      m.base ? `delta ${m.chain}` : 'full',
      formatBytes(m.content.bytes),
      formatBytes(m.stored),
      m.tables ? String(Object.keys(m.tables).length) : '-',
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + `\n${list.length} snapshots in ${dir}`;
}
