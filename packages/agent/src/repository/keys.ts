/**
 * The site's master key, its subkeys and its recovery code (docs/repository.md, "Keys").
 * The recovery code is what a person writes down: Crockford base32, a checksum, groups of four.
 */
import { createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { writeFileAtomic } from '@sentinela/shared';
import { RepositoryError } from './errors.js';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const KEY_BYTES = 32;
const KEY_CHARS = 52; // ceil(256 / 5); the 4 spare bits are zero
const CHECK_CHARS = 4; // 20 bits

export interface Subkeys {
  /** AES-256-GCM key for objects and manifests. */
  readonly objectKey: Buffer;
  /** HMAC-SHA256 key for the deterministic nonces. */
  readonly nonceKey: Buffer;
  /** Public fingerprint stored in sentinela-repo.json: tells "wrong key" apart from corruption. */
  readonly keyId: string;
}

export class MasterKey {
  private constructor(private readonly bytes: Buffer) {}

  static generate(): MasterKey {
    return new MasterKey(randomBytes(KEY_BYTES));
  }

  static fromBytes(bytes: Uint8Array): MasterKey {
    if (bytes.length !== KEY_BYTES) throw new RepositoryError(`a master key is ${KEY_BYTES} bytes, got ${bytes.length}`, 'key-file');
    return new MasterKey(Buffer.from(bytes));
  }

  /** Accepts any case, spaces and dashes; I/L read as 1 and O as 0 (Crockford). A typo fails the checksum. */
  static fromRecoveryCode(code: string): MasterKey {
    const clean = code.toUpperCase().replace(/[\s-]/g, '').replace(/[IL]/g, '1').replace(/O/g, '0');
    if (clean.length !== KEY_CHARS + CHECK_CHARS)
      throw new RepositoryError(`a recovery code has ${KEY_CHARS + CHECK_CHARS} characters (14 groups of 4); this one has ${clean.length}`, 'bad-recovery-code');
    const bad = [...clean].find((c) => !ALPHABET.includes(c));
    if (bad) throw new RepositoryError(`the recovery code contains "${bad}", which is not a code character`, 'bad-recovery-code');
    const bytes = base32Decode(clean.slice(0, KEY_CHARS), KEY_BYTES);
    if (!bytes || base32Encode(checksum(bytes)).slice(0, CHECK_CHARS) !== clean.slice(KEY_CHARS))
      throw new RepositoryError('the recovery code is mistyped (its checksum does not match): check each group of four characters', 'bad-recovery-code');
    return new MasterKey(bytes);
  }

  toRecoveryCode(): string {
    const text = base32Encode(this.bytes) + base32Encode(checksum(this.bytes)).slice(0, CHECK_CHARS);
    return text.match(/.{1,4}/g)!.join('-');
  }

  /** Reads a key file written by save(); refuses one that other users can read. */
  static load(path: string): MasterKey {
    let text: string;
    try {
      const mode = statSync(path).mode & 0o777;
      if (mode & 0o077)
        throw new RepositoryError(`the key file ${path} is readable by other users (mode ${mode.toString(8)}); run: chmod 600 ${path}`, 'key-file');
      text = readFileSync(path, 'utf8');
    } catch (err) {
      if (err instanceof RepositoryError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      throw new RepositoryError(
        code === 'ENOENT' ? `no backup key at ${path} (create it with: sentinela-agent key init)` : `cannot read the key file ${path}: ${(err as Error).message}`,
        'key-file',
      );
    }
    try {
      const parsed = JSON.parse(text) as { v?: number; key?: string };
      if (parsed.v !== 1 || typeof parsed.key !== 'string') throw new Error('not a v1 key file');
      return MasterKey.fromBytes(Buffer.from(parsed.key, 'base64'));
    } catch (err) {
      throw new RepositoryError(`the key file ${path} is damaged (${(err as Error).message}); restore it from the recovery code`, 'key-file');
    }
  }

  /** Atomic write, mode 0600. */
  save(path: string): void {
    const body = { v: 1, key: this.bytes.toString('base64'), keyId: this.subkeys().keyId, created: new Date().toISOString() };
    writeFileAtomic(path, JSON.stringify(body, null, 2) + '\n', 0o600);
  }

  subkeys(): Subkeys {
    const derive = (info: string) => Buffer.from(hkdfSync('sha256', this.bytes, Buffer.alloc(0), info, 32));
    const check = derive('sentinela/v1/key-id');
    return {
      objectKey: derive('sentinela/v1/object-key'),
      nonceKey: derive('sentinela/v1/nonce-key'),
      keyId: createHmac('sha256', check).update('sentinela/v1/key-id').digest('hex').slice(0, 32),
    };
  }
}

/** Loads the key at `path`, creating it (0600) when missing. */
export function loadOrCreateKey(path: string): { key: MasterKey; created: boolean } {
  try {
    statSync(path);
  } catch {
    const key = MasterKey.generate();
    key.save(path);
    return { key, created: true };
  }
  return { key: MasterKey.load(path), created: false };
}

function checksum(bytes: Buffer): Buffer {
  return createHash('sha256').update('sentinela/v1/recovery').update(bytes).digest().subarray(0, 3);
}

function base32Encode(bytes: Uint8Array): string {
  let out = '';
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(acc >>> (bits - 5)) & 31];
      bits -= 5;
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out += ALPHABET[(acc << (5 - bits)) & 31];
  return out;
}

/** null when the spare low bits are not zero (a typo in the last character). */
function base32Decode(text: string, nBytes: number): Buffer | null {
  const out = Buffer.alloc(nBytes);
  let acc = 0;
  let bits = 0;
  let i = 0;
  for (const c of text) {
    acc = (acc << 5) | ALPHABET.indexOf(c);
    bits += 5;
    if (bits >= 8) {
      if (i < nBytes) out[i++] = (acc >>> (bits - 8)) & 255;
      bits -= 8;
    }
    acc &= (1 << bits) - 1;
  }
  return acc === 0 && i === nBytes ? out : null;
}
