/**
 * Backup API (one owner for the catalogue and export):
 *  GET /api/v1/escrow-key                          the hub's escrow public key (public, no auth)
 *  GET /api/v1/sites/:id/snapshots                 what the site reports (current, the last 30 days)
 *      and what the hub's off-site store holds (viewer)
 *  GET /api/v1/sites/:id/snapshots/:snap/export    a tar stream of the snapshot's chain from the off-site
 *      store (`:snap` may be `latest`); when the hub holds no copy, the hub's JSON record of the site.
 *      Auth: an operator token/session, or the site's own credentials (HTTP Basic, site id and MQTT password:
 *      what `sentinela-agent restore --from hub` uses on a replacement server after enrolment).
 *      `?key=1` adds backup.key from the escrow: for an admin, or for the site itself (its credentials come
 *      from an enrolment token an authorised person issued, and only the current ones work).
 *      409 when the keyless check finds an object of the chain damaged: nothing is streamed.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hashesEqual, RepositoryError, sha256Hex, SNAPSHOT_ID } from '@sentinela/shared';
import type { Db } from '../store/db.js';
import { getSite } from '../store/sites.js';
import { requireRole } from '../http/access.js';
import { errorSchema, siteIdParams } from '../http/schemas.js';
import { snapshotCatalogue } from '../core/history.js';
import { backupsOf } from '../core/sections.js';
import { readStoredJson } from '../store/stored-json.js';
import { audit } from '../users/audit.js';
import { roleAllows } from '../users/roles.js';
import { listSnapshots } from './catalogue.js';
import { exportTar, planExport } from './export.js';
import { unsealSiteKey, type EscrowKeyPair } from './escrow.js';
import { siteBundle } from './site-bundle.js';
import { sqliteSql } from '../store/sqlite-sql.js';
import type { HubBackupStore } from './store.js';

const loose = { type: 'object', additionalProperties: true } as const;
const DAY = 86_400_000;

/** The source a snapshot id names: `<yyyymmddThhmmssZ>-<source>-<random>`. */
export const sourceOfSnapshot = (id: string): string => id.slice(17, id.lastIndexOf('-'));

/** The newest snapshot the last verify did not find damaged, of `source` when given. */
function latestHeld(rows: ReturnType<typeof listSnapshots>, source: string | undefined): string | null {
  for (let i = rows.length - 1; i >= 0; i--) {
    const r = rows[i]!;
    if (!r.damaged && (source === undefined || sourceOfSnapshot(r.id) === source)) return r.id;
  }
  return null;
}

/** The site whose Basic credentials these are, or null. */
function siteCredentials(db: Db, req: FastifyRequest): string | null {
  const m = /^Basic\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  if (!m) return null;
  const text = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = text.indexOf(':');
  if (i < 1) return null;
  const site = text.slice(0, i);
  const stored = db.prepare('SELECT password_hash FROM sites WHERE id = ?').pluck().get(site) as string | null | undefined;
  return stored && hashesEqual(sha256Hex(text.slice(i + 1)), stored) ? site : null;
}

export function backupRoutes(app: FastifyInstance, db: Db, dataDir: string, store: HubBackupStore, escrow: EscrowKeyPair): void {
  app.get('/api/v1/escrow-key', async () => ({ alg: 'x25519', publicKey: escrow.publicRaw.toString('base64') }));

  app.get<{ Params: { id: string } }>(
    '/api/v1/sites/:id/snapshots',
    { preHandler: requireRole(db, 'viewer'), schema: { params: siteIdParams, response: { 200: loose, 401: errorSchema, 404: errorSchema } } },
    async (req, reply) => {
      const site = getSite(db, req.params.id);
      if (!site) return reply.code(404).send({ error: `there is no site ${req.params.id}` });
      const offsite = listSnapshots(db, site.id);
      return {
        siteId: site.id,
        current: backupsOf(readStoredJson(site.last_status_json)),
        snapshots: snapshotCatalogue(db, site.id, new Date(Date.now() - 30 * DAY)),
        offsiteStore: offsite.length > 0,
        offsite,
      };
    },
  );

  const operator = requireRole(db, 'operator', 'export');
  app.get<{ Params: { id: string; snap: string }; Querystring: { key?: string; source?: string } }>(
    '/api/v1/sites/:id/snapshots/:snap/export',
    {
      preHandler: async (req: FastifyRequest, reply: FastifyReply) => {
        if (/^Basic\s/i.test(req.headers.authorization ?? '')) {
          const site = siteCredentials(db, req);
          if (site !== (req.params as { id: string }).id) await reply.code(401).send({ error: 'wrong site credentials' });
          return;
        }
        await operator(req, reply);
      },
    },
    async (req, reply) => {
      const { id } = req.params;
      let { snap } = req.params;
      if (snap !== 'latest' && !SNAPSHOT_ID.test(snap)) return reply.code(400).send({ error: `"${snap}" is not a snapshot id (or "latest")` });
      const source = req.query.source;
      if (source !== undefined && (snap !== 'latest' || !/^[a-z0-9-]{1,64}$/.test(source))) return reply.code(400).send({ error: '?source=NAME goes with "latest" and names a backup source (a-z, 0-9, -)' });
      const site = getSite(db, id);
      if (!site) return reply.code(404).send({ error: `there is no site ${id}` });
      const who = req.principal ?? null;
      const actor = who?.name ?? `site:${id}`;
      if (snap === 'latest') {
        // The newest whole copy (of that source): what a restore after fire or flood wants.
        const newest = latestHeld(listSnapshots(db, id), source);
        if (newest) snap = newest;
        else if (source !== undefined) return reply.code(404).send({ error: `the hub holds no whole off-site copy of source ${source} of site ${id}` });
      }
      const held = snap !== 'latest' && (await store.store(id).hasSnapshot(snap));
      if (!held) {
        // No off-site copy: the hub's record of the site, so the restorer knows what to restore and where from.
        const entry = snapshotCatalogue(db, id, new Date(Date.now() - 90 * DAY)).find((s) => s.id === snap) ?? null;
        if (snap !== 'latest' && !entry) return reply.code(404).send({ error: `site ${id} has reported no snapshot ${snap} and the hub holds no copy of it` });
        audit(db, { actor, role: who?.role ?? null, action: 'export', target: `${id}/${snap}`, ok: true, ip: req.ip, detail: { offsite: false } });
        return reply
          .header('content-type', 'application/json; charset=utf-8')
          .header('content-disposition', `attachment; filename="${id}-${snap}-bundle.json"`)
          .header('cache-control', 'no-store')
          .send(await siteBundle(sqliteSql(db), site, entry, actor));
      }
      const wantKey = req.query.key === '1' || req.query.key === 'true';
      const mayKey = who ? roleAllows(who.role, 'admin') : true;
      if (wantKey && !mayKey) return reply.code(403).send({ error: 'only an admin (or the site itself) may export the escrowed key' });
      const key = wantKey ? unsealSiteKey(db, dataDir, id) : null;
      if (wantKey && !key) return reply.code(404).send({ error: `site ${id} never deposited its key with this hub; restore with its recovery code` });
      const opts = { siteId: id, snapshot: snap, key };
      let planned;
      try {
        planned = await planExport(store, opts);
      } catch (err) {
        if (!(err instanceof RepositoryError)) throw err;
        audit(db, { actor, role: who?.role ?? null, action: 'export', target: `${id}/${snap}`, ok: false, ip: req.ip, detail: { offsite: true, error: err.message } });
        return reply.code(409).send({ error: err.message });
      }
      audit(db, { actor, role: who?.role ?? null, action: 'export', target: `${id}/${snap}`, ok: true, ip: req.ip, detail: { offsite: true, key: !!key } });
      reply.header('content-type', 'application/x-tar');
      reply.header('content-disposition', `attachment; filename="${id}-${snap}.tar"`);
      reply.header('cache-control', 'no-store');
      return reply.send(Readable.from(exportTar(store, opts, planned)));
    },
  );
}
