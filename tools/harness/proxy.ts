/**
 * A TCP proxy on loopback that behaves like GovNet: a shared rate limit (bytes/s, both directions
 * together, like a half-full 256 kbit/s line), the connection cut every few seconds, and one byte
 * flipped on request. It counts the bytes it carries, so benchmarks and tests measure the wire.
 *
 * Backpressure is real: the proxy reads from a side only while its queue towards the other side
 * is small, so a sender cannot park megabytes in the proxy (which would hide who waits for whom).
 */
import net from 'node:net';

export interface ProxyOptions {
  targetPort: number;
  targetHost?: string;
  /** Bytes per second per direction; 0 or absent: unlimited. */
  rateBytesPerSecond?: number;
  /** Cut every connection this often (ms); 0 or absent: never. */
  cutEveryMs?: number;
  /**
   * One-way delay of every byte (ms), on top of the rate: a round trip costs twice this. Delayed
   * bytes are on the line, not in the proxy's queue, so the delay does not cap the throughput.
   */
  latencyMs?: number;
}

const TICK_MS = 20;
/** A cut that fell due with nothing connected: this long after the next connection opens. */
const CUT_LATE_MS = 3000;
const HIGH_WATER = 16 * 1024;

/** Sees the bytes a proxy carries (a benchmark reading the MQTT packets, say). */
export interface ProxyTap {
  /**
   * `up` (agent → hub) as delivered to the hub, `down` (hub → agent) as read from the hub, before
   * any hold or delay of the proxy's: so the time between the two is the hub's. `conn` numbers the
   * connection.
   */
  data(side: 'up' | 'down', conn: number, chunk: Buffer): void;
  closed(conn: number): void;
}

interface Pipe {
  conn: number;
  from: net.Socket;
  to: net.Socket;
  queue: Buffer[];
  queued: number;
  up: boolean;
}

export class ThrottledProxy {
  port = 0;
  /** Bytes carried agent → hub and hub → agent (delivered, not just read). */
  bytesUp = 0;
  bytesDown = 0;
  connections = 0;
  cuts = 0;
  /** Milliseconds during which some data waited for the rate limit (for utilisation). */
  busyMs = 0;
  private server: net.Server | null = null;
  private readonly pipes = new Set<Pipe>();
  private readonly sockets = new Set<net.Socket>();
  private ticker: NodeJS.Timeout | null = null;
  private cutter: NodeJS.Timeout | null = null;
  private cutDue = false;
  private lateCut: NodeJS.Timeout | null = null;
  private credit = { up: 0, down: 0 };
  private corruptAfter: number | null = null;
  corrupted = 0;
  /** A direction whose bytes are held, not delivered (a link that lost one way: TCP retransmits, nothing arrives). */
  private readonly stalled = { up: false, down: false };
  private midCut: 'up' | 'down' | null = null;
  /** Cuts that fell inside a packet: half a chunk delivered, then the connection dropped. */
  midPacketCuts = 0;
  tap: ProxyTap | null = null;

  constructor(private opts: ProxyOptions) {}

  async start(port = 0): Promise<this> {
    this.server = net.createServer((client) => this.accept(client));
    await new Promise<void>((r) => this.server!.listen(port, '127.0.0.1', r));
    this.port = (this.server.address() as net.AddressInfo).port;
    this.ticker = setInterval(() => this.tick(), TICK_MS);
    this.setCuts(this.opts.cutEveryMs ?? 0);
    return this;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  setRate(bytesPerSecond: number): void {
    this.opts = { ...this.opts, rateBytesPerSecond: bytesPerSecond };
  }

  setLatency(ms: number): void {
    this.opts = { ...this.opts, latencyMs: ms };
  }

  setTarget(port: number): void {
    this.opts = { ...this.opts, targetPort: port };
  }

  /**
   * Cuts every connection every `everyMs` (0: never). A cut that falls due while nothing is
   * connected (a hub restarting, say) happens CUT_LATE_MS after the next connection opens, so a
   * transfer meets as many cuts as its length promises, whatever else went on meanwhile.
   */
  setCuts(everyMs: number): void {
    if (this.cutter) clearInterval(this.cutter);
    this.cutter = everyMs > 0 ? setInterval(() => this.periodicCut(), everyMs) : null;
    this.cutDue = false;
    if (this.lateCut) clearTimeout(this.lateCut);
    this.lateCut = null;
  }

  private periodicCut(): void {
    if (this.sockets.size === 0) this.cutDue = true;
    else this.cutAll();
  }

  /**
   * Flips one byte of the agent → hub stream, in the first chunk of at least 256 bytes after
   * `afterBytes` more bytes (at 256 kbit/s the limiter hands on 640-byte slices).
   */
  corruptOnce(afterBytes = 0): void {
    this.corruptAfter = this.bytesUp + afterBytes;
  }

  /**
   * Holds (true) or releases (false) one direction: `up` is agent → hub, `down` hub → agent. Held
   * bytes stay queued, with backpressure on the sender, until released or the connection is cut.
   */
  stall(side: 'up' | 'down', held: boolean): void {
    this.stalled[side] = held;
    if (!held) for (const p of this.pipes) this.flush(p);
  }

  /** The next chunk in `side` is delivered only in part (half of it), then every connection is cut. */
  cutMidPacket(side: 'up' | 'down'): void {
    this.midCut = side;
  }

  cutAll(): void {
    if (this.sockets.size === 0) return;
    this.cuts++;
    for (const s of this.sockets) s.destroy();
  }

  async close(): Promise<void> {
    if (this.ticker) clearInterval(this.ticker);
    if (this.cutter) clearInterval(this.cutter);
    if (this.lateCut) clearTimeout(this.lateCut);
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  private accept(client: net.Socket): void {
    const conn = ++this.connections;
    if (this.cutDue && !this.lateCut) {
      this.lateCut = setTimeout(() => {
        this.lateCut = null;
        this.cutDue = false;
        this.cutAll();
      }, CUT_LATE_MS);
    }
    const target = net.connect(this.opts.targetPort, this.opts.targetHost ?? '127.0.0.1');
    for (const s of [client, target]) {
      this.sockets.add(s);
      s.setNoDelay(true);
      s.on('error', () => {});
      s.on('close', () => {
        if (this.sockets.delete(s) && s === client) this.tap?.closed(conn);
        client.destroy();
        target.destroy();
      });
    }
    const up: Pipe = { conn, from: client, to: target, queue: [], queued: 0, up: true };
    const down: Pipe = { conn, from: target, to: client, queue: [], queued: 0, up: false };
    for (const p of [up, down]) {
      this.pipes.add(p);
      const enqueue = (chunk: Buffer) => {
        if (p.to.destroyed) return;
        p.queue.push(chunk);
        p.queued += chunk.length;
        if (p.queued > HIGH_WATER) p.from.pause();
        this.flush(p);
      };
      p.from.on('data', (chunk: Buffer) => {
        if (!p.up) this.tap?.data('down', conn, chunk);
        const delay = this.opts.latencyMs ?? 0;
        if (delay > 0) setTimeout(() => enqueue(chunk), delay);
        else enqueue(chunk);
      });
      p.from.on('close', () => this.pipes.delete(p));
    }
  }

  private tick(): void {
    const rate = this.opts.rateBytesPerSecond ?? 0;
    if (rate > 0) {
      const add = (rate * TICK_MS) / 1000;
      // At most one tick of unused credit: an idle line does not save up a burst.
      this.credit.up = Math.min(add, this.credit.up + add);
      this.credit.down = Math.min(add, this.credit.down + add);
    }
    let waiting = false;
    for (const p of this.pipes) {
      this.flush(p);
      if (p.queued > 0) waiting = true;
    }
    if (waiting) this.busyMs += TICK_MS;
  }

  private flush(p: Pipe): void {
    const rate = this.opts.rateBytesPerSecond ?? 0;
    const side = p.up ? 'up' : 'down';
    if (this.stalled[side]) return;
    while (p.queue.length > 0 && !p.to.destroyed) {
      let chunk = p.queue[0]!;
      if (this.midCut === side && chunk.length >= 2) {
        this.midCut = null;
        this.midPacketCuts++;
        if (p.up) this.tap?.data('up', p.conn, chunk.subarray(0, chunk.length >> 1));
        p.to.write(chunk.subarray(0, chunk.length >> 1), () => this.cutAll());
        p.queue.length = 0;
        p.queued = 0;
        return;
      }
      let n = chunk.length;
      if (rate > 0) {
        n = Math.min(n, Math.floor(this.credit[side]));
        if (n <= 0) return;
        this.credit[side] -= n;
      }
      if (n < chunk.length) {
        p.queue[0] = chunk.subarray(n);
        chunk = chunk.subarray(0, n);
      } else p.queue.shift();
      p.queued -= n;
      if (p.up && this.corruptAfter !== null && this.bytesUp >= this.corruptAfter && chunk.length >= 256) {
        chunk = Buffer.from(chunk);
        chunk[chunk.length >> 1]! ^= 0xff;
        this.corruptAfter = null;
        this.corrupted++;
      }
      if (p.up) this.bytesUp += n;
      else this.bytesDown += n;
      if (p.up) this.tap?.data('up', p.conn, chunk);
      p.to.write(chunk);
      if (p.queued <= HIGH_WATER / 2 && p.from.isPaused()) p.from.resume();
    }
  }
}
