/** Byte streams to and from runs of objects of at most 4 MiB each. */
import type { Subkeys } from './keys.js';
import { AAD_OBJECT, MAX_OBJECT_CONTENT, openObject, sealObject } from './objects.js';
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
    if (this.failure) throw this.failure;
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
    if (this.failure) throw this.failure;
    return { objects: this.names, stored: this.stored };
  }

  private async seal(content: Buffer): Promise<void> {
    while (this.inFlight.size >= this.parallel) await Promise.race(this.inFlight);
    if (this.failure) throw this.failure;
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
}

/** The decrypted content of `names`, in order, reading one object ahead. */
export async function* readObjects(store: Store, keys: Subkeys, names: string[], onBytes?: (n: number) => void): AsyncGenerator<Buffer> {
  const load = async (name: string) => {
    const stored = await store.get(name);
    onBytes?.(stored.length);
    return openObject(keys, stored, AAD_OBJECT, `object ${name}`);
  };
  let ahead: Promise<Buffer> | null = names.length ? load(names[0]!) : null;
  ahead?.catch(() => {}); // surfaced when awaited below
  for (let i = 0; i < names.length; i++) {
    const current = await ahead!;
    ahead = i + 1 < names.length ? load(names[i + 1]!) : null;
    ahead?.catch(() => {});
    yield current;
  }
}
