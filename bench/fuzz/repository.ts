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
 *
 * An operation runs only when it reads the damaged file (the disk scan alone reads disk.json; the
 * listing reads no object; a restore reads its snapshot's chain): one that reads only undamaged
 * files gives the undamaged answer.
 *
 * The repository is made once (the template); the inputs run in worker threads (pool.ts), each lane
 * on its own copy of the template, put back after each input. Most of an input's time is spent
 * waiting for the file system, so several lanes per worker overlap those waits. A sample of inputs
 * also goes through the real CLI (`sentinela-agent verify --read-data` on the damaged copy): it
 * must exit 1 naming the damaged file when the library found a problem, 0 when it found none, and
 * never print a stack trace.
 */
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { tmpdir } from 'node:os';
import { CommandSource, copySnapshots, FilesSource, initRepository, MasterKey, newDiskLabel, openRepository, readDiskLabel, RepositoryError, restoreToFile, RestoreRefused, scanForDisks, verifyObjects, writeDiskLabel } from '@sentinela/agent';
import { AGENT_BIN } from '@sentinela/tools/harness/paths.js';
import { runNode } from '@sentinela/tools/harness/process.js';
import { mutateBytes, mutateJson } from './mutate.js';
import { Rng } from './rng.js';
import { within, type Outcome, type TargetReport } from './tally.js';
import { eachLane, runInWorkers, type LaneContext } from './pool.js';
import type { TargetRun } from './fuzz.bench.js';

const SITE = 'hf-fuzz-repo';
/** Per input: a deadline for the whole sequence of operations. */
const HANG_MS = 30_000;
/** Inputs under way at once in each worker thread. */
const LANES = 8;

function listFiles(dir: string, root = dir, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) listFiles(p, root, out);
    else out.push(relative(root, p));
  }
  return out.sort();
}

/** The template repository, made once by the main thread and handed to every worker. */
interface Template {
  /** Holds the template disk and every lane's folder. */
  root: string;
  disk: string;
  recoveryCode: string;
  /** snapshot id → its base and objects, from the undamaged repository. */
  snapshots: Array<[string, { base: string | null; objects: string[]; source: string }]>;
  /** Inputs that also go through the CLI: every `cliStride`-th. */
  cliStride: number;
}

/** One lane's own copy of the template. */
interface Fixture {
  media: string;
  disk: string;
  work: string;
  key: MasterKey;
  recoveryCode: string;
  pristine: Map<string, Buffer>;
  snapshots: Map<string, { base: string | null; objects: string[]; source: string }>;
}

/** The repository every lane copies (exported for a rerun of chosen inputs). */
export async function makeTemplate(cliRuns: number, inputs: number): Promise<Template> {
  // tmpfs when there is one: the copy's every write is fsynced, which a disk makes slow for no gain here.
  const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const root = join(base, `sentinela-fuzz-repo-${process.pid}-${Date.now().toString(36)}`);
  const disk = join(root, 'template', 'disk-a');
  const data = join(root, 'data');
  mkdirSync(join(data, 'docs', 'sub'), { recursive: true });
  mkdirSync(disk, { recursive: true });
  const key = MasterKey.generate();
  const repo = await initRepository(disk, { siteId: SITE, key });
  writeDiskLabel(disk, newDiskLabel(SITE, 'disco A'));
  const dump = join(data, 'dump.sql');
  const rows = (n: number, changed: number) => Array.from({ length: n }, (_, i) => `INSERT INTO obs VALUES (${i}, 'patient ${i}', ${i === changed ? 99 : i % 7});`).join('\n') + '\n';
  writeFileSync(dump, rows(400, -1));
  const clinic = new CommandSource({ name: 'clinic', kind: 'command', command: ['cat', dump], tokenizer: 'lines' } as ConstructorParameters<typeof CommandSource>[0]);
  await repo.backup(clinic);
  writeFileSync(dump, rows(410, 42));
  await repo.backup(clinic, {});
  writeFileSync(join(data, 'docs', 'a.txt'), 'relatório\n'.repeat(50));
  writeFileSync(join(data, 'docs', 'sub', 'b.bin'), Buffer.alloc(2000, 7));
  await repo.backup(new FilesSource({ name: 'docs', kind: 'files', path: join(data, 'docs'), include: [], exclude: [] } as unknown as ConstructorParameters<typeof FilesSource>[0]));
  rmSync(data, { recursive: true, force: true });
  const snapshots = (await repo.snapshots()).map((m) => [m.id, { base: m.base, objects: m.objects, source: m.source }] as [string, { base: string | null; objects: string[]; source: string }]);
  return { root, disk, recoveryCode: key.toRecoveryCode(), snapshots, cliStride: Math.max(1, Math.floor(inputs / cliRuns)) };
}

function laneFixture(t: Template, worker: number, lane: number, copy: number): Fixture {
  const dir = join(t.root, `w${worker}-l${lane}-c${copy}`);
  const media = join(dir, 'media');
  const disk = join(media, 'disk-a');
  const work = join(dir, 'work');
  rmSync(dir, { recursive: true, force: true });
  cpSync(t.disk, disk, { recursive: true });
  mkdirSync(work, { recursive: true });
  const pristine = new Map(listFiles(disk).map((f) => [f, readFileSync(join(disk, f))]));
  return { media, disk, work, key: MasterKey.fromRecoveryCode(t.recoveryCode), recoveryCode: t.recoveryCode, pristine, snapshots: new Map(t.snapshots) };
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

/** What the steps of one input refused, and whether verify (or opening the repository) found the damage: the CLI must agree. */
interface Steps {
  refusals: string[];
  verifyFound: boolean;
}

async function exercise(fx: Fixture, file: string, category: Category, steps: Steps): Promise<Outcome> {
  const { work } = fx;
  const { refusals } = steps;
  const names = namesOf(fx, file);
  const named = (text: string) => names.some((n) => text.includes(n));
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
    // Nothing else reads disk.json (the repository's own files are intact), so nothing else can answer differently.
    return refusals.length ? { kind: 'refused', why: `${category}: ${refusals[0]}` } : { kind: 'accepted' };
  }
  let repo: Awaited<ReturnType<typeof openRepository>>;
  try {
    repo = await openRepository(fx.disk, fx.key);
  } catch (err) {
    if (!refusal(err)) return fail('openRepository', err);
    if (!named(err.message)) return { kind: 'crash', detail: `a refusal that does not name ${names.join(' or ')}: ${err.message}` };
    steps.verifyFound = true;
    refusals.push(`open ${(err as RepositoryError).code ?? 'refused'}`);
    return { kind: 'refused', why: `${category}: open ${(err as RepositoryError).code ?? 'refused'}` };
  }
  // The listing reads the snapshot files and no object.
  if (category !== 'object') {
    try {
      await repo.snapshots();
    } catch (err) {
      if (!refusal(err)) return fail('snapshots', err);
      refusals.push(`snapshots ${(err as RepositoryError).code}`);
    }
  }
  const changed = !(existsSync(join(fx.disk, file)) && readFileSync(join(fx.disk, file)).equals(fx.pristine.get(file)!));
  try {
    const report = await repo.verify({ readData: true });
    const problems = report.problems.filter((p) => named(`${p.item} ${p.detail}`));
    steps.verifyFound = problems.length > 0;
    if (problems.length) refusals.push(`verify ${problems[0]!.kind}`);
    else if (report.problems.length) return { kind: 'crash', detail: `verify reports problems that do not name ${names.join(' or ')}: ${JSON.stringify(report.problems.slice(0, 3))}` };
    else if (category === 'object' && changed) return { kind: 'crash', detail: `verify --read-data did not notice that object ${names[0]} is damaged` };
  } catch (err) {
    if (!refusal(err)) return fail('verify', err);
    if (!named(err.message)) return { kind: 'crash', detail: `verify refused without naming ${names.join(' or ')}: ${err.message}` };
    steps.verifyFound = true;
    refusals.push(`verify ${(err as RepositoryError).code}`);
  }
  try {
    const report = await verifyObjects(fx.disk);
    if (category === 'object' && changed && !report.problems.some((p) => named(`${p.item} ${p.detail}`))) return { kind: 'crash', detail: `keyless verify did not notice that object ${names[0]} is damaged` };
  } catch (err) {
    if (!refusal(err)) return fail('keyless verify', err);
  }
  // Restore: each source's newest snapshot that reads the damaged file, as `restore --source NAME --latest --to-file` does.
  const newest = new Map<string, string>();
  for (const [id, s] of fx.snapshots) newest.set(s.source, id);
  const hit = affected(fx, file);
  for (const id of newest.values()) {
    if (!hit.has(id) && category !== 'sentinela-repo.json') continue;
    try {
      await restoreToFile(repo.read(id), join(work, `restored-${id}`), { force: true } as Parameters<typeof restoreToFile>[2]);
      rmSync(join(work, `restored-${id}`), { force: true, recursive: true });
    } catch (err) {
      if (!refusal(err)) return fail(`restore of ${id}`, err);
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
  return refusals.length ? { kind: 'refused', why: `${category}: ${refusals[0]}` } : { kind: 'accepted' };
}

/**
 * `sentinela-agent verify --read-data` on the damaged copy, as a technician would run it: exit 1
 * naming the damaged file when the library found the damage, 0 when it found none; no stack trace.
 */
async function throughCli(fx: Fixture, file: string, found: boolean): Promise<Outcome | undefined> {
  const r = await runNode(AGENT_BIN, ['verify', '--from', fx.disk, '--recovery-code', fx.recoveryCode, '--read-data']);
  const said = `${r.stdout}\n${r.stderr}`;
  const names = namesOf(fx, file);
  if (/\n\s+at /.test(r.stderr)) return { kind: 'crash', detail: `the CLI printed a stack trace: ${r.stderr.slice(0, 800)}` };
  if (found && (r.code !== 1 || !names.some((n) => said.includes(n)))) return { kind: 'crash', detail: `the CLI exited ${r.code} (expected 1 naming ${names.join(' or ')}): ${said.slice(0, 800)}` };
  if (!found && r.code !== 0) return { kind: 'crash', detail: `the CLI exited ${r.code} where the library found nothing wrong: ${said.slice(0, 800)}` };
  return undefined;
}

/** One input on one lane's copy: damage, the operations (and the CLI for a sample), the check that nothing else changed, the repair. */
async function tryInput(t: Template, fx: Fixture, i: number, seed: number): Promise<{ outcome: Outcome; counts: Record<string, number>; input: () => string }> {
  const rng = Rng.forInput(seed, 'repository', i);
  const d = damage(rng, fx);
  put(join(fx.disk, d.file), d.bytes);
  const steps: Steps = { refusals: [], verifyFound: false };
  let outcome = await within(exercise(fx, d.file, d.category, steps), HANG_MS, (): Outcome => ({ kind: 'hang', detail: `no answer within ${HANG_MS} ms, twice` }));
  let cli = false;
  if (outcome.kind !== 'crash' && outcome.kind !== 'hang' && i % t.cliStride === 0) {
    cli = true;
    outcome = (await within(throughCli(fx, d.file, steps.verifyFound), HANG_MS, (): Outcome => ({ kind: 'hang', detail: `the CLI did not exit within ${HANG_MS} ms, twice` }))) ?? outcome;
  }
  // Nothing else in the repository changed or gone; then the damaged file is put back.
  const now = listFiles(fx.disk);
  const others = [...fx.pristine.keys()].filter((f) => f !== d.file);
  const lost = others.filter((f) => !now.includes(f) || !readFileSync(join(fx.disk, f)).equals(fx.pristine.get(f)!));
  if (lost.length && outcome.kind !== 'crash' && outcome.kind !== 'hang') outcome = { kind: 'crash', detail: `other files of the repository changed or gone: ${lost.join(', ')}` };
  put(join(fx.disk, d.file), fx.pristine.get(d.file)!);
  for (const f of now) if (!fx.pristine.has(f)) rmSync(join(fx.disk, f), { force: true });
  const counts: Record<string, number> = Object.fromEntries([...new Set(steps.refusals)].map((why) => [`step refused: ${d.category}: ${why}`, 1]));
  if (cli) counts['CLI runs (verify --read-data, exit code checked)'] = 1;
  return { outcome, counts, input: () => `${d.file}\n${d.bytes === null ? '(removed)' : d.bytes.toString('hex')}` };
}

/** The worker side: each lane damages its own copy of the template, one input at a time. */
export async function repositoryLanes(ctx: LaneContext<Template>): Promise<void> {
  const t = ctx.setup;
  await eachLane(ctx, (lane) => {
    let copies = 0;
    let fx = laneFixture(t, ctx.worker, lane, copies++);
    return async (i) => {
      let r = await tryInput(t, fx, i, ctx.seed);
      if (r.outcome.kind === 'hang') {
        // The operation that timed out may still be running on this copy: the lane moves to a fresh
        // one. There the input is tried again before it is called a hang, as a loaded machine can
        // stall every lane at once (seen: bursts of 40 lanes timing out together, then copies
        // racing the abandoned ones on the same folder).
        fx = laneFixture(t, ctx.worker, lane, copies++);
        const again = await tryInput(t, fx, i, ctx.seed);
        if (again.outcome.kind === 'hang') fx = laneFixture(t, ctx.worker, lane, copies++);
        r = again.outcome.kind === 'hang' ? again : { ...again, counts: { ...again.counts, 'timed out once, answered when tried again': 1 } };
      }
      ctx.record(lane, i, r.outcome, r.input, r.counts);
    };
  });
}

export async function fuzzRepository(opts: TargetRun): Promise<TargetReport> {
  const template = await makeTemplate(Math.max(4, Math.round(opts.inputs / 2000)), opts.inputs);
  opts.log(`fuzz repository: ${template.snapshots.length} snapshots in the template ${template.disk}`);
  try {
    return await runInWorkers({
      ...opts,
      target: 'repository',
      module: import.meta.url,
      entry: 'repositoryLanes',
      lanes: LANES,
      // Past a lane's own limits (an input's and its CLI run's, each tried twice), so that only code that never yields is caught there.
      stuckMs: 4 * HANG_MS + 20_000,
      setup: template,
    });
  } finally {
    rmSync(template.root, { recursive: true, force: true });
  }
}
