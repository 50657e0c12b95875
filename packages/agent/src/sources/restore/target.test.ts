/** The one choice of how a snapshot restores, by its kind and the target asked for. */
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { SnapshotManifest } from '@sentinela/shared';
import { restoreServer, restoreSnapshot, restoreTargets, WrongTarget } from './target.js';

const manifest = (kind: string, source = 'openmrs') => ({ id: 'x', source, kind }) as unknown as SnapshotManifest;

t.test('each kind takes its targets; another target is refused before anything is touched', async (t) => {
  t.same(restoreTargets('mariadb').sort(), ['database', 'file']);
  t.same(restoreTargets('postgres').sort(), ['database', 'file']);
  t.same(restoreTargets('sqlite'), ['file']);
  t.same(restoreTargets('files').sort(), ['dir', 'file']);
  t.same(restoreTargets('command'), ['file']);
  t.same(restoreTargets('nonsense'), []);
  t.throws(() => restoreSnapshot(Readable.from([]), manifest('files'), { to: 'database', conn: { database: 'db' } }, {}), WrongTarget);
  t.throws(() => restoreSnapshot(Readable.from([]), manifest('sqlite'), { to: 'dir', path: '/nonexistent' }, {}), /a sqlite snapshot cannot be restored to a dir; it can go to: file/);

  const dir = mkdtempSync(join(tmpdir(), 'sentinela-target-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const r = await restoreSnapshot(Readable.from([Buffer.from('a,b\n')]), manifest('command'), { to: 'file', path: join(dir, 'out.csv') }, {});
  t.ok(r.ok);
  t.equal(readFileSync(join(dir, 'out.csv'), 'utf8'), 'a,b\n', 'a command snapshot to a file: its bytes');
});

t.test("a database restore goes to the configured source's server, never with its backup user", async (t) => {
  const config = { backup: { sources: [{ name: 'openmrs', kind: 'mariadb', host: 'db.local', port: 3307, user: 'backup', passwordFile: '/etc/x' }] } } as never;
  t.same(restoreServer(config, manifest('mariadb'), 'restored', {}), { host: 'db.local', port: 3307, user: undefined, passwordFile: undefined, database: 'restored' });
  t.same(restoreServer(config, manifest('mariadb'), 'r', { host: 'h', port: 1, user: 'root', passwordFile: '/p' }), { host: 'h', port: 1, user: 'root', passwordFile: '/p', database: 'r' });
  t.same(restoreServer(null, manifest('postgres'), 'r', {}), { host: undefined, port: undefined, user: undefined, passwordFile: undefined, database: 'r' }, 'a bare machine: the client defaults');
});
