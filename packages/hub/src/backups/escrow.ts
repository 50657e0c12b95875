/**
 * The hub's escrow keypair (X25519), created on first start in `<dataDir>/escrow-key.json`
 * (mode 0600). Agents seal their master key to its public half; only this hub can open it, for a
 * restore after fire or flood. Back this file up with the hub: without it, escrowed keys are lost.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { escrowAad, generateEscrowKeyPair, SealedKey, unsealKey, writeFileAtomic } from '@sentinela/shared';
import type { Db } from '../store/db.js';
import { getEscrow } from './catalogue.js';

export interface EscrowKeyPair {
  privatePem: string;
  publicRaw: Buffer;
}

export function escrowKeyPath(dataDir: string): string {
  return join(dataDir, 'escrow-key.json');
}

export function loadOrCreateEscrowKey(dataDir: string): EscrowKeyPair {
  const path = escrowKeyPath(dataDir);
  if (existsSync(path)) {
    if (statSync(path).mode & 0o077) throw new Error(`the escrow key ${path} is readable by other users; run: chmod 600 ${path}`);
    const j = JSON.parse(readFileSync(path, 'utf8')) as { privatePem: string; publicKey: string };
    return { privatePem: j.privatePem, publicRaw: Buffer.from(j.publicKey, 'base64') };
  }
  const kp = generateEscrowKeyPair();
  writeFileAtomic(path, JSON.stringify({ v: 1, alg: 'x25519', publicKey: kp.publicRaw.toString('base64'), privatePem: kp.privatePem, created: new Date().toISOString() }, null, 2) + '\n', 0o600);
  return kp;
}

/** The site's master key (32 bytes) from its escrow deposit, or null when it never deposited one. */
export function unsealSiteKey(db: Db, dataDir: string, siteId: string): { key: Buffer; keyId: string } | null {
  const row = getEscrow(db, siteId);
  if (!row) return null;
  const sealed = SealedKey.parse(JSON.parse(row.sealed));
  return { key: unsealKey(sealed, loadOrCreateEscrowKey(dataDir).privatePem, escrowAad(siteId, row.keyId)), keyId: row.keyId };
}
