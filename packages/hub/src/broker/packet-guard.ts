/**
 * A size limit for MQTT packets, in front of aedes.
 *
 * aedes has no maximum packet size (aedes issue #831) and mqtt-packet buffers each packet whole
 * before aedes sees it, so one client announcing a 2 GB PUBLISH could exhaust the hub's memory.
 * The scanner follows the fixed headers (type byte, remaining-length varint) and skips the
 * bodies by counting, without copying: it sees the size of a packet before its body arrives.
 */
import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';

export type Violation = { kind: 'oversize'; size: number } | { kind: 'malformed'; text: string };

const TYPE = 0;
const LENGTH = 1;

export class PacketScanner {
  private state = TYPE;
  private skip = 0;
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;

  constructor(readonly limit: number) {}

  /** Feeds one chunk; returns the first violation found, or null. */
  scan(chunk: Uint8Array): Violation | null {
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      if (this.skip > 0) {
        const take = Math.min(this.skip, n - i);
        this.skip -= take;
        i += take;
        continue;
      }
      if (this.state === TYPE) {
        i++;
        this.state = LENGTH;
        this.length = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
        continue;
      }
      const b = chunk[i++]!;
      this.length += (b & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      this.lengthBytes++;
      if (b & 0x80) {
        if (this.lengthBytes === 4) return { kind: 'malformed', text: 'remaining length longer than 4 bytes' };
        continue;
      }
      if (this.length > this.limit) return { kind: 'oversize', size: this.length };
      this.skip = this.length;
      this.state = TYPE;
    }
    return null;
  }
}

/**
 * Replies to the packets of one read (a PUBACK per PUBLISH, mostly) leave in one write: the
 * socket is corked while the broker handles what was read, and uncorked once per turn of the
 * event loop, after every packet read in that turn was handled. One writev instead of one per
 * PUBACK; the reply waits for nothing but the end of the current turn.
 */
const corked = new Set<Socket>();
let flushScheduled = false;
function flushCorked(): void {
  flushScheduled = false;
  for (const s of corked) if (!s.destroyed) s.uncork();
  corked.clear();
}
function corkUntilTurnEnds(socket: Socket): void {
  if (corked.has(socket)) return;
  socket.cork();
  corked.add(socket);
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flushCorked);
  }
}

/**
 * A Duplex over a socket that passes every chunk through unchanged (same Buffer, no copy) after
 * the scanner has seen it, and destroys the socket at the first violation, before the body is
 * read into memory.
 */
export class GuardedSocket extends Duplex {
  private readonly scanner: PacketScanner;

  constructor(
    readonly socket: Socket,
    limit: number,
    onViolation: (v: Violation, conn: GuardedSocket) => void,
  ) {
    super({ allowHalfOpen: false });
    this.scanner = new PacketScanner(limit);
    socket.on('data', (chunk: Buffer) => {
      if (this.destroyed) return;
      const v = this.scanner.scan(chunk);
      if (v) {
        onViolation(v, this);
        this.destroy();
        return;
      }
      corkUntilTurnEnds(socket);
      if (!this.push(chunk)) socket.pause();
    });
    socket.on('end', () => this.push(null));
    socket.on('error', (err) => this.destroy(err));
    socket.on('close', () => {
      if (!this.destroyed) this.destroy();
    });
  }

  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }

  get remotePort(): number | undefined {
    return this.socket.remotePort;
  }

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
