/** Random secrets and their stored form. */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A random token of `bytes` bytes, url-safe, with an optional readable prefix. */
export function randomToken(bytes = 32, prefix = ''): string {
  return prefix + randomBytes(bytes).toString('base64url');
}

/**
 * SHA-256 hex. Used for machine secrets of 256 random bits (site passwords, enrolment and API
 * tokens): at that entropy a fast hash is as safe as a slow one, and 500 agents reconnecting at
 * once cost nothing. People's passwords use scrypt instead (the console).
 */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export function hashesEqual(aHex: string, bHex: string): boolean {
  const a = Buffer.from(aHex, 'hex');
  const b = Buffer.from(bHex, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
