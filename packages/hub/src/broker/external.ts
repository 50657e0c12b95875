/**
 * External-broker mode (`externalBroker` in hub.yaml): agents talk to another broker (e.g.
 * Mosquitto) and the hub is one of its clients. The embedded broker is not started.
 *
 * That broker authenticates the agents (its own password file / ACL) but does not validate
 * payloads, so every message is checked here exactly as the embedded broker checks it
 * (checkUp), and its site must exist in the hub's database. The subscription is QoS 1 with a
 * persistent session (clean: false, fixed clientId), so what agents sent while the hub was
 * down waits in the broker. Acks go back through the same broker.
 *
 * Several instances (`shareGroup`, issue 20): each subscribes with the MQTT 5 shared subscription
 * $share/<group>/…, so the broker gives each message to one of them; the instance that stored a
 * message publishes its ack (to the site's own down topic, which the agent reads whichever
 * instance sent it); a message delivered twice (an instance killed before its ack) is stored once,
 * by the store's unique key, and acked again. Each instance keeps a session of its own for a while
 * (SHARED_SESSION_SECONDS): what the broker had given it waits for its restart, and what it never
 * acked the agent sends again anyway. The broker should enforce a
 * message size limit itself (Mosquitto: message_size_limit / max_packet_size).
 *
 * Agents' accounts: with `provision: mosquitto-dynsec` the hub keeps them in Mosquitto's dynamic
 * security (broker/dynsec.ts: created at enrolment, removed by the credential sweep); with
 * `provision: none` the broker must be set up to accept the agents by hand. The
 * mqtt_clients_connected gauge is 0 in this mode.
 */
import { readFileSync } from 'node:fs';
import mqtt from 'mqtt';
import { clip, ALL_UP_FILTER, downTopic, encodeDown, parseTopic, type AckMessage, type HubConfig, type Logger } from '@sentinela/shared';
import { checkUp } from '../ingest/check.js';
import type { Ingest } from '../ingest/ingest.js';
import type { HubMetrics } from '../metrics.js';
import type { KnownSites } from '../store/known-sites.js';
import type { Refusals } from '../limits/refusals.js';
import { Dynsec } from './dynsec.js';

export interface ExternalIngest {
  /** The broker's port (what agents connect to). */
  port: number;
  tls: boolean;
  publishAck(siteId: string, ack: AckMessage): Promise<void>;
  connected(): boolean;
  /** The broker's account store, when the hub provisions it (`provision: mosquitto-dynsec`). */
  dynsec: Dynsec | null;
  close(): Promise<void>;
}

/** How long the broker keeps a shared-subscription instance's session after it went away (MQTT 5 session expiry). */
const SHARED_SESSION_SECONDS = 600;

export function startExternalIngest(opts: { config: HubConfig; sites: KnownSites; ingest: Ingest; logger: Logger; metrics: HubMetrics; refusals: Refusals }): ExternalIngest {
  const ext = opts.config.externalBroker!;
  const { ingest, metrics, refusals } = opts;
  const log = opts.logger.child({ component: 'mqtt-external' });
  const maxBytes = opts.config.mqtt.maxPayloadBytes;
  const filter = ext.shareGroup ? `$share/${ext.shareGroup}/${ALL_UP_FILTER}` : ALL_UP_FILTER;
  const url = new URL(ext.url);
  const secure = url.protocol === 'mqtts:';

  const client = mqtt.connect(ext.url, {
    clientId: ext.clientId,
    clean: false,
    // Shared subscriptions are MQTT 5; a v5 session outlives its connection only for its expiry interval.
    ...(ext.shareGroup ? { protocolVersion: 5 as const, properties: { sessionExpiryInterval: SHARED_SESSION_SECONDS } } : { protocolVersion: 4 as const }),
    reconnectPeriod: 2000,
    connectTimeout: 10_000,
    ...(ext.username !== undefined ? { username: ext.username } : {}),
    ...(ext.password !== undefined ? { password: ext.password } : {}),
    ...(ext.caFile ? { ca: readFileSync(ext.caFile) } : {}),
  });

  const dynsec = ext.provision === 'mosquitto-dynsec' ? new Dynsec(client) : null;

  client.on('connect', (connack) => {
    log.info({ url: ext.url, sessionPresent: connack.sessionPresent }, `connected to the external broker ${ext.url}`);
    if (dynsec) {
      // The dynsec admin role may read every topic but not send acks: give the hub's user its own role.
      dynsec.ensureHubRole(ext.username ?? '').then(
        () => log.info({ role: 'sentinela-hub' }, `the broker's dynamic security gives ${ext.username} the sentinela-hub role (ingest and acks)`),
        (err: Error) => log.error({ err: err.message }, `could not set up the hub's own role in the broker's dynamic security: ${err.message}`),
      );
    }
    // Subscribing again is harmless with a present session and needed without one.
    client.subscribe(filter, { qos: 1 }, (err, granted) => {
      if (err || granted?.some((g) => g.qos >= 128)) {
        log.error({ err: err?.message }, `the external broker refused the subscription to ${filter}; check its ACL for user ${ext.username ?? '(none)'}`);
      } else log.info({ filter }, `subscribed to ${filter} on the external broker`);
    });
  });
  client.on('reconnect', () => log.debug(`reconnecting to the external broker ${ext.url}`));
  client.on('offline', () => log.warn(`the external broker ${ext.url} is unreachable; retrying`));
  client.on('error', (err) => log.warn({ err: err.message }, `external broker ${ext.url}: ${err.message}`));

  client.on('message', (topic, payload) => {
    if (dynsec && topic.startsWith('$CONTROL/')) return; // the broker's answers to dynsec (broker/dynsec.ts reads them)
    const parsed = parseTopic(topic);
    if (!parsed || parsed.direction !== 'up') {
      refusals.refuse({ site: null, remote: 'the external broker', reason: 'bad-topic', fields: { topic }, text: `refused a message on ${JSON.stringify(clip(topic))}: not a v1 up topic` });
      return;
    }
    const siteId = parsed.siteId;
    const known = opts.sites.has(siteId);
    if (known === true) return receive(siteId, topic, payload);
    // The first message of a site not yet known waits for the store's answer.
    known.then(
      (found) => (found ? receive(siteId, topic, payload) : refusals.refuse({ site: null, remote: `unknown site ${siteId}`, reason: 'unknown-site', fields: { topic }, text: `refused a message from site ${siteId} on ${topic}: unknown site (create it with "sentinela-hub sites add")` })),
      (err: Error) => log.warn({ site: siteId, err: err.message }, `could not look up site ${siteId} (${err.message}); its message is not acked, the agent will resend it`),
    );
  });

  function receive(siteId: string, topic: string, payload: Buffer): void {
    // This broker cannot disconnect a site: in its cool-down its messages are dropped unacked, and the agent sends them again later.
    if (refusals.cooldownOf(siteId)) {
      metrics.refused.inc({ reason: 'cooldown' });
      return;
    }
    const r = checkUp(siteId, topic, payload, maxBytes);
    if (r.ok) return ingest.accept(siteId, r.message, r.raw);
    if (r.kind === 'acl') return refusals.refuse({ site: siteId, reason: r.reason, fields: { topic }, text: r.text });
    refusals.refuse({ site: siteId, reason: r.reason, fields: { topic, error: r.text, stream: r.stream, seq: r.seq }, text: `refused a message from site ${siteId} on ${topic}: ${r.text}` });
    if (r.stream !== undefined && r.seq !== undefined) ingest.reject(siteId, r.stream, r.seq, `${r.reason}: ${clip(r.text, 500)}`);
  }

  return {
    port: Number(url.port) || (secure ? 8883 : 1883),
    tls: secure,
    async publishAck(siteId, ack) {
      await client.publishAsync(downTopic(siteId, 'ack'), encodeDown(ack), { qos: 1 });
    },
    connected: () => client.connected,
    dynsec,
    async close() {
      dynsec?.close();
      await client.endAsync();
    },
  };
}
