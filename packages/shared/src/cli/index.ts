/** `@sentinela/shared/cli`: the command-line framework both programs use (kept out of the main barrel: only a CLI loads commander). */
export * from './io.js';
export * from './progress.js';
export * from './prompt.js';
export * from './program.js';
// Also here, not only in the main barrel: a program's verb table needs nothing else from it, and a
// bundled CLI (tools/bundle-agent.mjs) then starts without evaluating every schema of the barrel.
export * from './agent-options.js';
export { SENTINELA_VERSION } from '../version.js';
