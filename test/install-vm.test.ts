/**
 * What a chroot cannot show: both programs installed on a clean Debian 12 server that then boots
 * (installers/test-vm.sh: the chroot test's root plus a kernel, D-Bus, polkitd and NUT, booted in
 * QEMU under software emulation). Under a live systemd the units run as sentinela, hardened as
 * written, logging to the journal; the agent reaches the hub. Then the UPS (NUT's dummy-ups behind
 * Debian's own upsd) goes on battery and low: the agent itself stops the clinical unit its config
 * names and powers the machine off, both through a live polkitd, which refuses it anything else.
 * Each "PASS what" / "FAIL what" line of the script is one assertion here.
 */
import t from 'tap';
import { join } from 'node:path';
import { assertScriptChecks, buildBundles, runTestScript } from '@sentinela/tools/harness/root-script.js';
import { tempDir } from '@sentinela/tools/harness/tmp.js';

const dir = tempDir('install-vm');
t.teardown(dir.remove);

t.test('a clean Debian 12 server boots with both programs as services; on a low battery the agent shuts it down safely', async (t) => {
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
    'NUT serves the stand-in UPS on mains (upsc: OL)',
    'on battery and low: the agent started a safe shutdown',
    'the agent stopped the clinical app first (power.preShutdown, through polkit)',
    'then its shutdown command powered the machine off (systemctl poweroff as sentinela, through polkit)',
  ]);
});
