/**
 * The clean-root test scripts (installers/test-chroot.sh, installers/test-vm.sh) run from tap: as
 * a root shell runs them (none of tap's NODE_OPTIONS loaders follow into the root), their
 * "PASS what" / "FAIL what" lines read back as checks.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import type { Test } from 'tap';
import { join } from 'node:path';
import { REPO_ROOT } from './paths.js';

export function runAsRootShell(cmd: string, args: string[], timeoutMs = 540_000): SpawnSyncReturns<string> {
  const env = { PATH: process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', LANG: 'C.UTF-8' };
  return spawnSync('env', ['-i', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), cmd, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: timeoutMs });
}

function passFailLines(stdout: string): Array<{ pass: boolean; what: string }> {
  return stdout.split('\n').flatMap((l) => {
    const m = /^(PASS|FAIL) {2}(.+)$/.exec(l);
    return m ? [{ pass: m[1] === 'PASS', what: m[2]! }] : [];
  });
}

/**
 * One assertion per PASS/FAIL line; the checks a user would look for must all be among them (a
 * check that silently stopped running fails too); exit 0 and the script's own closing line.
 */
export function assertScriptChecks(t: Test, r: SpawnSyncReturns<string>, script: string, expected: string[]): void {
  const checks = passFailLines(r.stdout);
  for (const c of checks) t.ok(c.pass, c.what);
  for (const what of expected) t.ok(checks.some((c) => c.what === what), `checked: ${what}`);
  t.equal(r.status, 0, `${script}.sh exit 0${r.status === 0 ? '' : `:\n${r.stderr.slice(-3000)}\n${r.stdout.slice(-4000)}`}`);
  t.match(r.stdout, new RegExp(`^${script}: all checks passed$`, 'm'));
}

/** Builds both release bundles into `out` (no compile cache: as CI would); false, asserted, when it failed. */
export function buildBundles(t: Test, out: string): boolean {
  const b = runAsRootShell('bash', [join(REPO_ROOT, 'installers/build.sh'), '--no-compile', '--out', out]);
  t.equal(b.status, 0, `build.sh: ${b.stderr.slice(-2000)}`);
  return b.status === 0;
}

/** Runs installers/NAME.sh on the bundles in `bundles`. */
export function runTestScript(name: string, bundles: string, timeoutMs?: number): SpawnSyncReturns<string> {
  return runAsRootShell('bash', [join(REPO_ROOT, `installers/${name}.sh`), '--bundles', bundles], timeoutMs);
}
