/**
 * A backup source: something that can be dumped as one byte stream (a database, a folder, a command).
 * Implementations live beside this file, one per kind; the repository stores what they stream.
 */
import type { Readable } from 'node:stream';
import type { BackupSourceKind } from '@sentinela/shared';

export type SourceKind = BackupSourceKind;

/**
 * How the repository cuts this source's content into tokens for its delta (docs/repository.md):
 * lines for text dumps with one row per line, 4 KiB pages for SQLite files, content-defined chunks otherwise.
 */
export type Tokenizer = 'lines' | 'pages' | 'chunks';

export interface DumpInfo {
  /** The dump tool and its version, as recorded in the snapshot manifest. */
  tool: { name: string; version: string };
  /** Per-table row counts, where the source gives them (restore checks them). */
  tables?: Record<string, number>;
  /** Per-table row counts from the database itself at the dump's point in time (MariaDB): a dump that lost rows disagrees. */
  sourceTables?: Record<string, number>;
  /** Why sourceTables could not be taken (the backup goes on; the drill then checks the dump's own counts only). */
  sourceTablesError?: string;
  /** Per-table SHA-256 of the row lines (MariaDB), recorded for restore drills. */
  tableSums?: Record<string, string>;
  /** For `files` sources: what the archive holds. */
  files?: Array<{ path: string; mode: number; size: number; mtime: string; sha256?: string }>;
}

export interface Dump {
  /** The dump's bytes, streamed: a multi-GB dump never sits in memory. */
  readonly stream: Readable;
  /**
   * Resolves once the stream has ended and the tool succeeded; rejects with a DumpError carrying the
   * tool's own error text otherwise. A snapshot is written only when this resolves.
   */
  readonly info: Promise<DumpInfo>;
}

export interface Source {
  readonly name: string;
  readonly kind: SourceKind;
  readonly tokenizer: Tokenizer;
  dump(): Dump;
}

export class DumpError extends Error {
  constructor(
    readonly source: string,
    /** The tool's own words (stderr), for the event the hub will show. */
    readonly toolOutput: string,
    message: string,
  ) {
    super(message);
    this.name = 'DumpError';
  }
}
