/**
 * Must show (issue 4, points 1–4): off-site backup sync over the agent's MQTT link, end to end, with
 * a real hub process, a real agent process, a real MariaDB and the throttling proxy in between.
 *
 * GovNet scaled down so the test runs in minutes: the link is 256 kbit/s (32,000 B/s) as in the
 * issue, but cut every CUT_SECONDS (default 20 s) instead of every few minutes, and the day-2
 * change is about 1.5 MB of stored bytes (about 50 s on the link) instead of a day's worth of a large clinic.
 */
import t from 'tap';
import net from 'node:net';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { extractTar } from '@sentinela/shared';
import { AgentHandle, HubHandle, NEVER } from '@sentinela/tools/harness/fleet.js';
import { ThrottledProxy } from '@sentinela/tools/harness/proxy.js';
import { AGENT_BIN } from '@sentinela/tools/harness/paths.js';
import { runNode } from '@sentinela/tools/harness/process.js';
import { tempDir, uniqueSiteId } from '@sentinela/tools/harness/tmp.js';
import { adminToken, backupNow, startOffsiteRig, diffCounters as diff, offsiteCounters as counters, offsiteLog } from '@sentinela/tools/harness/offsite.js';
import { waitFor } from '@sentinela/tools/harness/wait.js';

type Generator = typeof import('../bench/backup/generate.js');
const gen = (await import(new URL('../../bench/dist/backup/generate.js', import.meta.url).href)) as Generator;

const OBSERVATIONS = Number(process.env.SENTINELA_TEST_OFFSITE_OBSERVATIONS ?? 150_000);
const RATE = 32_000; // 256 kbit/s
const CUT_SECONDS = Number(process.env.SENTINELA_TEST_OFFSITE_CUT_SECONDS ?? 20);
const unique = (p: string) => `${p}_${process.pid}_${Date.now().toString(36)}`;
const echo = process.env.SENTINELA_TEST_ECHO ? (l: string) => process.stderr.write(`${l}\n`) : undefined;

t.test('day 2 over 256 kbit/s with cuts, a damaged piece, a hub restart and an event; then exported and restored equal to the source', async (t) => {
  const dir = tempDir('offsite');
  t.teardown(dir.remove);
  const src = { dialect: 'mariadb' as const, conn: { host: '127.0.0.1', database: unique('sn_off_src') } };
  const copies = ['api', 'cli', 'hub'].map((k) => ({ dialect: 'mariadb' as const, conn: { host: '127.0.0.1', database: unique(`sn_off_${k}`) } }));
  t.teardown(() => gen.dropDatabase(src));
  for (const c of copies) t.teardown(() => gen.dropDatabase(c));
  await gen.createClinicalDatabase(src, { observations: OBSERVATIONS, seed: 11 });

  const hub = await new HubHandle({ dir: join(dir.path, 'hub'), echo }).start();
  t.teardown(() => hub.proc.stop());
  const proxy = await new ThrottledProxy({ targetPort: hub.mqttPort }).start();
  t.teardown(() => proxy.close());
  const token = await adminToken(hub);

  // A service the agent watches: closing it raises an event in the middle of the upload.
  const lab = net.createServer((s) => s.destroy());
  await new Promise<void>((r) => lab.listen(0, '127.0.0.1', r));
  const labPort = (lab.address() as net.AddressInfo).port;
  t.teardown(() => lab.close());

  const siteId = uniqueSiteId('hf-off');
  const source = { kind: 'mariadb', name: 'emr', host: '127.0.0.1', database: src.conn.database, schedule: NEVER };
  const agent = new AgentHandle({
    dir: join(dir.path, 'agent'),
    siteId,
    mqttUrl: proxy.url,
    echo,
    overrides: {
      backup: { sources: [source] },
      offsite: { pieceBytes: 32 * 1024, pieceTimeoutSeconds: 15 },
      sampling: { intervalSeconds: 2, services: [{ name: 'lab', tcp: `127.0.0.1:${labPort}`, timeoutMs: 500 }] },
    },
  });
  await agent.enroll(hub.httpUrl, await hub.addSite(siteId));

  // Day 1 over the unthrottled proxy: the base the day-2 delta needs at the hub.
  const day1 = await backupNow(agent);
  await agent.start();
  t.teardown(() => agent.proc.stop());
  await agent.proc.waitForLog(`day 1 ${day1.id} off-site`, offsiteLog(day1.id), 180_000);
  t.pass(`day 1 (${day1.storedBytes} stored bytes) is off-site`);
  const escrowed = await waitFor('the key escrowed', () => agent.proc.findLog((l) => /holds the backup key in escrow/.test(l.msg ?? '')), 20_000);
  t.ok(escrowed, 'the agent deposited its key with the hub (sealed to the hub key)');

  // Day 2 over GovNet.
  proxy.setRate(RATE);
  await gen.applyDay2Change(src, { seed: 11, updateFraction: 0.002, appendFraction: 0.5 });
  const atBackup = await gen.tableChecksums(src);
  const before = counters(agent);
  const wire0 = proxy.bytesUp + proxy.bytesDown;
  const cuts0 = proxy.cuts;
  const day2 = await backupNow(agent);
  t.equal(day2.base, day1.id, 'day 2 is a delta on day 1');
  const started = Date.now();
  proxy.setCuts(CUT_SECONDS * 1000);
  proxy.corruptOnce(64 * 1024);
  t.comment(`day 2: ${day2.storedBytes} stored bytes to send at ${RATE} B/s with a cut every ${CUT_SECONDS} s`);

  // An event raised during the upload reaches the hub within seconds (before the upload ends).
  await waitFor('the upload to start', () => counters(agent).acked > before.acked + 2, 120_000);
  const closedAt = Date.now();
  await new Promise<void>((r) => lab.close(() => r()));
  type Ev = { code?: string; ts: string; receivedAt: string };
  const ev = await waitFor(
    'the service.down event at the hub',
    async () => (await hub.api<{ events: Ev[] }>(`/api/v1/sites/${siteId}/events?limit=50`, token)).events.find((e) => e.code === 'service.down' && Date.parse(e.ts) >= closedAt - 1000),
    120_000,
    200,
  );
  const held = await hub.api<{ offsite: Array<{ id: string }> }>(`/api/v1/sites/${siteId}/snapshots`, token);
  t.notOk(held.offsite.some((s) => s.id === day2.id), 'the event reached the hub while day 2 was still uploading');
  const latency = Date.parse(ev.receivedAt) - Date.parse(ev.ts);
  t.ok(latency < 60_000, `event latency ${latency} ms (raised ${ev.ts}, at the hub ${ev.receivedAt}; service closed ${Date.parse(ev.ts) - closedAt} ms before it was seen)`);
  t.comment(`event latency during the upload: ${latency} ms`);

  // The hub restarted mid-transfer: the transfer goes on from what the hub holds, not from zero.
  await waitFor('a third of day 2 at the hub', () => counters(agent).bytesSent - before.bytesSent > day2.storedBytes / 3, 300_000, 200);
  const oldHub = hub.proc;
  await hub.proc.stop();
  const restartedAt = Date.now();
  await hub.start();
  const resumed = await agent.proc.waitForLog(
    'the offer answered by the restarted hub',
    (l) => l.snapshot === day2.id && typeof l.resumeBytes === 'number' && Date.parse(String(l.time)) > restartedAt,
    120_000,
  );
  t.ok(Number(resumed.resumeBytes) > 0, `after the hub restart the transfer resumed after ${resumed.resumeBytes} bytes the hub already held (${resumed.toSend} left)`);

  await agent.proc.waitForLog(`day 2 ${day2.id} off-site`, offsiteLog(day2.id), 900_000);
  const seconds = (Date.now() - started) / 1000;
  proxy.setCuts(0);
  const c = diff(counters(agent), before);
  const wire = proxy.bytesUp + proxy.bytesDown - wire0;
  t.comment(
    `day 2 complete in ${seconds.toFixed(0)} s through ${proxy.cuts - cuts0} cuts and a hub restart: ${c.piecesSent} pieces sent, ${c.acked} acked, ${c.refused} refused, ${c.timedOut} timed out, ${c.resentAcked} acked pieces sent again; ${c.bytesSent} bytes of pieces for ${day2.storedBytes} stored; ${wire} bytes on the wire`,
  );
  t.ok(proxy.cuts - cuts0 >= 2, `the connection was cut ${proxy.cuts - cuts0} times during the transfer`);
  t.equal(c.resentAcked, 0, 'no acknowledged piece was ever sent again');
  // Receipts lost in a cut are not counted (the receiver's next `need` resumes past those pieces): the catalogue and
  // the restores below are what prove day 2 arrived whole.
  t.ok(c.acked > 0 && c.acked <= c.piecesSent, `pieces acked (${c.acked}) never exceed pieces sent (${c.piecesSent})`);
  t.ok(proxy.corrupted >= 1, 'the proxy flipped a byte in transit');
  // The flipped byte lands in a piece's bytes (its SHA-256 differs) or, rarely, in its header (not JSON): refused either way.
  const refusals = [...oldHub.logs(), ...hub.proc.logs()].filter((l) => /damaged in transit|refused a backup sync message/.test(l.msg ?? ''));
  t.ok(refusals.length >= 1, `the hub refused the damaged piece: ${refusals[0]?.msg ?? 'none'}`);
  t.ok(c.refused + c.timedOut >= 1, 'the damaged piece was sent again');

  const listed = await hub.api<{ offsite: Array<{ id: string; base: string | null; bytes: number }> }>(`/api/v1/sites/${siteId}/snapshots`, token);
  const row = listed.offsite.find((s) => s.id === day2.id);
  t.same(row && { base: row.base, bytes: row.bytes }, { base: day1.id, bytes: day2.storedBytes }, 'the hub catalogue lists day 2 with its base and size');

  // Export through the API (streamed tar, with the escrowed key) and restore on a bare machine.
  const exportDir = join(dir.path, 'export-api');
  const res = await fetch(`${hub.httpUrl}/api/v1/sites/${siteId}/snapshots/${day2.id}/export?key=1`, { headers: { authorization: `Bearer ${token}` } });
  t.equal(res.headers.get('content-type'), 'application/x-tar', 'the API streams a tar');
  let streamed = 0;
  await extractTar(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>), exportDir, (n) => (streamed = n));
  t.ok(existsSync(join(exportDir, 'backup.key')), 'the export holds the key from the escrow');
  const viaApi = await runNode(AGENT_BIN, ['restore', '--from', exportDir, '--snapshot', day2.id, '--to-database', copies[0]!.conn.database, '--host', '127.0.0.1', '--json']);
  t.equal(viaApi.code, 0, `restore from the API export (${streamed} bytes): ${viaApi.stderr.slice(-300)}`);
  t.same(await gen.tableChecksums(copies[0]!), atBackup, 'restored from the API export: every table equals the source at backup time');

  // The same through `sentinela-hub backups export`, with its progress on stderr.
  const cliDir = join(dir.path, 'export-cli');
  const exp = await hub.cli(['backups', 'export', '--site', siteId, '--snapshot', day2.id, '--with-key', '--out', cliDir]);
  t.equal(exp.code, 0, `sentinela-hub backups export: ${exp.stdout.trim()} ${exp.stderr.trim()}`);
  t.match(exp.stderr, /export: exporting objects \d+\/\d+ /, 'the CLI export shows progress');
  const viaCli = await runNode(AGENT_BIN, ['restore', '--from', cliDir, '--snapshot', day2.id, '--to-database', copies[1]!.conn.database, '--host', '127.0.0.1']);
  t.equal(viaCli.code, 0, `restore from the CLI export: ${viaCli.stderr.slice(-300)}`);
  t.same(await gen.tableChecksums(copies[1]!), atBackup, 'restored from the CLI export: every table equals the source at backup time');

  // A replacement server after fire or flood: fresh data dir, enrolled anew, restores from the hub with the escrowed key.
  await agent.proc.stop();
  const tok = await hub.cli(['sites', 'token', '--id', siteId, '--json']);
  t.equal(tok.code, 0, tok.stderr);
  const replacement = new AgentHandle({ dir: join(dir.path, 'replacement'), siteId, mqttUrl: hub.mqttUrl, overrides: { backup: { sources: [source] } } });
  await replacement.enroll(hub.httpUrl, (JSON.parse(tok.stdout) as { token: string }).token);
  t.notOk(existsSync(join(replacement.opts.dir, 'data', 'backup.key')), 'the replacement server has no key of its own');
  const fromHub = await replacement.cli(['restore', '--from', 'hub', '--source', 'emr', '--latest', '--to-database', copies[2]!.conn.database]);
  t.equal(fromHub.code, 0, `sentinela-agent restore --from hub: ${fromHub.stdout.slice(-400)} ${fromHub.stderr.slice(-400)}`);
  t.match(fromHub.stderr, /downloaded .* from the hub/, 'the download from the hub is reported');
  t.same(await gen.tableChecksums(copies[2]!), atBackup, 'restored from the hub on the replacement server: every table equals the source at backup time');
});

t.test('the rate cap and the sending windows of the agent config are honoured', async (t) => {
  const rig = await startOffsiteRig('offsite-rate', { echo });
  t.teardown(rig.close);
  const { hub, token, files } = rig;
  const proxy = rig.proxy!;
  writeFileSync(join(files, 'scan.bin'), randomBytes(320 * 1024)); // incompressible
  const siteId = uniqueSiteId('hf-rate');
  // A window that is closed now: two hours from now to three hours from now (local time).
  const hhmm = (d: Date) => `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
  const closed = `${hhmm(new Date(Date.now() + 2 * 3600_000))}-${hhmm(new Date(Date.now() + 3 * 3600_000))}`;
  const config = (offsite: Record<string, unknown>) => ({
    dir: join(rig.dir, 'agent'),
    siteId,
    mqttUrl: proxy.url,
    echo,
    overrides: { backup: { sources: [{ kind: 'files', name: 'scans', path: files, schedule: NEVER }] }, offsite },
  });
  let agent = new AgentHandle(config({ windows: [closed] }));
  await agent.enroll(hub.httpUrl, await hub.addSite(siteId));
  const snap = await backupNow(agent);
  await agent.start();
  t.teardown(() => agent.proc.stop());
  await agent.proc.waitForLog('the closed window', (l) => /outside the sending windows/.test(l.msg ?? ''), 30_000);
  const up0 = proxy.bytesUp;
  await new Promise((r) => setTimeout(r, 8000));
  t.equal(counters(agent).piecesSent, 0, `window ${closed} is closed: no piece sent`);
  t.ok(proxy.bytesUp - up0 < 20_000, `only status crossed the link while the window was closed (${proxy.bytesUp - up0} bytes)`);
  t.same((await hub.api<{ offsite: unknown[] }>(`/api/v1/sites/${siteId}/snapshots`, token)).offsite, [], 'the hub holds nothing');

  // Open windows, a cap of 16,000 B/s on an otherwise unlimited link.
  await agent.proc.stop();
  const cap = 16_000;
  agent = new AgentHandle(config({ rateBytesPerSecond: cap, windows: [] }));
  await agent.start();
  const need = await agent.proc.waitForLog('the offer answered', (l) => l.snapshot === snap.id && typeof l.toSend === 'number', 30_000);
  const done = await agent.proc.waitForLog(`${snap.id} off-site`, offsiteLog(snap.id), 120_000);
  const ms = Date.parse(String(done.time)) - Date.parse(String(need.time));
  const rate = (Number(need.toSend) / ms) * 1000;
  t.comment(`${need.toSend} bytes in ${ms} ms: ${rate.toFixed(0)} B/s under a cap of ${cap} B/s`);
  t.ok(rate <= cap * 1.15, `the cap holds: ${rate.toFixed(0)} B/s ≤ ${cap} B/s (+15 % for the first piece)`);
});
