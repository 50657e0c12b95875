/**
 * Every snapshot a user would be shown must restore: for each agent, its spool and its USB disk
 * are listed with `sentinela-agent snapshots`, checked with `verify --read-data`, and each listed
 * snapshot restored with `restore` (which checks the content's SHA-256 on the way), all through
 * the agent's own CLI, as a technician would. Three agents are checked at a time (each check is
 * a chain of CLI processes, mostly waiting on the machine's two cores).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentRig } from './rig.js';

export interface SnapshotCheck {
  listed: number;
  restored: number;
  failed: number;
  /** Repositories `verify --read-data` found a problem in, or could not open. */
  verifyProblems: number;
  failures: string[];
}

const AT_ONCE = 3;

export async function checkSnapshots(agents: AgentRig[], scratch: string, log: (line: string) => void): Promise<SnapshotCheck> {
  const c: SnapshotCheck = { listed: 0, restored: 0, failed: 0, verifyProblems: 0, failures: [] };
  const queue = [...agents];
  const worker = async () => {
    for (let a = queue.shift(); a; a = queue.shift()) await checkAgent(a, c, scratch, log);
  };
  await Promise.all(Array.from({ length: AT_ONCE }, worker));
  return c;
}

async function checkAgent(a: AgentRig, c: SnapshotCheck, scratch: string, log: (line: string) => void): Promise<void> {
  const cli = (args: string[]) => a.agent.handle.cli(args);
  for (const repo of [null, a.usbDir]) {
    const where = repo ? `${a.siteId} USB disk` : `${a.siteId} spool`;
    const repoArgs = repo ? ['--repo', repo] : [];
    const list = await cli(['snapshots', '--json', ...repoArgs]);
    if (list.code !== 0) {
      c.verifyProblems++;
      c.failures.push(`${where}: snapshots exit ${list.code}: ${list.stderr.trim()}`);
      continue;
    }
    const ids = (JSON.parse(list.stdout) as Array<{ id: string }>).map((s) => s.id);
    c.listed += ids.length;
    const verify = await cli(['verify', '--read-data', '--json', ...repoArgs]);
    if (verify.code !== 0) {
      c.verifyProblems++;
      c.failures.push(`${where}: verify --read-data exit ${verify.code}: ${(verify.stdout + verify.stderr).trim().slice(0, 1500)}`);
    }
    for (const id of ids) {
      const out = join(scratch, `${a.index}-${id}.dump`);
      const r = await cli(['restore', '--snapshot', id, ...(repo ? ['--from', repo] : []), '--to-file', out, '--force']);
      rmSync(out, { force: true });
      if (r.code === 0) c.restored++;
      else {
        c.failed++;
        c.failures.push(`${where}: restore ${id} exit ${r.code}: ${(r.stderr + r.stdout).trim().slice(0, 1500)}`);
      }
    }
    log(`faults: ${where}: ${ids.length} snapshots listed, verify exit ${verify.code}`);
  }
}
