/** `sentinela-hub serve`: runs the hub until SIGTERM/SIGINT, then stops gracefully (exit 0). */
import { createLogger } from '@sentinela/shared';
import { startHub } from '../hub.js';
import { defineVerb, EXIT_OK } from '@sentinela/shared/cli';
import { configOption, loadHubConfig } from './common.js';

export const serve = defineVerb({
  name: 'serve',
  summary: 'run the hub: MQTT broker, ingest, HTTP API and console',
  description: `Runs the hub until it gets SIGTERM or SIGINT, then commits and acknowledges what it has
received, closes every connection and exits 0. Logs are JSON lines on stdout; the line
{"msg":"hub ready","mqttPort":…,"httpPort":…} says it is serving.`,
  options: configOption,
  examples: ['sentinela-hub serve --config /etc/sentinela/hub.yaml'],
  async run({ values }) {
    const config = loadHubConfig(values.config);
    const logger = createLogger('sentinela-hub', config.log.level);
    process.on('uncaughtException', (err) => {
      logger.fatal({ err }, `unexpected error, the hub stops (systemd restarts it): ${err.message}`);
      process.exit(1);
    });
    process.on('unhandledRejection', (err) => logger.error({ err }, `unhandled promise rejection: ${String(err)}`));
    const hub = await startHub(config, logger);
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        logger.info({ signal }, `${signal} received; stopping`);
        process.removeAllListeners('SIGTERM');
        process.removeAllListeners('SIGINT');
        process.once('SIGINT', () => process.exit(1)); // a second Ctrl-C does not wait
        void hub.close().then(resolve, (err: Error) => {
          logger.error({ err }, `error while stopping: ${err.message}`);
          resolve();
        });
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
    return EXIT_OK;
  },
});
