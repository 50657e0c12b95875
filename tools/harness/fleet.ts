/**
 * Starts real hub and agent processes from their built CLIs, with configs in a folder of their own:
 * the one way the demo, the system tests and the benchmarks set up a fleet.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { AGENT_BIN, HUB_BIN } from './paths.js';
import { NodeProcess, runNode, type RunResult } from './process.js';
import { uniqueSiteId } from './tmp.js';

type Obj = Record<string, unknown>;

function merge(base: Obj, over: Obj): Obj {
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const cur = out[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && cur && typeof cur === 'object' && !Array.isArray(cur) ? merge(cur as Obj, v as Obj) : v;
  }
  return out;
}

function cliError(what: string, r: RunResult): Error {
  return new Error(`${what} failed (exit ${r.code}):\n${r.stderr}${r.stdout}`);
}

export interface HubOptions {
  dir: string;
  hubId?: string;
  mqttPort?: number;
  httpPort?: number;
  overrides?: Obj;
  echo?: (line: string) => void;
  /** How long a start may take before it counts as failed (default 30 s; longer on a machine loaded on purpose). */
  readyTimeoutMs?: number;
}

export class HubHandle {
  proc!: NodeProcess;
  mqttPort = 0;
  httpPort = 0;
  readonly configFile: string;
  private config: Obj;

  constructor(readonly opts: HubOptions) {
    mkdirSync(opts.dir, { recursive: true });
    this.configFile = join(opts.dir, 'hub.yaml');
    this.config = merge(
      {
        hubId: opts.hubId ?? 'demo-hub',
        dataDir: join(opts.dir, 'data'),
        mqtt: { listen: { host: '127.0.0.1', port: opts.mqttPort ?? 0 }, allowPlaintext: true },
        http: { listen: { host: '127.0.0.1', port: opts.httpPort ?? 0 } },
        log: { level: 'info' },
      },
      opts.overrides ?? {},
    );
    this.writeConfig();
  }

  private writeConfig(): void {
    writeFileSync(this.configFile, stringify(this.config));
  }

  get mqttUrl(): string {
    return `mqtt://127.0.0.1:${this.mqttPort}`;
  }
  get httpUrl(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  /** Starts `sentinela-hub serve`; after the first start the config keeps the ports it got, so a restart reuses them. */
  async start(): Promise<this> {
    this.proc = new NodeProcess(`hub ${this.opts.hubId ?? 'demo-hub'}`, HUB_BIN, ['serve', '--config', this.configFile], { echo: this.opts.echo });
    const ready = await this.proc.waitForLog('hub ready', (l) => l.msg === 'hub ready', this.opts.readyTimeoutMs ?? 30_000);
    this.mqttPort = Number(ready.mqttPort);
    this.httpPort = Number(ready.httpPort);
    // Keep the ports the first start got, so that a restarted hub is where its agents look for it.
    this.config = merge(this.config, { mqtt: { listen: { port: this.mqttPort } }, http: { listen: { port: this.httpPort } } });
    this.writeConfig();
    return this;
  }

  cli(args: string[]): Promise<RunResult> {
    return runNode(HUB_BIN, [...args, '--config', this.configFile]);
  }

  /** Creates a site and returns its one-time enrolment token. */
  async addSite(id: string, extra: string[] = []): Promise<string> {
    const r = await this.cli(['sites', 'add', '--id', id, '--json', ...extra]);
    if (r.code !== 0) throw cliError(`sites add ${id}`, r);
    return (JSON.parse(r.stdout) as { token: string }).token;
  }

  async addApiToken(name: string): Promise<string> {
    const r = await this.cli(['tokens', 'add', '--name', name, '--json']);
    if (r.code !== 0) throw cliError(`tokens add ${name}`, r);
    return (JSON.parse(r.stdout) as { token: string }).token;
  }

  /** Creates a console user; the password goes through a file, as an admin would pass it. */
  async addUser(name: string, role: 'admin' | 'operator' | 'viewer', password: string): Promise<void> {
    const file = join(this.opts.dir, `.${name}.password`);
    writeFileSync(file, `${password}\n`, { mode: 0o600 });
    const r = await this.cli(['users', 'add', '--name', name, '--role', role, '--password-file', file]);
    rmSync(file, { force: true });
    if (r.code !== 0) throw cliError(`users add ${name}`, r);
  }

  async api<T = unknown>(path: string, token: string): Promise<T> {
    const res = await fetch(`${this.httpUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
    if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }
}

export interface AgentOptions {
  dir: string;
  siteId: string;
  mqttUrl: string;
  overrides?: Obj;
  echo?: (line: string) => void;
  /** More environment for `run` (a fake clock, say). */
  env?: NodeJS.ProcessEnv;
  /** How long a start may take before it counts as failed (default 30 s). */
  readyTimeoutMs?: number;
}

export class AgentHandle {
  proc!: NodeProcess;
  readonly configFile: string;

  constructor(readonly opts: AgentOptions) {
    mkdirSync(opts.dir, { recursive: true });
    this.configFile = join(opts.dir, 'agent.yaml');
    const config = merge(
      {
        site: { id: opts.siteId },
        dataDir: join(opts.dir, 'data'),
        hub: { mqttUrl: opts.mqttUrl, reconnectSeconds: 1 },
        sampling: { intervalSeconds: 2, services: [] },
        outbox: { drainPerSecond: 200, resendAfterSeconds: 10 },
        // A scheduled restore drill would start whenever a test runs in the off-peak window: tests start drills themselves.
        drills: { enabled: false },
        log: { level: 'info' },
      },
      opts.overrides ?? {},
    );
    writeFileSync(this.configFile, stringify(config));
  }

  cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
    return runNode(AGENT_BIN, [...args, '--config', this.configFile], env);
  }

  async enroll(hubHttpUrl: string, token: string): Promise<void> {
    const r = await this.cli(['enroll', '--hub', hubHttpUrl, '--token', token]);
    if (r.code !== 0) throw cliError(`enroll ${this.opts.siteId}`, r);
  }

  async start(): Promise<this> {
    this.proc = new NodeProcess(`agent ${this.opts.siteId}`, AGENT_BIN, ['run', '--config', this.configFile], { echo: this.opts.echo, env: this.opts.env });
    await this.proc.waitForLog('agent ready', (l) => l.msg === 'agent ready', this.opts.readyTimeoutMs ?? 30_000);
    return this;
  }
}

/** A cron schedule that in practice never fires: the test starts those backups itself. */
export const NEVER = '0 0 1 1 *';

/**
 * A hub for one test, stopped at its teardown, with one new site on it: how most system tests
 * begin. `extra`: more arguments for `sentinela-hub sites add` (a name, a province…).
 */
export async function hubWithNewSite(
  t: { teardown(fn: () => unknown): void },
  dir: string,
  sitePrefix: string,
  extra: string[] = [],
): Promise<{ hub: HubHandle; siteId: string; token: string }> {
  const hub = await new HubHandle({ dir }).start();
  t.teardown(() => hub.proc.stop());
  const siteId = uniqueSiteId(sitePrefix);
  const token = await hub.addSite(siteId, extra);
  return { hub, siteId, token };
}

/**
 * A hub (in `dir`/hub) with a new site, and that site's agent (in `dir`/agent) enrolled, not started:
 * the opening of most system tests.
 */
export async function hubWithEnrolledAgent(
  t: { teardown(fn: () => unknown): void },
  dir: string,
  sitePrefix: string,
  agentOpts: Omit<AgentOptions, 'dir' | 'siteId' | 'mqttUrl'> = {},
  siteArgs: string[] = [],
): Promise<{ hub: HubHandle; siteId: string; token: string; agent: AgentHandle }> {
  const { hub, siteId, token } = await hubWithNewSite(t, join(dir, 'hub'), sitePrefix, siteArgs);
  const agent = new AgentHandle({ dir: join(dir, 'agent'), siteId, mqttUrl: hub.mqttUrl, ...agentOpts });
  await agent.enroll(hub.httpUrl, token);
  return { hub, siteId, token, agent };
}
