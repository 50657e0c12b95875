/**
 * Issue 16, item 1: a PostgreSQL source drilled row by row like MariaDB, and the hub's off-site
 * copy drilled like the local ones. The real PostgreSQL on this machine is the source; the drill
 * starts its own throwaway server (initdb + postgres on a unix socket, no network; as the postgres
 * system user when the test runs as root), restores the newest snapshot from the spool and from the
 * hub (downloaded first), checks every table's row count and row checksum (the restored copy dumped
 * again with pg_dump), and a folder's every file against its SHA-256 in the manifest. Nothing of the
 * scratch server is left afterwards.
 */
import t from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hubWithEnrolledAgent, NEVER } from '@sentinela/tools/harness/fleet.js';
import { offsiteLog } from '@sentinela/tools/harness/offsite.js';
import { tempDir } from '@sentinela/tools/harness/tmp.js';

type Generator = typeof import('../bench/backup/generate.js');
const gen = (await import(new URL('../../bench/dist/backup/generate.js', import.meta.url).href)) as Generator;

interface Result {
  source: string;
  kind: string;
  location: string;
  snapshot: string | null;
  ok: boolean;
  problems: string[];
  rtoSeconds: number;
}

const tag = `${process.pid.toString(36)}${randomBytes(2).toString('hex')}`;
const leftovers = () => readdirSync(tmpdir()).filter((n) => n.startsWith('sentinela-drill-'));

t.test('a PostgreSQL source and a folder drilled from the spool and from the hub: every row and every file checked', async (t) => {
  const dir = tempDir('drill-pg');
  t.teardown(dir.remove);
  const src = { dialect: 'postgres' as const, conn: { host: '127.0.0.1', user: 'postgres', database: `sn_drillpg_${tag}` } };
  t.teardown(() => gen.dropDatabase(src));
  const counts = await gen.createClinicalDatabase(src, { observations: 4000, seed: 3 });
  const scans = join(dir.path, 'scans');
  mkdirSync(join(scans, 'lab'), { recursive: true });
  writeFileSync(join(scans, 'lab', 'resultado-001.txt'), 'CV: indetectável\n');
  writeFileSync(join(scans, 'consentimento.bin'), randomBytes(300_000));
  const before = new Set(leftovers());

  const { agent } = await hubWithEnrolledAgent(t, dir.path, 'hf-drillpg', {
    overrides: {
      backup: {
        sources: [
          { name: 'emr', kind: 'postgres', host: '127.0.0.1', user: 'postgres', database: src.conn.database, schedule: NEVER },
          { name: 'scans', kind: 'files', path: scans, schedule: NEVER },
        ],
      },
      offsite: {},
    },
  });
  const backup = await agent.cli(['backup', '--json']);
  t.equal(backup.code, 0, backup.stderr);
  const snaps = JSON.parse((await agent.cli(['snapshots', '--json'])).stdout) as Array<{
    id: string;
    source: string;
    tables?: Record<string, number>;
    tableSums?: Record<string, string>;
    files?: Array<{ path: string; sha256?: string }>;
  }>;
  const emr = snaps.find((s) => s.source === 'emr')!;
  const files = snaps.find((s) => s.source === 'scans')!;
  t.same(emr.tables, Object.fromEntries(Object.entries(counts)), 'the manifest records the row count of every table');
  t.same(Object.keys(emr.tableSums ?? {}).sort(), [...gen.TABLES].sort(), 'and a checksum of the rows of every PostgreSQL table');
  const sha = (p: string) => createHash('sha256').update(readFileSync(join(scans, p))).digest('hex');
  t.same(
    (files.files ?? []).map((f) => [f.path, f.sha256]).sort(),
    [
      ['consentimento.bin', sha('consentimento.bin')],
      ['lab/resultado-001.txt', sha('lab/resultado-001.txt')],
    ],
    'the manifest records the SHA-256 of every file of the folder',
  );
  await agent.start();
  for (const s of [emr, files]) await agent.proc.waitForLog(`${s.id} off-site`, offsiteLog(s.id), 180_000);
  await agent.proc.stop();

  const r = await agent.cli(['drill', '--json']);
  const report = JSON.parse(r.stdout || '{}') as { ok: boolean; versions: Record<string, string>; results: Result[] };
  t.equal(r.code, 0, `the drill passes: ${r.stderr}`);
  t.same(
    report.results.map((x) => [x.source, x.location, x.snapshot, x.ok]),
    [
      ['emr', 'spool', emr.id, true],
      ['scans', 'spool', files.id, true],
      ['emr', 'hub', emr.id, true],
      ['scans', 'hub', files.id, true],
    ],
    'the newest snapshot of each source restored from the spool and from the hub, each checked',
  );
  t.match(report.versions.postgres ?? '', /^\d+\.\d+/, `the scratch PostgreSQL server's version is in the report (${report.versions.postgres})`);
  for (const x of report.results) t.ok(x.rtoSeconds > 0, `${x.source} from ${x.location}: RTO ${x.rtoSeconds} s`);
  t.notOk(existsSync(join(agent.opts.dir, 'data', 'drills', 'scratch')), 'no scratch copy is left in the data folder');
  t.same(leftovers().filter((n) => !before.has(n)), [], 'nor a scratch server data folder in the temp folder');

  const only = await agent.cli(['drill', '--from', 'hub', '--source', 'emr', '--json']);
  t.equal(only.code, 0, `--from hub drills the hub's copy alone: ${only.stderr}`);
  t.same((JSON.parse(only.stdout) as { results: Result[] }).results.map((x) => x.location), ['hub']);
});
