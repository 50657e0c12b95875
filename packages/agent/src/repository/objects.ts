/**
 * Deterministic authenticated encryption of one object (docs/repository.md, "Objects"):
 * plain = method byte ‖ compressed content; nonce = HMAC(nonce-key, plain)[0..12];
 * stored = nonce ‖ AES-256-GCM(plain) ‖ tag; name = SHA-256(stored).
 * The same content always gives the same object, so it is stored once.
 */
import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';
import { objectName } from '@sentinela/shared';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { Subkeys } from './keys.js';
import { RepositoryError } from './errors.js';

export const AAD_OBJECT = 'sentinela/v1/object';
export const AAD_MANIFEST = 'sentinela/v1/manifest';
/** Most uncompressed bytes one object holds: bounds memory, and a copy resumes object by object. */
export const MAX_OBJECT_CONTENT = 4 * 1024 * 1024;

const METHOD_NONE = 0;
const METHOD_BROTLI = 1;
const brotliCompress = promisify(zlib.brotliCompress);

/**
 * zlib hands its output back to the main thread one chunk at a time (16 KiB by default): a 4 MiB
 * object then costs hundreds of round trips between the pool and a busy main thread. One chunk
 * the size of an object's content does it in one.
 */
const outChunk = (n: number) => Math.min(Math.max(n, 64 * 1024), MAX_OBJECT_CONTENT);

// One definition of an object's name for the agent and the hub (@sentinela/shared).
export { objectName };

/**
 * Compresses (on the libuv pool, so two objects compress at once on two cores) and encrypts.
 * `quality`: brotli 0–11; full dumps take 1 (fast), small delta objects more.
 */
export async function sealObject(keys: Subkeys, content: Uint8Array, aad = AAD_OBJECT, quality = 4): Promise<{ name: string; stored: Buffer }> {
  const packed = await brotliCompress(content, {
    chunkSize: outChunk(content.length),
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: quality,
      // The fast qualities run ~25 % faster with a small window, at the same size on dumps.
      [zlib.constants.BROTLI_PARAM_LGWIN]: quality <= 2 ? 18 : 22,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: content.length,
    },
  });
  // Incompressible content (already compressed files) is stored as is.
  const plain = packed.length < content.length ? Buffer.concat([Buffer.of(METHOD_BROTLI), packed]) : Buffer.concat([Buffer.of(METHOD_NONE), content]);
  const stored = encrypt(keys, plain, aad);
  return { name: objectName(stored), stored };
}

export function encrypt(keys: Subkeys, plain: Uint8Array, aad: string): Buffer {
  const nonce = createHmac('sha256', keys.nonceKey).update(plain).digest().subarray(0, 12);
  const cipher = createCipheriv('aes-256-gcm', keys.objectKey, nonce);
  cipher.setAAD(Buffer.from(aad));
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([nonce, body, cipher.getAuthTag()]);
}

/** Throws `corrupt-object` when authentication fails (tampering, or another site's key). */
export function decrypt(keys: Subkeys, stored: Uint8Array, aad: string, what: string): Buffer {
  if (stored.length < 12 + 16 + 1) throw new RepositoryError(`${what} is truncated (${stored.length} bytes)`, 'corrupt-object');
  const buf = Buffer.from(stored.buffer, stored.byteOffset, stored.length);
  const decipher = createDecipheriv('aes-256-gcm', keys.objectKey, buf.subarray(0, 12));
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(buf.subarray(buf.length - 16));
  try {
    // GCM's final() only checks the tag (it returns no bytes): no copy of the whole plaintext.
    const plain = decipher.update(buf.subarray(12, buf.length - 16));
    const tail = decipher.final();
    return tail.length ? Buffer.concat([plain, tail]) : plain;
  } catch {
    throw new RepositoryError(`${what} fails authentication: it was altered, or it was written with another key`, 'corrupt-object');
  }
}

export async function openObject(keys: Subkeys, stored: Uint8Array, aad: string, what: string): Promise<Buffer> {
  return unpack(decrypt(keys, stored, aad, what), what);
}

/** The content of an object in pieces of at most PIECE bytes (readObjects yields them as they are). */
export async function openObjectPieces(keys: Subkeys, stored: Uint8Array, aad: string, what: string): Promise<Buffer[]> {
  return unpackPieces(decrypt(keys, stored, aad, what), what);
}

export async function unpack(plain: Buffer, what: string): Promise<Buffer> {
  const pieces = await unpackPieces(plain, what);
  return pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces);
}

/**
 * Decompressed output comes in pieces this size. A whole 4 MiB object in one buffer costs fresh
 * memory for every object (1,000+ page faults each, and mark-compact collections driven by the
 * external memory): pieces of 256 KiB are reused by malloc, and a 110 MB dump read back took ~25 %
 * less CPU (issue 16). 16 trips between the pool and the main thread per object.
 */
export const PIECE = 256 * 1024;

export async function unpackPieces(plain: Buffer, what: string): Promise<Buffer[]> {
  const method = plain[0];
  if (method === METHOD_NONE) return [plain.subarray(1)];
  if (method !== METHOD_BROTLI) throw new RepositoryError(`${what} uses unknown compression method ${method}`, 'corrupt-object');
  return new Promise((resolve, reject) => {
    const pieces: Buffer[] = [];
    // On the libuv pool, as brotliDecompress: objects read ahead decompress on both cores.
    const d = zlib.createBrotliDecompress({ chunkSize: PIECE });
    d.on('data', (b: Buffer) => pieces.push(b));
    d.on('end', () => resolve(pieces));
    d.on('error', (err) => reject(new RepositoryError(`${what} does not decompress: ${err.message}`, 'corrupt-object')));
    d.end(plain.subarray(1));
  });
}
