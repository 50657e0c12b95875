/**
 * Every PUBLISH a client sends to the embedded broker is for the hub itself: a site's up/
 * messages, its backup sync pieces, a relay's batches. authorizePublish consumes them (ingest,
 * receivers) and no client may ever receive them (authorizeForward). Routing them on through
 * aedes (offline-queue lookup, mqemitter match, 'publish' event: several promise hops per
 * message) would cost more CPU than the ingest itself, for nobody.
 *
 * So a packet authorizePublish accepted is marked consumed, and aedes' publish() returns at once
 * for it. The PUBACK is unaffected: aedes writes it before it calls publish(). Packets the hub
 * publishes itself (acks, down/ messages, $SYS) are never marked and route as before.
 */
import type { Aedes, PublishPacket } from 'aedes';
import type { BrokerHooks } from '../upstream/gate.js';

type Done = (error?: Error | null) => void;

export class ConsumedPackets {
  private readonly marked = new WeakSet<object>();

  /** authorizePublish that marks what it accepted. */
  wrap(authorizePublish: BrokerHooks['authorizePublish']): BrokerHooks['authorizePublish'] {
    return (client, packet, done) =>
      authorizePublish(client, packet, (err) => {
        if (!err && client) this.marked.add(packet);
        done(err);
      });
  }

  /** Makes aedes' publish() skip routing for marked packets. */
  skipRouting(aedes: Aedes): void {
    const route = aedes.publish.bind(aedes) as (packet: PublishPacket, client: unknown, done?: Done) => void;
    const patched = (packet: PublishPacket, client: unknown, done?: Done): void => {
      if (this.marked.has(packet)) {
        this.marked.delete(packet);
        const cb = typeof client === 'function' ? (client as Done) : done;
        cb?.(null);
        return;
      }
      route(packet, client, done);
    };
    (aedes as unknown as { publish: typeof patched }).publish = patched;
  }
}
