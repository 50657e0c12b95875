import t from 'tap';
import { readdirSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../fixtures.test-support.js';
import { MasterKey } from './keys.js';
import { initRepository, openRepository } from './repository.js';
import { copySnapshots, verifyObjects } from './copy.js';
import { ShellSource } from './shell-source.test-support.js';

t.test('an interrupted copy leaves nothing that looks complete; running it again completes it', async (t) => {
  const dir = tempDir(t);
  const key = MasterKey.generate();
  const repo = await initRepository(join(dir, 'spool'), { siteId: 'hc-test-01', key });
  // 9 MB of incompressible data: a snapshot of three objects.
  const big = await repo.backup(new ShellSource('files', `head -c 9000000 /dev/urandom`, 'chunks'));
  t.equal(big.objects.length, 3);
  const small = await repo.backup(new ShellSource('clinic', `printf 'row 1\\nrow 2\\n'`));
  const small2 = await repo.backup(new ShellSource('clinic', `printf 'row 1\\nrow 2\\nrow 3\\n'`));
  t.equal(small2.base, small.id);

  const target = join(dir, 'usb');
  const ac = new AbortController();
  const err = await copySnapshots(repo.dir, target, {
    signal: ac.signal,
    onProgress: () => {
      // Stop inside the big snapshot, once two of its three objects are at the target.
      if (big.objects.filter((o) => existsSync(join(target, 'objects', o.slice(0, 2), o))).length === 2) ac.abort(new Error('disk unplugged'));
    },
  }).then(
    () => null,
    (e: unknown) => e as Error,
  );
  t.match(err, { message: 'disk unplugged' });
  const present = readdirSync(join(target, 'snapshots'));
  t.notOk(present.includes(big.id), 'the interrupted snapshot does not look complete');
  const partial = await verifyObjects(target);
  t.equal(partial.snapshots, present.length);
  t.same(partial.problems, [], 'the snapshots there (copied whole) are complete');

  const res = await copySnapshots(repo.dir, target);
  t.ok(res.snapshotsCopied.includes(big.id));
  t.equal(res.snapshotsCopied.length, 3 - present.length);
  t.ok(res.objectsSkipped >= 2, 'objects copied before the interruption are not copied again');
  t.same((await verifyObjects(target)).problems, []);
  const again = await copySnapshots(repo.dir, target);
  t.same(again.snapshotsCopied, [], 'nothing left to copy');

  // The copy opens with the same key, on its own, and reads the delta through its base.
  const copy = await openRepository(target, key);
  const parts: Buffer[] = [];
  for await (const c of copy.read(small2.id)) parts.push(c as Buffer);
  t.equal(Buffer.concat(parts).toString(), 'row 1\nrow 2\nrow 3\n');
  t.same((await copy.verify({ readData: true })).problems, []);
});

t.test('copying only a delta brings its base; another site\'s disk is refused', async (t) => {
  const dir = tempDir(t);
  const repo = await initRepository(join(dir, 'spool'), { siteId: 'hc-test-01', key: MasterKey.generate() });
  const a = await repo.backup(new ShellSource('clinic', `printf 'a\\nb\\n'`));
  const b = await repo.backup(new ShellSource('clinic', `printf 'a\\nc\\n'`));
  const res = await copySnapshots(repo.dir, join(dir, 'peer'), { snapshots: [b.id] });
  t.same(res.snapshotsCopied, [a.id, b.id], 'base first, then the delta');

  await initRepository(join(dir, 'other'), { siteId: 'hc-test-02', key: MasterKey.generate() });
  await t.rejects(copySnapshots(repo.dir, join(dir, 'other')), /holds the backups of site "hc-test-02"/);
  t.notOk(existsSync(join(dir, 'other', 'snapshots', a.id)));
});

t.test('a damaged snapshot file leaves out only that snapshot and the deltas on it; the others are copied (issue 18)', async (t) => {
  const dir = tempDir(t);
  const repo = await initRepository(join(dir, 'spool'), { siteId: 'hc-test-01', key: MasterKey.generate() });
  const a = await repo.backup(new ShellSource('clinic', `printf 'a\\nb\\n'`));
  const b = await repo.backup(new ShellSource('clinic', `printf 'a\\nc\\n'`));
  const c = await repo.backup(new ShellSource('docs', `printf 'd\\n'`));
  const d = await repo.backup(new ShellSource('config', `printf 'e\\n'`));
  writeFileSync(join(repo.dir, 'snapshots', a.id), '{"v":1,');
  // Another snapshot file names a base that is not there.
  writeFileSync(join(repo.dir, 'snapshots', d.id), JSON.stringify({ ...(await repo.store.readEnvelope(d.id)), base: '20200101T000000Z-config-gone0000' }));
  const res = await copySnapshots(repo.dir, join(dir, 'usb'));
  t.same(res.snapshotsCopied, [c.id], 'the undamaged snapshot is copied');
  t.same(res.failed.map((f) => f.snapshot).sort(), [a.id, b.id, '20200101T000000Z-config-gone0000', d.id].sort(), 'the damaged one, the delta on it, and the one without its base are reported');
  t.match(res.failed.find((f) => f.snapshot === a.id)?.reason, new RegExp(`snapshot file .*${a.id} is damaged`));
});

t.test('a snapshot file whose base is not a snapshot id is damaged, for copy and keyless verify alike (issue 18)', async (t) => {
  const dir = tempDir(t);
  const repo = await initRepository(join(dir, 'spool'), { siteId: 'hc-test-01', key: MasterKey.generate() });
  const a = await repo.backup(new ShellSource('clinic', `printf 'a\\n'`));
  const b = await repo.backup(new ShellSource('docs', `printf 'b\\n'`));
  for (const [i, base] of [{ id: 'x' }, ['x'], 7, '../../etc'].entries()) {
    writeFileSync(join(repo.dir, 'snapshots', a.id), JSON.stringify({ ...(await repo.store.readEnvelope(b.id)), id: a.id, base }));
    const res = await copySnapshots(repo.dir, join(dir, `usb-${i}`));
    t.same(res.snapshotsCopied, [b.id], `base ${JSON.stringify(base)}: the other snapshot is copied`);
    t.match(res.failed, [{ snapshot: a.id, reason: /is damaged \(its base is not a snapshot id\)/ }]);
    t.match((await verifyObjects(repo.dir)).problems, [{ kind: 'bad-manifest', item: a.id }]);
  }
});

t.test('a snapshot file listing an object name inside an array is damaged, not a TypeError (issue 18)', async (t) => {
  const dir = tempDir(t);
  const repo = await initRepository(join(dir, 'spool'), { siteId: 'hc-test-01', key: MasterKey.generate() });
  const a = await repo.backup(new ShellSource('clinic', `printf 'a\\n'`));
  const b = await repo.backup(new ShellSource('docs', `printf 'b\\n'`));
  const env = await repo.store.readEnvelope(a.id);
  writeFileSync(join(repo.dir, 'snapshots', a.id), JSON.stringify({ ...env, objects: env.objects.map((o) => [o]) }));
  const res = await copySnapshots(repo.dir, join(dir, 'usb'));
  t.same(res.snapshotsCopied, [b.id]);
  t.match(res.failed, [{ snapshot: a.id, reason: /is damaged \(fields missing or wrong\)/ }]);
});
