#!/usr/bin/env node
/** sentinela-agent: dispatches to one verb per file. Exit codes: 0 ok, 1 runtime failure, 2 usage or config error. */
import { SENTINELA_VERSION } from '@sentinela/shared';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, failureLine, processIo, UsageError, type Io } from './io.js';
import { PROGRAM_HELP } from './help.js';

type Verb = (args: string[], io: Io) => Promise<number>;

/**
 * Each verb's module is loaded when it runs: a restore or a verify does not pay for loading the
 * service's MQTT, SQLite and HTTP modules (~0.3 s of CPU at every start, a fifth of a 110 MB restore).
 */
const VERBS: Record<string, () => Promise<Verb>> = {
  run: async () => (await import('./run.js')).runCommand,
  enroll: async () => (await import('./enroll.js')).enrollCommand,
  status: async () => (await import('./status.js')).statusCommand,
  backup: async () => (await import('./backup.js')).backupCommand,
  restore: async () => (await import('./restore.js')).restoreCommand,
  disk: async () => (await import('./disk.js')).diskCommand,
  doctor: async () => (await import('./doctor.js')).doctorCommand,
  snapshots: async () => (await import('./snapshots.js')).snapshotsCommand,
  verify: async () => (await import('./verify.js')).verifyCommand,
  prune: async () => (await import('./prune.js')).pruneCommand,
  key: async () => (await import('./key.js')).keyCommand,
  page: async () => (await import('./page.js')).pageCommand,
  drill: async () => (await import('../drills/command.js')).drillCommand,
};

export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === undefined || verb === '--help' || verb === '-h' || verb === 'help') {
    io.out(PROGRAM_HELP);
    return verb === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (verb === '--version') {
    io.out(SENTINELA_VERSION);
    return EXIT_OK;
  }
  const load = VERBS[verb];
  if (!load) {
    io.err(`sentinela-agent: unknown verb "${verb}"; verbs: ${Object.keys(VERBS).join(', ')} (see sentinela-agent --help)`);
    return EXIT_USAGE;
  }
  try {
    return await (await load())(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(err.message);
      return EXIT_USAGE;
    }
    io.err(failureLine(verb, err));
    return EXIT_FAILURE;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Let stdout drain; the run verb has already closed its handles.
    if (verb() === 'run') setImmediate(() => process.exit(code));
  },
  (err: unknown) => {
    process.stderr.write(`${failureLine(verb() ?? '', err)}\n`);
    process.exit(EXIT_FAILURE);
  },
);

function verb(): string | undefined {
  return process.argv[2];
}
