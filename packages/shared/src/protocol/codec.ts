/** The one encode/decode path for every MQTT payload, used by the agent and the hub alike. */
import { z } from 'zod';
import { describeIssues, formatPath } from '../issues.js';
import { DownMessage, UpMessage } from './messages.js';
import { parseTopic, type ParsedTopic } from './topics.js';
import { compileAccept, type Accept } from './schema-check.js';
import { depthProblem } from './json-depth.js';

export const DEFAULT_MAX_PAYLOAD_BYTES = 256 * 1024;

export type DecodeErrorCode = 'bad-topic' | 'too-large' | 'too-deep' | 'not-json' | 'invalid' | 'wrong-site' | 'wrong-type';

export class DecodeError extends Error {
  constructor(
    readonly code: DecodeErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DecodeError';
  }
}

/** `text`: the payload as UTF-8 text, for a caller that stores it as received. */
export type Decoded<T> = { ok: true; topic: ParsedTopic; message: T; text: string } | { ok: false; error: DecodeError };

function fail<T>(code: DecodeErrorCode, message: string): Decoded<T> {
  return { ok: false, error: new DecodeError(code, message) };
}

/**
 * zod is the authority, but it is slow for the hub's every message: a test compiled from the same
 * schema accepts the common, valid payload without it; whatever it does not accept goes through
 * zod, which refuses it with its error (or, rarely, accepts what the fast test could not prove).
 */
interface Checked<T> {
  schema: z.ZodType<T>;
  accept: Accept | null;
}

/** Compiled at first use: an agent decodes only down messages and never holds the up tests. */
function checked<T>(schema: z.ZodType<T>): () => Checked<T> {
  let c: Checked<T> | undefined;
  return () => (c ??= { schema, accept: compileAccept(schema) });
}

const UP = checked(UpMessage);
const DOWN = checked(DownMessage);

function validate<T>(c: Checked<T>, value: unknown): z.ZodSafeParseResult<T> {
  if (c.accept?.(value)) return { success: true, data: value as T };
  return c.schema.safeParse(value);
}

/**
 * `schema.safeParse` with the compiled test in front, for a reader of many stored values (the
 * hub's status sections of every site): the valid common case costs a fraction of zod's parse.
 */
export function compiledSafeParse<T>(schema: z.ZodType<T>): (value: unknown) => z.ZodSafeParseResult<T> {
  const c = checked(schema);
  return (value) => validate(c(), value);
}

function decode<T extends { site: string; type: string }>(
  direction: 'up' | 'down',
  schema: () => Checked<T>,
  topic: string,
  payload: Uint8Array,
  maxBytes: number,
): Decoded<T> {
  const parsed = parseTopic(topic);
  if (!parsed || parsed.direction !== direction) return fail('bad-topic', `topic "${topic}" is not a v1 ${direction} topic`);
  if (payload.byteLength > maxBytes) {
    return fail('too-large', `payload of ${payload.byteLength} bytes exceeds the limit of ${maxBytes} bytes`);
  }
  const deep = depthProblem(payload);
  if (deep) return fail('too-deep', `payload refused: ${deep}`);
  let json: unknown;
  const text = (Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)).toString('utf8');
  try {
    json = JSON.parse(text);
  } catch (err) {
    return fail('not-json', `payload is not JSON: ${(err as Error).message}`);
  }
  const result = validate(schema(), json);
  if (!result.success) {
    const first = describeIssues(result.error, json).slice(0, 3);
    return fail('invalid', first.map((d) => `${formatPath(d.path)}: ${d.text}`).join('; '));
  }
  const message = result.data;
  if (message.site !== parsed.siteId) {
    return fail('wrong-site', `payload names site "${message.site}" but the topic is for site "${parsed.siteId}"`);
  }
  if (message.type !== parsed.kind) {
    return fail('wrong-type', `payload of type "${message.type}" sent on the "${parsed.kind}" topic`);
  }
  return { ok: true, topic: parsed, message, text };
}

export function decodeUp(topic: string, payload: Uint8Array, maxBytes = DEFAULT_MAX_PAYLOAD_BYTES): Decoded<UpMessage> {
  return decode('up', UP, topic, payload, maxBytes);
}

export function decodeDown(topic: string, payload: Uint8Array, maxBytes = DEFAULT_MAX_PAYLOAD_BYTES): Decoded<DownMessage> {
  return decode('down', DOWN, topic, payload, maxBytes);
}

/** Validates before it encodes, so that no program can put a message on the wire that its peer would refuse. */
export function encodeUp(message: UpMessage): Buffer {
  return shallow(JSON.stringify(UP().accept?.(message) ? message : UpMessage.parse(message)));
}

export function encodeDown(message: DownMessage): Buffer {
  return shallow(JSON.stringify(DOWN().accept?.(message) ? message : DownMessage.parse(message)));
}

function shallow(text: string): Buffer {
  const deep = depthProblem(text);
  if (deep) throw new DecodeError('too-deep', `message not sent: ${deep}`);
  return Buffer.from(text, 'utf8');
}

/** Seq ranges as sent in acks: sorted, merged [from, to] pairs. */
export function toRanges(seqs: Iterable<number>): Array<[number, number]> {
  const sorted = [...new Set(seqs)].sort((a, b) => a - b);
  const out: Array<[number, number]> = [];
  for (const s of sorted) {
    const last = out[out.length - 1];
    if (last && s === last[1] + 1) last[1] = s;
    else out.push([s, s]);
  }
  return out;
}

export function* expandRanges(ranges: ReadonlyArray<readonly [number, number]>): Generator<number> {
  for (const [from, to] of ranges) for (let s = from; s <= to; s++) yield s;
}
