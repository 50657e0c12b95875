/**
 * Target (b): the payload decoders, in process. Every mutated payload goes through its decoder;
 * a status or event also through decodeUpHead, whose byte-level path must agree with the full
 * decode (same verdict; when it proves a payload valid, the same site, stream, seq and time). A
 * decoder may only answer; a throw is a crash.
 */
import {
  DecodeError,
  decodeDown,
  decodeRelayAck,
  decodeRelayBatch,
  decodeSyncDown,
  decodeSyncUp,
  decodeUp,
  DEFAULT_MAX_PAYLOAD_BYTES,
} from '@sentinela/shared';
import { decodeUpHead } from '@sentinela/hub';
import { mutateBytes, mutateJsonBytes, oddString } from './mutate.js';
import { allSeeds, type PayloadSeed } from './payload-seeds.js';
import { Rng } from './rng.js';
import { campaign, Tally, type Outcome, type TargetReport } from './tally.js';

const SITE = 'hf-fuzz-0001';

function mutateTopic(rng: Rng, topic: string): string {
  const parts = topic.split('/');
  const i = rng.below(parts.length);
  switch (rng.below(4)) {
    case 0:
      parts[i] = oddString(rng);
      break;
    case 1:
      parts.splice(i, 1);
      break;
    case 2:
      parts[i] = rng.pick(['hf-other', 'status', 'event', 'ack', 'up', 'down', '+', '#', 'HF-FUZZ-0001']);
      break;
    default:
      parts.splice(i, 0, parts[i]!);
  }
  return parts.join('/');
}

function mutatePayload(rng: Rng, seed: PayloadSeed, donor: PayloadSeed): Buffer {
  if (rng.chance(0.15)) return mutateBytes(rng, seed.bytes, donor.bytes);
  const json = mutateJsonBytes(rng, seed.doc, donor.bytes);
  if (!seed.tail) return json;
  return Buffer.concat([json, Buffer.of(0x0a), rng.chance(0.3) ? mutateBytes(rng, seed.tail) : seed.tail]);
}

const refusedBy = (what: string, err: unknown): Outcome =>
  err instanceof DecodeError && err.message.length > 0 ? { kind: 'refused', why: `${what}: ${err.code}` } : { kind: 'crash', detail: `${what}: a refusal without a DecodeError: ${String(err)}` };

/** One decode; what it answered, or a crash when it threw or the two paths of an up/ message disagree. */
export function decodeOne(seed: PayloadSeed, topic: string, payload: Buffer): Outcome {
  try {
    switch (seed.decoder) {
      case 'up': {
        const full = decodeUp(topic, payload);
        const fast = decodeUpHead(topic, payload);
        if (full.ok !== fast.ok) return { kind: 'crash', detail: `decodeUp says ${full.ok ? 'valid' : full.error.message}; decodeUpHead says ${fast.ok ? 'valid' : fast.error.message}` };
        if (!full.ok || !fast.ok) {
          if (full.ok || fast.ok || full.error.code !== fast.error.code) return { kind: 'crash', detail: 'decodeUp and decodeUpHead refuse with different codes' };
          return refusedBy('up', full.error);
        }
        if (fast.text === null) {
          const m = full.message as { site: string; type: string; stream?: string; seq?: number; ts?: string };
          const h = fast.message;
          if (m.site !== h.site || m.type !== h.type || m.stream !== h.stream || m.seq !== h.seq || m.ts !== h.ts)
            return { kind: 'crash', detail: `the byte-level path read ${JSON.stringify(h)}, the full decode ${JSON.stringify({ site: m.site, type: m.type, stream: m.stream, seq: m.seq, ts: m.ts })}` };
          return { kind: 'accepted' };
        }
        return { kind: 'accepted' };
      }
      case 'down': {
        const r = decodeDown(topic, payload);
        return r.ok ? { kind: 'accepted' } : refusedBy('down', r.error);
      }
      case 'sync-up':
      case 'sync-down': {
        const r = seed.decoder === 'sync-up' ? decodeSyncUp(topic, payload, DEFAULT_MAX_PAYLOAD_BYTES) : decodeSyncDown(topic, payload);
        return r.ok ? { kind: 'accepted' } : refusedBy(seed.decoder, r.error);
      }
      default: {
        const r = seed.decoder === 'relay-batch' ? decodeRelayBatch(payload) : decodeRelayAck(payload);
        if (r.ok) return { kind: 'accepted' };
        return r.error.length > 0 ? { kind: 'refused', why: `${seed.decoder}: invalid` } : { kind: 'crash', detail: 'an empty refusal' };
      }
    }
  } catch (err) {
    return { kind: 'crash', detail: `${seed.decoder} decoder threw: ${(err as Error).stack ?? String(err)}` };
  }
}

export async function fuzzDecoders(opts: { inputs: number; seed: number; failureFile: string }): Promise<TargetReport> {
  const tally = new Tally('decoders', opts.seed, opts.failureFile);
  const seeds = allSeeds(SITE);
  // Every seed must decode as valid, or the campaign would only exercise the first check.
  for (const s of seeds) {
    const o = decodeOne(s, s.topic, s.bytes);
    if (o.kind !== 'accepted') throw new Error(`decoder seed ${s.topic} is not accepted: ${JSON.stringify(o)}`);
  }
  await campaign(opts.inputs, 1, async (i) => {
    const rng = Rng.forInput(opts.seed, 'decoders', i);
    const seed = rng.pick(seeds);
    const topic = rng.chance(0.1) ? mutateTopic(rng, seed.topic) : seed.topic;
    const payload = mutatePayload(rng, seed, rng.pick(seeds));
    tally.add(i, decodeOne(seed, topic, payload), `${topic}\n${payload.toString('hex')}`);
    if (i % 1000 === 999) await new Promise((r) => setImmediate(r));
  });
  return tally.finish();
}
