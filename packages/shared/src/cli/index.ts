/** `@sentinela/shared/cli`: the command-line framework both programs use (kept out of the main barrel: only a CLI loads commander). */
export * from './io.js';
export * from './progress.js';
export * from './prompt.js';
export * from './program.js';
