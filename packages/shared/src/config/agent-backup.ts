/** agent.yaml `backup:` section. Documented key by key in examples/agent.yaml. */
import { z } from 'zod';

const cron = z.string().regex(/^(\S+\s+){4,5}\S+$/, 'a cron expression such as "0 * * * *" (hourly)');

const retention = z.strictObject({
  keepLast: z.number().int().positive().optional(),
  keepHourly: z.number().int().nonnegative().optional(),
  keepDaily: z.number().int().nonnegative().optional(),
  keepWeekly: z.number().int().nonnegative().optional(),
  keepMonthly: z.number().int().nonnegative().optional(),
});

const common = {
  /** A short name, used in snapshot ids and events: lowercase letters, digits, dashes. */
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'lowercase letters, digits and dashes (at most 32)'),
  /** When to back up (cron: minute hour day month weekday, local time; a day and a weekday given together must both match). Databases default to hourly: RPO ≤ 1 hour. */
  schedule: cron.optional(),
};

const dbConnection = {
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(1).max(65535).optional(),
  user: z.string().optional(),
  /** A file holding the password (mode 0600), rather than the password in this file. */
  passwordFile: z.string().optional(),
  database: z.string().min(1),
};

export const BackupSourceConfig = z.discriminatedUnion('kind', [
  z.strictObject({ ...common, kind: z.literal('mariadb'), ...dbConnection }),
  z.strictObject({ ...common, kind: z.literal('postgres'), ...dbConnection }),
  z.strictObject({ ...common, kind: z.literal('sqlite'), path: z.string().min(1) }),
  z.strictObject({
    ...common,
    kind: z.literal('files'),
    path: z.string().min(1),
    include: z.array(z.string()).default([]),
    exclude: z.array(z.string()).default([]),
  }),
  z.strictObject({
    ...common,
    kind: z.literal('command'),
    /** The command and its arguments; it must write the dump to stdout and exit 0. */
    command: z.array(z.string()).min(1),
    tokenizer: z.enum(['lines', 'chunks']).default('chunks'),
  }),
]);
export type BackupSourceConfig = z.infer<typeof BackupSourceConfig>;

/** A source kind: one entry of the union above, the one place a kind is named in shared. */
export type BackupSourceKind = BackupSourceConfig['kind'];

/** Every source kind, read from the union: the snapshot manifest and the agent take their lists from it. */
export const BACKUP_SOURCE_KINDS = BackupSourceConfig.options.map((o) => o.shape.kind.value) as [BackupSourceKind, ...BackupSourceKind[]];

/**
 * Where a snapshot of each kind goes back: into a database (`--to-database`), a folder (`--to-dir`)
 * or a file (`--to-file`). The agent's restore and the console's restore guide both follow it.
 */
export const RESTORE_TARGET = {
  mariadb: 'database',
  postgres: 'database',
  sqlite: 'file',
  files: 'dir',
  command: 'file',
} as const satisfies Record<BackupSourceKind, 'database' | 'dir' | 'file'>;

export const AgentBackupConfig = z.strictObject({
  /** The local repository (spool) on this server. Default: <dataDir>/repository. */
  spool: z.string().optional(),
  /** The site's backup key (mode 0600). Default: <dataDir>/backup.key. */
  keyFile: z.string().optional(),
  /** A full snapshot after this many deltas in a row, so that restore chains stay short. */
  rebaseEvery: z.number().int().min(0).max(1000).default(24),
  sources: z.array(BackupSourceConfig).min(1),
  retention: retention.default({ keepHourly: 48, keepDaily: 14, keepWeekly: 8, keepMonthly: 12 }),
  usb: z
    .strictObject({
      /** Folders under which mounted disks appear (each registered disk has disk.json at its root). */
      mountRoots: z.array(z.string()).default(['/media', '/mnt', '/run/media']),
      /** Raise an event when no registered disk has been attached for longer than this. */
      rotationDays: z.number().positive().default(7),
      /** How often the mount roots are looked at for a registered disk (seconds). */
      pollSeconds: z.number().min(1).max(3600).default(5),
      /** Retention on the disks; default: the spool's. */
      retention: retention.optional(),
    })
    .optional(),
  /**
   * The secondary server: a folder of it reached through a mount (NFS/SMB), labelled once with
   * `sentinela-agent disk init PATH --peer`. The agent mirrors the spool there after every backup.
   */
  peer: z
    .strictObject({
      path: z.string().min(1),
      /** Retention on the mirror; default: the spool's. */
      retention: retention.optional(),
    })
    .optional(),
});
export type AgentBackupConfig = z.infer<typeof AgentBackupConfig>;
