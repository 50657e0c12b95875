/**
 * Small real filesystems for fault tests (root only): a size-capped tmpfs (a real ENOSPC), a
 * loop-mounted ext4 image that keeps its content across unmounts (a USB disk pulled and plugged
 * in again), and a filler that takes every free byte. Every mount is undone at `unmountAll()` and,
 * whatever happened, when this process exits.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from './wait.js';

const mounted = new Set<string>();
process.on('exit', () => {
  for (const dir of [...mounted].reverse()) spawnSync('umount', ['-l', dir]);
});

const run = (cmd: string, args: string[]): string => execFileSync(cmd, args, { stdio: 'pipe' }).toString();

/** Root with mount, losetup and mkfs.ext4: what these mounts need (CI runs as root). */
export function canMount(): boolean {
  return process.getuid?.() === 0 && spawnSync('losetup', ['-f']).status === 0 && spawnSync('which', ['mkfs.ext4']).status === 0;
}

export function mountTmpfs(dir: string, sizeBytes: number): void {
  mkdirSync(dir, { recursive: true });
  run('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes},mode=0755`, 'tmpfs', dir]);
  mounted.add(dir);
}

/** An ext4 image file of `sizeMiB` (no reserved blocks: a full disk is full for root too). */
export function makeExt4Image(img: string, sizeMiB: number): void {
  run('truncate', ['-s', `${sizeMiB}M`, img]);
  run('mkfs.ext4', ['-q', '-F', '-m', '0', img]);
}

export function mountImage(img: string, dir: string): void {
  mkdirSync(dir, { recursive: true });
  run('mount', ['-o', 'loop', img, dir]);
  mounted.add(dir);
}

/** Lazy unmount: the path is gone at once, like a pulled cable; open files finish on the detached filesystem. */
export function pullOut(dir: string): void {
  spawnSync('umount', ['-l', dir]);
  mounted.delete(dir);
}

/** Waits until a pulled image is released by every open file (its loop device gone), so it can be mounted again. */
export async function waitReleased(img: string, timeoutMs = 60_000): Promise<void> {
  await waitFor(`${img} released`, () => spawnSync('losetup', ['-j', img]).stdout.toString().trim() === '', timeoutMs, 200);
}

export function unmountAll(): void {
  for (const dir of [...mounted].reverse()) {
    if (spawnSync('umount', [dir]).status !== 0) spawnSync('umount', ['-l', dir]);
    mounted.delete(dir);
  }
}

/**
 * Fills the filesystem holding `dir` until the kernel says ENOSPC; returns a function that frees
 * it again. Big writes first, then small ones, so that not even a page is left.
 */
export function fillUp(dir: string): () => void {
  const file = join(dir, `.filler-${process.pid}-${Date.now()}`);
  const fd = openSync(file, 'w');
  try {
    for (const size of [1 << 20, 64 << 10, 4 << 10, 512]) {
      const block = Buffer.alloc(size, 0x5a);
      try {
        for (;;) writeSync(fd, block);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      }
    }
  } finally {
    closeSync(fd);
  }
  return () => rmSync(file, { force: true });
}
