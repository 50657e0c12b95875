/**
 * Finding this site's USB backup disks among mounted filesystems. A disk is a backup disk of the site
 * when disk.json at its root names the site; nothing else about it (device, UUID, mount path) needs to
 * be stable, so a disk mounted anywhere under a mount root by udisks, fstab or a technician is found.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentConfig } from '@sentinela/shared';
import { readDiskLabel, type DiskLabel } from './disk-label.js';

export interface AttachedDisk {
  /** The disk's mount path (its root: disk.json and the repository are here). */
  path: string;
  label: DiskLabel;
}

/**
 * Looks in each mount root itself, its children and grandchildren (/media/DISK, /media/USER/DISK,
 * /run/media/USER/DISK). Unreadable folders are skipped: a dying disk must not stop the scan.
 */
export function scanForDisks(mountRoots: readonly string[]): AttachedDisk[] {
  const found = new Map<string, AttachedDisk>();
  const visit = (dir: string, depth: number): void => {
    const label = readDiskLabel(dir);
    if (label) {
      if (label.role !== 'peer' && !found.has(label.diskId)) found.set(label.diskId, { path: dir, label });
      return; // a disk's own folders are not searched
    }
    if (depth === 0) return;
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      if (name.startsWith('.') || name === 'lost+found') continue;
      const child = join(dir, name);
      try {
        if (!statSync(child).isDirectory()) continue;
      } catch {
        continue;
      }
      visit(child, depth - 1);
    }
  };
  for (const root of mountRoots) visit(root, 2);
  return [...found.values()];
}

/** Whether the disk is still there: its label is readable and is the same disk. */
export function diskPresent(disk: AttachedDisk): boolean {
  return readDiskLabel(disk.path)?.diskId === disk.label.diskId;
}

/** The mounted USB disks of this site (by their disk.json), in mount-root order. */
export function siteDisks(config: AgentConfig): Array<{ path: string; label: string }> {
  const site = config.site.id;
  return scanForDisks(config.backup?.usb?.mountRoots ?? ['/media', '/mnt', '/run/media'])
    .filter((d) => !site || d.label.siteId === site)
    .map((d) => ({ path: d.path, label: d.label.label }));
}
