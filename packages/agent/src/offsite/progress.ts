/**
 * What the hub has acknowledged, kept on disk (`<dataDir>/offsite.json`, written atomically on
 * every receipt): per object the offset up to which the hub holds it, and a sent log. The hub's
 * `need` is the truth on where to resume; this file is the agent's own record, so that it can
 * prove no acknowledged piece was ever sent twice (`resentAcked` stays 0), across restarts.
 */
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '@sentinela/shared';

export interface OffsiteCounters {
  piecesSent: number;
  bytesSent: number;
  /** Pieces the hub acknowledged (its `got`, ok). */
  acked: number;
  /** Pieces sent again after the hub had acknowledged them: must stay 0. */
  resentAcked: number;
  /** Pieces the hub refused (damaged in transit, out of order): each was sent again. */
  refused: number;
  /** Pieces sent again because their receipt did not come in time (connection cut). */
  timedOut: number;
}

interface Saved {
  v: 1;
  acked: Record<string, number>;
  counters: OffsiteCounters;
}

export class OffsiteProgress {
  private data: Saved;
  private dirty = false;

  constructor(private readonly path: string) {
    try {
      this.data = JSON.parse(readFileSync(path, 'utf8')) as Saved;
      if (this.data.v !== 1 || typeof this.data.acked !== 'object') throw new Error('bad');
    } catch {
      this.data = { v: 1, acked: {}, counters: { piecesSent: 0, bytesSent: 0, acked: 0, resentAcked: 0, refused: 0, timedOut: 0 } };
    }
  }

  get counters(): Readonly<OffsiteCounters> {
    return this.data.counters;
  }

  acked(object: string): number {
    return this.data.acked[object] ?? 0;
  }

  /** Called for every piece put on the wire. */
  sent(object: string, offset: number, length: number): void {
    const c = this.data.counters;
    c.piecesSent++;
    c.bytesSent += length;
    if (offset + length <= this.acked(object)) c.resentAcked++;
    this.dirty = true;
  }

  /** The hub holds `object` up to `next` (durably: it acks after fsync). */
  ack(object: string, next: number): void {
    if (next > this.acked(object)) this.data.acked[object] = next;
    this.save();
  }

  count(what: 'refused' | 'timedOut' | 'acked'): void {
    this.data.counters[what] = (this.data.counters[what] ?? 0) + 1;
    this.dirty = true;
  }

  /** A snapshot is complete at the hub: its objects' offsets are no longer needed. */
  forget(objects: readonly string[]): void {
    for (const o of objects) delete this.data.acked[o];
    this.save();
  }

  flush(): void {
    if (this.dirty) this.save();
  }

  private save(): void {
    writeFileAtomic(this.path, JSON.stringify(this.data) + '\n', 0o600);
    this.dirty = false;
  }
}
