/**
 * Backups run one at a time (a small server dumping two databases at once slows the clinic's
 * application), and a source is never queued twice: asking for a source that is already waiting or
 * running joins that run instead of starting a second one.
 */
export class BackupQueue {
  private readonly waiting = new Map<string, Promise<void>>();
  private running: string | null = null;
  private tail: Promise<void> = Promise.resolve();

  constructor(private readonly run: (source: string) => Promise<void>) {}

  /** Resolves when the run that covers `source` has finished (it never rejects: run() reports its own errors). */
  trigger(source: string): Promise<void> {
    const existing = this.waiting.get(source);
    if (existing) return existing;
    const p = this.tail.then(async () => {
      this.running = source;
      try {
        await this.run(source);
      } catch {
        /* reported by run() */
      } finally {
        this.running = null;
        this.waiting.delete(source);
      }
    });
    this.waiting.set(source, p);
    this.tail = p;
    return p;
  }

  isBusy(source: string): boolean {
    return this.waiting.has(source);
  }

  get current(): string | null {
    return this.running;
  }

  /** Resolves once nothing is queued or running. */
  async idle(): Promise<void> {
    while (this.waiting.size > 0) await this.tail;
  }
}
