/** What every CLI verb shares: argument parsing, config loading, exit codes. */
import { hostname } from 'node:os';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { HubConfig, loadConfigFile } from '@sentinela/shared';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
export const DEFAULT_CONFIG = '/etc/sentinela/hub.yaml';

/** A mistake in the command line: exit 2 with the verb's usage hint. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

export interface Command {
  /** e.g. "sites add" */
  name: string;
  summary: string;
  help: string;
  run(args: string[], io: Io): Promise<number>;
}

export const configOption = { config: { type: 'string', short: 'c', default: DEFAULT_CONFIG } } as const;
export const helpOption = { help: { type: 'boolean', short: 'h' } } as const;
export const jsonOption = { json: { type: 'boolean' } } as const;

type Options = NonNullable<ParseArgsConfig['options']>;
export type Parsed<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: O; strict: true; allowPositionals: false }>>;

export function parse<O extends Options>(args: string[], options: O): Parsed<O> {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** Throws ConfigError (exit 2) with every problem, before the verb does anything. */
export function loadHubConfig(path: string): HubConfig {
  return loadConfigFile(path, HubConfig);
}

/** The address agents enrol against: http.publicUrl, else the listen address. */
export function hubUrl(config: HubConfig): string {
  if (config.http.publicUrl) return config.http.publicUrl.replace(/\/+$/, '');
  const { host, port } = config.http.listen;
  const name = host === '0.0.0.0' || host === '::' ? hostname() : host.includes(':') ? `[${host}]` : host;
  return `${config.http.tls ? 'https' : 'http'}://${name}:${port}`;
}

/** The console's login page under hubUrl (a publicUrl with a path keeps it: https://x/sentinela → https://x/sentinela/login). */
export function loginUrl(config: HubConfig): string {
  return new URL('login', `${hubUrl(config)}/`).href;
}

export function enrollCommand(config: HubConfig, token: string): string {
  return `sentinela-agent enroll --config /etc/sentinela/agent.yaml --hub ${hubUrl(config)} --token ${token}`;
}
