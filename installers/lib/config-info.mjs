// Reads a program's config with the program's own loader (the bundle's @sentinela/shared: same
// schema, same defaults) and prints what the install script needs as shell assignments:
//
//   node config-info.mjs APP_DIR agent|hub CONFIG_FILE   →   eval "$(…)"
//
// CONFIG_OK=1|0 and CONFIG_ERROR say whether the config is valid; the paths fall back to the
// packaged defaults when it is not, so an install never depends on a config being right.
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';

const [appDir, program, file] = process.argv.slice(2);
const shared = await import(pathToFileURL(join(appDir, 'packages/shared/dist/index.js')).href);
const q = (v) => `'${String(v).replace(/'/g, `'\\''`)}'`;
const out = {};
let config = null;
try {
  config = shared.loadConfigFile(file, program === 'agent' ? shared.AgentConfig : shared.HubConfig);
  out.CONFIG_OK = 1;
  out.CONFIG_ERROR = '';
} catch (err) {
  out.CONFIG_OK = 0;
  out.CONFIG_ERROR = err.message;
}

const defaults = { agent: '/var/lib/sentinela/agent', hub: '/var/lib/sentinela/hub' };
out.DATA_DIR = config?.dataDir ?? defaults[program];

// Folders the service writes besides the data folder (systemd ReadWritePaths, each optional: "-").
const rw = new Set();
if (program === 'agent' && config) {
  if (config.hub.credentialsFile) rw.add(dirOf(config.hub.credentialsFile));
  const b = config.backup;
  if (b) {
    if (b.spool) rw.add(b.spool);
    if (b.keyFile) rw.add(dirOf(b.keyFile));
    for (const root of b.usb?.mountRoots ?? ['/media', '/mnt', '/run/media']) rw.add(root);
    if (b.peer?.path) rw.add(b.peer.path);
  }
}
// Never open / or /etc for writing; a path inside another one (the spool in the data folder, the
// peer folder under /mnt) is already covered.
const under = (p, dir) => p === dir || p.startsWith(dir.endsWith('/') ? dir : `${dir}/`);
const all = [out.DATA_DIR, ...rw];
const extra = [...rw].filter((p) => p !== '/' && p !== out.DATA_DIR && !under(p, '/etc') && !all.some((o) => o !== p && under(p, o)));
out.EXTRA_RW_PATHS = extra.join(' ');

// The agent's power rights: exactly the shutdown command and the pre-shutdown commands of the config.
out.POWER = program === 'agent' && config?.power ? 1 : 0;
const units = [];
const unmatched = [];
let poweroff = 0;
if (out.POWER) {
  const sc = config.power.shutdownCommand;
  const base = (c) => c.split('/').pop();
  if ((base(sc[0]) === 'systemctl' && sc.slice(1).filter((a) => !a.startsWith('-')).join(' ') === 'poweroff') || (base(sc[0]) === 'poweroff' && sc.length === 1)) poweroff = 1;
  else unmatched.push(sc.join(' '));
  for (const step of config.power.preShutdown) {
    const c = step.command;
    const args = c.slice(1).filter((a) => !a.startsWith('-'));
    if (base(c[0]) === 'systemctl' && args[0] === 'stop' && args.length > 1) {
      for (const u of args.slice(1)) units.push(u.includes('.') ? u : `${u}.service`);
    } else unmatched.push(c.join(' '));
  }
}
out.POWEROFF = poweroff;
out.STOP_UNITS = units.join(' ');
out.UNMATCHED_COMMANDS = unmatched.join('\n');

for (const [k, v] of Object.entries(out)) process.stdout.write(`${k}=${q(v)}\n`);

function dirOf(p) {
  return p.replace(/\/[^/]+$/, '') || '/';
}
