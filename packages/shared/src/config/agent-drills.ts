/** agent.yaml `drills:` section: scheduled restore drills. Documented key by key in examples/agent.yaml. */
import { z } from 'zod';

const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a local time HH:MM, such as 01:30');

const scratchServer = z.strictObject({
  socket: z.string().min(1).optional(),
  host: z.string().min(1).optional(),
  port: z.number().int().min(1).max(65535).optional(),
  user: z.string().min(1).optional(),
  passwordFile: z.string().min(1).optional(),
});

export const AgentDrillsConfig = z.strictObject({
  /** Scheduled drills on (the `sentinela-agent drill` verb works either way). */
  enabled: z.boolean().default(true),
  /** A drill of every source, at most this often (days). */
  everyDays: z.number().positive().max(365).default(7),
  /** The off-peak window (local time) a scheduled drill may start in; end before start crosses midnight. */
  window: z.strictObject({ start: clock, end: clock }).default({ start: '01:00', end: '05:00' }),
  /** How often the agent looks whether a drill is due (seconds). */
  checkSeconds: z.number().int().min(1).max(86400).default(600),
  /**
   * Where to restore MariaDB sources instead of a throwaway server the agent starts itself: a
   * server kept for drills only (never production). The drill creates and drops its own databases.
   */
  scratchMariadb: scratchServer.optional(),
  /** The same for PostgreSQL sources (socket: the folder of the server's socket). */
  scratchPostgres: scratchServer.optional(),
});
export type AgentDrillsConfig = z.infer<typeof AgentDrillsConfig>;
