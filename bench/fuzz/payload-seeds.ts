/**
 * Valid payloads of every message kind, built for a given site and checked by the shared encoders
 * (encodeUp, encodeDown, encodeSyncUp/Down, encodeRelay refuse an invalid one): the seeds the
 * decoder and MQTT targets mutate.
 */
import {
  downTopic,
  encodeDown,
  encodeRelay,
  encodeSyncDown,
  encodeSyncUp,
  encodeUp,
  relayAckTopic,
  relayBatchTopic,
  syncDownTopic,
  syncUpTopic,
  upTopic,
} from '@sentinela/shared';
import * as sample from '@sentinela/shared/test-support/samples';

export interface PayloadSeed {
  /** Which decoder reads it. */
  decoder: 'up' | 'down' | 'sync-up' | 'sync-down' | 'relay-batch' | 'relay-ack';
  topic: string;
  /** The JSON document (for structural mutation); `tail` follows it after a newline (a sync piece's bytes). */
  doc: unknown;
  tail?: Buffer;
  bytes: Buffer;
}

const STREAM = 'stream-fuzz-0001';
const TS = '2026-11-24T10:00:00.000Z';
const HASH = 'a'.repeat(64);
const SNAP = '20261124T100000Z-clinic-abc12345';

/** A sample of the shared protocol tests (samples.test-support), as sent by `site` on the seeds' stream. */
function ours<T extends object>(doc: T, site: string, more: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...(structuredClone(doc) as Record<string, unknown>), site, ...('stream' in doc ? { stream: STREAM } : {}), ...more };
}

export function statusDoc(site: string, seq: number): Record<string, unknown> {
  return ours(sample.status, site, { seq, ts: TS });
}

export function upSeeds(site: string): PayloadSeed[] {
  const docs: Array<[Parameters<typeof upTopic>[1], Record<string, unknown>]> = [
    ['status', statusDoc(site, 7)],
    ['status', { v: 1, type: 'status', site, stream: STREAM, seq: 8, ts: TS, host: sample.status.host, services: [] }],
    ['event', ours(sample.event, site, { seq: 9 })],
    ['birth', ours(sample.birth, site, { ts: TS })],
    ['death', ours(sample.death, site)],
  ];
  return docs.map(([kind, doc]) => ({ decoder: 'up', topic: upTopic(site, kind), doc, bytes: encodeUp(doc as never) }));
}

export function allSeeds(site: string): PayloadSeed[] {
  const envelope = { v: 1, id: SNAP, site, base: null, objects: [HASH], manifest: 'AAAA' };
  const sealed = { alg: 'x25519-hkdf-sha256-aes256gcm', to: 'AAAA', epk: 'AAAA', nonce: 'AAAA', ct: 'AAAA', tag: 'AAAA' };
  const piece = { v: 1, type: 'piece', site, snapshot: SNAP, object: HASH, offset: 0, total: 3, sha256: HASH };
  const data = Buffer.from('abc');
  const seeds: PayloadSeed[] = [
    ...upSeeds(site),
    { decoder: 'down', topic: downTopic(site, 'ack'), doc: { v: 1, type: 'ack', site, stream: STREAM, acked: [[1, 3], [5, 5]], rejected: [{ seq: 4, reason: 'invalid: x' }] }, bytes: Buffer.alloc(0) },
    { decoder: 'down', topic: downTopic(site, 'cmd'), doc: { v: 1, type: 'cmd', site, id: 'c1', name: 'backup.now', ts: TS, args: { source: 'clinic' } }, bytes: Buffer.alloc(0) },
    { decoder: 'sync-up', topic: syncUpTopic(site, 'offer'), doc: { v: 1, type: 'offer', site, keyId: 'b'.repeat(32), snapshot: envelope, sizes: [3] }, bytes: Buffer.alloc(0) },
    { decoder: 'sync-up', topic: syncUpTopic(site, 'piece'), doc: piece, tail: data, bytes: Buffer.alloc(0) },
    { decoder: 'sync-up', topic: syncUpTopic(site, 'escrow'), doc: { v: 1, type: 'escrow', site, keyId: 'b'.repeat(32), sealed }, bytes: Buffer.alloc(0) },
    { decoder: 'sync-down', topic: syncDownTopic(site, 'need'), doc: { v: 1, type: 'need', site, snapshot: SNAP, missing: [{ object: HASH, offset: 0 }], escrowKey: null, escrowHeld: false }, bytes: Buffer.alloc(0) },
    { decoder: 'sync-down', topic: syncDownTopic(site, 'got'), doc: { v: 1, type: 'got', site, snapshot: SNAP, object: HASH, offset: 0, ok: true, next: 3, complete: true }, bytes: Buffer.alloc(0) },
    { decoder: 'sync-down', topic: syncDownTopic(site, 'done'), doc: { v: 1, type: 'done', site, snapshot: SNAP, ok: true }, bytes: Buffer.alloc(0) },
    { decoder: 'relay-batch', topic: relayBatchTopic('dps-1'), doc: { v: 1, type: 'batch', relay: 'dps-1', province: 'Maputo', items: [{ n: 1, kind: 'message', site, payload: JSON.stringify(statusDoc(site, 1)) }, { n: 2, kind: 'connection', site, event: 'birth', bdSeq: 0, clean: null, at: TS, agentVersion: '0.1.0' }], names: { [site]: 'Centro de Saúde' } }, bytes: Buffer.alloc(0) },
    { decoder: 'relay-ack', topic: relayAckTopic('dps-1'), doc: { v: 1, type: 'ack', relay: 'dps-1', upTo: 2, refused: [{ n: 2, site, reason: 'x' }] }, bytes: Buffer.alloc(0) },
  ];
  for (const s of seeds) {
    if (s.bytes.length) continue;
    const d = s.doc as never;
    s.bytes =
      s.decoder === 'down' ? encodeDown(d)
      : s.decoder === 'sync-up' ? encodeSyncUp(d, s.tail)
      : s.decoder === 'sync-down' ? encodeSyncDown(d)
      : encodeRelay(d);
  }
  return seeds;
}
