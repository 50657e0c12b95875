/** The MoH hub's relay registry: which DPS hubs may mirror to it, for which province, and which sites each brought. */
import { hashesEqual, isSiteId, randomToken, sha256Hex } from '@sentinela/shared';
import type { Db } from '../store/db.js';
import { createSite, getSite, SiteError } from '../store/sites.js';
import { ensureRelaySchema } from './schema.js';

export interface RelayRow {
  id: string;
  province: string;
  created_at: string;
}

/** Registers a relay (or gives it a new secret) and returns the secret, shown once; only its SHA-256 is kept. */
export function createRelay(db: Db, id: string, province: string, now = new Date()): { id: string; province: string; secret: string; renewed: boolean } {
  if (!isSiteId(id)) throw new SiteError('bad-id', `"${id}" is not a valid relay id: use 1-63 lowercase letters, digits and dashes (e.g. dps-maputo)`);
  if (!province.trim()) throw new SiteError('bad-id', 'the province must not be empty');
  ensureRelaySchema(db);
  const secret = randomToken(32, 'sr_');
  const existing = db.prepare('SELECT province FROM relays WHERE id = ?').pluck().get(id) as string | undefined;
  if (existing !== undefined && existing !== province)
    throw new SiteError('exists', `relay ${id} is registered for province ${existing}, not ${province}; its sites are recorded under that province`);
  db.prepare(
    `INSERT INTO relays (id, province, password_hash, created_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET password_hash = excluded.password_hash`,
  ).run(id, province, sha256Hex(secret), now.toISOString());
  return { id, province, secret, renewed: existing !== undefined };
}

export function listRelays(db: Db): RelayRow[] {
  ensureRelaySchema(db);
  return db.prepare('SELECT id, province, created_at FROM relays ORDER BY id').all() as RelayRow[];
}

export class RelayRegistry {
  private readonly st;
  constructor(private readonly db: Db) {
    ensureRelaySchema(db);
    this.st = {
      relay: db.prepare('SELECT id, province, password_hash FROM relays WHERE id = ?'),
      relayOf: db.prepare('SELECT relay_id FROM relay_sites WHERE site_id = ?').pluck(),
      claim: db.prepare('INSERT INTO relay_sites (site_id, relay_id, first_at) VALUES (?, ?, ?)'),
    };
  }

  /** True when `secret` is the relay's current secret. */
  checkSecret(relayId: string, secret: string): 'ok' | 'unknown' | 'bad' {
    const r = this.st.relay.get(relayId) as { password_hash: string } | undefined;
    if (!r) return 'unknown';
    return hashesEqual(sha256Hex(secret), r.password_hash) ? 'ok' : 'bad';
  }

  province(relayId: string): string | null {
    return (this.st.relay.get(relayId) as { province: string } | undefined)?.province ?? null;
  }

  /** The relay that brought `siteId`, or null. */
  relayOf(siteId: string): string | null {
    return (this.st.relayOf.get(siteId) as string | undefined) ?? null;
  }

  /**
   * May `relayId` speak for `siteId`? A site it already brought: yes. A site this hub has never
   * seen: yes, it is created under the relay's province. Any other site (enrolled here directly,
   * or brought by another relay): no, with the reason.
   */
  claim(relayId: string, siteId: string, now = new Date()): { ok: true } | { ok: false; reason: string } {
    const owner = this.relayOf(siteId);
    if (owner === relayId) return { ok: true };
    if (owner) return { ok: false, reason: `site ${siteId} is mirrored by relay ${owner}, not ${relayId}` };
    if (getSite(this.db, siteId)) return { ok: false, reason: `site ${siteId} is enrolled at this hub directly, not through relay ${relayId}` };
    const province = this.province(relayId);
    if (province === null) return { ok: false, reason: `relay ${relayId} is not registered` };
    this.db.transaction(() => {
      createSite(this.db, { id: siteId, province }, now);
      this.st.claim.run(siteId, relayId, now.toISOString());
    })();
    return { ok: true };
  }
}

/**
 * At start-up every site is marked disconnected (no agent can be connected to a broker that was
 * not running). A relayed site's link is to its DPS hub, not to this one: it keeps the state of
 * the last birth or death its relay reported. Returns how many sites are connected again.
 */
export function restoreRelayedLinks(db: Db): number {
  ensureRelaySchema(db);
  return db
    .prepare(
      `UPDATE sites SET connected = 1 WHERE id IN (SELECT site_id FROM relay_sites) AND
         (SELECT kind FROM connections c WHERE c.site_id = sites.id ORDER BY c.at DESC, c.id DESC LIMIT 1) = 'birth'`,
    )
    .run().changes;
}
