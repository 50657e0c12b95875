/**
 * Message schemas, protocol version 1. Every payload is UTF-8 JSON with `v` and `type`.
 * Bodies are loose objects: a newer agent may add fields an older hub does not know yet,
 * but every field the schema names must have its type.
 */
import { z } from 'zod';
import { PROTOCOL_VERSION, SITE_ID_PATTERN } from './topics.js';
import { StatusPower } from './status-power.js';
import { StatusNetwork } from './status-network.js';
import { StatusBackups } from './status-backups.js';
import { DrillReport } from './drill.js';

const siteId = z.string().regex(SITE_ID_PATTERN, 'a site id of lowercase letters, digits and dashes');
const isoTime = z.iso.datetime({ offset: true });
/** An outbox stream: the random id of one agent outbox database, so that a reinstalled agent starting again at seq 1 is never taken for a duplicate. */
const streamId = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, 'a stream id of 8-64 url-safe characters');
/**
 * The highest seq of an outbox. 2^40 is more than 30,000 years of one message a second, and keeps
 * every count and difference the hub makes of seqs exact (a seq of 2^53 - 1 was taken once, and a
 * site then showed 9,007,199,254,740,978 missing messages).
 */
export const MAX_SEQ = 2 ** 40;
/**
 * The largest step ahead a stream's seq may take and have the seqs it skips counted missing
 * (hub.yaml mqtt.maxSeqJump). An agent's outbox numbers every message it makes: a million is about
 * two years of one status a minute, longer than any outage it rides out. A larger step (a reset or
 * damaged outbox counter, or a site lying) is counted as a jump: its seqs are not counted missing,
 * so one message cannot make a site show 10^12 missing (docs/protocol.md, "Sequence numbers").
 */
export const DEFAULT_MAX_SEQ_JUMP = 1_000_000;
/**
 * How far ahead of the hub's clock a message may be dated and keep its time (hub.yaml
 * mqtt.maxClockAheadSeconds): clocks drift, and NTP is not everywhere. A message dated later is
 * stored with its arrival time, so a status dated 2099 cannot stay a site's latest for good.
 */
export const DEFAULT_MAX_CLOCK_AHEAD_SECONDS = 300;
const seq = z.number().int().positive().max(MAX_SEQ);

const base = {
  v: z.literal(PROTOCOL_VERSION),
  site: siteId,
};

/** Fields of every message that went through the agent's outbox (status, event, drill). */
const queued = {
  ...base,
  stream: streamId,
  seq,
  /** When the agent recorded it (not when it was sent). */
  ts: isoTime,
};

export const Severity = z.enum(['info', 'warning', 'critical']);
export type Severity = z.infer<typeof Severity>;

export const FilesystemUse = z.looseObject({
  mount: z.string(),
  fs: z.string(),
  type: z.string(),
  sizeBytes: z.number().nonnegative(),
  usedBytes: z.number().nonnegative(),
  usePct: z.number().min(0).max(100),
});

export const ServiceCheck = z.looseObject({
  name: z.string(),
  target: z.string(),
  up: z.boolean(),
  latencyMs: z.number().nonnegative().optional(),
  error: z.string().optional(),
});

export const HostHealth = z.looseObject({
  hostname: z.string(),
  uptimeSec: z.number().nonnegative(),
  cpu: z.looseObject({
    cores: z.number().int().positive(),
    load1: z.number().nonnegative(),
    load5: z.number().nonnegative(),
    load15: z.number().nonnegative(),
    usagePct: z.number().min(0).max(100),
  }),
  memory: z.looseObject({
    totalBytes: z.number().nonnegative(),
    usedBytes: z.number().nonnegative(),
    availableBytes: z.number().nonnegative(),
  }),
  filesystems: z.array(FilesystemUse).max(256),
});

export const OutboxStats = z.looseObject({
  pending: z.number().int().nonnegative(),
  pendingBytes: z.number().int().nonnegative(),
  oldestTs: isoTime.nullable(),
  thinned: z.number().int().nonnegative(),
});

/** A periodic sample. Later issues add optional sections (power, network, backups) beside `host`. */
export const StatusMessage = z.looseObject({
  ...queued,
  type: z.literal('status'),
  host: HostHealth,
  services: z.array(ServiceCheck).max(64),
  outbox: OutboxStats.optional(),
  power: StatusPower.optional(),
  network: StatusNetwork.optional(),
  backups: StatusBackups.optional(),
});
export type StatusMessage = z.infer<typeof StatusMessage>;

export const EventMessage = z.looseObject({
  ...queued,
  type: z.literal('event'),
  /** Dotted machine code, e.g. `service.down`, `outbox.thinned`. */
  code: z.string().regex(/^[a-z0-9_]+(\.[a-z0-9_]+)*$/, 'a dotted lowercase code'),
  severity: Severity,
  /** One plain sentence for people (English; the console translates known codes). */
  message: z.string().max(2000),
  data: z.record(z.string(), z.unknown()).optional(),
});
export type EventMessage = z.infer<typeof EventMessage>;

/** A restore drill's report (protocol/drill.ts), queued like an event: it reaches the hub store-and-forward. */
export const DrillMessage = z.looseObject({
  ...queued,
  type: z.literal('drill'),
  drill: DrillReport,
});
export type DrillMessage = z.infer<typeof DrillMessage>;

export const AgentInfo = z.looseObject({
  version: z.string(),
  hostname: z.string(),
  platform: z.string(),
  node: z.string(),
});

/** Sent on every connect. `bdSeq` ties it to the death (last will) set for the same connection. */
export const BirthMessage = z.looseObject({
  ...base,
  type: z.literal('birth'),
  ts: isoTime,
  bdSeq: z.number().int().nonnegative(),
  stream: streamId,
  agent: AgentInfo,
  outbox: OutboxStats,
});
export type BirthMessage = z.infer<typeof BirthMessage>;

/** The last will (or a clean goodbye). Its payload is fixed at connect time, so it has no time. */
export const DeathMessage = z.looseObject({
  ...base,
  type: z.literal('death'),
  bdSeq: z.number().int().nonnegative(),
  clean: z.boolean(),
});
export type DeathMessage = z.infer<typeof DeathMessage>;

export const UpMessage = z.discriminatedUnion('type', [BirthMessage, DeathMessage, StatusMessage, EventMessage, DrillMessage]);
export type UpMessage = z.infer<typeof UpMessage>;
export type QueuedMessage = StatusMessage | EventMessage | DrillMessage;

const seqRange = z.tuple([seq, seq]).refine(([a, b]) => a <= b, 'a range [from, to] with from <= to');

/**
 * The hub's receipt: every seq in `acked` is committed to the hub's database; every seq in
 * `rejected` will never be accepted (the agent drops it and logs the reason).
 */
export const AckMessage = z.looseObject({
  ...base,
  type: z.literal('ack'),
  stream: streamId,
  acked: z.array(seqRange),
  rejected: z.array(z.looseObject({ seq, reason: z.string() })),
});
export type AckMessage = z.infer<typeof AckMessage>;

/** Reserved for hub→agent commands (later issues: backup now, send status now…). */
export const CommandMessage = z.looseObject({
  ...base,
  type: z.literal('cmd'),
  id: z.string().min(1).max(64),
  name: z.string().regex(/^[a-z0-9_.]+$/),
  ts: isoTime,
  args: z.record(z.string(), z.unknown()).optional(),
});
export type CommandMessage = z.infer<typeof CommandMessage>;

export const DownMessage = z.discriminatedUnion('type', [AckMessage, CommandMessage]);
export type DownMessage = z.infer<typeof DownMessage>;
