/**
 * The hub's decode of an up message that it stores as received: a status or event whose bytes the
 * byte-level test proves valid comes back as its head only, unparsed (byte-check.ts). Hub-only, so
 * it lives here and not in the shared codec.
 */
import { DEFAULT_MAX_PAYLOAD_BYTES, decodeUp, EventMessage, parseTopic, StatusMessage, type Decoded, type ParsedTopic, type UpMessage } from '@sentinela/shared';
import { compileByteScan, type ByteScan } from './byte-check.js';

/** What a receiver that stores a status or event as received needs of it: the hub's columns. */
export interface QueuedHead {
  v: 1;
  type: 'status' | 'event';
  site: string;
  stream: string;
  seq: number;
  ts: string;
}

const HEAD_KEYS = ['site', 'stream', 'seq', 'ts'] as const;
let headScans: Map<string, ByteScan | null> | undefined;
/** Compiled at the first decodeUpHead: only a hub uses them. */
const HEAD_SCANS = () =>
  (headScans ??= new Map<string, ByteScan | null>([
    ['status', compileByteScan(StatusMessage, HEAD_KEYS)],
    ['event', compileByteScan(EventMessage, HEAD_KEYS)],
  ]));
const head: Array<string | number> = [];

/**
 * decodeUp for a receiver that stores statuses and events as received (the hub). A status or
 * event whose bytes the byte-level test (byte-check.ts) proves valid comes back as its head only,
 * without being parsed, with `text` null: such a payload is ASCII, so its bytes are its text.
 * Anything else is decoded by decodeUp, with the same result and the same errors.
 */
export function decodeUpHead(
  topic: string,
  payload: Buffer,
  maxBytes = DEFAULT_MAX_PAYLOAD_BYTES,
): Decoded<UpMessage> | { ok: true; topic: ParsedTopic; message: QueuedHead; text: null } {
  const parsed = parseTopic(topic);
  const scan = parsed?.direction === 'up' ? HEAD_SCANS().get(parsed.kind) : undefined;
  if (parsed && scan && payload.byteLength <= maxBytes && scan(payload, head) && head[0] === parsed.siteId) {
    const [site, stream, seq, ts] = head as [string, string, number, string];
    return { ok: true, topic: parsed, message: { v: 1, type: parsed.kind as QueuedHead['type'], site, stream, seq, ts }, text: null };
  }
  return decodeUp(topic, payload, maxBytes);
}
