/**
 * sentinela-hub: the hub's command line (main.ts runs it; tests call main() here). Exit codes: 0 ok, 1 runtime failure, 2 usage or
 * configuration error.
 */
import { ConfigError, SENTINELA_VERSION } from '@sentinela/shared';
import { SiteError } from '../store/sites.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError, type Command, type Io } from './common.js';
import { serve } from './serve.js';
import { sitesAdd } from './sites-add.js';
import { sitesList } from './sites-list.js';
import { sitesToken } from './sites-token.js';
import { sitesRevoke } from './sites-revoke.js';
import { tokensAdd } from './tokens-add.js';
import { usersAdd } from './users-add.js';
import { doctorCmd } from './doctor.js';
import { backupsExport } from './backups-export.js';
import { backupsMaintain } from './backups-maintain.js';
import { relaysAdd } from './relays-add.js';
import { upstreamEnrol } from './upstream-enrol.js';

export const COMMANDS: Command[] = [serve, sitesAdd, sitesToken, sitesRevoke, sitesList, tokensAdd, usersAdd, doctorCmd, backupsExport, backupsMaintain, relaysAdd, upstreamEnrol];

export const PROGRAM_HELP = `sentinela-hub ${SENTINELA_VERSION}: the central hub of Sentinela (MQTT broker, store, API, console)

Usage: sentinela-hub <command> [options]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(Math.max(...COMMANDS.map((x) => x.name.length)))}  ${c.summary}`).join('\n')}

Every command takes --config FILE (default /etc/sentinela/hub.yaml) and --help.
The site and token commands work on the database directly, also while "serve" runs.

Examples:
  sentinela-hub serve --config hub.yaml
  sentinela-hub sites add --config hub.yaml --id hf-0001 --name "CS Chamanculo" --province maputo-cidade
  sentinela-hub tokens add --config hub.yaml --name grafana

Exit codes: 0 ok, 1 failure, 2 usage or configuration error.`;

const defaultIo: Io = { out: (t) => process.stdout.write(`${t}\n`), err: (t) => process.stderr.write(`${t}\n`) };

export async function main(argv: string[], io: Io = defaultIo): Promise<number> {
  const [first, second] = argv;
  if (!first || first === '--help' || first === '-h' || first === 'help') {
    io.out(PROGRAM_HELP);
    return first ? EXIT_OK : EXIT_USAGE;
  }
  if (first === '--version' || first === '-V') {
    io.out(SENTINELA_VERSION);
    return EXIT_OK;
  }
  const cmd = COMMANDS.find((c) => c.name === `${first} ${second}`) ?? COMMANDS.find((c) => c.name === first);
  if (!cmd) {
    const group = COMMANDS.filter((c) => c.name.startsWith(`${first} `));
    io.err(
      group.length > 0
        ? `sentinela-hub ${first}: ${second ? `unknown command "${second}"` : 'a sub-command is needed'}; one of: ${group.map((c) => c.name.split(' ')[1]).join(', ')}`
        : `sentinela-hub: unknown command "${first}"; run "sentinela-hub --help"`,
    );
    return EXIT_USAGE;
  }
  const args = argv.slice(cmd.name.split(' ').length);
  if (args.includes('--help') || args.includes('-h')) {
    io.out(cmd.help);
    return EXIT_OK;
  }
  try {
    return await cmd.run(args, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`sentinela-hub ${cmd.name}: ${err.message}\nRun "sentinela-hub ${cmd.name} --help" for usage.`);
      return EXIT_USAGE;
    }
    if (err instanceof ConfigError) {
      io.err(err.message);
      return EXIT_USAGE;
    }
    if (err instanceof SiteError) {
      io.err(`sentinela-hub ${cmd.name}: ${err.message}`);
      return err.code === 'bad-id' ? EXIT_USAGE : EXIT_FAILURE;
    }
    io.err(`sentinela-hub ${cmd.name}: ${(err as Error).message}`);
    return EXIT_FAILURE;
  }
}
