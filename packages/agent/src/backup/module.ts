/**
 * The backup module: dumps every configured source on its schedule into the local spool, applies
 * retention, keeps the USB disks and the secondary server up to date, raises events and reports the
 * `backups` status section. Enabled by the `backup:` config section.
 */
import type { ScheduledTask } from 'node-cron';
import { describeHolder, type AgentBackupConfig } from '@sentinela/shared';
import type { AgentContext, AgentModule, StatusSections } from '../module.js';
import type { Repository } from '../repository/api.js';
import { loadOrCreateKey } from '../repository/keys.js';
import type { Source } from '../sources/index.js';
import { provideFinalBackup } from '../power/final-backup.js';
import { LocationSync } from '../locations/sync.js';
import { openOrInitSpool } from './spool.js';
import { BackupState, backupStatePath } from './state.js';
import { BackupQueue } from './queue.js';
import { RwLock } from './lock.js';
import { backupSource, failureText } from './runner.js';
import { backupsStatus } from './status.js';
import { finalBackup } from './final-backup.js';
import { backupKeyPath, repositoryPath } from '../paths.js';
import { DEFAULT_SCHEDULE, schedule } from './schedule.js';

export { DEFAULT_SCHEDULE };

/** Three failures in a row of the same source turn the event critical: the RPO is being missed. */
const CRITICAL_AFTER = 3;

export class BackupModule implements AgentModule {
  readonly name = 'backup';
  private readonly cfg: AgentBackupConfig;
  private readonly state: BackupState;
  private readonly lock = new RwLock();
  private readonly queue: BackupQueue;
  private readonly tasks: ScheduledTask[] = [];
  private sources = new Map<string, Source>();
  private repo: Repository | null = null;
  private sync: LocationSync | null = null;
  private current: AbortController | null = null;
  private closed = false;

  constructor(private readonly ctx: AgentContext) {
    this.cfg = ctx.config.backup!;
    this.state = BackupState.open(backupStatePath(ctx.config));
    this.queue = new BackupQueue((name) => this.runOne(name));
  }

  async start(): Promise<void> {
    const { ctx, cfg } = this;
    const keyFile = backupKeyPath(ctx.config);
    const { key, created } = loadOrCreateKey(keyFile);
    if (created)
      ctx.event('backup.key_created', 'warning', `Chave de cópias criada: imprima o código de recuperação / backup key created at ${keyFile}: print the recovery code with "sentinela-agent key export" and keep it with the USB disks`, { keyFile });
    this.repo = await openOrInitSpool(repositoryPath(ctx.config), ctx.siteId, key);

    const retention = cfg.retention;
    this.sync = new LocationSync({
      siteId: ctx.siteId,
      spoolDir: this.repo.dir,
      key,
      state: this.state,
      spoolLock: this.lock,
      logger: ctx.logger,
      event: (...a) => ctx.event(...a),
      usb: cfg.usb ? { mountRoots: cfg.usb.mountRoots, rotationDays: cfg.usb.rotationDays, pollSeconds: cfg.usb.pollSeconds, retention: cfg.usb.retention ?? retention } : undefined,
      peer: cfg.peer ? { path: cfg.peer.path, retention: cfg.peer.retention ?? retention } : undefined,
    });
    this.sync.start();

    for (const sc of cfg.sources) {
      const task = schedule(sc.schedule ?? DEFAULT_SCHEDULE, `backup-${sc.name}`, () => void this.trigger(sc.name));
      this.tasks.push(task);
    }
    provideFinalBackup(ctx.config, this.finalBackup());
    ctx.logger.info({ sources: cfg.sources.map((s) => s.name), spool: this.repo.dir }, 'backup module ready');
  }

  /** Backs up `source` now (joining a run already queued or under way). */
  trigger(source: string): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.queue.isBusy(source)) this.ctx.logger.info({ source }, `backup of ${source} already queued or running; not starting a second one`);
    return this.queue.trigger(source);
  }

  finalBackup() {
    return finalBackup({
      state: this.state,
      sources: () => this.cfg.sources.map((s) => s.name),
      backupAll: async (signal) => {
        const onAbort = () => this.current?.abort();
        signal.addEventListener('abort', onAbort, { once: true });
        try {
          await Promise.all(this.cfg.sources.map((s) => this.trigger(s.name)));
        } finally {
          signal.removeEventListener('abort', onAbort);
        }
      },
      copyNow: async (signal) => {
        const onAbort = () => this.sync?.abortCurrent();
        signal.addEventListener('abort', onAbort, { once: true });
        try {
          await this.sync?.kick();
        } finally {
          signal.removeEventListener('abort', onAbort);
        }
      },
    });
  }

  /** A source's dump code is loaded at its first backup, not at start: at rest the agent does not hold it. */
  private async source(name: string): Promise<Source | undefined> {
    const cached = this.sources.get(name);
    if (cached) return cached;
    const sc = this.cfg.sources.find((s) => s.name === name);
    if (!sc) return undefined;
    const { createSource } = await import('../sources/index.js');
    const source = createSource(sc, { tmpDir: this.ctx.config.dataDir });
    this.sources.set(name, source);
    return source;
  }

  private async runOne(name: string): Promise<void> {
    if (!this.repo || !this.cfg.sources.some((s) => s.name === name)) return;
    const { ctx } = this;
    this.current = new AbortController();
    try {
      const source = (await this.source(name))!;
      const { manifest, durationMs } = await this.lock.shared(() =>
        backupSource(this.repo!, source, this.state, {
          rebaseEvery: this.cfg.rebaseEvery,
          signal: this.current!.signal,
          onLockWait: (h) => this.ctx.logger.info({ source: source.name, holders: h }, `backup of ${source.name} waits for the spool: in use by ${h.map(describeHolder).join('; ')}`),
        }),
      );
      ctx.event(
        'backup.completed',
        'info',
        `Cópia de ${name} concluída / backup of ${name} complete: ${manifest.content.bytes} bytes dumped, ${manifest.stored} bytes stored, ${(durationMs / 1000).toFixed(1)} s`,
        { source: name, snapshotId: manifest.id, contentBytes: manifest.content.bytes, storedBytes: manifest.stored, durationMs, chain: manifest.chain },
      );
    } catch (err) {
      const inARow = this.state.failuresInARow(name);
      ctx.event(
        'backup.failed',
        inARow >= CRITICAL_AFTER ? 'critical' : 'warning',
        `A cópia de ${name} falhou / backup of ${name} failed: ${failureText(err)}`,
        { source: name, error: failureText(err), failuresInARow: inARow },
      );
      return;
    } finally {
      this.current = null;
    }
    await this.applyRetention();
    void this.sync?.kick();
  }

  /** Spool retention after each backup; prune alone needs the spool to itself. */
  private async applyRetention(): Promise<void> {
    try {
      const { removed } = await this.repo!.forget(this.cfg.retention);
      if (removed.length > 0) {
        const pruned = await this.lock.exclusive(() => this.repo!.prune());
        this.ctx.logger.info({ removed: removed.length, freedBytes: pruned.freedBytes }, `retention: ${removed.length} old snapshots removed from the spool`);
      }
    } catch (err) {
      this.ctx.event('backup.retention_failed', 'warning', `retention in the spool failed: ${(err as Error).message}`, { error: (err as Error).message });
    }
  }

  status(): StatusSections {
    const copying = this.sync?.copying() ?? null;
    return {
      backups: backupsStatus({
        state: this.state,
        sources: this.cfg.sources.map((s) => ({ name: s.name, kind: s.kind })),
        running: this.queue.current,
        attachedDiskIds: this.sync?.attachedDisks().filter((d) => d.label.siteId === this.ctx.siteId).map((d) => d.label.diskId) ?? [],
        copying: copying?.location.startsWith('usb:') ?? false,
        usbRotationDays: this.cfg.usb?.rotationDays ?? null,
        peer: this.cfg.peer ? { path: this.cfg.peer.path, ...(this.sync?.peerStatus() ?? { reachable: false, error: null }) } : null,
      }),
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.tasks) void t.stop();
    this.current?.abort();
    await this.queue.idle();
    await this.sync?.close();
    this.state.close();
  }
}
