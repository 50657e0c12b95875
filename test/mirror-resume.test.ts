/**
 * Issue 19: the DPS hub mirrors backups to the MoH hub with the agent's sender. Real processes
 * behind the throttling proxy (a 100 ms round trip): with the MoH hub's receipts held back, the
 * DPS hub has more than one piece and at most `inflightPieces` pieces unacknowledged (a window,
 * not one piece per round trip); killed mid-transfer and started again, it resumes each object
 * where the MoH hub stopped, sends only what the MoH hub lacks, and never sends a piece the MoH
 * hub had acknowledged (its upstream-backups.json says so across the restart).
 */
import t from 'tap';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { AgentHandle, HubHandle } from '@sentinela/tools/harness/fleet.js';
import type { LogLine } from '@sentinela/tools/harness/process.js';
import { ThrottledProxy } from '@sentinela/tools/harness/proxy.js';
import { tempDir, uniqueSiteId } from '@sentinela/tools/harness/tmp.js';
import { sleep, waitFor } from '@sentinela/tools/harness/wait.js';

const PIECE = 16 * 1024;
const INFLIGHT = 4;

interface Snapshots {
  offsite: Array<{ id: string; bytes: number }>;
}

/** Bytes of a folder's files, all levels. */
function folderBytes(dir: string): number {
  if (!existsSync(dir)) return 0;
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) n += e.isDirectory() ? folderBytes(join(dir, e.name)) : statSync(join(dir, e.name)).size;
  return n;
}

t.test('the DPS hub mirrors with a window of pieces and resumes after a restart without resending what the MoH hub acknowledged', async (t) => {
  const dir = tempDir('mirror-resume');
  t.teardown(dir.remove);
  const province = 'gaza';
  const moh = await new HubHandle({ dir: join(dir.path, 'moh'), hubId: 'moh' }).start();
  t.teardown(() => moh.proc.stop());
  const added = await moh.cli(['relays', 'add', '--id', 'dps-gaza', '--province', province, '--json']);
  t.equal(added.code, 0, `relays add: ${added.stderr}`);
  const secretFile = join(dir.path, 'relay.secret');
  writeFileSync(secretFile, `${(JSON.parse(added.stdout) as { secret: string }).secret}\n`, { mode: 0o600 });
  const proxy = await new ThrottledProxy({ targetPort: moh.mqttPort }).start();
  t.teardown(() => proxy.close());

  const dps = new HubHandle({
    dir: join(dir.path, 'dps'),
    hubId: 'dps-gaza',
    overrides: { upstream: { url: proxy.url, relayId: 'dps-gaza', province, pollSeconds: 0.2, backups: { everySeconds: 1, pieceBytes: PIECE, inflightPieces: INFLIGHT, pieceTimeoutSeconds: 120 } } },
  });
  const enrol = await dps.cli(['upstream', 'enrol', '--secret-file', secretFile]);
  t.equal(enrol.code, 0, `upstream enrol: ${enrol.stderr}`);
  await moh.proc.stop(); // down while the site backs up: the DPS hub holds the snapshot when it returns
  await dps.start();
  t.teardown(() => dps.proc.stop());

  const siteId = uniqueSiteId('hf-res');
  const src = join(dir.path, 'files');
  mkdirSync(src, { recursive: true });
  for (let i = 0; i < 4; i++) writeFileSync(join(src, `f${i}.bin`), randomBytes(150_000)); // incompressible: ~600 KB stored
  const agent = new AgentHandle({ dir: join(dir.path, 'agent'), siteId, mqttUrl: dps.mqttUrl, overrides: { backup: { sources: [{ kind: 'files', name: 'data', path: src }] }, offsite: {} } });
  await agent.enroll(dps.httpUrl, await dps.addSite(siteId, ['--province', province]));
  const backup = await agent.cli(['backup']);
  t.equal(backup.code, 0, `agent backup: ${backup.stderr}`);
  await agent.start();
  const dpsToken = await dps.addApiToken('test');
  const snap = await waitFor('the snapshot at the DPS hub', async () => (await dps.api<Snapshots>(`/api/v1/sites/${siteId}/snapshots`, dpsToken)).offsite[0], 60_000);
  await agent.proc.stop();

  // A slow provincial link, so that the transfer is under way for long enough to look at it.
  proxy.setRate(40_000);
  proxy.setLatency(50);
  await moh.start();
  t.teardown(() => moh.proc.stop());

  const progressFile = join(dir.path, 'dps', 'data', 'upstream-backups.json');
  const dpsAcked = (): number => {
    if (!existsSync(progressFile)) return 0;
    const saved = JSON.parse(readFileSync(progressFile, 'utf8')) as { acked: Record<string, number> };
    return Object.entries(saved.acked).reduce((n, [k, v]) => (k.startsWith(`${siteId}/`) ? n + v : n), 0);
  };
  const mohData = join(dir.path, 'moh', 'data', 'backups');
  const mohHeld = () => folderBytes(join(mohData, siteId, 'objects')) + folderBytes(join(mohData, '.partial', siteId));
  await waitFor('the MoH hub acknowledging some pieces', () => dpsAcked() >= 4 * PIECE || null, 120_000);

  // The MoH hub's receipts held back: the DPS hub fills its window, then waits.
  proxy.stall('down', true);
  let held = -1;
  await waitFor('the pieces in flight to settle at the MoH hub', async () => {
    const now = mohHeld();
    const still = now === held;
    held = now;
    await sleep(1500);
    return still || null;
  }, 60_000, 0);
  const window = held - dpsAcked();
  t.ok(window > PIECE, `more than one piece was unacknowledged at once: ${window} bytes (pieces of ${PIECE})`);
  t.ok(window <= INFLIGHT * PIECE, `and at most inflightPieces (${INFLIGHT}) of them: ${window} bytes`);

  // Killed with the window open, then started again.
  await dps.proc.kill();
  proxy.stall('down', false);
  const before = JSON.parse(readFileSync(progressFile, 'utf8')) as { counters: { piecesSent: number } };
  t.ok(before.counters.piecesSent > 0, `the DPS hub recorded ${before.counters.piecesSent} pieces sent before it was killed`);
  await dps.start();

  const isNeed = (l: LogLine) => l.snapshot === snap.id && typeof l.toSend === 'number';
  const done = await dps.proc.waitForLog('the snapshot held by the MoH hub', (l) => l.snapshot === snap.id && typeof l.sentBytes === 'number', 180_000);
  const need = dps.proc.findLog(isNeed)!;
  t.equal(need.toSend, snap.bytes - held, `after the restart the MoH hub lacked ${String(need.toSend)} of ${snap.bytes} bytes: all it had stored was kept`);
  t.equal(done.sentBytes, need.toSend, 'only what the MoH hub lacked crossed after the restart');
  const counters = done.counters as { resentAcked: number; piecesSent: number };
  t.equal(counters.resentAcked, 0, 'no piece the MoH hub had acknowledged was sent again, across the restart');
  t.ok(counters.piecesSent > before.counters.piecesSent, 'the counters go on from the saved ones');

  const mohToken = await moh.addApiToken('test');
  const mohSnap = await waitFor('the snapshot at the MoH hub', async () => (await moh.api<Snapshots>(`/api/v1/sites/${siteId}/snapshots`, mohToken)).offsite[0], 30_000);
  t.same({ id: mohSnap.id, bytes: mohSnap.bytes }, { id: snap.id, bytes: snap.bytes }, 'the MoH hub holds the same snapshot, of the same size');
});
