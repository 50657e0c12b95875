/** hub.yaml: every key is documented in examples/hub.yaml. */
import { z } from 'zod';
import { DEFAULT_MAX_PAYLOAD_BYTES } from '../protocol/codec.js';
import { DEFAULT_MAX_CLOCK_AHEAD_SECONDS, DEFAULT_MAX_SEQ_JUMP, MAX_SEQ } from '../protocol/messages.js';
import { byteSize, listen, logConfig, tlsFiles } from './common.js';
import { HubBackupsConfig } from './hub-backups.js';
import { HubUpstreamConfig } from './hub-upstream.js';

export const HubConfig = z
  .strictObject({
    /** This hub's name, shown in the console and used upstream (e.g. dps-maputo). */
    hubId: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lowercase letters, digits and dashes'),
    dataDir: z.string().min(1),
    mqtt: z.strictObject({
      listen,
      tls: tlsFiles.optional(),
      /** Plain TCP without TLS. Only for loopback demos and tests. */
      allowPlaintext: z.boolean().default(false),
      maxPayloadBytes: byteSize.default(DEFAULT_MAX_PAYLOAD_BYTES),
      /** How long aedes waits for a slow client to drain before dropping it. */
      drainTimeoutMs: z.number().int().min(100).default(5000),
      /** Per-client offline queue cap for QoS 1 messages to the client. */
      queueLimit: z.number().int().min(1).default(1000),
      /** A stream's seq more than this far ahead of its highest is counted as a jump, not as that many missing messages. */
      maxSeqJump: z.number().int().min(1).max(MAX_SEQ).default(DEFAULT_MAX_SEQ_JUMP),
      /**
       * How far ahead of the hub's clock a message may be dated and keep its time (clocks drift);
       * one dated later is stored with its arrival time. Up to a day.
       */
      maxClockAheadSeconds: z.number().int().min(0).max(86_400).default(DEFAULT_MAX_CLOCK_AHEAD_SECONDS),
      /**
       * A site that sends more than maxRefusals refused messages within windowSeconds is
       * disconnected and its reconnects refused for cooldownSeconds, doubling at each repeat up to
       * maxCooldownSeconds (forgotten after an hour without one). Only a logged-in site's own
       * messages count: failed logins cannot put another site in a cool-down.
       */
      noisySites: z
        .strictObject({
          maxRefusals: z.number().int().min(1).default(500),
          windowSeconds: z.number().int().min(1).max(3600).default(60),
          cooldownSeconds: z.number().int().min(1).default(60),
          maxCooldownSeconds: z.number().int().min(1).default(3600),
        })
        .prefault({}),
    }),
    /** Ingest through another broker (e.g. Mosquitto) instead of the embedded one. */
    externalBroker: z
      .strictObject({
        url: z.string().regex(/^mqtts?:\/\/[^\s]+$/, 'an mqtt:// or mqtts:// URL'),
        username: z.string().optional(),
        password: z.string().optional(),
        caFile: z.string().optional(),
        clientId: z.string().default('sentinela-hub-ingest'),
        /**
         * Several hub instances behind this broker: each subscribes with the MQTT 5 shared
         * subscription $share/<shareGroup>/… so that each message goes to one of them. Each instance
         * needs its own clientId; all share the store (store.kind: postgres).
         */
        shareGroup: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, - and _').optional(),
        /**
         * How agents get their broker accounts. `none`: set up by hand (the broker's own password file).
         * `mosquitto-dynsec`: the hub creates, re-keys and removes each site's client and role through
         * Mosquitto's dynamic-security plugin; `username` must be a dynsec admin.
         */
        provision: z.enum(['none', 'mosquitto-dynsec']).default('none'),
        /** How often revoked or removed sites are swept out of the broker (seconds). */
        sweepSeconds: z.number().int().min(1).max(3600).default(30),
      })
      .refine((e) => e.provision === 'none' || (e.username !== undefined && e.password !== undefined), {
        message: 'provision: mosquitto-dynsec needs username and password of a dynamic-security admin (mosquitto_ctrl dynsec init)',
        path: ['username'],
      })
      .optional(),
    http: z.strictObject({
      listen,
      tls: tlsFiles.optional(),
      /** The address agents use to enrol (printed with new tokens). */
      publicUrl: z.string().url().optional(),
      /**
       * The reverse proxy in front of the console: its addresses or CIDR ranges (e.g. ["127.0.0.1"]).
       * From these only, X-Forwarded-For names the client (audit log, login throttle) and
       * X-Forwarded-Proto/Host the address the browser used. Omitted: the connection's address is the client.
       */
      trustProxy: z.array(z.string().min(1)).min(1).optional(),
    }),
    sites: z
      .strictObject({
        /** A site last heard from longer ago than this is "stale"… */
        staleAfterSeconds: z.number().int().positive().default(300),
        /** …and after this, "offline" (a death message makes it offline at once). */
        offlineAfterSeconds: z.number().int().positive().default(1800),
      })
      .default({ staleAfterSeconds: 300, offlineAfterSeconds: 1800 }),
    enrollment: z
      .strictObject({ tokenTtlHours: z.number().positive().max(24 * 30).default(72) })
      .default({ tokenTtlHours: 72 }),
    store: z
      .strictObject({
        /**
         * sqlite: one file in dataDir, the embedded default. postgres: a PostgreSQL database at `url`,
         * shared by several hub instances (docs/postgres.md says which parts run on it so far).
         */
        kind: z.enum(['sqlite', 'postgres']).default('sqlite'),
        /** postgres: the database, e.g. postgres://sentinela@db.example:5432/sentinela (a password in the URL or PGPASSWORD). */
        url: z.string().regex(/^postgres(ql)?:\/\/\S+$/, 'a postgres:// URL').optional(),
        /** postgres: connections per hub instance. */
        poolSize: z.number().int().min(2).max(100).default(8),
        /** SQLite synchronous mode: full survives power loss of the hub itself; normal survives a crash of the process. */
        synchronous: z.enum(['full', 'normal']).default('full'),
        /** Group commit: the longest a message waits (ms) for the transaction that stores it; acks follow the commit. */
        commitIntervalMs: z.number().int().min(0).max(1000).default(50),
      })
      .refine((s) => s.kind === 'sqlite' || s.url !== undefined, { message: 'store.kind: postgres needs store.url', path: ['url'] })
      .prefault({}),
    /** The web console for central staff (sessions, language). */
    console: z
      .strictObject({
        /** A console session ends this many hours after login. */
        sessionHours: z.number().positive().max(24 * 30).default(12),
        /** The cookie's Secure flag: auto = when the hub serves HTTPS (http.tls) or publicUrl is https. */
        secureCookies: z.enum(['auto', 'always', 'never']).default('auto'),
        /** The language a page opens in until the user picks one. */
        language: z.enum(['pt', 'en']).default('pt'),
        /** The headless Chromium that prints the continuity test report to PDF. */
        pdfBrowser: z.string().min(1).default('/usr/bin/chromium'),
      })
      .prefault({}),
    /** Alert rules, evaluated every evaluateSeconds and after new messages arrive. */
    alerts: z
      .strictObject({
        evaluateSeconds: z.number().int().min(5).max(3600).default(60),
        /** An alert clears only once its condition has been gone this long: one that comes and goes stays one alert. */
        clearHoldMinutes: z.number().min(0).max(1440).default(5),
        /** A site not heard from for longer than this raises "silent". */
        silentAfterMinutes: z.number().positive().default(120),
        /** Recovery point objective: a last good backup older than this raises "backup-rpo". */
        rpoHours: z.number().positive().default(1),
        /** Recovery time objective: a restore drill slower than this (its projection for the full size) is out of objective. */
        rtoMinutes: z.number().positive().default(60),
        /** A site without a passing restore drill for this many days raises "drill-overdue" (and is listed in the drills view). */
        drillOverdueDays: z.number().positive().default(10),
        /** A filesystem fuller than this (%) raises "low-disk". */
        lowDiskPct: z.number().min(1).max(100).default(90),
        /** No USB disk attached for this many days raises "no-usb". */
        noUsbDays: z.number().positive().default(7),
        /** A hub TLS certificate expiring within this many days raises "cert-expiry". */
        certExpiryDays: z.number().positive().default(21),
        /** More than flapConnects (re)connections within flapWindowMinutes is one "flapping" alert. */
        flapWindowMinutes: z.number().positive().default(60),
        flapConnects: z.number().int().min(2).default(4),
        /** POSTs each raised and cleared alert as JSON here (optional). */
        webhookUrl: z.string().url().optional(),
      })
      .prefault({}),
    /** The off-site copies of the sites' backups (quota, retention, verify). */
    backups: HubBackupsConfig.prefault({}),
    /** Mirroring to the MoH hub (a DPS hub only). */
    upstream: HubUpstreamConfig.optional(),
    log: logConfig,
  })
  .superRefine((cfg, ctx) => {
    if (!cfg.mqtt.tls && !cfg.mqtt.allowPlaintext) {
      ctx.addIssue({
        code: 'custom',
        path: ['mqtt', 'tls'],
        message: 'TLS is required on the MQTT listener: set mqtt.tls.certFile and keyFile, or mqtt.allowPlaintext: true for a loopback demo',
      });
    }
    // The embedded broker and upstream mirroring still keep their state in SQLite only (docs/postgres.md).
    if (cfg.store.kind === 'postgres' && !cfg.externalBroker) {
      ctx.addIssue({ code: 'custom', path: ['store', 'kind'], message: 'store.kind: postgres needs externalBroker (the embedded broker runs on SQLite only)' });
    }
    if (cfg.store.kind === 'postgres' && cfg.upstream) {
      ctx.addIssue({ code: 'custom', path: ['upstream'], message: 'upstream mirroring runs on store.kind: sqlite only (for now)' });
    }
  });
export type HubConfig = z.infer<typeof HubConfig>;
