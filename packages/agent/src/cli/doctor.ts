/** `sentinela-agent doctor`: checks this server against its config and says what to fix (checks in ../doctor/checks.ts). */
import { doctor, SENTINELA_VERSION, type AGENT_VERB_OPTIONS } from '@sentinela/shared';
import { progressPrinter, type VerbInput } from '@sentinela/shared/cli';
import { agentChecks } from '../doctor/checks.js';
import { loadAgentConfig } from './config.js';

export async function doctorVerb({ values, io }: VerbInput<typeof AGENT_VERB_OPTIONS.doctor>): Promise<number> {
  const config = loadAgentConfig(values.config);
  const progress = progressPrinter(io, 'doctor');
  const report = await doctor.runChecks('sentinela-agent', SENTINELA_VERSION, agentChecks(config), (done, total) => progress.update({ phase: 'checks done', doneBytes: 0, doneItems: done, totalItems: total }));
  progress.done();
  io.out(values.json ? JSON.stringify(report, null, 2) : doctor.formatDoctorReport(report));
  return doctor.doctorExitCode(report);
}
