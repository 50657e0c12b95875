/**
 * Whether a site exists, asked for every message that comes through an external broker. A site
 * once found is remembered (sites are revoked, never deleted: a revoked site's broker account is
 * gone, so its messages stop at the broker), so the store is asked once per site and process.
 */
import type { Sql } from './sql.js';

export class KnownSites {
  private readonly known = new Set<string>();

  constructor(private readonly sql: Sql) {}

  /** True at once for a site already known; otherwise the store's answer. */
  has(id: string): true | Promise<boolean> {
    if (this.known.has(id)) return true;
    return this.sql.one('SELECT 1 AS one FROM sites WHERE id = ?', [id]).then((row) => {
      if (row) this.known.add(id);
      return row !== undefined;
    });
  }
}
