/**
 * Target (c): repository files at verify, snapshots, copy and restore. A small real repository
 * (a USB disk's layout: disk.json beside it) is made by real backups of a dump command (a full
 * snapshot and a delta) and of a folder; each input damages one of its files (an envelope, a
 * manifest inside one, an object, sentinela-repo.json, disk.json) by a structural JSON change or
 * bytes, then runs what a technician would: snapshots, verify --read-data, keyless verify, restore
 * of each source's newest snapshot, copy to another disk, the disk scan.
 *
 * Each may refuse only with a RepositoryError (or a restore refusal) that names the damaged file
 * (its snapshot id, object name, or the repository); a damaged object or envelope that verify does
 * not report, any other error, or any other file of the repository changed or gone, is a failure.
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { tmpdir } from 'node:os';
import { CommandSource, copySnapshots, FilesSource, initRepository, MasterKey, newDiskLabel, openRepository, readDiskLabel, RepositoryError, restoreToFile, RestoreRefused, scanForDisks, verifyObjects, writeDiskLabel } from '@sentinela/agent';
import { mutateBytes, mutateJson } from './mutate.js';
import { Rng } from './rng.js';
import { campaign, Tally, type Outcome, type TargetReport } from './tally.js';
import type { TargetRun } from './fuzz.bench.js';

const SITE = 'hf-fuzz-repo';
/** Per input: a deadline for the whole sequence of operations. */
const HANG_MS = 30_000;

function listFiles(dir: string, root = dir, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) listFiles(p, root, out);
    else out.push(relative(root, p));
  }
  return out.sort();
}

interface Fixture {
  root: string;
  media: string;
  disk: string;
  key: MasterKey;
  pristine: Map<string, Buffer>;
  /** snapshot id → its base and objects, from the undamaged repository. */
  snapshots: Map<string, { base: string | null; objects: string[]; source: string }>;
}

async function makeFixture(): Promise<Fixture> {
  // tmpfs when there is one: the copy's every write is fsynced, which a disk makes slow for no gain here.
  const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const root = join(base, `sentinela-fuzz-repo-${process.pid}-${Date.now().toString(36)}`);
  const media = join(root, 'media');
  const disk = join(media, 'disk-a');
  const data = join(root, 'data');
  mkdirSync(join(data, 'docs', 'sub'), { recursive: true });
  mkdirSync(disk, { recursive: true });
  const key = MasterKey.generate();
  const repo = await initRepository(disk, { siteId: SITE, key });
  writeDiskLabel(disk, newDiskLabel(SITE, 'disco A'));
  const dump = join(data, 'dump.sql');
  const rows = (n: number, changed: number) => Array.from({ length: n }, (_, i) => `INSERT INTO obs VALUES (${i}, 'patient ${i}', ${i === changed ? 99 : i % 7});`).join('\n') + '\n';
  writeFileSync(dump, rows(3000, -1));
  const clinic = new CommandSource({ name: 'clinic', kind: 'command', command: ['cat', dump], tokenizer: 'lines' } as ConstructorParameters<typeof CommandSource>[0]);
  await repo.backup(clinic);
  writeFileSync(dump, rows(3100, 42));
  await repo.backup(clinic, {});
  writeFileSync(join(data, 'docs', 'a.txt'), 'relatório\n'.repeat(200));
  writeFileSync(join(data, 'docs', 'sub', 'b.bin'), Buffer.alloc(5000, 7));
  await repo.backup(new FilesSource({ name: 'docs', kind: 'files', path: join(data, 'docs'), include: [], exclude: [] } as unknown as ConstructorParameters<typeof FilesSource>[0]));
  const snapshots = new Map<string, { base: string | null; objects: string[]; source: string }>();
  for (const m of await repo.snapshots()) snapshots.set(m.id, { base: m.base, objects: m.objects, source: m.source });
  const pristine = new Map(listFiles(disk).map((f) => [f, readFileSync(join(disk, f))]));
  return { root, media, disk, key, pristine, snapshots };
}

type Category = 'envelope' | 'object' | 'sentinela-repo.json' | 'disk.json';

/** The file to damage and its new bytes (null: the file removed). */
function damage(rng: Rng, fx: Fixture): { file: string; category: Category; bytes: Buffer | null } {
  const files = [...fx.pristine.keys()];
  const category = rng.pick<Category>(['envelope', 'envelope', 'envelope', 'object', 'object', 'sentinela-repo.json', 'disk.json']);
  const file =
    category === 'envelope' ? rng.pick(files.filter((f) => f.startsWith('snapshots/')))
    : category === 'object' ? rng.pick(files.filter((f) => f.startsWith('objects/')))
    : category;
  const original = fx.pristine.get(file)!;
  if (rng.chance(0.04)) return { file, category, bytes: null };
  if (category === 'object') return { file, category, bytes: mutateBytes(rng, original, fx.pristine.get(rng.pick(files))) };
  // A JSON file holding JSON that is not an object at all.
  if (rng.chance(0.1)) return { file, category, bytes: Buffer.from(rng.pick(['null', '[]', 'true', '"x"', '7', '{}'])) };
  if (category === 'envelope' && rng.chance(0.3)) {
    // The manifest inside: its encrypted bytes damaged, the envelope otherwise intact.
    const env = JSON.parse(original.toString()) as { manifest: string };
    env.manifest = mutateBytes(rng, Buffer.from(env.manifest, 'base64')).toString('base64');
    return { file, category, bytes: Buffer.from(JSON.stringify(env)) };
  }
  if (rng.chance(0.25)) return { file, category, bytes: mutateBytes(rng, original) };
  return { file, category, bytes: Buffer.from(mutateJson(rng, JSON.parse(original.toString()))) };
}

function put(path: string, bytes: Buffer | null): void {
  if (existsSync(path)) chmodSync(path, 0o644);
  if (bytes === null) rmSync(path, { force: true });
  else writeFileSync(path, bytes);
}

/** What the damaged file is called in messages: its snapshot id, its object name, or the repository. */
function namesOf(fx: Fixture, file: string): string[] {
  const base = file.split('/').pop()!;
  return file.startsWith('snapshots/') || file.startsWith('objects/') ? [base] : [base, fx.disk];
}

/** Snapshots that need `file` (an object or an envelope), directly or through their base. */
function affected(fx: Fixture, file: string): Set<string> {
  const name = file.split('/').pop()!;
  const hit = new Set<string>();
  for (const [id, s] of fx.snapshots) if (id === name || s.objects.includes(name)) hit.add(id);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [id, s] of fx.snapshots) if (!hit.has(id) && s.base && hit.has(s.base)) grew = hit.add(id) !== null;
  }
  return hit;
}

const refusal = (err: unknown): err is Error => err instanceof RepositoryError || err instanceof RestoreRefused;

async function exercise(fx: Fixture, file: string, category: Category, work: string, steps: Record<string, number>): Promise<Outcome> {
  const names = namesOf(fx, file);
  const named = (text: string) => names.some((n) => text.includes(n));
  const refusals: string[] = [];
  const fail = (what: string, err: unknown): Outcome => ({ kind: 'crash', detail: `${what} threw what is not a refusal: ${(err as Error)?.stack ?? String(err)}` });
  // A damaged disk.json: the disk is no longer taken for one (a refusal), never an error.
  if (category === 'disk.json') {
    try {
      const label = readDiskLabel(fx.disk);
      const found = scanForDisks([fx.media]);
      if (!label) refusals.push('not a backup disk');
      if (Boolean(label) !== (found.length === 1)) return { kind: 'crash', detail: 'readDiskLabel and scanForDisks disagree' };
    } catch (err) {
      return fail('the disk scan', err);
    }
  }
  let repo: Awaited<ReturnType<typeof openRepository>>;
  try {
    repo = await openRepository(fx.disk, fx.key);
  } catch (err) {
    if (!refusal(err)) return fail('openRepository', err);
    if (!named(err.message)) return { kind: 'crash', detail: `a refusal that does not name ${names.join(' or ')}: ${err.message}` };
    return { kind: 'refused', why: `${category}: ${(err as RepositoryError).code ?? 'refused'}` };
  }
  try {
    await repo.snapshots();
  } catch (err) {
    if (!refusal(err)) return fail('snapshots', err);
    refusals.push(`snapshots ${(err as RepositoryError).code}`);
  }
  const changed = !(existsSync(join(fx.disk, file)) && readFileSync(join(fx.disk, file)).equals(fx.pristine.get(file)!));
  try {
    const report = await repo.verify({ readData: true });
    const problems = report.problems.filter((p) => named(`${p.item} ${p.detail}`));
    if (problems.length) refusals.push(`verify ${problems[0]!.kind}`);
    else if (report.problems.length) return { kind: 'crash', detail: `verify reports problems that do not name ${names.join(' or ')}: ${JSON.stringify(report.problems.slice(0, 3))}` };
    else if (category === 'object' && changed) return { kind: 'crash', detail: `verify --read-data did not notice that object ${names[0]} is damaged` };
  } catch (err) {
    if (!refusal(err)) return fail('verify', err);
    if (!named(err.message)) return { kind: 'crash', detail: `verify refused without naming ${names.join(' or ')}: ${err.message}` };
    refusals.push(`verify ${(err as RepositoryError).code}`);
  }
  try {
    const report = await verifyObjects(fx.disk);
    if (category === 'object' && changed && !report.problems.some((p) => named(`${p.item} ${p.detail}`))) return { kind: 'crash', detail: `keyless verify did not notice that object ${names[0]} is damaged` };
  } catch (err) {
    if (!refusal(err)) return fail('keyless verify', err);
  }
  // Restore: each source's newest snapshot, as `restore --source NAME --latest --to-file` does.
  const newest = new Map<string, string>();
  for (const [id, s] of fx.snapshots) newest.set(s.source, id);
  const hit = affected(fx, file);
  for (const id of newest.values()) {
    try {
      await restoreToFile(repo.read(id), join(work, `restored-${id}`), { force: true } as Parameters<typeof restoreToFile>[2]);
      rmSync(join(work, `restored-${id}`), { force: true, recursive: true });
    } catch (err) {
      if (!refusal(err)) return fail(`restore of ${id}`, err);
      if (!hit.has(id) && category !== 'sentinela-repo.json') return { kind: 'crash', detail: `restore of ${id}, which does not need ${file}, failed: ${err.message}` };
      refusals.push(`restore ${(err as RepositoryError).code ?? 'refused'}`);
    }
  }
  // Copy to another disk: every snapshot that does not need the damaged file gets there.
  const target = join(work, 'disk-b');
  try {
    const r = await copySnapshots(fx.disk, target);
    const lost = [...fx.snapshots.keys()].filter((id) => !hit.has(id) && !r.snapshotsCopied.includes(id));
    if (lost.length && category !== 'sentinela-repo.json') return { kind: 'crash', detail: `copy left out ${lost.join(', ')}, which do not need ${file}` };
    if (r.failed.length) refusals.push('copy skipped damaged snapshots');
  } catch (err) {
    if (!refusal(err)) return fail('copy', err);
    if (!named(err.message)) return { kind: 'crash', detail: `copy refused without naming ${names.join(' or ')}: ${err.message}` };
    // Only a damaged repository description may stop the whole copy: one damaged snapshot or object never does.
    if (category !== 'sentinela-repo.json') return { kind: 'crash', detail: `copy stopped by one damaged file (${file}): ${err.message}` };
    refusals.push('copy refused');
  } finally {
    rmSync(target, { recursive: true, force: true });
  }
  for (const r of new Set(refusals)) steps[`${category}: ${r}`] = (steps[`${category}: ${r}`] ?? 0) + 1;
  return refusals.length ? { kind: 'refused', why: `${category}: ${refusals[0]}` } : { kind: 'accepted' };
}

export async function fuzzRepository(opts: TargetRun): Promise<TargetReport> {
  const tally = new Tally('repository', opts.seed, opts.failureFile);
  const fx = await makeFixture();
  opts.log(`fuzz repository: ${fx.snapshots.size} snapshots, ${fx.pristine.size} files in ${fx.disk}`);
  const work = join(fx.root, 'work');
  mkdirSync(work, { recursive: true });
  /** Every step's refusals (an input's refusal kind is its first step's). */
  const steps: Record<string, number> = {};
  try {
    await campaign(opts.inputs, 1, async (i) => {
      const rng = Rng.forInput(opts.seed, 'repository', i);
      const d = damage(rng, fx);
      put(join(fx.disk, d.file), d.bytes);
      const record = `${d.file}\n${d.bytes === null ? '(removed)' : d.bytes.toString('hex')}`;
      let timer: NodeJS.Timeout | undefined;
      let outcome: Outcome;
      try {
        outcome = await Promise.race([
          exercise(fx, d.file, d.category, work, steps),
          new Promise<Outcome>((r) => (timer = setTimeout(() => r({ kind: 'hang', detail: `no answer within ${HANG_MS} ms` }), HANG_MS))),
        ]);
      } finally {
        clearTimeout(timer);
      }
      // Nothing else in the repository changed or gone; then the damaged file is put back.
      const now = listFiles(fx.disk);
      const others = [...fx.pristine.keys()].filter((f) => f !== d.file);
      const lost = others.filter((f) => !now.includes(f) || !readFileSync(join(fx.disk, f)).equals(fx.pristine.get(f)!));
      if (lost.length && outcome.kind !== 'crash') outcome = { kind: 'crash', detail: `other files of the repository changed or gone: ${lost.join(', ')}` };
      put(join(fx.disk, d.file), fx.pristine.get(d.file)!);
      for (const f of now) if (!fx.pristine.has(f)) rmSync(join(fx.disk, f), { force: true });
      tally.add(i, outcome, record);
      if (i % 500 === 499) opts.log(`fuzz repository: ${i + 1} inputs…`);
    });
  } finally {
    rmSync(fx.root, { recursive: true, force: true });
  }
  tally.report.extra = Object.fromEntries(Object.entries(steps).map(([k, v]) => [`step refused: ${k}`, v]));
  return tally.finish();
}
