/**
 * Realistic status payloads for the console's tests and benchmark: host, services, outbox and
 * the power, network and backups sections, shaped by the shared schemas. Nothing random:
 * callers vary `i` and the options.
 */
export interface SiteSample {
  site: string;
  stream: string;
  seq: number;
  ts: Date;
  /** 0-100, the fullest filesystem. */
  diskPct?: number;
  onBattery?: boolean;
  charge?: number;
  wanUp?: boolean;
  /** Hours since the last good local backup (null: none yet); omit the section with backups: false. */
  backupAgeHours?: number | null;
  backups?: boolean;
  usbAttached?: boolean;
  /** The site has no USB disks configured (usbRotationDays null, no disks). */
  noUsb?: boolean;
  /** The clinical database refuses connections. */
  dbDown?: boolean;
  verifyError?: string | null;
  pending?: number;
}

export function statusPayload(s: SiteSample): Record<string, unknown> {
  const ts = s.ts.toISOString();
  const hoursAgo = (h: number) => new Date(s.ts.getTime() - h * 3_600_000).toISOString();
  // Past outages sit at fixed times of the previous day, so consecutive samples report the same ones.
  const day = Math.floor(s.ts.getTime() / 86_400_000) * 86_400_000;
  const atDay = (h: number) => new Date(day - 86_400_000 + h * 3_600_000).toISOString();
  const charge = s.charge ?? (s.onBattery ? 64 : 100);
  const disk = s.diskPct ?? 41;
  const snapAt = s.backupAgeHours === null || s.backupAgeHours === undefined ? null : hoursAgo(s.backupAgeHours);
  const snapId = snapAt ? `snap-${snapAt.slice(0, 13).replace(/[-T:]/g, '')}` : null;
  return {
    v: 1,
    type: 'status',
    site: s.site,
    stream: s.stream,
    seq: s.seq,
    ts,
    host: {
      hostname: `${s.site}-srv`,
      uptimeSec: 86_400,
      cpu: { cores: 4, load1: 0.3 + (s.seq % 7) / 10, load5: 0.3, load15: 0.3, usagePct: 12 },
      memory: { totalBytes: 8e9, usedBytes: 3e9, availableBytes: 5e9 },
      filesystems: [
        { mount: '/', fs: '/dev/sda2', type: 'ext4', sizeBytes: 5e11, usedBytes: 5e11 * (disk / 100), usePct: disk },
        { mount: '/boot', fs: '/dev/sda1', type: 'ext4', sizeBytes: 5e8, usedBytes: 1e8, usePct: 20 },
      ],
    },
    services: [
      s.dbDown
        ? { name: 'openmrs-db', target: '127.0.0.1:3306', up: false, error: 'connect ECONNREFUSED 127.0.0.1:3306' }
        : { name: 'openmrs-db', target: '127.0.0.1:3306', up: true, latencyMs: 2 + (s.seq % 5) },
    ],
    outbox: { pending: s.pending ?? 0, pendingBytes: (s.pending ?? 0) * 900, oldestTs: s.pending ? hoursAgo(3) : null, thinned: 0 },
    power: {
      watch: 'on',
      source: 'nut ups@127.0.0.1:3493',
      contact: 'ok',
      state: s.onBattery ? 'battery' : 'mains',
      flags: s.onBattery ? ['OB', 'DISCHRG'] : ['OL'],
      charge,
      runtimeSec: s.onBattery ? 1500 : 3600,
      loadPct: 30 + (s.seq % 10),
      inputVoltage: s.onBattery ? 0 : 228,
      lastSeenAt: ts,
      onBatterySince: s.onBattery ? hoursAgo(0.3) : null,
      shutdownDueAt: s.onBattery ? new Date(s.ts.getTime() + 1_500_000).toISOString() : null,
      outage: s.onBattery ? { start: hoursAgo(0.3), end: null, durationSec: null, lowestCharge: charge, shutdown: false } : null,
      lastOutage: { start: atDay(10), end: atDay(10.5), durationSec: 1800, lowestCharge: 71, shutdown: false },
    },
    network: {
      verdict: s.wanUp === false ? 'wan-down' : 'ok',
      lan: { target: '192.168.1.1', up: true, latencyMs: 1, lossPct: 0 },
      dns: null,
      hub: { target: 'hub:8883', up: s.wanUp !== false, latencyMs: s.wanUp === false ? null : 80 + (s.seq % 40), lossPct: 0 },
      mqttRttMs: 90,
      wan: {
        up: s.wanUp !== false,
        since: hoursAgo(2),
        uptimeTodayPct: 92,
        uptimeYesterdayPct: 88,
        outage: null,
        lastOutage: { start: atDay(6), end: atDay(8), durationSec: 7200 },
      },
      interfaces: [],
    },
    ...(s.backups === false
      ? {}
      : {
          backups: {
            sources: [
              {
                name: 'openmrs',
                kind: 'mysql',
                running: false,
                lastLocal: snapAt ? { at: snapAt, snapshotId: snapId, contentBytes: 2e9, storedBytes: 4e8, durationMs: 90_000 } : null,
                lastUsb: snapAt && !s.noUsb && s.usbAttached !== false ? { at: snapAt, snapshotId: snapId, diskId: 'usb-a', label: 'USB-A' } : null,
                lastPeer: null,
                lastOffsite: null,
                lastFailure: s.verifyError ? { at: ts, error: s.verifyError } : null,
              },
            ],
            disks: s.noUsb ? [] : [{ id: 'usb-a', label: 'USB-A', lastAttachedAt: s.usbAttached === false ? hoursAgo(24 * 12) : ts, lastCopyAt: snapAt, snapshots: 14, attached: s.usbAttached !== false }],
            usbAttached: !s.noUsb && s.usbAttached !== false,
            usbCopying: false,
            usbLastAttachedAt: s.noUsb ? null : s.usbAttached === false ? hoursAgo(24 * 12) : ts,
            usbRotationDays: s.noUsb ? null : 7,
            peer: null,
          },
        }),
  };
}
