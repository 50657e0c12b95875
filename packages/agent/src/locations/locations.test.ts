import t from 'tap';
import { mkdirSync, renameSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Severity } from '@sentinela/shared';
import { memoryLogger, tempDir, type Teardown } from '../fixtures.test-support.js';
import { MasterKey } from '../repository/keys.js';
import { initRepository } from '../repository/repository.js';
import { verifyObjects } from '../repository/copy.js';
import { Store } from '../repository/store.js';
import { ShellSource } from '../repository/shell-source.test-support.js';
import { BackupState } from '../backup/state.js';
import { RwLock } from '../backup/lock.js';
import { newDiskLabel, readDiskLabel, writeDiskLabel } from './disk-label.js';
import { scanForDisks } from './usb.js';
import { mirror } from './mirror.js';
import { LocationSync } from './sync.js';

const SITE = 'hf-loc-test';

async function setup(t: Teardown) {
  const dir = tempDir(t);
  const key = MasterKey.generate();
  const spool = await initRepository(join(dir, 'spool'), { siteId: SITE, key });
  const state = BackupState.open(join(dir, 'backups.db'));
  t.teardown(() => state.close());
  const mounts = join(dir, 'media');
  mkdirSync(mounts);
  const makeDisk = async (name: string, site = SITE, role: 'usb' | 'peer' = 'usb') => {
    const path = join(mounts, 'tecnico', name);
    mkdirSync(path, { recursive: true });
    await initRepository(path, { siteId: site, key: site === SITE ? key : MasterKey.generate() });
    const label = newDiskLabel(site, name, role);
    writeDiskLabel(path, label);
    return { path, label };
  };
  return { dir, key, spool, state, mounts, makeDisk };
}

t.test('disks are found by their label under a mount root, at any of the usual depths', async (t) => {
  const { mounts, makeDisk } = await setup(t);
  const a = await makeDisk('disco-a');
  await makeDisk('other-site', 'hf-elsewhere');
  await makeDisk('secondary', SITE, 'peer');
  const found = scanForDisks([mounts, join(mounts, 'missing')]);
  t.same(found.map((d) => d.label.label).sort(), ['disco-a', 'other-site'], 'peer folders are not USB disks; a missing root is skipped');
  t.equal(found.find((d) => d.label.label === 'disco-a')?.path, a.path);
  t.equal(readDiskLabel(mounts), null, 'no label: not a disk');
});

t.test('a disk removed mid-copy keeps nothing that looks complete, and the next attach resumes', async (t) => {
  const { dir, key, spool, state, makeDisk } = await setup(t);
  await spool.backup(new ShellSource('clinic', `printf 'row 1\\nrow 2\\n'`));
  const big = await spool.backup(new ShellSource('files', 'head -c 9000000 /dev/urandom', 'chunks'));
  const disk = await makeDisk('disco-a');
  const target = { location: `usb:${disk.label.diskId}`, dir: disk.path, retention: { keepLast: 10 }, present: () => existsSync(join(disk.path, 'disk.json')) };
  const away = join(dir, 'unplugged');
  let pulled = false;
  const first = await mirror({
    spoolDir: spool.dir,
    target,
    key,
    state,
    onProgress: (p) => {
      // Pull the disk out while the big snapshot's objects are being written.
      if (!pulled && p.doneItems === 2) {
        pulled = true;
        renameSync(disk.path, away);
      }
    },
  });
  t.equal(first.status, 'unplugged', 'an unplugged disk is not a failed copy');
  // Whatever a write after the pull left at the old path (an empty mount point, in real life) holds no manifest.
  t.same(existsSync(disk.path) ? await new Store(disk.path).snapshotIds() : [], [], 'nothing complete where the disk was');
  rmSync(disk.path, { recursive: true, force: true });
  renameSync(away, disk.path);
  const ids = await new Store(disk.path).snapshotIds();
  t.notOk(ids.includes(big.id), 'the interrupted snapshot has no manifest on the disk');
  t.notOk(state.held(target.location).some((h) => h.snapshotId === big.id), 'nor is it recorded as held');

  const second = await mirror({ spoolDir: spool.dir, target, key, state });
  t.equal(second.status, 'complete');
  if (second.status === 'complete') t.ok(second.report.objectsSkipped > 0 || second.report.objectsCopied < 3, 'objects already there are not copied again');
  t.same((await new Store(disk.path).snapshotIds()).sort(), (await spool.store.snapshotIds()).sort(), 'the disk holds every snapshot');
  t.same((await verifyObjects(disk.path)).problems, [], 'every object on the disk checks out');
  t.equal(state.held(target.location).length, 2);
});

t.test('the sync loop: attach, copy, events, retention on the disk, eject honoured, foreign disk left alone', async (t) => {
  const { key, spool, state, mounts, makeDisk } = await setup(t);
  // Full snapshots (rebaseEvery 0): no snapshot is another's base, so retention can remove one.
  for (let i = 1; i <= 3; i++) await spool.backup(new ShellSource('clinic', `seq 1 ${i * 100}`), { rebaseEvery: 0 });
  const disk = await makeDisk('disco-a');
  await makeDisk('foreign', 'hf-elsewhere');
  const events: Array<{ code: string; severity: Severity; message: string }> = [];
  const { logger } = memoryLogger();
  const sync = new LocationSync({
    siteId: SITE,
    spoolDir: spool.dir,
    key,
    state,
    spoolLock: new RwLock(),
    logger,
    event: (code, severity, message) => events.push({ code, severity, message }),
    usb: { mountRoots: [mounts], rotationDays: 7, pollSeconds: 3600, retention: { keepLast: 2 } },
  });
  t.teardown(() => sync.close());
  sync.start();
  await sync.kick();
  t.ok(events.some((e) => e.code === 'usb.disk_attached'), 'attach event');
  const done = events.find((e) => e.code === 'usb.copy_completed');
  t.match(done?.message, /concluída.*complete/, 'copy event in Portuguese and English');
  t.equal((await new Store(disk.path).snapshotIds()).length, 2, 'retention on the disk kept the newest two');
  t.equal(state.held(`usb:${disk.label.diskId}`, 'forgotten').length, 1, 'the one removed there is remembered, so it is not copied again');
  events.length = 0;
  await sync.kick();
  t.equal((await new Store(disk.path).snapshotIds()).length, 2, 'a second pass copies nothing back');
  t.same(events, [], 'and says nothing');

  state.requestEject(disk.label.diskId, false, new Date().toISOString());
  await spool.backup(new ShellSource('clinic', 'seq 1 500'));
  await sync.kick();
  t.equal((await new Store(disk.path).snapshotIds()).length, 2, 'an ejected disk gets no new copy');
  t.equal(sync.attachedDisks().filter((d) => d.label.siteId === SITE).length, 1);
  t.equal((await new Store(join(mounts, 'tecnico', 'foreign')).snapshotIds()).length, 0, "another site's disk is never written");
  t.equal(state.disks().length, 1, "and not registered");
  t.ok(state.disks()[0]!.lastAttachedAt, 'last attached time recorded');
});

t.test('rotation: no disk attached for longer than rotationDays raises usb.rotation_overdue once', async (t) => {
  const { key, spool, state, mounts } = await setup(t);
  state.setMeta('usbWatchSince', new Date(Date.now() - 9 * 86_400_000).toISOString());
  const events: string[] = [];
  const sync = new LocationSync({
    siteId: SITE,
    spoolDir: spool.dir,
    key,
    state,
    spoolLock: new RwLock(),
    logger: memoryLogger().logger,
    event: (code) => events.push(code),
    usb: { mountRoots: [mounts], rotationDays: 7, pollSeconds: 3600, retention: {} },
  });
  t.teardown(() => sync.close());
  sync.start();
  await sync.kick();
  await sync.kick();
  t.same(events.filter((e) => e === 'usb.rotation_overdue'), ['usb.rotation_overdue']);
});
