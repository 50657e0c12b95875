/** Temporary folders for tests, removed at the end unless SENTINELA_KEEP_TEST_DIRS is set. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function tempDir(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `sentinela-${prefix}-`));
  return { path, remove: () => (process.env.SENTINELA_KEEP_TEST_DIRS ? undefined : rmSync(path, { recursive: true, force: true })) };
}

/** A site id no other test run (or a broker's leftover persistent session) has used. */
export function uniqueSiteId(prefix: string): string {
  return `${prefix}-${process.pid.toString(36)}-${Date.now().toString(36)}`.slice(0, 60);
}
