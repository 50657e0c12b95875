/** apcupsd is not installed here: a tiny in-test TCP server speaks NIS's framing (2-byte big-endian length, both ways). */
import t from 'tap';
import net from 'node:net';
import { fetchApcupsdStatus, frame, readFrames } from './apcupsd-client.js';
import { ApcupsdSource } from './apcupsd-source.js';
import { readingFromApcupsd } from './reading.js';

async function nis(status: string, seen: string[]): Promise<{ port: number; close: () => void }> {
  const srv = net.createServer((s) => {
    let buf: Buffer = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      const { frames, rest } = readFrames(Buffer.concat([buf, d]));
      buf = rest;
      for (const f of frames) {
        seen.push(f.toString());
        const lines = ['APC      : 001,036,0879', `STATUS   : ${status}`, 'BCHARGE  : 64.0 Percent', 'TIMELEFT : 12.5 Minutes', 'LOADPCT  : 21.0 Percent', 'LINEV    : 0.0 Volts', 'END APC  : 2024-05-01 10:00:00 +0200'];
        // one record per frame, then a zero-length frame; written in pieces to test reassembly
        const all = Buffer.concat([...lines.map((l) => frame(`${l}\n`)), frame('')]);
        s.write(all.subarray(0, 7));
        setTimeout(() => s.write(all.subarray(7)), 10);
      }
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return { port: (srv.address() as net.AddressInfo).port, close: () => srv.close() };
}

t.test('status over NIS: framing both ways, KEY : value, TIMELEFT in minutes', async (t) => {
  const seen: string[] = [];
  const s = await nis('ONBATT LOWBATT', seen);
  t.teardown(s.close);
  const rec = await fetchApcupsdStatus('127.0.0.1', s.port);
  t.same(seen, ['status'], 'the request was one framed "status"');
  t.equal(rec.STATUS, 'ONBATT LOWBATT');
  const r = await new ApcupsdSource({ host: '127.0.0.1', port: s.port, timeoutSeconds: 2 }).poll();
  t.same(r, { contact: 'ok', reading: { flags: ['OB', 'LB'], charge: 64, runtimeSec: 750, loadPct: 21, inputVoltage: 0 } });
});

t.test('COMMLOST is stale, not on battery; no daemon is unreachable', async (t) => {
  const s = await nis('COMMLOST', []);
  t.teardown(s.close);
  const r = await new ApcupsdSource({ host: '127.0.0.1', port: s.port, timeoutSeconds: 2 }).poll();
  t.equal(r.contact, 'stale');
  s.close();
  const r2 = await new ApcupsdSource({ host: '127.0.0.1', port: s.port, timeoutSeconds: 2 }).poll();
  t.equal(r2.contact, 'unreachable');
});

t.test('STATFLAG fills in what SHUTTING DOWN and COMMLOST hide from STATUS (values from the real apcupsd 3.14)', async (t) => {
  const flags = (STATUS: string, STATFLAG?: string) => readingFromApcupsd(STATFLAG === undefined ? { STATUS } : { STATUS, STATFLAG }).flags;
  t.same(flags('SHUTTING DOWN', '0x050E0610'), ['FSD', 'OB'], 'apcupsd shutting down on battery');
  t.same(flags('ONLINE SLAVE', '0x05000408'), ['OL', 'SLAVE']);
  t.same(flags('COMMLOST', '0x05000508'), ['COMMLOST', 'OL']);
  t.same(flags('ONBATT LOWBATT', '0x05000050 Status Flag'), ['OB', 'LB']);
  t.same(flags('SHUTTING DOWN'), ['FSD'], 'no STATFLAG: the STATUS words alone');
  for (const bad of ['', 'N/A', '0x', '0xZZ', '5', '0x123456789', 'Status 0x10']) t.same(flags('ONLINE', bad), ['OL'], `malformed STATFLAG ${JSON.stringify(bad)} is left out`);
});

t.test('fuzz: any STATUS and STATFLAG text gives a reading, never a throw', async (t) => {
  const alphabet = ' 0123456789abcdefxXOBLNTUSHGDW\t:';
  const rnd = (n: number) => Array.from({ length: Math.floor(Math.random() * n) }, () => alphabet[Math.floor(Math.random() * alphabet.length)]).join('');
  for (let i = 0; i < 5000; i++) {
    const r = readingFromApcupsd({ STATUS: rnd(30), STATFLAG: Math.random() < 0.5 ? `0x${rnd(10)}` : rnd(12) });
    if (!r.flags.every((f) => typeof f === 'string' && f.length > 0)) t.fail(`bad flags ${JSON.stringify(r.flags)}`);
  }
  t.pass('5000 random records read');
});
