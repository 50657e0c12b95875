/**
 * Issue 16 item 5: real-world database rights. The source is backed up by a user holding only the
 * documented read grants. Restore never falls back to that user's password file: it takes its own
 * admin (--user, --password-file) or the client's default; a user that may not create the target
 * database gets one clear line with what to do (exit 1), never a stack trace.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { AgentHandle, NEVER } from '@sentinela/tools/harness/fleet.js';
import { tempDir } from '@sentinela/tools/harness/tmp.js';

type Generator = typeof import('../bench/backup/generate.js');
const gen = (await import(new URL('../../bench/dist/backup/generate.js', import.meta.url).href)) as Generator;

const tag = `${process.pid.toString(36)}${randomBytes(2).toString('hex')}`;
const my = (sql: string) => execFileSync('mariadb', ['-h', '127.0.0.1', '-u', 'root', '-e', sql], { stdio: 'pipe' });
const noStack = (s: string) => !/\n\s+at .+:\d+:\d+/.test(s);

t.test('restore takes its own admin, never the backup user silently; a missing right is one line', async (t) => {
  const dir = tempDir('restore-rights');
  t.teardown(dir.remove);
  const src = { dialect: 'mariadb' as const, conn: { host: '127.0.0.1', database: `sn_rights_${tag}` } };
  const target = { dialect: 'mariadb' as const, conn: { host: '127.0.0.1', database: `sn_rights_${tag}_restored` } };
  const user = `sn_bk_${tag}`;
  await gen.createClinicalDatabase(src, { observations: 2000, seed: 2 });
  my(`CREATE USER '${user}'@'%' IDENTIFIED BY 'bk-pw-7'; GRANT SELECT, SHOW VIEW, TRIGGER, EVENT ON ${src.conn.database}.* TO '${user}'@'%'; GRANT SELECT ON mysql.proc TO '${user}'@'%';`);
  t.teardown(async () => {
    my(`DROP USER IF EXISTS '${user}'@'%'`);
    await gen.dropDatabase(src);
    await gen.dropDatabase(target);
  });
  const pw = join(dir.path, 'backup.pw');
  writeFileSync(pw, 'bk-pw-7\n', { mode: 0o600 });
  const agent = new AgentHandle({
    dir: join(dir.path, 'agent'),
    siteId: 'hf-rights',
    mqttUrl: 'mqtt://127.0.0.1:1',
    overrides: { backup: { sources: [{ name: 'emr', kind: 'mariadb', host: '127.0.0.1', user, passwordFile: pw, database: src.conn.database, schedule: NEVER }] } },
  });
  const backup = await agent.cli(['backup']);
  t.equal(backup.code, 0, `the backup user's read grants are enough to back up: ${backup.stderr.slice(-300)}`);
  const restore = (extra: string[]) => agent.cli(['restore', '--source', 'emr', '--latest', '--to-database', target.conn.database, ...extra]);

  const noPassword = await restore(['--user', user]);
  t.equal(noPassword.code, 1, '--user without --password-file: exit 1');
  t.match(noPassword.stderr, /using password: NO/, "the source's password file was not used behind the user's back");
  t.match(noPassword.stderr, /without --password-file/, 'and restore said it connects without a password');

  const backupUser = await restore(['--user', user, '--password-file', pw]);
  t.equal(backupUser.code, 1, 'the backup user cannot create the database: exit 1');
  const lines = backupUser.stderr.trim().split('\n').filter((l) => l.startsWith('sentinela-agent restore:'));
  t.equal(lines.length, 1, `one line says why: ${lines[0]}`);
  t.match(lines[0], /1044.*restore needs an admin of the server: --user ADMIN --password-file FILE/, 'with what to do');
  t.ok(noStack(backupUser.stderr), 'no stack trace');

  const bad = await agent.cli(['restore', '--source', 'emr', '--latest', '--to-database', target.conn.database, '--password-file', join(dir.path, 'missing.pw')]);
  t.equal(bad.code, 1, 'a missing password file: exit 1');
  t.match(bad.stderr, /^sentinela-agent restore: .*missing\.pw/m, 'one line naming the file');
  t.ok(noStack(bad.stderr), 'no stack trace');

  const admin = await restore([]);
  t.equal(admin.code, 0, `without --user, the client's default admin (root here) restores: ${admin.stderr.slice(-300)}`);
  t.match(admin.stdout, /check: OK/);
  t.same(await gen.tableChecksums(target), await gen.tableChecksums(src), 'every table restored equals the source');
});
