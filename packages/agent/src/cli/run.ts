/** `sentinela-agent run`: the long-running agent. */
import { createLogger, type AGENT_VERB_OPTIONS } from '@sentinela/shared';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, type VerbInput } from '@sentinela/shared/cli';
import { NotEnrolledError, SiteMismatchError, startAgent } from '../agent.js';
import { CredentialsError } from '../enroll/credentials.js';
import { loadAgentConfig } from './config.js';

export async function runVerb({ values, io }: VerbInput<typeof AGENT_VERB_OPTIONS.run>): Promise<number> {
  const config = loadAgentConfig(values.config);
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
