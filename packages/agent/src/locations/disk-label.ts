/**
 * disk.json at the root of a USB backup disk (docs/repository.md, "Layout"): says which site the disk
 * belongs to and gives it a name people can write on its case. The repository lives beside it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { writeFileAtomic } from '@sentinela/shared';

export const DISK_LABEL_FILE = 'disk.json';

export interface DiskLabel {
  format: 'sentinela-backup-disk';
  v: 1;
  diskId: string;
  siteId: string;
  /** What people call it ("disco A"), written on its case. */
  label: string;
  created: string;
  /** 'peer' for the secondary server's folder: mirrored to, never picked up as a USB disk. Default 'usb'. */
  role?: 'usb' | 'peer';
}

function isDiskLabel(x: unknown): x is DiskLabel {
  const d = x as Partial<DiskLabel> | null;
  return (
    !!d && d.format === 'sentinela-backup-disk' && d.v === 1 && typeof d.diskId === 'string' && /^[a-z0-9-]{4,64}$/.test(d.diskId) &&
    typeof d.siteId === 'string' && typeof d.label === 'string' && typeof d.created === 'string'
  );
}

export function newDiskLabel(siteId: string, label?: string, role: 'usb' | 'peer' = 'usb'): DiskLabel {
  const diskId = `${role === 'peer' ? 'peer' : 'disk'}-${randomBytes(5).toString('hex')}`;
  return { format: 'sentinela-backup-disk', v: 1, diskId, siteId, label: label ?? diskId, created: new Date().toISOString(), role };
}

/** The label of the disk mounted at `root`, or null when there is none (not a backup disk, or unreadable). */
export function readDiskLabel(root: string): DiskLabel | null {
  let text: string;
  try {
    text = readFileSync(join(root, DISK_LABEL_FILE), 'utf8');
  } catch {
    return null;
  }
  try {
    const parsed: unknown = JSON.parse(text);
    return isDiskLabel(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

export function writeDiskLabel(root: string, label: DiskLabel): void {
  // World-readable on purpose: it holds no secret, and any rescue machine must be able to read it.
  writeFileAtomic(join(root, DISK_LABEL_FILE), JSON.stringify(label, null, 2) + '\n', 0o644);
}
