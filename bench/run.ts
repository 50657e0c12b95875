/**
 * `npm run bench` runs every benchmark; `npm run bench -- NAME` one; `--json` prints one JSON
 * object per benchmark; `--full` uses the full size instead of the quick one CI uses.
 */
import { parseArgs } from 'node:util';
import { printTable, type BenchResult } from './lib/report.js';

type Bench = (opts: { full: boolean; log: (line: string) => void }) => Promise<BenchResult>;

const BENCHMARKS: Record<string, { about: string; load: () => Promise<Bench> }> = {
  ingest: {
    about: 'hub ingest with hundreds of QoS 1 agents, every message persisted and acked, against Mosquitto',
    load: async () => (await import('./ingest/ingest.bench.js')).run,
  },
  backup: {
    about: 'a clinical MariaDB dump, day 1 and day 2 (0.05 % updated, 0.5 % appended), against restic and the zstd patch size',
    load: async () => (await import('./backup/backup.bench.js')).run,
  },
  offsite: {
    about: "the backup benchmark's day-2 change sent to a hub over a 256 kbit/s link with cuts: wire bytes, time, utilization, against restic and the zstd patch",
    load: async () => (await import('./offsite/offsite.bench.js')).run,
  },
  mirror: {
    about: "a DPS hub mirroring a site's snapshot to the MoH hub over 2 Mbit/s with a 150 ms round trip, and over 150 ms with no cap: throughput against one piece per round trip",
    load: async () => (await import('./offsite/mirror.bench.js')).run,
  },
  'agent-rss': {
    about: 'a real agent at rest (typical config: sampling, probes, UPS, backup and off-site configured, page on) started as the systemd unit does: VmRSS max and median over a minute (--full: five)',
    load: async () => (await import('./agent-rss/agent-rss.bench.js')).run,
  },
  drill: {
    about: 'restore drills of a clinical MariaDB (1 M rows with --full) from spool, USB folder and hub: RTO per location; restore and verify --read-data against restic dump and restic check --read-data',
    load: async () => (await import('./drill/drill.bench.js')).run,
  },
  console: {
    about: 'hub console in Chromium with 2,000 sites (--full) and a week of history: time to a usable overview, hub memory',
    load: async () => (await import('./console/console.bench.js')).run,
  },
  faults: {
    about: 'agents and a hub as real processes under random SIGKILLs, link cuts, full disks, pulled USB disks, upsd restarts and clock jumps; a ledger of every message and every snapshot restored (--full: 1,000 faults)',
    load: async () => (await import('./faults/faults.bench.js')).run,
  },
  fuzz: {
    about: 'structure-aware fuzzing of every input the programs read (MQTT, payloads, repository files, configs, HTTP): inputs, crashes, hangs, refusals per target',
    load: async () => (await import('./fuzz/fuzz.bench.js')).run,
  },
};

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { json: { type: 'boolean' }, full: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write(
      `Usage: npm run bench [-- NAME…] [-- --json] [-- --full]\n\nBenchmarks:\n${Object.entries(BENCHMARKS)
        .map(([n, b]) => `  ${n.padEnd(10)} ${b.about}`)
        .join('\n')}\n\n--json  one JSON object per benchmark on stdout (progress goes to stderr)\n--full  the full size (default: the quick size used in CI)\n`,
    );
    return;
  }
  const names = positionals.length ? positionals : Object.keys(BENCHMARKS);
  for (const name of names) {
    if (!BENCHMARKS[name]) {
      process.stderr.write(`unknown benchmark "${name}"; known: ${Object.keys(BENCHMARKS).join(', ')}\n`);
      process.exit(2);
    }
  }
  const log = (line: string) => process.stderr.write(`${line}\n`);
  for (const name of names) {
    const bench = await BENCHMARKS[name]!.load();
    const result = await bench({ full: Boolean(values.full), log });
    process.stdout.write(values.json ? `${JSON.stringify(result)}\n` : `${printTable(result)}\n`);
  }
}

main().catch((err) => {
  process.stderr.write(`benchmark failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
