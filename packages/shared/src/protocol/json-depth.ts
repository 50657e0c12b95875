/**
 * How deeply a JSON text nests its objects and arrays, read from its characters without parsing.
 *
 * Every payload of the protocol is refused above MAX_JSON_DEPTH levels, before JSON.parse. A valid
 * message nests about six levels; the limit is far above that and far below what breaks the
 * programs that read stored JSON: JSON.stringify and the hub's API serializer recurse and run out
 * of stack a few thousand levels down, SQLite's JSON functions call anything past 1,000 levels
 * "malformed JSON". One site's 120 KB of brackets once made /api/v1/sites answer 500 for everyone.
 *
 * The same scan serves the hub's reads of what it stored: a row stored by an older hub that
 * nests deeper than the limit is reported unreadable instead of being parsed.
 */

/** Top-level object = 1. The byte-level test (byte-check.ts) gives up at the same depth. */
export const MAX_JSON_DEPTH = 64;

const QUOTE = 34;
const BACKSLASH = 92;
const OPEN_OBJECT = 123;
const CLOSE_OBJECT = 125;
const OPEN_ARRAY = 91;
const CLOSE_ARRAY = 93;

/**
 * The deepest nesting in `json` (UTF-8 bytes, or text): brackets inside strings do not count.
 * Any input gives an answer (malformed JSON too: whatever its brackets say), in one pass.
 * UTF-8 continuation bytes are all 0x80 or above, so bytes and text give the same answer.
 */
export function jsonDepth(json: Uint8Array | string): number {
  const bytes = typeof json !== 'string';
  const n = json.length;
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < n; i++) {
    const c = bytes ? (json as Uint8Array)[i]! : (json as string).charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (++depth > max) max = depth;
    } else if ((c === CLOSE_OBJECT || c === CLOSE_ARRAY) && depth > 0) depth--;
  }
  return max;
}

/** Why `json` may not be taken, or null: the one sentence every refusal of a too-deep payload uses. */
export function depthProblem(json: Uint8Array | string, max = MAX_JSON_DEPTH): string | null {
  const depth = jsonDepth(json);
  return depth > max ? `JSON nests ${depth} levels deep; the limit is ${max}` : null;
}
