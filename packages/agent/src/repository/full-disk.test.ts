/**
 * A spool that fills up during a backup: the error names ENOSPC, the location and the room left,
 * not the dump tool's broken pipe it caused ("Connection reset by peer", "Got errno 104 on write").
 * A real 8 MiB tmpfs (the tests run as root) and a real tool writing to the pipe. Also a tool that
 * fails: the objects still being written end before the backup reports it.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../fixtures.test-support.js';
import { MasterKey } from './keys.js';
import { initRepository } from './repository.js';
import { ShellSource } from './shell-source.test-support.js';
import { RepositoryError } from './errors.js';

function smallDisk(t: Parameters<typeof tempDir>[0]): string {
  const mnt = join(tempDir(t), 'disk');
  mkdirSync(mnt);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mnt]);
  t.teardown(() => execFileSync('umount', [mnt]));
  return mnt;
}

t.test('a spool that fills up says ENOSPC, where, and how much was free; no snapshot, no temp file left', async (t) => {
  const spool = join(smallDisk(t), 'spool');
  const repo = await initRepository(spool, { siteId: 'site', key: MasterKey.generate() });
  const err = await repo.backup(new ShellSource('clinic', 'head -c 30000000 /dev/urandom')).catch((e: unknown) => e);
  t.type(err, RepositoryError);
  t.equal((err as RepositoryError).code, 'no-space');
  const msg = (err as Error).message;
  t.match(msg, /ENOSPC/, msg);
  t.match(msg, spool, 'names the location');
  t.match(msg, /\d+(\.\d)? (B|KiB|MiB) free of 8\.0 MiB on /, 'says how much was free');
  t.notMatch(msg, /reset by peer|broken pipe|Premature close/i, 'not the broken pipe it caused');
  t.same(await repo.snapshots(), [], 'no snapshot');
  const leftovers = readdirSync(join(spool, 'objects'), { recursive: true }).filter((f) => String(f).includes('.tmp-'));
  t.same(leftovers, [], 'no temporary file left');
});

t.test('a dump tool that fails after 30 MB: its own error, no snapshot, no temp file left by the objects still being written', async (t) => {
  const spool = join(tempDir(t), 'spool');
  const repo = await initRepository(spool, { siteId: 'site', key: MasterKey.generate() });
  const err = await repo.backup(new ShellSource('clinic', 'head -c 30000000 /dev/urandom; exit 3')).catch((e: unknown) => e);
  t.match((err as Error).message, /the dump command exited with 3/);
  t.same(await repo.snapshots(), [], 'no snapshot');
  const leftovers = readdirSync(join(spool, 'objects'), { recursive: true }).filter((f) => String(f).includes('.tmp-'));
  t.same(leftovers, [], 'no temporary file left');
});
