/**
 * The hub's ack latency per site, read off each agent's link (its proxy): from a QoS 1 PUBLISH
 * delivered to the hub to the PUBACK the hub sends back on that connection. The figure that
 * matters is that of the sites NOT faulted while another one is (its agent killed, its link cut,
 * its disk full…): one site's bad day must not slow the others. A sample is put in one of three
 * buckets by the faults under way between its PUBLISH and its PUBACK (each fault counted until
 * LINGER_MS after it was mended: a reconnect and a backlog follow it):
 *   - own: a fault of this site, or the hub killed (everyone's): left out;
 *   - others: another site faulted, this one not: the figure reported per site;
 *   - quiet: no fault anywhere: the baseline, all sites together.
 * An upsd restart is left out of all three: upsd is not on the way from an agent to the hub.
 * The times are taken in the benchmark's own event loop, which also reads the databases for the
 * ledger: a stall of that loop adds to a sample (it can only make the figures worse, not better).
 */
import { PacketFramer, type FrameSink } from '@sentinela/hub';
import type { ThrottledProxy } from '@sentinela/tools/harness/proxy.js';
import { percentile } from '../lib/report.js';
import type { Injected } from './campaign.js';

/**
 * How long after a fault was mended it still counts as under way: the agents reconnect after 1 s,
 * and drain a backlog at 200 messages a second.
 */
const LINGER_MS = 3000;
/** Larger than any packet the hub accepts: the framer here only splits the stream, it refuses nothing. */
const FRAME_LIMIT = 256 * 1024 * 1024;

interface AckSample {
  site: number;
  sentAt: number;
  ackedAt: number;
}

interface Conn {
  up: PacketFramer;
  down: PacketFramer;
  /** Packet id → when its PUBLISH reached the hub. */
  sent: Map<number, number>;
}

const now = (): number => performance.timeOrigin + performance.now();

export class AckLatency {
  private readonly samples: AckSample[] = [];

  /** Reads the packets on `proxy`, the link of agent `site` (its index). */
  attach(proxy: ThrottledProxy, site: number): void {
    const conns = new Map<number, Conn>();
    // A connection already open is joined mid-stream, where no packet boundary is known: only new ones are read.
    const firstConn = proxy.connections + 1;
    const sink = (take: (packet: Buffer, bodyAt: number, at: number, c: Conn) => void, wanted: (first: number) => boolean, c: Conn, at: number): FrameSink => ({
      pass: () => undefined,
      wants: wanted,
      take: (_first, packet, bodyAt) => {
        // A packet too short for its fields is the hub's to refuse; here it is no sample.
        if (packet.length >= bodyAt + 2) take(packet, bodyAt, at, c);
        return true;
      },
    });
    const onPublish = (packet: Buffer, bodyAt: number, at: number, c: Conn) => {
      const idAt = bodyAt + 2 + packet.readUInt16BE(bodyAt);
      if (packet.length < idAt + 2) return;
      const id = packet.readUInt16BE(idAt);
      // A resend on the same connection (DUP) keeps the first time.
      if (!c.sent.has(id)) c.sent.set(id, at);
    };
    const onPuback = (packet: Buffer, bodyAt: number, at: number, c: Conn) => {
      const id = packet.readUInt16BE(bodyAt);
      const sentAt = c.sent.get(id);
      if (sentAt === undefined) return;
      c.sent.delete(id);
      this.samples.push({ site, sentAt, ackedAt: at });
    };
    const isQos1Publish = (first: number) => first >> 4 === 3 && ((first >> 1) & 3) === 1;
    const isPuback = (first: number) => first >> 4 === 4;
    proxy.tap = {
      data(side, conn, chunk) {
        if (conn < firstConn) return;
        let c = conns.get(conn);
        if (!c) conns.set(conn, (c = { up: new PacketFramer(FRAME_LIMIT), down: new PacketFramer(FRAME_LIMIT), sent: new Map() }));
        const at = now();
        const violation = side === 'up' ? c.up.feed(chunk, sink(onPublish, isQos1Publish, c, at)) : c.down.feed(chunk, sink(onPuback, isPuback, c, at));
        // A stream that no longer frames (cut mid-packet and reused? never expected): forget the connection.
        if (violation) conns.delete(conn);
      },
      closed(conn) {
        conns.delete(conn);
      },
    };
  }

  /** Figures per site (another site faulted) and for all sites with no fault anywhere, in ms. */
  figures(injected: Injected[], sites: number): Record<string, number> {
    const windows = injected.filter((f) => !f.resources.includes('ups')).map((f) => ({ from: f.startedAt, to: f.endedAt + LINGER_MS, resources: f.resources }));
    const affects = (resources: string[], site: number) => resources.some((r) => r === 'hub' || r.endsWith(`:${site}`));
    const others: number[][] = Array.from({ length: sites }, () => []);
    const quiet: number[] = [];
    let own = 0;
    for (const s of this.samples) {
      const during = windows.filter((w) => w.from <= s.ackedAt && w.to >= s.sentAt);
      const ms = s.ackedAt - s.sentAt;
      if (during.some((w) => affects(w.resources, s.site))) own++;
      else if (during.length > 0) others[s.site]!.push(ms);
      else quiet.push(ms);
    }
    const r1 = (v: number) => Math.round(v * 10) / 10;
    const out: Record<string, number> = {};
    const add = (label: string, values: number[]) => {
      const sorted = values.sort((a, b) => a - b);
      out[`${label} acks`] = sorted.length;
      out[`${label} ack p50 ms`] = r1(percentile(sorted, 50));
      out[`${label} ack p95 ms`] = r1(percentile(sorted, 95));
      out[`${label} ack max ms`] = r1(sorted[sorted.length - 1] ?? 0);
    };
    others.forEach((values, site) => add(`site ${site} (another faulted)`, values));
    add('all sites (no fault)', quiet);
    out['acks during a fault of their own site or the hub (left out)'] = own;
    return out;
  }
}
