/**
 * Off-site backup transfer over the agent's MQTT connection (docs/protocol.md, "Backup sync").
 * Topics `…/up/sync/<kind>` and `…/down/sync/<kind>`. Every message is JSON like the others,
 * except `piece`, whose payload is its JSON header, one `\n`, then the raw bytes: base64 would
 * add a third to every byte crossing GovNet.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { describeIssues, formatPath } from '../issues.js';
import { DecodeError } from './codec.js';
import { PROTOCOL_VERSION, SITE_ID_PATTERN, TOPIC_ROOT } from './topics.js';
import { depthProblem } from './json-depth.js';

export const SYNC_UP_KINDS = ['offer', 'piece', 'escrow'] as const;
export const SYNC_DOWN_KINDS = ['need', 'got', 'done', 'escrowed'] as const;
export type SyncUpKind = (typeof SYNC_UP_KINDS)[number];
export type SyncDownKind = (typeof SYNC_DOWN_KINDS)[number];

/** Default piece size: with the header it fits the hub's default 256 KiB payload limit. */
export const DEFAULT_PIECE_BYTES = 192 * 1024;

export function syncUpTopic(siteId: string, kind: SyncUpKind): string {
  return `${TOPIC_ROOT}/site/${siteId}/up/sync/${kind}`;
}
export function syncDownTopic(siteId: string, kind: SyncDownKind): string {
  return `${TOPIC_ROOT}/site/${siteId}/down/sync/${kind}`;
}
export function siteSyncDownFilter(siteId: string): string {
  return `${TOPIC_ROOT}/site/${siteId}/down/sync/+`;
}

export type ParsedSyncTopic = { direction: 'up'; siteId: string; kind: SyncUpKind } | { direction: 'down'; siteId: string; kind: SyncDownKind };

export function parseSyncTopic(topic: string): ParsedSyncTopic | null {
  const parts = topic.split('/');
  if (parts.length !== 7 || `${parts[0]}/${parts[1]}` !== TOPIC_ROOT || parts[2] !== 'site' || parts[5] !== 'sync') return null;
  const siteId = parts[3]!;
  const kind = parts[6]!;
  if (!SITE_ID_PATTERN.test(siteId)) return null;
  if (parts[4] === 'up' && (SYNC_UP_KINDS as readonly string[]).includes(kind)) return { direction: 'up', siteId, kind: kind as SyncUpKind };
  if (parts[4] === 'down' && (SYNC_DOWN_KINDS as readonly string[]).includes(kind)) return { direction: 'down', siteId, kind: kind as SyncDownKind };
  return null;
}

const siteId = z.string().regex(SITE_ID_PATTERN);
const objectName = z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 in lowercase hex');
const snapshotId = z.string().regex(/^\d{8}T\d{6}Z-[a-z0-9-]+-[a-z0-9]+$/, 'a snapshot id YYYYMMDDTHHMMSSZ-<source>-<random>');
const hex32 = z.string().regex(/^[0-9a-f]{32}$/);
const b64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'base64');
const count = z.number().int().nonnegative();
const base = { v: z.literal(PROTOCOL_VERSION), site: siteId };

/** The plaintext envelope of a snapshot file (docs/repository.md): all the hub needs without the key. */
export const SyncEnvelope = z.looseObject({
  v: z.literal(1),
  id: snapshotId,
  site: siteId,
  base: snapshotId.nullable(),
  objects: z.array(objectName).max(4096),
  manifest: b64,
});

/** Agent → hub: "I have this snapshot". `sizes[i]` is the stored size of `snapshot.objects[i]`. */
export const SyncOffer = z.looseObject({
  ...base,
  type: z.literal('offer'),
  keyId: hex32,
  snapshot: SyncEnvelope,
  sizes: z.array(count).max(4096),
});

/** Header of one piece of one object; the bytes follow it in the payload. */
export const SyncPieceHeader = z.looseObject({
  ...base,
  type: z.literal('piece'),
  snapshot: snapshotId,
  object: objectName,
  offset: count,
  /** The object's whole stored size. */
  total: count,
  /** SHA-256 of this piece's bytes, so a piece damaged in transit is refused on its own. */
  sha256: objectName,
});

/** The site's master key sealed to the hub's escrow key (X25519 + HKDF-SHA256 + AES-256-GCM). */
export const SealedKey = z.looseObject({
  alg: z.literal('x25519-hkdf-sha256-aes256gcm'),
  /** The hub public key it was sealed to (raw 32 bytes, base64): the hub refuses another. */
  to: b64,
  /** The sender's ephemeral public key (raw, base64). */
  epk: b64,
  nonce: b64,
  ct: b64,
  tag: b64,
});
export type SealedKey = z.infer<typeof SealedKey>;

export const SyncEscrow = z.looseObject({ ...base, type: z.literal('escrow'), keyId: hex32, sealed: SealedKey });

/** Hub → agent: what it lacks of the offered snapshot, and where each partial object resumes. */
export const SyncNeed = z.looseObject({
  ...base,
  type: z.literal('need'),
  snapshot: snapshotId,
  missing: z.array(z.looseObject({ object: objectName, offset: count })),
  /** The hub's escrow public key (raw X25519, base64), and whether it holds this site's key. */
  escrowKey: b64.nullable(),
  escrowHeld: z.boolean(),
});

/** Hub → agent: receipt of one piece. `next` is the offset the hub wants next for the object. */
export const SyncGot = z.looseObject({
  ...base,
  type: z.literal('got'),
  snapshot: snapshotId,
  object: objectName,
  offset: count,
  ok: z.boolean(),
  next: count,
  /** The object is verified (SHA-256 = name) and stored. */
  complete: z.boolean(),
  reason: z.string().max(500).optional(),
});

/** Hub → agent: the snapshot is complete at the hub (every object verified and stored, envelope written), or refused. */
export const SyncDone = z.looseObject({
  ...base,
  type: z.literal('done'),
  snapshot: snapshotId,
  ok: z.boolean(),
  reason: z.string().max(500).optional(),
  escrowKey: b64.nullable().optional(),
  escrowHeld: z.boolean().optional(),
});

export const SyncEscrowed = z.looseObject({ ...base, type: z.literal('escrowed'), keyId: hex32 });

export const SyncUpMessage = z.discriminatedUnion('type', [SyncOffer, SyncPieceHeader, SyncEscrow]);
export const SyncDownMessage = z.discriminatedUnion('type', [SyncNeed, SyncGot, SyncDone, SyncEscrowed]);
export type SyncOffer = z.infer<typeof SyncOffer>;
export type SyncPieceHeader = z.infer<typeof SyncPieceHeader>;
export type SyncEscrow = z.infer<typeof SyncEscrow>;
export type SyncNeed = z.infer<typeof SyncNeed>;
export type SyncGot = z.infer<typeof SyncGot>;
export type SyncDone = z.infer<typeof SyncDone>;
export type SyncEscrowed = z.infer<typeof SyncEscrowed>;
export type SyncUpMessage = z.infer<typeof SyncUpMessage>;
export type SyncDownMessage = z.infer<typeof SyncDownMessage>;

export type SyncDecoded<T> = { ok: true; message: T; data: Buffer } | { ok: false; error: DecodeError; header?: unknown };

export function pieceHash(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Validates, then frames: JSON, or for a piece JSON + `\n` + bytes. */
export function encodeSyncUp(message: SyncUpMessage, data?: Uint8Array): Buffer {
  const json = Buffer.from(JSON.stringify(SyncUpMessage.parse(message)), 'utf8');
  if (message.type !== 'piece') return json;
  if (!data) throw new Error('a piece needs its bytes');
  return Buffer.concat([json, Buffer.of(0x0a), data]);
}

export function encodeSyncDown(message: SyncDownMessage): Buffer {
  return Buffer.from(JSON.stringify(SyncDownMessage.parse(message)), 'utf8');
}

function decodeSync<T extends { site: string; type: string }>(direction: 'up' | 'down', schema: z.ZodType<T>, topic: string, payload: Buffer, maxBytes: number): SyncDecoded<T> {
  const fail = (code: ConstructorParameters<typeof DecodeError>[0], text: string, header?: unknown): SyncDecoded<T> => ({ ok: false, error: new DecodeError(code, text), header });
  const parsed = parseSyncTopic(topic);
  if (!parsed || parsed.direction !== direction) return fail('bad-topic', `topic "${topic}" is not a v1 ${direction} sync topic`);
  if (payload.byteLength > maxBytes) return fail('too-large', `payload of ${payload.byteLength} bytes exceeds the limit of ${maxBytes} bytes`);
  const nl = parsed.kind === 'piece' ? payload.indexOf(0x0a) : -1;
  if (parsed.kind === 'piece' && nl < 0) return fail('not-json', 'a piece has no header line');
  const head = nl >= 0 ? payload.subarray(0, nl) : payload;
  const data = nl >= 0 ? payload.subarray(nl + 1) : Buffer.alloc(0);
  const deep = depthProblem(head);
  if (deep) return fail('too-deep', `payload refused: ${deep}`);
  let json: unknown;
  try {
    json = JSON.parse(head.toString('utf8'));
  } catch (err) {
    return fail('not-json', `payload is not JSON: ${(err as Error).message}`);
  }
  const r = schema.safeParse(json);
  if (!r.success) return fail('invalid', describeIssues(r.error, json).slice(0, 3).map((d) => `${formatPath(d.path)}: ${d.text}`).join('; '), json);
  if (r.data.site !== parsed.siteId) return fail('wrong-site', `payload names site "${r.data.site}" but the topic is for site "${parsed.siteId}"`, json);
  if (r.data.type !== parsed.kind) return fail('wrong-type', `payload of type "${r.data.type}" sent on the "${parsed.kind}" topic`, json);
  return { ok: true, message: r.data, data };
}

export function decodeSyncUp(topic: string, payload: Buffer, maxBytes: number): SyncDecoded<SyncUpMessage> {
  return decodeSync('up', SyncUpMessage, topic, payload, maxBytes);
}
export function decodeSyncDown(topic: string, payload: Buffer, maxBytes = 256 * 1024): SyncDecoded<SyncDownMessage> {
  return decodeSync('down', SyncDownMessage, topic, payload, maxBytes);
}
