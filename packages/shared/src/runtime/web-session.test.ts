import t from 'tap';
import { csrfPasses, foreignOrigin, newSecret, sameSecret } from './web-session.js';

t.test('secrets: 192 random bits, url-safe, compared whole', async (t) => {
  const a = newSecret();
  t.match(a, /^[A-Za-z0-9_-]{32}$/);
  t.not(a, newSecret());
  t.ok(sameSecret(a, a));
  t.notOk(sameSecret(a, a.slice(0, -1)), 'a prefix is not the secret');
  t.notOk(sameSecret(a, undefined));
  t.notOk(sameSecret('', ''), 'empty never matches');
});

t.test('Origin: none is not foreign, another host or an unreadable one is', async (t) => {
  t.notOk(foreignOrigin(undefined, 'hub.example:8080'));
  t.notOk(foreignOrigin('https://hub.example:8080', 'hub.example:8080'));
  t.ok(foreignOrigin('https://evil.example', 'hub.example:8080'));
  t.ok(foreignOrigin('https://hub.example', 'hub.example:8080'), 'another port is another origin');
  t.ok(foreignOrigin('null', 'hub.example:8080'));
  t.ok(foreignOrigin('::garbage', 'hub.example:8080'));
});

t.test('a state-changing request passes with the token echoed and no foreign Origin', async (t) => {
  const csrf = newSecret();
  t.ok(csrfPasses(csrf, csrf, 'http://10.0.0.5:8090', '10.0.0.5:8090'));
  t.ok(csrfPasses(csrf, csrf, undefined, '10.0.0.5:8090'));
  t.notOk(csrfPasses(newSecret(), csrf, undefined, '10.0.0.5:8090'), 'another token');
  t.notOk(csrfPasses(undefined, csrf, undefined, '10.0.0.5:8090'), 'no token');
  t.notOk(csrfPasses(['x'], csrf, undefined, '10.0.0.5:8090'), 'not a string');
  t.notOk(csrfPasses(csrf, null, undefined, '10.0.0.5:8090'), 'no session token');
  t.notOk(csrfPasses(csrf, csrf, 'http://evil.example', '10.0.0.5:8090'), 'the right token from another origin');
});
