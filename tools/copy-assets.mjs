// Copies what tsc does not emit into each package's dist/: the browser files (folders named
// `static`) and the page templates (folders named `views`), plus uPlot for the console's charts.
// Run by `npm run build` after tsc; the hub refuses to start without them (console/assets.ts).
import { cpSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const FOLDERS = new Set(['static', 'views']);

function walk(src, dist) {
  for (const e of readdirSync(src, { withFileTypes: true })) {
    if (!e.isDirectory() || e.name === 'node_modules' || e.name === 'fixtures') continue;
    if (FOLDERS.has(e.name)) cpSync(join(src, e.name), join(dist, e.name), { recursive: true });
    else walk(join(src, e.name), join(dist, e.name));
  }
}

for (const pkg of ['hub', 'agent']) {
  const src = join(root, 'packages', pkg, 'src');
  if (existsSync(src)) walk(src, join(root, 'packages', pkg, 'dist'));
}

const require = createRequire(join(root, 'packages/hub/package.json'));
const out = join(root, 'packages/hub/dist/console/static');
mkdirSync(out, { recursive: true });
cpSync(require.resolve('uplot/dist/uPlot.iife.min.js'), join(out, 'uPlot.js'));
cpSync(require.resolve('uplot/dist/uPlot.min.css'), join(out, 'uPlot.css'));
