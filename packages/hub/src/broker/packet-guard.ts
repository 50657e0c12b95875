/**
 * The socket side of the packet framer (packet-framer.ts): a Duplex over a client's socket that
 * aedes reads and writes. What the framer passes on reaches aedes unchanged (the same Buffers, no
 * copy); the first violation destroys the socket before the body is read into memory.
 */
import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { PacketFramer, passThrough, type FrameSink, type Violation } from './packet-framer.js';

export type { Violation } from './packet-framer.js';

/**
 * Replies to the packets of one read (a PUBACK per PUBLISH, mostly) leave in one write: the
 * socket is corked while the broker handles what was read, and uncorked once per turn of the
 * event loop, after every packet read in that turn was handled. One writev instead of one per
 * PUBACK; the reply waits for nothing but the end of the current turn. The fast lane's PUBACKs
 * are gathered into one buffer per turn as well (GuardedSocket.puback).
 */
const corked = new Set<GuardedSocket>();
let flushScheduled = false;
function flushCorked(): void {
  flushScheduled = false;
  for (const c of corked) c.endTurn();
  corked.clear();
}
function holdUntilTurnEnds(conn: GuardedSocket): void {
  if (corked.has(conn)) return;
  conn.socket.cork();
  corked.add(conn);
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flushCorked);
  }
}

const PUBACK = 0x40;

/** A Duplex over a socket, each chunk through the framer; a fast lane may be attached once the client is known. */
export class GuardedSocket extends Duplex {
  private readonly framer: PacketFramer;
  private lane: FrameSink | null = null;
  private readonly toBroker: FrameSink;
  /** Packet ids to PUBACK at the end of this turn, in the order their PUBLISHes were read. */
  private pubacks: number[] = [];

  constructor(
    readonly socket: Socket,
    limit: number,
    onViolation: (v: Violation, conn: GuardedSocket) => void,
  ) {
    super({ allowHalfOpen: false });
    this.remoteAddress = socket.remoteAddress;
    this.remotePort = socket.remotePort;
    this.framer = new PacketFramer(limit);
    const pass = (bytes: Buffer) => {
      if (!this.destroyed && !this.push(bytes)) socket.pause();
    };
    this.toBroker = passThrough(pass);
    socket.on('data', (chunk: Buffer) => {
      if (this.destroyed) return;
      holdUntilTurnEnds(this);
      let v: Violation | null;
      try {
        v = this.framer.feed(chunk, this.lane ?? this.toBroker);
      } catch (err) {
        // Whatever part of the hub reads a packet (framer, fast lane, the hooks it calls) and throws,
        // only this connection pays: a thrown error here would otherwise reach uncaughtException.
        v = { kind: 'malformed', text: `unreadable packet: ${(err as Error).message}` };
      }
      if (v) {
        onViolation(v, this);
        this.destroy();
      }
    });
    socket.on('end', () => this.push(null));
    socket.on('error', (err) => this.destroy(err));
    socket.on('close', () => {
      if (!this.destroyed) this.destroy();
    });
  }

  /** Queues a PUBACK; all of a turn's go out in one buffer when it ends. */
  puback(messageId: number): void {
    if (this.destroyed) return;
    this.pubacks.push(messageId);
    holdUntilTurnEnds(this);
  }

  /** End of an event-loop turn: the queued PUBACKs in one write, then the socket uncorked. */
  endTurn(): void {
    const ids = this.pubacks;
    if (ids.length > 0 && !this.socket.destroyed) {
      this.pubacks = [];
      const out = Buffer.allocUnsafe(ids.length * 4);
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i]!;
        out[i * 4] = PUBACK;
        out[i * 4 + 1] = 2;
        out[i * 4 + 2] = id >> 8;
        out[i * 4 + 3] = id & 0xff;
      }
      this.socket.write(out);
    }
    if (!this.socket.destroyed) this.socket.uncork();
  }

  /** Routes the packets `wants` picks to `take`, the rest to the broker as before. */
  attachLane(lane: Pick<FrameSink, 'wants' | 'take'>): void {
    this.lane = { pass: this.toBroker.pass, wants: lane.wants, take: lane.take };
  }

  /** Read at accept time: a destroyed socket no longer knows its peer, and refusals are logged after. */
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.socket.write(chunk, cb);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, cb: (err?: Error | null) => void): void {
    this.socket.cork();
    for (let i = 0; i < chunks.length - 1; i++) this.socket.write(chunks[i]!.chunk);
    this.socket.write(chunks[chunks.length - 1]!.chunk, cb);
    this.socket.uncork();
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.socket.end(cb);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.socket.destroy();
    cb(err);
  }
}
