/** agent.yaml `network:` section. Documented key by key in examples/agent.yaml. */
import { z } from 'zod';

const hostPort = z.string().regex(/^[^\s:]+:\d{1,5}$/, 'host:port, such as 192.168.1.1:80');

export const AgentNetworkConfig = z.strictObject({
  intervalSeconds: z.number().min(0.2).max(3600).default(30),
  /** Attempts per probe and round: loss is the share that failed. */
  attempts: z.number().int().min(1).max(20).default(3),
  timeoutMs: z.number().int().min(50).max(60000).default(2000),
  /** The WAN counts as down after this many failed rounds in a row (and up after one good one). */
  downAfterRounds: z.number().int().min(1).max(100).default(2),
  lan: z
    .strictObject({
      /** The LAN gateway as host:port (TCP). A refused connection still proves the host answers. */
      gateway: hostPort.optional(),
    })
    .prefault({}),
  dns: z
    .strictObject({
      /** Names to resolve at each round; none: no DNS probe. */
      names: z.array(z.string().min(1)).default([]),
      /** DNS servers to ask (IPs); default: the system's. */
      servers: z.array(z.string().min(1)).default([]),
    })
    .prefault({}),
  hub: z
    .strictObject({
      /** host:port to open a TCP connection to; default: the host and port of hub.mqttUrl. */
      tcp: hostPort.optional(),
    })
    .prefault({}),
  /** Days of WAN outages and daily uptime kept on disk. */
  keepDays: z.number().int().min(1).max(3650).default(90),
});
export type AgentNetworkConfig = z.infer<typeof AgentNetworkConfig>;
