/**
 * Reads the optional power, network and backups sections of a stored status defensively:
 * their schemas are young and an older agent sends none, so every field may be missing.
 * Each reader returns null when there is nothing to say ("no data" on the page).
 */
type Obj = Record<string, unknown>;

const obj = (v: unknown): Obj | null => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const at = (v: unknown): string | null => str(obj(v)?.at);

export interface PowerSummary {
  state: string;
  contact: string | null;
  onBattery: boolean;
  charge: number | null;
  loadPct: number | null;
  runtimeSec: number | null;
  onBatterySince: string | null;
}

export function powerOf(status: Obj | null): PowerSummary | null {
  const p = obj(status?.power);
  if (!p || p.watch === 'off') return null;
  const state = str(p.state) ?? 'unknown';
  return {
    state,
    contact: str(p.contact),
    onBattery: ['battery', 'low-battery', 'shutting-down'].includes(state),
    charge: num(p.charge),
    loadPct: num(p.loadPct),
    runtimeSec: num(p.runtimeSec),
    onBatterySince: str(p.onBatterySince),
  };
}

export interface NetworkSummary {
  verdict: string;
  wanUp: boolean | null;
  uptimeTodayPct: number | null;
  latencyMs: number | null;
}

export function networkOf(status: Obj | null): NetworkSummary | null {
  const n = obj(status?.network);
  if (!n) return null;
  const wan = obj(n.wan);
  return {
    verdict: str(n.verdict) ?? 'unknown',
    wanUp: typeof wan?.up === 'boolean' ? wan.up : null,
    uptimeTodayPct: num(wan?.uptimeTodayPct),
    latencyMs: num(obj(n.hub)?.latencyMs) ?? num(n.mqttRttMs),
  };
}

export interface BackupSource {
  name: string;
  kind: string | null;
  running: boolean;
  lastLocal: { at: string; snapshotId: string | null; storedBytes: number | null } | null;
  lastUsb: { at: string; snapshotId: string | null; label: string | null } | null;
  lastPeer: string | null;
  lastOffsite: string | null;
  lastFailure: { at: string | null; error: string } | null;
}

export interface BackupSummary {
  sources: BackupSource[];
  /** The oldest "newest local backup" across sources: the figure the RPO is about. */
  localAt: string | null;
  usbAt: string | null;
  offsiteAt: string | null;
  usbAttached: boolean | null;
  usbLastAttachedAt: string | null;
  /**
   * The site's USB rotation in days (backup.usb configured), null when the site has no USB disks
   * configured, undefined from an agent older than this field.
   */
  usbRotationDays: number | null | undefined;
  disks: Array<{ id: string; label: string; attached: boolean; lastCopyAt: string | null; snapshots: number | null }>;
  failed: boolean;
}

const minIso = (xs: Array<string | null>): string | null => (xs.some((x) => x === null) || xs.length === 0 ? null : [...(xs as string[])].sort()[0]!);

export function backupsOf(status: Obj | null): BackupSummary | null {
  const b = obj(status?.backups);
  if (!b) return null;
  const sources: BackupSource[] = arr(b.sources).flatMap((s): BackupSource[] => {
    const o = obj(s);
    if (!o) return [];
    const local = obj(o.lastLocal);
    const usb = obj(o.lastUsb);
    const fail = obj(o.lastFailure);
    return [
      {
        name: str(o.name) ?? '?',
        kind: str(o.kind),
        running: o.running === true,
        lastLocal: local && str(local.at) ? { at: str(local.at)!, snapshotId: str(local.snapshotId), storedBytes: num(local.storedBytes) } : null,
        lastUsb: usb && str(usb.at) ? { at: str(usb.at)!, snapshotId: str(usb.snapshotId), label: str(usb.label) } : null,
        lastPeer: at(o.lastPeer),
        lastOffsite: at(o.lastOffsite),
        lastFailure: fail ? { at: str(fail.at), error: str(fail.error) ?? 'failed' } : null,
      },
    ];
  });
  return {
    sources,
    localAt: minIso(sources.map((s) => s.lastLocal?.at ?? null)),
    usbAt: minIso(sources.map((s) => s.lastUsb?.at ?? null)),
    offsiteAt: minIso(sources.map((s) => s.lastOffsite)),
    usbAttached: typeof b.usbAttached === 'boolean' ? b.usbAttached : null,
    usbLastAttachedAt: str(b.usbLastAttachedAt),
    usbRotationDays: b.usbRotationDays === undefined ? undefined : num(b.usbRotationDays),
    disks: arr(b.disks).flatMap((d) => {
      const o = obj(d);
      return o ? [{ id: str(o.id) ?? '?', label: str(o.label) ?? str(o.id) ?? '?', attached: o.attached === true, lastCopyAt: str(o.lastCopyAt), snapshots: num(o.snapshots) }] : [];
    }),
    failed: sources.some((s) => s.lastFailure !== null),
  };
}

/** The fullest filesystem (most used %), from the always-present host section. */
export function fullestDisk(status: Obj | null): { mount: string; usePct: number } | null {
  let best: { mount: string; usePct: number } | null = null;
  for (const f of arr(obj(status?.host)?.filesystems)) {
    const o = obj(f);
    const pct = num(o?.usePct);
    if (o && pct !== null && (!best || pct > best.usePct)) best = { mount: str(o.mount) ?? '?', usePct: pct };
  }
  return best;
}

export interface ServiceDown {
  name: string;
  target: string | null;
  error: string | null;
}

/** The services (the clinical database, the EMR…) the agent's last check found not answering. */
export function servicesDown(status: Obj | null): ServiceDown[] {
  return arr(status?.services).flatMap((x) => {
    const o = obj(x);
    return o && o.up === false ? [{ name: str(o.name) ?? '?', target: str(o.target), error: str(o.error) }] : [];
  });
}
