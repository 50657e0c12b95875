/** The live part of the status, gathered from the running agent's modules (never waiting on a backup). */
import type { AgentContext, AgentModule, StatusSections } from '../module.js';
import { sampleHost } from '../health/sampler.js';
import { probeServices } from '../health/service-probe.js';
import type { LiveStatus } from './rules.js';

export async function gatherLive(ctx: AgentContext, modules: readonly AgentModule[]): Promise<LiveStatus> {
  const [host, services, ...sections] = await Promise.all([
    sampleHost(),
    probeServices(ctx.config.sampling.services),
    ...modules.map((m) => (m.status ? Promise.resolve(m.status()).catch(() => ({}) as StatusSections) : ({} as StatusSections))),
  ]);
  const merged: StatusSections = Object.assign({}, ...sections);
  return {
    sampledAt: new Date().toISOString(),
    host,
    services,
    power: merged.power,
    network: merged.network,
    backups: merged.backups,
    hubConnected: ctx.link ? ctx.link.connected : null,
  };
}
