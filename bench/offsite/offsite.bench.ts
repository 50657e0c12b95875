/**
 * The backup benchmark's day-2 change (generate.ts) sent to a real hub by a real agent over the
 * throttling proxy: 256 kbit/s (32,000 B/s per direction) with the connection cut. GovNet cuts
 * every few minutes; scaled to the transfer: --full cuts every 30 s, and the quick size (a ~3 s
 * transfer) is cut once, 1.5 s into it (a 64 KiB piece needs 2 s of link, so cuts every 2 s would
 * never let one through). Bytes on the wire are counted at the proxy, both
 * directions, from the day-2 backup to the agent's "off-site" record, against the repository's
 * stored day-2 bytes, the full compressed dump, restic's added bytes and the
 * `zstd --long=29 --patch-from` size, all in the same run.
 *
 * The agent backs up the dump files through a `command` source (`cat`), so that the database's
 * dump time stays out of the transfer time, like the backup benchmark.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentHandle, HubHandle } from '@sentinela/tools/harness/fleet.js';
import { ThrottledProxy } from '@sentinela/tools/harness/proxy.js';
import type { LogLine } from '@sentinela/tools/harness/process.js';
import { ratiosOf, type BenchResult } from '../lib/report.js';
import { dropDatabase, SIZES, type ClinicalDb } from '../backup/generate.js';
import { clinicalDumps, duSize, sh } from '../backup/dumps.js';

const DB = 'sentinela_bench_offsite';
const RATE = 32_000; // 256 kbit/s

const at = (l: LogLine) => Date.parse(String(l.time));

export async function run(opts: { full: boolean; log: (line: string) => void }): Promise<BenchResult> {
  const { full, log } = opts;
  const work = mkdtempSync(join(tmpdir(), 'sentinela-bench-offsite-'));
  const db: ClinicalDb = { dialect: 'mariadb', conn: { host: '127.0.0.1', database: DB } };
  const cutEveryS = full ? 30 : 0;
  let hub: HubHandle | null = null;
  let agent: AgentHandle | null = null;
  let proxy: ThrottledProxy | null = null;
  try {
    const { day1, day2, dumpBytes, change } = await clinicalDumps(work, { database: DB, full, log });
    const current = join(work, 'current.sql');

    hub = await new HubHandle({ dir: join(work, 'hub') }).start();
    proxy = await new ThrottledProxy({ targetPort: hub.mqttPort }).start();
    const token = (await hub.addSite('hf-bench')) as string;
    agent = new AgentHandle({
      dir: join(work, 'agent'),
      siteId: 'hf-bench',
      mqttUrl: proxy.url,
      overrides: {
        backup: { sources: [{ kind: 'command', name: 'clinic', command: ['cat', current], tokenizer: 'lines', schedule: '0 0 1 1 *' }] },
        offsite: {},
        sampling: { intervalSeconds: 60, services: [] },
      },
    });
    await agent.enroll(hub.httpUrl, token);
    const backup = async () => {
      const r = await agent!.cli(['backup', '--json']);
      if (r.code !== 0) throw new Error(`sentinela-agent backup failed: ${r.stderr}`);
      return (JSON.parse(r.stdout) as Array<{ id: string; storedBytes: number }>)[0]!;
    };
    const offsite = (id: string) => (l: LogLine) => l.snapshot === id && /is off-site/.test(l.msg ?? '');

    log('day 1 to the hub over an unlimited link…');
    copyFileSync(day1, current);
    const s1 = await backup();
    await agent.start();
    const done1 = await agent.proc.waitForLog('day 1 off-site', offsite(s1.id), 30 * 60_000);

    log(`day 2 to the hub at ${RATE} B/s, ${cutEveryS ? `cut every ${cutEveryS} s` : 'cut once 1.5 s in'}…`);
    proxy.setRate(RATE);
    copyFileSync(day2, current);
    const up0 = proxy.bytesUp;
    const down0 = proxy.bytesDown;
    const cuts0 = proxy.cuts;
    const s2 = await backup();
    if (cutEveryS) proxy.setCuts(cutEveryS * 1000);
    else
      void agent.proc
        .waitForLog('day 2 offer answered', (l) => l.snapshot === s2.id && typeof l.toSend === 'number', 600_000)
        .then(() => setTimeout(() => proxy!.cutAll(), 1500))
        .catch(() => undefined);
    const done = await agent.proc.waitForLog('day 2 off-site', offsite(s2.id), 4 * 3600_000);
    proxy.setCuts(0);
    const first = agent.proc.findLog((l) => l.snapshot === s2.id && typeof l.toSend === 'number')!;
    const transferS = (at(done) - at(first)) / 1000;
    const wireUp = proxy.bytesUp - up0;
    const wireBytes = wireUp + proxy.bytesDown - down0;
    const c1 = (done1.counters ?? {}) as Record<string, number>;
    const counters = Object.fromEntries(Object.entries((done.counters ?? {}) as Record<string, number>).map(([k, v]) => [k, v - (c1[k] ?? 0)]));

    log('full compressed dump, restic, zstd patch…');
    execFileSync('zstd', ['-q', '-f', '-3', day2, '-o', join(work, 'day2.sql.zst')]);
    const fullCompressed = statSync(join(work, 'day2.sql.zst')).size;
    const env = { RESTIC_PASSWORD: 'bench', RESTIC_REPOSITORY: join(work, 'restic'), RESTIC_CACHE_DIR: join(work, 'restic-cache') };
    sh('restic init', env);
    sh(`restic backup --quiet --stdin --stdin-filename clinic.sql < '${day1}'`, env);
    const r1 = duSize(join(work, 'restic'));
    sh(`restic backup --quiet --stdin --stdin-filename clinic.sql < '${day2}'`, env);
    const resticAdded = duSize(join(work, 'restic')) - r1;
    execFileSync('zstd', ['-q', '-f', '--long=29', `--patch-from=${day1}`, day2, '-o', join(work, 'day2.patch.zst')]);
    const zstdPatch = statSync(join(work, 'day2.patch.zst')).size;

    const utilization = wireUp / (RATE * transferS);
    const r = (x: number) => Math.round(x * 1000) / 1000;
    const ours = {
      day2_wire_bytes: wireBytes,
      day2_stored_bytes: s2.storedBytes,
      transfer_s: r(transferS),
      link_utilization: r(utilization),
      wire_over_stored: r(wireBytes / s2.storedBytes),
      wire_over_zstd_patch: r(wireBytes / zstdPatch),
    };
    const peer = { day2_wire_bytes: resticAdded, day2_stored_bytes: resticAdded };
    return {
      name: 'offsite',
      setup: { size: full ? 'full' : 'quick', observations: full ? SIZES.full : SIZES.quick, dump_bytes: dumpBytes, rate_bytes_per_s: RATE, cut_every_s: cutEveryS || 'once at 1.5 s', cuts: proxy.cuts - cuts0, full_dump_zstd_bytes: fullCompressed, zstd_patch_bytes: zstdPatch },
      figures: ours,
      peer: { name: 'restic 0.14 (added bytes)', figures: peer },
      ratios: ratiosOf(ours, peer),
      notes: [
        `wire ${wireBytes} bytes (up ${wireUp}, down ${wireBytes - wireUp}) = ${ours.wire_over_stored} × stored day 2 (target ≤ 1.2), ${ours.wire_over_zstd_patch} × zstd patch ${zstdPatch} (target ≤ 1.5), ${r(wireBytes / fullCompressed)} × the full compressed dump ${fullCompressed}`,
        `link utilization ${ours.link_utilization} (agent → hub bytes / (${RATE} B/s × ${ours.transfer_s} s); target > 0.85)`,
        `${proxy.cuts - cuts0} cuts during the transfer; each costs the pieces in flight (at most inflightPieces × pieceBytes = 2 × 64 KiB) and the reconnect: on the quick size's ~3 s transfer that one cut is a large share, on GovNet's minutes-long connections a small one`,
        `agent counters for day 2: ${JSON.stringify(counters)} (resentAcked: acknowledged pieces sent again)`,
        `day-2 change: ${JSON.stringify(change)}`,
      ],
    };
  } finally {
    await agent?.proc?.stop().catch(() => undefined);
    await hub?.proc?.stop().catch(() => undefined);
    await proxy?.close().catch(() => undefined);
    await dropDatabase(db).catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  }
}
