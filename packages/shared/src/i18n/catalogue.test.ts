import t from 'tap';
import { both, CATALOGUE, CONSOLE_KEYS, dictionary, fill, say, type TextKey } from './catalogue.js';

const params = (text: string): string[] => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!).sort();

t.test('every key has both languages, non-empty, with the same parameters', async (t) => {
  const keys = Object.keys(CATALOGUE) as TextKey[];
  t.ok(keys.length > 300, `${keys.length} keys`);
  for (const k of keys) {
    const [pt, en] = CATALOGUE[k];
    if (!pt?.trim() || !en?.trim()) t.fail(`${k}: a language is empty`);
    if (params(pt).join() !== params(en).join()) t.fail(`${k}: parameters differ (pt ${params(pt).join()}, en ${params(en).join()})`);
  }
});

t.test('words with parameters, in either language', async (t) => {
  t.equal(say('pt', 'page_pin_wait', { s: 20 }), 'Demasiadas tentativas: espere 20 s.');
  t.same(both('page_pin_wait', { s: 20 }), { pt: 'Demasiadas tentativas: espere 20 s.', en: 'Too many attempts: wait 20 s.' });
  t.equal(fill('{a} and {b}', { a: 1 }), '1 and ', 'a parameter not given is empty, never "undefined"');
  const consolePt = dictionary('pt', CONSOLE_KEYS);
  t.equal(Object.keys(consolePt).length, CONSOLE_KEYS.length);
  t.notOk(Object.keys(consolePt).some((k) => k.startsWith('page_')), "the console's table carries only its own keys");
});
