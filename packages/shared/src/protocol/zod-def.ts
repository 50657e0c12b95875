/**
 * What the schema compilers (schema-check.ts, byte-check.ts) read of a zod schema: its internal
 * definition (`_zod.def`), which zod 4 keeps stable for tools like these, and the checks on it.
 */
export interface Def {
  type: string;
  checks?: Array<{ _zod: { def: CheckDef } }>;
  [k: string]: unknown;
}
export interface CheckDef {
  check: string;
  format?: string;
  pattern?: RegExp;
  value?: number;
  inclusive?: boolean;
  minimum?: number;
  maximum?: number;
  length?: number;
  fn?: (v: unknown) => unknown;
}

export const defOf = (s: unknown): Def => (s as { _zod: { def: Def } })._zod.def;

/** String formats whose whole check is the pattern (zod's url, email, jwt… do more). */
export const PATTERN_FORMATS = new Set(['regex', 'datetime', 'date', 'time', 'uuid']);

/** Thrown while compiling a schema part a compiler does not handle: the whole schema is then left to zod. */
export class Unsupported extends Error {}

/** A copy of a check's pattern without the state a global or sticky flag would keep between tests. */
export function plainPattern(re: RegExp): RegExp {
  return new RegExp(re.source, re.flags.replace('g', '').replace('y', ''));
}

/** A pattern check as a test. */
export function patternTest(re: RegExp): (v: string) => boolean {
  const r = plainPattern(re);
  return (v) => r.test(v);
}
