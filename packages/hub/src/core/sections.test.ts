/** The status sections as the console and the alert rules read them, through the shared schemas. */
import t from 'tap';
import { backupsOf, fullestDisk, networkOf, powerOf } from './sections.js';

const at = '2026-05-04T10:00:00.000Z';
const power = {
  watch: 'on', contact: 'ok', state: 'battery', flags: ['OB'], charge: 64, runtimeSec: 1500, loadPct: 31, inputVoltage: 0,
  lastSeenAt: at, onBatterySince: at, shutdownDueAt: null, outage: null, lastOutage: null,
};
const network = {
  verdict: 'wan-down', lan: null, dns: null, hub: { target: 'hub:8883', up: false, latencyMs: null, lossPct: 100 }, mqttRttMs: 90,
  wan: { up: false, since: at, uptimeTodayPct: 92, uptimeYesterdayPct: 88, outage: null, lastOutage: null }, interfaces: [],
};
const source = (name: string, localAt: string | null) => ({
  name, kind: 'mysql', running: false,
  lastLocal: localAt && { at: localAt, snapshotId: `s-${name}`, contentBytes: 10, storedBytes: 4, durationMs: 1 },
  lastUsb: null, lastPeer: null, lastOffsite: { at, snapshotId: `s-${name}` }, lastFailure: null,
});
const backups = {
  sources: [source('openmrs', '2026-05-04T09:00:00.000Z'), source('files', '2026-05-04T08:00:00.000Z')],
  disks: [{ id: 'usb-a', label: 'USB-A', lastAttachedAt: null, lastCopyAt: null, snapshots: 0, attached: false }],
  usbAttached: false, usbCopying: false, usbLastAttachedAt: null, peer: null,
};
const fs = (mount: string, usePct: unknown) => ({ mount, fs: '/dev/sda1', type: 'ext4', sizeBytes: 100, usedBytes: 50, usePct });
const host = { filesystems: [fs('/', 41), fs('/var', 93), fs('/bad', 'full')] };

t.test('a status as the agent sends it', async (t) => {
  const status = { power, network, backups, host };
  t.match(powerOf(status), { state: 'battery', onBattery: true, charge: 64, runtimeSec: 1500, onBatterySince: at });
  t.same(networkOf(status), { verdict: 'wan-down', wanUp: false, uptimeTodayPct: 92, latencyMs: 90 }, 'no hub latency: the MQTT round trip');
  const b = backupsOf(status)!;
  t.equal(b.localAt, '2026-05-04T08:00:00.000Z', 'the RPO is the oldest newest-local-backup across sources');
  t.equal(b.usbAt, null, 'a source never copied to USB: no USB time');
  t.equal(b.offsiteAt, at);
  t.same(b.disks, [{ id: 'usb-a', label: 'USB-A', attached: false, lastCopyAt: null, snapshots: 0 }]);
  t.equal(b.failed, false);
  t.same(fullestDisk(status), { mount: '/var', usePct: 93 }, 'a filesystem entry that fails its schema is left out, the rest still read');
});

t.test('no section, a section switched off, or one that fails its schema: no data', async (t) => {
  t.equal(powerOf({}), null);
  t.equal(powerOf(null), null);
  t.equal(powerOf({ power: { ...power, watch: 'off' } }), null, 'no power watch configured');
  t.equal(powerOf({ power: { ...power, state: 'on-fire' } }), null, 'a state the schema does not know');
  t.equal(networkOf({ network: { verdict: 'ok' } }), null, 'a network section missing its parts');
  t.equal(backupsOf({ backups: { ...backups, sources: 'many' } }), null);
  t.equal(fullestDisk({ host: { filesystems: 'none' } }), null);
});
