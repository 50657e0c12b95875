/**
 * sentinela-hub: the hub's command line (main.ts runs it; tests call main() here). Exit codes: 0 ok,
 * 1 runtime failure, 2 usage or configuration error — the same framework and conventions as sentinela-agent.
 */
import { SENTINELA_VERSION } from '@sentinela/shared';
import { EXIT_FAILURE, EXIT_USAGE, processIo, runProgram, type Io, type ProgramDef } from '@sentinela/shared/cli';
import { SiteError } from '../store/sites.js';
import { serve } from './serve.js';
import { sitesAdd } from './sites-add.js';
import { sitesList } from './sites-list.js';
import { sitesToken } from './sites-token.js';
import { sitesRevoke } from './sites-revoke.js';
import { tokensAdd } from './tokens-add.js';
import { usersAdd, usersDelete, usersDisable, usersEnable, usersList, usersPassword } from './users.js';
import { doctorCmd } from './doctor.js';
import { backupsExport } from './backups-export.js';
import { backupsMaintain } from './backups-maintain.js';
import { relaysAdd } from './relays-add.js';
import { upstreamEnrol } from './upstream-enrol.js';

export const HUB_PROGRAM: ProgramDef = {
  name: 'sentinela-hub',
  version: SENTINELA_VERSION,
  description: 'The central hub of Sentinela: MQTT broker, store, API and console.',
  groups: {
    sites: 'health-facility sites: add, token (re-enrolment), revoke, list',
    tokens: 'API tokens for /api/v1: add',
    users: 'console users: add, list, disable, enable, delete, password',
    backups: 'the off-site backup store: export (restore after fire or flood), maintain',
    relays: 'at the MoH hub: DPS hubs that mirror their province: add',
    upstream: 'at a DPS hub: enrol with the MoH hub',
  },
  verbs: [serve, sitesAdd, sitesToken, sitesRevoke, sitesList, tokensAdd, usersAdd, usersList, usersDisable, usersEnable, usersDelete, usersPassword, doctorCmd, backupsExport, backupsMaintain, relaysAdd, upstreamEnrol],
  epilogue: `Every verb takes -c, --config FILE (default /etc/sentinela/hub.yaml) and -h, --help.
The site, token and user verbs work on the database directly, also while "serve" runs.
Exit codes: 0 ok, 1 runtime failure, 2 usage or config error.

Examples:
  sentinela-hub serve --config hub.yaml
  sentinela-hub sites add --config hub.yaml --id hf-0001 --name "CS Chamanculo" --province maputo-cidade
  sentinela-hub tokens add --config hub.yaml --name grafana`,
  classify(err) {
    // A malformed site id is the command line's fault; a missing or duplicate site is a failure.
    if (err instanceof SiteError) return { code: err.code === 'bad-id' ? EXIT_USAGE : EXIT_FAILURE, message: err.message };
    return null;
  },
};

export function main(argv: string[], io: Io = processIo): Promise<number> {
  return runProgram(HUB_PROGRAM, argv, io);
}
