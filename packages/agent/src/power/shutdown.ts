/**
 * The safe-shutdown sequence, in this order:
 * FSD (primary: tells the secondaries to go) → final backup if it fits → pre-shutdown commands →
 * sync → wait for the secondaries to log out (primary) → the event in the outbox → the shutdown
 * command → once it has scheduled the halt, ask the UPS to cut its outlets after its delay and
 * restore them (primary) → log out (secondary).
 * The outlet request is a delayed command (config refuses immediate ones such as load.off), sent
 * from the running system once the halt is scheduled — not late in the halt, where it often never
 * reaches the UPS (nut#209), and not when the shutdown command failed; the UPS's own delay
 * (ups.delay.shutdown) must cover the halt.
 */
import type { AgentPowerConfig, Logger, Severity } from '@sentinela/shared';
import { runCommand } from './commands.js';
import { decideFinalBackup, type FinalBackup } from './final-backup.js';
import { NutError } from './nut-client.js';
import type { UpsControl } from './reading.js';

export interface ShutdownDeps {
  config: AgentPowerConfig;
  control: UpsControl | null;
  finalBackup: FinalBackup | null;
  runtimeSec: number | null;
  /** Called with true just before the shutdown command runs, with false when it failed (the host did not go down). */
  halting(halted: boolean): void;
  event(code: string, severity: Severity, message: string, data?: Record<string, unknown>): void;
  logger: Logger;
}

export interface ShutdownReport {
  finalBackup: 'taken' | 'failed' | 'skipped';
  commandOk: boolean;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function runShutdownSequence(d: ShutdownDeps, reason: string, detail: string): Promise<ShutdownReport> {
  const { config, control } = d;
  const primary = config.role === 'primary';
  d.event('power.shutdown_started', 'critical', `Shutting this server down safely: ${detail}`, { reason, role: config.role });

  if (primary && control) {
    try {
      await control.raiseFsd();
      d.event('power.fsd_raised', 'info', 'Forced shutdown (FSD) set on the UPS: the secondary servers shut down first', {});
    } catch (err) {
      d.event('power.fsd_failed', 'warning', `Could not set FSD on the UPS, the secondaries are not told: ${(err as Error).message}`, {});
    }
  }

  let finalBackup: ShutdownReport['finalBackup'] = 'skipped';
  const decision = decideFinalBackup(d.finalBackup, d.runtimeSec, config.finalBackup);
  if (decision.take) {
    const started = Date.now();
    try {
      await d.finalBackup!.run(AbortSignal.timeout(decision.budgetSec * 1000));
      finalBackup = 'taken';
      d.event('power.final_backup', 'info', `Final backup taken before the shutdown in ${Math.round((Date.now() - started) / 1000)} s`, { estimateSec: decision.estimateSec, budgetSec: decision.budgetSec });
    } catch (err) {
      finalBackup = 'failed';
      d.event('power.final_backup_failed', 'warning', `The final backup failed: ${(err as Error).message}`, {});
    }
  } else {
    d.event('power.final_backup_skipped', 'info', `No final backup before the shutdown: ${decision.why}`, { runtimeSec: d.runtimeSec });
  }

  const pre: Array<{ name: string; ok: boolean; error?: string }> = [];
  for (const c of config.preShutdown) {
    const r = await runCommand(c.command, c.timeoutSeconds * 1000);
    pre.push({ name: c.name ?? c.command.join(' '), ok: r.ok, ...(r.error ? { error: r.error } : {}) });
    if (!r.ok) d.logger.warn({ command: c.command, output: r.output }, `pre-shutdown command failed: ${r.error}`);
  }
  await runCommand(['sync'], 60_000);

  let secondariesLeft: number | null = null;
  if (control && primary) secondariesLeft = await waitForSecondaries(control, config.secondaryWaitSeconds, d.logger);
  if (secondariesLeft) {
    d.event('power.secondaries_timeout', 'warning', `${secondariesLeft} other server${secondariesLeft === 1 ? ' is' : 's are'} still logged in to upsd after the ${config.secondaryWaitSeconds} s wait (secondaryWaitSeconds): shutting down anyway, the UPS may cut ${secondariesLeft === 1 ? 'it' : 'them'} before ${secondariesLeft === 1 ? 'it has' : 'they have'} halted`, { secondariesLeft, waitedSec: config.secondaryWaitSeconds });
  }

  d.event('power.shutdown', 'critical', `Server shutting down now (${reason}); final backup ${finalBackup}`, {
    reason,
    finalBackup,
    preShutdown: pre,
    ...(secondariesLeft !== null ? { secondariesLeft } : {}),
    command: config.shutdownCommand,
  });

  d.halting(true);
  const r = await runCommand(config.shutdownCommand, 120_000);
  if (!r.ok) d.halting(false);
  else d.logger.info({ command: config.shutdownCommand }, 'power: the shutdown command succeeded, the halt is under way');

  if (control && primary && r.ok) await askOutletCycle(d, control);
  // A secondary logs out only once its shutdown is under way: that is what the primary waits for.
  if (control && !primary && r.ok) await control.logout().catch(() => undefined);
  if (!r.ok) {
    d.event('power.shutdown_failed', 'critical', `The shutdown command ${config.shutdownCommand.join(' ')} failed: ${r.error}`, { output: r.output });
  }
  return { finalBackup, commandOk: r.ok };
}

/** NUT's HOSTSYNC: after FSD, wait until we are the only one logged in to the UPS, or the time is up. */
async function waitForSecondaries(control: UpsControl, seconds: number, logger: Logger): Promise<number | null> {
  const deadline = Date.now() + seconds * 1000;
  let others: number | null = null;
  for (;;) {
    try {
      others = Math.max(0, (await control.numLogins()) - 1);
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'cannot count the secondaries logged in to upsd');
      return null;
    }
    if (others === 0 || Date.now() >= deadline) return others;
    await sleep(500);
  }
}

/** What each delayed command makes the UPS do, for the event. */
function outletEffect(cmd: string): string {
  if (cmd === 'shutdown.return') return 'to cut its outlets after its shutdown delay (ups.delay.shutdown) and switch them back on when mains returns, so the server starts again by itself';
  if (cmd === 'load.off.delay') return 'to cut its outlets after its delay (ups.delay.shutdown); whether they come back on by themselves when mains returns depends on the UPS';
  return `to run ${cmd}`;
}

/** Tries the configured instant commands in order until the UPS accepts one; each refusal is reported plainly. */
async function askOutletCycle(d: ShutdownDeps, control: UpsControl): Promise<void> {
  let refused = 0;
  for (const cmd of d.config.outletCommands) {
    try {
      await control.instcmd(cmd);
      d.event('power.outlets', 'info', `Asked the UPS (${cmd}) ${outletEffect(cmd)}`, { command: cmd });
      return;
    } catch (err) {
      const code = err instanceof NutError ? err.code : null;
      if (code) refused++;
      const why = code === 'CMD-NOT-SUPPORTED' ? `the UPS (its driver) does not support the instant command ${cmd}` : code === 'ACCESS-DENIED' || code === 'USERNAME-REQUIRED' ? `the upsd user may not run ${cmd} (add instcmds = ${cmd} in upsd.users)` : code ? `upsd answered ERR ${code}` : `upsd did not answer: ${(err as Error).message}`;
      d.event('power.outlets_refused', 'warning', `Could not ask the UPS to cut and restore its outlets (${cmd}): ${why}`, { command: cmd, error: code ?? (err as Error).message });
    }
  }
  if (!d.config.outletCommands.length) return;
  const after = 'after this shutdown the server may stay off when mains returns (check the BIOS "restore on AC power loss" setting)';
  if (refused) {
    d.event('power.outlets_unsupported', 'warning', `The UPS refused every outlet command (${d.config.outletCommands.join(', ')}): ${after}`, { tried: d.config.outletCommands, cause: 'refused' });
  } else {
    d.event('power.outlets_unsupported', 'warning', `The outlet commands (${d.config.outletCommands.join(', ')}) could not be sent: upsd did not answer, so the UPS was never asked; ${after}`, { tried: d.config.outletCommands, cause: 'unreachable' });
  }
}
