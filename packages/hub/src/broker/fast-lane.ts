/**
 * The fast lane for a site's own messages. A connected site's QoS 1 PUBLISH to one of its up/
 * topics (birth, status, event) is taken from the socket by the packet framer and handled here:
 * the same authorizePublish the broker would call (ACL, schema, Ingest), then the PUBACK. aedes
 * never parses, queues or routes it; for the hub's main load that was most of the broker's cost.
 *
 * Everything else goes to aedes as before: CONNECT (so authentication is unchanged), packets
 * before the CONNACK, SUBSCRIBE, PUBACKs of the hub's own messages, backup sync pieces (their
 * handling waits for the disk, which needs aedes' per-connection backpressure), relays, MQTT 5.
 *
 * What aedes does for such a packet and the lane must do as well: refresh the keep-alive timer
 * (a site that only publishes never sends PINGREQ), and on a refusal close the connection through
 * the client's error path, which logs and publishes the will.
 */
import type { Client, PublishPacket } from 'aedes';
import { RELAY_USER_PREFIX } from '@sentinela/shared';
import type { BrokerHooks } from '../upstream/gate.js';
import type { GuardedSocket } from './packet-guard.js';

const PUBLISH_QOS1 = 0x32; // type 3, QoS 1; DUP (0x08) and RETAIN (0x01) bits masked off below
/** Larger packets go to aedes (a status or event is a few kB at most; sync pieces are not for the lane). */
const LANE_MAX_BYTES = 64 * 1024;

/** aedes' keep-alive state on its Client (lib/client.js, lib/handlers/connect.js); not in its typings. */
interface KeepAlive {
  _keepaliveInterval: number;
  _keepaliveTimer: NodeJS.Timeout | null;
}

/** A site uses two or three topics (birth, status, event): the lane keeps each one's bytes and string. */
const TOPICS_KEPT = 4;

export function attachFastLane(conn: GuardedSocket, client: Client, authorizePublish: BrokerHooks['authorizePublish']): void {
  const ready = () => client.connected && !client.closed && (client.version === 4 || client.version === 3) && !client.id.startsWith(RELAY_USER_PREFIX);
  // The same topic string object every time: no string per message, and its hash is computed once.
  const topics: Array<{ bytes: Buffer; text: string }> = [];
  const topicOf = (packet: Buffer, start: number, end: number): string => {
    for (const t of topics) if (t.bytes.length === end - start && t.bytes.compare(packet, start, end) === 0) return t.text;
    const text = packet.toString('utf8', start, end);
    if (topics.length < TOPICS_KEPT) topics.push({ bytes: Buffer.from(packet.subarray(start, end)), text });
    return text;
  };
  conn.attachLane({
    wants: (first, length) => (first & 0xf6) === PUBLISH_QOS1 && length <= LANE_MAX_BYTES && ready(),
    take: (first, packet, bodyAt) => {
      // A body too short for its own topic length or packet id is malformed: aedes' parser says so.
      if (bodyAt + 2 > packet.length) return false;
      const topicLength = packet.readUInt16BE(bodyAt);
      const topicEnd = bodyAt + 2 + topicLength;
      if (topicEnd + 2 > packet.length) return false;
      const topic = topicOf(packet, bodyAt + 2, topicEnd);
      if (topic.includes('/up/sync/')) return false;
      const messageId = packet.readUInt16BE(topicEnd);
      const publish: PublishPacket = {
        cmd: 'publish',
        topic,
        payload: packet.subarray(topicEnd + 2),
        qos: 1,
        dup: (first & 0x08) !== 0,
        retain: (first & 0x01) !== 0,
        messageId,
      };
      const ka = client as unknown as KeepAlive;
      if (ka._keepaliveInterval > 0) ka._keepaliveTimer?.refresh();
      authorizePublish(client, publish, (err) => {
        if (err) {
          conn.destroy(err);
          return;
        }
        conn.puback(messageId);
      });
      return true;
    },
  });
}
