/**
 * Splits the bytes a client sends into MQTT packets by their fixed headers (type byte,
 * remaining-length varint), without parsing the bodies. Two jobs:
 *
 *  - a size limit, in front of aedes: aedes has no maximum packet size (aedes issue #831) and
 *    mqtt-packet buffers each packet whole before aedes sees it, so one client announcing a 2 GB
 *    PUBLISH could exhaust the hub's memory. The limit is checked at the header, before the body
 *    arrives.
 *  - a fast lane: a sink may ask, at a packet's header, to have that packet whole (the hub's own
 *    handling of a site's PUBLISH, broker/fast-lane.ts); everything else passes on to the broker
 *    as it arrives, in order, without copying.
 */

export type Violation = { kind: 'oversize'; size: number } | { kind: 'malformed'; text: string };

export interface FrameSink {
  /** Bytes for the broker, in stream order. */
  pass(bytes: Buffer): void;
  /** Asked at each packet's fixed header: hand this packet to take() once it is whole? */
  wants(first: number, length: number): boolean;
  /** A packet wants() asked for, whole, from its first byte; its body starts at `bodyAt`. False: pass it on instead. */
  take(first: number, packet: Buffer, bodyAt: number): boolean;
}

/** A sink that wants nothing: the framer only guards the size. */
export function passThrough(pass: (bytes: Buffer) => void): FrameSink {
  return { pass, wants: () => false, take: () => false };
}

export class PacketFramer {
  /** Fixed-header bytes read so far of the current packet (0 when between packets). */
  private headerBytes = 0;
  private length = 0;
  private multiplier = 1;
  private first = 0;
  /** Header bytes that arrived in earlier chunks, before the pass/hold decision. */
  private carried: number[] = [];
  /** Body bytes of a passed packet still to come. */
  private skip = 0;
  /** Parts of a held packet, and how many of its bytes are still to come. */
  private held: Buffer[] | null = null;
  private need = 0;
  private bodyAt = 0;

  constructor(readonly limit: number) {}

  /** Feeds one chunk; returns the first violation found (the rest of the stream is then undefined), or null. */
  feed(chunk: Buffer, sink: FrameSink): Violation | null {
    const n = chunk.length;
    let i = 0;
    /** Start of the range of this chunk not yet handed on. */
    let from = 0;
    /** Where the current packet's header starts in this chunk (-1: it started in an earlier chunk). */
    let headerAt = this.headerBytes > 0 ? -1 : 0;
    while (i < n) {
      if (this.skip > 0) {
        const take = Math.min(this.skip, n - i);
        this.skip -= take;
        i += take;
        continue;
      }
      if (this.held) {
        const take = Math.min(this.need, n - i);
        this.held.push(chunk.subarray(i, i + take));
        this.need -= take;
        i += take;
        from = i;
        if (this.need === 0) {
          const parts = this.held;
          this.held = null;
          const packet = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
          if (!sink.take(this.first, packet, this.bodyAt)) sink.pass(packet);
        }
        continue;
      }
      const b = chunk[i]!;
      if (this.headerBytes === 0) {
        headerAt = i;
        this.first = b;
        this.length = 0;
        this.multiplier = 1;
        this.headerBytes = 1;
        i++;
        continue;
      }
      this.length += (b & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      this.headerBytes++;
      i++;
      if (b & 0x80) {
        if (this.headerBytes === 5) return { kind: 'malformed', text: 'remaining length longer than 4 bytes' };
        continue;
      }
      if (this.length > this.limit) return { kind: 'oversize', size: this.length };
      const carried = this.carried;
      this.carried = [];
      const size = this.headerBytes;
      this.headerBytes = 0;
      if (sink.wants(this.first, this.length)) {
        const start = headerAt < 0 ? 0 : headerAt;
        if (start > from) sink.pass(chunk.subarray(from, start));
        if (headerAt >= 0 && i + this.length <= n) {
          // The whole packet is in this chunk (the usual case): one view of it, no parts to gather and copy.
          const packet = chunk.subarray(start, i + this.length);
          i += this.length;
          from = i;
          if (!sink.take(this.first, packet, size)) sink.pass(packet);
          continue;
        }
        const own = chunk.subarray(start, i);
        this.held = carried.length > 0 ? [Buffer.from(carried), own] : [own];
        this.need = this.length;
        this.bodyAt = size;
        from = i;
        if (this.need === 0) {
          // A body-less packet: whole already.
          this.held = null;
          const packet = carried.length > 0 ? Buffer.from([...carried, ...own]) : own;
          if (!sink.take(this.first, packet, size)) sink.pass(packet);
        }
      } else {
        if (carried.length > 0) sink.pass(Buffer.from(carried));
        this.skip = this.length;
      }
    }
    if (this.headerBytes > 0) {
      // The header goes on in the next chunk: keep its bytes back until the decision.
      const start = headerAt < 0 ? 0 : headerAt;
      if (start > from) sink.pass(chunk.subarray(from, start));
      for (let k = start; k < n; k++) this.carried.push(chunk[k]!);
      from = n;
    }
    if (n > from) sink.pass(chunk.subarray(from, n));
    return null;
  }
}
