/** A byte stream read in front of a parser that may put bytes back: the delta encoder's and applier's input. */

/** The most a remainder is grown by at once: appending to it copies it, so not a whole 4 MiB object each time. */
const GROW = 256 * 1024;

export class ByteReader {
  /** Bytes read and not consumed yet. */
  raw: Buffer = Buffer.alloc(0);
  /** Bytes that come before the stream's next chunk, the next one last. */
  private ahead: Buffer[] = [];
  private readonly it: AsyncIterator<Buffer | Uint8Array | string>;

  constructor(src: AsyncIterable<Buffer | Uint8Array | string>) {
    this.it = src[Symbol.asyncIterator]();
  }

  /** Appends the next chunk of the stream to `raw`; false at its end. */
  async more(): Promise<boolean> {
    let chunk = this.ahead.pop();
    if (!chunk) {
      const r = await this.it.next();
      if (r.done) return false;
      chunk = typeof r.value === 'string' ? Buffer.from(r.value) : Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value.buffer, r.value.byteOffset, r.value.length);
    }
    if (this.raw.length && chunk.length > GROW) {
      this.ahead.push(chunk.subarray(GROW));
      chunk = chunk.subarray(0, GROW);
    }
    this.raw = this.raw.length ? Buffer.concat([this.raw, chunk]) : chunk;
    return true;
  }

  /** Puts `bytes` back in front of what is unread. */
  unread(bytes: Buffer[]): void {
    if (this.raw.length) this.ahead.push(this.raw);
    this.raw = Buffer.concat(bytes);
  }

  async close(): Promise<void> {
    await this.it.return?.(undefined);
  }
}
