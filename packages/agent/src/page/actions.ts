/**
 * What the page's buttons do, in the agent's own process: the same functions the CLI verbs call
 * (backup queue, `disk init`, `disk eject`, repository verify, a status sample). Long work is started
 * and left running: the page answers at once and shows the progress on its next refresh.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { AgentContext, AgentModule } from '../module.js';
import type { BackupModule } from '../backup/module.js';
import { readDiskLabel } from '../locations/disk-label.js';
import { scanForDisks } from '../locations/usb.js';
import { ejectDisk, initDisk, type DiskEjectResult, type DiskInitResult } from '../locations/disks.js';
import { openRepository } from '../repository/repository.js';
import { MasterKey } from '../repository/keys.js';
import { backupKeyPath, repositoryPath } from '../paths.js';
import { both, type Text } from './i18n.js';

export type ActionName = 'backup' | 'verify' | 'send-status' | 'disk-init' | 'disk-eject';
export const ACTIONS: readonly ActionName[] = ['backup', 'verify', 'send-status', 'disk-init', 'disk-eject'];

export interface ActionResult {
  ok: boolean;
  message: Text;
}
export interface VerifyOutcome {
  at: string;
  running: boolean;
  problems: number | null;
  error: string | null;
}

export interface DiskChoice {
  path: string;
  label: string | null;
}

/** What initializing a disk did, worded for the page in both languages. */
export function initMessage(r: DiskInitResult): Text {
  if (r.ok) {
    const what = r.done === 'already' ? both('page_disk_already', { label: r.label }) : both('page_disk_initialized', { label: r.label });
    const notes = r.warnings.map((w) =>
      w.code === 'same-filesystem'
        ? both('page_disk_same_filesystem')
        : both('page_disk_outside_roots'),
    );
    return { pt: what.pt + notes.map((n) => n.pt).join(''), en: what.en + notes.map((n) => n.en).join('') };
  }
  switch (r.code) {
    case 'no-backup-config':
      return both('page_no_backup_config');
    case 'no-site-id':
      return both('page_no_site_id');
    case 'not-a-folder':
      return both('page_disk_gone');
    case 'other-site':
      return both('page_disk_other_site', { site: r.site, label: r.label });
  }
}

/** What ejecting a disk did, worded for the page in both languages. */
export function ejectMessage(r: DiskEjectResult): Text {
  if (r.ok) return both('page_disk_ejected', { label: r.label });
  switch (r.code) {
    case 'not-a-disk':
      return both('page_disk_not_ours');
    case 'sync-failed':
      return both('page_disk_sync_failed', { label: r.label, detail: r.detail });
    case 'unmount-failed':
      return both('page_disk_unmount_failed', { label: r.label, detail: r.detail });
  }
}

export class PageActions {
  verifyOutcome: VerifyOutcome | null = null;

  constructor(private readonly ctx: AgentContext) {}

  private backupModule(): BackupModule | null {
    return (this.ctx.modules?.().find((m: AgentModule) => m.name === 'backup') as BackupModule | undefined) ?? null;
  }

  private get mountRoots(): string[] {
    return this.ctx.config.backup?.usb?.mountRoots ?? [];
  }

  /** Folders under usb.mountRoots: labelled disks of this site (can eject) and blank ones (can initialize). */
  disks(): { attached: DiskChoice[]; blank: DiskChoice[] } {
    const attached = scanForDisks(this.mountRoots).map((d) => ({ path: d.path, label: d.label.label }));
    const blank: DiskChoice[] = [];
    for (const root of this.mountRoots) {
      let names: string[] = [];
      try {
        names = readdirSync(root);
      } catch {
        continue;
      }
      for (const n of names) {
        const p = join(root, n);
        try {
          if (statSync(p).isDirectory() && !readDiskLabel(p)) blank.push({ path: p, label: null });
        } catch {
          /* vanished or unreadable: not offered */
        }
      }
    }
    return { attached, blank };
  }

  async run(name: ActionName, form: Record<string, string | undefined>): Promise<ActionResult> {
    switch (name) {
      case 'backup':
        return this.backupNow();
      case 'verify':
        return this.verify();
      case 'send-status':
        await this.ctx.sampleNow();
        this.ctx.link?.wake();
        return { ok: true, message: both('page_status_queued') };
      case 'disk-init':
        return this.initDisk(form.path, form.label);
      case 'disk-eject':
        return this.ejectDisk(form.path);
    }
  }

  private backupNow(): ActionResult {
    const b = this.backupModule();
    if (!b || !this.ctx.config.backup) return { ok: false, message: both('page_no_backup_config') };
    for (const s of this.ctx.config.backup.sources) void b.trigger(s.name);
    this.ctx.logger.info({ action: 'backup' }, 'local page: backup started');
    return { ok: true, message: both('page_backup_started') };
  }

  private verify(): ActionResult {
    if (!this.ctx.config.backup) return { ok: false, message: both('page_no_backup_config') };
    if (this.verifyOutcome?.running) return { ok: true, message: both('page_verify_running_already') };
    const outcome: VerifyOutcome = { at: new Date().toISOString(), running: true, problems: null, error: null };
    this.verifyOutcome = outcome;
    const config = this.ctx.config;
    void (async () => {
      try {
        const repo = await openRepository(repositoryPath(config), MasterKey.load(backupKeyPath(config)));
        const report = await repo.verify({ readData: false });
        outcome.problems = report.problems.length;
        this.ctx.event('page.verify', report.problems.length ? 'warning' : 'info', `verificação / verify: ${report.problems.length} problems in ${report.snapshots} snapshots`, { problems: report.problems.length });
      } catch (err) {
        outcome.error = (err as Error).message;
      } finally {
        outcome.running = false;
        outcome.at = new Date().toISOString();
      }
    })();
    return { ok: true, message: both('page_verify_started') };
  }

  /** Only folders the page offered: a form cannot point the agent at an arbitrary path. */
  private offered(path: string | undefined, list: DiskChoice[]): string | null {
    if (!path) return null;
    const p = resolve(path);
    return list.some((d) => d.path === p) ? p : null;
  }

  private async initDisk(path: string | undefined, label: string | undefined): Promise<ActionResult> {
    const p = this.offered(path, this.disks().blank);
    if (!p) return { ok: false, message: both('page_disk_not_blank') };
    try {
      const r = await initDisk(this.ctx.config, p, { label: label?.trim() || undefined });
      return { ok: r.ok, message: initMessage(r) };
    } catch (err) {
      return { ok: false, message: both('page_failed', { e: (err as Error).message }) };
    }
  }

  private async ejectDisk(path: string | undefined): Promise<ActionResult> {
    const p = this.offered(path, this.disks().attached);
    if (!p) return { ok: false, message: both('page_disk_not_plugged') };
    try {
      const r = await ejectDisk(this.ctx.config, p, { wait: false, noUnmount: false });
      return { ok: r.ok, message: ejectMessage(r) };
    } catch (err) {
      return { ok: false, message: both('page_failed', { e: (err as Error).message }) };
    }
  }
}
