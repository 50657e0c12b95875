// Bundles sentinela-agent's one-shot verbs (restore, verify, drill, backup, status…) into
// packages/agent/dist/bundle/: one file per verb's code instead of ~210 ES modules (the shared
// package's barrel, zod's 94 files). Loading `restore` went from ~0.65 to ~0.3 CPU-s, which is most
// of a restore's time on a small dump (issue 16: restore and verify at most restic's time).
// Run by `npm run build` after tsc and copy-assets. bin/sentinela-agent.js uses the bundle for every
// verb but `run` (the long-running agent keeps its plain module graph); tests run dist/cli/main.js
// and test/agent-bundle.test.ts runs the bundle itself.
import { build } from 'esbuild';
import { cpSync, existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'packages/agent/dist');
const out = join(dist, 'bundle');

// Bundled: our packages and the small pure-JS libraries every verb loads. Everything else (native
// addons, libraries with worker files or __dirname lookups: pino, better-sqlite3, fastify, mqtt…)
// stays external and is loaded from node_modules by the verbs that need it.
const SHARED = /[\\/]packages[\\/]shared[\\/]dist[\\/]/;
const BUNDLED = /^(@sentinela\/|zod(\/|$)|yaml(\/|$)|commander(\/|$))/;

rmSync(out, { recursive: true, force: true });
await build({
  entryPoints: { 'sentinela-agent': join(dist, 'cli/main.js') },
  outdir: out,
  bundle: true,
  splitting: true, // each verb's dynamic import stays a chunk of its own, loaded only when it runs
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outExtension: { '.js': '.mjs' },
  logLevel: 'warning',
  // yaml is CommonJS and requires Node's modules: give each chunk a require of its own.
  banner: { js: "import { createRequire as __sentinelaCreateRequire } from 'node:module'; const require = __sentinelaCreateRequire(import.meta.url);" },
  plugins: [
    {
      name: 'sentinela-agent-bundle',
      setup(b) {
        b.onResolve({ filter: /.*/ }, async (args) => {
          if (args.pluginData === 'inner') return undefined;
          const bare = /^[^./]/.test(args.path) && !args.path.startsWith('node:');
          if (bare && !BUNDLED.test(args.path)) return { path: args.path, external: true };
          const fromShared = SHARED.test(args.importer) || args.path.startsWith('@sentinela/shared');
          if (!fromShared || args.kind === 'entry-point') return undefined;
          // The shared package's modules only define things (schemas, functions, classes): a
          // verb that uses none of a module's exports does not load it, so the zod schemas of
          // messages it never handles are not built at start.
          const r = await b.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: 'inner' });
          if (r.errors.length) return { errors: r.errors };
          return r.external ? { path: r.path, external: true } : SHARED.test(r.path) ? { path: r.path, sideEffects: false } : { path: r.path };
        });
      },
    },
  ],
});
// The local page's templates are found beside the module that renders them (new URL('./views/', import.meta.url)).
const views = join(dist, 'page/views');
if (existsSync(views)) cpSync(views, join(out, 'views'), { recursive: true });
