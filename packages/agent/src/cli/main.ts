#!/usr/bin/env node
/** sentinela-agent: runs one verb of AGENT_PROGRAM. Exit codes: 0 ok, 1 runtime failure, 2 usage or config error. */
import { failureLine, processIo, runProgram, EXIT_FAILURE } from '@sentinela/shared/cli';
import { AGENT_PROGRAM } from './program.js';

const argv = process.argv.slice(2);
runProgram(AGENT_PROGRAM, argv, processIo).then(
  (code) => {
    process.exitCode = code;
    // Let stdout drain; the run verb has already closed its handles.
    if (argv[0] === 'run') setImmediate(() => process.exit(code));
  },
  (err: unknown) => {
    process.stderr.write(`${failureLine(`sentinela-agent ${argv[0] ?? ''}`, err)}\n`);
    process.exit(EXIT_FAILURE);
  },
);
