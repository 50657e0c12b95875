/**
 * The one validation path for an up message, whichever transport brought it: the topic must be
 * the publisher's own, the payload must decode. Both broker adapters call this, then Ingest.
 */
import { clip, hasWildcard, MAX_SEQ, parseTopic, topicBelongsToSite, type DecodeErrorCode, type UpMessage } from '@sentinela/shared';
import { decodeUpHead, type QueuedHead } from './decode-head.js';

export type UpCheck =
  /**
   * `message`: a status or event proven valid from its bytes comes as its head only (decodeUpHead);
   * Ingest needs no more, since it stores `raw`: the payload as the hub stores it (see storedForm).
   */
  | { ok: true; siteId: string; message: UpMessage | QueuedHead; raw: Buffer | string }
  /** Not this publisher's topic: a spoofing attempt or a misconfigured agent. */
  | { ok: false; kind: 'acl'; reason: 'wrong-site' | 'bad-topic' | 'wildcard-topic'; text: string }
  /**
   * The publisher's own topic but a payload the hub will never accept. When the JSON names a
   * stream and seq, the hub acks them as rejected so the agent's outbox drops the message.
   */
  | { ok: false; kind: 'invalid'; siteId: string; reason: DecodeErrorCode; text: string; stream?: string; seq?: number };

const STREAM_RE = /^[A-Za-z0-9_-]{8,64}$/;

export function checkUp(publisher: string, topic: string, payload: Buffer, maxBytes: number): UpCheck {
  if (hasWildcard(topic)) return wildcardRefusal(publisher, topic);
  const parsed = parseTopic(topic);
  // A concrete v1 up topic of the publisher's own is all a message may use (sync topics are handled before).
  const own = parsed !== null && parsed.direction === 'up' && parsed.siteId === publisher;
  if (!own && !topicBelongsToSite(topic, publisher, 'up')) {
    if (parsed && parsed.siteId !== publisher) {
      return { ok: false, kind: 'acl', reason: 'wrong-site', text: `site ${publisher} tried to publish to site ${parsed.siteId}'s topic ${topic}; refused` };
    }
    return { ok: false, kind: 'acl', reason: 'bad-topic', text: `site ${publisher} tried to publish to ${JSON.stringify(clip(topic))}, which is not one of its up/ topics; refused` };
  }
  const decoded = decodeUpHead(topic, payload, maxBytes);
  if (decoded.ok) return { ok: true, siteId: publisher, message: decoded.message, raw: decoded.text === null ? payload : storedForm(payload, decoded.text) };
  const { code, message } = decoded.error;
  return { ok: false, kind: 'invalid', siteId: publisher, reason: code, text: message, ...streamSeqOf(code, payload) };
}

/** A PUBLISH to a filter breaks MQTT itself (not only the hub's layout): refused like a topic that is not the site's own. */
export function wildcardRefusal(publisher: string, topic: string): UpCheck & { kind: 'acl' } {
  return { ok: false, kind: 'acl', reason: 'wildcard-topic', text: `site ${publisher} published to the filter ${JSON.stringify(clip(topic))} (a topic name may not hold + or #); refused` };
}

/**
 * What Ingest keeps of a payload until its commit: the received bytes when they are ASCII (as many
 * characters as bytes: the bytes are the text's UTF-8), else the decoded text. Bytes stay outside
 * the JavaScript heap, so the garbage collector never copies them while they wait for a commit;
 * the text would be copied, and promoted, under load.
 */
export function storedForm(payload: Buffer, text: string): Buffer | string {
  return text.length === payload.length ? payload : text;
}

/** Best effort on the refusal path only: the stream and seq of a payload that failed the schema. */
function streamSeqOf(code: DecodeErrorCode, payload: Buffer): { stream?: string; seq?: number } {
  if (code === 'not-json' || code === 'bad-topic') return {};
  try {
    const json = JSON.parse(payload.toString('utf8')) as { stream?: unknown; seq?: unknown } | null;
    if (json && typeof json === 'object' && typeof json.stream === 'string' && STREAM_RE.test(json.stream) && Number.isSafeInteger(json.seq) && (json.seq as number) > 0 && (json.seq as number) <= MAX_SEQ) {
      return { stream: json.stream, seq: json.seq as number };
    }
  } catch {
    // not JSON after all: nothing to ack
  }
  return {};
}
