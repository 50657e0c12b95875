/** agent.yaml: every key is documented in examples/agent.yaml. */
import { z } from 'zod';
import { SITE_ID_PATTERN } from '../protocol/topics.js';
import { byteSize, logConfig } from './common.js';
import { AgentBackupConfig } from './agent-backup.js';
import { AgentPowerConfig } from './agent-power.js';
import { AgentNetworkConfig } from './agent-network.js';
import { AgentPageConfig } from './agent-page.js';
import { AgentOffsiteConfig } from './agent-offsite.js';
import { AgentDrillsConfig } from './agent-drills.js';

const hostPort = z.string().regex(/^[^\s:]+:\d{1,5}$/, 'host:port, such as 127.0.0.1:3306');

export const AgentConfig = z.strictObject({
  site: z
    .strictObject({
      /** Optional: enrolment fills it in the credentials file; when set here it must match. */
      id: z.string().regex(SITE_ID_PATTERN, 'a site id of lowercase letters, digits and dashes').optional(),
      name: z.string().optional(),
    })
    .default({}),
  dataDir: z.string().min(1),
  hub: z.strictObject({
    /** MQTT URL of the hub's broker: mqtts://host:8883 (or mqtt:// on loopback demos). */
    mqttUrl: z.string().regex(/^mqtts?:\/\/[^\s]+$/, 'an mqtt:// or mqtts:// URL'),
    /** CA certificate (PEM) that signed the hub's certificate; omit to use the system CAs. */
    caFile: z.string().optional(),
    /** Where `enroll` stores the site's credentials; defaults to <dataDir>/credentials.json. */
    credentialsFile: z.string().optional(),
    keepaliveSeconds: z.number().int().min(5).max(3600).default(30),
    connectTimeoutSeconds: z.number().int().min(1).max(600).default(30),
    reconnectSeconds: z.number().int().min(1).max(3600).default(5),
  }),
  sampling: z
    .strictObject({
      intervalSeconds: z.number().min(1).max(86400).default(60),
      services: z
        .array(
          z.strictObject({
            name: z.string().min(1),
            tcp: hostPort,
            timeoutMs: z.number().int().min(50).max(60000).default(3000),
          }),
        )
        .default([]),
    })
    .default({ intervalSeconds: 60, services: [] }),
  outbox: z
    .strictObject({
      maxBytes: byteSize.default(256 * 1024 * 1024),
      drainPerSecond: z.number().positive().default(20),
      inflight: z.number().int().min(1).max(1000).default(50),
      resendAfterSeconds: z.number().min(1).max(86400).default(60),
    })
    .default({ maxBytes: 256 * 1024 * 1024, drainPerSecond: 20, inflight: 50, resendAfterSeconds: 60 }),
  /** Dumps, repository, USB disks, secondary server (absent: no backups). */
  backup: AgentBackupConfig.optional(),
  /** UPS watch and safe shutdown (absent: power watch off, and the agent says so). */
  power: AgentPowerConfig.optional(),
  /** LAN, DNS and hub probes. */
  network: AgentNetworkConfig.optional(),
  /** The technicians' local status page. */
  page: AgentPageConfig.optional(),
  /** Off-site copies of the backups at the hub, over the MQTT link. */
  offsite: AgentOffsiteConfig.optional(),
  /** Scheduled restore drills (absent: on, weekly, 01:00-05:00, when the agent has backups). */
  drills: AgentDrillsConfig.prefault({}),
  log: logConfig,
});
export type AgentConfig = z.infer<typeof AgentConfig>;
