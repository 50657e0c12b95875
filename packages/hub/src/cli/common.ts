/** What the hub's verbs share beyond the framework: the config option and loader, and the hub's addresses. */
import { hostname } from 'node:os';
import { HubConfig, loadConfigFile } from '@sentinela/shared';

export const DEFAULT_CONFIG = '/etc/sentinela/hub.yaml';

/** -c, --config FILE with the installer's path as the default: the same option as the agent's. */
export const configOption = { config: { type: 'string', short: 'c', arg: 'FILE', help: 'hub.yaml', default: DEFAULT_CONFIG } } as const;
export const jsonOption = { json: { type: 'boolean', help: 'print JSON instead of text' } } as const;

/** Throws ConfigError (exit 2) with every problem, before the verb does anything. */
export function loadHubConfig(path: string | undefined): HubConfig {
  return loadConfigFile(path ?? DEFAULT_CONFIG, HubConfig);
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
