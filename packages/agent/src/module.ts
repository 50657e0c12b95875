/**
 * What a part of the agent (backups, power watch, network probes, the local page) plugs in as.
 * startAgent builds every configured module, starts them after the outbox and link, adds each
 * one's section to every status sample, and closes them in reverse order.
 */
import type { AgentConfig, Logger, Severity, StatusMessage } from '@sentinela/shared';
import type { Outbox } from './outbox/outbox.js';
import type { HubLink } from './link/link.js';

export type StatusSections = Partial<Pick<StatusMessage, 'power' | 'network' | 'backups'>>;

export interface AgentContext {
  readonly config: AgentConfig;
  readonly siteId: string;
  readonly logger: Logger;
  readonly outbox: Outbox;
  /** The MQTT link to the hub (for a round-trip probe on the agent's own connection). */
  readonly link?: HubLink;
  /** Records an event in the outbox (it reaches the hub store-and-forward) and logs it. */
  event(code: string, severity: Severity, message: string, data?: Record<string, unknown>): void;
  /** Takes a status sample now (e.g. right after the power state changed). */
  sampleNow(): Promise<void>;
  /** Every module of this agent, once built (the local page reads their status and starts their actions). */
  modules?(): readonly AgentModule[];
}

export interface AgentModule {
  readonly name: string;
  start(): Promise<void> | void;
  /** This module's part of the next status sample. */
  status?(): StatusSections | Promise<StatusSections>;
  close(): Promise<void> | void;
}

export type ModuleFactory = (ctx: AgentContext) => AgentModule | null;
