/** The site's MQTT credentials, written by `enroll` and read by `run` and `status`. */
import { readFileSync, statSync } from 'node:fs';
import { isSiteId, writeFileAtomic } from '@sentinela/shared';

export interface Credentials {
  siteId: string;
  username: string;
  password: string;
  hubHttpUrl: string;
  enrolledAt: string;
}

export class CredentialsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CredentialsError';
  }
}

/** Readable by the agent's user only: the password is the site's whole identity at the hub. */
export function writeCredentials(file: string, creds: Credentials): void {
  writeFileAtomic(file, JSON.stringify(creds, null, 2) + '\n', 0o600);
}

/** Null when the file does not exist (not enrolled yet); throws CredentialsError when it is unusable. */
export function readCredentials(file: string): Credentials | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') return null;
    throw new CredentialsError(`cannot read the credentials file ${file} (${e.code ?? e.message})`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new CredentialsError(`the credentials file ${file} is not valid JSON; enrol the site again`);
  }
  const c = data as Partial<Record<keyof Credentials, unknown>>;
  for (const key of ['siteId', 'username', 'password', 'hubHttpUrl', 'enrolledAt'] as const) {
    if (typeof c[key] !== 'string' || c[key] === '') {
      throw new CredentialsError(`the credentials file ${file} has no "${key}"; enrol the site again`);
    }
  }
  if (!isSiteId(c.siteId as string)) throw new CredentialsError(`the credentials file ${file} names an invalid site id`);
  return c as Credentials;
}

/** True when group or others may read the file (worth a warning). */
export function credentialsTooOpen(file: string): boolean {
  try {
    return (statSync(file).mode & 0o077) !== 0;
  } catch {
    return false;
  }
}
