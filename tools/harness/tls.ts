/** A throwaway CA and server certificate for 127.0.0.1/localhost, made with the real openssl. */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestCerts {
  caFile: string;
  certFile: string;
  keyFile: string;
}

/** `days`: how long the certificates are valid (a doctor test wants one that expires soon). */
export function makeTestCerts(dir: string, opts: { days?: number; caName?: string } = {}): TestCerts {
  const days = String(opts.days ?? 2);
  mkdirSync(dir, { recursive: true });
  const f = (name: string) => join(dir, name);
  const run = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  run(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', days, '-subj', `/CN=${opts.caName ?? 'Sentinela test'} CA`, '-keyout', f('ca.key'), '-out', f('ca.pem')]);
  run(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=localhost', '-keyout', f('hub.key'), '-out', f('hub.csr')]);
  writeFileSync(f('ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  run(['x509', '-req', '-in', f('hub.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', days, '-extfile', f('ext.cnf'), '-out', f('hub.crt')]);
  chmodSync(f('hub.key'), 0o600);
  return { caFile: f('ca.pem'), certFile: f('hub.crt'), keyFile: f('hub.key') };
}
