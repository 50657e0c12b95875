/**
 * apcupsd's Network Information Server (NIS, TCP 3551). Every message, both ways, is framed by a
 * 2-byte big-endian length. We send `status`; apcupsd answers one record per frame
 * ("KEY      : value"), then "END APC", then a zero-length frame.
 */
import net from 'node:net';

export function frame(text: string): Buffer {
  const body = Buffer.from(text, 'utf8');
  const out = Buffer.alloc(2 + body.length);
  out.writeUInt16BE(body.length, 0);
  body.copy(out, 2);
  return out;
}

/** Splits a byte stream into frames; returns the frames found and the unread rest. */
export function readFrames(buf: Buffer): { frames: Buffer[]; rest: Buffer } {
  const frames: Buffer[] = [];
  let at = 0;
  while (buf.length - at >= 2) {
    const len = buf.readUInt16BE(at);
    if (buf.length - at - 2 < len) break;
    frames.push(buf.subarray(at + 2, at + 2 + len));
    at += 2 + len;
  }
  return { frames, rest: buf.subarray(at) };
}

/** "KEY : value" records into an object (keys as apcupsd spells them: STATUS, BCHARGE, TIMELEFT…). */
export function parseStatusRecords(records: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of records) {
    const m = /^([A-Z0-9 ]+?)\s*:\s?(.*)$/.exec(r.replace(/\n$/, ''));
    if (m && m[1] !== 'END APC') out[m[1]!.trim()] = m[2]!.trim();
  }
  return out;
}

export function fetchApcupsdStatus(host: string, port: number, timeoutMs = 5000): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let buf: Buffer = Buffer.alloc(0);
    const records: string[] = [];
    const done = (err: Error | null, value?: Record<string, string>) => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(value!);
    };
    const timer = setTimeout(() => done(new Error(`apcupsd at ${host}:${port} did not answer within ${timeoutMs} ms`)), timeoutMs);
    socket.on('connect', () => socket.write(frame('status')));
    socket.on('error', (err: NodeJS.ErrnoException) => done(new Error(`cannot reach apcupsd at ${host}:${port}: ${err.code ?? err.message}`)));
    socket.on('close', () => done(new Error(`apcupsd at ${host}:${port} closed the connection before the end of its answer`)));
    socket.on('data', (chunk: Buffer) => {
      const { frames, rest } = readFrames(Buffer.concat([buf, chunk]));
      buf = rest;
      for (const f of frames) {
        if (f.length === 0) return done(null, parseStatusRecords(records));
        records.push(f.toString('utf8'));
      }
    });
  });
}
