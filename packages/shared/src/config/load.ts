/**
 * Loads a YAML config file and validates it. Every problem is reported as
 * `FILE:LINE:COL: KEY.PATH: what was expected; found what`, all at once, before the program does anything.
 */
import { readFileSync } from 'node:fs';
import { isAlias, isMap, isSeq, LineCounter, parseDocument, visit, type Node } from 'yaml';
import type { z } from 'zod';
import { describeIssues, formatPath } from '../issues.js';

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file}: invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Finds the YAML node at a key path, for its line and column. For an unknown key, the key itself. */
function locate(doc: ReturnType<typeof parseDocument>, path: readonly PropertyKey[]): [number, number] | null {
  let node: unknown = doc.contents;
  let lastRange: [number, number, number] | undefined = (node as Node | null)?.range ?? undefined;
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((it) => (it.key as { value?: unknown } | null)?.value === key);
      if (!pair) break;
      const keyNode = pair.key as Node | null;
      lastRange = keyNode?.range ?? lastRange;
      node = pair.value;
      if ((node as Node | null)?.range && key !== path[path.length - 1]) lastRange = (node as Node).range ?? lastRange;
    } else if (isSeq(node) && typeof key === 'number') {
      node = node.items[key];
      lastRange = (node as Node | null)?.range ?? lastRange;
    } else break;
  }
  return lastRange ? [lastRange[0], lastRange[1]] : null;
}

/** "LINE:COL" of the first alias that does not resolve, else of the first alias. */
function aliasPosition(doc: ReturnType<typeof parseDocument>, lines: LineCounter): string {
  const aliases: Node[] = [];
  visit(doc, { Alias: (_, node) => void aliases.push(node) });
  const node = aliases.find((a) => isAlias(a) && a.resolve(doc) === undefined) ?? aliases[0];
  const pos = lines.linePos(node?.range?.[0] ?? 0);
  return `${pos.line}:${pos.col}`;
}

export function parseConfigText<S extends z.ZodType>(file: string, text: string, schema: S): z.infer<S> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return `${file}:${pos.line}:${pos.col}: not valid YAML: ${e.message.split('\n')[0]}`;
      }),
    );
  }
  let data: unknown;
  try {
    data = doc.toJS() ?? {};
  } catch (err) {
    // An alias without its anchor, or aliases that expand past yaml's limit (an "alias bomb"): the
    // parser accepts them and only building the data refuses them, with an error of its own.
    throw new ConfigError(file, [`${file}:${aliasPosition(doc, lineCounter)}: not valid YAML: ${(err as Error).message}`]);
  }
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const problems = describeIssues(result.error, data).map((d) => {
    const at = locate(doc, d.path);
    const pos = at ? lineCounter.linePos(at[0]) : null;
    return `${file}${pos ? `:${pos.line}:${pos.col}` : ''}: ${formatPath(d.path)}: ${d.text}`;
  });
  throw new ConfigError(file, problems);
}

export function loadConfigFile<S extends z.ZodType>(file: string, schema: S): z.infer<S> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new ConfigError(file, [`${file}: cannot read the config file (${e.code ?? e.message})`]);
  }
  return parseConfigText(file, text, schema);
}
