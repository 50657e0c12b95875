/**
 * MQTT topic layout, version 1. Everything a site sends lives under `up/`, everything the hub
 * sends to a site under `down/`, so that the broker's ACL is one rule per direction.
 */
export const PROTOCOL_VERSION = 1 as const;
export const TOPIC_ROOT = `sentinela/v${PROTOCOL_VERSION}`;

/** Site ids appear in topics, file names and URLs: keep them to a safe alphabet. */
export const SITE_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

export const UP_KINDS = ['birth', 'death', 'status', 'event', 'drill'] as const;
export type UpKind = (typeof UP_KINDS)[number];
export const DOWN_KINDS = ['ack', 'cmd'] as const;
export type DownKind = (typeof DOWN_KINDS)[number];

export function isSiteId(id: string): boolean {
  return SITE_ID_PATTERN.test(id);
}

export function upTopic(siteId: string, kind: UpKind): string {
  return `${TOPIC_ROOT}/site/${siteId}/up/${kind}`;
}

export function downTopic(siteId: string, kind: DownKind): string {
  return `${TOPIC_ROOT}/site/${siteId}/down/${kind}`;
}

/** Filters: what the hub's ingest subscribes to, and what one site may use. */
export const ALL_UP_FILTER = `${TOPIC_ROOT}/site/+/up/#`;
export function siteUpFilter(siteId: string): string {
  return `${TOPIC_ROOT}/site/${siteId}/up/#`;
}
export function siteDownFilter(siteId: string): string {
  return `${TOPIC_ROOT}/site/${siteId}/down/#`;
}

export type ParsedTopic =
  | { direction: 'up'; siteId: string; kind: UpKind }
  | { direction: 'down'; siteId: string; kind: DownKind };

/**
 * The hub parses the same few topics of each site for every message it receives: results are
 * kept (frozen; a topic string caches its own hash, so a lookup is cheap), at most PARSED_KEEP of them.
 */
const PARSED_KEEP = 16_384;
const parsed = new Map<string, Readonly<ParsedTopic> | null>();

/** Parses a concrete topic (no wildcards). Returns null for anything outside the v1 layout. */
export function parseTopic(topic: string): Readonly<ParsedTopic> | null {
  const known = parsed.get(topic);
  if (known !== undefined) return known;
  if (parsed.size >= PARSED_KEEP) parsed.clear();
  const result = parseTopicUncached(topic);
  parsed.set(topic, result && Object.freeze(result));
  return result;
}

function parseTopicUncached(topic: string): ParsedTopic | null {
  const parts = topic.split('/');
  if (parts.length !== 6 || `${parts[0]}/${parts[1]}` !== TOPIC_ROOT || parts[2] !== 'site') return null;
  const siteId = parts[3]!;
  const direction = parts[4];
  const kind = parts[5]!;
  if (!isSiteId(siteId)) return null;
  if (direction === 'up' && (UP_KINDS as readonly string[]).includes(kind)) {
    return { direction, siteId, kind: kind as UpKind };
  }
  if (direction === 'down' && (DOWN_KINDS as readonly string[]).includes(kind)) {
    return { direction, siteId, kind: kind as DownKind };
  }
  return null;
}

/** A filter, not a topic name: MQTT forbids '+' and '#' in a PUBLISH's topic (MQTT-3.3.2-2), so such a PUBLISH is a protocol violation. */
export function hasWildcard(topic: string): boolean {
  return topic.includes('+') || topic.includes('#');
}

/**
 * True when `siteId` may use the topic or filter `topic` in the given direction.
 * Wildcards are allowed only at or below the site's own level.
 */
export function topicBelongsToSite(topic: string, siteId: string, direction: 'up' | 'down'): boolean {
  const prefix = `${TOPIC_ROOT}/site/${siteId}/${direction}`;
  if (topic === prefix || topic === `${prefix}/#`) return true;
  if (!topic.startsWith(`${prefix}/`)) return false;
  const rest = topic.slice(prefix.length + 1);
  // Backup sync (protocol/sync.ts): sync/<kind> and the filters sync/+ and sync/#.
  if (/^sync\/(\+|#|[a-z-]+)$/.test(rest)) return true;
  return rest === '+' || (direction === 'up' ? (UP_KINDS as readonly string[]) : (DOWN_KINDS as readonly string[])).includes(rest);
}
