/**
 * Must show (issue 3, point 6 and point 5's restore): the running agent mirrors its repository to the
 * secondary server's folder, and that server restores from its copy with nothing else — no config,
 * no agent data, only the folder and the recovery code — through `sentinela-agent restore
 * --to-database`, into a new MariaDB database whose every table equals the source at backup time,
 * with the per-table row counts checked against the manifest.
 */
import t from 'tap';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { MasterKey, query, verifyObjects } from '@sentinela/agent';
import { hubWithEnrolledAgent, NEVER } from '@sentinela/tools/harness/fleet.js';
import { AGENT_BIN } from '@sentinela/tools/harness/paths.js';
import { runNode } from '@sentinela/tools/harness/process.js';
import { tempDir } from '@sentinela/tools/harness/tmp.js';
import { waitFor } from '@sentinela/tools/harness/wait.js';

type Generator = typeof import('../bench/backup/generate.js');
const gen = (await import(new URL('../../bench/dist/backup/generate.js', import.meta.url).href)) as Generator;

const OBSERVATIONS = 20_000;
const unique = (p: string) => `${p}_${process.pid}_${Date.now().toString(36)}`;
const snapshotsOn = (dir: string): string[] => (existsSync(join(dir, 'snapshots')) ? readdirSync(join(dir, 'snapshots')).filter((n) => /^\d{8}T/.test(n)) : []);

t.test('secondary server: the agent mirrors its backups there; the peer restores from its copy alone into a new database', async (t) => {
  const dir = tempDir('peer');
  t.teardown(dir.remove);
  const src = { dialect: 'mariadb' as const, conn: { host: '127.0.0.1', database: unique('sn_peer_src') } };
  const copy = { dialect: 'mariadb' as const, conn: { host: '127.0.0.1', database: unique('sn_peer_restored') } };
  t.teardown(() => gen.dropDatabase(src));
  t.teardown(() => gen.dropDatabase(copy));
  const counts = await gen.createClinicalDatabase(src, { observations: OBSERVATIONS, seed: 3 });

  const peerDir = join(dir.path, 'secondary', 'sentinela');
  mkdirSync(peerDir, { recursive: true });
  const media = join(dir.path, 'media'); // no USB disk: only the pass interval matters here
  mkdirSync(media);
  const { agent } = await hubWithEnrolledAgent(t, dir.path, 'hf-peer', {
    overrides: {
      backup: {
        sources: [{ name: 'emr', kind: 'mariadb', host: '127.0.0.1', database: src.conn.database, schedule: NEVER }],
        usb: { mountRoots: [media], pollSeconds: 1 },
        peer: { path: peerDir },
      },
    },
  });

  // A full snapshot, a small change, a delta: the peer must rebuild the delta through its base.
  const backup = async () => {
    const r = await agent.cli(['backup', '--source', 'emr', '--json']);
    t.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as Array<{ id: string; base: string | null; tables?: Record<string, number> }>)[0]!;
  };
  const first = await backup();
  await query('mariadb', src.conn, "UPDATE patients SET given_name = 'Amélia' WHERE id % 100 = 0");
  await query('mariadb', src.conn, "INSERT INTO encounters SELECT id + 1000000, patient_id, encounter_type, encounter_datetime, location, provider, notes FROM encounters WHERE id <= 25");
  const atBackup = await gen.tableChecksums(src);
  const second = await backup();
  t.equal(second.base, first.id, 'the second snapshot is a delta');
  t.equal(second.tables?.encounters, counts.encounters + 25, 'its manifest counts the rows added');

  // Labelled once the site's key exists (the first backup makes it), as an installer would do.
  const init = await agent.cli(['disk', 'init', peerDir, '--peer', '--label', 'servidor secundário']);
  t.equal(init.code, 0, init.stderr);
  t.match(init.stdout, /is now the secondary server's mirror folder/);
  await agent.start();
  t.teardown(() => agent.proc.stop());
  await waitFor('the secondary server to hold both snapshots', () => [first.id, second.id].every((id) => snapshotsOn(peerDir).includes(id)), 60_000, 200);
  t.same((await verifyObjects(peerDir)).problems, [], 'every object of the mirror checks out');

  // The peer alone: the agent stopped and its data gone; only the mirror folder and the recovery code.
  const code = MasterKey.load(join(agent.opts.dir, 'data', 'backup.key')).toRecoveryCode();
  await agent.proc.stop();
  rmSync(agent.opts.dir, { recursive: true, force: true });
  await query('mariadb', src.conn, 'DELETE FROM observations WHERE id % 7 = 0'); // the source is damaged meanwhile

  const args = ['restore', '--from', peerDir, '--recovery-code', code, '--source', 'emr', '--latest', '--to-database', copy.conn.database, '--host', '127.0.0.1'];
  const restored = await runNode(AGENT_BIN, args);
  t.equal(restored.code, 0, restored.stderr + restored.stdout);
  t.match(restored.stdout, new RegExp(`restored ${second.id} into`), 'the newest snapshot, the delta');
  // The final check prints expected and found rows per table, from the manifest and the new database.
  for (const table of gen.TABLES) {
    const row = restored.stdout.split('\n').find((l) => l.startsWith(`${table} `));
    const n = second.tables![table]!;
    t.match(row ?? '', new RegExp(`^${table}\\s+${n}\\s+${n}$`), `${table}: ${n} rows expected and found`);
  }
  t.match(restored.stdout, /check: OK/);
  t.same(await gen.tableChecksums(copy), atBackup, 'every table of the restored database equals the source at backup time');

  const again = await runNode(AGENT_BIN, args);
  t.equal(again.code, 1, 'never over an existing database without --force');
  t.match(again.stderr, /refused/);
});
