/**
 * The README's first command: a hub and three simulated health facilities on loopback, each a real
 * `sentinela-agent` process with its own data folder, enrolled with one-time tokens like a real site.
 * Ctrl-C stops everything cleanly and removes the temporary folder (unless --keep).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { AgentHandle, HubHandle } from './harness/fleet.js';
import { close, listener, portOf } from './harness/tcp.js';

/** A small clinical SQLite database for a simulated site (patients and their visits). */
function clinicalDb(folder: string, siteId: string): string {
  mkdirSync(folder, { recursive: true });
  const file = join(folder, 'clinic.db');
  const db = new Database(file);
  db.exec('CREATE TABLE patients (id INTEGER PRIMARY KEY, name TEXT NOT NULL, born TEXT); CREATE TABLE visits (id INTEGER PRIMARY KEY, patient INTEGER NOT NULL REFERENCES patients(id), at TEXT NOT NULL, note TEXT)');
  const patient = db.prepare('INSERT INTO patients (name, born) VALUES (?, ?)');
  const visit = db.prepare('INSERT INTO visits (patient, at, note) VALUES (?, ?, ?)');
  db.transaction(() => {
    for (let i = 1; i <= 2000; i++) patient.run(`${siteId} patient ${i}`, `19${50 + (i % 50)}-0${1 + (i % 9)}-1${i % 10}`);
    for (let i = 1; i <= 10000; i++) visit.run(1 + (i % 2000), `2026-0${1 + (i % 9)}-1${i % 10}`, `consulta ${i}`);
  })();
  db.close();
  return file;
}

/** The demo's page PIN: a demo on loopback, printed with the URLs. */
const DEMO_PIN = '2468';

const SITES = [
  { id: 'hf-maputo-0001', name: 'Centro de Saúde de Chamanculo', province: 'maputo-cidade', db: '127.0.0.1:3306' },
  { id: 'hf-gaza-0001', name: 'Centro de Saúde de Chókwè', province: 'gaza', db: '127.0.0.1:5432' },
  // Nothing listens on this port: this site shows a database that is down.
  { id: 'hf-nampula-0001', name: 'Hospital Rural de Monapo', province: 'nampula', db: '127.0.0.1:9' },
];

const HELP = `Usage: npm start [-- --keep] [-- --verbose]

Starts a demo Sentinela fleet on this machine (loopback only, nothing to set up):
a hub with its embedded MQTT broker and console, and three simulated health facilities,
each a real sentinela-agent process with its own data folder in a temporary directory.
Prints the URLs to open. Ctrl-C stops everything.

  --keep      keep the temporary directory (configs, databases, logs) after stopping
  --verbose   print every log line of the hub and agents
`;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { keep: { type: 'boolean' }, verbose: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'sentinela-demo-'));
  const echo = values.verbose ? (line: string) => process.stdout.write(`${line}\n`) : undefined;
  const agents: AgentHandle[] = [];
  const hub = new HubHandle({ dir: join(dir, 'hub'), hubId: 'demo-dps', echo });
  let stopping = false;

  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('\nStopping the demo / A parar a demonstração…\n');
    await Promise.all(agents.map((a) => a.proc?.stop()));
    await hub.proc?.stop();
    if (values.keep) process.stdout.write(`Kept ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true });
    process.stdout.write('Stopped. / Parado.\n');
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  try {
    process.stdout.write(`Sentinela demo in ${dir}\nStarting the hub…\n`);
    await hub.start();
    const apiToken = await hub.addApiToken('demo');
    const adminPassword = randomBytes(9).toString('base64url');
    await hub.addUser('admin', 'admin', adminPassword);
    const pages: string[] = [];
    for (const site of SITES) {
      // A free loopback port for the site's local page (the LAN address on a real server).
      const probe = await listener(0);
      const pagePort = portOf(probe);
      await close(probe);
      const token = await hub.addSite(site.id, ['--name', site.name, '--province', site.province]);
      const agent = new AgentHandle({
        dir: join(dir, site.id),
        siteId: site.id,
        mqttUrl: hub.mqttUrl,
        echo,
        overrides: {
          site: { id: site.id, name: site.name },
          sampling: { intervalSeconds: 10, services: [{ name: 'clinical-db', tcp: site.db }] },
          // The hub's HTTP port stands in for the facility's LAN router on loopback.
          network: { intervalSeconds: 10, lan: { gateway: `127.0.0.1:${hub.httpPort}` } },
          page: { listen: { host: '127.0.0.1', port: pagePort }, refreshSeconds: 10 },
          // The site's clinical records: backed up every 10 minutes, and off-site to the hub.
          backup: { sources: [{ name: 'clinic', kind: 'sqlite', path: clinicalDb(join(dir, site.id), site.id), schedule: '*/10 * * * *' }] },
          offsite: {},
        },
      });
      await agent.enroll(hub.httpUrl, token);
      // A first backup now, so that the page, the console and the hub's store have one to show.
      const first = await agent.cli(['backup']);
      if (first.code !== 0) throw new Error(`first backup of ${site.id}: ${first.stderr}`);
      const pinFile = join(dir, site.id, 'pin.txt');
      writeFileSync(pinFile, `${DEMO_PIN}\n`, { mode: 0o600 });
      const pin = await agent.cli(['page', 'set-pin', '--pin-file', pinFile]);
      if (pin.code !== 0) throw new Error(`page set-pin for ${site.id}: ${pin.stderr}`);
      pages.push(`  Local page / Página local ${site.id}: http://127.0.0.1:${pagePort}/   (PIN ${DEMO_PIN})`);
      process.stdout.write(`Starting agent ${site.id} (${site.name})…\n`);
      agents.push(await agent.start());
    }
    process.stdout.write(
      [
        '',
        'Sentinela is running / Sentinela está a funcionar:',
        `  Console / Consola:      ${hub.httpUrl}/   (user / utilizador: admin, password / senha: ${adminPassword})`,
        `  Sites API:              curl -H 'Authorization: Bearer ${apiToken}' ${hub.httpUrl}/api/v1/sites`,
        `  Metrics / Métricas:     ${hub.httpUrl}/metrics`,
        `  Health / Saúde:         ${hub.httpUrl}/healthz`,
        `  MQTT broker:            ${hub.mqttUrl}`,
        ...pages,
        `  Agent status:           npx sentinela-agent status --config ${agents[0]!.configFile}`,
        `  Data / Dados:           ${dir}`,
        '',
        'Press Ctrl-C to stop / Carregue Ctrl-C para parar.',
        '',
      ].join('\n'),
    );
    // A child that dies on its own ends the demo with its last lines, rather than leaving a half fleet.
    for (const p of [hub.proc, ...agents.map((a) => a.proc)]) {
      void p.exited.then(({ code, signal }) => {
        if (stopping) return;
        process.stderr.write(`${p.name} exited (code ${code}, signal ${signal}):\n${p.lines.slice(-15).join('\n')}\n`);
        void stop(1);
      });
    }
  } catch (err) {
    process.stderr.write(`Demo failed: ${(err as Error).message}\n`);
    await stop(1);
  }
}

void main();
