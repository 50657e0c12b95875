/**
 * The command-line framework of sentinela-agent and sentinela-hub, on commander: a program is a list
 * of verbs ("status", "disk init"), each with its options, arguments, description and examples;
 * parsing, `--help` (generated from the options), `--version`, errors and exit codes are done here
 * once, the same way for both programs. A verb's run() gets the parsed values and returns its exit code.
 */
import { Command, CommanderError, Option } from 'commander';
import { ConfigError } from '../config/load.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, failureLine, UsageError, type Io } from './io.js';

export interface OptionDef {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  /** The value's name in the help, e.g. FILE. */
  readonly arg?: string;
  /** One line for the help. */
  readonly help?: string;
  readonly default?: string;
}
export type OptionSpec = Record<string, OptionDef>;

/** What a verb's run() gets: one entry per option, by its long name. */
export type Values<O extends OptionSpec> = { -readonly [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : string };

export interface ArgumentDef {
  readonly name: string;
  readonly help: string;
  readonly required?: boolean;
}

export interface VerbInput<O extends OptionSpec> {
  values: Values<O>;
  /** The positional arguments, in the order of `args`. */
  args: Array<string | undefined>;
  /** The options given on the command line (not defaults): an explicit --config must exist, a default one may not. */
  given: ReadonlySet<string>;
  io: Io;
}

export interface Verb<O extends OptionSpec = OptionSpec> {
  /** "status", or "disk init" for a verb of a group. */
  name: string;
  /** One line, for the program's list of verbs. */
  summary: string;
  /** What it does, in paragraphs, shown by `VERB --help` above the options. */
  description: string;
  options: O;
  args?: readonly ArgumentDef[];
  examples: readonly string[];
  run(input: VerbInput<O>): Promise<number>;
}

export interface ProgramDef {
  /** sentinela-agent */
  name: string;
  version: string;
  description: string;
  verbs: readonly Verb[];
  /** One line per group verb ("disk": "USB backup disks: init, list, eject"). */
  groups?: Record<string, string>;
  /** Shown after the list of verbs: conventions, exit codes, examples. */
  epilogue: string;
  /** A domain error the program knows: its exit code and line; null for any other. */
  classify?(err: unknown): { code: number; message: string } | null;
}

/** The erased form a program's list holds; defineVerb keeps each verb's values typed by its options. */
export function defineVerb<O extends OptionSpec>(verb: Verb<O>): Verb {
  return verb as unknown as Verb;
}

/** Paragraphs as written in the source, re-wrapped by commander to the terminal's width. */
const paragraphs = (text: string) => text.replace(/([^\n])\n(?!\n)/g, '$1 ');

function flags(name: string, o: OptionDef): string {
  return `${o.short ? `-${o.short}, ` : ''}--${name}${o.type === 'string' ? ` <${o.arg ?? 'VALUE'}>` : ''}`;
}

/** The commander tree for one run (commander keeps parsed values on its objects: a fresh tree each time). */
function build(def: ProgramDef, io: Io, ran: { code: number | null }): Command {
  const program = new Command(def.name)
    .description(paragraphs(def.description))
    .showHelpAfterError(`see: ${def.name} --help`)
    .version(def.version, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'this help')
    .helpCommand('help [verb]', 'the help of a verb')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.replace(/\n$/, '')), writeErr: (s) => io.err(s.replace(/\n$/, '')) })
    .addHelpText('after', `\n${def.epilogue}`);
  const groups = new Map<string, Command>();
  for (const verb of def.verbs) {
    const words = verb.name.split(' ');
    let parent = program;
    if (words.length === 2) {
      const g = words[0]!;
      let group = groups.get(g);
      if (!group) {
        group = parent.command(g).summary(def.groups?.[g] ?? '').description(def.groups?.[g] ?? '').helpCommand(false).showHelpAfterError(`see: ${def.name} ${g} --help`);
        groups.set(g, group);
      }
      parent = group;
    }
    const cmd = parent.command(words[words.length - 1]!).summary(verb.summary).description(paragraphs(verb.description));
    cmd.showHelpAfterError(`see: ${def.name} ${verb.name} --help`);
    const attribute = new Map<string, string>();
    for (const [name, o] of Object.entries(verb.options)) {
      const opt = new Option(flags(name, o), o.help ?? '');
      if (o.default !== undefined) opt.default(o.default);
      attribute.set(name, opt.attributeName());
      cmd.addOption(opt);
    }
    for (const a of verb.args ?? []) cmd.argument(a.required ? `<${a.name}>` : `[${a.name}]`, a.help);
    if (verb.examples.length) cmd.addHelpText('after', `\nExamples:\n${verb.examples.map((e) => `  ${e}`).join('\n')}`);
    cmd.action(async (...params: unknown[]) => {
      const c = params[params.length - 1] as Command;
      const opts = c.opts();
      const values: Record<string, string | boolean | undefined> = {};
      const given = new Set<string>();
      for (const [name, attr] of attribute) {
        // A "--no-X" option is stored by commander as X: false.
        values[name] = name.startsWith('no-') ? (opts[attr] === false ? true : undefined) : (opts[attr] as string | boolean | undefined);
        if (c.getOptionValueSource(attr) === 'cli') given.add(name);
      }
      ran.code = await runVerb(def, verb, { values: values as Values<OptionSpec>, args: c.args, given, io });
    });
  }
  return program;
}

async function runVerb(def: ProgramDef, verb: Verb, input: VerbInput<OptionSpec>): Promise<number> {
  const prefix = `${def.name} ${verb.name}`;
  try {
    return await verb.run(input);
  } catch (err) {
    if (err instanceof UsageError) {
      // Older messages name the program themselves; say it once, and where the help is.
      const text = err.message.startsWith(def.name) ? err.message : `${prefix}: ${err.message}`;
      input.io.err(text.includes('see: ') ? text : `${text}\nsee: ${prefix} --help`);
      return EXIT_USAGE;
    }
    if (err instanceof ConfigError) {
      input.io.err(err.message);
      return EXIT_USAGE;
    }
    const known = def.classify?.(err);
    if (known) {
      input.io.err(`${prefix}: ${known.message}`);
      return known.code;
    }
    input.io.err(failureLine(prefix, err));
    return EXIT_FAILURE;
  }
}

/** Parses argv (without node and the script), runs the verb, returns the exit code: 0 ok, 1 failure, 2 usage or config error. */
export async function runProgram(def: ProgramDef, argv: readonly string[], io: Io): Promise<number> {
  const ran: { code: number | null } = { code: null };
  try {
    await build(def, io, ran).parseAsync([...argv], { from: 'user' });
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT_OK;
    // Help asked for ("help", "help VERB") is 0; help shown because no verb was given is a usage error.
    if (err.code === 'commander.help') return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    return EXIT_USAGE;
  }
  return ran.code ?? EXIT_USAGE;
}

/** The help text of the program, or of one verb ("disk init"), as `--help` prints it. */
export function helpText(def: ProgramDef, verb?: string): string {
  let text = '';
  const io: Io = { out: (s) => (text += `${s}\n`), err: (s) => (text += `${s}\n`) };
  const program = build(def, io, { code: null });
  let cmd: Command = program;
  for (const w of verb ? verb.split(' ') : []) {
    const next = cmd.commands.find((c) => c.name() === w);
    if (!next) throw new Error(`${def.name} has no verb "${verb}"`);
    cmd = next;
  }
  cmd.outputHelp();
  return text;
}

/**
 * Parses a command line for a verb without running it: the check that a documented command (a
 * guide, a help example) is one the program accepts. Throws the parser's error.
 */
export function parseOnly(def: ProgramDef, argv: readonly string[]): void {
  const stub: ProgramDef = { ...def, verbs: def.verbs.map((v) => ({ ...v, run: async () => EXIT_OK })) };
  let errors = '';
  const io: Io = { out: () => {}, err: (s) => (errors += `${s}\n`) };
  try {
    // The stub actions do nothing: parse() finds every command-line error before it calls one.
    build(stub, io, { code: null }).parse([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError && err.code === 'commander.helpDisplayed') return;
    throw new Error(errors.trim().split('\n')[0] || (err as Error).message);
  }
}
