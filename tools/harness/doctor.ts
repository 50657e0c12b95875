/** Runs a program's `doctor --json` on a config written to a file, as an operator would, and reads its report. */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';

export interface DoctorReport {
  findings: Array<{ id: string; level: 'OK' | 'WARN' | 'FAIL'; what: string; fix?: { pt: string; en: string } }>;
}

export interface DoctorRun {
  code: number;
  report: DoctorReport;
  text: string;
}

/** `bin`: the program's CLI entry; the config is written as YAML into `dir`. */
export function runDoctor(bin: string, dir: string, config: object): Promise<DoctorRun> {
  const file = join(dir, `doctor-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, stringify(config));
  return new Promise((resolve, reject) =>
    execFile(process.execPath, [bin, 'doctor', '--config', file, '--json'], { timeout: 120_000 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number }).code ?? -1) : 0;
      try {
        resolve({ code: typeof code === 'number' ? code : -1, report: JSON.parse(stdout) as DoctorReport, text: stdout });
      } catch {
        reject(new Error(`doctor printed no JSON (exit ${code}):\n${stderr}\n${stdout}`));
      }
    }),
  );
}

export const finding = (r: DoctorReport, id: string) => r.findings.find((f) => f.id === id);
