/**
 * Scheduled restore drills inside the running agent: at start, the leftovers of a drill that a
 * SIGKILL or a power cut interrupted are removed; then every drills.checkSeconds the schedule rule
 * (schedule.ts) decides whether a drill starts. The report goes to the outbox and the local page.
 */
import { hostname } from 'node:os';
import { rmSync } from 'node:fs';
import type { AgentContext, AgentModule } from '../module.js';
import { MasterKey } from '../repository/keys.js';
import { backupKeyPath } from '../paths.js';
import { readLastDrill, recordDrill } from './record.js';
import { removeLeftovers, scratchRoot } from './scratch.js';
import { whyNotNow } from './schedule.js';

export class DrillModule implements AgentModule {
  readonly name = 'drills';
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private closed = false;

  constructor(private readonly ctx: AgentContext) {}

  start(): void {
    const { config, logger } = this.ctx;
    for (const dir of removeLeftovers(config)) logger.warn({ dir }, `removed the scratch copy an interrupted restore drill left behind: ${dir}`);
    if (!config.drills.enabled) return;
    this.timer = setInterval(() => this.check(), config.drills.checkSeconds * 1000);
    this.timer.unref();
  }

  /** What the other modules say now: on battery, a backup running. */
  private async conditions(): Promise<{ onBattery: boolean; backupRunning: boolean }> {
    let onBattery = false;
    let backupRunning = false;
    for (const m of this.ctx.modules?.() ?? []) {
      if (m === this || !m.status) continue;
      const s = await Promise.resolve(m.status()).catch(() => ({}) as Awaited<ReturnType<NonNullable<typeof m.status>>>);
      if (s.power && ['battery', 'low-battery', 'shutting-down'].includes(String(s.power.state))) onBattery = true;
      if (s.backups?.sources.some((x) => x.running)) backupRunning = true;
    }
    return { onBattery, backupRunning };
  }

  private check(): void {
    if (this.running || this.closed) return;
    this.running = this.maybeRun()
      .catch((err: Error) => this.ctx.logger.error({ err: err.message }, `scheduled restore drill failed to run: ${err.message}`))
      .finally(() => (this.running = null));
  }

  private async maybeRun(): Promise<void> {
    const { config, logger, outbox, siteId } = this.ctx;
    const why = whyNotNow(config.drills, { now: new Date(), lastAt: readLastDrill(config)?.finishedAt ?? null, ...(await this.conditions()) });
    if (why) {
      logger.debug({ why }, `no restore drill now: ${why}`);
      return;
    }
    logger.info('scheduled restore drill starting');
    // The restore engine is loaded for the drill only: at rest the agent does not hold it.
    const { runDrill } = await import('./drill.js');
    const report = await runDrill(config, MasterKey.load(backupKeyPath(config)), { by: 'schedule', host: hostname() });
    rmSync(scratchRoot(config), { recursive: true, force: true });
    recordDrill(config, report, { outbox, siteId });
    const failed = report.results.filter((r) => !r.ok);
    if (failed.length) logger.warn({ failed: failed.length }, `restore drill FAILED: ${failed.map((r) => `${r.source} from ${r.location}: ${r.problems.join('; ')}`).join(' | ')}`);
    else logger.info({ results: report.results.length }, `restore drill passed: ${report.results.length} copies restored and checked`);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
