/**
 * The TCP or TLS connection to the hub's broker, for mqtt.js's MqttClient. Built here instead of by
 * mqtt.js's connect(), whose first connection loads every transport it knows (WebSocket, SOCKS:
 * the ws, socks and ip-address packages, ~2 MB resident for the life of the agent, bench
 * agent-rss). The config allows only mqtt:// and mqtts:// URLs.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { StreamBuilder } from 'mqtt';

export function hubStream(url: string, ca?: Buffer): StreamBuilder {
  const u = new URL(url);
  const secure = u.protocol === 'mqtts:';
  if (!secure && u.protocol !== 'mqtt:') throw new Error(`hub.mqttUrl: ${u.protocol} is not mqtt: or mqtts:`);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1') || 'localhost';
  const port = u.port ? Number(u.port) : secure ? 8883 : 1883;
  if (!secure) return () => net.createConnection({ host, port });
  // Certificate errors carry a code, so mqtt.js passes them to the client's 'error' event as it
  // does for its own TLS transport.
  return () => tls.connect({ host, port, ca, servername: net.isIP(host) ? undefined : host, rejectUnauthorized: true });
}
