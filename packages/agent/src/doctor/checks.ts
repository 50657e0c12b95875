/**
 * What `sentinela-agent doctor` checks, read from the config as it is now: every backup source's
 * dump tool and a real login, the UPS daemon, the hub (TCP, TLS certificate, its clock), disk
 * space, the clock, secret files' modes, the data folder and the outbox schema. The runner and the
 * shared probes are in @sentinela/shared (runtime/doctor.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { doctor, type AgentConfig } from '@sentinela/shared';
import { readCredentials } from '../enroll/credentials.js';
import { SCHEMA_VERSION } from '../outbox/schema.js';
import { credentialsPath, outboxPath } from '../paths.js';
import { NutClient, NutError } from '../power/nut-client.js';
import { fetchApcupsdStatus } from '../power/apcupsd-client.js';
import { query } from '../sources/sql-cli.js';
import { dbRightsFinding } from './db-grants.js';

type Check = doctor.Check;
type Finding = doctor.Finding;
const { ok, warn, fail } = doctor;

const TIMEOUT_MS = 5000;

export function agentChecks(config: AgentConfig): Check[] {
  const checks: Check[] = [];
  const credFile = credentialsPath(config);
  let hubHttpUrl: string | null = null;
  try {
    hubHttpUrl = readCredentials(credFile)?.hubHttpUrl ?? null;
  } catch {
    hubHttpUrl = null;
  }

  // The data folder: writable, room left, and an outbox this agent can read.
  checks.push(doctor.writableDirCheck('datadir', 'data folder', config.dataDir));
  checks.push(doctor.diskSpaceCheck('disk.data', 'data folder', config.dataDir));
  checks.push(outboxSchemaCheck(outboxPath(config)));

  // Enrolment: the credentials file is a secret.
  checks.push(
    doctor.secretFileCheck(
      'credentials',
      'credentials',
      credFile,
      warn('credentials', `not enrolled: no ${credFile}`, {
        pt: 'Registe o site no hub: sentinela-agent enroll --config /etc/sentinela/agent.yaml --hub URL --token TOKEN (peça o token à DPS).',
        en: 'Enrol the site with the hub: sentinela-agent enroll --config /etc/sentinela/agent.yaml --hub URL --token TOKEN (ask DPS for the token).',
      }),
    ),
  );

  checks.push(...hubChecks(config));
  checks.push(
    doctor.clockCheck('clock', async () => {
      if (!hubHttpUrl) return null;
      const date = await doctor.httpDateProbe(`${hubHttpUrl.replace(/\/+$/, '')}/healthz`, { ...(config.hub.caFile ? { caFile: config.hub.caFile } : {}), timeoutMs: TIMEOUT_MS });
      return date ? { name: `the hub (${hubHttpUrl})`, date } : null;
    }),
  );

  if (config.backup) checks.push(...backupChecks(config, config.backup));
  if (config.power) checks.push(...powerChecks(config.power));
  return checks;
}

function outboxSchemaCheck(path: string): Check {
  return {
    id: 'outbox.schema',
    async run() {
      if (!existsSync(path)) return ok('outbox.schema', `outbox ${path} not created yet (the agent creates it at start)`);
      const db = new Database(path, { readonly: true, fileMustExist: true });
      try {
        const v = db.pragma('user_version', { simple: true }) as number;
        const pending = (db.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number } | undefined)?.n ?? 0;
        if (v > SCHEMA_VERSION) {
          return fail('outbox.schema', `outbox ${path} has schema ${v}, newer than this agent (${SCHEMA_VERSION}): it was written by a newer release`, {
            pt: 'Reinstale a versão mais recente do agente (o instalador recusa instalar uma versão mais antiga por cima de dados novos).',
            en: 'Install the newer agent release again (the installer refuses to downgrade over newer data).',
          });
        }
        return ok('outbox.schema', `outbox ${path}: schema ${v}${v < SCHEMA_VERSION ? ` (migrates to ${SCHEMA_VERSION} at start)` : ''}, ${pending} messages waiting`);
      } finally {
        db.close();
      }
    },
  };
}

function hubChecks(config: AgentConfig): Check[] {
  const target = doctor.hostPortOf(config.hub.mqttUrl, { 'mqtt:': 1883, 'mqtts:': 8883 });
  const checks: Check[] = [];
  if (config.hub.caFile) checks.push(doctor.certFileCheck('hub.ca', "hub's CA", config.hub.caFile, 30));
  checks.push({
    id: 'hub',
    async run() {
      if (!target) return fail('hub', `hub.mqttUrl ${config.hub.mqttUrl} has no host and port`, { pt: 'Corrija hub.mqttUrl.', en: 'Fix hub.mqttUrl.' });
      const where = `${target.host}:${target.port}`;
      const unreachable = {
        pt: `Sem ligação ao hub ${where}. Verifique a rede (GovNet), o DNS e a firewall; as mensagens ficam em fila e seguem quando a ligação voltar.`,
        en: `The hub ${where} cannot be reached. Check the network (GovNet), DNS and firewall; messages queue and flow when it is back.`,
      };
      // A FAIL even though the outbox rides out a WAN outage: whoever runs doctor is checking the
      // setup, and a wrong hub.mqttUrl or a closed firewall looks exactly like this.
      const tcp = await doctor.tcpProbe(target.host, target.port, TIMEOUT_MS);
      if (!tcp.ok) return fail('hub', `hub MQTT ${where} unreachable: ${tcp.error}`, unreachable);
      if (target.protocol !== 'mqtts:') return ok('hub', `hub MQTT ${where} reachable (plain MQTT, no TLS)`);
      const tls = await doctor.tlsProbe(target.host, target.port, { ...(config.hub.caFile ? { caFile: config.hub.caFile } : {}), timeoutMs: TIMEOUT_MS });
      if (!tls.ok) return fail('hub', `hub MQTT ${where}: TCP answers but the TLS handshake failed: ${tls.error}`, unreachable);
      if (!tls.authorized) {
        return fail('hub', `hub MQTT ${where}: the certificate is not trusted: ${tls.authorizationError}`, {
          pt: `Copie o certificado da AC do hub para ${config.hub.caFile ?? 'hub.caFile'} e confirme que o nome em hub.mqttUrl é o do certificado.`,
          en: `Copy the hub's CA certificate to ${config.hub.caFile ?? 'hub.caFile'} and make sure the name in hub.mqttUrl matches the certificate.`,
        });
      }
      return tls.validTo ? doctor.expiryFinding('hub', `hub MQTT ${where} TLS certificate ${tls.subject ?? ''}`.trim(), tls.validTo, 21) : ok('hub', `hub MQTT ${where} TLS ok`);
    },
  });
  return checks;
}

function backupChecks(config: AgentConfig, backup: NonNullable<AgentConfig['backup']>): Check[] {
  const checks: Check[] = [];
  const spool = backup.spool ?? join(config.dataDir, 'repository');
  const keyFile = backup.keyFile ?? join(config.dataDir, 'backup.key');
  if (spool !== config.dataDir && existsSync(spool)) {
    checks.push(doctor.writableDirCheck('spool', 'spool', spool));
    checks.push(doctor.diskSpaceCheck('disk.spool', 'spool', spool));
  }
  checks.push(
    doctor.secretFileCheck(
      'backup.key',
      'backup key',
      keyFile,
      existsSync(spool)
        ? fail('backup.key', `the backup key ${keyFile} is missing but the spool ${spool} exists: its snapshots cannot be read without it`, {
            pt: 'Restaure o ficheiro da chave de uma cópia, ou use o código de recuperação do site (restore --recovery-code).',
            en: "Restore the key file from a copy, or use the site's recovery code (restore --recovery-code).",
          })
        : ok('backup.key', `backup key ${keyFile} not created yet (created at the first backup)`),
    ),
  );

  const kinds = new Set(backup.sources.map((s) => s.kind));
  if (kinds.has('mariadb')) checks.push(toolCheck('tool.mariadb-dump', ['mariadb-dump', 'mysqldump'], 'mariadb-client'), toolCheck('tool.mariadb', ['mariadb', 'mysql'], 'mariadb-client'));
  if (kinds.has('postgres')) checks.push(toolCheck('tool.pg_dump', ['pg_dump'], 'postgresql-client'), toolCheck('tool.psql', ['psql'], 'postgresql-client'));

  for (const s of backup.sources) {
    const id = `source.${s.name}`;
    if (s.kind === 'mariadb' || s.kind === 'postgres') {
      if (s.passwordFile) checks.push(doctor.secretFileCheck(`${id}.password`, `${s.name} password file`, s.passwordFile));
      checks.push(dbLoginCheck(id, s));
      checks.push({ id: `${id}.rights`, run: () => dbRightsFinding(`${id}.rights`, s.kind, { ...s, port: s.port ?? (s.kind === 'mariadb' ? 3306 : 5432) }, s.name) });
    } else if (s.kind === 'sqlite' || s.kind === 'files') {
      checks.push({
        id,
        async run() {
          return existsSync(s.path)
            ? ok(id, `${s.kind} source ${s.name}: ${s.path} present`)
            : fail(id, `${s.kind} source ${s.name}: ${s.path} does not exist`, { pt: `Corrija o caminho de ${s.name} em backup.sources.`, en: `Fix the path of ${s.name} in backup.sources.` });
        },
      });
    } else if (s.kind === 'command') {
      const cmd = s.command[0]!;
      checks.push({
        id,
        async run() {
          const found = cmd.includes('/') ? (existsSync(cmd) ? cmd : undefined) : doctor.whichTool([cmd]);
          return found
            ? ok(id, `command source ${s.name}: ${found}`)
            : fail(id, `command source ${s.name}: ${cmd} not found`, { pt: `Instale ${cmd} ou corrija backup.sources.${s.name}.command.`, en: `Install ${cmd} or fix backup.sources.${s.name}.command.` });
        },
      });
    }
  }
  return checks;
}

function toolCheck(id: string, names: string[], pkg: string): Check {
  return {
    id,
    async run() {
      const path = doctor.whichTool(names);
      const fix = { pt: `Instale o pacote ${pkg}: apt-get install ${pkg}`, en: `Install the ${pkg} package: apt-get install ${pkg}` };
      if (!path) return fail(id, `${names.join(' or ')} not installed (needed by a backup source)`, fix);
      const v = await doctor.runTool(path, ['--version'], { timeoutMs: TIMEOUT_MS });
      return v.ok ? ok(id, `${path}: ${v.text}`) : fail(id, `${path} --version failed: ${v.text}`, fix);
    },
  };
}

type DbSource = Extract<NonNullable<AgentConfig['backup']>['sources'][number], { kind: 'mariadb' | 'postgres' }>;

function dbLoginCheck(id: string, s: DbSource): Check {
  return {
    id,
    async run(): Promise<Finding> {
      const port = s.port ?? (s.kind === 'mariadb' ? 3306 : 5432);
      const where = `${s.host}:${port}`;
      const down = {
        pt: `A base de dados ${s.name} (${where}) não responde. Verifique se o serviço está a correr (systemctl status ${s.kind === 'mariadb' ? 'mariadb' : 'postgresql'}) e o host/porta em backup.sources.`,
        en: `The ${s.name} database (${where}) does not answer. Check the service is running (systemctl status ${s.kind === 'mariadb' ? 'mariadb' : 'postgresql'}) and host/port in backup.sources.`,
      };
      const tcp = await doctor.tcpProbe(s.host, port, TIMEOUT_MS);
      if (!tcp.ok) return fail(id, `${s.kind} source ${s.name}: ${where} unreachable: ${tcp.error}`, down);
      try {
        await query(s.kind, { ...s, port }, 'SELECT 1');
        return ok(id, `${s.kind} source ${s.name}: logged in to ${where} as ${s.user ?? '(default user)'}, database ${s.database}`);
      } catch (err) {
        return fail(id, `${s.kind} source ${s.name}: ${where} answers but the login failed: ${(err as Error).message.split('\n')[0]}`, {
          pt: `Confirme o utilizador ${s.user ?? ''}, a palavra-passe em ${s.passwordFile ?? 'passwordFile'} e as permissões na base ${s.database}.`,
          en: `Check the user ${s.user ?? ''}, the password in ${s.passwordFile ?? 'passwordFile'} and the grants on database ${s.database}.`,
        });
      }
    },
  };
}

function powerChecks(power: NonNullable<AgentConfig['power']>): Check[] {
  const src = power.source;
  const checks: Check[] = [];
  if (src.kind === 'nut' && src.passwordFile) checks.push(doctor.secretFileCheck('ups.password', 'upsd password file', src.passwordFile));
  const where = `${src.host}:${src.port}`;
  const daemon = src.kind === 'nut' ? 'upsd (NUT)' : 'apcupsd';
  const down = downFix(src);
  checks.push({
    id: 'ups',
    async run() {
      const tcp = await doctor.tcpProbe(src.host, src.port, TIMEOUT_MS);
      if (!tcp.ok) return fail('ups', `${daemon} at ${where} unreachable: ${tcp.error}`, down);
      try {
        if (src.kind === 'nut') return await withNut(src, async (c) => ok('ups', `${daemon} at ${where}: UPS ${src.ups} status ${await c.getVar(src.ups, 'ups.status')}`));
        const status = await fetchApcupsdStatus(src.host, src.port, TIMEOUT_MS);
        return ok('ups', `${daemon} at ${where}: status ${status.STATUS ?? '?'}`);
      } catch (err) {
        return fail('ups', `${daemon} at ${where} answers but the UPS cannot be read: ${(err as Error).message}`, down);
      }
    },
  });
  if (src.kind === 'nut') checks.push(nutLoginCheck(power, src), nutOutletCheck(power, src));
  return checks;
}

function downFix(src: NonNullable<AgentConfig['power']>['source']): { pt: string; en: string } {
  const where = `${src.host}:${src.port}`;
  const [daemon, unit] = src.kind === 'nut' ? ['upsd (NUT)', 'nut-server'] : ['apcupsd', 'apcupsd'];
  return {
    pt: `O serviço da UPS (${daemon}) não responde em ${where}: systemctl status ${unit}; verifique o cabo USB da UPS e power.source.`,
    en: `The UPS daemon (${daemon}) does not answer at ${where}: systemctl status ${unit}; check the UPS USB cable and power.source.`,
  };
}

type NutSourceConfig = Extract<NonNullable<AgentConfig['power']>['source'], { kind: 'nut' }>;

/** upsd down is the ups finding's FAIL: the checks that need it say so instead of failing twice. */
async function unreachable(id: string, src: NutSourceConfig): Promise<Finding | null> {
  const tcp = await doctor.tcpProbe(src.host, src.port, TIMEOUT_MS);
  return tcp.ok ? null : ok(id, `not checked: upsd at ${src.host}:${src.port} does not answer (see the ups finding)`);
}

async function withNut<T>(src: NutSourceConfig, fn: (c: NutClient) => Promise<T>): Promise<T> {
  const client = await NutClient.connect(src.host, src.port, TIMEOUT_MS);
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

/** Logs in as the agent does (USERNAME, PASSWORD, LOGIN); a primary also asks for its primary rights, which carry FSD. */
function nutLoginCheck(power: NonNullable<AgentConfig['power']>, src: NutSourceConfig): Check {
  const primary = power.role === 'primary';
  const rights = primary ? 'upsmon primary' : 'upsmon secondary';
  return {
    id: 'ups.login',
    async run() {
      const skip = await unreachable('ups.login', src);
      if (skip) return skip;
      if (!src.username) {
        return warn('ups.login', `no power.source.username: the agent reads UPS ${src.ups} without logging in, so ${primary ? 'it cannot raise FSD for the secondaries, count them or cut the outlets' : 'the primary cannot count this server before it powers off'}`, {
          pt: `Crie um utilizador em upsd.users com "${rights}" e indique-o em power.source.username e power.source.passwordFile.`,
          en: `Add a user with "${rights}" in upsd.users and set it in power.source.username and power.source.passwordFile.`,
        });
      }
      const fix = {
        pt: `Confirme a palavra-passe em ${src.passwordFile ?? 'power.source.passwordFile'} e que o utilizador ${src.username} tem "${rights}" em upsd.users${primary ? ' (é o que dá o direito de FSD)' : ''}; depois: systemctl reload nut-server.`,
        en: `Check the password in ${src.passwordFile ?? 'power.source.passwordFile'} and that user ${src.username} has "${rights}" in upsd.users${primary ? ' (that is what grants FSD)' : ''}; then: systemctl reload nut-server.`,
      };
      try {
        return await withNut(src, async (c) => {
          const password = src.passwordFile ? readFileSync(src.passwordFile, 'utf8').trim() : '';
          await c.authenticate(src.username!, password);
          try {
            await c.login(src.ups);
          } catch (err) {
            if (err instanceof NutError && err.code === 'ACCESS-DENIED') {
              return fail('ups.login', `upsd refused the login of ${src.username} to UPS ${src.ups} (ERR ACCESS-DENIED): wrong password, or no "upsmon" line for the user; the agent would read the UPS but could not ${primary ? 'raise FSD or cut the outlets' : 'be counted by the primary'}`, fix);
            }
            throw err;
          }
          if (primary) {
            try {
              await c.primary(src.ups);
            } catch (err) {
              if (err instanceof NutError && err.code === 'ACCESS-DENIED') {
                return fail('ups.login', `${src.username} may log in but is not "upsmon primary" in upsd.users: as power.role primary the agent could not raise FSD to tell the secondaries to shut down`, fix);
              }
              throw err;
            }
          }
          return ok('ups.login', `logged in to UPS ${src.ups} as ${src.username}${primary ? ' with primary rights (FSD)' : ''}`);
        });
      } catch (err) {
        return fail('ups.login', `cannot log in to UPS ${src.ups} as ${src.username}: ${(err as Error).message}`, fix);
      }
    },
  };
}

/** A primary's outlet commands must be offered by the UPS (LIST CMD), or it may stay off after the shutdown. */
function nutOutletCheck(power: NonNullable<AgentConfig['power']>, src: NutSourceConfig): Check {
  return {
    id: 'ups.outlets',
    async run() {
      if (power.role !== 'primary' || power.outletCommands.length === 0) return ok('ups.outlets', 'no outlet commands to send (secondary, or power.outletCommands is empty)');
      const skip = await unreachable('ups.outlets', src);
      if (skip) return skip;
      try {
        const offered = await withNut(src, (c) => c.listCmd(src.ups));
        const usable = power.outletCommands.filter((c) => offered.includes(c));
        if (usable.length) return ok('ups.outlets', `UPS ${src.ups} offers ${usable.join(', ')} of power.outletCommands`);
        return warn('ups.outlets', `UPS ${src.ups} offers none of power.outletCommands (${power.outletCommands.join(', ')}); it offers ${offered.length ? offered.join(', ') : 'no instant commands'}: after a shutdown the server may stay off when mains returns`, {
          pt: 'Ponha em power.outletCommands um comando com atraso que a UPS ofereça (upscmd -l), p. ex. shutdown.return ou load.off.delay, e ligue "Restore on AC power loss" na BIOS.',
          en: 'Put a delayed command the UPS offers (upscmd -l) in power.outletCommands, e.g. shutdown.return or load.off.delay, and enable "Restore on AC power loss" in the BIOS.',
        });
      } catch (err) {
        return fail('ups.outlets', `cannot list the instant commands of UPS ${src.ups}: ${(err as Error).message}`, downFix(src));
      }
    },
  };
}
