#!/usr/bin/env node
/** sentinela-agent: dispatches to one verb per file. Exit codes: 0 ok, 1 runtime failure, 2 usage or config error. */
import { SENTINELA_VERSION } from '@sentinela/shared';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, failureLine, processIo, UsageError, type Io } from './io.js';
import { PROGRAM_HELP } from './help.js';
import { runCommand } from './run.js';
import { enrollCommand } from './enroll.js';
import { statusCommand } from './status.js';
import { backupCommand } from './backup.js';
import { restoreCommand } from './restore.js';
import { diskCommand } from './disk.js';
import { doctorCommand } from './doctor.js';
import { snapshotsCommand } from './snapshots.js';
import { verifyCommand } from './verify.js';
import { pruneCommand } from './prune.js';
import { keyCommand } from './key.js';
import { pageCommand } from './page.js';
import { drillCommand } from '../drills/command.js';

const VERBS: Record<string, (args: string[], io: Io) => Promise<number>> = {
  run: runCommand,
  enroll: enrollCommand,
  status: statusCommand,
  backup: backupCommand,
  restore: restoreCommand,
  disk: diskCommand,
  doctor: doctorCommand,
  snapshots: snapshotsCommand,
  verify: verifyCommand,
  prune: pruneCommand,
  key: keyCommand,
  page: pageCommand,
  drill: drillCommand,
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
  const command = VERBS[verb];
  if (!command) {
    io.err(`sentinela-agent: unknown verb "${verb}"; verbs: ${Object.keys(VERBS).join(', ')} (see sentinela-agent --help)`);
    return EXIT_USAGE;
  }
  try {
    return await command(rest, io);
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
