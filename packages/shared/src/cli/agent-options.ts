/**
 * The options of every `sentinela-agent` verb: the one definition the agent parses its command line
 * with, and the hub's restore guide and the docs build their commands from (agentCommand). A
 * command that names an option the verb does not take cannot be built.
 */
import type { OptionSpec } from './program.js';

export type { OptionSpec };

/** The default config path the installer writes. */
export const AGENT_CONFIG_PATH = '/etc/sentinela/agent.yaml';

const config = { type: 'string', short: 'c', arg: 'FILE', help: 'agent.yaml', default: AGENT_CONFIG_PATH } as const;
/** restore, snapshots and verify also work on a bare machine: there the default config may not exist. */
const bareConfig = { ...config, help: 'agent.yaml (the spool, the key file, the USB mount roots); read when it exists' } as const;
const json = { type: 'boolean', help: 'print JSON instead of text' } as const;
/** Where a repository is read from: a name or a folder (a USB disk's mount point, the secondary server's mirror). */
const from = { type: 'string', arg: 'WHERE', help: 'spool (default), usb (the site\'s disk mounted now), peer (backup.peer.path), or a folder' } as const;
const repo = { type: 'string', arg: 'DIR', help: 'a repository folder (the older spelling of --from DIR)' } as const;
const recoveryCode = { type: 'string', arg: 'CODE', help: 'the site\'s recovery code instead of the key file (a bare machine)' } as const;
const source = { type: 'string', arg: 'NAME', help: 'only this source' } as const;

export const AGENT_VERB_OPTIONS = {
  run: { config },
  enroll: {
    config,
    hub: { type: 'string', arg: 'URL', help: "the hub's HTTP address, e.g. http://10.10.0.5:8080 (https: signed by hub.caFile or a system CA)" },
    token: { type: 'string', arg: 'TOKEN', help: 'the one-time enrolment token' },
  },
  status: { config, json: { ...json, help: "print the local page's GET /api/status document instead of a table" } },
  backup: { config, source, json: { ...json, help: 'print the new snapshots as JSON' } },
  restore: {
    config: bareConfig,
    snapshot: { type: 'string', arg: 'ID', help: 'the snapshot (see: sentinela-agent snapshots)' },
    source: { type: 'string', arg: 'NAME', help: 'with --latest: the newest snapshot of this source' },
    latest: { type: 'boolean', help: 'the newest snapshot of --source' },
    from: { ...from, help: `${from.help}, or hub (the hub's off-site copy, downloaded; the server must be enrolled)` },
    'to-file': { type: 'string', arg: 'FILE', help: 'write the dump to FILE (SQLite: a database file, checked)' },
    'to-dir': { type: 'string', arg: 'DIR', help: 'extract a files snapshot into DIR' },
    'to-database': { type: 'string', arg: 'NAME', help: 'load a MariaDB/PostgreSQL snapshot into a new database NAME' },
    force: { type: 'boolean', help: 'replace an existing target' },
    'recovery-code': recoveryCode,
    host: { type: 'string', arg: 'HOST', help: "the database server (default: the source's)" },
    port: { type: 'string', arg: 'PORT', help: "its port (default: the source's)" },
    user: { type: 'string', arg: 'USER', help: 'an admin of the server (the backup user only reads)' },
    'password-file': { type: 'string', arg: 'FILE', help: "that admin's password, first line of FILE" },
    json: { ...json, help: 'print the report as JSON' },
  },
  'disk init': {
    config,
    label: { type: 'string', arg: 'NAME', help: 'a name to write on the disk, e.g. "disco A"' },
    peer: { type: 'boolean', help: "PATH is the secondary server's mirror folder, not a USB disk" },
  },
  'disk list': { config, json },
  'disk eject': {
    config,
    wait: { type: 'boolean', help: 'let a copy under way finish instead of stopping it' },
    'no-unmount': { type: 'boolean', help: 'sync only; leave the disk mounted' },
  },
  doctor: { config, json: { ...json, help: 'print the report as JSON' } },
  snapshots: { config: bareConfig, source: { ...source, help: "only this source's snapshots" }, from, repo, 'recovery-code': recoveryCode, json: { ...json, help: 'print the manifests as JSON' } },
  verify: {
    config: bareConfig,
    from,
    repo,
    'recovery-code': recoveryCode,
    'read-data': { type: 'boolean', help: 'read, check and decrypt every object, not only check that it exists' },
    json: { ...json, help: 'print the report as JSON' },
  },
  prune: {
    config,
    repo: { type: 'string', arg: 'DIR', help: 'another repository of this site (a mounted USB disk, say)' },
    'dry-run': { type: 'boolean', help: 'only say what would be removed' },
    'grace-hours': { type: 'string', arg: 'H', help: 'keep unreferenced files younger than H hours (default 6)' },
    json: { ...json, help: 'print the result as JSON' },
  },
  'key init': { config },
  'key export': { config },
  'page set-pin': { config, 'pin-file': { type: 'string', arg: 'FILE', help: 'a file whose first line is the PIN (default: asked for, or the first line of stdin)' } },
  drill: { config, source, from: { ...from, help: 'only this place: spool, usb, peer, or a folder' }, json: { ...json, help: 'print the report as JSON' } },
} as const satisfies Record<string, OptionSpec>;

export type AgentVerb = keyof typeof AGENT_VERB_OPTIONS;
type OptionOf<V extends AgentVerb> = keyof (typeof AGENT_VERB_OPTIONS)[V] & string;

/** The named places `--from` takes besides a folder. */
export const REPOSITORY_LOCATIONS = ['spool', 'usb', 'peer', 'hub'] as const;
export type RepositoryLocation = (typeof REPOSITORY_LOCATIONS)[number];

/** A value as a shell word: left bare when safe, quoted otherwise; `<PLACEHOLDER>`s stay as written. */
function shellWord(v: string): string {
  if (/^(<[^<>\s]+>|[A-Za-z0-9_./:@%+=,-])+$/.test(v)) return v;
  return `'${v.replace(/'/g, `'\\''`)}'`;
}

/**
 * `sentinela-agent VERB [POSITIONAL] --opt value …`, in the order given. Throws on an option the
 * verb does not take or a value of the wrong type, so a guide can never show a command that fails
 * with "Unknown option".
 */
export function agentCommand<V extends AgentVerb>(verb: V, options: ReadonlyArray<readonly [OptionOf<V>, string | true]>, positional?: string): string {
  const spec = AGENT_VERB_OPTIONS[verb] as OptionSpec;
  const words = ['sentinela-agent', ...verb.split(' '), ...(positional ? [shellWord(positional)] : [])];
  for (const [name, value] of options) {
    const o = spec[name];
    if (!o) throw new Error(`sentinela-agent ${verb} has no option --${name}`);
    if ((o.type === 'boolean') !== (value === true)) throw new Error(`sentinela-agent ${verb} --${name} takes ${o.type === 'boolean' ? 'no value' : 'a value'}`);
    words.push(`--${name}`);
    if (value !== true) words.push(shellWord(value));
  }
  return words.join(' ');
}

/** The verb a command line names ("disk init" for `disk init PATH …`), or null when it names none. */
export function agentVerbOf(words: string[]): AgentVerb | null {
  const two = `${words[0]} ${words[1]}`;
  if (two in AGENT_VERB_OPTIONS) return two as AgentVerb;
  return words[0] !== undefined && words[0] in AGENT_VERB_OPTIONS ? (words[0] as AgentVerb) : null;
}
