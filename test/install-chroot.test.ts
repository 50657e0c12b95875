/**
 * The release bundles installed into a clean Debian 12 root through a chroot, as a technician
 * installs them on a fresh server: installers/test-chroot.sh (debootstrap from the mirror in this
 * machine's apt configuration, cached in /var/tmp/sentinela-chroot-cache; .ci/run installs
 * debootstrap). Each "PASS what" / "FAIL what" line of the script is one assertion here, and the
 * checks a user would look for must all be among them: a check that silently stopped running
 * fails too. Upgrade and downgrade are in install.test.ts (under --root).
 */
import t from 'tap';
import { join } from 'node:path';
import { assertScriptChecks, buildBundles, runTestScript } from '@sentinela/tools/harness/root-script.js';
import { tempDir } from '@sentinela/tools/harness/tmp.js';

const dir = tempDir('install-chroot');
t.teardown(dir.remove);

t.test('both bundles install into a clean Debian 12 root and work there', async (t) => {
  const bundles = join(dir.path, 'bundles');
  if (!buildBundles(t, bundles)) return;
  const r = runTestScript('test-chroot', bundles);
  assertScriptChecks(t, r, 'test-chroot', [
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
  ]);
  t.match(r.stdout, /^12\.\d+$/m, 'the root is Debian 12 (etc/debian_version)');
});
