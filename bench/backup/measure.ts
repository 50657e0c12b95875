/**
 * One step of Sentinela's side of the backup benchmark, in its own process so that its peak RSS is
 * its own: `node measure.js STEP REPO FILE TOKENIZER [KEYFILE]` with STEP day1 | day2 | restore.
 * The dump is streamed from FILE as a `command` source streams a tool's stdout (restore writes to
 * FILE). Prints one JSON line: { s, cpu_s, stored, max_rss_mb }: cpu_s is the CPU time of all its
 * threads (the libuv pool's compression included) over the same span as s.
 */
import { createReadStream, createWriteStream, existsSync, readFileSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { initRepository, MasterKey, openRepository, type Source, type Tokenizer } from '@sentinela/agent';

/**
 * This process's own peak RSS (VmHWM of its address space). Not `resourceUsage().maxRSS`: Linux
 * carries the parent's peak across exec into ru_maxrss, so every step would report the bench
 * process's own peak (344 MB in every step of an earlier run, whatever the step did).
 */
function peakRssMb(): number {
  const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : Math.round(process.resourceUsage().maxRSS / 1024);
}

async function main(): Promise<void> {
  const [step, repoDir, file, tokenizer, keyFile] = process.argv.slice(2) as [string, string, string, Tokenizer, string];
  const key = existsSync(keyFile) ? MasterKey.load(keyFile) : MasterKey.generate();
  if (!existsSync(keyFile)) key.save(keyFile);
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  let stored = 0;
  if (step === 'restore') {
    const repo = await openRepository(repoDir, key);
    const last = (await repo.snapshots()).at(-1)!;
    await pipeline(repo.read(last.id), createWriteStream(file));
  } else {
    const repo = await initRepository(repoDir, { siteId: 'bench', key });
    const source: Source = {
      name: 'clinic',
      kind: 'command',
      tokenizer,
      dump: () => ({ stream: createReadStream(file, { highWaterMark: 256 * 1024 }), info: Promise.resolve({ tool: { name: 'cat', version: 'bench' } }) }),
    };
    stored = (await repo.backup(source)).stored;
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write(`${JSON.stringify({ s, cpu_s: (cpu.user + cpu.system) / 1e6, stored, max_rss_mb: peakRssMb() })}\n`);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
