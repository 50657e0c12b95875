/**
 * /assets/*: the console's scripts and styles and uPlot, served by @fastify/static from
 * dist/console/static (`npm run build` copies them there; the release bundle ships dist/). Every
 * asset comes from the hub itself (no CDN): the console works on a network with no internet.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

export const STATIC_ROOT = fileURLToPath(new URL('./static/', import.meta.url));

export async function assetRoutes(app: FastifyInstance): Promise<void> {
  // A tree compiled with tsc alone has no assets: say how to fix it rather than serve a bare page.
  if (!existsSync(`${STATIC_ROOT}app.css`) || !existsSync(`${STATIC_ROOT}uPlot.js`)) {
    throw new Error(`the console's assets are missing from ${STATIC_ROOT}: build with "npm run build" (tsc, then tools/copy-assets.mjs)`);
  }
  await app.register(fastifyStatic, {
    root: STATIC_ROOT,
    prefix: '/assets/',
    // Short: an upgraded hub's scripts reach open consoles within minutes.
    maxAge: 300_000,
    index: false,
    list: false,
    dotfiles: 'deny',
    preCompressed: false,
  });
}
