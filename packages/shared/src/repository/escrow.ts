/**
 * Key escrow: the site's master key sealed to the hub's X25519 public key (ECIES: an ephemeral
 * sender key, X25519, HKDF-SHA256, AES-256-GCM). The agent seals; only the hub's private key opens
 * it, so a restore after fire or flood needs the hub and an authorised person, not the lost server.
 */
import { createCipheriv, createDecipheriv, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import type { SealedKey } from '../protocol/sync.js';

const INFO = 'sentinela/v1/escrow';
// The fixed DER prefix of an X25519 SubjectPublicKeyInfo: raw keys travel as 32 bytes.
const SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');

export function rawPublicKey(key: KeyObject): Buffer {
  return key.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length);
}

export function publicKeyFromRaw(raw: Buffer): KeyObject {
  if (raw.length !== 32) throw new Error(`an X25519 public key is 32 bytes, not ${raw.length}`);
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

export function generateEscrowKeyPair(): { privatePem: string; publicRaw: Buffer } {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  return { privatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, publicRaw: rawPublicKey(publicKey) };
}

function aeadKey(shared: Buffer, epk: Buffer, to: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', shared, Buffer.concat([epk, to]), INFO, 32));
}

/** `aad` binds the sealed key to its site and key id: a sealed key moved to another site does not open. */
export function sealKey(key: Buffer, hubPublicRaw: Buffer, aad: string): SealedKey {
  const eph = generateKeyPairSync('x25519');
  const epk = rawPublicKey(eph.publicKey);
  const shared = diffieHellman({ privateKey: eph.privateKey, publicKey: publicKeyFromRaw(hubPublicRaw) });
  const nonce = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', aeadKey(shared, epk, hubPublicRaw), nonce);
  c.setAAD(Buffer.from(aad));
  const ct = Buffer.concat([c.update(key), c.final()]);
  return { alg: 'x25519-hkdf-sha256-aes256gcm', to: hubPublicRaw.toString('base64'), epk: epk.toString('base64'), nonce: nonce.toString('base64'), ct: ct.toString('base64'), tag: c.getAuthTag().toString('base64') };
}

export function unsealKey(sealed: SealedKey, hubPrivatePem: string, aad: string): Buffer {
  const priv = createPrivateKey(hubPrivatePem);
  const to = rawPublicKey(createPublicKey(priv));
  if (to.toString('base64') !== sealed.to) throw new Error('the key was sealed to another hub key');
  const epk = Buffer.from(sealed.epk, 'base64');
  const shared = diffieHellman({ privateKey: priv, publicKey: publicKeyFromRaw(epk) });
  const d = createDecipheriv('aes-256-gcm', aeadKey(shared, epk, to), Buffer.from(sealed.nonce, 'base64'));
  d.setAAD(Buffer.from(aad));
  d.setAuthTag(Buffer.from(sealed.tag, 'base64'));
  try {
    return Buffer.concat([d.update(Buffer.from(sealed.ct, 'base64')), d.final()]);
  } catch {
    throw new Error('the sealed key fails authentication (altered, or for another site)');
  }
}

export function escrowAad(siteId: string, keyId: string): string {
  return `${INFO}|${siteId}|${keyId}`;
}
