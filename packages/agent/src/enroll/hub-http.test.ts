import t from 'tap';
import net from 'node:net';
import { join } from 'node:path';
import { hubRequest } from './hub-http.js';
import { closedPort, tempDir } from '../fixtures.test-support.js';

t.test('every failure to reach the hub says why, in words', async (t) => {
  const port = await closedPort();
  await t.rejects(hubRequest(`http://127.0.0.1:${port}/api/v1/enroll`), {
    name: 'HubRequestError',
    message: `cannot reach the hub at http://127.0.0.1:${port}/api/v1/enroll: ECONNREFUSED`,
  });
  await t.rejects(hubRequest('10.0.0.5:8080/api'), { message: /^"10\.0\.0\.5:8080\/api" is not a valid URL; give the hub's address as http:\/\/HOST:PORT/ });
  await t.rejects(hubRequest('ftp://hub/api'), { message: '"ftp://hub/api" is not an http:// or https:// URL' });
  const missing = join(tempDir(t), 'hub-ca.pem');
  await t.rejects(hubRequest(`https://127.0.0.1:${port}/`, { caFile: missing }), { message: `cannot read hub.caFile (${missing}): ENOENT` });

  // A hub that accepts the connection and never answers.
  const silent = net.createServer(() => {});
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  t.teardown(() => silent.close());
  const silentPort = (silent.address() as net.AddressInfo).port;
  await t.rejects(hubRequest(`http://127.0.0.1:${silentPort}/x`, { timeoutMs: 200 }), {
    message: `cannot reach the hub at http://127.0.0.1:${silentPort}/x: no answer within 200 ms`,
  });
});
