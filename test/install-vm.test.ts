/**
 * What a chroot cannot show: both programs installed on a clean Debian 12 server that then boots
 * (installers/test-vm.sh: the chroot test's root plus a kernel, D-Bus and polkitd, booted in QEMU
 * under software emulation). Under a live systemd the units run as sentinela, hardened as written,
 * logging to the journal; the agent reaches the hub; through a live polkitd the agent's user may
 * stop the clinical unit its config names and power the machine off, and may not stop anything
 * else. Each "PASS what" / "FAIL what" line of the script is one assertion here.
 */
import t from 'tap';
import { join } from 'node:path';
import { assertScriptChecks, buildBundles, runTestScript } from '@sentinela/tools/harness/root-script.js';
import { tempDir } from '@sentinela/tools/harness/tmp.js';

const dir = tempDir('install-vm');
t.teardown(dir.remove);

t.test('a clean Debian 12 server boots with both programs as services, and the agent has exactly its power rights', async (t) => {
  const bundles = join(dir.path, 'bundles');
  if (!buildBundles(t, bundles)) return;
  const r = runTestScript('test-vm', bundles, 900_000);
  assertScriptChecks(t, r, 'test-vm', [
    'sentinela-hub active under systemd',
    'sentinela-agent active under systemd',
    "the agent's process runs as sentinela",
    'the agent runs with NoNewPrivileges',
    'ProtectSystem=strict in force: /etc and /usr are read-only for the agent',
    "ReadWritePaths: the agent's data folder is writable for it",
    "the hub logged the site's connection to the journal",
    "the agent's user may not stop another unit (sentinela-hub stays active)",
    "the agent's user may stop the unit its config names (power.preShutdown)",
    'the machine powered off by itself (power.shutdownCommand as sentinela, through polkit)',
  ]);
});
