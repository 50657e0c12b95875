/** Kept for callers of the first API: a bearer token (or a console session) with at least the viewer role. */
import type { Db } from '../store/db.js';
import { requireRole } from '../http/access.js';

export function requireApiToken(db: Db) {
  return requireRole(db, 'viewer');
}
