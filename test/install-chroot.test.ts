/**
 * The release bundles installed into a clean Debian 12 root through a chroot, as a technician
 * installs them on a fresh server: installers/test-chroot.sh (debootstrap from the mirror in this
 * machine's apt configuration, cached in /var/tmp/sentinela-chroot-cache; .ci/run installs
 * debootstrap). Each "PASS what" / "FAIL what" line of the script is one assertion here, and the
 * checks a user would look for must all be among them: a check that silently stopped running
 * fails too. Upgrade and downgrade are in install.test.ts (under --root).
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '@sentinela/tools/harness/paths.js';
import { tempDir } from '@sentinela/tools/harness/tmp.js';

const dir = tempDir('install-chroot');
t.teardown(dir.remove);

/** As a root shell runs it: none of tap's NODE_OPTIONS loaders follow into the chroot. */
function run(cmd: string, args: string[]) {
  const env = { PATH: process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', LANG: 'C.UTF-8' };
  return spawnSync('env', ['-i', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), cmd, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 540_000 });
}

t.test('both bundles install into a clean Debian 12 root and work there', async (t) => {
  const bundles = join(dir.path, 'bundles');
  const b = run('bash', [join(REPO_ROOT, 'installers/build.sh'), '--no-compile', '--out', bundles]);
  t.equal(b.status, 0, `build.sh: ${b.stderr.slice(-2000)}`);
  if (b.status !== 0) return;

  const r = run('bash', [join(REPO_ROOT, 'installers/test-chroot.sh'), '--bundles', bundles]);
  const lines = r.stdout.split('\n');
  const checks = lines.flatMap((l) => {
    const m = /^(PASS|FAIL) {2}(.+)$/.exec(l);
    return m ? [{ pass: m[1] === 'PASS', what: m[2]! }] : [];
  });
  for (const c of checks) t.ok(c.pass, c.what);
  for (const what of [
    'system user sentinela with nologin shell',
    '/etc/sentinela/agent.yaml root:sentinela 0640',
    'units enabled (multi-user.target.wants)',
    'systemd-analyze verify both units',
    'hub serving as sentinela',
    "the console's login page (GET /login)",
    "the console's stylesheet (GET /assets/app.css, as installed)",
    'enrolled at install: credentials.json sentinela 0600',
    'agent doctor passes (no FAIL)',
    'hub doctor passes (no FAIL)',
    'purge removed config and data',
  ]) {
    t.ok(
      checks.some((c) => c.what === what),
      `checked: ${what}`,
    );
  }
  t.equal(r.status, 0, `test-chroot.sh exit 0${r.status === 0 ? '' : `:\n${r.stderr.slice(-3000)}\n${r.stdout.slice(-3000)}`}`);
  t.match(r.stdout, /^test-chroot: all checks passed$/m);
  t.match(r.stdout, /^12\.\d+$/m, 'the root is Debian 12 (etc/debian_version)');
});
