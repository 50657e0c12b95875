/**
 * `sentinela-hub doctor` against a real hub process: healthy (all OK), stopped (listeners WARN),
 * a certificate near expiry (WARN), a private key readable by others (FAIL), a database written by
 * a newer release (FAIL), a nearly full disk (a 4 MiB tmpfs: FAIL).
 * The process harness lives in tools/ (built in the same `tsc -b` run, before the tests run).
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { MIGRATIONS } from '../database.js';

const HUB_BIN = fileURLToPath(new URL('../cli/main.js', import.meta.url));
const harness = (name: string) => import(new URL(`../../../../tools/dist/harness/${name}.js`, import.meta.url).href);
/* eslint-disable @typescript-eslint/no-explicit-any */
const { tempDir } = (await harness('tmp')) as any;
const { HubHandle } = (await harness('fleet')) as any;
const { runDoctor, finding } = (await harness('doctor')) as any;
const { makeTestCerts } = (await harness('tls')) as any;

const dir = tempDir('doctor-hub') as { path: string; remove: () => void };
t.teardown(dir.remove);

type Report = { findings: Array<{ id: string; level: 'OK' | 'WARN' | 'FAIL'; what: string; fix?: { pt: string; en: string } }> };
const doctor = (config: object): Promise<{ code: number; report: Report; text: string }> => runDoctor(HUB_BIN, dir.path, config);
const find = finding as (r: Report, id: string) => Report['findings'][number] | undefined;
const certs = (name: string, days: number) => {
  const { certFile, keyFile } = makeTestCerts(join(dir.path, name), { days, caName: name });
  return { certFile, keyFile };
};

const tls = certs('good', 400);
const hub = await new HubHandle({ dir: join(dir.path, 'hub'), overrides: { mqtt: { tls, allowPlaintext: false } } }).start();
t.teardown(() => hub.proc.stop());
const config = {
  hubId: 'doctor-hub',
  dataDir: join(dir.path, 'hub', 'data'),
  mqtt: { listen: { host: '127.0.0.1', port: hub.mqttPort }, tls },
  http: { listen: { host: '127.0.0.1', port: hub.httpPort } },
};

t.test('a healthy, running hub: every finding OK, exit 0', async (t) => {
  const { code, report, text } = await doctor(config);
  t.equal(code, 0, 'exit 0');
  if (code !== 0) t.comment(text);
  t.same(report.findings.filter((f) => f.level !== 'OK'), [], 'nothing to fix');
  for (const id of ['datadir', 'disk.data', 'db.schema', 'tls.mqtt.cert', 'tls.mqtt.key', 'listen.mqtt', 'listen.http', 'clock']) t.equal(find(report, id)?.level, 'OK', id);
  t.match(find(report, 'listen.http')!.what, /answers \/healthz/);
  t.match(find(report, 'db.schema')!.what, `schema ${MIGRATIONS.length}`);
});

t.test('a certificate near expiry is a warning; a private key readable by others a failure', async (t) => {
  const soon = certs('soon', 3);
  chmodSync(soon.keyFile, 0o640);
  const { code, report } = await doctor({ ...config, mqtt: { ...config.mqtt, tls: soon } });
  t.equal(code, 1);
  t.match(find(report, 'tls.mqtt.cert'), { level: 'WARN', what: /expires in [0-3] days/ });
  t.match(find(report, 'tls.mqtt.key'), { level: 'FAIL', what: /mode 0640/, fix: { en: /chmod 0600/ } });
});

t.test('a database written by a newer hub: FAIL, the data left alone', async (t) => {
  const data = join(dir.path, 'newer');
  mkdirSync(data);
  const db = new Database(join(data, 'hub.db'));
  db.exec('CREATE TABLE sites (id TEXT)');
  db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
  db.close();
  const { code, report } = await doctor({ ...config, dataDir: data });
  t.equal(code, 1);
  t.match(find(report, 'db.schema'), { level: 'FAIL', what: /newer than this hub/, fix: { pt: /Reinstale/ } });
});

t.test('disk almost full (a 4 MiB tmpfs): FAIL under 5 %', async (t) => {
  const mnt = join(dir.path, 'small');
  mkdirSync(mnt);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mnt]);
  t.teardown(() => execFileSync('umount', [mnt]));
  mkdirSync(join(mnt, 'data'));
  writeFileSync(join(mnt, 'fill'), Buffer.alloc(Math.round(4 * 1024 * 1024 * 0.97)));
  const { code, report } = await doctor({ ...config, dataDir: join(mnt, 'data') });
  t.equal(code, 1);
  t.match(find(report, 'disk.data'), { level: 'FAIL', what: /under 5 %/ });
});

t.test('the hub stopped: its listeners are warnings with the command to look', async (t) => {
  await hub.proc.stop();
  const { code, report } = await doctor(config);
  t.equal(code, 0);
  t.match(find(report, 'listen.mqtt'), { level: 'WARN', what: /ECONNREFUSED/, fix: { en: /systemctl status sentinela-hub/ } });
  t.match(find(report, 'listen.http'), { level: 'WARN' });
});
