/**
 * `sentinela-agent doctor` against real things: the machine's MariaDB and PostgreSQL, a real NUT
 * upsd (dummy-ups driver), a real hub over MQTT with TLS, a small tmpfs for a nearly full disk.
 * A healthy setup is all OK; each broken case gives its own finding.
 * The process harness lives in tools/ (built in the same `tsc -b` run, before the tests run).
 */
import t from 'tap';
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

const AGENT_BIN = fileURLToPath(new URL('../cli/main.js', import.meta.url));
const harness = (name: string) => import(new URL(`../../../../tools/dist/harness/${name}.js`, import.meta.url).href);
/* eslint-disable @typescript-eslint/no-explicit-any */
const { tempDir, uniqueSiteId } = (await harness('tmp')) as any;
const { HubHandle } = (await harness('fleet')) as any;
const { NutServer, NUT_USERS } = (await harness('nut')) as any;
const { freePort } = (await harness('tcp')) as any;
const { runDoctor, finding } = (await harness('doctor')) as any;
const { makeTestCerts } = (await harness('tls')) as any;

const dir = tempDir('doctor-agent') as { path: string; remove: () => void };
t.teardown(dir.remove);

/** A CA and a server certificate for localhost/127.0.0.1 valid `days` days, with the real openssl. */
type Report = { findings: Array<{ id: string; level: 'OK' | 'WARN' | 'FAIL'; what: string; fix?: { pt: string; en: string } }> };
const doctor = (config: object): Promise<{ code: number; report: Report; text: string }> => runDoctor(AGENT_BIN, dir.path, config);
const find = finding as (r: Report, id: string) => Report['findings'][number] | undefined;
const certs = (name: string, days: number) => makeTestCerts(join(dir.path, name), { days, caName: name });

const good = certs('good', 400);
const hub = await new HubHandle({ dir: join(dir.path, 'hub'), overrides: { mqtt: { tls: { certFile: good.certFile, keyFile: good.keyFile }, allowPlaintext: false } } }).start();
t.teardown(() => hub.proc.stop());
const siteId = uniqueSiteId('hf-doctor');
const token = await hub.addSite(siteId);
const nut = await new NutServer().start();
t.teardown(() => nut.stop());

// Backup users with the documented least-privilege grants (docs/operations.md, "Database rights").
const tag = `${process.pid}_${Date.now().toString(36)}`;
const myDb = `sn_doctor_${tag}`;
const myUser = `sn_bk_${tag}`;
const pgUser = `sn_bk_${tag}`;
const pwFile = join(dir.path, 'backup.pw');
writeFileSync(pwFile, 'backup-pw-1\n', { mode: 0o600 });
const my = (sql: string) => execFileSync('mariadb', ['-h', '127.0.0.1', '-u', 'root', '-e', sql], { stdio: 'pipe' });
const pg = (sql: string, db = 'postgres') => execFileSync('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-d', db, '-v', 'ON_ERROR_STOP=1', '-c', sql], { stdio: 'pipe' });
my(`CREATE DATABASE ${myDb}; CREATE TABLE ${myDb}.patients (id INT PRIMARY KEY); CREATE USER '${myUser}'@'%' IDENTIFIED BY 'backup-pw-1';
    GRANT SELECT, SHOW VIEW, TRIGGER, EVENT ON ${myDb}.* TO '${myUser}'@'%'; GRANT SELECT ON mysql.proc TO '${myUser}'@'%'; GRANT RELOAD ON *.* TO '${myUser}'@'%';`);
pg(`CREATE ROLE ${pgUser} LOGIN PASSWORD 'backup-pw-1'; GRANT pg_read_all_data TO ${pgUser};`);
t.teardown(() => {
  my(`DROP DATABASE IF EXISTS ${myDb}; DROP USER IF EXISTS '${myUser}'@'%';`);
  pg(`DROP ROLE IF EXISTS ${pgUser}`);
});

const dataDir = join(dir.path, 'data');
const base = {
  site: { id: siteId },
  dataDir,
  hub: { mqttUrl: `mqtts://localhost:${hub.mqttPort}`, caFile: good.caFile },
  backup: {
    sources: [
      { name: 'emr', kind: 'mariadb', host: '127.0.0.1', port: 3306, user: myUser, passwordFile: pwFile, database: myDb },
      { name: 'dhis', kind: 'postgres', host: '127.0.0.1', port: 5432, user: pgUser, passwordFile: pwFile, database: 'postgres' },
    ],
  },
  // dummy-ups offers no delayed outlet command (only load.off), so none is configured here
  power: { source: { kind: 'nut', host: '127.0.0.1', port: nut.port, ups: nut.ups, username: NUT_USERS.primary.username, passwordFile: nut.passwordFile('primary') }, outletCommands: [] },
};
// Enrol for real, so that the credentials check and the clock against the hub have something to read.
{
  mkdirSync(dataDir, { recursive: true });
  const cfg = join(dir.path, 'enrol.yaml');
  writeFileSync(cfg, stringify(base));
  execFileSync(process.execPath, [AGENT_BIN, 'enroll', '--config', cfg, '--hub', hub.httpUrl, '--token', token], { stdio: 'pipe' });
}

t.test('a healthy setup: every finding OK, exit 0', async (t) => {
  const { code, report, text } = await doctor(base);
  t.equal(code, 0, 'exit 0');
  if (code !== 0) t.comment(text);
  t.same(report.findings.filter((f) => f.level !== 'OK'), [], 'nothing to fix');
  for (const id of ['datadir', 'disk.data', 'outbox.schema', 'credentials', 'hub', 'clock', 'tool.mariadb-dump', 'tool.pg_dump', 'source.emr', 'source.dhis', 'source.emr.rights', 'source.dhis.rights', 'ups', 'ups.login', 'ups.outlets']) {
    t.equal(find(report, id)?.level, 'OK', `${id}: ${find(report, id)?.what}`);
  }
  t.match(find(report, 'hub')!.what, /TLS certificate .* valid until/);
  t.match(find(report, 'clock')!.what, /the hub \(http:\/\/127\.0\.0\.1:\d+\) says/);
  t.match(find(report, 'tool.mariadb-dump')!.what, /Ver|Distrib/);
  t.match(find(report, 'tool.pg_dump')!.what, /PostgreSQL/);
  t.match(find(report, 'ups')!.what, /status OL/);
  t.match(find(report, 'ups.login')!.what, /logged in to UPS fake as mon with primary rights \(FSD\)/);
  t.match(find(report, 'source.emr')!.what, /logged in/);
});

t.test("the backup user's rights: a missing read right FAILs with the grant to run, a right to write WARNs", async (t) => {
  my(`REVOKE SHOW VIEW, EVENT ON ${myDb}.* FROM '${myUser}'@'%'; REVOKE SELECT ON mysql.proc FROM '${myUser}'@'%';`);
  pg(`REVOKE pg_read_all_data FROM ${pgUser}; CREATE TABLE sn_doctor_${tag} (id int); CREATE TABLE sn_doctor_${tag}_b (id int); GRANT SELECT ON sn_doctor_${tag}_b TO ${pgUser}`);
  t.teardown(() => pg(`DROP TABLE IF EXISTS sn_doctor_${tag}, sn_doctor_${tag}_b`));
  const lacking = await doctor(base);
  t.equal(lacking.code, 1, 'exit 1');
  const myF = find(lacking.report, 'source.emr.rights')!;
  t.equal(myF.level, 'FAIL', myF.what);
  t.match(myF.what, /lacks SHOW VIEW on .*EVENT on .*SELECT on mysql\.proc/, 'MariaDB: every missing right is named');
  t.notMatch(myF.what, /TRIGGER/, 'and only those');
  t.match(myF.fix, { en: /GRANT SELECT, SHOW VIEW, TRIGGER, EVENT ON/ });
  const pgF = find(lacking.report, 'source.dhis.rights')!;
  t.equal(pgF.level, 'FAIL', pgF.what);
  t.match(pgF.what, new RegExp(`SELECT on \\d+ tables or sequences \\(.*sn_doctor_${tag}[,)]`), 'PostgreSQL: the unreadable table is named');
  t.notMatch(pgF.what, new RegExp(`sn_doctor_${tag}_b`), 'not the one it may read');
  t.match(pgF.fix, { en: /pg_read_all_data/ });

  my(`GRANT SHOW VIEW, EVENT, INSERT, DELETE ON ${myDb}.* TO '${myUser}'@'%'; GRANT SELECT ON mysql.proc TO '${myUser}'@'%';`);
  pg(`GRANT pg_read_all_data TO ${pgUser}; GRANT INSERT ON sn_doctor_${tag} TO ${pgUser}`);
  const excess = await doctor(base);
  t.match(find(excess.report, 'source.emr.rights'), { level: 'WARN', what: /more than a backup needs: INSERT, DELETE/ });
  t.match(find(excess.report, 'source.dhis.rights'), { level: 'WARN', what: new RegExp(`INSERT/UPDATE/DELETE on public\\.sn_doctor_${tag}`) });
  my(`REVOKE INSERT, DELETE ON ${myDb}.* FROM '${myUser}'@'%'`);
  pg(`REVOKE INSERT ON sn_doctor_${tag} FROM ${pgUser}`);

  // Without RELOAD the dump works, but FLUSH TABLES WITH READ LOCK cannot be had: no lost-rows counts for the drill.
  my(`REVOKE RELOAD ON *.* FROM '${myUser}'@'%'`);
  t.teardown(() => my(`GRANT RELOAD ON *.* TO '${myUser}'@'%'`));
  const noReload = await doctor(base);
  t.match(find(noReload.report, 'source.emr.rights'), { level: 'WARN', what: /lacks RELOAD: backups work, but .* a restore drill cannot detect a dump that lost rows/ });
  t.match(find(noReload.report, 'source.emr.rights')!.fix, { en: /GRANT RELOAD ON \*\.\* TO/, pt: /GRANT RELOAD ON \*\.\* TO/ });
});

t.test('database down: the source FAILs with a fix hint in both languages', async (t) => {
  const closed = await freePort();
  const { code, report } = await doctor({ ...base, backup: { sources: [{ ...base.backup.sources[0], port: closed }] } });
  t.equal(code, 1);
  const f = find(report, 'source.emr')!;
  t.equal(f.level, 'FAIL');
  t.match(f.what, `127.0.0.1:${closed} unreachable: ECONNREFUSED`);
  t.match(f.fix, { pt: /não responde/, en: /does not answer/ });
});

t.test('database up, wrong credentials: the login FAILs', async (t) => {
  const { code, report } = await doctor({ ...base, backup: { sources: [{ ...base.backup.sources[0], user: 'nobody_here' }] } });
  t.equal(code, 1);
  t.match(find(report, 'source.emr'), { level: 'FAIL', what: /answers but the login failed/ });
});

t.test('UPS daemon absent: ups FAILs', async (t) => {
  const closed = await freePort();
  const { code, report } = await doctor({ ...base, power: { source: { kind: 'nut', host: '127.0.0.1', port: closed, ups: 'fake' } } });
  t.equal(code, 1);
  t.match(find(report, 'ups'), { level: 'FAIL', what: /upsd \(NUT\) at 127\.0\.0\.1:\d+ unreachable/ });
  t.match(find(report, 'ups')!.fix, { pt: /O serviço da UPS .* não responde .*systemctl status nut-server/, en: /The UPS daemon .* does not answer .*systemctl status nut-server/ });
  t.same(report.findings.filter((f) => f.level !== 'OK').map((f) => f.id), ['ups'], 'and nothing else is wrong');
});

t.test('issue 18 item 8: upsd refuses the login (wrong password, no upsmon line, no primary rights): ups.login FAILs and says why', async (t) => {
  const src = base.power.source;
  const wrong = join(dir.path, 'wrong.password');
  writeFileSync(wrong, 'not-the-password\n', { mode: 0o600 });
  const cases: Array<[string, object, RegExp]> = [
    ['wrong password', { ...src, passwordFile: wrong }, /upsd refused the login of mon to UPS fake \(ERR ACCESS-DENIED\): wrong password, or no "upsmon" line/],
    ['no upsmon line', { ...src, username: NUT_USERS.nomon.username, passwordFile: nut.passwordFile('nomon') }, /upsd refused the login of nomon/],
    ['a secondary user as primary', { ...src, username: NUT_USERS.viewer.username, passwordFile: nut.passwordFile('viewer') }, /viewer may log in but is not "upsmon primary" .* could not raise FSD/],
  ];
  for (const [what, source, why] of cases) {
    const { code, report } = await doctor({ ...base, power: { ...base.power, source } });
    t.equal(code, 1, `${what}: exit 1`);
    t.match(find(report, 'ups.login'), { level: 'FAIL', what: why, fix: { pt: /upsd\.users/, en: /upsd\.users/ } }, what);
    t.equal(find(report, 'ups')?.level, 'OK', `${what}: the UPS itself is read`);
  }
  const sec = await doctor({ ...base, power: { ...base.power, role: 'secondary', source: { ...src, username: NUT_USERS.viewer.username, passwordFile: nut.passwordFile('viewer') } } });
  t.equal(find(sec.report, 'ups.login')?.level, 'OK', 'a secondary needs no primary rights');
  const outlets = await doctor({ ...base, power: { ...base.power, outletCommands: ['shutdown.return', 'load.off.delay'] } });
  t.match(find(outlets.report, 'ups.outlets'), { level: 'WARN', what: /offers none of power\.outletCommands \(shutdown\.return, load\.off\.delay\); it offers load\.off/ }, 'LIST CMD is checked');
});

t.test('hub unreachable: FAIL with the network to check (the outbox keeps the messages meanwhile)', async (t) => {
  const closed = await freePort();
  const { code, report } = await doctor({ ...base, hub: { ...base.hub, mqttUrl: `mqtts://localhost:${closed}` } });
  t.equal(code, 1);
  t.match(find(report, 'hub'), { level: 'FAIL', what: `hub MQTT localhost:${closed} unreachable: ECONNREFUSED` });
  t.match(find(report, 'hub')!.fix, { pt: /Sem ligação ao hub .*GovNet.*ficam em fila/, en: /cannot be reached.*GovNet.*messages queue/ });
  t.same(report.findings.filter((f) => f.level !== 'OK').map((f) => f.id), ['hub'], 'and nothing else is wrong');
});

t.test("hub certificate not signed by the configured CA: FAIL", async (t) => {
  const other = certs('other', 400);
  const { code, report } = await doctor({ ...base, hub: { ...base.hub, caFile: other.caFile } });
  t.equal(code, 1);
  t.match(find(report, 'hub'), { level: 'FAIL', what: /not trusted/ });
});

t.test('credentials readable by others: FAIL with the chmod to run', async (t) => {
  const cred = join(dataDir, 'credentials.json');
  chmodSync(cred, 0o644);
  t.teardown(() => chmodSync(cred, 0o600));
  const { code, report } = await doctor(base);
  t.equal(code, 1);
  t.match(find(report, 'credentials'), { level: 'FAIL', what: /mode 0644/, fix: { en: /chmod 0600/ } });
});

t.test('disk almost full (a 4 MiB tmpfs): WARN under 10 %, FAIL under 5 %', async (t) => {
  const mnt = join(dir.path, 'small');
  mkdirSync(mnt);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mnt]);
  t.teardown(() => execFileSync('umount', [mnt]));
  const data = join(mnt, 'data');
  mkdirSync(data);
  const cfg = { ...base, dataDir: data, hub: { ...base.hub, credentialsFile: join(dataDir, 'credentials.json') }, backup: undefined, power: undefined };

  writeFileSync(join(mnt, 'fill'), Buffer.alloc(Math.round(4 * 1024 * 1024 * 0.92)));
  const w = await doctor(cfg);
  t.match(find(w.report, 'disk.data'), { level: 'WARN', what: /under 10 %/ });
  t.equal(w.code, 0);

  writeFileSync(join(mnt, 'fill'), Buffer.alloc(Math.round(4 * 1024 * 1024 * 0.97)));
  const f = await doctor(cfg);
  t.match(find(f.report, 'disk.data'), { level: 'FAIL', what: /under 5 %/, fix: { pt: /Liberte espaço/, en: /Free space/ } });
  t.equal(f.code, 1);
});

t.test('the text report: one line per finding, fixes in pt and en', async (t) => {
  const closed = await freePort();
  const file = join(dir.path, 'text.yaml');
  writeFileSync(file, stringify({ ...base, power: { source: { kind: 'nut', host: '127.0.0.1', port: closed, ups: 'fake' } } }));
  const out = await new Promise<string>((resolve) => execFile(process.execPath, [AGENT_BIN, 'doctor', '--config', file], (_e, stdout) => resolve(stdout)));
  t.match(out, /^FAIL  ups +upsd \(NUT\)/m);
  t.match(out, /^ +pt: O serviço da UPS/m);
  t.match(out, /^ +en: The UPS daemon/m);
  t.match(out, /\d+ ok, \d+ warnings, 1 failures/);
});
