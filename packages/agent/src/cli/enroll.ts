/** `sentinela-agent enroll`: one-time registration with the hub. */
import type { AGENT_VERB_OPTIONS } from '@sentinela/shared';
import { EXIT_FAILURE, EXIT_OK, UsageError, type VerbInput } from '@sentinela/shared/cli';
import { enroll, EnrollError } from '../enroll/enroll.js';
import { credentialsPath } from '../paths.js';
import { loadAgentConfig } from './config.js';

export async function enrollVerb({ values, io }: VerbInput<typeof AGENT_VERB_OPTIONS.enroll>): Promise<number> {
  const config = loadAgentConfig(values.config);
  const hubUrl = values.hub;
  const token = values.token;
  if (!hubUrl) throw new UsageError('missing --hub URL');
  if (!token) throw new UsageError('missing --token TOKEN');
  const file = credentialsPath(config);
  try {
    const { credentials, mqttPort } = await enroll({ hubUrl, token, credentialsFile: file, expectedSiteId: config.site.id, caFile: config.hub.caFile });
    io.out(`enrolled as site ${credentials.siteId}; credentials written to ${file} (readable by this user only)`);
    const configured = portOf(config.hub.mqttUrl);
    if (mqttPort !== null && configured !== null && configured !== mqttPort) {
      io.out(`note: the hub's MQTT port is ${mqttPort} but hub.mqttUrl in the config is ${config.hub.mqttUrl}; check it`);
    }
    io.out('start the agent (systemctl restart sentinela-agent) to connect with the new credentials');
    return EXIT_OK;
  } catch (err) {
    if (err instanceof EnrollError) {
      io.err(`sentinela-agent enroll: ${err.message}`);
      return EXIT_FAILURE;
    }
    throw err;
  }
}

function portOf(url: string): number | null {
  try {
    const u = new URL(url);
    return u.port ? Number(u.port) : u.protocol === 'mqtts:' ? 8883 : 1883;
  } catch {
    return null;
  }
}
