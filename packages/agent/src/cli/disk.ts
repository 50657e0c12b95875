/** `sentinela-agent disk init|list|eject`: the site's USB backup disks (and the secondary server's folder). */
import { AGENT_VERB_OPTIONS } from '@sentinela/shared';
import { existsSync, statSync, closeSync, fsyncSync, openSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { MasterKey } from '../repository/keys.js';
import { initRepository } from '../backup/repo.js';
import { BackupState, backupStatePath, snapshotTime } from '../backup/state.js';
import { backupKeyPath, repositoryPath } from '../paths.js';
import { newDiskLabel, readDiskLabel, writeDiskLabel } from '../locations/disk-label.js';
import { scanForDisks } from '../locations/usb.js';
import { EXIT_FAILURE, EXIT_OK, loadAgentConfig, parseVerbArgs, requireOption, UsageError, type Io } from './io.js';
import { VERB_HELP } from './help.js';
import { backupConfig, siteIdOf } from './backup-context.js';
import { parseArgs } from 'node:util';
import type { AgentConfig } from '@sentinela/shared';

export async function diskCommand(args: string[], io: Io): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'init') return diskInit(rest, io);
  if (sub === 'list') return diskList(rest, io);
  if (sub === 'eject') return diskEject(rest, io);
  if (sub === undefined || sub === '--help' || sub === '-h') {
    io.out(VERB_HELP.disk!);
    return sub === undefined ? 2 : EXIT_OK;
  }
  throw new UsageError(`sentinela-agent disk: unknown action "${sub}"; actions: init, list, eject\nsee: sentinela-agent disk --help`);
}

/** Options plus exactly one PATH. */
function withPath(action: string, args: string[], options: Parameters<typeof parseVerbArgs>[2]): { values: Record<string, string | boolean | undefined>; path: string | undefined } {
  try {
    const { values, positionals } = parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: true });
    if (positionals.length > 1) throw new Error(`one PATH only, got ${positionals.length}`);
    return { values, path: positionals[0] };
  } catch (err) {
    throw new UsageError(`${(err as Error).message.split('\n')[0]}\nsee: sentinela-agent disk ${action} --help`);
  }
}

function deviceOf(path: string): number | null {
  try {
    return statSync(path).dev;
  } catch {
    return null;
  }
}

async function diskInit(args: string[], io: Io): Promise<number> {
  const { values, path: rawPath } = withPath('init', args, AGENT_VERB_OPTIONS['disk init']);
  if (values.help) {
    io.out(VERB_HELP.disk!);
    return EXIT_OK;
  }
  if (!rawPath) throw new UsageError('sentinela-agent disk init: missing PATH (the mounted disk, e.g. /media/backup-a)\nsee: sentinela-agent disk --help');
  const config = loadAgentConfig(requireOption('disk init', values.config, 'config'));
  return initDisk(config, rawPath, { label: typeof values.label === 'string' ? values.label : undefined, peer: values.peer === true }, io);
}

/** `disk init` once the command line is read; also what the local page's "Initialize disk" calls. */
export async function initDisk(config: AgentConfig, rawPath: string, opts: { label?: string; peer?: boolean }, io: Io): Promise<number> {
  const values = opts;
  const cfg = backupConfig(config, 'disk init');
  const site = siteIdOf(config, 'disk init');
  const path = resolve(rawPath);
  if (!existsSync(path) || !statSync(path).isDirectory()) throw new UsageError(`sentinela-agent disk init: ${path} is not a folder (is the disk mounted?)`);

  const existing = readDiskLabel(path);
  if (existing && existing.siteId !== site) {
    io.err(`sentinela-agent disk init: ${path} is already a backup disk of site ${existing.siteId} ("${existing.label}"); refusing to take it over`);
    return EXIT_FAILURE;
  }
  const role = values.peer ? 'peer' : 'usb';
  if (deviceOf(path) !== null && deviceOf(path) === deviceOf(dirname(repositoryPath(config))) && deviceOf(dirname(repositoryPath(config))) !== null)
    io.err(`warning: ${path} is on the same filesystem as the spool (${repositoryPath(config)}): a copy there does not survive the server's disk dying`);
  if (role === 'usb' && !(cfg.usb?.mountRoots ?? []).some((r) => path === resolve(r) || path.startsWith(resolve(r) + '/')))
    io.err(`warning: ${path} is not under usb.mountRoots (${(cfg.usb?.mountRoots ?? []).join(', ') || 'no usb: section'}): the agent will not notice it there`);

  const key = MasterKey.load(backupKeyPath(config));
  // The repository first, the label last: a folder with disk.json is always a usable repository.
  if (!existsSync(join(path, 'sentinela-repo.json'))) await initRepository(path, { siteId: site, key });
  const label = existing ?? newDiskLabel(site, values.label, role);
  if (!existing) writeDiskLabel(path, label);
  const state = BackupState.open(backupStatePath(config));
  try {
    if (role === 'usb') state.upsertDisk({ id: label.diskId, label: label.label, site, createdAt: label.created });
  } finally {
    state.close();
  }
  io.out(
    existing
      ? `${path} is already ${role === 'peer' ? 'the mirror folder' : 'backup disk'} "${label.label}" (${label.diskId}) of site ${site}`
      : role === 'peer'
        ? `${path} is now the secondary server's mirror folder of site ${site} ("${label.label}"); set backup.peer.path: ${path}`
        : `${path} is now backup disk "${label.label}" (${label.diskId}) of site ${site}: the agent copies every backup to it whenever it is mounted`,
  );
  return EXIT_OK;
}

async function diskList(args: string[], io: Io): Promise<number> {
  const { values } = parseVerbArgs('disk list', args, AGENT_VERB_OPTIONS['disk list']);
  if (values.help) {
    io.out(VERB_HELP.disk!);
    return EXIT_OK;
  }
  const config = loadAgentConfig(requireOption('disk list', values.config, 'config'));
  const cfg = backupConfig(config, 'disk list');
  const attached = new Map(scanForDisks(cfg.usb?.mountRoots ?? []).map((d) => [d.label.diskId, d.path]));
  const state = BackupState.open(backupStatePath(config));
  let rows;
  try {
    rows = state.disks().map((d) => {
      const held = state.held(`usb:${d.id}`);
      const newest: Record<string, string> = {};
      for (const h of held) newest[h.source] = h.snapshotId; // held is ordered by id: the last one wins
      return { ...d, attachedAt: attached.get(d.id) ?? null, snapshots: held.length, newest };
    });
  } finally {
    state.close();
  }
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

function isMountPoint(path: string): boolean {
  const here = deviceOf(path);
  const parent = deviceOf(dirname(path));
  return here !== null && parent !== null && here !== parent;
}

async function diskEject(args: string[], io: Io): Promise<number> {
  const { values, path: rawPath } = withPath('eject', args, AGENT_VERB_OPTIONS['disk eject']);
  if (values.help) {
    io.out(VERB_HELP.disk!);
    return EXIT_OK;
  }
  if (!rawPath) throw new UsageError('sentinela-agent disk eject: missing PATH (where the disk is mounted)\nsee: sentinela-agent disk --help');
  const config = loadAgentConfig(requireOption('disk eject', values.config, 'config'));
  return ejectDisk(config, rawPath, { wait: values.wait === true, noUnmount: values['no-unmount'] === true }, io);
}

/** `disk eject` once the command line is read; also what the local page's "Eject disk" calls. */
export async function ejectDisk(config: AgentConfig, rawPath: string, opts: { wait: boolean; noUnmount: boolean }, io: Io): Promise<number> {
  const values = { wait: opts.wait, 'no-unmount': opts.noUnmount };
  const path = resolve(rawPath);
  const label = readDiskLabel(path);
  if (!label) {
    io.err(`sentinela-agent disk eject: no backup disk at ${path} (no readable disk.json); nothing to do`);
    return EXIT_FAILURE;
  }
  const location = `usb:${label.diskId}`;
  const state = BackupState.open(backupStatePath(config));
  try {
    // The request first, then look for a copy: the agent marks a copy before it looks for a request.
    state.requestEject(label.diskId, values.wait === true, new Date().toISOString());
    if (state.copyingPid(location) !== null) {
      io.err(values.wait ? `waiting for the copy to disk "${label.label}" to finish… / a aguardar o fim da cópia…` : `stopping the copy to disk "${label.label}" (it resumes next time) / a parar a cópia…`);
      while (state.copyingPid(location) !== null) await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    state.close();
  }
  // Everything written reaches the device: the disk's own files, then the whole filesystem.
  for (const p of [join(path, 'snapshots'), join(path, 'objects'), path]) {
    try {
      const fd = openSync(p, 'r');
      fsyncSync(fd);
      closeSync(fd);
    } catch {
      /* a folder missing on a fresh disk */
    }
  }
  const synced = spawnSync('sync', ['-f', path], { encoding: 'utf8' });
  spawnSync('sync', [], { encoding: 'utf8' });
  if (synced.status !== 0) {
    io.err(`sentinela-agent disk eject: sync failed: ${synced.stderr.trim()} — do not unplug yet / não retire ainda`);
    return EXIT_FAILURE;
  }
  if (!values['no-unmount'] && isMountPoint(path)) {
    const um = spawnSync('umount', [path], { encoding: 'utf8' });
    if (um.status !== 0) {
      io.err(`the disk is synced, but unmounting ${path} failed: ${um.stderr.trim()}\nclose any program using the disk and run eject again / feche os programas que usam o disco e repita`);
      return EXIT_FAILURE;
    }
    // Unmounted: whatever is mounted there next is a new attach, even if the agent never saw it gone.
    const st = BackupState.open(backupStatePath(config));
    try {
      st.clearEject(label.diskId);
      st.setMeta(`ejected:${label.diskId}`, new Date().toISOString());
    } finally {
      st.close();
    }
  }
  io.out(`Pode retirar o disco "${label.label}" com segurança. / It is safe to unplug disk "${label.label}".`);
  return EXIT_OK;
}
