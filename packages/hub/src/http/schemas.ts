/** JSON schemas of the HTTP API (validation of requests, serialisation of responses). */
import { SITE_STATES } from '../core/site-view.js';

const str = { type: 'string' } as const;
const nstr = { type: ['string', 'null'] } as const;
const int = { type: 'integer' } as const;

/** `error` in English for API clients; `code` and `params` for the console, which words it in the reader's language. */
export const errorSchema = { type: 'object', properties: { error: str, code: str, params: { type: 'object', additionalProperties: true } }, required: ['error'] } as const;

export const siteSchema = {
  type: 'object',
  required: ['id', 'state'],
  properties: {
    id: str,
    name: nstr,
    province: nstr,
    state: { type: 'string', enum: [...SITE_STATES] },
    connected: { type: 'boolean' },
    lastSeenAt: nstr,
    enrolledAt: nstr,
    agentVersion: nstr,
    latestStatus: { type: ['object', 'null'], additionalProperties: true },
    latestStatusUnreadable: nstr,
    backlog: {
      type: ['object', 'null'],
      properties: {
        pending: int,
        pendingBytes: int,
        oldestTs: nstr,
        thinned: int,
        source: { type: 'string', enum: ['status', 'birth'] },
        at: str,
      },
    },
    servicesDown: { type: 'array', items: str },
    messagesReceived: int,
    missing: int,
    gaps: {
      type: 'array',
      items: {
        type: 'object',
        properties: { stream: str, maxSeq: int, received: int, thinned: int, jumped: int, missing: int, lastAt: str },
      },
    },
  },
} as const;

export const siteIdParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' } },
} as const;

export const authHeader = {
  type: 'object',
  properties: { authorization: { type: 'string' } },
} as const;
