import { isDeepStrictEqual } from 'node:util';
import t from 'tap';
import { z } from 'zod';
import { compileAccept } from './schema-check.js';
import { DownMessage, UpMessage } from './messages.js';
import { decodeUp } from './codec.js';
import { upTopic } from './topics.js';
import { ack, birth, death, drill, event, mutations, status } from './samples.test-support.js';

t.test('the protocol schemas compile, and the compiled test accepts what the agents send', async (t) => {
  const up = compileAccept(UpMessage);
  const down = compileAccept(DownMessage);
  t.ok(up, 'UpMessage compiles');
  t.ok(down, 'DownMessage compiles');
  for (const m of [status, event, drill, birth, death]) t.ok(up!(JSON.parse(JSON.stringify(m))), `${m.type} accepted without zod`);
  t.ok(down!(ack), 'ack accepted without zod');
  // Discriminated unions are checked by the option their tag names.
  t.notOk(up!({ ...status, type: 'event' }), 'a status body tagged as an event is not accepted');
  t.notOk(up!({ ...status, type: 'telemetry' }), 'an unknown tag is not accepted');
  t.notOk(up!([status]), 'an array is not a message');
});

t.test('the compiled test never accepts what zod refuses or would change', async (t) => {
  const cases: Array<[string, z.ZodType, unknown]> = [
    ['status', UpMessage, status],
    ['event', UpMessage, event],
    ['drill', UpMessage, drill],
    ['birth', UpMessage, birth],
    ['death', UpMessage, death],
    ['ack', DownMessage, ack],
  ];
  for (const [name, schema, sample] of cases) {
    const accept = compileAccept(schema)!;
    let tried = 0;
    let refusedByZod = 0;
    let wrong = 0;
    for (const value of mutations(sample)) {
      tried++;
      const zod = schema.safeParse(value);
      if (!zod.success) refusedByZod++;
      if (accept(value) && !(zod.success && isDeepStrictEqual(zod.data, value))) {
        wrong++;
        t.fail(`${name}: accepted ${JSON.stringify(value)?.slice(0, 300)}`);
      }
    }
    t.equal(wrong, 0, `${name}: ${tried} variants (${refusedByZod} refused by zod): the compiled test accepted none that zod refuses or changes`);
  }
});

t.test('a malformed payload still gets zod\'s error naming the field', async (t) => {
  const r = decodeUp(upTopic('hf-1', 'status'), Buffer.from(JSON.stringify({ ...status, host: { ...status.host, cpu: { ...status.host.cpu, usagePct: 140 } } })));
  t.notOk(r.ok);
  if (!r.ok) t.match(r.error.message, /host\.cpu\.usagePct: .*found number 140/);
});

t.test('schemas with parts it does not compile are left to zod', async (t) => {
  t.equal(compileAccept(z.object({ a: z.string().transform((s) => s.length) })), null);
  t.equal(compileAccept(z.object({ a: z.string().default('x') })), null);
  t.equal(compileAccept(z.object({ url: z.url() })), null);
  const strip = compileAccept(z.object({ a: z.string() }))!;
  t.ok(strip({ a: 'x' }));
  t.notOk(strip({ a: 'x', b: 1 }), 'a stripping object with an extra key is left to zod (it would change the value)');
});
