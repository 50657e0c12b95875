/** hub.yaml `upstream:` section: a DPS hub mirroring its sites to the MoH hub (docs/protocol.md, "Upstream mirroring"). */
import { z } from 'zod';
import { byteSize } from './common.js';
import { TimeWindow } from './agent-offsite.js';

export const HubUpstreamConfig = z.strictObject({
  /** The MoH hub's MQTT listener. */
  url: z.string().regex(/^mqtts?:\/\/[^\s]+$/, 'an mqtt:// or mqtts:// URL'),
  /** The relay id the MoH hub registered for this hub ("sentinela-hub relays add"). */
  relayId: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lowercase letters, digits and dashes'),
  /** The relay secret, written by "sentinela-hub upstream enrol" (mode 0600). Default: <dataDir>/upstream.secret. */
  secretFile: z.string().optional(),
  /** This hub's province; must equal the one the MoH hub registered for the relay (a mismatch is refused). */
  province: z.string().min(1).max(64),
  /** CA certificate (PEM) for an mqtts:// MoH hub with a private CA. */
  caFile: z.string().optional(),
  /** Stored messages per batch (one MQTT message, acked as a whole). */
  batchMessages: z.number().int().min(1).max(2000).default(200),
  /** A batch not acked within this many seconds is sent again (the MoH hub drops duplicates). */
  ackTimeoutSeconds: z.number().min(1).max(3600).default(30),
  /** How often the forwarder looks for new messages when it has caught up. */
  pollSeconds: z.number().min(0.05).max(600).default(1),
  backups: z
    .strictObject({
      /** false: mirror status and events only. */
      enabled: z.boolean().default(true),
      /** Bytes of object per MQTT message (the MoH hub's mqtt.maxPayloadBytes must hold it plus a header). */
      pieceBytes: byteSize.refine((n) => n >= 1024 && n <= 192 * 1024, 'between 1KiB and 192KiB').default(128 * 1024),
      /**
       * Pieces sent and not yet acknowledged by the MoH hub at once. One piece per round trip leaves the
       * link idle while the answer travels; 4 × 128 KiB covers a 20 Mbit/s link with a 150 ms round trip,
       * and keeps the forwarder's batches at most that far behind the pieces on a slow one.
       */
      inflightPieces: z.number().int().min(1).max(32).default(4),
      /** A piece (or an offer) not answered within this many seconds is sent again. */
      pieceTimeoutSeconds: z.number().min(1).max(3600).default(60),
      /** Most bytes per second of backup data towards the MoH hub (absent: no cap). Status and events are never capped by it. */
      rateBytesPerSecond: byteSize.optional(),
      /** When backup data may be sent (local time, e.g. "19:00-06:00"). Empty: at any time. */
      windows: z.array(TimeWindow).default([]),
      /** How often the site stores are looked at for snapshots the MoH hub lacks. */
      everySeconds: z.number().min(1).max(86400).default(60),
      /** Re-seal each site's escrowed key to the MoH hub's escrow key and deposit it there. */
      escrowKeys: z.boolean().default(true),
    })
    .prefault({}),
});
export type HubUpstreamConfig = z.infer<typeof HubUpstreamConfig>;
