/** Turns zod issues into sentences that name the place, what was expected and what was found. */
import type { z } from 'zod';

export function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(top level)';
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
    .join('');
}

export function describeFound(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the text ${JSON.stringify(value.length > 60 ? value.slice(0, 57) + '...' : value)}`;
  return `${typeof value} ${String(value)}`;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = root;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}

export interface IssueDescription {
  path: readonly PropertyKey[];
  text: string;
}

/** One description per issue; unknown keys get one description each so each can be located. */
export function describeIssues(error: z.ZodError, input: unknown): IssueDescription[] {
  const out: IssueDescription[] = [];
  for (const issue of error.issues) {
    const path = issue.path as PropertyKey[];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        out.push({ path: [...path, key], text: `unknown key "${key}" (not a setting; check its spelling and level)` });
      }
      continue;
    }
    if (issue.code === 'custom') {
      out.push({ path, text: issue.message });
      continue;
    }
    const found = describeFound(valueAt(input, path));
    if (issue.code === 'invalid_type' && valueAt(input, path) === undefined) {
      out.push({ path, text: `required key is missing (expected ${issue.expected})` });
      continue;
    }
    const text = issue.code === 'invalid_type' ? `expected ${issue.expected}` : issue.message.replace(/^Invalid input: /, '');
    out.push({ path, text: `${text}; found ${found}` });
  }
  return out;
}
