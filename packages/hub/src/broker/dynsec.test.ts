import t from 'tap';
import { EventEmitter } from 'node:events';
import type { MqttClient } from 'mqtt';
import { Dynsec } from './dynsec.js';

// A broker cannot be made to send malformed answers, so the client is a stand-in at that one boundary.
t.test('whatever arrives on the dynsec response topic, the hub neither throws nor takes it for an answer', async (t) => {
  const client = Object.assign(new EventEmitter(), { connected: false }) as unknown as MqttClient;
  new Dynsec(client, 50);
  const topic = '$CONTROL/dynamic-security/v1/response';
  const bodies = ['', 'null', '5', '"x"', '[]', '{}', '{"responses":5}', '{"responses":null}', '{"responses":[null,1,"a",[],{}]}', '{"responses":[{"correlationData":7}]}', '{"responses":{"length":3}}'];
  for (let i = 0; i < 300; i++) {
    const b = Buffer.from(bodies[i % bodies.length]!);
    if (i >= bodies.length && b.length) b[i % b.length] = (i * 37) & 0xff;
    t.doesNotThrow(() => (client as unknown as EventEmitter).emit('message', topic, b), `body ${JSON.stringify(b.toString('latin1'))}`);
  }
});
