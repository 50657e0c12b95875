/**
 * A fast accept test compiled from a zod schema, for the hot path of decoding (the hub decodes
 * every message of every site). It answers only "surely valid, and zod would return this very
 * value unchanged": then the caller may skip zod. Any other answer sends the value through zod,
 * which stays the one authority on what is valid and the one source of error messages.
 *
 * Only the schema kinds the protocol uses are compiled; a schema with anything else (transforms,
 * defaults, unknown checks or string formats) compiles to null and is always parsed by zod.
 */
import type { z } from 'zod';
import { defOf, patternTest, PATTERN_FORMATS, Unsupported, type CheckDef, type Def } from './zod-def.js';

export type Accept = (value: unknown) => boolean;

function checkOf(c: CheckDef, kind: 'string' | 'number' | 'array' | 'other'): (v: never) => boolean {
  switch (c.check) {
    case 'greater_than': {
      const n = c.value!;
      if (kind !== 'number') throw new Unsupported();
      return c.inclusive ? (v: number) => v >= n : (v: number) => v > n;
    }
    case 'less_than': {
      const n = c.value!;
      if (kind !== 'number') throw new Unsupported();
      return c.inclusive ? (v: number) => v <= n : (v: number) => v < n;
    }
    case 'number_format':
      if (c.format !== 'safeint') throw new Unsupported();
      return (v: number) => Number.isSafeInteger(v);
    case 'min_length': {
      if (kind !== 'string' && kind !== 'array') throw new Unsupported();
      const n = c.minimum!;
      return (v: { length: number }) => v.length >= n;
    }
    case 'max_length': {
      if (kind !== 'string' && kind !== 'array') throw new Unsupported();
      const n = c.maximum!;
      return (v: { length: number }) => v.length <= n;
    }
    case 'length_equals': {
      if (kind !== 'string' && kind !== 'array') throw new Unsupported();
      const n = c.length!;
      return (v: { length: number }) => v.length === n;
    }
    case 'string_format':
      if (kind !== 'string' || !c.pattern || !PATTERN_FORMATS.has(c.format ?? '')) throw new Unsupported();
      return patternTest(c.pattern);
    case 'custom': {
      // A refine: its function is the check; anything but a plain true (a Promise, say) goes to zod.
      const fn = c.fn!;
      return (v: never) => {
        try {
          return fn(v) === true;
        } catch {
          return false;
        }
      };
    }
    default:
      throw new Unsupported();
  }
}

function withChecks(def: Def, kind: 'string' | 'number' | 'array' | 'other', base: Accept): Accept {
  const checks = (def.checks ?? []).map((c) => checkOf(c._zod.def, kind) as Accept);
  if (checks.length === 0) return base;
  return (v) => {
    if (!base(v)) return false;
    for (const c of checks) if (!c(v)) return false;
    return true;
  };
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !Object.prototype.hasOwnProperty.call(v, '__proto__');

/** For a discriminated union whose options are objects with a literal tag: tag value → that option's accept test. */
function discriminated(def: Def, accepts: Accept[]): Map<unknown, Accept> | null {
  const key = def.discriminator;
  if (typeof key !== 'string') return null;
  const byTag = new Map<unknown, Accept>();
  const options = def.options as unknown[];
  for (let i = 0; i < options.length; i++) {
    const o = defOf(options[i]);
    const tag = o.type === 'object' ? defOf((o.shape as Record<string, unknown>)[key]) : null;
    if (!tag || tag.type !== 'literal') return null;
    for (const value of tag.values as unknown[]) {
      if (byTag.has(value)) return null;
      byTag.set(value, accepts[i]!);
    }
  }
  return byTag;
}

function build(schema: unknown): Accept {
  const def = defOf(schema);
  if ((def as { coerce?: boolean }).coerce) throw new Unsupported();
  switch (def.type) {
    case 'string': {
      let base: Accept = (v) => typeof v === 'string';
      if (def.format !== undefined) {
        // A string format schema (z.iso.datetime…): the schema is its own check.
        const own = checkOf(def as unknown as CheckDef, 'string') as Accept;
        base = (v) => typeof v === 'string' && own(v);
      }
      return withChecks(def, 'string', base);
    }
    case 'number':
      return withChecks(def, 'number', (v) => typeof v === 'number' && Number.isFinite(v));
    case 'boolean':
      return withChecks(def, 'other', (v) => typeof v === 'boolean');
    case 'unknown':
    case 'any':
      return withChecks(def, 'other', () => true);
    case 'literal': {
      const values = def.values as unknown[];
      return withChecks(def, 'other', (v) => values.includes(v));
    }
    case 'enum': {
      const values = new Set(Object.values(def.entries as Record<string, unknown>));
      return withChecks(def, 'other', (v) => values.has(v));
    }
    case 'optional': {
      const inner = build(def.innerType);
      return withChecks(def, 'other', (v) => v === undefined || inner(v));
    }
    case 'nullable': {
      const inner = build(def.innerType);
      return withChecks(def, 'other', (v) => v === null || inner(v));
    }
    case 'array': {
      const el = build(def.element);
      return withChecks(def, 'array', (v) => {
        if (!Array.isArray(v)) return false;
        for (let i = 0; i < v.length; i++) if (!el(v[i])) return false;
        return true;
      });
    }
    case 'tuple': {
      if (def.rest) throw new Unsupported();
      const items = (def.items as unknown[]).map(build);
      return withChecks(def, 'array', (v) => {
        if (!Array.isArray(v) || v.length !== items.length) return false;
        for (let i = 0; i < items.length; i++) if (!items[i]!(v[i])) return false;
        return true;
      });
    }
    case 'union': {
      const options = (def.options as unknown[]).map(build);
      const byTag = discriminated(def, options);
      if (byTag) {
        // A discriminated union: only the option its tag names is tried (a status is not first checked as a birth).
        const key = def.discriminator as string;
        return withChecks(def, 'other', (v) => {
          if (!isPlainObject(v)) return false;
          const accept = byTag.get(v[key]);
          return accept !== undefined && accept(v);
        });
      }
      return withChecks(def, 'other', (v) => options.some((o) => o(v)));
    }
    case 'record': {
      if (defOf(def.keyType).type !== 'string' || defOf(def.keyType).checks?.length) throw new Unsupported();
      const value = build(def.valueType);
      return withChecks(def, 'other', (v) => {
        if (!isPlainObject(v)) return false;
        for (const k in v) if (!value(v[k])) return false;
        return true;
      });
    }
    case 'object': {
      const shape = def.shape as Record<string, unknown>;
      const keys = Object.keys(shape);
      const fields = keys.map((k) => build(shape[k]));
      // Loose objects keep unknown keys as they are; any other object (strip, strict) changes or refuses them: zod decides.
      const catchall = def.catchall === undefined ? null : defOf(def.catchall).type;
      if (catchall !== 'unknown') {
        const known = new Set(keys);
        return withChecks(def, 'other', (v) => {
          if (!isPlainObject(v)) return false;
          for (const k in v) if (!known.has(k)) return false;
          for (let i = 0; i < keys.length; i++) if (!fields[i]!(v[keys[i]!])) return false;
          return true;
        });
      }
      return withChecks(def, 'other', (v) => {
        if (!isPlainObject(v)) return false;
        for (let i = 0; i < keys.length; i++) if (!fields[i]!(v[keys[i]!])) return false;
        return true;
      });
    }
    default:
      throw new Unsupported();
  }
}

/** The compiled accept test of `schema`, or null when the schema uses something not compiled here. */
export function compileAccept(schema: z.ZodType): Accept | null {
  try {
    return build(schema);
  } catch (err) {
    if (err instanceof Unsupported) return null;
    throw err;
  }
}
