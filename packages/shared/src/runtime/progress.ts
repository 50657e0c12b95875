/** How long work reports where it is (backups, copies, verify, exports), and sizes written for people. */

export interface Progress {
  /** What is happening, in a few words ("dumping", "copying objects", "verifying"). */
  phase: string;
  doneBytes: number;
  /** Unknown while a dump is still streaming. */
  totalBytes?: number;
  doneItems?: number;
  totalItems?: number;
}

/** Bytes for people: 1.5 MiB. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}
