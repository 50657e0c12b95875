import t from 'tap';
import { createHash } from 'node:crypto';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../fixtures.test-support.js';
import { copySnapshots } from './copy.js';
import { MasterKey } from './keys.js';
import { openRepository } from './repository.js';
import { ShellSource } from './shell-source.test-support.js';

// A repository written by format version 1 (fixtures/make-repo-v1.mjs, run with the code before issue 17).
const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../../src/repository/fixtures');
const KEY = MasterKey.fromBytes(createHash('sha256').update('sentinela format-1 fixture').digest());
const expected = JSON.parse(readFileSync(join(FIXTURES, 'repo-v1.expected.json'), 'utf8')) as Record<string, { source: string; bytes: number; sha256: string }>;

async function contentOf(repo: Awaited<ReturnType<typeof openRepository>>, id: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of repo.read(id)) parts.push(c as Buffer);
  return Buffer.concat(parts);
}
const meta = (dir: string) => JSON.parse(readFileSync(join(dir, 'sentinela-repo.json'), 'utf8')) as { version: number };

t.test('a format-1 repository still opens, verifies, copies and restores; a new backup on it upgrades it', async (t) => {
  const dir = join(tempDir(t), 'repo');
  cpSync(join(FIXTURES, 'repo-v1'), dir, { recursive: true });
  t.equal(meta(dir).version, 1);
  const repo = await openRepository(dir, KEY);
  const snaps = await repo.snapshots();
  t.same(snaps.map((m) => m.id).sort(), Object.keys(expected).sort(), 'every snapshot is listed');
  t.ok(snaps.some((m) => m.tokenizer === 'lines') && snaps.some((m) => m.tokenizer === 'chunks') && snaps.some((m) => m.tokenizer === 'pages'), 'deltas of every tokenizer');
  const report = await repo.verify({ readData: true });
  t.same(report.problems, [], 'verify --read-data finds nothing wrong');
  for (const [id, e] of Object.entries(expected)) {
    const got = await contentOf(repo, id);
    t.equal(createHash('sha256').update(got).digest('hex'), e.sha256, `${id} (${e.source}) restores exactly`);
  }

  const copy = join(tempDir(t), 'usb');
  await copySnapshots(dir, copy);
  const fromCopy = await openRepository(copy, KEY);
  for (const [id, e] of Object.entries(expected)) t.equal(createHash('sha256').update(await contentOf(fromCopy, id)).digest('hex'), e.sha256, `${id} restores from the copy`);

  // A format-2 delta on top of a format-1 chain.
  const last = snaps.filter((m) => m.source === 'lines').at(-1)!;
  const day = Buffer.concat([await contentOf(repo, last.id), Buffer.from("INSERT INTO obs VALUES (3001,4,'format 2');\n")]);
  const f = join(tempDir(t), 'day.sql');
  writeFileSync(f, day);
  const m = await repo.backup(new ShellSource('lines', `cat ${f}`));
  t.equal(m.v, 2);
  t.equal(m.base, last.id, 'a delta against the format-1 snapshot');
  t.ok(m.stored < 1000, `it costs what changed (${m.stored} bytes)`);
  t.ok((await contentOf(repo, m.id)).equals(day), 'and reads back through the mixed chain');
  t.equal(meta(dir).version, 2, 'the repository is now version 2');
});
