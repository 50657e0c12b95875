/** Snapshot manifests: encrypted like objects (aad sentinela/v1/manifest), wrapped in a plaintext envelope. */
import { randomBytes } from 'node:crypto';
import { SnapshotManifest } from '@sentinela/shared';
import type { Subkeys } from './keys.js';
import { AAD_MANIFEST, openObject, sealObject } from './objects.js';
import { RepositoryError } from './errors.js';
import type { SnapshotEnvelope } from './store.js';

export async function sealManifest(keys: Subkeys, m: SnapshotManifest): Promise<SnapshotEnvelope> {
  const { stored } = await sealObject(keys, Buffer.from(JSON.stringify(m)), AAD_MANIFEST, 9);
  return { v: 1, id: m.id, site: m.site, base: m.base, objects: m.objects, manifest: stored.toString('base64') };
}

/** Decrypts and checks a manifest against its envelope (an envelope edited by hand is refused). */
export async function openManifest(keys: Subkeys, env: SnapshotEnvelope): Promise<SnapshotManifest> {
  const plain = await openObject(keys, Buffer.from(env.manifest, 'base64'), AAD_MANIFEST, `the manifest of snapshot ${env.id}`).catch((err: unknown) => {
    throw new RepositoryError((err as Error).message, 'bad-manifest');
  });
  let parsed: SnapshotManifest;
  try {
    parsed = SnapshotManifest.parse(JSON.parse(plain.toString('utf8')));
  } catch (err) {
    throw new RepositoryError(`the manifest of snapshot ${env.id} is not a valid v1 manifest: ${(err as Error).message.slice(0, 200)}`, 'bad-manifest');
  }
  if (parsed.id !== env.id || parsed.base !== env.base || parsed.objects.join() !== env.objects.join())
    throw new RepositoryError(`snapshot file ${env.id} does not match its encrypted manifest (edited or swapped)`, 'bad-manifest');
  return parsed;
}

/** YYYYMMDDTHHMMSSZ-<source>-<random>: sorts by time. */
export function newSnapshotId(source: string, at: Date): string {
  const t = at.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
  const rnd = BigInt('0x' + randomBytes(5).toString('hex')).toString(36).padStart(8, '0');
  return `${t}-${source}-${rnd}`;
}

/** Oldest first: by start time, then id. */
export function byTime(a: SnapshotManifest, b: SnapshotManifest): number {
  return a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
