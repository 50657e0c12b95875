/**
 * The embedded MQTT broker: aedes behind a TLS (or, for demos, plain TCP) listener, each
 * connection passed through the packet framer first (size guard, and the fast lane that takes a
 * site's own up/ messages past aedes).
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { Aedes, type Client } from 'aedes';
import { clip, downTopic, encodeDown, type AckMessage, type HubConfig, type Logger } from '@sentinela/shared';
import type { Ingest } from '../ingest/ingest.js';
import type { SyncReceiver } from '../backups/receiver.js';
import type { HubMetrics } from '../metrics.js';
import type { Db } from '../store/db.js';
import { isLoggedRefusal, type Refusals } from '../limits/refusals.js';
import { makeAuthenticate, makeAuthorizeSubscribe, remoteOf } from './auth.js';
import { authorizeForward, makeAuthorizePublish } from './acl.js';
import { GuardedSocket, type Violation } from './packet-guard.js';
import { ConsumedPackets } from './consumed.js';
import { attachFastLane } from './fast-lane.js';
import type { BrokerHooks } from '../upstream/gate.js';

/** Room for the fixed and variable headers (topic, packet id, properties) above the payload limit. */
export const HEADER_ALLOWANCE_BYTES = 16 * 1024;

export interface EmbeddedBroker {
  aedes: Aedes;
  port: number;
  tls: boolean;
  /** Publishes an ack to a site's down/ack at QoS 1. */
  publishAck(siteId: string, ack: AckMessage): Promise<void>;
  /** Publishes any hub → site message at QoS 1 (backup sync). */
  publishDown(topic: string, payload: Buffer): Promise<void>;
  /** Drops a site's live connection (its password changed). */
  /** Closes the site's connection, if it has one; `reason` completes "…: " in the log line. */
  disconnectSite(siteId: string, reason?: string): void;
  connectedClients(): number;
  close(): Promise<void>;
}

export interface EmbeddedBrokerOptions {
  config: HubConfig;
  db: Db;
  ingest: Ingest;
  logger: Logger;
  metrics: HubMetrics;
  refusals: Refusals;
  /** Backup sync receiver (up/sync/… topics); absent: those topics are refused like any unknown topic. */
  sync?: SyncReceiver;
  /** Lets relay principals (upstream mirroring) in around the site hooks. */
  gate?: (hooks: BrokerHooks) => BrokerHooks;
}

export async function startEmbeddedBroker(opts: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const { config, db, ingest, refusals } = opts;
  const log = opts.logger.child({ component: 'mqtt' });
  const mqttCfg = config.mqtt;
  const limit = mqttCfg.maxPayloadBytes + HEADER_ALLOWANCE_BYTES;

  // Read the certificate before anything listens: a missing file is a start-up error, not a runtime one.
  const tlsOptions = mqttCfg.tls ? { cert: readFileSync(mqttCfg.tls.certFile), key: readFileSync(mqttCfg.tls.keyFile) } : null;

  const hooks = (opts.gate ?? ((h: BrokerHooks) => h))({
    authenticate: makeAuthenticate(db, log, refusals),
    authorizePublish: makeAuthorizePublish(ingest, mqttCfg.maxPayloadBytes, log, refusals, opts.sync),
    authorizeSubscribe: makeAuthorizeSubscribe(refusals),
    authorizeForward,
  });
  const consumed = new ConsumedPackets();
  const aedes = await Aedes.createBroker({
    // No global cap on messages in flight inside aedes' mqemitter (its default is 100). With a cap,
    // messages beyond it wait in mqemitter's queue, and when a slot frees the queue is drained
    // recursively: every queued message that completes synchronously (an up/ message has no
    // subscriber) adds stack frames, so a few thousand queued messages overflow the stack and the
    // hub dies (RangeError in mqemitter/qlobber; mqemitter PR #204, unfixed). 500 agents with 10
    // messages in flight each did it. Backpressure stays per connection: aedes reads a client's
    // next chunk only when every PUBLISH of the previous one has been handled.
    concurrency: 0,
    drainTimeout: mqttCfg.drainTimeoutMs,
    queueLimit: mqttCfg.queueLimit,
    ...hooks,
    authorizePublish: consumed.wrap(hooks.authorizePublish),
  });
  consumed.skipRouting(aedes);

  // A bad client must never take the hub down: every client error is a log line (one: a refusal is logged where it is decided).
  aedes.on('clientError', (client: Client, err: Error) => {
    if (isLoggedRefusal(err)) return;
    const who = clip(client.id);
    refusals.notice(client.id, { site: who, remote: remoteOf(client), err: err.message }, `MQTT client ${who} (${remoteOf(client)}): ${err.message}; connection closed`);
  });
  aedes.on('connectionError', (client: Client, err: Error) => {
    if (isLoggedRefusal(err)) return;
    refusals.notice(remoteOf(client), { remote: remoteOf(client), err: err.message }, `MQTT connection from ${remoteOf(client)}: ${err.message}; connection closed`);
  });
  aedes.on('clientDisconnect', (client: Client) => log.debug({ site: client.id }, `MQTT client ${client.id} disconnected`));

  const onViolation = (v: Violation, conn: GuardedSocket) => {
    const client = (conn as unknown as { client?: Client }).client;
    // A logged-in site's violation counts against it; before the login nobody is proven.
    const site = client?.id && client.connected ? client.id : null;
    const remote = conn.remoteAddress ?? 'an unknown address';
    const who = site ? `site ${site} (${remote})` : remote;
    if (v.kind === 'oversize') {
      refusals.refuse({ site, remote, reason: 'packet-too-large', fields: { size: v.size, limit }, text: `packet of ${v.size} bytes from ${who} exceeds the limit of ${limit} bytes; connection closed` });
    } else {
      refusals.refuse({ site, remote, reason: 'malformed-packet', text: `malformed MQTT packet from ${who} (${v.text}); connection closed` });
    }
  };
  const onSocket = (socket: net.Socket) => {
    socket.setNoDelay(true);
    const conn = new GuardedSocket(socket, limit, onViolation);
    attachFastLane(conn, aedes.handle(conn), hooks.authorizePublish);
  };

  const server = tlsOptions ? tls.createServer(tlsOptions, onSocket) : net.createServer(onSocket);
  server.on('error', (err) => log.error({ err }, `MQTT listener error: ${err.message}`));
  if (tlsOptions) {
    // A peer that resets during the handshake leaves no address on the TLS socket by the time the
    // error is reported: the raw socket's is read at accept time (Node caches it), and looked up then.
    server.on('connection', (raw: net.Socket) => void raw.remoteAddress);
    server.on('tlsClientError', (err: Error, socket: tls.TLSSocket) => {
      const remote = socket.remoteAddress ?? (socket as unknown as { _parent?: net.Socket })._parent?.remoteAddress ?? 'an unknown address';
      refusals.notice(remote, { remote, err: err.message }, `TLS handshake from ${remote} failed: ${err.message}`);
    });
  } else {
    log.warn('MQTT listener is plain TCP (mqtt.allowPlaintext): use only on loopback for demos and tests');
  }

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(mqttCfg.listen.port, mqttCfg.listen.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await new Promise<void>((r) => aedes.close(() => r()));
    throw err;
  }
  const port = (server.address() as net.AddressInfo).port;
  const clients = (aedes as unknown as { clients: Record<string, Client> }).clients;
  /**
   * An ack to a connected site goes at QoS 0: TCP delivers it unless the connection drops, and an
   * ack lost with a connection only costs a resend, which the hub acks again without storing it
   * twice. At QoS 1 each ack was a packet id, an in-flight record and a PUBACK to read back: about
   * a tenth of the hub's ingest CPU under load. An ack for a site that is not connected goes at
   * QoS 1, so that its persistent session keeps it until the site is back.
   */
  const ackQos = (siteId: string): 0 | 1 => (clients[siteId]?.connected && !clients[siteId]?.closed ? 0 : 1);
  refusals.disconnect = (siteId) => clients[siteId]?.close();

  return {
    aedes,
    port,
    tls: tlsOptions !== null,
    publishAck(siteId, ack) {
      if (aedes.closed) return Promise.reject(new Error('the broker is closed'));
      return new Promise((resolve, reject) => {
        aedes.publish(
          { cmd: 'publish', topic: downTopic(siteId, 'ack'), payload: encodeDown(ack), qos: ackQos(siteId), retain: false, dup: false },
          (err) => (err ? reject(err) : resolve()),
        );
      });
    },
    publishDown(topic, payload) {
      if (aedes.closed) return Promise.reject(new Error('the broker is closed'));
      return new Promise((resolve, reject) => {
        aedes.publish({ cmd: 'publish', topic, payload, qos: 1, retain: false, dup: false }, (err) => (err ? reject(err) : resolve()));
      });
    },
    disconnectSite(siteId, reason = 'its password changed') {
      const c = clients[siteId];
      if (c) {
        log.info({ site: siteId }, `closed the MQTT connection of site ${siteId}: ${reason}`);
        c.close();
      }
    },
    connectedClients: () => aedes.connectedClients,
    async close() {
      // Stop accepting first, then close every client (aedes publishes their wills), then wait for the listener.
      const closed = new Promise<void>((r) => server.close(() => r()));
      await new Promise<void>((r) => aedes.close(() => r()));
      await closed;
    },
  };
}
