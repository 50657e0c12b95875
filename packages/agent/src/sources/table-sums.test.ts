import t from 'tap';
import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { mariadbTableSums, postgresTableSums } from './table-sums.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

const PG = [
  'SET statement_timeout = 0;',
  'CREATE TABLE public.patients (id integer, name text);',
  'COPY public.patients (id, name) FROM stdin;',
  '1\tAna',
  '2\tJoão \\\\. Sitoe',
  '\\.',
  'COPY other."Lab Results" (id) FROM stdin;',
  '7',
  '\\.',
  'COPY public.empty (id) FROM stdin;',
  '\\.',
  'ALTER TABLE public.patients OWNER TO postgres;',
  '',
].join('\n');

const MY = ['CREATE TABLE `patients` (id int);', 'INSERT INTO `patients` VALUES (1,\'Ana\');', 'INSERT INTO `weird``name` VALUES (2);', 'INSERT INTO `patients` VALUES (3,\'Rosa\');', ''].join('\n');

/** The sums of `text` fed in the given pieces. */
async function sums(make: typeof postgresTableSums, text: string, cuts: number[]): Promise<Record<string, string>> {
  const buf = Buffer.from(text);
  const points = [0, ...[...new Set(cuts)].filter((c) => c > 0 && c < buf.length).sort((a, b) => a - b), buf.length];
  const pieces = points.slice(1).map((end, i) => buf.subarray(points[i], end));
  const s = make();
  let passed = 0;
  await pipeline(Readable.from(pieces), s.stage, new Writable({ write: (c: Buffer, _e, cb) => ((passed += c.length), cb()) }));
  t.equal(passed, buf.length, 'the stage passes every byte through');
  return s.sums();
}

t.test('pg_dump: the data lines of each COPY block, by table as a count query names it', async (t) => {
  t.same(await sums(postgresTableSums, PG, []), {
    patients: sha('1\tAna\n2\tJoão \\\\. Sitoe\n'),
    'other."Lab Results"': sha('7\n'),
  });
});

t.test('mariadb-dump: one INSERT per row, by table', async (t) => {
  t.same(await sums(mariadbTableSums, MY, []), {
    patients: sha("INSERT INTO `patients` VALUES (1,'Ana');\nINSERT INTO `patients` VALUES (3,'Rosa');\n"),
    'weird`name': sha('INSERT INTO `weird``name` VALUES (2);\n'),
  });
});

t.test('fuzz: any cutting of the stream gives the same sums; a changed byte in a row changes its table only', async (t) => {
  let seed = 42;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  for (const [make, text] of [
    [postgresTableSums, PG],
    [mariadbTableSums, MY],
  ] as const) {
    const whole = await sums(make, text, []);
    for (let i = 0; i < 150; i++) {
      const cuts = Array.from({ length: 1 + rnd(12) }, () => rnd(text.length));
      t.same(await sums(make, text, cuts), whole, `cut at ${cuts.join(',')}`);
    }
    // A row's content changed: only its table's sum moves.
    const changed = text.replace('Ana', 'Ane');
    const after = await sums(make, changed, [rnd(text.length)]);
    t.not(after.patients, whole.patients, 'the changed table differs');
    for (const k of Object.keys(whole).filter((k) => k !== 'patients')) t.equal(after[k], whole[k], `${k} is unchanged`);
  }
});
