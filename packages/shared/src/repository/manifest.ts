/**
 * The snapshot manifest (docs/repository.md): stored encrypted in every repository, and the unit the
 * hub catalogues. Shared because the hub and the agent both read it.
 */
import { z } from 'zod';
import { BACKUP_SOURCE_KINDS } from '../config/agent-backup.js';

export const SnapshotManifest = z
  .looseObject({
  /** 2: a delta's stream is byte operations (docs/repository.md); 1: token operations, its tokenizer named. */
  v: z.union([z.literal(1), z.literal(2)]),
  id: z.string().regex(/^\d{8}T\d{6}Z-[a-z0-9-]+-[a-z0-9]+$/, 'YYYYMMDDTHHMMSSZ-<source>-<random>'),
  site: z.string(),
  source: z.string(),
  kind: z.enum(BACKUP_SOURCE_KINDS),
  /** Format 1 only: how a delta's base is cut into tokens. */
  tokenizer: z.enum(['lines', 'pages', 'chunks']).optional(),
  startedAt: z.iso.datetime({ offset: true }),
  finishedAt: z.iso.datetime({ offset: true }),
  tool: z.looseObject({ name: z.string(), version: z.string() }),
  /** null for a full snapshot; else the snapshot this one is a delta against. */
  base: z.string().nullable(),
  /** Deltas since the last full snapshot (0 for a full one). */
  chain: z.number().int().nonnegative(),
  content: z.looseObject({ bytes: z.number().int().nonnegative(), sha256: z.string().regex(/^[0-9a-f]{64}$/) }),
  /** Bytes of new objects this snapshot added to the repository. */
  stored: z.number().int().nonnegative(),
  /** Format 2 deltas: the farthest back (bytes behind the base cursor) a `P` operation reads; the restore keeps that much of the base. */
  reach: z.number().int().nonnegative().optional(),
  /** Object names of this snapshot's stream, in order. */
  objects: z.array(z.string().regex(/^[0-9a-f]{64}$/)),
  tables: z.record(z.string(), z.number().int().nonnegative()).optional(),
  /** Per table, SHA-256 of its row lines as the dump wrote them: a restore drill re-dumps the restored copy and compares (optional: older snapshots lack it). */
  tableSums: z.record(z.string(), z.string().regex(/^[0-9a-f]{64}$/)).optional(),
  /**
   * Per table, the row count the source database itself gave in a snapshot taken at the same point
   * in time as the dump's (optional): a dump that lost rows disagrees with it, where `tables`, counted
   * from the dump stream, cannot (docs/operations.md, restore drills).
   */
  sourceTables: z.record(z.string(), z.number().int().nonnegative()).optional(),
  /** For files sources: every file and link archived; `sha256` of a file's content as archived (optional: older snapshots lack it), which a drill checks. */
  files: z.array(z.looseObject({ path: z.string(), mode: z.number().int(), size: z.number().int().nonnegative(), mtime: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/).optional() })).optional(),
})
  .refine((m) => m.v !== 1 || m.tokenizer !== undefined, { message: 'a format-1 manifest names its tokenizer', path: ['tokenizer'] });
export type SnapshotManifest = z.infer<typeof SnapshotManifest>;
