/** `sentinela-agent doctor`: checks this server against its config and says what to fix (checks in ../doctor/checks.ts). */
import { AGENT_VERB_OPTIONS } from '@sentinela/shared';
import { doctor, SENTINELA_VERSION } from '@sentinela/shared';
import { agentChecks } from '../doctor/checks.js';
import { EXIT_OK, loadAgentConfig, parseVerbArgs, requireOption, type Io } from './io.js';

export const DOCTOR_HELP = `sentinela-agent doctor --config FILE [--json]

Checks this server against its config and prints one finding per line, OK, WARN or FAIL, each
problem with what to do about it in Portuguese and English: the data folder (writable, free space:
WARN under 10 %, FAIL under 5 %), the outbox schema, enrolment and the modes of the credentials,
key and password files (0600), the hub (TCP; with mqtts the TLS certificate, trusted and not near
expiry), the clock (not before 2024; against the hub's clock when it answers), every backup
source (dump tool present and its version, the database reachable, a real login with the
configured credentials, and the backup user's rights: every read right the dump needs, and a
WARN when it could also change data) and the UPS daemon (when power: is configured).
Run it as the sentinela user to check what the service sees: sudo -u sentinela sentinela-agent doctor …
Exit 1 when anything FAILed, 0 otherwise (warnings included).

options:
  --config FILE   agent.yaml (required)
  --json          print the report as JSON

example:
  sudo -u sentinela sentinela-agent doctor --config /etc/sentinela/agent.yaml
`;

export async function doctorCommand(args: string[], io: Io): Promise<number> {
  const { values } = parseVerbArgs('doctor', args, AGENT_VERB_OPTIONS.doctor);
  if (values.help) {
    io.out(DOCTOR_HELP);
    return EXIT_OK;
  }
  const config = loadAgentConfig(requireOption('doctor', values.config, 'config'));
  const report = await doctor.runChecks('sentinela-agent', SENTINELA_VERSION, agentChecks(config));
  io.out(values.json ? JSON.stringify(report, null, 2) : doctor.formatDoctorReport(report));
  return doctor.doctorExitCode(report);
}
