/** `sentinela-agent run`: the long-running agent. */
import { AGENT_VERB_OPTIONS } from '@sentinela/shared';
import { createLogger } from '@sentinela/shared';
import { NotEnrolledError, SiteMismatchError, startAgent } from '../agent.js';
import { CredentialsError } from '../enroll/credentials.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, loadAgentConfig, parseVerbArgs, requireOption, type Io } from './io.js';
import { VERB_HELP } from './help.js';

export async function runCommand(args: string[], io: Io): Promise<number> {
  const { values } = parseVerbArgs('run', args, AGENT_VERB_OPTIONS.run);
  if (values.help) {
    io.out(VERB_HELP.run!);
    return EXIT_OK;
  }
  const config = loadAgentConfig(requireOption('run', values.config, 'config'));
  const logger = createLogger('sentinela-agent', config.log.level);
  let agent;
  try {
    agent = await startAgent(config, logger);
  } catch (err) {
    if (err instanceof NotEnrolledError || err instanceof SiteMismatchError || err instanceof CredentialsError) {
      io.err(`sentinela-agent: ${err.message}`);
      return EXIT_USAGE;
    }
    logger.fatal({ err: (err as Error).message }, `agent could not start: ${(err as Error).message}`);
    return EXIT_FAILURE;
  }
  const running = agent;
  return new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, `received ${signal}; stopping`);
      running.close().then(
        () => resolve(EXIT_OK),
        (err: Error) => {
          logger.error({ err: err.message }, `clean stop failed: ${err.message}`);
          resolve(EXIT_FAILURE);
        },
      );
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}
