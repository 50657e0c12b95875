/**
 * Upstream mirroring, DPS hub → MoH hub (docs/protocol.md, "Upstream mirroring"). The DPS hub
 * logs in to the MoH hub's broker as the relay principal `relay:<relayId>` and sends what its
 * sites sent it, in the order it stored them, as numbered batches on `…/relay/<id>/up/batch`;
 * the MoH hub answers on `…/relay/<id>/down/ack` once every item up to `upTo` is durable.
 * Backups use the sites' own backup sync topics (protocol/sync.ts), published by the relay.
 */
import { z } from 'zod';
import { describeIssues, formatPath } from '../issues.js';
import { PROTOCOL_VERSION, SITE_ID_PATTERN, TOPIC_ROOT } from './topics.js';
import { depthProblem } from './json-depth.js';

/** Relay ids share the site id alphabet; the MQTT username and client id are `relay:<id>`, which no site id can be. */
export const RELAY_USER_PREFIX = 'relay:';
export function relayUsername(relayId: string): string {
  return `${RELAY_USER_PREFIX}${relayId}`;
}
export function relayBatchTopic(relayId: string): string {
  return `${TOPIC_ROOT}/relay/${relayId}/up/batch`;
}
export function relayAckTopic(relayId: string): string {
  return `${TOPIC_ROOT}/relay/${relayId}/down/ack`;
}
/** What a relay subscribes to for the backup sync answers of the sites it relays (the broker forwards only its own sites'). */
export const RELAYED_SYNC_DOWN_FILTER = `${TOPIC_ROOT}/site/+/down/sync/+`;

const relayId = z.string().regex(SITE_ID_PATTERN, 'a relay id of lowercase letters, digits and dashes');
const siteId = z.string().regex(SITE_ID_PATTERN, 'a site id of lowercase letters, digits and dashes');
const n = z.number().int().positive();

/** A status or event exactly as the site sent it (its JSON text): the MoH hub validates and dedups it by (site, stream, seq). */
export const RelayMessageItem = z.strictObject({ n, kind: z.literal('message'), site: siteId, payload: z.string().max(256 * 1024) });
/** A birth or death as the DPS hub recorded it: a fact about the site's link to the DPS hub. */
export const RelayConnectionItem = z.strictObject({
  n,
  kind: z.literal('connection'),
  site: siteId,
  event: z.enum(['birth', 'death']),
  bdSeq: z.number().int().nonnegative(),
  clean: z.boolean().nullable(),
  at: z.iso.datetime({ offset: true }),
  agentVersion: z.string().max(64).nullable(),
});
export const RelayItem = z.discriminatedUnion('kind', [RelayMessageItem, RelayConnectionItem]);
export type RelayItem = z.infer<typeof RelayItem>;

export const RelayBatch = z.looseObject({
  v: z.literal(PROTOCOL_VERSION),
  type: z.literal('batch'),
  relay: relayId,
  /** The sender's province; the MoH hub refuses a batch whose province is not the relay's registered one. */
  province: z.string().min(1).max(64),
  /** Items in the DPS hub's storage order, `n` strictly increasing. */
  items: z.array(RelayItem).min(1).max(5000),
  /** The DPS hub's names of the batch's sites (what people call the facility), so the MoH console shows them too. */
  names: z.record(siteId, z.string().min(1).max(200)).optional(),
});
export type RelayBatch = z.infer<typeof RelayBatch>;

/** Every item with n ≤ upTo is durable at the MoH hub (or refused for good, listed in `refused`). */
export const RelayAck = z.looseObject({
  v: z.literal(PROTOCOL_VERSION),
  type: z.literal('ack'),
  relay: relayId,
  upTo: z.number().int().nonnegative(),
  refused: z.array(z.looseObject({ n, site: siteId, reason: z.string().max(500) })).max(5000),
  /** The whole batch refused (a wrong province): nothing was stored and upTo is not advanced. */
  error: z.string().max(500).optional(),
});
export type RelayAck = z.infer<typeof RelayAck>;

export type RelayDecoded<T> = { ok: true; message: T } | { ok: false; error: string };

function decode<T>(schema: z.ZodType<T>, payload: Buffer): RelayDecoded<T> {
  const deep = depthProblem(payload);
  if (deep) return { ok: false, error: `payload refused: ${deep}` };
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch (err) {
    return { ok: false, error: `payload is not JSON: ${(err as Error).message}` };
  }
  const r = schema.safeParse(json);
  if (!r.success) return { ok: false, error: describeIssues(r.error, json).slice(0, 3).map((d) => `${formatPath(d.path)}: ${d.text}`).join('; ') };
  return { ok: true, message: r.data };
}

export function decodeRelayBatch(payload: Buffer): RelayDecoded<RelayBatch> {
  const d = decode(RelayBatch, payload);
  if (d.ok && d.message.items.some((it, i) => i > 0 && it.n <= d.message.items[i - 1]!.n)) return { ok: false, error: 'items: n must increase strictly' };
  return d;
}
export function decodeRelayAck(payload: Buffer): RelayDecoded<RelayAck> {
  return decode(RelayAck, payload);
}
export function encodeRelay(m: RelayBatch | RelayAck): Buffer {
  return Buffer.from(JSON.stringify(m.type === 'batch' ? RelayBatch.parse(m) : RelayAck.parse(m)), 'utf8');
}
