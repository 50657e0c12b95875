/** agent.yaml `page:` section. Documented key by key in examples/agent.yaml. */
import { z } from 'zod';
import { port } from './common.js';

export const AgentPageConfig = z.strictObject({
  /** The LAN address to serve on: the server's address on the facility LAN. 0.0.0.0 only when written here. */
  listen: z.strictObject({
    host: z.string().min(1).default('127.0.0.1'),
    port: port.default(8090),
  }),
  /** The hashed PIN (written by `sentinela-agent page set-pin`); default <dataDir>/page-pin. */
  pinFile: z.string().min(1).optional(),
  /** The page's language when the browser has not chosen one: pt (Portuguese) or en. */
  language: z.enum(['pt', 'en']).default('pt'),
  /** How often an open page refreshes itself (seconds; browsers without JavaScript use a meta refresh). */
  refreshSeconds: z.number().int().min(5).max(3600).default(30),
  /** Wrong PINs allowed before each further attempt must wait (doubling up to 5 minutes). */
  pinAttempts: z.number().int().min(1).max(100).default(3),
});
export type AgentPageConfig = z.infer<typeof AgentPageConfig>;
