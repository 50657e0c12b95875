/**
 * Stored JSON as the API, the console and the alert engine read it. Ingest refuses a payload
 * nesting deeper than the protocol's limit, but a hub before that limit (issue 18) stored what it
 * was sent: such a row, or one that is not JSON, reads as unreadable (null, with the reason)
 * rather than reaching JSON.stringify, which runs out of stack on it and takes the whole answer
 * down for every site. The SQL reads skip such rows with json_valid (see console/history.ts).
 */
import { depthProblem } from '@sentinela/shared';

type Obj = Record<string, unknown>;

/** Why a stored JSON text cannot be served, or null when it can. */
export function storedJsonProblem(json: string): string | null {
  const deep = depthProblem(json);
  if (deep) return `stored before the protocol's nesting limit: ${deep}`;
  try {
    JSON.parse(json);
    return null;
  } catch (err) {
    return `not JSON: ${(err as Error).message}`;
  }
}

/** The stored object, or null when there is none, it is not an object, or it cannot be served. */
export function readStoredJson(json: string | null): Obj | null {
  if (!json || depthProblem(json)) return null;
  try {
    const v: unknown = JSON.parse(json);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : null;
  } catch {
    return null;
  }
}
