/**
 * authorizePublish: every PUBLISH from a site, and every will aedes is about to publish for a
 * site, goes through here. This is where the embedded broker validates and hands the message
 * to Ingest, so that a message is decoded exactly once.
 *
 * What aedes 1.x does with an error from authorizePublish (lib/handlers/publish.js and
 * lib/client.js): for a client PUBLISH the error reaches the client's 'error' handler, which
 * emits 'clientError' and destroys the connection (MQTT 3.1.1 has no negative PUBACK); for a
 * will the error only means "do not publish it". So:
 *  - a topic that is not the site's own (spoofing), or a filter (+ or #, which MQTT forbids in a
 *    PUBLISH) → error → the connection is closed;
 *  - the site's own topic with a payload that does not decode → callback(null): PUBACK is sent
 *    and the connection stays up, but Ingest never sees it; when the JSON names a stream and
 *    seq, an ack with `rejected` tells the agent to drop it from its outbox. The packet is then
 *    routed by aedes to nobody (no client may subscribe to up/ topics, and authorizeForward
 *    refuses to forward them).
 */
import type { Logger } from '@sentinela/shared';
import type { AedesPublishPacket, Client, PublishPacket } from 'aedes';
import { checkUp } from '../ingest/check.js';
import type { SyncReceiver } from '../backups/receiver.js';
import { clip, hasWildcard, topicBelongsToSite } from '@sentinela/shared';
import type { Ingest } from '../ingest/ingest.js';
import { refusalError, type Refusals } from '../limits/refusals.js';
import { remoteOf } from './auth.js';

export function makeAuthorizePublish(ingest: Ingest, maxPayloadBytes: number, logger: Logger, refusals: Refusals, sync?: SyncReceiver) {
  return function authorizePublish(client: Client | null, packet: PublishPacket, done: (error?: Error | null) => void): void {
    if (!client) {
      // aedes republishing a will persisted by another broker instance: never ours to ingest.
      return done(new Error('will without a client'));
    }
    try {
      check(client, packet, done);
    } catch (err) {
      // A bug must cost one connection, never the hub.
      logger.error({ err, site: client.id, topic: clip(packet.topic) }, `error while checking a message from ${client.id}: ${(err as Error).message}; connection closed`);
      done(err as Error);
    }
  };

  function check(client: Client, packet: PublishPacket, done: (error?: Error | null) => void): void {
    const siteId = client.id;
    const will = client.closed; // aedes calls this for the will after it has marked the client closed
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    // Backup sync (backups/receiver.ts): the site's own up/sync/… topics; done after the piece is on disk, so aedes reads this client's next packet only then.
    if (sync && !will && packet.topic.includes('/up/sync/') && !hasWildcard(packet.topic) && topicBelongsToSite(packet.topic, siteId, 'up')) {
      packet.retain = false;
      void sync.handle(siteId, packet.topic, payload).finally(() => done(null));
      return;
    }
    const r = checkUp(siteId, packet.topic, payload, maxPayloadBytes);
    if (r.ok) {
      packet.retain = false; // nothing a site sends is kept as a retained message
      ingest.accept(siteId, r.message, r.raw);
      return done(null);
    }
    const what = will ? 'will message' : 'message';
    const remote = remoteOf(client);
    if (r.kind === 'acl') {
      refusals.refuse({ site: siteId, remote, reason: r.reason, fields: { topic: packet.topic, will }, text: `${r.text}${will ? ' (will message)' : '; connection closed'}` });
      return done(refusalError(r.text));
    }
    refusals.refuse({
      site: siteId,
      remote,
      reason: r.reason,
      fields: { topic: packet.topic, error: r.text, stream: r.stream, seq: r.seq, will },
      text: `refused a ${what} from site ${siteId} on ${clip(packet.topic)}: ${r.text}`,
    });
    if (r.stream !== undefined && r.seq !== undefined) ingest.reject(siteId, r.stream, r.seq, `${r.reason}: ${clip(r.text, 500)}`);
    done(null);
  }
}

/** Nothing published under up/ is ever delivered to a client (sites must not read each other). */
export function authorizeForward(_client: Client, packet: AedesPublishPacket): AedesPublishPacket | null {
  return packet.topic.includes('/up/') ? null : packet;
}
