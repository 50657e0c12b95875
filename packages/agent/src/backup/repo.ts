/** The repository functions the backup module, the locations and the verbs use: one import point. */
// Not the repository's index: that also loads the delta encoders and tokenizers, which only a backup
// needs (the repository loads them at the first one).
export { initRepository, openRepository } from '../repository/repository.js';
export { copySnapshots, verifyObjects } from '../repository/copy.js';
