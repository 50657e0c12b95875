/**
 * What a part of the hub (backups, upstream, alerts, users…) plugs in as, like the agent's
 * AgentModule: its steps of the one database schema (assembled by database.ts from modules.ts),
 * and once started, its HTTP routes and its close. The API registers each module's routes as a
 * fastify plugin of its own, so a module's hooks and decorators stay inside it.
 */
import type { FastifyInstance } from 'fastify';
import type { MigrationStep } from './store/migrations.js';

export interface HubModule {
  readonly name: string;
  /** This module's schema steps, each at its fixed place in user_version order (store/migrations.ts). */
  readonly migrations?: readonly MigrationStep[];
}

/** A started module, as the API and the hub's close see it. */
export interface RunningModule {
  readonly name: string;
  /** Adds its routes to `app`: an encapsulated context of its own under the API. */
  routes?(app: FastifyInstance): void;
  close?(): void | Promise<void>;
}
