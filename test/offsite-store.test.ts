/**
 * Must show (issue 4, points 1 and 3): the hub's off-site store with real hub and agent processes.
 * An agent killed (SIGKILL) mid-transfer resumes where the hub's acknowledged bytes end; a site over
 * its quota is refused, logged and told, and keeps what it has; retention keeps the newest
 * `keepLast` snapshots and the bases their deltas need, and every kept one still restores; a byte
 * flipped in the store is found without the site key, marked, and its snapshot refused for export.
 *
 * Sources are small folders of random (incompressible) files, so each test runs in seconds to a minute.
 */
import t from 'tap';
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { AgentHandle, NEVER, type HubHandle } from '@sentinela/tools/harness/fleet.js';
import { AGENT_BIN } from '@sentinela/tools/harness/paths.js';
import { runNode } from '@sentinela/tools/harness/process.js';
import { uniqueSiteId } from '@sentinela/tools/harness/tmp.js';
import { sleep, waitFor } from '@sentinela/tools/harness/wait.js';
import { consoleLogin, openBrowser } from '@sentinela/tools/harness/browser.js';
import { backupNow, diffCounters, offsiteAckedBytes, offsiteCounters, offsiteLog, startOffsiteRig, type BackupRun } from '@sentinela/tools/harness/offsite.js';

const echo = process.env.SENTINELA_TEST_ECHO ? (l: string) => process.stderr.write(`${l}\n`) : undefined;
const KB = 1024;

type OffsiteRow = { id: string; base: string | null; bytes: number; verifiedAt: string | null; damaged: string | null };
type Ev = { code?: string; message?: string };

/** Every file under `dir` (recursive), relative path → SHA-256. */
function treeHashes(dir: string, at = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(join(dir, at), { withFileTypes: true })) {
    const rel = join(at, e.name);
    if (e.isDirectory()) Object.assign(out, treeHashes(dir, rel));
    else out[rel] = createHash('sha256').update(readFileSync(join(dir, rel))).digest('hex');
  }
  return out;
}

function treeFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

const treeBytes = (dir: string) => treeFiles(dir).reduce((n, f) => n + statSync(f).size, 0);

/** The hub's off-site store of one site, read as files (what an operator would look at). */
function hubStore(hub: HubHandle, siteId: string) {
  const repo = join(hub.opts.dir, 'data', 'backups', siteId);
  return {
    repo,
    snapshots: () => (existsSync(join(repo, 'snapshots')) ? readdirSync(join(repo, 'snapshots')).sort() : []),
    envelope: (id: string) => JSON.parse(readFileSync(join(repo, 'snapshots', id), 'utf8')) as { objects: string[]; base: string | null },
    objectPath: (name: string) => join(repo, 'objects', name.slice(0, 2), name),
    /** Whole objects plus partial ones: every byte the hub holds for the site. */
    heldBytes: () => treeBytes(join(repo, 'objects')) + treeBytes(join(hub.opts.dir, 'data', 'backups', '.partial', siteId)),
  };
}

async function offsiteRows(hub: HubHandle, token: string, siteId: string): Promise<OffsiteRow[]> {
  return (await hub.api<{ offsite: OffsiteRow[] }>(`/api/v1/sites/${siteId}/snapshots`, token)).offsite;
}

function filesAgent(dir: string, siteId: string, mqttUrl: string, files: string, overrides: Record<string, unknown> = {}): AgentHandle {
  return new AgentHandle({
    dir,
    siteId,
    mqttUrl,
    echo,
    overrides: { backup: { sources: [{ kind: 'files', name: 'scans', path: files, schedule: NEVER }], ...overrides }, offsite: { pieceBytes: 16 * KB, pieceTimeoutSeconds: 10 } },
  });
}

t.test('an agent killed mid-transfer resumes where the hub acknowledged, and no acknowledged piece goes twice', async (t) => {
  const rig = await startOffsiteRig('offsite-kill', { echo });
  t.teardown(rig.close);
  const { hub, token, files, dir } = rig;
  const proxy = rig.proxy!;
  for (const n of ['a', 'b', 'c']) writeFileSync(join(files, `${n}.bin`), randomBytes(200 * KB));

  const siteId = uniqueSiteId('hf-kill');
  const agent = filesAgent(join(dir, 'agent'), siteId, proxy.url, files);
  await agent.enroll(hub.httpUrl, await hub.addSite(siteId));
  const snap = await backupNow(agent);
  proxy.setRate(40_000); // slow enough to kill the agent in the middle
  await agent.start();
  t.teardown(() => agent.proc.stop());
  await waitFor('a third of the snapshot acknowledged', () => offsiteAckedBytes(agent) > snap.storedBytes / 3, 120_000, 50);
  await agent.proc.kill();
  const ackedAtKill = offsiteAckedBytes(agent);
  const atKill = offsiteCounters(agent);
  await sleep(2000); // what was already in the proxy reaches the hub; then the hub holds still
  const held = hubStore(hub, siteId).heldBytes();
  t.comment(`SIGKILL after ${ackedAtKill} of ${snap.storedBytes} bytes acknowledged (${atKill.acked} pieces); the hub holds ${held} bytes`);
  t.ok(held >= ackedAtKill && ackedAtKill > 0, `the hub holds at least every acknowledged byte (${held} ≥ ${ackedAtKill})`);

  const restartedAt = Date.now();
  await agent.start();
  const need = await agent.proc.waitForLog('the offer answered after the restart', (l) => l.snapshot === snap.id && typeof l.toSend === 'number' && Date.parse(String(l.time)) >= restartedAt - 1000, 60_000);
  t.equal(Number(need.toSend), snap.storedBytes - held, `after the restart only what the hub lacks is to send: ${need.toSend} of ${snap.storedBytes} bytes (resuming partial objects after ${need.resumeBytes} bytes)`);
  await agent.proc.waitForLog(`${snap.id} off-site`, offsiteLog(snap.id), 120_000);
  const after = offsiteCounters(agent);
  const c = diffCounters(after, atKill);
  t.comment(`after the restart: ${c.piecesSent} pieces (${c.bytesSent} bytes) sent, ${c.acked} acked, ${c.timedOut} timed out; in all ${after.piecesSent} pieces sent, ${after.acked} acked`);
  t.equal(after.resentAcked, 0, 'no acknowledged piece was sent again, across the kill');
  t.ok(c.bytesSent >= Number(need.toSend) && c.bytesSent < snap.storedBytes, `after the restart ${c.bytesSent} bytes went, not the whole ${snap.storedBytes}`);
  const row = (await offsiteRows(hub, token, siteId)).find((r) => r.id === snap.id);
  t.equal(row?.bytes, snap.storedBytes, 'the hub catalogue lists the snapshot whole');
});

t.test('a site over its quota: refused, logged with usage and quota, told once; what the hub holds stays whole', async (t) => {
  const quota = 300_000;
  const rig = await startOffsiteRig('offsite-quota', { echo, proxy: false, hub: { backups: { quotaBytes: quota } } });
  t.teardown(rig.close);
  const { hub, token, files, dir } = rig;
  writeFileSync(join(files, 'day1.bin'), randomBytes(150 * KB));
  const siteId = uniqueSiteId('hf-quota');
  const agent = filesAgent(join(dir, 'agent'), siteId, hub.mqttUrl, files);
  await agent.enroll(hub.httpUrl, await hub.addSite(siteId));
  const day1 = await backupNow(agent);
  writeFileSync(join(files, 'day2.bin'), randomBytes(300 * KB));
  const day2 = await backupNow(agent);
  await agent.start();
  t.teardown(() => agent.proc.stop());
  await agent.proc.waitForLog(`${day1.id} off-site`, offsiteLog(day1.id), 60_000);

  const refused = await hub.proc.waitForLog('the quota refusal', (l) => /over its off-site quota/.test(l.msg ?? ''), 60_000);
  t.comment(`hub: ${refused.msg}`);
  t.match(refused.msg, new RegExp(`site ${siteId} is over its off-site quota: it holds ${day1.storedBytes} bytes, snapshot ${day2.id} needs \\d+ more, quota ${quota} bytes`), 'the log line names the site, its usage and the quota');
  t.same({ site: refused.site, used: refused.used, quota: refused.quota }, { site: siteId, used: day1.storedBytes, quota }, 'and carries them as fields');
  const ev = await waitFor('the refusal event at the hub', async () => (await hub.api<{ events: Ev[] }>(`/api/v1/sites/${siteId}/events?limit=50`, token)).events.find((e) => e.code === 'backup.offsite_refused'), 30_000, 200);
  t.match(ev.message, /quota/, `the agent reported it: ${ev.message}`);
  await sleep(8000);
  const refusals = hub.proc.logs().filter((l) => /over its off-site quota/.test(l.msg ?? '')).length;
  t.equal(refusals, 1, 'the agent did not offer it again and again (one refusal in 8 s)');

  const m = await hub.cli(['backups', 'maintain', '--site', siteId]);
  t.equal(m.code, 0, `backups maintain: ${m.stdout.trim()} ${m.stderr.trim()}`);
  const rows = await offsiteRows(hub, token, siteId);
  t.same(rows.map((r) => [r.id, r.damaged]), [[day1.id, null]], 'the hub still holds day 1, undamaged, and nothing of day 2');
  t.ok(rows[0]?.verifiedAt, 'day 1 verified without the key');
});

t.test('retention keeps the newest and their bases; every kept snapshot restores; a flipped byte is found without a key', async (t) => {
  const keepLast = 2;
  const rig = await startOffsiteRig('offsite-retention', { echo, proxy: false, hub: { backups: { keepLast } } });
  t.teardown(rig.close);
  const { hub, token, files, dir } = rig;
  writeFileSync(join(files, 'common.bin'), randomBytes(50 * KB));
  const siteId = uniqueSiteId('hf-keep');
  const agent = filesAgent(join(dir, 'agent'), siteId, hub.mqttUrl, files, { rebaseEvery: 1 });
  await agent.enroll(hub.httpUrl, await hub.addSite(siteId));

  // full, delta, full, delta, full: each day's file replaces the last one.
  const snaps: Array<BackupRun & { source: Record<string, string> }> = [];
  for (let day = 0; day < 5; day++) {
    if (day > 0) rmSync(join(files, `day${day - 1}.bin`));
    writeFileSync(join(files, `day${day}.bin`), randomBytes(100 * KB));
    snaps.push({ ...(await backupNow(agent)), source: treeHashes(files) });
    await sleep(1100); // one snapshot per second of its id
  }
  const [f1, d1, f2, d2, f3] = snaps as [(typeof snaps)[0], (typeof snaps)[0], (typeof snaps)[0], (typeof snaps)[0], (typeof snaps)[0]];
  t.same(snaps.map((s) => s.base), [null, f1.id, null, f2.id, null], 'the chain: full, delta, full, delta, full');
  await agent.start();
  t.teardown(() => agent.proc.stop());
  await agent.proc.waitForLog('the newest off-site', offsiteLog(f3.id), 120_000);
  const store = hubStore(hub, siteId);
  t.same(store.snapshots(), snaps.map((s) => s.id).sort(), 'the hub holds all five');
  const envs = new Map(snaps.map((s) => [s.id, store.envelope(s.id)]));
  const keptIds = [f2.id, d2.id, f3.id];
  const keptObjects = new Set(keptIds.flatMap((id) => envs.get(id)!.objects));
  const goneObjects = [...new Set([f1.id, d1.id].flatMap((id) => envs.get(id)!.objects))].filter((o) => !keptObjects.has(o));
  t.ok(goneObjects.length > 0, `${goneObjects.length} objects belong only to the two oldest snapshots`);

  const m = await hub.cli(['backups', 'maintain', '--site', siteId, '--grace-minutes', '0', '--json']);
  t.equal(m.code, 0, `backups maintain: ${m.stderr.trim()}`);
  const r = JSON.parse(m.stdout) as { forgotten: string[]; prunedObjects: number; snapshots: number; objects: number };
  t.comment(`maintain: ${m.stdout.trim()}`);
  t.same([...r.forgotten].sort(), [f1.id, d1.id].sort(), `keepLast ${keepLast}: the newest two (${d2.id.slice(0, 16)}…, ${f3.id.slice(0, 16)}…) and the base of the delta stay`);
  t.same(store.snapshots(), [...keptIds].sort(), 'the store holds the kept three');
  t.same((await offsiteRows(hub, token, siteId)).map((x) => x.id), [...keptIds].sort(), 'the catalogue lists the kept three');
  t.equal(r.prunedObjects, goneObjects.length, `${r.prunedObjects} objects pruned`);
  t.notOk(goneObjects.some((o) => existsSync(store.objectPath(o))), 'the pruned objects are gone from disk');
  t.ok([...keptObjects].every((o) => existsSync(store.objectPath(o))), 'every object of a kept snapshot is there');

  for (const s of [f2, d2, f3]) {
    const out = join(dir, `export-${s.id}`);
    const exp = await hub.cli(['backups', 'export', '--site', siteId, '--snapshot', s.id, '--with-key', '--out', out]);
    t.equal(exp.code, 0, `export ${s.id}: ${exp.stderr.trim()}`);
    const to = join(dir, `restored-${s.id}`);
    const rs = await runNode(AGENT_BIN, ['restore', '--from', out, '--snapshot', s.id, '--to-dir', to]);
    t.equal(rs.code, 0, `restore ${s.id}: ${rs.stderr.slice(-300)}`);
    t.same(treeHashes(to), s.source, `${s.id}${s.base ? ' (a delta)' : ''} restores equal to the source at its time`);
  }

  // Keyless verify: one byte flipped in an object only the newest snapshot lists.
  const victim = envs.get(f3.id)!.objects.find((o) => !envs.get(f2.id)!.objects.includes(o) && !envs.get(d2.id)!.objects.includes(o))!;
  const path = store.objectPath(victim);
  chmodSync(path, 0o644);
  const bytes = readFileSync(path);
  bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
  writeFileSync(path, bytes);
  const v = await hub.cli(['backups', 'maintain', '--site', siteId]);
  t.comment(`maintain after the flip: ${v.stderr.trim()}`);
  t.equal(v.code, 1, 'backups maintain fails when a snapshot is damaged');
  t.match(v.stderr, new RegExp(`DAMAGED: snapshot ${f3.id} \\(object ${victim}: corrupt-object\\)`), 'its line names the snapshot and the object');
  const rows = await offsiteRows(hub, token, siteId);
  t.match(rows.find((x) => x.id === f3.id)?.damaged, new RegExp(victim), 'the catalogue (API) marks the damaged snapshot');
  t.same(rows.filter((x) => x.id !== f3.id).map((x) => x.damaged), [null, null], 'and only it');

  const out = join(dir, 'export-damaged');
  const exp = await hub.cli(['backups', 'export', '--site', siteId, '--snapshot', f3.id, '--with-key', '--out', out]);
  t.equal(exp.code, 1, 'the CLI export of the damaged snapshot fails');
  t.match(exp.stderr, new RegExp(`snapshot ${f3.id} of site ${siteId} is damaged in the hub's store and cannot be exported: ${victim}`), `with a clear error: ${exp.stderr.trim()}`);
  t.notOk(existsSync(out), 'and writes nothing');
  const res = await fetch(`${hub.httpUrl}/api/v1/sites/${siteId}/snapshots/${f3.id}/export`, { headers: { authorization: `Bearer ${token}` } });
  const body = (await res.json()) as { error?: string };
  t.equal(res.status, 409, `the API refuses it before streaming: ${body.error}`);
  // "latest" of a source is the newest whole copy: with the newest damaged, the one before it.
  const auth = { headers: { authorization: `Bearer ${token}` } };
  const latest = await fetch(`${hub.httpUrl}/api/v1/sites/${siteId}/snapshots/latest/export?source=scans`, auth);
  await latest.arrayBuffer();
  t.equal(latest.status, 200, 'latest?source=scans exports');
  t.match(latest.headers.get('content-disposition'), new RegExp(`${d2.id}\\.tar`), `…the newest whole copy, ${d2.id}, not the damaged ${f3.id}`);
  const other = await fetch(`${hub.httpUrl}/api/v1/sites/${siteId}/snapshots/latest/export?source=openmrs`, auth);
  t.equal(other.status, 404, `a source the hub holds nothing of: ${((await other.json()) as { error: string }).error}`);
  const mixed = await fetch(`${hub.httpUrl}/api/v1/sites/${siteId}/snapshots/${d2.id}/export?source=scans`, auth);
  t.equal(mixed.status, 400, `?source with a snapshot id is refused: ${((await mixed.json()) as { error: string }).error}`);

  // The console shows what the hub holds: the damaged one marked and not exportable, a whole one downloads as tar.
  const password = 'operator-pass-1234';
  await hub.addUser('olga', 'operator', password);
  const browser = await openBrowser(join(dir, 'chromium'), hub.httpUrl);
  try {
    const { page } = browser;
    await consoleLogin(page, hub.httpUrl, 'olga', password);
    await page.goto(`${hub.httpUrl}/sites/${siteId}`);
    await page.waitForSelector('table.offsite tbody tr');
    const held = await page.$$eval('table.offsite tbody tr', (trs) => trs.map((tr) => ({ id: tr.querySelector('code')?.textContent ?? '', text: tr.textContent ?? '', link: !!tr.querySelector('a.export') })));
    t.same(held.map((h) => h.id).sort(), [...keptIds].sort(), 'the site page lists the three copies the hub holds');
    t.match(held.find((h) => h.id === f3.id), { text: /DANIFICADA/, link: false }, 'the damaged copy is marked (in Portuguese, the default) and offers no export');
    t.match(await page.textContent('#export-latest'), /cópia externa mais recente/, '"export the latest" names the off-site copy');
    await browser.shot('console-site-offsite');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click(`table.offsite tr:has(code:text-is("${f2.id}")) a.export`)]);
    const tarFile = join(dir, 'console-export.tar');
    await download.saveAs(tarFile);
    const tar = readFileSync(tarFile);
    t.ok(tar.length > 100 * KB && tar.subarray(257, 262).toString() === 'ustar', `the export is a tar of the snapshot (${tar.length} bytes)`);
  } finally {
    await browser.close();
  }

  await agent.proc.waitForLog('the key escrowed', (l) => /holds the backup key in escrow/.test(l.msg ?? ''), 60_000);
  // The site key: only sealed to the hub's escrow key, never in plaintext in the hub's config or data.
  const key = (JSON.parse(readFileSync(join(agent.opts.dir, 'data', 'backup.key'), 'utf8')) as { key: string }).key;
  const raw = Buffer.from(key, 'base64');
  const forms = [raw, Buffer.from(key), Buffer.from(raw.toString('hex')), Buffer.from(raw.toString('base64url'))];
  const hubFiles = [hub.configFile, ...treeFiles(join(hub.opts.dir, 'data'))];
  const holding = hubFiles.filter((f) => {
    const data = readFileSync(f);
    return forms.some((k) => data.includes(k));
  });
  t.same(holding, [], `none of the hub's ${hubFiles.length} files holds the site key in plaintext`);
  const db = new Database(join(hub.opts.dir, 'data', 'hub.db'), { readonly: true });
  const escrow = db.prepare('SELECT sealed FROM backup_escrow WHERE site_id = ?').get(siteId) as { sealed: string } | undefined;
  db.close();
  t.ok(escrow && !escrow.sealed.includes(key), 'the hub holds the key sealed to its escrow key');
});
