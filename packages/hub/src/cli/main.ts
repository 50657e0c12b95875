#!/usr/bin/env node
/** The `sentinela-hub` executable (also loaded by the committed bin/ launcher): runs the CLI and sets the exit code. */
import { main } from './program.js';

process.exitCode = await main(process.argv.slice(2));
