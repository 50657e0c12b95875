import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RepositoryLock, RepositoryLockedError, withRepositoryLock, LOCK_STALE_MS } from './lock.js';
import { Store, RepositoryError } from './store.js';

function repoDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'sentinela-lock-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const lockFiles = (dir: string) => readdirSync(join(dir, 'locks')).filter((f) => f.endsWith('.json'));

t.test('shared locks coexist; exclusive waits for them and is refused with the holder named when it cannot wait', async (t) => {
  const dir = repoDir(t);
  const a = await RepositoryLock.acquire(dir, 'shared', { purpose: 'backup of mariadb' });
  const b = await RepositoryLock.acquire(dir, 'shared', { purpose: 'backup of config' });
  t.equal(lockFiles(dir).length, 2, 'two shared holders');
  const err = await RepositoryLock.acquire(dir, 'exclusive', { purpose: 'prune', waitMs: 0 }).catch((e: unknown) => e);
  t.ok(err instanceof RepositoryLockedError, 'prune cannot take it at once');
  t.match((err as Error).message, /backup of mariadb \(shared, pid \d+/);
  t.equal(lockFiles(dir).length, 2, 'the refused taker left no file behind');

  const order: string[] = [];
  let told: string[] = [];
  const prune = withRepositoryLock(dir, 'exclusive', { purpose: 'prune', onWait: (h) => (told = h.map((x) => x.purpose)) }, async () => {
    order.push('prune');
  });
  await new Promise((r) => setTimeout(r, 300));
  order.push('release');
  await a.release();
  await b.release();
  await prune;
  t.same(order, ['release', 'prune'], 'prune ran only after both backups released');
  t.same(told.sort(), ['backup of config', 'backup of mariadb'], 'the waiter was told who holds it');
  t.same(lockFiles(dir), [], 'every file removed');
});

t.test('an exclusive holder in another process makes a shared taker wait until it ends', async (t) => {
  const dir = repoDir(t);
  const lockModule = fileURLToPath(new URL('./lock.js', import.meta.url));
  const child = spawn(
    process.execPath,
    ['--input-type=module', '-e', `const { withRepositoryLock } = await import(${JSON.stringify(lockModule)}); await withRepositoryLock(${JSON.stringify(dir)}, 'exclusive', { purpose: 'forget' }, async () => { process.stdout.write('held\\n'); await new Promise((r) => setTimeout(r, 1500)); process.stdout.write('done ' + Date.now() + '\\n'); });`],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise<void>((r) => child.stdout!.once('data', () => r()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let holder = '';
  let gotAt = 0;
  await withRepositoryLock(dir, 'shared', { purpose: 'backup', onWait: (h) => (holder = `${h[0]!.purpose} pid ${h[0]!.pid}`) }, async () => {
    gotAt = Date.now();
  });
  await exited;
  // The holder wrote its clock as the last thing it did while holding (load-proof, unlike timing its exit).
  const doneAt = Number(/done (\d+)/.exec(out)?.[1]);
  t.ok(doneAt > 0 && gotAt >= doneAt, `the backup got the lock only once the other process let go (got ${gotAt}, released after ${doneAt})`);
  t.equal(holder, `forget pid ${child.pid}`, 'the waiter named the other process');
});

t.test('stale locks are removed: a dead holder on this host, another boot, no refresh for 30 min; another host is honoured', async (t) => {
  const dir = repoDir(t);
  mkdirSync(join(dir, 'locks'));
  const dead = spawn(process.execPath, ['-e', '0']);
  await new Promise((r) => dead.once('exit', r));
  const write = (name: string, info: object, ageMs = 0) => {
    const p = join(dir, 'locks', name);
    writeFileSync(p, JSON.stringify(info));
    const at = new Date(Date.now() - ageMs);
    utimesSync(p, at, at);
  };
  const base = { host: hostname(), mode: 'exclusive', purpose: 'prune', since: new Date().toISOString() };
  write('x-dead.json', { ...base, pid: dead.pid });
  write('x-oldboot.json', { ...base, pid: process.pid, boot: 'a-boot-before-the-power-cut' });
  write('x-reused.json', { ...base, pid: process.pid, started: '1' });
  write('x-frozen.json', { ...base, host: 'other-host', pid: 1 }, LOCK_STALE_MS + 60_000);
  await withRepositoryLock(dir, 'shared', { purpose: 'backup', waitMs: 0 }, async () => {
    t.same(lockFiles(dir).filter((f) => f.startsWith('x-')), [], 'all four stale locks removed, the backup went ahead');
  });
  write('x-other.json', { ...base, host: 'other-host', pid: 1 });
  const err = await RepositoryLock.acquire(dir, 'shared', { purpose: 'backup', waitMs: 0 }).catch((e: unknown) => e);
  t.ok(err instanceof RepositoryLockedError, "a fresh lock of another host (a shared disk) is honoured: its pid cannot be checked from here");
  t.match((err as Error).message, /prune \(exclusive, pid 1 on other-host/);
});

t.test('a commit checks its base and objects under the lock (a forget or prune in another process ran meanwhile)', async (t) => {
  const dir = repoDir(t);
  const store = new Store(dir);
  await store.create({ site: 'hf-1', keyId: 'k'.repeat(64) });
  const name = 'a'.repeat(64);
  const base = { v: 1 as const, id: '20261203T120000Z-db-aaaaaaaa', site: 'hf-1', base: null, objects: [], manifest: 'm' };
  const baseErr = await store.writeEnvelope({ ...base, id: '20261203T130000Z-db-bbbbbbbb', base: base.id }).catch((e: unknown) => e);
  t.ok(baseErr instanceof RepositoryError && baseErr.code === 'missing-base', `a delta on a removed base is refused: ${(baseErr as Error).message}`);
  const objErr = await store.writeEnvelope({ ...base, objects: [name] }).catch((e: unknown) => e);
  t.ok(objErr instanceof RepositoryError && objErr.code === 'missing-object', `a snapshot naming a pruned object is refused: ${(objErr as Error).message}`);
  t.same(await store.snapshotIds(), [], 'nothing listed');
  await store.writeEnvelope(base);
  t.same(await store.snapshotIds(), [base.id], 'a whole snapshot commits');
});

t.test('fuzz: whatever a lock file holds, a taker neither crashes nor hangs', async (t) => {
  const dir = repoDir(t);
  mkdirSync(join(dir, 'locks'));
  const seeds = [JSON.stringify({ pid: process.pid, host: hostname(), mode: 'shared', purpose: 'x', since: '' }), '{}', '', 'null', '[]', '{"pid":"1"}'];
  let refused = 0;
  let granted = 0;
  for (let i = 0; i < 400; i++) {
    const seed = Buffer.from(seeds[i % seeds.length]!);
    for (let k = 0; k < 1 + (i % 4); k++) if (seed.length) seed[Math.floor(Math.random() * seed.length)] = Math.floor(Math.random() * 256);
    const file = join(dir, 'locks', `${i % 2 ? 'x' : 's'}-fuzz.json`);
    writeFileSync(file, seed);
    try {
      await withRepositoryLock(dir, i % 3 ? 'shared' : 'exclusive', { purpose: 'fuzz', waitMs: 0 }, async () => undefined);
      granted++;
    } catch (err) {
      if (!(err instanceof RepositoryLockedError)) throw err;
      refused++;
    }
    rmSync(file, { force: true });
  }
  t.equal(granted + refused, 400, `400 mutated lock files: ${granted} granted, ${refused} refused with the holder named, no other error`);
});

t.test('no repository folder: a lock neither fails nor creates one', async (t) => {
  const dir = join(repoDir(t), 'not-yet');
  await withRepositoryLock(dir, 'exclusive', { purpose: 'hub retention' }, async () => undefined);
  t.throws(() => readdirSync(dir), 'the folder was not created');
});
