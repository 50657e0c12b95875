/**
 * The shared mutation engine. Structure-aware first: a JSON document is changed at one of its
 * values (wrong type, huge number, deep nesting, odd unicode, a duplicated key), a text file at one
 * of its lines or scalars; byte-level changes (flips, inserts, cuts, splices) come on top, so that
 * most inputs stay close enough to valid to reach the code behind the first check.
 */
import type { Rng } from './rng.js';

/** Byte values and 16-bit values that sit on the edges parsers check. */
const EDGE_BYTES = [0x00, 0x01, 0x02, 0x7f, 0x80, 0x81, 0xfe, 0xff, 0x22, 0x5c, 0x0a, 0x7b, 0x7d];
const EDGE_U16 = [0x0000, 0x0001, 0x007f, 0x0080, 0x00ff, 0x0100, 0x7fff, 0x8000, 0xfffe, 0xffff];

/** One to four byte-level changes; `donor` (another valid input) can be spliced in. */
export function mutateBytes(rng: Rng, input: Buffer, donor?: Buffer): Buffer {
  let b = Buffer.from(input);
  for (let n = rng.between(1, 4); n > 0; n--) {
    const at = b.length ? rng.below(b.length) : 0;
    switch (rng.below(9)) {
      case 0: // bit flip
        if (b.length) b[at] = b[at]! ^ (1 << rng.below(8));
        break;
      case 1: // an edge byte
        if (b.length) b[at] = rng.pick(EDGE_BYTES);
        break;
      case 2: // an edge 16-bit value
        if (b.length > 1) b.writeUInt16BE(rng.pick(EDGE_U16), Math.min(at, b.length - 2));
        break;
      case 3: // inserted bytes
        b = Buffer.concat([b.subarray(0, at), rng.chance(0.5) ? rng.bytes(rng.size(16)) : Buffer.alloc(rng.size(64), rng.pick(EDGE_BYTES)), b.subarray(at)]);
        break;
      case 4: // a range cut out
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + rng.size(32))]);
        break;
      case 5: // truncated
        b = b.subarray(0, at);
        break;
      case 6: // a range repeated
        b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + rng.size(32)), b.subarray(at)]);
        break;
      case 7: // spliced with another input
        if (donor?.length) b = Buffer.concat([b.subarray(0, at), donor.subarray(rng.below(donor.length))]);
        break;
      default: // a random byte
        if (b.length) b[at] = rng.below(256);
    }
  }
  return b;
}

/** Strings that parsers and validators trip on: empty, huge, control characters, lone surrogates, bidi, escapes. */
export function oddString(rng: Rng): string {
  switch (rng.below(12)) {
    case 0:
      return '';
    case 1:
      return 'x'.repeat(rng.pick([255, 256, 65_535, 65_536, 300_000]));
    case 2:
      return '\u0000';
    case 3:
      return '\ud800';
    case 4:
      return '\u202e\u200b\ufeff';
    case 5:
      return '💥'.repeat(rng.size(64));
    case 6:
      return '../../../etc/passwd';
    case 7:
      return '%00%ff%';
    case 8:
      return '#/+';
    case 9:
      return '__proto__';
    case 10:
      return '\\u0000"\n';
    default:
      return 'ção é';
  }
}

/** Values of every JSON type, on the edges: what a field gets in place of its own. */
export function oddValue(rng: Rng, original: unknown): unknown {
  switch (rng.below(14)) {
    case 0:
      return null;
    case 1:
      return rng.pick([0, -1, -0, 1.5, 2 ** 31, 2 ** 32, 2 ** 53 + 2, -(2 ** 63), 1e308, 5e-324, 65_536]);
    case 2:
      return oddString(rng);
    case 3:
      return rng.chance(0.5);
    case 4:
      return [];
    case 5:
      return {};
    case 6:
      return [original, original];
    case 7:
      return { value: original };
    case 8:
      return typeof original === 'number' ? original + rng.pick([-1, 1]) : typeof original === 'string' ? `${original}${oddString(rng)}` : original;
    case 9:
      return typeof original === 'string' ? original.slice(0, rng.below(original.length + 1)) : String(original);
    case 10:
      return typeof original === 'number' ? -original : Number(original);
    case 11:
      return Array.from({ length: rng.pick([257, 5000]) }, () => original);
    case 12:
      return typeof original === 'string' ? original.toUpperCase() : undefined;
    default:
      return undefined; // the field removed
  }
}

type Path = Array<string | number>;

function paths(node: unknown, at: Path, out: Path[]): Path[] {
  out.push(at);
  if (node && typeof node === 'object') for (const [k, v] of Object.entries(node)) paths(v, [...at, Array.isArray(node) ? Number(k) : k], out);
  return out;
}

/** Text that JSON.parse may refuse or that reaches a spot no value-level change can: huge numbers, nesting, duplicated keys. */
const RAW_VALUES = ['null', '[]', 'true', '""', '1e400', '-1e400', '123456789012345678901234567890', '0.1e-400', '-0', '"\\ud800"', '"\\u0000"', 'NaN', '1.', '01', '{"__proto__":{"x":1}}'];

/**
 * One structural change to a JSON document (the original is not touched), then serialized. Some
 * changes are textual (a key written twice, a number JSON cannot hold, nesting thousands deep).
 */
export function mutateJson(rng: Rng, doc: unknown): string {
  // The whole document replaced: a reader that checks fields may forget to check it is an object.
  if (rng.chance(0.03)) return rng.pick(RAW_VALUES);
  const copy = structuredClone(doc) as unknown;
  const all = paths(copy, [], []);
  const path = rng.pick(all);
  const kind = rng.below(10);
  if (kind < 6 && path.length > 0) {
    let parent = copy as Record<string | number, unknown>;
    for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
    const last = path[path.length - 1]!;
    const v = oddValue(rng, parent[last]);
    if (v === undefined && !Array.isArray(parent)) delete parent[last];
    else parent[last] = v ?? null;
    return JSON.stringify(copy);
  }
  if (kind === 6) {
    // A raw value (or nesting thousands deep) in place of one value, written as text.
    const marker = '"\u0001fuzz\u0001"';
    const raw = rng.chance(0.3) ? '['.repeat(rng.pick([100, 5000, 100_000])) + ']'.repeat(rng.chance(0.8) ? 0 : 1) : rng.pick(RAW_VALUES);
    if (path.length === 0) return raw;
    let parent = copy as Record<string | number, unknown>;
    for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
    parent[path[path.length - 1]!] = '\u0001fuzz\u0001';
    return JSON.stringify(copy).replace(marker, raw);
  }
  if (kind === 7) {
    // A key written twice: JSON.parse keeps the last, a byte-level reader may keep the first.
    const text = JSON.stringify(copy);
    const keys = [...text.matchAll(/"([A-Za-z0-9_]+)":/g)];
    if (keys.length === 0) return text;
    const m = rng.pick(keys);
    const dup = `"${m[1]}":${JSON.stringify(oddValue(rng, null) ?? null)},`;
    return text.slice(0, m.index) + dup + text.slice(m.index);
  }
  if (kind === 8) {
    // An extra key on an object.
    const objects = all.filter((p) => {
      let n: unknown = copy;
      for (const k of p) n = (n as Record<string | number, unknown>)[k];
      return n !== null && typeof n === 'object' && !Array.isArray(n);
    });
    if (objects.length) {
      let n = copy as Record<string, unknown>;
      for (const k of rng.pick(objects)) n = (n as unknown as Record<string | number, Record<string, unknown>>)[k]!;
      n[rng.pick(['__proto__', 'constructor', 'extra', '', 'x'.repeat(1000)])] = oddValue(rng, 1) ?? 1;
    }
    return JSON.stringify(copy);
  }
  // Whitespace or unicode escapes, same value: a byte-level reader must agree with JSON.parse.
  return JSON.stringify(copy, null, rng.pick([1, '\t', ' \n']))!.replace(/"([a-z])/, (_, c: string) => `"\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Mostly a structural JSON change, sometimes bytes on top of one. */
export function mutateJsonBytes(rng: Rng, doc: unknown, donor?: Buffer): Buffer {
  const text = Buffer.from(mutateJson(rng, doc), 'utf8');
  return rng.chance(0.3) ? mutateBytes(rng, text, donor) : text;
}
