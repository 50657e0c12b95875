/**
 * The read path's decompression in pieces (objects.ts unpackPieces, object-io.ts readObjects):
 * content of every size comes back whole and in pieces of at most PIECE bytes; and a fuzz of
 * damaged objects. Damage to the stored bytes is caught by the name and by AES-GCM; damage to the
 * compressed bytes *under a valid key* (what a bug in a writer would make, re-encrypted here so it
 * passes authentication) must end in a RepositoryError, from the decompressor or from the
 * snapshot's content SHA-256: never another exception, a hang, or wrong bytes restored silently.
 */
import t from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { tempDir } from '../fixtures.test-support.js';
import { RepositoryError } from './errors.js';
import { MasterKey } from './keys.js';
import { newSnapshotId, sealManifest } from './manifests.js';
import { AAD_OBJECT, decrypt, encrypt, objectName, openObjectPieces, PIECE, sealObject, unpackPieces } from './objects.js';
import { initRepository } from './repository.js';
import { ShellSource } from './shell-source.test-support.js';

/** A small seeded generator (xorshift32): a failure prints the seed and round that reproduce it. */
function rng(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

t.test('content of every size comes back whole, in pieces of at most PIECE bytes', async (t) => {
  const keys = MasterKey.generate().subkeys();
  const text = Buffer.from('INSERT INTO observations VALUES (1,2,"pressão arterial",120);\n'.repeat(80_000)).subarray(0, 4 * 1024 * 1024);
  const sizes = [0, 1, PIECE - 1, PIECE, PIECE + 1, 3 * PIECE + 17, text.length];
  for (const n of sizes) {
    for (const [kind, content] of [['text', text.subarray(0, n)], ['random', randomBytes(n)]] as const) {
      const { stored } = await sealObject(keys, content, AAD_OBJECT, 1);
      const pieces = await openObjectPieces(keys, stored, AAD_OBJECT, 'object');
      t.ok(pieces.every((p) => p.length <= Math.max(PIECE, n)), `${kind} ${n}: pieces of at most PIECE bytes (incompressible content is one piece)`);
      t.equal(sha(Buffer.concat(pieces)), sha(content), `${kind} ${n} bytes: same content`);
    }
  }
});

t.test('damaged compressed bytes: a corrupt-object refusal or the exact content, never anything else (fuzz)', async (t) => {
  const keys = MasterKey.generate().subkeys();
  const content = Buffer.from(Array.from({ length: 40_000 }, (_, i) => `(${i},'obs-${i % 977}',${(i * 7919) % 1000})`).join(',\n'));
  const { stored } = await sealObject(keys, content, AAD_OBJECT, 1);
  const plain = decrypt(keys, stored, AAD_OBJECT, 'object');
  const seed = 16_2026;
  const r = rng(seed);
  let refused = 0;
  let exact = 0;
  let other = 0;
  for (let round = 0; round < 400; round++) {
    const bad = mutate(plain, r);
    try {
      const got = Buffer.concat(await unpackPieces(bad, `object (seed ${seed}, round ${round})`));
      if (got.equals(content)) exact++;
      else other++; // brotli has no checksum: caught by the snapshot's SHA-256 (next test)
    } catch (err) {
      if (!(err instanceof RepositoryError) || err.code !== 'corrupt-object') t.fail(`round ${round} (seed ${seed}): ${String(err)}`);
      else refused++;
    }
  }
  t.ok(refused > 200, `most damage refused as corrupt-object (${refused} of 400; ${exact} left the content intact, ${other} decoded to other bytes)`);

  // Damage to the stored bytes never gets past the name and the authentication tag.
  for (let round = 0; round < 100; round++) {
    const bad = Buffer.from(stored);
    bad[r(bad.length)]! ^= 1 << r(8);
    await t.rejects(openObjectPieces(keys, bad, AAD_OBJECT, 'object'), { code: 'corrupt-object' }, `stored byte flipped, round ${round}`);
  }
  t.not(objectName(stored), '', 'named');
});

t.test('a snapshot whose object decodes to other bytes is refused by its content SHA-256, in restore and verify (fuzz)', async (t) => {
  const dir = tempDir(t);
  const key = MasterKey.generate();
  const keys = key.subkeys();
  const repo = await initRepository(join(dir, 'repo'), { siteId: 'hc-fuzz-16', key });
  // ~9 MiB of dump: three objects, the last one short.
  const m = await repo.backup(new ShellSource('emr', 'seq 1 1300000 | sed "s/^/INSERT INTO obs VALUES (/; s/$/);/"'));
  t.ok(m.objects.length >= 3, `${m.objects.length} objects`);
  const original: Buffer[] = [];
  for await (const b of repo.read(m.id)) original.push(b as Buffer);
  const whole = Buffer.concat(original);
  t.equal(sha(whole), m.content.sha256, 'the snapshot reads back');

  const seed = 1_603;
  const r = rng(seed);
  const outcomes: Record<string, number> = {};
  // Round 0 is a damage searched for that decodes without error to other bytes (~2 % of them do):
  // only the content SHA-256 can catch it.
  const first = decrypt(keys, await repo.store.get(m.objects[0]!), AAD_OBJECT, 'object');
  const firstContent = Buffer.concat(await unpackPieces(first, 'object'));
  let silent: Buffer | null = null;
  for (let k = 0; k < 3000 && !silent; k++) {
    const bad = mutate(first, r);
    const got = await unpackPieces(bad, 'object').then((p) => Buffer.concat(p), () => null);
    if (got && !got.equals(firstContent)) silent = bad;
  }
  t.ok(silent, 'found a damage that decodes to other bytes');
  for (let round = 0; round < 12; round++) {
    const i = round === 0 ? 0 : r(m.objects.length);
    const plain = decrypt(keys, await repo.store.get(m.objects[i]!), AAD_OBJECT, 'object');
    const stored = encrypt(keys, round === 0 && silent ? silent : mutate(plain, r), AAD_OBJECT);
    const name = objectName(stored);
    await repo.store.put(name, stored);
    const objects = m.objects.map((o, j) => (j === i ? name : o));
    const id = newSnapshotId('emr', new Date(Date.parse(m.startedAt) + (round + 1) * 1000));
    await repo.store.writeEnvelope(await sealManifest(keys, { ...m, id, objects }));
    const got: Buffer[] = [];
    let outcome: string;
    try {
      for await (const b of repo.read(id)) got.push(b as Buffer);
      outcome = Buffer.concat(got).equals(whole) ? 'intact' : 'WRONG BYTES';
    } catch (err) {
      outcome = err instanceof RepositoryError ? err.code : `threw ${String(err)}`;
    }
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    t.ok(['corrupt-object', 'content-mismatch', 'intact'].includes(outcome), `round ${round} (seed ${seed}), object ${i}: ${outcome}`);
    if (round === 0) t.equal(outcome, 'content-mismatch', 'the bytes that decode wrong are refused by the content SHA-256');
    const report = await repo.verify({ readData: true });
    const flagged = report.problems.some((p) => p.item === id || p.item === name);
    t.equal(flagged, outcome !== 'intact', `round ${round}: verify --read-data ${outcome === 'intact' ? 'finds nothing' : 'names the snapshot or the object'}`);
    await repo.store.removeSnapshot(id);
  }
  t.comment(`outcomes: ${JSON.stringify(outcomes)}`);
});

/** One damage to a compressed object's plaintext (method byte ‖ brotli stream). */
function mutate(plain: Buffer, r: (n: number) => number): Buffer {
  const b = Buffer.from(plain);
  switch (r(6)) {
    case 0: // a few bits flipped in the stream
      for (let k = 1 + r(3); k > 0; k--) b[1 + r(b.length - 1)]! ^= 1 << r(8);
      return b;
    case 1: // truncated
      return b.subarray(0, 1 + r(b.length - 1));
    case 2: // garbage appended
      return Buffer.concat([b, noise(1 + r(64), r)]);
    case 3: // a run of bytes overwritten
      {
        const at = 1 + r(b.length - 1);
        noise(Math.min(1 + r(32), b.length - at), r).copy(b, at);
      }
      return b;
    case 4: // another method byte
      b[0] = 2 + r(250);
      return b;
    default: // bytes cut out of the middle
      {
        const at = 1 + r(b.length - 2);
        return Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + r(Math.min(16, b.length - at - 1)))]);
      }
  }
}

/** Bytes from the seeded generator (the damage is reproducible from the seed). */
function noise(n: number, r: (n: number) => number): Buffer {
  return Buffer.from(Array.from({ length: n }, () => r(256)));
}
