/**
 * The relay principal in the embedded broker: wraps the site hooks (broker/auth.ts, acl.ts) so
 * that a client logging in as `relay:<id>` is checked against the relay registry and may use only
 * its own batch/ack topics and the backup sync topics of the sites it relays. Every other client
 * goes on to the site hooks unchanged.
 */
import { parseSyncTopic, relayAckTopic, relayBatchTopic, RELAYED_SYNC_DOWN_FILTER, RELAY_USER_PREFIX, type Logger } from '@sentinela/shared';
import type { AedesPublishPacket, AuthenticateError, Client, PublishPacket, Subscription } from 'aedes';
import type { SyncReceiver } from '../backups/receiver.js';
import type { HubMetrics } from '../metrics.js';
import { remoteOf } from '../broker/auth.js';
import type { RelayRegistry } from './relays.js';
import type { RelayReceiver } from './receiver.js';

export interface BrokerHooks {
  authenticate(client: Client, username: Readonly<string | undefined>, password: Readonly<Buffer | undefined>, done: (error: AuthenticateError | null, success: boolean | null) => void): void;
  authorizePublish(client: Client | null, packet: PublishPacket, done: (error?: Error | null) => void): void;
  authorizeSubscribe(client: Client, sub: Subscription, done: (error: Error | null, subscription?: Subscription | null) => void): void;
  authorizeForward(client: Client, packet: AedesPublishPacket): AedesPublishPacket | null | undefined;
}

export interface RelayGateOptions {
  registry: RelayRegistry;
  receiver: RelayReceiver;
  sync?: SyncReceiver;
  logger: Logger;
  metrics: HubMetrics;
}

const BAD_USERNAME_OR_PASSWORD = 4;
const IDENTIFIER_REJECTED = 2;

export function relayIdOf(client: Client | null): string | null {
  return client?.id?.startsWith(RELAY_USER_PREFIX) ? client.id.slice(RELAY_USER_PREFIX.length) : null;
}

export function gateRelays(hooks: BrokerHooks, o: RelayGateOptions): BrokerHooks {
  const log = o.logger.child({ component: 'relay-gate' });
  const refuse = (reason: string, text: string) => {
    o.metrics.refused.inc({ reason });
    log.warn({ reason }, text);
  };
  return {
    authenticate(client, username, password, done) {
      if (!username?.startsWith(RELAY_USER_PREFIX)) return hooks.authenticate(client, username, password, done);
      const relay = username.slice(RELAY_USER_PREFIX.length);
      const fail = (code: number, reason: string, text: string) => {
        refuse(reason, text);
        done(Object.assign(new Error(text), { returnCode: code }) as AuthenticateError, false);
      };
      if (client.id !== username) return fail(IDENTIFIER_REJECTED, 'auth-client-id', `MQTT login for relay ${relay} from ${remoteOf(client)} refused: client id "${client.id}" must equal "${username}"`);
      const r = password ? o.registry.checkSecret(relay, password.toString('utf8')) : 'bad';
      if (r === 'unknown') return fail(BAD_USERNAME_OR_PASSWORD, 'auth-unknown-relay', `MQTT login for relay ${relay} from ${remoteOf(client)} refused: unknown relay (register it with "sentinela-hub relays add")`);
      if (r === 'bad') return fail(BAD_USERNAME_OR_PASSWORD, 'auth-bad-password', `MQTT login for relay ${relay} from ${remoteOf(client)} refused: wrong secret`);
      log.info({ relay, remote: remoteOf(client) }, `relay ${relay} logged in from ${remoteOf(client)}`);
      done(null, true);
    },

    authorizePublish(client, packet, done) {
      const relay = relayIdOf(client);
      if (!relay) return hooks.authorizePublish(client, packet, done);
      if (client!.closed) return done(new Error('a relay has no will')); // nothing to publish for it
      packet.retain = false;
      const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
      if (packet.topic === relayBatchTopic(relay)) {
        void o.receiver.handle(relay, payload).finally(() => done(null));
        return;
      }
      const sync = parseSyncTopic(packet.topic);
      if (sync?.direction === 'up' && o.sync && o.registry.relayOf(sync.siteId) === relay) {
        void o.sync.handle(sync.siteId, packet.topic, payload).finally(() => done(null));
        return;
      }
      const text = `relay ${relay} tried to publish to ${JSON.stringify(packet.topic)}, which is neither its batch topic nor the backup sync of a site it relays; connection closed`;
      refuse('acl-relay-publish', text);
      done(new Error(text));
    },

    authorizeSubscribe(client, sub, done) {
      const relay = relayIdOf(client);
      if (!relay) return hooks.authorizeSubscribe(client, sub, done);
      if (sub.topic === relayAckTopic(relay) || sub.topic === RELAYED_SYNC_DOWN_FILTER) return done(null, sub);
      refuse('acl-subscribe', `relay ${relay} tried to subscribe to ${JSON.stringify(sub.topic)}; refused`);
      done(null, null);
    },

    authorizeForward(client, packet) {
      const relay = relayIdOf(client);
      if (!relay) return hooks.authorizeForward(client, packet);
      if (packet.topic === relayAckTopic(relay)) return packet;
      const sync = parseSyncTopic(packet.topic);
      // Only the answers for sites this relay brought: never another province's.
      return sync?.direction === 'down' && o.registry.relayOf(sync.siteId) === relay ? packet : null;
    },
  };
}
