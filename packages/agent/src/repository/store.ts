/**
 * The repository folder without the key. Moved to @sentinela/shared (repository/store.ts): the
 * hub's off-site store uses the very same code to store and verify without the site's key.
 */
export { Store, writeFileDurable, syncDir, sha256, FORMAT_VERSION, SNAPSHOT_ID, type RepoMeta, type SnapshotEnvelope } from '@sentinela/shared';
