/**
 * The final backup taken before a power shutdown. The backup module implements FinalBackup and
 * hands it over with provideFinalBackup(ctx.config, impl); the power module asks for it only
 * when it is about to shut down, so the order in which modules start does not matter.
 */
import type { AgentConfig } from '@sentinela/shared';

export interface FinalBackup {
  /** Seconds a backup and its copy to the USB disk is expected to take, from past durations; null when unknown. */
  estimateSeconds(): number | null;
  /** Takes the backup and copies it to an attached USB disk; stops when `signal` aborts (the battery is running out). */
  run(signal: AbortSignal): Promise<void>;
}

const providers = new WeakMap<AgentConfig, FinalBackup>();

/** Keyed by the agent's config object: one agent's modules share it, and tests may run two agents in one process. */
export function provideFinalBackup(config: AgentConfig, impl: FinalBackup): void {
  providers.set(config, impl);
}

export function finalBackupFor(config: AgentConfig): FinalBackup | null {
  return providers.get(config) ?? null;
}

export type FinalBackupDecision =
  | { take: true; estimateSec: number; budgetSec: number }
  | { take: false; why: string };

/** Take it only if estimate × margin fits in the runtime left minus the reserve for the halt. */
export function decideFinalBackup(
  impl: FinalBackup | null,
  runtimeSec: number | null,
  opts: { enabled: boolean; margin: number; reserveSeconds: number },
): FinalBackupDecision {
  if (!opts.enabled) return { take: false, why: 'the final backup is disabled (power.finalBackup.enabled: false)' };
  if (!impl) return { take: false, why: 'no backup is configured on this agent' };
  const estimate = impl.estimateSeconds();
  if (estimate === null) return { take: false, why: 'no past backup durations to estimate from' };
  if (runtimeSec === null) return { take: false, why: 'the UPS does not report its remaining runtime' };
  const budget = runtimeSec - opts.reserveSeconds;
  const needed = estimate * opts.margin;
  if (needed > budget) {
    return { take: false, why: `it would need ${Math.round(needed)} s (estimate ${Math.round(estimate)} s × ${opts.margin}) but only ${Math.max(0, Math.round(budget))} s of runtime are left after the ${opts.reserveSeconds} s reserve` };
  }
  return { take: true, estimateSec: estimate, budgetSec: budget };
}
