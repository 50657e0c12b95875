/**
 * The agent at rest: resident memory of a real `sentinela-agent run`, started the way the systemd
 * unit starts it (the launcher bin/sentinela-agent.js under plain `node`, no flags), with a typical
 * config (examples/agent.yaml): health sampling with a MariaDB probe, network probes, a UPS on a
 * real upsd (dummy-ups), backup sources on schedules that do not fall in the run, USB watch,
 * off-site copy on, the technician page on. A real hub. The agent first sends the one snapshot its
 * spool holds (made beforehand by `sentinela-agent backup`), then settles; VmRSS is read from
 * /proc/PID/status every second for a minute (--full: five), with the page opened once.
 * Issue 19's target is at most 60 MB.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { HubHandle, NEVER } from '@sentinela/tools/harness/fleet.js';
import { NutServer, NUT_USERS } from '@sentinela/tools/harness/nut.js';
import { freePort } from '@sentinela/tools/harness/tcp.js';
import { REPO_ROOT } from '@sentinela/tools/harness/paths.js';
import { runNode } from '@sentinela/tools/harness/process.js';
import { sleep, waitFor } from '@sentinela/tools/harness/wait.js';
import { percentile, type BenchResult } from '../lib/report.js';

/** What the installed wrapper (/usr/local/bin/sentinela-agent) runs under node. */
const LAUNCHER = resolve(REPO_ROOT, 'packages/agent/bin/sentinela-agent.js');
const UNIT = resolve(REPO_ROOT, 'installers/systemd/sentinela-agent.service');

/** The unit's `Environment=` settings (NODE_OPTIONS…), so the agent runs here as it runs installed. */
function unitEnvironment(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(UNIT, 'utf8').split('\n')) {
    const m = /^Environment=(?:"([^"]*)"|(\S+))\s*$/.exec(line);
    const kv = m?.[1] ?? m?.[2];
    const eq = kv?.indexOf('=') ?? -1;
    if (kv && eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return env;
}
const TARGET_MB = 60;

function status(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const m = /^(Vm\w+|Rss\w+):\s+(\d+) kB/.exec(line);
    if (m) out[m[1]!] = Number(m[2]) / 1024;
  }
  return out;
}

/** Resident MB per mapped file (the node binary, native addons…), largest first. */
function fileMappings(pid: number): Array<[string, number]> {
  const by = new Map<string, number>();
  let path = '';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (head) path = head[1]!.startsWith('/') ? head[1]!.replace(/.*\//, '') : '';
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss && path) by.set(path, (by.get(path) ?? 0) + Number(rss[1]) / 1024);
  }
  return [...by].sort((a, b) => b[1] - a[1]);
}

export async function run(opts: { full: boolean; log: (line: string) => void }): Promise<BenchResult> {
  const { full, log } = opts;
  const seconds = full ? 300 : 60;
  const work = mkdtempSync(join(tmpdir(), 'sentinela-bench-agent-rss-'));
  const nut = await new NutServer().start();
  const hub = await new HubHandle({ dir: join(work, 'hub') }).start();
  const lines: string[] = [];
  const unitEnv = unitEnvironment();
  let child: ReturnType<typeof spawn> | null = null;
  try {
    const siteId = 'hf-rss';
    const token = await hub.addSite(siteId);
    const dir = join(work, 'agent');
    const files = join(work, 'etc-openmrs');
    mkdirSync(files, { recursive: true });
    for (let i = 0; i < 20; i++) writeFileSync(join(files, `f${i}.properties`), `key${i}=${'x'.repeat(2000)}\n`);
    const media = join(work, 'media');
    mkdirSync(media);
    const pagePort = await freePort();
    const config = {
      site: { id: siteId, name: 'Centro de Saúde de Teste' },
      dataDir: join(dir, 'data'),
      hub: { mqttUrl: hub.mqttUrl, reconnectSeconds: 5 },
      sampling: { intervalSeconds: 60, services: [{ name: 'openmrs-db', tcp: '127.0.0.1:3306', timeoutMs: 3000 }] },
      backup: {
        sources: [
          { name: 'openmrs', kind: 'mariadb', schedule: NEVER, host: '127.0.0.1', port: 3306, user: 'root', database: 'mysql' },
          { name: 'config', kind: 'files', schedule: NEVER, path: files },
        ],
        usb: { mountRoots: [media] },
      },
      offsite: {},
      power: { source: { kind: 'nut', host: '127.0.0.1', port: nut.port, ups: nut.ups, username: NUT_USERS.primary.username, passwordFile: nut.passwordFile('primary') }, shutdownCommand: ['/bin/false'] },
      network: { intervalSeconds: 30, lan: { gateway: `127.0.0.1:${hub.httpPort}` }, dns: { names: ['localhost'] } },
      page: { listen: { host: '127.0.0.1', port: pagePort } },
      log: { level: 'info' },
    };
    mkdirSync(dir, { recursive: true });
    const configFile = join(dir, 'agent.yaml');
    writeFileSync(configFile, stringify(config));
    const cli = async (args: string[]) => {
      const r = await runNode(LAUNCHER, [...args, '--config', configFile]);
      if (r.code !== 0) throw new Error(`sentinela-agent ${args[0]} failed: ${r.stderr}`);
      return r;
    };
    await cli(['enroll', '--hub', hub.httpUrl, '--token', token]);
    log('one backup of the config files into the spool…');
    await cli(['backup', '--source', 'config']);

    log(`starting the agent as the systemd unit does (${JSON.stringify(unitEnv)})…`);
    child = spawn(process.execPath, [LAUNCHER, 'run', '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...unitEnv } });
    for (const s of [child.stdout!, child.stderr!]) s.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)));
    const pid = child.pid!;
    await waitFor('the snapshot off-site', () => lines.some((l) => l.includes('is off-site')) || null, 120_000);
    log('settling 20 s…');
    await sleep(20_000);
    log(`reading VmRSS every second for ${seconds} s…`);
    const rss: number[] = [];
    for (let i = 0; i < seconds; i++) {
      if (i === 5) await fetch(`http://127.0.0.1:${pagePort}/`).then((r) => r.text());
      rss.push(status(pid).VmRSS!);
      await sleep(1000);
    }
    const last = status(pid);
    const mapped = fileMappings(pid);
    rss.sort((a, b) => a - b);
    const r1 = (x: number) => Math.round(x * 10) / 10;
    const figures = {
      rss_max_mb: r1(rss[rss.length - 1]!),
      rss_median_mb: r1(percentile(rss, 50)),
      rss_min_mb: r1(rss[0]!),
      peak_since_start_mb: r1(last.VmHWM!),
      rss_anon_mb: r1(last.RssAnon ?? 0),
      rss_file_mb: r1(last.RssFile ?? 0),
    };
    const errors = lines.filter((l) => /"level":(50|60)/.test(l));
    return {
      name: 'agent-rss',
      setup: { seconds, node: process.version, sampling_s: 60, modules: 'power(nut) network backup(2 sources) offsite page', started: 'node bin/sentinela-agent.js run (as the unit)', unit_env: JSON.stringify(unitEnv) },
      figures,
      peer: { name: `target (issue 19)`, figures: { rss_max_mb: TARGET_MB } },
      ratios: { rss_max_mb: r1(figures.rss_max_mb / TARGET_MB) },
      notes: [
        `VmRSS over ${seconds} s at rest (after the start-up off-site copy and 20 s to settle): max ${figures.rss_max_mb} MB, median ${figures.rss_median_mb} MB; anonymous ${figures.rss_anon_mb} MB, file-backed ${figures.rss_file_mb} MB; VmHWM ${figures.peak_since_start_mb} MB`,
        `file-backed by mapping: ${mapped.slice(0, 4).map(([f, mb]) => `${f} ${r1(mb)} MB`).join(', ')}; a bare \`node -e 'setTimeout(()=>{},1e9)'\` holds about 42 MB (35 MB of it the node binary's pages)`,
        ...(errors.length ? [`agent errors during the run: ${errors.slice(0, 3).join(' | ')}`] : []),
      ],
    };
  } finally {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    await hub.proc?.stop().catch(() => undefined);
    await nut.stop().catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  }
}
