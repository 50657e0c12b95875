/**
 * The import rules of .dependency-cruiser.cjs (no circles in the hub and the agent, store/ imports
 * no feature, the fleet core imports only the store, domain code does not import api/, console/ or
 * cli/), checked on the real source by dependency-cruiser, and shown to catch each kind of breach
 * on a small tree laid out like the hub.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { REPO_ROOT } from '@sentinela/tools/harness/paths.js';
import { tempDir } from '@sentinela/tools/harness/tmp.js';

const CONFIG = resolve(REPO_ROOT, '.dependency-cruiser.cjs');
const BIN = resolve(REPO_ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');
/** Runs dependency-cruiser in `cwd` (the rules name paths from the repository root); its text report and exit code. */
function cruise(cwd: string, ...paths: string[]): { code: number | null; report: string } {
  const r = spawnSync(process.execPath, [BIN, '--config', CONFIG, '--output-type', 'err', ...paths], { cwd, encoding: 'utf8' });
  return { code: r.status, report: `${r.stdout}${r.stderr}` };
}

t.test('the hub and the agent keep the import rules', async (t) => {
  // No baseline: every breach fails (the last owed one, the agent's status circle, went with issue 19's CLI work).
  const r = cruise(REPO_ROOT, 'packages/hub/src', 'packages/agent/src');
  t.equal(r.code, 0, r.code === 0 ? 'no violations' : `dependency-cruiser found violations:\n${r.report}`);
});

t.test('each rule catches its breach', async (t) => {
  const dir = tempDir('import-rules');
  t.teardown(dir.remove);
  const files: Record<string, string> = {
    // a circle
    'packages/hub/src/alerts/a.ts': "import { b } from './b.js';\nexport const a = () => b;\n",
    'packages/hub/src/alerts/b.ts': "import { a } from './a.js';\nexport const b = () => a;\n",
    // the store reaching up into a feature
    'packages/hub/src/store/db.ts': "import { x } from '../backups/x.js';\nexport const db = x;\n",
    'packages/hub/src/backups/x.ts': 'export const x = 1;\n',
    // the core reaching into a feature
    'packages/hub/src/core/feed.ts': "import { x } from '../backups/x.js';\nexport const feed = x;\n",
    // a feature importing presentation
    'packages/hub/src/upstream/send.ts': "import { page } from '../console/page.js';\nexport const send = page;\n",
    'packages/hub/src/console/page.ts': 'export const page = 1;\n',
  };
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir.path, path)), { recursive: true });
    writeFileSync(join(dir.path, path), text);
  }
  copyFileSync(resolve(REPO_ROOT, 'tsconfig.base.json'), join(dir.path, 'tsconfig.base.json'));
  const r = cruise(dir.path, 'packages/hub/src');
  t.not(r.code, 0, 'the breaches fail the check');
  t.match(r.report, /no-circular: packages\/hub\/src\/alerts\/a\.ts/);
  t.match(r.report, /store-imports-no-feature: packages\/hub\/src\/store\/db\.ts → packages\/hub\/src\/backups\/x\.ts/);
  t.match(r.report, /core-imports-store-only: packages\/hub\/src\/core\/feed\.ts → packages\/hub\/src\/backups\/x\.ts/);
  t.match(r.report, /domain-not-on-presentation: packages\/hub\/src\/upstream\/send\.ts → packages\/hub\/src\/console\/page\.ts/);
});
