/** `sentinela-hub doctor`: checks this hub against its config and says what to fix (checks in ../doctor/checks.ts). */
import { doctor, SENTINELA_VERSION } from '@sentinela/shared';
import { MIGRATIONS } from '../database.js';
import { hubChecks } from '../doctor/checks.js';
import { defineVerb, progressPrinter } from '@sentinela/shared/cli';
import { configOption, loadHubConfig } from './common.js';

export const doctorCmd = defineVerb({
  name: 'doctor',
  summary: 'check this hub against its config: data folder, disk, schema, certificates, listeners, clock',
  description: `Checks this hub against its config and prints one finding per line, OK, WARN or FAIL, each
problem with what to do about it in Portuguese and English: the data folder (writable, free
space: WARN under 10 %, FAIL under 5 %), the database schema (not newer than this release), the
TLS certificates (WARN within alerts.certExpiryDays of expiry, FAIL expired) and private keys
(mode 0600), the MQTT and HTTP listeners (a WARN when the service is not running), the external
broker and the alert webhook when configured, and the clock (not before 2024).
Run it as the sentinela user to check what the service sees: sudo -u sentinela sentinela-hub doctor …
Exit 1 when anything FAILed, 0 otherwise (warnings included).`,
  options: { ...configOption, json: { type: 'boolean', help: 'print the report as JSON' } },
  examples: ['sudo -u sentinela sentinela-hub doctor --config /etc/sentinela/hub.yaml'],
  async run({ values, io }) {
    const config = loadHubConfig(values.config);
    const progress = progressPrinter(io, 'doctor');
    const report = await doctor.runChecks('sentinela-hub', SENTINELA_VERSION, hubChecks(config, MIGRATIONS.length), (done, total) => progress.update({ phase: 'checks done', doneBytes: 0, doneItems: done, totalItems: total }));
    progress.done();
    io.out(values.json ? JSON.stringify(report, null, 2) : doctor.formatDoctorReport(report));
    return doctor.doctorExitCode(report);
  },
});
