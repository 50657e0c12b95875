/** The repository module's surface for the rest of the agent. */
export * from './api.js';
export { RepositoryError } from './errors.js';
export { MasterKey, loadOrCreateKey } from './keys.js';
export { initRepository, openRepository, pruneStore, SentinelaRepository } from './repository.js';
export { copySnapshots, verifyObjects, type CopyOptions, type CopyResult } from './copy.js';
export { tokenize } from './tokenizers.js';
export { encodeDelta } from './delta-encode.js';
export { applyDelta } from './delta-decode.js';
