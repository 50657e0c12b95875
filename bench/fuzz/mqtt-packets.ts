/**
 * MQTT packets as fields (MQTT 3.1.1 and 5), so that a mutation can change one field (a length
 * prefix, a flag, a packet id, a property, the remaining length) and the packet is serialized
 * around it: the bytes stay a plausible packet up to the spot that is wrong.
 */
import type { Rng } from './rng.js';
import { mutateBytes, oddString } from './mutate.js';
// The remaining-length encoding the hub's own tests write raw packets with.
import { varint } from '@sentinela/hub/harness.test-support';

type FieldKind = 'u8' | 'u16' | 'u32' | 'varint' | 'str' | 'bin' | 'props' | 'raw';

export interface Field {
  kind: FieldKind;
  /** A number for u8/u16/u32/varint; bytes otherwise. */
  value: number | Buffer;
  /** A length prefix that does not match the bytes (str, bin, props). */
  lengthOverride?: number;
}

export interface Packet {
  first: number;
  fields: Field[];
  /** A remaining length that does not match the body, or an over-long encoding of it. */
  lengthOverride?: number;
  overlongLength?: boolean;
}

const u8 = (value: number): Field => ({ kind: 'u8', value });
const u16 = (value: number): Field => ({ kind: 'u16', value });
const str = (s: string | Buffer): Field => ({ kind: 'str', value: Buffer.isBuffer(s) ? s : Buffer.from(s) });
const bin = (b: Buffer | string): Field => ({ kind: 'bin', value: Buffer.isBuffer(b) ? b : Buffer.from(b) });
const props = (b: Buffer): Field => ({ kind: 'props', value: b });
const raw = (b: Buffer): Field => ({ kind: 'raw', value: b });

function encodeField(f: Field): Buffer {
  const v = f.value;
  switch (f.kind) {
    case 'u8':
      return Buffer.of((v as number) & 0xff);
    case 'u16':
      return Buffer.of(((v as number) >> 8) & 0xff, (v as number) & 0xff);
    case 'u32': {
      const b = Buffer.alloc(4);
      b.writeUInt32BE((v as number) >>> 0);
      return b;
    }
    case 'varint':
      return Buffer.from(varint(v as number));
    case 'str':
    case 'bin': {
      const len = f.lengthOverride ?? (v as Buffer).length;
      return Buffer.concat([Buffer.of((len >> 8) & 0xff, len & 0xff), v as Buffer]);
    }
    case 'props':
      return Buffer.concat([Buffer.from(varint(f.lengthOverride ?? (v as Buffer).length)), v as Buffer]);
    default:
      return v as Buffer;
  }
}

export function encodePacket(p: Packet): Buffer {
  const body = Buffer.concat(p.fields.map(encodeField));
  let len = varint(p.lengthOverride ?? body.length);
  if (p.overlongLength && len.length < 4) len = [...len.slice(0, -1).map((b) => b | 0x80), len[len.length - 1]! | 0x80, 0x00];
  return Buffer.concat([Buffer.of(p.first), Buffer.from(len), body]);
}

/** MQTT 5 properties: id byte, then the value in its type. */
const pStr = (id: number, s: string) => Buffer.concat([Buffer.of(id), encodeField(str(s))]);
const pU32 = (id: number, n: number) => Buffer.concat([Buffer.of(id), encodeField({ kind: 'u32', value: n })]);
const pU16 = (id: number, n: number) => Buffer.concat([Buffer.of(id), encodeField(u16(n))]);
const pUser = (k: string, v: string) => Buffer.concat([Buffer.of(0x26), encodeField(str(k)), encodeField(str(v))]);

export interface Credentials {
  siteId: string;
  password: string;
}

export function connect(c: Credentials, version: 4 | 5, opts: { will?: { topic: string; payload: Buffer }; keepalive?: number } = {}): Packet {
  const flags = 0xc2 | (opts.will ? 0x04 | 0x08 : 0); // username, password, clean session; will at QoS 1
  const fields: Field[] = [str('MQTT'), u8(version), u8(flags), u16(opts.keepalive ?? 30)];
  if (version === 5) fields.push(props(Buffer.concat([pU32(0x11, 0), pU16(0x21, 20), pU32(0x27, 1 << 20), pUser('agent', '0.1.0')])));
  fields.push(str(c.siteId));
  if (opts.will) {
    if (version === 5) fields.push(props(pU32(0x18, 0)));
    fields.push(str(opts.will.topic), bin(opts.will.payload));
  }
  fields.push(str(c.siteId), bin(c.password));
  return { first: 0x10, fields };
}

export function publish(topic: string, payload: Buffer, qos: 0 | 1 | 2, id: number, version: 4 | 5 = 4): Packet {
  const fields: Field[] = [str(topic)];
  if (qos > 0) fields.push(u16(id));
  if (version === 5) fields.push(props(Buffer.concat([Buffer.of(0x01, 1), pU32(0x02, 3600), pStr(0x03, 'application/json'), pUser('k', 'v')])));
  fields.push(raw(payload));
  return { first: 0x30 | (qos << 1), fields };
}

export function subscribe(topic: string, id: number, version: 4 | 5 = 4): Packet {
  const fields: Field[] = [u16(id)];
  if (version === 5) fields.push(props(Buffer.concat([Buffer.of(0x0b, 1), pUser('k', 'v')])));
  fields.push(str(topic), u8(1));
  return { first: 0x82, fields };
}

export function unsubscribe(topic: string, id: number): Packet {
  return { first: 0xa2, fields: [u16(id), str(topic)] };
}

export const ack = (type: 4 | 5 | 6 | 7, id: number): Packet => ({ first: (type << 4) | (type === 6 ? 2 : 0), fields: [u16(id)] });
export const pingreq = (): Packet => ({ first: 0xc0, fields: [] });
export const disconnect = (version: 4 | 5): Packet => ({ first: 0xe0, fields: version === 5 ? [u8(0), props(pU32(0x11, 0))] : [] });
export const auth = (): Packet => ({ first: 0xf0, fields: [u8(0x18), props(pStr(0x15, 'SCRAM-SHA-1'))] });

const EDGE_INTS = [0, 1, 2, 3, 4, 5, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0xffff, 0x10000, 2 ** 28, 2 ** 31, 2 ** 32 - 1];

function mutateField(rng: Rng, f: Field): Field {
  if (typeof f.value === 'number') return { ...f, value: rng.chance(0.7) ? rng.pick(EDGE_INTS) : f.value ^ (1 << rng.below(16)) };
  const b = f.value;
  switch (rng.below(6)) {
    case 0:
      if (f.kind === 'raw') return { ...f, value: b.subarray(0, rng.below(b.length + 1)) };
      return { ...f, lengthOverride: rng.pick([0, 1, b.length - 1, b.length + 1, b.length + 100, 0xffff].filter((n) => n >= 0)) };
    case 1:
      return { ...f, value: Buffer.from(oddString(rng)) };
    case 2:
      return { ...f, value: b.subarray(0, rng.below(b.length + 1)) };
    case 3:
      return { ...f, value: Buffer.from(rng.pick(['sentinela/v1/site/hf-x/up/status', '#', '+/+', '$SYS/#', 'sentinela/v1/site/+/up/sync/piece', '\u0000', 'sentinela/v1/relay/r/up/batch'])) };
    default:
      return { ...f, value: mutateBytes(rng, b) };
  }
}

/**
 * One to three structural changes: the type/flags byte (QoS 3, DUP, RETAIN, reserved bits, another
 * type), a field (value, length prefix, contents), a field removed, repeated or swapped, the body
 * cut short with a matching remaining length, or a remaining length that does not match.
 */
export function mutatePacket(rng: Rng, p: Packet): Packet {
  const q: Packet = { ...p, fields: p.fields.map((f) => ({ ...f })) };
  for (let n = rng.between(1, 3); n > 0; n--) {
    const i = q.fields.length ? rng.below(q.fields.length) : 0;
    switch (rng.below(9)) {
      case 0:
        q.first = rng.chance(0.5) ? q.first ^ (1 << rng.below(4)) : (q.first & 0x0f) | (rng.below(16) << 4);
        break;
      case 1:
        q.first = (q.first & 0xf0) | rng.pick([0x06, 0x08, 0x09, 0x0b, 0x01, 0x02]);
        break;
      case 2:
      case 3:
        if (q.fields.length) q.fields[i] = mutateField(rng, q.fields[i]!);
        break;
      case 4:
        q.fields.splice(i, 1);
        break;
      case 5:
        if (q.fields.length) q.fields.splice(i, 0, { ...q.fields[i]! });
        break;
      case 6: {
        // The body cut short, the remaining length saying so: the packet is whole but too short for its fields.
        const body = Buffer.concat(q.fields.map(encodeField));
        q.fields = [raw(body.subarray(0, rng.below(Math.min(body.length, 8) + 1) + (rng.chance(0.5) ? 0 : rng.below(body.length + 1))))];
        break;
      }
      case 7:
        q.overlongLength = true;
        break;
      default: {
        const body = Buffer.concat(q.fields.map(encodeField)).length;
        q.lengthOverride = Math.max(0, rng.pick([body - 1, body + 1, body - 2, 0, 1, 2, 268_435_455, body + rng.size(64)]));
      }
    }
  }
  return q;
}

export interface Framing {
  /** Every packet's bytes are there (the peer has all it was told to expect). */
  complete: boolean;
}

/** Whether the bytes end on a packet boundary, read the way the hub's framer reads them. */
export function framing(bytes: Buffer): Framing {
  let i = 0;
  while (i < bytes.length) {
    i++;
    let len = 0;
    let mul = 1;
    let k = 0;
    for (;;) {
      if (i >= bytes.length) return { complete: false };
      const b = bytes[i++]!;
      len += (b & 0x7f) * mul;
      mul *= 128;
      if (!(b & 0x80)) break;
      if (++k === 4) return { complete: true }; // a varint of 5 bytes: malformed, refused at the header
    }
    if (len > 1 << 20) return { complete: true }; // beyond the hub's size limit: refused at the header
    if (i + len > bytes.length) return { complete: false };
    i += len;
  }
  return { complete: true };
}
