/**
 * The console's server-rendered HTML: Eta templates in console/views (copied into dist/ by
 * `npm run build`), escaping every `<%= %>` by default; only `<%~ %>` writes HTML as it is, and is
 * kept for HTML this hub built itself (a rendered page body, a JSON island). Eta: small, typed,
 * maintained, and one of @fastify/view's engines, so routes answer with `reply.view()`.
 */
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';

export const VIEWS_DIR = fileURLToPath(new URL('./views/', import.meta.url));

export const views = new Eta({ views: VIEWS_DIR, cache: true, autoEscape: true, autoTrim: false });

/** JSON inside <script type="application/json">: "<" escaped so no string can close the tag. */
export function jsonIsland(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}
