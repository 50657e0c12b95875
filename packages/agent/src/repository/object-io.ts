/** Byte streams to and from runs of objects of at most 4 MiB each. */
import type { Subkeys } from './keys.js';
import { AAD_OBJECT, MAX_OBJECT_CONTENT, openObjectPieces, sealObject } from './objects.js';
import type { Store } from './store.js';

/** Full dumps: two cores compress while a third object waits on its write (fsync) and read-back. */
export const FULL_IN_FLIGHT = 3;

/** Cuts what it is given into objects, compresses, encrypts and stores them; keeps their names in order. */
export class ObjectWriter {
  readonly names: string[] = [];
  /** Bytes of objects this writer added (deduplicated ones count 0). */
  stored = 0;
  private pieces: Buffer[] = [];
  private pending = 0;
  private inFlight = new Set<Promise<void>>();
  private failure: unknown = null;

  constructor(
    private readonly store: Store,
    private readonly keys: Subkeys,
    private readonly quality: number,
    /** Objects compressed and written at once: each holds its content, brotli's window and output (~20 MiB at quality 6). */
    private readonly parallel = FULL_IN_FLIGHT,
  ) {}

  async write(buf: Buffer): Promise<void> {
    if (this.failure) return this.fail();
    this.pieces.push(buf);
    this.pending += buf.length;
    while (this.pending >= MAX_OBJECT_CONTENT) {
      const all = Buffer.concat(this.pieces);
      this.pieces = all.length > MAX_OBJECT_CONTENT ? [all.subarray(MAX_OBJECT_CONTENT)] : [];
      this.pending = all.length - MAX_OBJECT_CONTENT;
      await this.seal(all.subarray(0, MAX_OBJECT_CONTENT));
    }
  }

  /** Stores what is left and waits for every object to be written and read back. */
  async finish(): Promise<{ objects: string[]; stored: number }> {
    if (this.pending > 0) await this.seal(Buffer.concat(this.pieces));
    this.pieces = [];
    this.pending = 0;
    await Promise.all(this.inFlight);
    if (this.failure) return this.fail();
    return { objects: this.names, stored: this.stored };
  }

  private async seal(content: Buffer): Promise<void> {
    while (this.inFlight.size >= this.parallel) await Promise.race(this.inFlight);
    if (this.failure) return this.fail();
    const slot = this.names.length;
    this.names.push('');
    const job = (async () => {
      const { name, stored } = await sealObject(this.keys, content, AAD_OBJECT, this.quality);
      this.names[slot] = name;
      const added = await this.store.put(name, stored, { verify: true }); // not `+= await`: two jobs run at once
      this.stored += added;
    })().catch((err: unknown) => {
      this.failure ??= err;
    });
    const tracked = job.finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }

  /**
   * Waits until no object is being written (their failures are kept, not thrown). A backup that
   * fails (a full disk, a dump tool that exits with an error) must not return while an object's
   * write is under way: it would leave its temporary file behind after the caller has moved on.
   */
  async settle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
  }

  /** Throws the first failure once every object still being written has ended. */
  private async fail(): Promise<never> {
    await this.settle();
    throw this.failure;
  }
}

/**
 * Objects read, decrypted and decompressed ahead of the one being used: decompression runs on the
 * libuv pool, so with three under way both cores work while the consumer hashes and writes (a
 * restore of a 110 MB dump went from one core busy to two). Bounds memory to ~4 objects of content,
 * in pieces of PIECE bytes (objects.ts).
 */
export const READ_AHEAD = 3;

/**
 * The decrypted content of `names`, in order, READ_AHEAD objects ahead. `onObject` is told of each
 * object that was read and authenticated (with its stored size), as it is used.
 */
export async function* readObjects(store: Store, keys: Subkeys, names: string[], onObject?: (name: string, storedBytes: number) => void): AsyncGenerator<Buffer> {
  const load = async (name: string) => {
    const stored = await store.get(name);
    return { pieces: await openObjectPieces(keys, stored, AAD_OBJECT, `object ${name}`), storedBytes: stored.length };
  };
  const ahead: Array<Promise<{ pieces: Buffer[]; storedBytes: number }>> = [];
  let next = 0;
  const fill = () => {
    while (next < names.length && ahead.length < READ_AHEAD) {
      const p = load(names[next++]!);
      p.catch(() => {}); // surfaced when awaited below
      ahead.push(p);
    }
  };
  for (let i = 0; i < names.length; i++) {
    fill();
    const { pieces, storedBytes } = await ahead.shift()!;
    onObject?.(names[i]!, storedBytes);
    fill();
    yield* pieces;
  }
}
