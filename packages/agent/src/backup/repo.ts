/** The repository functions the backup module, the locations and the verbs use: one import point. */
export { initRepository, openRepository, copySnapshots, verifyObjects } from '../repository/index.js';
