/**
 * The site's backup disks (and the secondary server's mirror folder): initialize one, list them,
 * eject one safely. What `sentinela-agent disk` and the local page's buttons both call; each returns
 * what happened as codes and data, and the caller words it (the CLI in English, the page in pt/en).
 */
import { closeSync, existsSync, fsyncSync, openSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import type { AgentConfig } from '@sentinela/shared';
import { MasterKey } from '../repository/keys.js';
import { initRepository } from '../backup/repo.js';
import { BackupState, backupStatePath, type DiskRecord } from '../backup/state.js';
import { readCredentials } from '../enroll/credentials.js';
import { backupKeyPath, credentialsPath, repositoryPath } from '../paths.js';
import { newDiskLabel, readDiskLabel, writeDiskLabel } from './disk-label.js';
import { scanForDisks } from './usb.js';

export type DiskRole = 'usb' | 'peer';

/** Something to tell the person, the disk is initialized all the same. */
export type DiskInitWarning =
  /** A copy on the spool's own filesystem does not survive the server's disk dying. */
  | { code: 'same-filesystem'; spool: string }
  /** The agent only looks for disks under usb.mountRoots. */
  | { code: 'outside-mount-roots'; mountRoots: string[] };

export type DiskInitResult =
  | { ok: true; done: 'initialized' | 'already'; role: DiskRole; path: string; label: string; diskId: string; site: string; warnings: DiskInitWarning[] }
  | { ok: false; code: 'no-backup-config' | 'no-site-id' | 'not-a-folder'; path: string }
  | { ok: false; code: 'other-site'; path: string; site: string; label: string };

function deviceOf(path: string): number | null {
  try {
    return statSync(path).dev;
  } catch {
    return null;
  }
}

/** The enrolled site, or site.id before enrolment: backups work on a server not yet enrolled. */
export function siteIdOrNull(config: AgentConfig): string | null {
  return readCredentials(credentialsPath(config))?.siteId ?? config.site.id ?? null;
}

/** Makes the folder at `rawPath` a backup disk of this site: an empty repository, then disk.json. */
export async function initDisk(config: AgentConfig, rawPath: string, opts: { label?: string; peer?: boolean }): Promise<DiskInitResult> {
  const path = resolve(rawPath);
  const cfg = config.backup;
  if (!cfg) return { ok: false, code: 'no-backup-config', path };
  const site = siteIdOrNull(config);
  if (!site) return { ok: false, code: 'no-site-id', path };
  if (!existsSync(path) || !statSync(path).isDirectory()) return { ok: false, code: 'not-a-folder', path };
  const existing = readDiskLabel(path);
  if (existing && existing.siteId !== site) return { ok: false, code: 'other-site', path, site: existing.siteId, label: existing.label };

  const role: DiskRole = opts.peer ? 'peer' : 'usb';
  const warnings: DiskInitWarning[] = [];
  const spoolDev = deviceOf(dirname(repositoryPath(config)));
  if (spoolDev !== null && deviceOf(path) === spoolDev) warnings.push({ code: 'same-filesystem', spool: repositoryPath(config) });
  const roots = cfg.usb?.mountRoots ?? [];
  if (role === 'usb' && !roots.some((r) => path === resolve(r) || path.startsWith(resolve(r) + '/'))) warnings.push({ code: 'outside-mount-roots', mountRoots: [...roots] });

  const key = MasterKey.load(backupKeyPath(config));
  // The repository first, the label last: a folder with disk.json is always a usable repository.
  if (!existsSync(join(path, 'sentinela-repo.json'))) await initRepository(path, { siteId: site, key });
  const label = existing ?? newDiskLabel(site, opts.label, role);
  if (!existing) writeDiskLabel(path, label);
  const state = BackupState.open(backupStatePath(config));
  try {
    if (role === 'usb') state.upsertDisk({ id: label.diskId, label: label.label, site, createdAt: label.created });
  } finally {
    state.close();
  }
  return { ok: true, done: existing ? 'already' : 'initialized', role, path, label: label.label, diskId: label.diskId, site, warnings };
}

export interface DiskListing extends DiskRecord {
  /** Where it is mounted now, or null. */
  attachedAt: string | null;
  snapshots: number;
  /** The newest snapshot id it holds, per source. */
  newest: Record<string, string>;
}

export function listDisks(config: AgentConfig): DiskListing[] {
  const attached = new Map(scanForDisks(config.backup?.usb?.mountRoots ?? []).map((d) => [d.label.diskId, d.path]));
  const state = BackupState.open(backupStatePath(config));
  try {
    return state.disks().map((d) => {
      const held = state.held(`usb:${d.id}`);
      const newest: Record<string, string> = {};
      for (const h of held) newest[h.source] = h.snapshotId; // held is ordered by id: the last one wins
      return { ...d, attachedAt: attached.get(d.id) ?? null, snapshots: held.length, newest };
    });
  } finally {
    state.close();
  }
}

export type DiskEjectResult =
  | { ok: true; path: string; label: string; unmounted: boolean }
  | { ok: false; code: 'not-a-disk'; path: string }
  | { ok: false; code: 'sync-failed' | 'unmount-failed'; path: string; label: string; detail: string };

function isMountPoint(path: string): boolean {
  const here = deviceOf(path);
  const parent = deviceOf(dirname(path));
  return here !== null && parent !== null && here !== parent;
}

/**
 * Stops (or, with `wait`, waits for) a copy under way to the disk, flushes everything to it and
 * unmounts it. `onWaiting` is called once when a copy has to stop or finish first.
 */
export async function ejectDisk(
  config: AgentConfig,
  rawPath: string,
  opts: { wait: boolean; noUnmount: boolean; onWaiting?: (label: string, wait: boolean) => void },
): Promise<DiskEjectResult> {
  const path = resolve(rawPath);
  const label = readDiskLabel(path);
  if (!label) return { ok: false, code: 'not-a-disk', path };
  const location = `usb:${label.diskId}`;
  const state = BackupState.open(backupStatePath(config));
  try {
    // The request first, then look for a copy: the agent marks a copy before it looks for a request.
    state.requestEject(label.diskId, opts.wait, new Date().toISOString());
    if (state.copyingPid(location) !== null) {
      opts.onWaiting?.(label.label, opts.wait);
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
  if (synced.status !== 0) return { ok: false, code: 'sync-failed', path, label: label.label, detail: synced.stderr.trim() };
  if (opts.noUnmount || !isMountPoint(path)) return { ok: true, path, label: label.label, unmounted: false };
  const um = spawnSync('umount', [path], { encoding: 'utf8' });
  if (um.status !== 0) return { ok: false, code: 'unmount-failed', path, label: label.label, detail: um.stderr.trim() };
  // Unmounted: whatever is mounted there next is a new attach, even if the agent never saw it gone.
  const st = BackupState.open(backupStatePath(config));
  try {
    st.clearEject(label.diskId);
    st.setMeta(`ejected:${label.diskId}`, new Date().toISOString());
  } finally {
    st.close();
  }
  return { ok: true, path, label: label.label, unmounted: true };
}
