/**
 * Keeps the copies outside the spool up to date: every registered USB disk while it is plugged in,
 * and the secondary server's folder. Polls (mount roots change without telling anyone), copies one
 * location at a time, honours `disk eject`, and watches disk rotation.
 */
import type { Logger, Severity } from '@sentinela/shared';
import type { RetentionPolicy, Progress } from '../repository/api.js';
import type { MasterKey } from '../repository/keys.js';
import type { BackupState } from '../backup/state.js';
import type { RwLock } from '../backup/lock.js';
import { readDiskLabel } from './disk-label.js';
import { diskPresent, scanForDisks, type AttachedDisk } from './usb.js';
import { mirror, snapshotsMissing, type MirrorTarget } from './mirror.js';

const DAY_MS = 86_400_000;

export interface LocationSyncOptions {
  siteId: string;
  spoolDir: string;
  key: MasterKey;
  state: BackupState;
  /** Shared while copying: prune in the spool must not delete what a copy is reading. */
  spoolLock: RwLock;
  logger: Logger;
  event(code: string, severity: Severity, message: string, data?: Record<string, unknown>): void;
  usb?: { mountRoots: string[]; rotationDays: number; pollSeconds: number; retention: RetentionPolicy };
  peer?: { path: string; retention: RetentionPolicy };
}

export interface CopyProgress {
  location: string;
  progress: Progress;
}

export class LocationSync {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private closed = false;
  private attached = new Map<string, AttachedDisk>();
  private current: { location: string; controller: AbortController; progress?: Progress } | null = null;
  private peerReachable: boolean | null = null;
  private peerError: string | null = null;
  private lastRotationEvent = 0;
  private readonly startedAt = new Date().toISOString();
  /** Disks found full or failing: not retried (nor reported again) until they are plugged in again. */
  private readonly stalled = new Map<string, string>();

  constructor(private readonly opts: LocationSyncOptions) {}

  start(): void {
    const now = new Date().toISOString();
    if (!this.opts.state.getMeta('usbWatchSince')) this.opts.state.setMeta('usbWatchSince', now);
    const every = (this.opts.usb?.pollSeconds ?? 30) * 1000;
    this.timer = setInterval(() => void this.kick(), every);
    void this.kick();
  }

  /** Looks at the disks and the peer now (after a backup, say). A pass already running goes round once more. */
  kick(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.pass().catch((err: Error) => this.opts.logger.error({ err: err.message }, `backup locations: ${err.message}`));
      } while (this.again && !this.closed);
    })().finally(() => (this.running = null));
    return this.running;
  }

  attachedDisks(): AttachedDisk[] {
    return [...this.attached.values()];
  }

  copying(): { location: string; progress?: Progress } | null {
    return this.current ? { location: this.current.location, progress: this.current.progress } : null;
  }

  peerStatus(): { reachable: boolean; error: string | null } {
    return { reachable: this.peerReachable === true, error: this.peerError };
  }

  /** Stops the copy under way, cleanly: what was fully copied stays, the rest resumes next time. */
  abortCurrent(): void {
    this.current?.controller.abort();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.current?.controller.abort();
    await this.running;
  }

  private async pass(): Promise<void> {
    const { usb, peer } = this.opts;
    if (usb) {
      this.refreshDisks(usb.mountRoots);
      for (const disk of this.attached.values()) {
        if (this.closed) return;
        await this.syncDisk(disk, usb.retention);
      }
      this.checkRotation(usb.rotationDays);
    }
    if (peer && !this.closed) await this.syncPeer(peer);
  }

  private refreshDisks(mountRoots: string[]): void {
    const { state, siteId, event, logger } = this.opts;
    const now = new Date().toISOString();
    const seen = new Map<string, AttachedDisk>();
    for (const disk of scanForDisks(mountRoots)) {
      if (disk.label.siteId !== siteId) {
        if (!this.attached.has(disk.label.diskId))
          logger.warn({ path: disk.path, site: disk.label.siteId }, `a backup disk of another site (${disk.label.siteId}) is mounted at ${disk.path}; it is left alone`);
        seen.set(disk.label.diskId, disk); // remembered so the warning is said once
        continue;
      }
      seen.set(disk.label.diskId, disk);
      // Registered here even when `disk init` ran on another machine of this site (a replacement server).
      state.upsertDisk({ id: disk.label.diskId, label: disk.label.label, site: disk.label.siteId, createdAt: disk.label.created });
      state.diskAttached(disk.label.diskId, disk.path, now);
      if (!this.attached.has(disk.label.diskId)) {
        // An eject from before this agent started is stale: the disk was unplugged and plugged in since, or the request was never seen.
        const req = state.ejectRequest(disk.label.diskId);
        if (req && req.requestedAt < this.startedAt) state.clearEject(disk.label.diskId);
        event('usb.disk_attached', 'info', `backup disk "${disk.label.label}" attached at ${disk.path}`, {
          diskId: disk.label.diskId,
          label: disk.label.label,
          path: disk.path,
        });
      }
    }
    for (const [id, disk] of this.attached) {
      if (seen.has(id)) continue;
      state.clearEject(id); // unplugged: the next attach copies again
      this.stalled.delete(id);
      if (disk.label.siteId === siteId)
        logger.info({ diskId: id, label: disk.label.label }, `backup disk "${disk.label.label}" is no longer mounted at ${disk.path}`);
    }
    this.attached = seen;
  }

  private async syncDisk(disk: AttachedDisk, retention: RetentionPolicy): Promise<void> {
    if (disk.label.siteId !== this.opts.siteId) return;
    const stalledAt = this.stalled.get(disk.label.diskId);
    if (stalledAt !== undefined) {
      // Ejected since (the agent may not have seen it gone: a quick unplug and plug): try again.
      if ((this.opts.state.getMeta(`ejected:${disk.label.diskId}`) ?? '') <= stalledAt) return;
      this.stalled.delete(disk.label.diskId);
    }
    const location = `usb:${disk.label.diskId}`;
    const target: MirrorTarget = { location, dir: disk.path, retention, present: () => diskPresent(disk) };
    const outcome = await this.copy(target, disk.label.diskId);
    if (!outcome) return;
    const { event, state } = this.opts;
    const data = { diskId: disk.label.diskId, label: disk.label.label, path: disk.path };
    const now = new Date().toISOString();
    switch (outcome.status) {
      case 'complete':
        state.diskCopied(disk.label.diskId, now, null);
        if (outcome.report.snapshotsCopied.length > 0)
          event(
            'usb.copy_completed',
            'info',
            `Cópia no disco "${disk.label.label}" concluída e verificada / copy to disk "${disk.label.label}" complete and read back: ${outcome.report.snapshotsCopied.length} snapshots, ${outcome.report.bytesCopied} bytes`,
            { ...data, snapshots: outcome.report.snapshotsCopied.length, bytes: outcome.report.bytesCopied, held: outcome.held.length },
          );
        return;
      case 'unplugged':
        // Not a failure (kopia#4946): the copy resumes at the next attach.
        state.diskCopied(disk.label.diskId, now, `unplugged during a copy: ${outcome.error}`);
        event('usb.copy_interrupted', 'info', `disk "${disk.label.label}" removed mid-copy; the copy resumes next time it is plugged in`, data);
        return;
      case 'full':
        this.stalled.set(disk.label.diskId, now);
        state.diskCopied(disk.label.diskId, now, outcome.error);
        event('usb.disk_full', 'warning', `backup disk "${disk.label.label}" is full: ${outcome.error}`, { ...data, error: outcome.error });
        return;
      case 'aborted':
        state.diskCopied(disk.label.diskId, now, 'stopped for eject');
        return;
      case 'failed':
        this.stalled.set(disk.label.diskId, now);
        state.diskCopied(disk.label.diskId, now, outcome.error);
        event('usb.copy_failed', 'warning', `copy to disk "${disk.label.label}" failed: ${outcome.error}`, { ...data, error: outcome.error });
        return;
    }
  }

  private async syncPeer(peer: { path: string; retention: RetentionPolicy }): Promise<void> {
    const { siteId, event } = this.opts;
    const present = (): boolean => readDiskLabel(peer.path)?.siteId === siteId;
    const target: MirrorTarget = { location: 'peer', dir: peer.path, retention: peer.retention, present };
    if (!present()) {
      if (this.peerReachable !== false)
        event('peer.unreachable', 'warning', `the secondary server's mirror is not reachable at ${peer.path} (not mounted, or not labelled with disk init --peer)`, { path: peer.path });
      this.peerReachable = false;
      return;
    }
    if (this.peerReachable === false) event('peer.reachable', 'info', `the secondary server's mirror is reachable again at ${peer.path}`, { path: peer.path });
    this.peerReachable = true;
    const outcome = await this.copy(target, null);
    if (!outcome) return;
    if (outcome.status === 'complete') {
      this.peerError = null;
      this.opts.state.setMeta('peerLastMirrorAt', new Date().toISOString());
      return;
    }
    if (outcome.status === 'aborted') return;
    const first = this.peerError === null;
    this.peerError = outcome.error;
    if (first)
      event(outcome.status === 'full' ? 'peer.full' : 'peer.mirror_failed', 'warning', `O espelho no servidor secundário falhou / mirroring to the secondary server failed: ${outcome.error}`, { path: peer.path, status: outcome.status });
  }

  /** One copy, if the location lacks anything; null when there was nothing to do or it was ejected. */
  private async copy(target: MirrorTarget, diskId: string | null) {
    const { state, spoolDir, key, spoolLock } = this.opts;
    let missing: string[];
    try {
      missing = await snapshotsMissing(spoolDir, target, state);
    } catch {
      return null; // the location vanished between the scan and now
    }
    if (missing.length === 0) return null;
    // Marked as copying before looking for an eject request: `disk eject` writes its request before
    // looking for a copy, so one of the two always sees the other.
    state.startCopying(target.location, new Date().toISOString());
    const controller = new AbortController();
    const ejectWatch = diskId
      ? setInterval(() => {
          const req = state.ejectRequest(diskId);
          if (req && !req.wait) controller.abort();
        }, 500)
      : null;
    try {
      if (diskId && state.ejectRequest(diskId)) return null;
      this.current = { location: target.location, controller };
      const started = Date.now();
      const outcome = await spoolLock.shared(() =>
        mirror({ spoolDir, target, key, state, signal: controller.signal, onProgress: (p) => this.current && (this.current.progress = p) }),
      );
      // The measured rate feeds the power module's final-backup estimate.
      const secs = (Date.now() - started) / 1000;
      if (outcome.status === 'complete' && outcome.report.bytesCopied > 1_000_000 && secs > 0)
        state.setMeta('copyBytesPerSecond', String(Math.round(outcome.report.bytesCopied / secs)));
      return outcome;
    } finally {
      if (ejectWatch) clearInterval(ejectWatch);
      this.current = null;
      state.endCopying(target.location);
    }
  }

  private checkRotation(rotationDays: number): void {
    const { state, event } = this.opts;
    const last = state.disks().map((d) => d.lastAttachedAt).filter((x): x is string => !!x).sort().pop() ?? null;
    const since = last ?? state.getMeta('usbWatchSince');
    if (!since) return;
    const ageMs = Date.now() - Date.parse(since);
    if (ageMs <= rotationDays * DAY_MS || Date.now() - this.lastRotationEvent < DAY_MS) return;
    this.lastRotationEvent = Date.now();
    const days = Math.floor(ageMs / DAY_MS);
    event(
      'usb.rotation_overdue',
      'warning',
      last
        ? `Nenhum disco de cópia ligado há ${days} dias: ligue o próximo disco / no backup disk attached for ${days} days: plug in the next disk`
        : `Nenhum disco de cópia registado: prepare um com "sentinela-agent disk init" / no backup disk registered in ${days} days: prepare one with "sentinela-agent disk init"`,
      { lastAttachedAt: last, rotationDays },
    );
  }
}
