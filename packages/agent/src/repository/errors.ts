/** Moved to @sentinela/shared (repository/store.ts) so that the hub's off-site store uses the same code. */
export { RepositoryError, describeFsError } from '@sentinela/shared';
