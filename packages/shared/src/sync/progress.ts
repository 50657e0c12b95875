/**
 * What the receiving hub has acknowledged, kept on disk (written atomically, at most once a second
 * while receipts come in, and at once when a snapshot completes or the sender closes): per site and
 * object the offset up to which it holds the object, and a sent log. The receiver's `need` is the
 * truth on where to resume (it acks a piece only once it is on its disk, so after a crash the need
 * covers whatever the last second of this file missed); this file is the sender's own record, so
 * that it can prove no acknowledged piece was ever sent twice (`resentAcked` stays 0), across
 * restarts. One write costs ~20 ms of fsync on a busy disk, on the event loop: once per receipt it
 * held a DPS hub's ingest for a fifth of every second at 10 pieces/s.
 * The agent keeps it in `<dataDir>/offsite.json`, a DPS hub in `<dataDir>/upstream-backups.json`.
 */
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../runtime/atomic-file.js';

export interface SyncCounters {
  piecesSent: number;
  bytesSent: number;
  /** Pieces the receiver acknowledged (its `got`, ok). */
  acked: number;
  /** Pieces sent again after the receiver had acknowledged them: must stay 0. */
  resentAcked: number;
  /** Pieces the receiver refused (damaged in transit, out of order): each was sent again. */
  refused: number;
  /** Pieces sent again because their receipt did not come in time (connection cut). */
  timedOut: number;
}

interface Saved {
  v: 2;
  /** `<site>/<object>` → bytes held: one hub's objects of two sites are two transfers. */
  acked: Record<string, number>;
  counters: SyncCounters;
}

const zero = (): SyncCounters => ({ piecesSent: 0, bytesSent: 0, acked: 0, resentAcked: 0, refused: 0, timedOut: 0 });
const key = (site: string, object: string) => `${site}/${object}`;

/** Receipts within this long share one write. */
const SAVE_EVERY_MS = 1000;

export class SyncProgress {
  private data: Saved;
  private dirty = false;
  private timer: NodeJS.Timeout | null = null;

  /** `legacySite`: the site a version-1 file (the agent's, keyed by object alone) belongs to. */
  constructor(
    private readonly path: string,
    legacySite?: string,
  ) {
    this.data = { v: 2, acked: {}, counters: zero() };
    let read: { v?: unknown; acked?: unknown; counters?: Partial<SyncCounters> };
    try {
      read = JSON.parse(readFileSync(path, 'utf8')) as typeof read;
    } catch {
      return; // none yet, or torn: the receiver's `need` still says where each object resumes
    }
    if ((read.v !== 1 && read.v !== 2) || typeof read.acked !== 'object' || read.acked === null) return;
    this.data.counters = { ...zero(), ...read.counters };
    for (const [k, n] of Object.entries(read.acked as Record<string, unknown>)) {
      if (typeof n !== 'number') continue;
      if (read.v === 2) this.data.acked[k] = n;
      else if (legacySite) this.data.acked[key(legacySite, k)] = n;
    }
  }

  get counters(): Readonly<SyncCounters> {
    return this.data.counters;
  }

  acked(site: string, object: string): number {
    return this.data.acked[key(site, object)] ?? 0;
  }

  /** Called for every piece put on the wire. */
  sent(site: string, object: string, offset: number, length: number): void {
    const c = this.data.counters;
    c.piecesSent++;
    c.bytesSent += length;
    if (offset + length <= this.acked(site, object)) c.resentAcked++;
    this.dirty = true;
  }

  /** The receiver holds `object` up to `next` (durably: it acks after fsync). */
  ack(site: string, object: string, next: number): void {
    if (next > this.acked(site, object)) this.data.acked[key(site, object)] = next;
    this.dirty = true;
    this.timer ??= setTimeout(() => this.flush(), SAVE_EVERY_MS).unref();
  }

  count(what: 'refused' | 'timedOut' | 'acked'): void {
    this.data.counters[what]++;
    this.dirty = true;
  }

  /** A snapshot is complete at the receiver: its objects' offsets are no longer needed. */
  forget(site: string, objects: readonly string[]): void {
    for (const o of objects) delete this.data.acked[key(site, o)];
    this.save();
  }

  flush(): void {
    if (this.dirty) this.save();
  }

  private save(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    writeFileAtomic(this.path, JSON.stringify(this.data) + '\n', 0o600);
    this.dirty = false;
  }
}
