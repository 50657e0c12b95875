/**
 * Backups upstream: how fast a DPS hub mirrors a site's snapshot to the MoH hub over a provincial
 * link. Real processes: an agent backs up random files (incompressible, so the bytes on the wire
 * are the snapshot's) to the DPS hub while the MoH hub is down; then the MoH hub starts behind the
 * throttling proxy with a round-trip delay, and the time from the DPS hub's connection to its
 * "held by the MoH hub" line gives the throughput. Two links: 2 Mbit/s with a 150 ms round trip
 * (a provincial WAN), and the same delay with no rate cap (where only the round trips limit).
 * The peer is the same hub with one piece in flight (`upstream.backups.inflightPieces: 1`),
 * the stop-and-wait of the mirror before it shared the agent's sender.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentHandle, HubHandle } from '@sentinela/tools/harness/fleet.js';
import { ThrottledProxy } from '@sentinela/tools/harness/proxy.js';
import type { LogLine } from '@sentinela/tools/harness/process.js';
import { ratiosOf, type BenchResult } from '../lib/report.js';

const PROVINCE = 'bench-provincia';
const at = (l: LogLine) => Date.parse(String(l.time));

interface Link {
  name: string;
  rate: number;
  oneWayMs: number;
}
const LINKS: Link[] = [
  { name: 'wan', rate: 250_000, oneWayMs: 75 },
  { name: 'rtt', rate: 0, oneWayMs: 75 },
];

interface Run {
  bytes: number;
  seconds: number;
  bytesPerSecond: number;
  wireUp: number;
}

/** One DPS hub with one site's snapshot of `bytes` random bytes, mirrored once over `link`. */
async function mirrorOnce(work: string, bytes: number, link: Link, backups: Record<string, unknown>, log: (l: string) => void): Promise<Run> {
  mkdirSync(work, { recursive: true });
  const moh = await new HubHandle({ dir: join(work, 'moh'), hubId: 'moh' }).start();
  let dps: HubHandle | null = null;
  let agent: AgentHandle | null = null;
  let proxy: ThrottledProxy | null = null;
  try {
    const added = await moh.cli(['relays', 'add', '--id', 'dps-bench', '--province', PROVINCE, '--json']);
    if (added.code !== 0) throw new Error(`relays add: ${added.stderr}`);
    const secretFile = join(work, 'relay.secret');
    writeFileSync(secretFile, `${(JSON.parse(added.stdout) as { secret: string }).secret}\n`, { mode: 0o600 });
    proxy = await new ThrottledProxy({ targetPort: moh.mqttPort }).start();
    dps = new HubHandle({
      dir: join(work, 'dps'),
      hubId: 'dps-bench',
      overrides: { upstream: { url: proxy.url, relayId: 'dps-bench', province: PROVINCE, backups: { everySeconds: 1, ...backups } } },
    });
    const enrol = await dps.cli(['upstream', 'enrol', '--secret-file', secretFile]);
    if (enrol.code !== 0) throw new Error(`upstream enrol: ${enrol.stderr}`);
    // The MoH hub is down while the site backs up: the DPS hub holds the snapshot when it returns.
    await moh.proc.stop();
    await dps.start();

    const src = join(work, 'files');
    mkdirSync(src, { recursive: true });
    const files = 4;
    for (let i = 0; i < files; i++) writeFileSync(join(src, `f${i}.bin`), randomBytes(Math.ceil(bytes / files)));
    agent = new AgentHandle({
      dir: join(work, 'agent'),
      siteId: 'hf-bench',
      mqttUrl: dps.mqttUrl,
      overrides: { sampling: { intervalSeconds: 60 }, backup: { sources: [{ kind: 'files', name: 'data', path: src }] }, offsite: { inflightPieces: 8 } },
    });
    await agent.enroll(dps.httpUrl, await dps.addSite('hf-bench', ['--province', PROVINCE]));
    const b = await agent.cli(['backup', '--json']);
    if (b.code !== 0) throw new Error(`agent backup: ${b.stderr}`);
    const snap = (JSON.parse(b.stdout) as Array<{ id: string }>)[0]!.id;
    await agent.start();
    await agent.proc.waitForLog('the snapshot at the DPS hub', (l) => l.snapshot === snap && /is off-site/.test(l.msg ?? ''), 10 * 60_000);
    await agent.proc.stop();

    log(`  ${link.name}: mirroring ${bytes} bytes at ${link.rate || 'unlimited'} B/s, ${2 * link.oneWayMs} ms round trip (${JSON.stringify(backups)})…`);
    proxy.setRate(link.rate);
    proxy.setLatency(link.oneWayMs);
    const up0 = proxy.bytesUp;
    const connects = dps.proc.lines.length;
    await moh.start();
    const held = await dps.proc.waitForLog('held by the MoH hub', (l) => l.snapshot === snap && typeof l.sentBytes === 'number', 60 * 60_000);
    const connected = dps.proc.lines
      .slice(connects)
      .map((s) => {
        try {
          return JSON.parse(s) as LogLine;
        } catch {
          return null;
        }
      })
      .find((l) => l && /^connected to the MoH hub/.test(l.msg ?? ''));
    if (!connected) throw new Error('no "connected to the MoH hub" line from the DPS hub');
    const seconds = (at(held) - at(connected)) / 1000;
    const sent = Number(held.sentBytes);
    log(`  ${link.name}: ${sent} bytes in ${seconds} s = ${Math.round(sent / seconds)} B/s (wire up ${proxy.bytesUp - up0})`);
    return { bytes: sent, seconds, bytesPerSecond: Math.round(sent / seconds), wireUp: proxy.bytesUp - up0 };
  } finally {
    await agent?.proc?.stop().catch(() => undefined);
    await dps?.proc?.stop().catch(() => undefined);
    await moh.proc?.stop().catch(() => undefined);
    await proxy?.close().catch(() => undefined);
  }
}

export async function run(opts: { full: boolean; log: (line: string) => void }): Promise<BenchResult> {
  const { full, log } = opts;
  const bytes = (full ? 32 : 4) * 1024 * 1024;
  const work = mkdtempSync(join(tmpdir(), 'sentinela-bench-mirror-'));
  const r = (x: number) => Math.round(x * 1000) / 1000;
  try {
    const ours: Record<string, number> = {};
    const peer: Record<string, number> = {};
    const notes: string[] = [];
    for (const link of LINKS) {
      const a = await mirrorOnce(join(work, `${link.name}-ours`), bytes, link, {}, log);
      const b = await mirrorOnce(join(work, `${link.name}-peer`), bytes, link, { inflightPieces: 1 }, log);
      ours[`${link.name}_bytes_per_s`] = a.bytesPerSecond;
      peer[`${link.name}_bytes_per_s`] = b.bytesPerSecond;
      ours[`${link.name}_s`] = r(a.seconds);
      peer[`${link.name}_s`] = r(b.seconds);
      if (link.rate) {
        ours[`${link.name}_utilization`] = r(a.wireUp / (link.rate * a.seconds));
        peer[`${link.name}_utilization`] = r(b.wireUp / (link.rate * b.seconds));
      }
      notes.push(`${link.name}: ${link.rate ? `${link.rate} B/s` : 'no rate cap'}, ${2 * link.oneWayMs} ms round trip; ${a.bytes} bytes in ${r(a.seconds)} s (wire up ${a.wireUp}) against ${r(b.seconds)} s with one piece in flight`);
    }
    return {
      name: 'mirror',
      setup: { size: full ? 'full' : 'quick', snapshot_bytes: bytes, piece_bytes: '128KiB (default)', links: LINKS.map((l) => `${l.name}=${l.rate || '∞'}B/s+${2 * l.oneWayMs}ms`).join(',') },
      figures: ours,
      peer: { name: 'one piece per round trip', figures: peer },
      ratios: ratiosOf(ours, peer),
      notes,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
