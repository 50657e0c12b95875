/** `sentinela-agent disk init|list|eject`: the site's USB backup disks (and the secondary server's folder), worded in English. */
import type { AGENT_VERB_OPTIONS } from '@sentinela/shared';
import { EXIT_FAILURE, EXIT_OK, UsageError, type Io, type VerbInput } from '@sentinela/shared/cli';
import { snapshotTime } from '../backup/state.js';
import { ejectDisk, initDisk, listDisks, type DiskInitResult, type DiskInitWarning } from '../locations/disks.js';
import { loadAgentConfig } from './config.js';

type Options = typeof AGENT_VERB_OPTIONS;

function warningText(w: DiskInitWarning, path: string): string {
  if (w.code === 'same-filesystem') return `warning: ${path} is on the same filesystem as the spool (${w.spool}): a copy there does not survive the server's disk dying`;
  return `warning: ${path} is not under usb.mountRoots (${w.mountRoots.join(', ') || 'no usb: section'}): the agent will not notice it there`;
}

function initText(r: Extract<DiskInitResult, { ok: true }>): string {
  if (r.done === 'already') return `${r.path} is already ${r.role === 'peer' ? 'the mirror folder' : 'backup disk'} "${r.label}" (${r.diskId}) of site ${r.site}`;
  return r.role === 'peer'
    ? `${r.path} is now the secondary server's mirror folder of site ${r.site} ("${r.label}"); set backup.peer.path: ${r.path}`
    : `${r.path} is now backup disk "${r.label}" (${r.diskId}) of site ${r.site}: the agent copies every backup to it whenever it is mounted`;
}

export async function diskInitVerb({ values, args, io }: VerbInput<Options['disk init']>): Promise<number> {
  const config = loadAgentConfig(values.config);
  const r = await initDisk(config, args[0]!, { label: values.label, peer: values.peer === true });
  if (!r.ok) {
    if (r.code === 'other-site') {
      io.err(`sentinela-agent disk init: ${r.path} is already a backup disk of site ${r.site} ("${r.label}"); refusing to take it over`);
      return EXIT_FAILURE;
    }
    throw new UsageError(
      r.code === 'no-backup-config'
        ? 'the config has no backup: section (see examples/agent.yaml)'
        : r.code === 'no-site-id'
          ? 'the site id is unknown: set site.id in the config or enroll first'
          : `${r.path} is not a folder (is the disk mounted?)`,
    );
  }
  for (const w of r.warnings) io.err(warningText(w, r.path));
  io.out(initText(r));
  return EXIT_OK;
}

export async function diskListVerb({ values, io }: VerbInput<Options['disk list']>): Promise<number> {
  const config = loadAgentConfig(values.config);
  if (!config.backup) throw new UsageError('the config has no backup: section (see examples/agent.yaml)');
  const rows = listDisks(config);
  if (values.json) {
    io.out(JSON.stringify(rows, null, 2));
    return EXIT_OK;
  }
  if (rows.length === 0) {
    io.out('no backup disks yet: mount one and run sentinela-agent disk init PATH --config FILE');
    return EXIT_OK;
  }
  for (const r of rows) {
    io.out(`${r.label} (${r.id})${r.attachedAt ? `  ATTACHED at ${r.attachedAt}` : ''}`);
    io.out(`  last attached  ${r.lastAttachedAt ?? 'never'}`);
    io.out(`  last copy      ${r.lastCopyAt ?? 'never'}${r.lastError ? `  (last problem: ${r.lastError})` : ''}`);
    io.out(`  holds          ${r.snapshots} snapshots${Object.keys(r.newest).length ? '; newest: ' + Object.entries(r.newest).map(([s, id]) => `${s} ${snapshotTime(id)}`).join(', ') : ''}`);
  }
  return EXIT_OK;
}

function waitingLine(io: Io) {
  return (label: string, wait: boolean) =>
    io.err(wait ? `waiting for the copy to disk "${label}" to finish… / a aguardar o fim da cópia…` : `stopping the copy to disk "${label}" (it resumes next time) / a parar a cópia…`);
}

export async function diskEjectVerb({ values, args, io }: VerbInput<Options['disk eject']>): Promise<number> {
  const config = loadAgentConfig(values.config);
  const r = await ejectDisk(config, args[0]!, { wait: values.wait === true, noUnmount: values['no-unmount'] === true, onWaiting: waitingLine(io) });
  if (r.ok) {
    io.out(`Pode retirar o disco "${r.label}" com segurança. / It is safe to unplug disk "${r.label}".`);
    return EXIT_OK;
  }
  if (r.code === 'not-a-disk') io.err(`sentinela-agent disk eject: no backup disk at ${r.path} (no readable disk.json); nothing to do`);
  else if (r.code === 'sync-failed') io.err(`sentinela-agent disk eject: sync failed: ${r.detail} — do not unplug yet / não retire ainda`);
  else io.err(`the disk is synced, but unmounting ${r.path} failed: ${r.detail}\nclose any program using the disk and run eject again / feche os programas que usam o disco e repita`);
  return EXIT_FAILURE;
}
