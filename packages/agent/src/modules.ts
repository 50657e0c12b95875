/** The agent's optional parts, each enabled by its config section. One line each. */
import type { AgentContext, AgentModule, ModuleFactory } from './module.js';
import { PowerModule } from './power/power-module.js';
import { NetworkModule } from './network/network-module.js';
import { BackupModule } from './backup/module.js';
import { OffsiteModule } from './offsite/sender.js';
import { PageModule } from './page/module.js';
import { DrillModule } from './drills/module.js';

const FACTORIES: ModuleFactory[] = [
  (ctx) => new PowerModule(ctx), // always: without a power section it says the watch is off
  (ctx) => (ctx.config.network ? new NetworkModule(ctx) : null),
  (ctx) => (ctx.config.backup ? new BackupModule(ctx) : null),
  (ctx) => (ctx.config.backup && ctx.config.offsite ? new OffsiteModule(ctx) : null),
  (ctx) => (ctx.config.backup ? new DrillModule(ctx) : null), // removes a killed drill's leftovers even when scheduled drills are off
  (ctx) => (ctx.config.page ? new PageModule(ctx) : null),
];

export function createModules(ctx: AgentContext): AgentModule[] {
  return FACTORIES.map((make) => make(ctx)).filter((m): m is AgentModule => m !== null);
}
