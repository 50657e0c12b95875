/**
 * Import rules of the hub and the agent (issue 19), checked by test/import-rules.test.ts in
 * `npm test`. Layers of the hub, bottom up:
 *   store/                          the database: tables, migrations, queries; imports no feature
 *   core/                           the fleet core (site state, status sections, change feed,
 *                                   history): imports only store/ and @sentinela/shared
 *   alerts/ backups/ upstream/ users/ ingest/ broker/ limits/ doctor/ http/   domain features
 *                                   and the neutral HTTP plumbing they share
 *   api/ console/ cli/              presentation: may import everything below, nothing imports them
 *   hub.ts modules.ts database.ts … the composition root (files at the top of src/)
 * Test helpers are named *.test-support.ts (installers/build.sh leaves them out of the bundle).
 * Run by hand: npx depcruise --config .dependency-cruiser.cjs packages/hub/src packages/agent/src
 */
const HUB = '^packages/hub/src/';
const PRESENTATION = `${HUB}(api|console|cli)/`;

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'An import circle: the modules on it cannot be read, tested or moved one at a time.',
      severity: 'error',
      from: { path: '^packages/(hub|agent)/src/' },
      to: { circular: true },
    },
    {
      name: 'store-imports-no-feature',
      comment: 'store/ is the bottom layer: a feature contributes its migrations through its HubModule (src/module.ts).',
      severity: 'error',
      from: { path: `${HUB}store/` },
      to: { path: HUB, pathNot: `${HUB}store/` },
    },
    {
      name: 'core-imports-store-only',
      comment: 'The fleet core reads the store and the shared schemas, nothing above them.',
      severity: 'error',
      from: { path: `${HUB}core/` },
      to: { path: HUB, pathNot: `${HUB}(core|store)/` },
    },
    {
      name: 'domain-not-on-presentation',
      comment: 'Domain code must not depend on presentation: nothing outside api/, console/ and cli/ imports them (the composition root at the top of src/ excepted).',
      severity: 'error',
      from: { path: HUB, pathNot: [PRESENTATION, `${HUB}[^/]+$`, '\\.test-support\\.ts$'] },
      to: { path: PRESENTATION },
    },
    {
      name: 'domain-not-on-the-root',
      comment: 'hub.ts, modules.ts, database.ts and index.ts assemble the parts: a part that imports them makes a circle in waiting (presentation may open the database).',
      severity: 'error',
      from: { path: HUB, pathNot: [PRESENTATION, `${HUB}[^/]+$`, '\\.test-support\\.ts$', '\\.test\\.ts$'] },
      to: { path: `${HUB}(hub|index|modules|database)\\.ts$` },
    },
  ],
  options: {
    // Type-only imports count: a layer that needs another's types depends on it all the same.
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['/dist/', 'node_modules'] },
    tsConfig: { fileName: 'tsconfig.base.json' },
  },
};
