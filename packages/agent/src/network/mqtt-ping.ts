/** MQTT round trip on an existing connection: PINGREQ → PINGRESP (no topic, no ACL, nothing stored at the hub). */
import type { MqttClient } from 'mqtt';

export function mqttPing(client: MqttClient, timeoutMs: number): Promise<number | null> {
  if (!client.connected) return Promise.resolve(null);
  const t0 = performance.now();
  return new Promise((resolve) => {
    const onPacket = (p: { cmd: string }) => {
      if (p.cmd !== 'pingresp') return;
      finish(Math.round((performance.now() - t0) * 10) / 10);
    };
    const finish = (v: number | null) => {
      clearTimeout(timer);
      client.off('packetreceive', onPacket);
      resolve(v);
    };
    const timer = setTimeout(() => finish(null), timeoutMs);
    client.on('packetreceive', onPacket);
    client.sendPing();
  });
}
