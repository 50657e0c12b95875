/**
 * The options of every `sentinela-agent` verb: the one definition the agent parses its command line
 * with, and the hub's restore guide and the docs build their commands from (agentCommand). A
 * command that names an option the verb does not take cannot be built.
 */
export type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string }>;

const config = { type: 'string', short: 'c' } as const;
const json = { type: 'boolean' } as const;
/** Where a repository is read from: a name or a folder (a USB disk's mount point, the secondary server's mirror). */
const from = { type: 'string' } as const;

export const AGENT_VERB_OPTIONS = {
  run: { config },
  enroll: { config, hub: { type: 'string' }, token: { type: 'string' } },
  status: { config, json },
  backup: { config, source: { type: 'string' }, json },
  restore: {
    config,
    snapshot: { type: 'string' },
    source: { type: 'string' },
    latest: { type: 'boolean' },
    from,
    'to-file': { type: 'string' },
    'to-dir': { type: 'string' },
    'to-database': { type: 'string' },
    force: { type: 'boolean' },
    'recovery-code': { type: 'string' },
    host: { type: 'string' },
    port: { type: 'string' },
    user: { type: 'string' },
    'password-file': { type: 'string' },
    json,
  },
  'disk init': { config, label: { type: 'string' }, peer: { type: 'boolean' } },
  'disk list': { config, json },
  'disk eject': { config, wait: { type: 'boolean' }, 'no-unmount': { type: 'boolean' } },
  doctor: { config, json },
  snapshots: { config, source: { type: 'string' }, from, repo: { type: 'string' }, 'recovery-code': { type: 'string' }, json },
  verify: { config, from, repo: { type: 'string' }, 'recovery-code': { type: 'string' }, 'read-data': { type: 'boolean' }, json },
  prune: { config, repo: { type: 'string' }, 'dry-run': { type: 'boolean' }, 'grace-hours': { type: 'string' }, json },
  'key init': { config },
  'key export': { config },
  'page set-pin': { config, 'pin-file': { type: 'string' } },
  drill: { config, source: { type: 'string' }, from, json },
} as const satisfies Record<string, OptionSpec>;

export type AgentVerb = keyof typeof AGENT_VERB_OPTIONS;
type OptionOf<V extends AgentVerb> = keyof (typeof AGENT_VERB_OPTIONS)[V] & string;

/** The named places `--from` takes besides a folder. */
export const REPOSITORY_LOCATIONS = ['spool', 'usb', 'peer', 'hub'] as const;
export type RepositoryLocation = (typeof REPOSITORY_LOCATIONS)[number];

/** The default config path the installer writes. */
export const AGENT_CONFIG_PATH = '/etc/sentinela/agent.yaml';

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
