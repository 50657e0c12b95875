import t from 'tap';
import { readdirSync, writeFileSync, readFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { DumpError } from '../sources/source.js';
import { tempDir } from '../fixtures.test-support.js';
import { MasterKey } from './keys.js';
import { initRepository, openRepository } from './repository.js';
import { ShellSource } from './shell-source.test-support.js';
import type { Readable } from 'node:stream';

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s / 2 ** 32;
  };
}

/** A mysqldump-shaped dump, one row per line. */
function dumpLines(rows: number, rnd: () => number): string[] {
  const out = ['-- MariaDB dump\n', 'CREATE TABLE `observations` (id int, patient int, code varchar(20), value double);\n', 'INSERT INTO `observations` VALUES\n'];
  for (let i = 0; i < rows; i++) out.push(`(${i},${Math.floor(rnd() * 50000)},'LOINC-${Math.floor(rnd() * 9000)}',${(rnd() * 300).toFixed(2)}),\n`);
  out.push('UNLOCK TABLES;\n');
  return out;
}

async function readAll(s: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

t.test('day 2 of a dump costs about what changed, and both days read back exactly', async (t) => {
  const dir = tempDir(t);
  const rnd = prng(42);
  const day1 = dumpLines(20000, rnd);
  const day2 = [...day1];
  for (let k = 0; k < 10; k++) {
    const i = 3 + Math.floor(rnd() * 20000); // 0.05 % of the rows updated
    day2[i] = day2[i]!.replace(/,[0-9.]+\),\n$/, `,${(rnd() * 300).toFixed(2)}),\n`);
  }
  day2.splice(day2.length - 1, 0, ...dumpLines(100, rnd).slice(3, -1)); // 0.5 % appended
  const f1 = join(dir, 'day1.sql');
  const f2 = join(dir, 'day2.sql');
  writeFileSync(f1, day1.join(''));
  writeFileSync(f2, day2.join(''));

  const repo = await initRepository(join(dir, 'repo'), { siteId: 'hc-test-01', key: MasterKey.generate() });
  const m1 = await repo.backup(new ShellSource('clinic', `cat ${f1}`));
  const m2 = await repo.backup(new ShellSource('clinic', `cat ${f2}`));
  t.equal(m1.base, null);
  t.equal(m2.base, m1.id);
  t.equal(m2.chain, 1);
  t.ok(m2.stored < m1.stored * 0.05, `day 2 stored ${m2.stored} bytes, day 1 ${m1.stored} (dump ${m2.content.bytes})`);
  t.ok((await readAll(repo.read(m1.id))).equals(readFileSync(f1)), 'day 1 reads back');
  t.ok((await readAll(repo.read(m2.id))).equals(readFileSync(f2)), 'day 2 reads back through its delta');
  t.same((await repo.snapshots()).map((m) => m.id), [m1.id, m2.id]);

  // rebaseEvery: a full snapshot after that many deltas.
  const m3 = await repo.backup(new ShellSource('clinic', `cat ${f1}`), { rebaseEvery: 1 });
  t.equal(m3.base, null, 'rebased');
  t.ok(m3.stored === 0 || m3.stored < m1.stored, 'identical content deduplicates');
  t.ok((await readAll(repo.read(m3.id))).equals(readFileSync(f1)));
});

t.test('a failed dump leaves no snapshot and returns the tool error', async (t) => {
  const dir = tempDir(t);
  const repo = await initRepository(join(dir, 'repo'), { siteId: 'hc-test-01', key: MasterKey.generate() });
  // More than one object's worth of output before the failure: the run leaves orphan objects.
  const bad = new ShellSource('clinic', `head -c 5000000 /dev/zero | tr '\\0' 'x'; echo "mysqldump: Got error: 2013: Lost connection" >&2; exit 2`);
  const err = await repo.backup(bad).then(
    () => null,
    (e: unknown) => e,
  );
  t.ok(err instanceof DumpError, 'DumpError');
  t.match((err as DumpError).toolOutput, /Lost connection/);
  t.same(await repo.snapshots(), []);
  t.same(readdirSync(join(dir, 'repo', 'snapshots')), [], 'no manifest file');
  const ok = await repo.backup(new ShellSource('clinic', `printf 'a\\n'`));
  t.equal(ok.base, null, 'the next backup is a full one: the failed run counts for nothing');
  const pruned = await repo.prune({ graceMs: 0 });
  t.ok(pruned.removedObjects >= 1, `orphans of the failed run pruned (${pruned.removedObjects})`);
  t.equal((await repo.verify({ readData: true })).problems.length, 0);
});

t.test('a wrong key is refused with a clear message', async (t) => {
  const dir = join(tempDir(t), 'repo');
  await initRepository(dir, { siteId: 'hc-maputo-03', key: MasterKey.generate() });
  await t.rejects(openRepository(dir, MasterKey.generate()), { message: /belongs to site "hc-maputo-03" and this key does not open it/, code: 'wrong-key' });
  await t.rejects(openRepository(join(dir, 'nothing'), MasterKey.generate()), { code: 'not-a-repository' });
});

t.test('a tampered object is found by verify --read-data and refused by read', async (t) => {
  const dir = tempDir(t);
  const f = join(dir, 'd.sql');
  writeFileSync(f, dumpLines(3000, prng(7)).join(''));
  const repo = await initRepository(join(dir, 'repo'), { siteId: 'hc-test-01', key: MasterKey.generate() });
  const m = await repo.backup(new ShellSource('clinic', `cat ${f}`));
  t.same((await repo.verify({ readData: true })).problems, []);
  const name = m.objects[0]!;
  const path = join(dir, 'repo', 'objects', name.slice(0, 2), name);
  chmodSync(path, 0o644);
  const bytes = readFileSync(path);
  bytes[100] = bytes[100]! ^ 1;
  writeFileSync(path, bytes);
  t.same((await repo.verify({ readData: false })).problems, [], 'structure alone looks fine');
  const report = await repo.verify({ readData: true });
  t.equal(report.problems.length, 1);
  t.match(report.problems[0], { kind: 'corrupt-object', item: name });
  await t.rejects(readAll(repo.read(m.id)), /corrupt/);
});

t.test('forget keeps what it must, prune frees the rest', async (t) => {
  const dir = tempDir(t);
  const repo = await initRepository(join(dir, 'repo'), { siteId: 'hc-test-01', key: MasterKey.generate() });
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    writeFileSync(join(dir, 'd.sql'), dumpLines(500 + i * 10, prng(1)).join(''));
    ids.push((await repo.backup(new ShellSource('clinic', `cat ${join(dir, 'd.sql')}`), { rebaseEvery: 2 })).id);
  }
  const other = (await repo.backup(new ShellSource('config', `printf 'x=1\\n'`))).id;
  const kinds = (await repo.snapshots()).filter((m) => m.source === 'clinic').map((m) => m.chain);
  t.same(kinds, [0, 1, 2, 0, 1], 'full, delta, delta, full, delta');

  const dry = await repo.forget({ keepLast: 1 }, { dryRun: true });
  t.same(dry.removed, ids.slice(0, 3), 'the newest delta keeps its base; the old chain goes');
  t.ok(dry.kept.includes(other), 'the newest snapshot of every source stays');
  t.equal((await repo.snapshots()).length, 6, 'dry run removes nothing');
  const res = await repo.forget({ keepLast: 1 });
  t.same(res.removed, ids.slice(0, 3));
  const pr = await repo.prune({ graceMs: 0 });
  t.ok(pr.removedObjects > 0 && pr.freedBytes > 0, `pruned ${pr.removedObjects} objects`);
  t.same((await repo.verify({ readData: true })).problems, []);
  const content = await readAll(repo.read(ids[4]!));
  t.equal(content.toString(), dumpLines(540, prng(1)).join(''), 'the kept delta still reads');
  t.same((await repo.forget({})).removed, [], 'no rule: nothing forgotten');
});

t.test('a repository description naming another site: verify names sentinela-repo.json, not only the snapshots (issue 18)', async (t) => {
  const dir = tempDir(t);
  const key = MasterKey.generate();
  const repo = await initRepository(join(dir, 'repo'), { siteId: 'hc-test-01', key });
  const m = await repo.backup(new ShellSource('clinic', `printf 'a\\n'`));
  const metaFile = join(repo.dir, 'sentinela-repo.json');
  writeFileSync(metaFile, readFileSync(metaFile, 'utf8').replace('"hc-test-01"', '"hc-test-99"'));
  const { problems } = await (await openRepository(repo.dir, key)).verify({ readData: false });
  t.equal(problems.length, 1);
  t.equal(problems[0]?.item, m.id);
  t.match(problems[0]?.detail, `belongs to site "hc-test-01", but ${metaFile} says the repository is site "hc-test-99"`);
});

t.test('a sentinela-repo.json that is JSON but not an object (null) is refused by name, not a TypeError (issue 18)', async (t) => {
  const dir = tempDir(t);
  const key = MasterKey.generate();
  const repo = await initRepository(join(dir, 'repo'), { siteId: 'hc-test-01', key });
  const metaFile = join(repo.dir, 'sentinela-repo.json');
  for (const text of ['null', 'true', '[]']) {
    writeFileSync(metaFile, text);
    await t.rejects(openRepository(repo.dir, key), { name: 'RepositoryError', code: 'not-a-repository', message: `${metaFile} is not a Sentinela repository description` }, text);
  }
});
