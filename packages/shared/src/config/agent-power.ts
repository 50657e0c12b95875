/** agent.yaml `power:` section. Documented key by key in examples/agent.yaml. */
import { z } from 'zod';
import { port } from './common.js';

const seconds = (max: number) => z.number().min(0).max(max);

const NutSource = z.strictObject({
  kind: z.literal('nut'),
  host: z.string().min(1).default('127.0.0.1'),
  port: port.default(3493),
  /** The UPS name in upsd (ups.conf section), e.g. `ups` in `ups@localhost`. */
  ups: z.string().min(1),
  /** A user of upsd.users. Needed to log in (so a primary can count its secondaries), raise FSD and run instant commands. */
  username: z.string().min(1).optional(),
  /** A file holding that user's password (mode 0600). */
  passwordFile: z.string().min(1).optional(),
  timeoutSeconds: z.number().min(0.1).max(120).default(5),
});

const ApcupsdSource = z.strictObject({
  kind: z.literal('apcupsd'),
  host: z.string().min(1).default('127.0.0.1'),
  port: port.default(3551),
  timeoutSeconds: z.number().min(0.1).max(120).default(5),
});

export const PowerSourceConfig = z.discriminatedUnion('kind', [NutSource, ApcupsdSource]);
export type PowerSourceConfig = z.infer<typeof PowerSourceConfig>;

const Command = z.strictObject({
  name: z.string().min(1).optional(),
  /** The program and its arguments (no shell). */
  command: z.array(z.string().min(1)).min(1),
  timeoutSeconds: z.number().min(1).max(3600).default(120),
});

/** NUT instant commands that cut the outlets at once: sent before the halt, they would cut the server mid-halt. */
const IMMEDIATE_OUTLET_COMMANDS = new Set(['load.off', 'load.cycle', 'shutdown.reboot']);

const OutletCommand = z
  .string()
  .min(1)
  .refine((c) => !IMMEDIATE_OUTLET_COMMANDS.has(c), {
    error: (i) => `${String(i.input)} cuts the UPS outlets at once, before this server has halted; use a delayed command: shutdown.return (outlets back on when mains returns) or load.off.delay (both wait ups.delay.shutdown)`,
  });

export const AgentPowerConfig = z.strictObject({
  source: PowerSourceConfig,
  /** primary: raises FSD for the other hosts on this UPS and cuts the outlets; secondary: goes first when it sees FSD. */
  role: z.enum(['primary', 'secondary']).default('primary'),
  pollSeconds: z.number().min(0.2).max(300).default(5),
  /** On battery longer than this: shut down (the plan's 30 minutes). */
  graceSeconds: seconds(86400).default(1800),
  /** A change between mains and battery must hold this long to count (flaps are ignored). */
  debounceSeconds: seconds(3600).default(10),
  /** Flaps (changes shorter than the debounce) are reported to the hub at most this often, with their count. */
  flapReportSeconds: seconds(86400).default(3600),
  /** Contact lost this long: critical (shut down) if last seen on battery, a warning if on mains (upsmon's DEADTIME). */
  deadtimeSeconds: seconds(3600).default(15),
  lowBattery: z
    .strictObject({
      /** On battery with charge at or under this (%): low battery, as if the UPS said LB. */
      chargePercent: z.number().min(0).max(100).default(20),
      /** On battery with runtime at or under this (seconds): low battery. */
      runtimeSeconds: seconds(86400).default(300),
      /** How long OB + low battery must hold before the shutdown: a spurious OB LB on mains passes (nut#2278, NUT's OBLBDURATION). LB with OL (charging) never shuts down. */
      persistSeconds: seconds(3600).default(5),
    })
    .prefault({}),
  finalBackup: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** The estimate of the backup's duration is multiplied by this. */
      margin: z.number().min(1).max(10).default(1.5),
      /** Runtime kept in reserve for the pre-shutdown commands and the halt itself (seconds). */
      reserveSeconds: seconds(3600).default(120),
    })
    .prefault({}),
  /** How long the UPS must report OFF (output off) before that counts as critical (NUT's OFFDURATION). */
  offPersistSeconds: seconds(3600).default(30),
  /** Run in order before the shutdown: stop the clinical app and database cleanly. */
  preShutdown: z.array(Command).default([]),
  /** The command that powers this host off. */
  shutdownCommand: z.array(z.string().min(1)).min(1).default(['systemctl', 'poweroff']),
  /** Primary: after raising FSD, wait at most this long for the secondaries to log out of upsd (NUT's HOSTSYNC). */
  secondaryWaitSeconds: seconds(3600).default(60),
  /** Primary: delayed instant commands (tried in order until one is accepted, once the halt is under way) that make the UPS cut its outlets after ups.delay.shutdown and restore them when mains returns. Immediate ones (load.off…) are refused. */
  outletCommands: z.array(OutletCommand).default(['shutdown.return']),
});
export type AgentPowerConfig = z.infer<typeof AgentPowerConfig>;
