/**
 * The `doctor` framework shared by sentinela-agent and sentinela-hub: a check is a small async
 * function that returns findings (OK, WARN or FAIL, what, and a fix hint in Portuguese and
 * English); the runner runs them side by side, turns a crash into a FAIL, and the report prints as
 * a table or JSON. Each program keeps its own list of checks (packages/*\/src/doctor/); the probes
 * they share (TCP, TLS, HTTP date, disk space, clock, file modes, tools) are here.
 */
import { X509Certificate } from 'node:crypto';
import { execFile } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { formatBytes } from './progress.js';
import { connect as netConnect } from 'node:net';
import { hostname } from 'node:os';
import { delimiter, join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';

export type Level = 'OK' | 'WARN' | 'FAIL';

/** What to do about a finding, for a Portuguese-speaking technician and for everyone else. */
export interface Hint {
  pt: string;
  en: string;
}

export interface Finding {
  /** Stable id of the check, e.g. "disk.data" or "db.openmrs" (scripts and tests key on it). */
  id: string;
  level: Level;
  /** One line: what was checked and what was found. */
  what: string;
  fix?: Hint;
}

export interface Check {
  id: string;
  run(): Promise<Finding | Finding[]>;
}

export interface DoctorReport {
  program: string;
  version: string;
  host: string;
  at: string;
  findings: Finding[];
  counts: Record<Level, number>;
}

export const ok = (id: string, what: string): Finding => ({ id, level: 'OK', what });
export const warn = (id: string, what: string, fix: Hint): Finding => ({ id, level: 'WARN', what, fix });
export const fail = (id: string, what: string, fix: Hint): Finding => ({ id, level: 'FAIL', what, fix });

/** Runs every check at once (most of them wait on the network); a check that throws is a FAIL naming it. */
/** `onDone(done, total)` after each check: the CLI shows progress while slow ones (a database login, the hub) answer. */
export async function runChecks(program: string, version: string, checks: Check[], onDone?: (done: number, total: number) => void): Promise<DoctorReport> {
  let done = 0;
  const results = await Promise.all(
    checks.map(async (c) => {
      try {
        const r = await c.run();
        return Array.isArray(r) ? r : [r];
      } catch (err) {
        return [
          fail(c.id, `the check itself failed: ${(err as Error).message}`, {
            pt: 'Erro inesperado no diagnóstico; envie esta saída à equipa central.',
            en: 'Unexpected error in the check; send this output to the central team.',
          }),
        ];
      } finally {
        onDone?.(++done, checks.length);
      }
    }),
  );
  const findings = results.flat();
  const counts: Record<Level, number> = { OK: 0, WARN: 0, FAIL: 0 };
  for (const f of findings) counts[f.level]++;
  return { program, version, host: hostname(), at: new Date().toISOString(), findings, counts };
}

/** 1 when anything FAILed, else 0 (warnings do not fail the run). */
export function doctorExitCode(report: DoctorReport): number {
  return report.counts.FAIL > 0 ? 1 : 0;
}

export function formatDoctorReport(r: DoctorReport): string {
  const lines = [`${r.program} ${r.version} doctor on ${r.host} at ${r.at}`, ''];
  for (const f of r.findings) {
    lines.push(`${f.level.padEnd(4)}  ${f.id.padEnd(22)} ${f.what}`);
    if (f.fix) {
      lines.push(`${' '.repeat(29)}pt: ${f.fix.pt}`);
      lines.push(`${' '.repeat(29)}en: ${f.fix.en}`);
    }
  }
  lines.push('', `${r.counts.OK} ok, ${r.counts.WARN} warnings, ${r.counts.FAIL} failures`);
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Probes: each one resolves with what it found and never throws for an unreachable thing.

export interface TcpResult {
  ok: boolean;
  error?: string;
}

export function tcpProbe(host: string, port: number, timeoutMs = 3000): Promise<TcpResult> {
  return new Promise((resolve) => {
    const socket = netConnect({ host, port });
    const done = (r: TcpResult) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done({ ok: false, error: `no answer within ${timeoutMs} ms` }), timeoutMs);
    socket.once('connect', () => done({ ok: true }));
    socket.once('error', (err: NodeJS.ErrnoException) => done({ ok: false, error: err.code ?? err.message }));
  });
}

export interface TlsResult {
  ok: boolean;
  error?: string;
  /** The chain is trusted (by caFile or the system CAs) and the name matches. */
  authorized?: boolean;
  authorizationError?: string;
  validTo?: Date;
  subject?: string;
}

/** Opens a TLS connection and reports the peer certificate, trusted or not. */
export function tlsProbe(host: string, port: number, opts: { caFile?: string; timeoutMs?: number } = {}): Promise<TlsResult> {
  return new Promise((resolve) => {
    let ca: Buffer | undefined;
    try {
      ca = opts.caFile ? readFileSync(opts.caFile) : undefined;
    } catch (err) {
      resolve({ ok: false, error: `cannot read the CA file ${opts.caFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
      return;
    }
    const timeoutMs = opts.timeoutMs ?? 5000;
    const socket = tlsConnect({ host, port, ...(ca ? { ca } : {}), servername: /^[\d.]+$|:/.test(host) ? undefined : host, rejectUnauthorized: false });
    const done = (r: TlsResult) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done({ ok: false, error: `no TLS handshake within ${timeoutMs} ms` }), timeoutMs);
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate();
      done({
        ok: true,
        authorized: socket.authorized,
        ...(socket.authorizationError ? { authorizationError: String(socket.authorizationError) } : {}),
        ...(cert?.valid_to ? { validTo: new Date(cert.valid_to) } : {}),
        ...(cert?.subject?.CN ? { subject: String(cert.subject.CN) } : {}),
      });
    });
    socket.once('error', (err: NodeJS.ErrnoException) => done({ ok: false, error: err.code ?? err.message }));
  });
}

/** The Date header of any answer to GET url (status does not matter), or null. */
export function httpDateProbe(url: string, opts: { caFile?: string; timeoutMs?: number } = {}): Promise<Date | null> {
  return new Promise((resolve) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      resolve(null);
      return;
    }
    let ca: Buffer | undefined;
    try {
      ca = opts.caFile && u.protocol === 'https:' ? readFileSync(opts.caFile) : undefined;
    } catch {
      ca = undefined;
    }
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(
      u,
      { method: 'GET', timeout: opts.timeoutMs ?? 5000, ...(ca ? { ca } : {}), rejectUnauthorized: false },
      (res) => {
        res.resume();
        const d = res.headers.date ? new Date(res.headers.date) : null;
        resolve(d && !Number.isNaN(d.getTime()) ? d : null);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(null));
    req.end();
  });
}

export interface ToolResult {
  ok: boolean;
  /** The first line of the output (a version), or the error. */
  text: string;
}

/** Runs a tool with a timeout; ok when it exits 0. */
export function runTool(command: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<ToolResult> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: opts.timeoutMs ?? 10_000, env: { ...process.env, ...opts.env } }, (err, stdout, stderr) => {
      if (err) {
        const code = (err as NodeJS.ErrnoException).code;
        const text = code === 'ENOENT' ? `${command} is not installed (not in PATH)` : (String(stderr).trim() || err.message).split('\n').slice(0, 3).join(' ');
        resolve({ ok: false, text });
      } else resolve({ ok: true, text: (String(stdout).trim() || String(stderr).trim()).split('\n')[0]! });
    });
  });
}

/** The first of `names` found executable in PATH. */
export function whichTool(names: string[]): string | undefined {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const name of names) {
    for (const dir of dirs) {
      try {
        accessSync(join(dir, name), constants.X_OK);
        return join(dir, name);
      } catch {
        /* not here */
      }
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Checks both programs use.

/** Free space of the filesystem holding `path`: WARN under warnPct, FAIL under failPct. */
export function diskSpaceCheck(id: string, label: string, path: string, warnPct = 10, failPct = 5): Check {
  return {
    id,
    async run() {
      let s;
      try {
        s = statfsSync(path);
      } catch (err) {
        return fail(id, `${label} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
          pt: `Crie a pasta ${path} (o instalador cria-a) ou corrija o caminho na configuração.`,
          en: `Create ${path} (the installer does) or fix the path in the config.`,
        });
      }
      const total = s.blocks * s.bsize;
      const free = s.bavail * s.bsize;
      const pct = total > 0 ? (100 * free) / total : 0;
      const what = `${label} ${path}: ${formatBytes(free)} free of ${formatBytes(total)} (${pct.toFixed(1)} %)`;
      const fix: Hint = {
        pt: `Liberte espaço no disco de ${path} (apague ficheiros antigos, reduza a retenção em backup.retention) ou aumente o disco.`,
        en: `Free space on the disk of ${path} (delete old files, lower backup.retention) or grow the disk.`,
      };
      if (pct < failPct) return fail(id, `${what}: under ${failPct} %`, fix);
      if (pct < warnPct) return warn(id, `${what}: under ${warnPct} %`, fix);
      return ok(id, what);
    },
  };
}

/** The clock is not in the past (a dead RTC battery boots into 1970 or the firmware's year), and agrees with a reference. */
export function clockCheck(id: string, reference: () => Promise<{ name: string; date: Date } | null>): Check {
  return {
    id,
    async run() {
      const now = new Date();
      const fix: Hint = {
        pt: 'Acerte o relógio (timedatectl set-time "AAAA-MM-DD hh:mm:ss" ou active o NTP: timedatectl set-ntp true); troque a pilha do relógio se volta a atrasar.',
        en: 'Set the clock (timedatectl set-time "YYYY-MM-DD hh:mm:ss" or enable NTP: timedatectl set-ntp true); replace the RTC battery if it drifts back.',
      };
      if (now.getUTCFullYear() < 2024) return fail(id, `the clock says ${now.toISOString()}: before 2024, certainly wrong`, fix);
      const ref = await reference();
      if (!ref) return ok(id, `the clock says ${now.toISOString()} (no reference reachable to compare with)`);
      const skew = Math.round((now.getTime() - ref.date.getTime()) / 1000);
      const what = `the clock says ${now.toISOString()}, ${ref.name} says ${ref.date.toISOString()} (${skew >= 0 ? '+' : ''}${skew} s)`;
      if (Math.abs(skew) > 900) return fail(id, `${what}: off by more than 15 min (certificates and tokens will be refused)`, fix);
      if (Math.abs(skew) > 120) return warn(id, `${what}: off by more than 2 min`, fix);
      return ok(id, what);
    },
  };
}

/**
 * A secret file (credentials, key, password): present and readable by this process, and not
 * readable by group or others. `missing` says what its absence means (undefined: a FAIL).
 */
export function secretFileCheck(id: string, label: string, path: string, missing?: Finding): Check {
  return {
    id,
    async run() {
      let st;
      try {
        st = statSync(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' && missing) return missing;
        return fail(id, `${label} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
          pt: `Crie o ficheiro ${path} ou corrija o caminho na configuração.`,
          en: `Create ${path} or fix its path in the config.`,
        });
      }
      const mode = st.mode & 0o777;
      const modeText = mode.toString(8).padStart(4, '0');
      const fixMode: Hint = {
        pt: `chown sentinela:sentinela ${path} && chmod 0600 ${path}`,
        en: `chown sentinela:sentinela ${path} && chmod 0600 ${path}`,
      };
      if (mode & 0o077) return fail(id, `${label} ${path} is mode ${modeText}: readable by other users`, fixMode);
      try {
        accessSync(path, constants.R_OK);
      } catch {
        return fail(id, `${label} ${path} is not readable by this user (uid ${process.getuid?.()})`, fixMode);
      }
      return ok(id, `${label} ${path} (mode ${modeText})`);
    },
  };
}

/** A folder this process must write: really writes and removes a file in it. */
export function writableDirCheck(id: string, label: string, path: string): Check {
  return {
    id,
    async run() {
      try {
        const probe = mkdtempSync(join(path, '.doctor-'));
        writeFileSync(join(probe, 'probe'), 'ok');
        rmSync(probe, { recursive: true, force: true });
        return ok(id, `${label} ${path} is writable`);
      } catch (err) {
        return fail(id, `${label} ${path} is not writable by this user (uid ${process.getuid?.()}): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
          pt: `Verifique que ${path} existe e pertence ao utilizador sentinela: chown -R sentinela:sentinela ${path} && chmod 0750 ${path}. Corra o doctor como esse utilizador: sudo -u sentinela sentinela-… doctor.`,
          en: `Make sure ${path} exists and belongs to the sentinela user: chown -R sentinela:sentinela ${path} && chmod 0750 ${path}. Run doctor as that user: sudo -u sentinela sentinela-… doctor.`,
        });
      }
    },
  };
}

/** A PEM certificate file: readable, and not expired or about to. */
export function certFileCheck(id: string, label: string, path: string, warnDays: number): Check {
  return {
    id,
    async run() {
      let cert: X509Certificate;
      try {
        cert = new X509Certificate(readFileSync(path));
      } catch (err) {
        return fail(id, `${label} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
          pt: `Coloque em ${path} o certificado (PEM) ou corrija o caminho na configuração.`,
          en: `Put the PEM certificate at ${path} or fix its path in the config.`,
        });
      }
      return expiryFinding(id, `${label} ${path} (${cert.subject.replace(/\n/g, ', ')})`, new Date(cert.validTo), warnDays);
    },
  };
}

export function expiryFinding(id: string, what: string, validTo: Date, warnDays: number): Finding {
  const days = Math.floor((validTo.getTime() - Date.now()) / 86_400_000);
  const fix: Hint = {
    pt: 'Renove o certificado e reinicie o serviço (docs/operations.md, "Rodar chaves e certificados").',
    en: 'Renew the certificate and restart the service (docs/operations.md, "Rotate keys and certificates").',
  };
  if (days < 0) return fail(id, `${what} expired on ${validTo.toISOString()}`, fix);
  if (days < warnDays) return warn(id, `${what} expires in ${days} days (${validTo.toISOString()})`, fix);
  return ok(id, `${what} valid until ${validTo.toISOString()} (${days} days)`);
}

/** host and port of a URL, with the scheme's default port. */
export function hostPortOf(url: string, defaults: Record<string, number>): { host: string; port: number; protocol: string } | null {
  try {
    const u = new URL(url);
    const port = u.port ? Number(u.port) : defaults[u.protocol];
    if (!port) return null;
    return { host: u.hostname.replace(/^\[|\]$/g, ''), port, protocol: u.protocol };
  } catch {
    return null;
  }
}

