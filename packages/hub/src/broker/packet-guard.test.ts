import t from 'tap';
import net from 'node:net';
import { GuardedSocket, type Violation } from './packet-guard.js';
import { PacketFramer, passThrough, type FrameSink } from './packet-framer.js';
import { varint } from '../harness.test-support.js';

function packet(type: number, bodyLength: number): Buffer {
  return Buffer.concat([Buffer.from([type, ...varint(bodyLength)]), Buffer.alloc(bodyLength, 0x61)]);
}

function scanChunks(limit: number, data: Buffer, cuts: number[]): Violation | null {
  const s = new PacketFramer(limit);
  const sink = passThrough(() => undefined);
  let from = 0;
  for (const cut of [...cuts, data.length]) {
    const v = s.feed(data.subarray(from, cut), sink);
    if (v) return v;
    from = cut;
  }
  return null;
}

/**
 * Feeds `data` cut at `cuts` through a framer whose sink takes the packets `pick` chooses (and
 * gives back those `refuse` chooses). Returns the stream as the two consumers saw it, in order.
 */
function frame(data: Buffer, cuts: number[], pick: (first: number, length: number) => boolean, refuse: (packet: Buffer) => boolean = () => false) {
  const framer = new PacketFramer(1e6);
  const events: Array<{ kind: 'pass' | 'take'; bytes: Buffer; bodyAt?: number }> = [];
  const sink: FrameSink = {
    pass: (bytes) => events.push({ kind: 'pass', bytes: Buffer.from(bytes) }),
    wants: pick,
    take: (_first, packet, bodyAt) => {
      if (refuse(packet)) return false;
      events.push({ kind: 'take', bytes: Buffer.from(packet), bodyAt });
      return true;
    },
  };
  let from = 0;
  for (const cut of [...cuts, data.length]) {
    if (framer.feed(data.subarray(from, cut), sink)) throw new Error('violation');
    from = cut;
  }
  return events;
}

t.test('packets within the limit pass, however the stream is cut', async (t) => {
  // PINGREQ (no body), small PUBLISH, a body exactly at the limit (2-byte varint), another one.
  const data = Buffer.concat([packet(0xc0, 0), packet(0x32, 20), packet(0x30, 300), packet(0x32, 5)]);
  let failures = 0;
  for (let a = 0; a <= data.length; a++) {
    if (scanChunks(300, data, [a]) !== null) failures++;
  }
  t.equal(failures, 0, 'every single cut point');
  const bytewise = Array.from({ length: data.length - 1 }, (_, i) => i + 1);
  t.equal(scanChunks(300, data, bytewise), null, 'one byte at a time');
});

t.test('an oversized packet is found from its header, wherever it is cut', async (t) => {
  const header = Buffer.from([0x30, ...varint(10 * 1024 * 1024)]);
  const data = Buffer.concat([packet(0x32, 10), header]); // the body never needs to arrive
  for (let a = 0; a <= data.length; a++) {
    for (let b = a; b <= data.length; b++) {
      const v = scanChunks(1024, data, [a, b]);
      if (!v || v.kind !== 'oversize' || v.size !== 10 * 1024 * 1024) {
        t.fail(`cut at ${a},${b}: ${JSON.stringify(v)}`);
        return;
      }
    }
  }
  t.pass('found at every pair of cut points');
  t.same(scanChunks(299, packet(0x30, 300), []), { kind: 'oversize', size: 300 }, 'one byte over');
});

t.test('a remaining length of more than 4 bytes is malformed', async (t) => {
  const v = scanChunks(1e9, Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]), [2, 3]);
  t.equal(v?.kind, 'malformed');
});

t.test('GuardedSocket passes chunks through unchanged and cuts an oversized packet', async (t) => {
  const received: Buffer[] = [];
  const violations: Violation[] = [];
  const server = net.createServer((socket) => {
    const g = new GuardedSocket(socket, 100, (v) => violations.push(v));
    g.on('data', (chunk: Buffer) => {
      received.push(chunk);
      g.write(Buffer.from('ok'));
    });
    g.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => server.close());
  const port = (server.address() as net.AddressInfo).port;
  const client = net.connect(port, '127.0.0.1');
  await new Promise((r) => client.once('connect', r));
  const replies: Buffer[] = [];
  client.on('data', (d) => replies.push(d));
  client.write(packet(0x32, 50));
  while (replies.length === 0) await new Promise((r) => setTimeout(r, 5));
  t.same(Buffer.concat(received), packet(0x32, 50), 'data passes through');
  t.equal(Buffer.concat(replies).toString(), 'ok', 'writes reach the peer');
  const closed = new Promise((r) => client.once('close', r));
  client.write(Buffer.from([0x30, ...varint(5000)]));
  await closed;
  t.same(violations, [{ kind: 'oversize', size: 5000 }], 'the oversized packet closed the connection');
});

t.test('the framer hands over wanted packets whole and passes the rest in order, however the stream is cut', async (t) => {
  // Bodies of 0, 5, 200 (2-byte length) and 20,000 bytes (3-byte length), wanted and not, back to back.
  const packets = [packet(0x32, 5), packet(0xc0, 0), packet(0x32, 200), packet(0x30, 20), packet(0x32, 20_000), packet(0x82, 7), packet(0x32, 0), packet(0x32, 9)];
  const data = Buffer.concat(packets);
  const wanted = (first: number) => first === 0x32;
  let bad = 0;
  const check = (cuts: number[]) => {
    const events = frame(data, cuts, wanted);
    const taken = events.filter((e) => e.kind === 'take').map((e) => e.bytes);
    const ok =
      Buffer.concat(events.map((e) => e.bytes)).equals(data) &&
      taken.length === 5 &&
      taken.every((p, k) => p.equals(packets.filter((q) => q[0] === 0x32)[k]!)) &&
      events.every((e) => e.kind === 'pass' || e.bytes[0] === 0x32) &&
      events.every((e) => e.kind === 'pass' || e.bodyAt === (e.bytes.length > 20_000 ? 4 : e.bytes.length > 129 ? 3 : 2));
    if (!ok) bad++;
  };
  for (let a = 0; a <= data.length; a += a < 300 ? 1 : 97) check([a]);
  check(Array.from({ length: 400 }, (_, i) => i + 1)); // one byte at a time through the first packets
  for (let seed = 1; seed <= 200; seed++) {
    let x = seed;
    const cuts: number[] = [];
    for (let at = 0; at < data.length; ) {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      at += 1 + (x % 700);
      if (at < data.length) cuts.push(at);
    }
    check(cuts);
  }
  t.equal(bad, 0, 'every cut: the same bytes in the same order, each wanted packet whole and alone');
});

t.test('a packet the sink gives back after all reaches the broker whole, in its place', async (t) => {
  const packets = [packet(0x30, 3), packet(0x32, 40), packet(0x32, 41), packet(0xc0, 0)];
  const data = Buffer.concat(packets);
  const refuse = (p: Buffer) => p.length === packets[2]!.length;
  for (const cut of [0, 3, 6, 30, 50, 60, data.length - 1]) {
    const events = frame(data, [cut], (first) => first === 0x32, refuse);
    t.ok(Buffer.concat(events.map((e) => e.bytes)).equals(data), `cut at ${cut}: stream order kept`);
    t.same(events.filter((e) => e.kind === 'take').map((e) => e.bytes.length), [packets[1]!.length], `cut at ${cut}: only the first PUBLISH taken`);
  }
});
