import t from 'tap';
import net from 'node:net';
import { GuardedSocket, PacketScanner, type Violation } from './packet-guard.js';

/** Remaining-length varint, as MQTT encodes it. */
function varint(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

function packet(type: number, bodyLength: number): Buffer {
  return Buffer.concat([Buffer.from([type, ...varint(bodyLength)]), Buffer.alloc(bodyLength, 0x61)]);
}

function scanChunks(limit: number, data: Buffer, cuts: number[]): Violation | null {
  const s = new PacketScanner(limit);
  let from = 0;
  for (const cut of [...cuts, data.length]) {
    const v = s.scan(data.subarray(from, cut));
    if (v) return v;
    from = cut;
  }
  return null;
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
