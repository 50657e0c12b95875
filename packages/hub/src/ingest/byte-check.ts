/**
 * A byte-level accept test compiled from a zod schema, for the hub's every status and event. From
 * the payload's bytes alone it proves that JSON.parse would succeed and that the value-level test
 * (shared protocol/schema-check.ts) would accept the result, without building the value: no object, array or
 * string per field, so nothing for the garbage collector. JSON.parse and the value test took about
 * a fifth of the hub's time per message under load.
 *
 * "Proven" is one answer; "not proven" is the only other: the caller then decodes the usual way
 * (JSON.parse, the compiled test, zod), which stays the authority and gives the error. So the test
 * gives up on anything unusual: a byte of 0x80 or more (then the text is not the bytes), an escape
 * in a key or in a string with a check, a repeated key, a number with an exponent or more than 15
 * integer digits, a bound on a number that its integer part does not settle, nesting deeper than 64.
 *
 * The test is generated JavaScript, one function per schema part (as ajv does): closures built
 * per part share V8's type feedback, and their calls to each other were megamorphic, which made
 * such a test no faster than JSON.parse. Names and values from the schema enter the source only as
 * byte values, numbers, or through the constants array, never as text.
 *
 * A few fields of the top-level object can be captured (the hub keeps a message's stream, seq and
 * time as columns): a string without escapes, or an integer.
 */
import type { z } from 'zod';
import { MAX_JSON_DEPTH } from '@sentinela/shared';
import { compileAccept, defOf, PATTERN_FORMATS, plainPattern, Unsupported, type CheckDef, type Def } from '@sentinela/shared/schema-compile';

/** True when proven; then `out[i]` holds the value of the i-th captured key. */
export type ByteScan = (bytes: Buffer, out: Array<string | number>) => boolean;

/** The protocol's limit: deeper is refused, so the byte-level test never proves it. */
const MAX_DEPTH = MAX_JSON_DEPTH;
/** Below 10^15 an integer summed digit by digit is exact in a double. */
const MAX_INT_DIGITS = 15;

/**
 * The shared part of every generated test: the scan's state (one scan runs at a time, start to end)
 * and the JSON grammar. `p` is the position; a scan function is called at its value's first byte
 * and leaves `p` just after it.
 */
const RUNTIME = `
let b = null, p = 0, end = 0, depth = 0, out = null;
let sf = 0, st = 0, esc = false, lastS = '';
let nNeg = false, nI = 0, nFrac = false, nExp = false, nBig = false;
function ws() {
  const u = b, n = end;
  let q = p;
  while (q < n) { const c = u[q]; if (c === 32 || c === 10 || c === 13 || c === 9) q++; else break; }
  p = q;
}
function hex(c) { return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102); }
function str() {
  const u = b, n = end;
  let q = p;
  if (u[q] !== 34) return false;
  sf = ++q; esc = false;
  while (q < n) {
    const c = u[q];
    if (c === 34) { st = q; p = q + 1; return true; }
    if (c < 32 || c >= 128) return false;
    if (c === 92) {
      esc = true;
      const e = u[q + 1];
      if (e === 117) { if (!(hex(u[q + 2]) && hex(u[q + 3]) && hex(u[q + 4]) && hex(u[q + 5]))) return false; q += 6; }
      else if (e === 34 || e === 92 || e === 47 || e === 98 || e === 102 || e === 110 || e === 114 || e === 116) q += 2;
      else return false;
      continue;
    }
    q++;
  }
  return false;
}
function num() {
  const u = b;
  let q = p, c = u[q], v = 0;
  const neg = c === 45;
  if (neg) c = u[++q];
  nBig = false; nFrac = false;
  if (c === 48) c = u[++q];
  else if (c >= 49 && c <= 57) {
    const from = q;
    while (c >= 48 && c <= 57) { v = v * 10 + (c - 48); c = u[++q]; }
    nBig = q - from > ${MAX_INT_DIGITS};
  } else return false;
  if (c === 46) {
    c = u[++q];
    if (!(c >= 48 && c <= 57)) return false;
    while (c >= 48 && c <= 57) { if (c !== 48) nFrac = true; c = u[++q]; }
  }
  nExp = c === 101 || c === 69;
  if (nExp) {
    c = u[++q];
    if (c === 43 || c === 45) c = u[++q];
    if (!(c >= 48 && c <= 57)) return false;
    while (c >= 48 && c <= 57) c = u[++q];
  }
  nNeg = neg; nI = v; p = q;
  return true;
}
function word(w) {
  const n = w.length;
  if (p + n > end) return false;
  for (let i = 0; i < n; i++) if (b[p + i] !== w[i]) return false;
  p += n;
  return true;
}
const TRUE = [116, 114, 117, 101], FALSE = [102, 97, 108, 115, 101], NULL = [110, 117, 108, 108];
function isProto() {
  return st - sf === 9 && b[sf] === 95 && b[sf + 1] === 95 && b[sf + 2] === 112 && b[sf + 3] === 114 && b[sf + 4] === 111
    && b[sf + 5] === 116 && b[sf + 6] === 111 && b[sf + 7] === 95 && b[sf + 8] === 95;
}
function key() {
  if (!str() || esc) return false;
  if (b[p] !== 58) { ws(); if (b[p] !== 58) return false; }
  p++;
  if (b[p] <= 32) ws();
  return true;
}
function skip() {
  const c = b[p];
  if (c === 34) return str();
  if (c === 123 || c === 91) {
    const close = c + 2;
    if (++depth > ${MAX_DEPTH}) return false;
    p++; ws();
    if (b[p] === close) { p++; depth--; return true; }
    for (;;) {
      if (c === 123 && !key()) return false;
      if (!skip()) return false;
      ws();
      const d = b[p++];
      if (d === close) { depth--; return true; }
      if (d !== 44) return false;
      ws();
    }
  }
  if (c === 116) return word(TRUE);
  if (c === 102) return word(FALSE);
  if (c === 110) return word(NULL);
  return num();
}
`;

/** A condition: the bytes at `at` are `bytes`, e.g. `u[q] === 34 && u[q + 1] === 111` (`u`: a local copy of `b`). */
function bytesAt(at: string, bytes: Buffer): string {
  return [...bytes].map((c, i) => `u[${at}${i ? ` + ${i}` : ''}] === ${c}`).join(' && ');
}

/** Compiles each schema part once (a part used twice, like the ISO time, shares its function). */
class Generator {
  private readonly functions: string[] = [];
  readonly constants: unknown[] = [];
  private readonly names = new Map<unknown, string>();

  constant(v: unknown): string {
    this.constants.push(v);
    return `k[${this.constants.length - 1}]`;
  }

  source(root: string): string {
    return `${RUNTIME}\n${this.functions.join('\n')}\nreturn ${root};`;
  }

  private define(body: string): string {
    const name = `s${this.functions.length}`;
    this.functions.push(`function ${name}() {\n${body}\n}`);
    return name;
  }

  /** The name of a function scanning a value of `schema`; `capture`: for the top-level object only. */
  scan(schema: unknown, capture: readonly string[] = []): string {
    const cached = capture.length === 0 ? this.names.get(schema) : undefined;
    if (cached) return cached;
    const name = this.build(defOf(schema), capture);
    if (capture.length === 0) this.names.set(schema, name);
    return name;
  }

  private build(def: Def, capture: readonly string[]): string {
    if ((def as { coerce?: boolean }).coerce) throw new Unsupported();
    const checks = (def.checks ?? []).map((c) => c._zod.def);
    const noChecks = () => {
      if (checks.length) throw new Unsupported();
    };
    switch (def.type) {
      case 'string': {
        // A string format schema (z.iso.datetime…) is its own check.
        if (def.format !== undefined) checks.unshift(def as unknown as CheckDef);
        if (checks.length === 0) return 'str';
        return this.define(`if (!str() || esc) return false;\n${checks.map((c) => this.stringCheck(c)).join('\n')}\nreturn true;`);
      }
      case 'number':
        // Finite (z.number() refuses Infinity) and exact: no exponent, at most 15 integer digits.
        return this.define(`if (!num() || nExp || nBig) return false;\n${checks.map(numberCheck).join('\n')}\nreturn true;`);
      case 'boolean':
        noChecks();
        return this.oneOf([true, false]);
      case 'unknown':
      case 'any':
        noChecks();
        return 'skip';
      case 'literal':
        noChecks();
        return this.oneOf(def.values as unknown[]);
      case 'enum':
        noChecks();
        return this.oneOf(Object.values(def.entries as Record<string, unknown>));
      case 'optional':
        // Presence is the object's business; a present value is the inner schema's.
        noChecks();
        return this.scan(def.innerType);
      case 'nullable': {
        noChecks();
        const inner = this.scan(def.innerType);
        return this.define(`if (b[p] === 110) return word(NULL);\nreturn ${inner}();`);
      }
      case 'array':
        return this.array(checks, [this.scan(def.element)], true);
      case 'tuple':
        if (def.rest) throw new Unsupported();
        return this.array(
          checks,
          (def.items as unknown[]).map((s) => this.scan(s)),
          false,
        );
      case 'union': {
        // Every option in turn (a discriminated union's tag is a literal its option checks).
        noChecks();
        const options = (def.options as unknown[]).map((s) => this.scan(s));
        return this.define(`const p0 = p, d0 = depth;\n${options.map((o) => `if (${o}()) return true;\np = p0; depth = d0;`).join('\n')}\nreturn false;`);
      }
      case 'record': {
        noChecks();
        if (defOf(def.keyType).type !== 'string' || defOf(def.keyType).checks?.length) throw new Unsupported();
        const value = this.scan(def.valueType);
        return this.define(container(123, 125, `if (!key() || isProto() || !${value}()) return false;`, ''));
      }
      case 'object':
        noChecks();
        return this.object(def, capture);
      default:
        throw new Unsupported();
    }
  }

  /**
   * Code that puts a captured field's value into out[slot], right after its scan: a string with a
   * pattern check is the string that check made; any other string or an integer is taken from
   * the bytes, and anything else is not proven.
   */
  private captured(schema: unknown, slot: number): string {
    const def = defOf(schema);
    if (def.type === 'string') {
      const patterned = def.format !== undefined || (def.checks ?? []).some((c) => c._zod.def.check === 'string_format');
      return patterned ? `out[${slot}] = lastS;` : `if (esc) return false;\nout[${slot}] = b.latin1Slice(sf, st);`;
    }
    if (def.type === 'number') return `if (nFrac) return false;\nout[${slot}] = nNeg ? -nI : nI;`;
    throw new Unsupported();
  }

  /** One of a few JSON texts, byte for byte (another spelling of the same value is not proven). */
  private oneOf(values: unknown[]): string {
    const tests = values.map((v) => {
      if (v !== null && typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw new Unsupported();
      const text = Buffer.from(JSON.stringify(v));
      return `if (q + ${text.length} <= end && ${bytesAt('q', text)}) { p = q + ${text.length}; return true; }`;
    });
    return this.define(`const u = b, q = p;\n${tests.join('\n')}\nreturn false;`);
  }

  private stringCheck(c: CheckDef): string {
    switch (c.check) {
      case 'min_length':
        return `if (st - sf < ${Number(c.minimum)}) return false;`;
      case 'max_length':
        return `if (st - sf > ${Number(c.maximum)}) return false;`;
      case 'length_equals':
        return `if (st - sf !== ${Number(c.length)}) return false;`;
      case 'string_format': {
        if (!c.pattern || !PATTERN_FORMATS.has(c.format ?? '')) throw new Unsupported();
        const re = this.constant(plainPattern(c.pattern));
        // Kept in lastS: a captured field's value is this very string.
        return `lastS = b.latin1Slice(sf, st);\nif (!${re}.test(lastS)) return false;`;
      }
      default:
        throw new Unsupported();
    }
  }

  /** `items`: the element's scan for an array (`repeat`), or each position's for a tuple. */
  private array(checks: CheckDef[], items: string[], repeat: boolean): string {
    const item = repeat
      ? `if (!${items[0]}()) return false;`
      : `switch (n) {\n${items.map((s, i) => `case ${i}: if (!${s}()) return false; break;`).join('\n')}\ndefault: return false;\n}`;
    const lengths = checks.map(lengthCheck);
    if (!repeat) lengths.push(`if (n !== ${items.length}) return false;`);
    return this.define(`let n = 0;\n${container(91, 93, `${item}\nn++;`, lengths.join('\n'))}`);
  }

  /**
   * An object with a shape: keys matched as bytes, each at most once. Unknown keys pass only on a
   * loose object, skipped as any JSON value. A captured key (a required one) goes to `out`.
   */
  private object(def: Def, capture: readonly string[]): string {
    const shape = def.shape as Record<string, unknown>;
    const keys = Object.keys(shape);
    if (keys.length > 30) throw new Unsupported();
    for (const k of capture) if (!keys.includes(k)) throw new Unsupported();
    const loose = def.catchall !== undefined && defOf(def.catchall).type === 'unknown';
    let required = 0;
    const byLength = new Map<number, string[]>();
    keys.forEach((k, i) => {
      const bytes = Buffer.from(k);
      if (JSON.stringify(k) !== `"${k}"` || bytes.length !== k.length) throw new Unsupported();
      // A key may be absent when its value-level test accepts undefined (an optional field, z.unknown()).
      const accept = compileAccept(shape[k] as z.ZodType);
      if (!accept) throw new Unsupported();
      if (!accept(undefined)) required |= 1 << i;
      else if (capture.includes(k)) throw new Unsupported();
      const value = this.scan(shape[k]);
      const slot = capture.indexOf(k);
      const scan = slot < 0 ? `if (!${value}()) return false;` : `if (!${value}()) return false;\n${this.captured(shape[k], slot)}`;
      const branch = `if (${bytesAt('f', bytes)}) {\nif (seen & ${1 << i}) return false;\nseen |= ${1 << i};\n${scan}\nbreak known;\n}`;
      byLength.set(bytes.length, [...(byLength.get(bytes.length) ?? []), branch]);
    });
    const member = `if (!key()) return false;
const f = sf;
known: {
switch (st - f) {
${[...byLength].map(([n, branches]) => `case ${n}:\n${branches.join('\n')}\nbreak;`).join('\n')}
}
${loose ? 'if (isProto() || !skip()) return false;' : 'return false;'}
}`;
    return this.define(`let seen = 0;\n${container(123, 125, member, `if ((seen & ${required}) !== ${required}) return false;`)}`);
  }
}

/** A function body: `{`/`[` (`open`), members separated by commas, the close; `member` scans one, `after` checks at the end. */
function container(open: number, close: number, member: string, after: string): string {
  return `const u = b;
if (u[p] !== ${open} || ++depth > ${MAX_DEPTH}) return false;
p++;
if (u[p] <= 32) ws();
if (u[p] === ${close}) p++;
else for (;;) {
${member}
if (u[p] <= 32) ws();
const c = u[p++];
if (c === ${close}) break;
if (c !== 44) return false;
if (u[p] <= 32) ws();
}
depth--;
${after}
return true;`;
}

/** A number check, settled by the integer part alone: a number with a fraction lies strictly between two integers. */
function numberCheck(c: CheckDef): string {
  const x = '(nNeg ? -nI : nI)';
  switch (c.check) {
    case 'greater_than': {
      const n = Number(c.value);
      const cmp = c.inclusive ? '>=' : '>';
      return `if (!(nFrac ? (nNeg ? -(nI + 1) : nI) >= ${n} : ${x} ${cmp} ${n})) return false;`;
    }
    case 'less_than': {
      const n = Number(c.value);
      const cmp = c.inclusive ? '<=' : '<';
      return `if (!(nFrac ? (nNeg ? -nI : nI + 1) <= ${n} : ${x} ${cmp} ${n})) return false;`;
    }
    case 'number_format':
      if (c.format !== 'safeint') throw new Unsupported();
      return 'if (nFrac) return false;';
    default:
      throw new Unsupported();
  }
}

function lengthCheck(c: CheckDef): string {
  switch (c.check) {
    case 'min_length':
      return `if (n < ${Number(c.minimum)}) return false;`;
    case 'max_length':
      return `if (n > ${Number(c.maximum)}) return false;`;
    case 'length_equals':
      return `if (n !== ${Number(c.length)}) return false;`;
    default:
      throw new Unsupported();
  }
}

/**
 * The byte-level test of `schema` (an object schema), capturing the values of `capture` (keys of
 * the top-level object); null when the schema uses something not compiled here.
 */
export function compileByteScan(schema: z.ZodType, capture: readonly string[] = []): ByteScan | null {
  // The generated code takes strings with Buffer's latin1Slice, which Node has but does not document.
  if (typeof (Buffer.prototype as { latin1Slice?: unknown }).latin1Slice !== 'function') return null;
  const gen = new Generator();
  let root: string;
  try {
    if (defOf(schema).type !== 'object') throw new Unsupported();
    root = gen.scan(schema, capture);
  } catch (err) {
    if (err instanceof Unsupported) return null;
    throw err;
  }
  const source = `${gen.source('scan')}
function scan(bytes, into) {
  b = bytes; p = 0; end = bytes.length; depth = 0; out = into;
  ws();
  if (!${root}()) return false;
  ws();
  return p === end;
}`;
  const factory = new Function('k', source) as (k: unknown[]) => ByteScan;
  return factory(gen.constants);
}
