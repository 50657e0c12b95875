/**
 * What `sentinela-hub doctor` checks, read from the config as it is now: the data folder (writable,
 * free space), the database schema, the TLS certificates and keys (expiry, file modes), its own
 * listeners, the external broker and webhook when configured, and the clock. The runner and the
 * shared probes are in @sentinela/shared (runtime/doctor.ts).
 */
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { doctor, type HubConfig } from '@sentinela/shared';
import { dbPath } from '../store/db.js';


type Check = doctor.Check;
const { ok, warn, fail } = doctor;
const TIMEOUT_MS = 5000;

/** `knownSchema`: how many schema steps this release has (database.ts MIGRATIONS.length). */
export function hubChecks(config: HubConfig, knownSchema: number): Check[] {
  const checks: Check[] = [
    doctor.writableDirCheck('datadir', 'data folder', config.dataDir),
    doctor.diskSpaceCheck('disk.data', 'data folder', config.dataDir),
    schemaCheck(dbPath(config.dataDir), knownSchema),
  ];
  for (const [name, tls] of [['mqtt', config.mqtt.tls], ['http', config.http.tls]] as const) {
    if (!tls) continue;
    checks.push(doctor.certFileCheck(`tls.${name}.cert`, `${name} certificate`, tls.certFile, config.alerts.certExpiryDays));
    checks.push(doctor.secretFileCheck(`tls.${name}.key`, `${name} private key`, tls.keyFile));
  }
  checks.push(listenerCheck('listen.mqtt', 'MQTT listener', config.mqtt.listen));
  checks.push(listenerCheck('listen.http', 'HTTP listener', config.http.listen, config.http.tls ? 'https' : 'http'));
  if (config.externalBroker) {
    const eb = config.externalBroker;
    checks.push({
      id: 'broker',
      async run() {
        const t = doctor.hostPortOf(eb.url, { 'mqtt:': 1883, 'mqtts:': 8883 });
        if (!t) return fail('broker', `externalBroker.url ${eb.url} has no host and port`, { pt: 'Corrija externalBroker.url.', en: 'Fix externalBroker.url.' });
        const r = await doctor.tcpProbe(t.host, t.port, TIMEOUT_MS);
        return r.ok
          ? ok('broker', `external broker ${t.host}:${t.port} reachable`)
          : fail('broker', `external broker ${t.host}:${t.port} unreachable: ${r.error}`, {
              pt: 'Inicie o broker externo (systemctl status mosquitto) ou corrija externalBroker.url.',
              en: 'Start the external broker (systemctl status mosquitto) or fix externalBroker.url.',
            });
      },
    });
  }
  if (config.alerts.webhookUrl) {
    const url = config.alerts.webhookUrl;
    checks.push({
      id: 'webhook',
      async run() {
        const t = doctor.hostPortOf(url, { 'http:': 80, 'https:': 443 });
        const r = t ? await doctor.tcpProbe(t.host, t.port, TIMEOUT_MS) : { ok: false, error: 'no host' };
        return r.ok
          ? ok('webhook', `alert webhook ${url} reachable`)
          : warn('webhook', `alert webhook ${url} unreachable: ${r.error}`, {
              pt: 'Os alertas continuam na consola, mas não chegam ao webhook: verifique alerts.webhookUrl e a rede.',
              en: 'Alerts stay on the console but do not reach the webhook: check alerts.webhookUrl and the network.',
            });
      },
    });
  }
  checks.push(doctor.clockCheck('clock', async () => null));
  return checks;
}

function schemaCheck(path: string, knownSchema: number): Check {
  return {
    id: 'db.schema',
    async run() {
      if (!existsSync(path)) return ok('db.schema', `database ${path} not created yet (the hub creates it at start)`);
      const db = new Database(path, { readonly: true, fileMustExist: true });
      try {
        const v = db.pragma('user_version', { simple: true }) as number;
        if (v > knownSchema) {
          return fail('db.schema', `database ${path} has schema ${v}, newer than this hub (${knownSchema}): it was written by a newer release`, {
            pt: 'Reinstale a versão mais recente do hub (o instalador recusa instalar uma versão mais antiga por cima de dados novos).',
            en: 'Install the newer hub release again (the installer refuses to downgrade over newer data).',
          });
        }
        const sites = (db.prepare('SELECT count(*) AS n FROM sites').get() as { n: number }).n;
        return ok('db.schema', `database ${path}: schema ${v}${v < knownSchema ? ` (migrates to ${knownSchema} at start)` : ''}, ${sites} sites`);
      } finally {
        db.close();
      }
    },
  };
}

function listenerCheck(id: string, label: string, listen: { host: string; port: number }, scheme?: 'http' | 'https'): Check {
  return {
    id,
    async run() {
      const host = listen.host === '0.0.0.0' ? '127.0.0.1' : listen.host === '::' ? '::1' : listen.host;
      const where = `${host}:${listen.port}`;
      const down = {
        pt: `Nada escuta em ${where}: o hub está parado? systemctl status sentinela-hub; journalctl -u sentinela-hub -n 50`,
        en: `Nothing listens on ${where}: is the hub stopped? systemctl status sentinela-hub; journalctl -u sentinela-hub -n 50`,
      };
      if (listen.port === 0) return ok(id, `${label}: port 0 (a free port picked at start), not checked`);
      const r = await doctor.tcpProbe(host, listen.port, TIMEOUT_MS);
      if (!r.ok) return warn(id, `${label} ${where}: ${r.error}`, down);
      if (!scheme) return ok(id, `${label} ${where} accepts connections`);
      const date = await doctor.httpDateProbe(`${scheme}://${host.includes(':') ? `[${host}]` : host}:${listen.port}/healthz`, { timeoutMs: TIMEOUT_MS });
      return date ? ok(id, `${label} ${where} answers /healthz`) : warn(id, `${label} ${where} accepts connections but /healthz does not answer`, down);
    },
  };
}
