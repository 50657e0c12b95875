/**
 * Issue 16's recovery figures: a clinical MariaDB (1 M observation rows with --full) backed up by a
 * real agent, copied to a USB folder and off-site to a real hub, then
 * - `sentinela-agent drill`, once: RTO (fetch, restore into a scratch server and check) per location;
 * - `sentinela-agent restore --to-file` against `restic dump` of the same dump;
 * - `sentinela-agent verify --read-data` against `restic check --read-data`;
 * each pair run back to back, ROUNDS times, medians reported (the machine is shared and noisy),
 * with each side's CPU seconds (user + system, from /usr/bin/time's source: the child's rusage).
 * restic backs up the very dump Sentinela restores (piped in with --stdin), so both hold the same
 * bytes; both run as fresh processes reading the same disk, Sentinela as installed (bin/sentinela-agent.js,
 * which starts these verbs from the bundle).
 *
 * SENTINELA_BENCH_OBSERVATIONS=N sets the size instead of quick or full.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentHandle, HubHandle, NEVER } from '@sentinela/tools/harness/fleet.js';
import { offsiteLog } from '@sentinela/tools/harness/offsite.js';
import { AGENT_LAUNCHER } from '@sentinela/tools/harness/paths.js';
import { median, ratiosOf, type BenchResult } from '../lib/report.js';
import { createClinicalDatabase, dropDatabase, SIZES, type ClinicalDb } from '../backup/generate.js';
import { sh } from '../backup/dumps.js';

const DB = 'sentinela_bench_drill';
/** The issue's size: a MariaDB of 1 M rows (observations; patients and encounters come on top). */
const FULL_OBSERVATIONS = SIZES.test;
const QUICK_OBSERVATIONS = 50_000;
const ROUNDS = 3;

interface DrillResult {
  location: string;
  ok: boolean;
  rtoSeconds: number;
  projectedRtoSeconds: number | null;
  problems: string[];
}

const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

/**
 * Runs a command line; its wall time, and its CPU time (user + system of it and its children, from
 * bash's `times`): on a loaded machine the CPU time says what the wall time cannot.
 */
function wallAndCpu(cmd: string, env: NodeJS.ProcessEnv): { wall: number; cpu: number } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('bash', ['-c', `( ${cmd} ) >/dev/null || exit 1; times`], { env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 1 << 24 });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr.slice(-1000)}`);
  // `times`: the shell's user and system time, then its children's ("0m0.450s 0m0.230s").
  const children = r.stdout.trim().split('\n').at(-1)!.split(/\s+/);
  const seconds = (t: string) => {
    const m = /^(\d+)m([\d.]+)s$/.exec(t);
    if (!m) throw new Error(`bash times printed ${JSON.stringify(r.stdout)}`);
    return Number(m[1]) * 60 + Number(m[2]);
  };
  return { wall, cpu: seconds(children[0]!) + seconds(children[1]!) };
}

export async function run(opts: { full: boolean; log: (line: string) => void }): Promise<BenchResult> {
  const { full, log } = opts;
  const observations = Number(process.env.SENTINELA_BENCH_OBSERVATIONS) || (full ? FULL_OBSERVATIONS : QUICK_OBSERVATIONS);
  const work = mkdtempSync(join(tmpdir(), 'sentinela-bench-drill-'));
  const db: ClinicalDb = { dialect: 'mariadb', conn: { host: '127.0.0.1', database: DB } };
  let hub: HubHandle | null = null;
  try {
    await dropDatabase(db);
    log(`generating the clinical database (${observations} observations)…`);
    const rows = await createClinicalDatabase(db, { observations });
    hub = await new HubHandle({ dir: join(work, 'hub') }).start();
    const token = await hub.addSite('hf-drill-bench');
    const media = join(work, 'media');
    const disk = join(media, 'disco');
    mkdirSync(disk, { recursive: true });
    const agent = new AgentHandle({
      dir: join(work, 'agent'),
      siteId: 'hf-drill-bench',
      mqttUrl: hub.mqttUrl,
      overrides: {
        backup: { sources: [{ name: 'emr', kind: 'mariadb', host: '127.0.0.1', database: DB, schedule: NEVER }], usb: { mountRoots: [media], pollSeconds: 1 } },
        offsite: {},
        sampling: { intervalSeconds: 60, services: [] },
      },
    });
    await agent.enroll(hub.httpUrl, token);
    log('backup…');
    const b = await agent.cli(['backup', '--json']);
    if (b.code !== 0) throw new Error(`backup failed: ${b.stderr}`);
    const snapshot = (JSON.parse(b.stdout) as Array<{ id: string }>)[0]!.id;
    const init = await agent.cli(['disk', 'init', disk, '--label', 'disco']);
    if (init.code !== 0) throw new Error(`disk init failed: ${init.stderr}`);
    log('copying to the USB folder and off-site to the hub…');
    await agent.start();
    await agent.proc.waitForLog('the USB copy', (l) => l.code === 'usb.copy_completed', 600_000);
    await agent.proc.waitForLog('the off-site copy', offsiteLog(snapshot), 1_800_000);
    await agent.proc.stop();

    // restic holds the same dump: Sentinela's own restore of it, piped in as a dump would be.
    const dump = join(work, 'dump.sql');
    const r0 = await agent.cli(['restore', '--from', 'spool', '--source', 'emr', '--latest', '--to-file', dump]);
    if (r0.code !== 0) throw new Error(`restore failed: ${r0.stderr}`);
    const dumpBytes = statSync(dump).size;
    const env = { RESTIC_PASSWORD: 'bench', RESTIC_REPOSITORY: join(work, 'restic'), RESTIC_CACHE_DIR: join(work, 'restic-cache') };
    sh('restic init', env);
    sh(`restic backup --quiet --stdin --stdin-filename dump.sql < '${dump}'`, env);
    // restic calibrates its scrypt to the machine's speed at `init`: on a loaded machine p comes out
    // lower and every restic command starts cheaper (0.25 to 0.9 CPU-s seen at quick size). Shown.
    const resticKdf = readdirSync(join(work, 'restic', 'keys')).map((k) => {
      const key = JSON.parse(readFileSync(join(work, 'restic', 'keys', k), 'utf8')) as { kdf: string; N: number; r: number; p: number };
      return `${key.kdf} N=${key.N} r=${key.r} p=${key.p}`;
    })[0];
    rmSync(dump);

    // One drill (restoring 1 M rows into a scratch server three times over takes minutes): RTO per location.
    log('drill of every copy…');
    const d = await agent.cli(['drill', '--json']);
    const report = JSON.parse(d.stdout || '{"results":[]}') as { ok: boolean; results: DrillResult[] };
    if (d.code !== 0 || !report.ok) throw new Error(`the drill failed: ${d.stderr}\n${report.results.map((r) => `${r.location}: ${r.problems.join('; ')}`).join('\n')}`);
    const rto: Record<string, number> = {};
    for (const r of report.results) {
      rto[`rto_s.${r.location}`] = round(r.rtoSeconds);
      if (r.projectedRtoSeconds !== null) rto[`rto_projected_s.${r.location}`] = round(r.projectedRtoSeconds);
    }
    log(`drill: ${JSON.stringify(rto)}`);

    const rounds: Array<{ figures: Record<string, number>; peer: Record<string, number> }> = [];
    for (let i = 0; i < ROUNDS; i++) {
      const figures: Record<string, number> = {};
      const peer: Record<string, number> = {};
      log(`round ${i + 1}/${ROUNDS}: restore to a file, then restic dump…`);
      const out = join(work, 'out.sql');
      const agentCmd = (args: string) => `'${process.execPath}' '${AGENT_LAUNCHER}' ${args} --config '${agent.configFile}'`;
      const pairs: Array<[string, string, string]> = [
        ['restore', agentCmd(`restore --from spool --source emr --latest --to-file '${out}' --force`), `restic dump latest /dump.sql > '${out}'`],
        ['verify_read_data', agentCmd('verify --from spool --read-data'), 'restic check --read-data'],
      ];
      for (const [name, ours, theirs] of pairs) {
        const a = wallAndCpu(ours, {});
        rmSync(out, { force: true });
        const b = wallAndCpu(theirs, env);
        rmSync(out, { force: true });
        figures[`${name}_s`] = round(a.wall);
        figures[`${name}_cpu_s`] = round(a.cpu);
        peer[`${name}_s`] = round(b.wall);
        peer[`${name}_cpu_s`] = round(b.cpu);
      }
      log(`round ${i + 1}: ${JSON.stringify({ figures, peer })}`);
      rounds.push({ figures, peer });
    }
    const med = (pick: (r: (typeof rounds)[number]) => Record<string, number>) => {
      const keys = new Set(rounds.flatMap((r) => Object.keys(pick(r))));
      return Object.fromEntries([...keys].map((k) => [k, median(rounds.map((r) => pick(r)[k]!).filter((v) => v !== undefined))]));
    };
    const figures = { ...rto, ...med((r) => r.figures) };
    const peer = med((r) => r.peer);
    const ratios = ratiosOf(figures, peer);
    return {
      name: 'drill',
      setup: { size: full ? 'full' : 'quick', observations, rows: rows.patients + rows.encounters + rows.observations, dump_bytes: dumpBytes, rounds: ROUNDS, restic_kdf: resticKdf ?? 'unknown' },
      figures,
      peer: { name: 'restic', figures: peer },
      ratios,
      rounds,
      notes: [
        `restore to a file ${ratios.restore_s} × restic dump's time (CPU ${ratios.restore_cpu_s} ×), verify --read-data ${ratios.verify_read_data_s} × restic check --read-data's (CPU ${ratios.verify_read_data_cpu_s} ×); target ≤ 1.0; medians of ${ROUNDS} rounds`,
        'rto_s.LOCATION: the drill of that copy, restore into the scratch MariaDB server and every check, in seconds',
      ],
    };
  } finally {
    await hub?.proc.stop().catch(() => undefined);
    await dropDatabase(db).catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  }
}
