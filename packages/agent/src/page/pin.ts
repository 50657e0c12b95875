/**
 * The page's PIN, stored as an scrypt hash in a file of mode 0600 (written by `page set-pin`).
 * The file holds "scrypt$N$r$p$salt$hash" (base64), so the cost can be raised later without breaking old files.
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic, type AgentConfig } from '@sentinela/shared';

const COST = { N: 16384, r: 8, p: 1 };
const KEYLEN = 32;
export const PIN_PATTERN = /^\d{4,12}$/;

function scrypt(pin: string, salt: Buffer, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCb(pin, salt, KEYLEN, { ...opts, maxmem: 64 * 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key))));
}

export function pinFilePath(config: AgentConfig): string {
  return config.page?.pinFile ?? join(config.dataDir, 'page-pin');
}

export async function hashPin(pin: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(pin, salt, COST);
  return `scrypt$${COST.N}$${COST.r}$${COST.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** Whether `pin` matches the stored hash; false for a malformed record. Constant-time compare. */
export async function checkPin(pin: string, record: string): Promise<boolean> {
  const [kind, n, r, p, salt, hash] = record.trim().split('$');
  if (kind !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const got = await scrypt(pin, Buffer.from(salt, 'base64'), { N: Number(n), r: Number(r), p: Number(p) });
  return got.length === expected.length && timingSafeEqual(got, expected);
}

export async function writePinFile(file: string, pin: string): Promise<void> {
  if (!PIN_PATTERN.test(pin)) throw new Error('the PIN must be 4 to 12 digits');
  writeFileAtomic(file, (await hashPin(pin)) + '\n', 0o600);
}

/** The stored record, or null when no PIN has been set (actions stay disabled). Read on each use: set-pin needs no restart. */
export function readPinFile(file: string): string | null {
  try {
    const text = readFileSync(file, 'utf8').trim();
    return text || null;
  } catch {
    return null;
  }
}
