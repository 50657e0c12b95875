/**
 * `@sentinela/shared/schema-compile`: what a compiler of zod schemas into plain tests needs (the
 * value-level accept test, and the reading of zod's definitions). The hub builds its byte-level
 * test on it (hub ingest/byte-check.ts); kept out of the main barrel, which both programs load.
 */
export * from './schema-check.js';
export * from './zod-def.js';
