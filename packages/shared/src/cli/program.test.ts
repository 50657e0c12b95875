/** The CLI framework both programs run on: values, exit codes, help, and any command line ending in 0, 1 or 2. */
import t from 'tap';
import { ConfigError } from '../config/load.js';
import { defineVerb, helpText, parseOnly, runProgram, type ProgramDef } from './program.js';
import { UsageError, type Io } from './io.js';

const seen: Array<{ values: Record<string, unknown>; args: unknown[] }> = [];

const PROGRAM: ProgramDef = {
  name: 'demo',
  version: '1.2.3',
  description: 'A demo program.',
  groups: { disk: 'disks: eject' },
  epilogue: 'Exit codes: 0 ok, 1 runtime failure, 2 usage or config error.',
  verbs: [
    defineVerb({
      name: 'show',
      summary: 'show something',
      description: 'Shows\nsomething.',
      options: { config: { type: 'string', short: 'c', arg: 'FILE', help: 'the config', default: '/etc/demo.yaml' }, json: { type: 'boolean', help: 'as JSON' }, fail: { type: 'string', arg: 'HOW', help: 'fail this way' } },
      examples: ['demo show -c x.yaml'],
      async run({ values, args }) {
        seen.push({ values, args });
        if (values.fail === 'usage') throw new UsageError('--fail usage was asked for');
        if (values.fail === 'config') throw new ConfigError('x.yaml', ['x.yaml:1:1: bogus: unknown key "bogus"']);
        if (values.fail === 'known') throw new RangeError('known');
        if (values.fail === 'runtime') throw new Error('the database refused\nwith detail');
        return 0;
      },
    }),
    defineVerb({
      name: 'disk eject',
      summary: 'eject a disk',
      description: 'Ejects.',
      options: { 'no-unmount': { type: 'boolean', help: 'sync only' }, 'grace-hours': { type: 'string', arg: 'H', help: 'hours' } },
      args: [{ name: 'PATH', help: 'the mount point', required: true }],
      examples: ['demo disk eject /media/a'],
      async run({ values, args }) {
        seen.push({ values, args });
        return 0;
      },
    }),
  ],
  classify: (err) => (err instanceof RangeError ? { code: 1, message: `known: ${err.message}` } : null),
};

async function run(argv: string[]) {
  let out = '';
  let err = '';
  const io: Io = { out: (s) => (out += `${s}\n`), err: (s) => (err += `${s}\n`) };
  const code = await runProgram(PROGRAM, argv, io);
  return { code, out, err };
}

t.test('values by long name, defaults, --no-X, positionals, a value that starts with a dash', async (t) => {
  seen.length = 0;
  t.equal((await run(['show'])).code, 0);
  t.same(seen.pop(), { values: { config: '/etc/demo.yaml', json: undefined, fail: undefined }, args: [] });
  t.equal((await run(['show', '-c', 'a.yaml', '--json'])).code, 0);
  t.match(seen.pop()!.values, { config: 'a.yaml', json: true });
  t.equal((await run(['show', '--config=b.yaml'])).code, 0);
  t.match(seen.pop()!.values, { config: 'b.yaml' });
  t.equal((await run(['disk', 'eject', '/media/a', '--no-unmount', '--grace-hours', '-1'])).code, 0);
  t.same(seen.pop(), { values: { 'no-unmount': true, 'grace-hours': '-1' }, args: ['/media/a'] });
  t.equal((await run(['disk', 'eject', '/media/a'])).code, 0);
  t.same(seen.pop()!.values, { 'no-unmount': undefined, 'grace-hours': undefined });
});

t.test('exit codes: 2 for the command line and the config, 1 for a failure, 0 for help and version', async (t) => {
  const usage = await run(['show', '--fail', 'usage']);
  t.same([usage.code, usage.err], [2, 'demo show: --fail usage was asked for\nsee: demo show --help\n']);
  const config = await run(['show', '--fail', 'config']);
  t.same([config.code, config.err], [2, 'x.yaml: invalid configuration:\n  - x.yaml:1:1: bogus: unknown key "bogus"\n']);
  const failure = await run(['show', '--fail', 'runtime']);
  t.same([failure.code, failure.err], [1, 'demo show: the database refused — with detail\n'], 'one line a person can act on');
  t.same((await run(['show', '--fail', 'known'])).code, 1, 'a classified error');
  const unknown = await run(['show', '--bogus']);
  t.same([unknown.code, unknown.err], [2, "error: unknown option '--bogus'\nsee: demo show --help\n"]);
  t.equal((await run(['disk', 'eject'])).code, 2, 'a missing argument');
  t.equal((await run(['disk', 'eject', 'a', 'b'])).code, 2, 'an extra argument');
  t.equal((await run(['disk'])).code, 2, 'a group without its verb');
  t.equal((await run(['nope'])).code, 2);
  t.equal((await run([])).code, 2, 'no verb');
  t.same(await run(['--version']), { code: 0, out: '1.2.3\n', err: '' });
  t.equal((await run(['help'])).code, 0);
  t.equal((await run(['show', '--help'])).code, 0);
});

t.test('help is generated from the verbs and their options', async (t) => {
  const top = helpText(PROGRAM);
  t.match(top, /^Usage: demo \[options\] \[command\]\n\nA demo program\.\n/);
  t.match(top, /\n {2}show \[options\]\s+show something\n/);
  t.match(top, /\n {2}disk\s+disks: eject\n/);
  t.match(top, /\nExit codes: 0 ok, 1 runtime failure, 2 usage or config error\.\n/);
  const show = helpText(PROGRAM, 'show');
  t.match(show, /^Usage: demo show \[options\]\n\nShows something\.\n/, 'paragraphs re-wrapped');
  t.match(show, /-c, --config <FILE>\s+the config \(default: "\/etc\/demo\.yaml"\)/);
  t.match(show, /--json\s+as JSON/);
  t.match(show, /\nExamples:\n {2}demo show -c x\.yaml\n/);
  t.match(helpText(PROGRAM, 'disk eject'), /^Usage: demo disk eject \[options\] <PATH>/);
  t.throws(() => helpText(PROGRAM, 'nope'), /no verb "nope"/);
});

t.test('parseOnly accepts what the program accepts and names what it refuses', async (t) => {
  t.doesNotThrow(() => parseOnly(PROGRAM, ['disk', 'eject', '/m', '--no-unmount']));
  t.throws(() => parseOnly(PROGRAM, ['show', '--snapshot', 'x']), /unknown option '--snapshot'/);
  t.throws(() => parseOnly(PROGRAM, ['disk', 'eject']), /missing required argument 'PATH'/);
});

t.test('fuzz: any command line ends in 0, 1 or 2 and never escapes as an exception', async (t) => {
  const words = ['show', 'disk', 'eject', 'help', '-c', '--config', '--config=', '--json', '--fail', 'usage', 'runtime', '--no-unmount', '--grace-hours', '-1', '-', '--', '-h', '--help', '-V', 'x', '', '--bogus', '-cx', '--json=1'];
  let seed = 19;
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
  const codes = new Set<number>();
  for (let i = 0; i < 400; i++) {
    const argv = Array.from({ length: rand(6) }, () => words[rand(words.length)]!);
    const r = await run(argv);
    if (![0, 1, 2].includes(r.code)) t.fail(`${JSON.stringify(argv)} → ${r.code}`);
    codes.add(r.code);
  }
  t.ok(codes.has(0) && codes.has(2), `exit codes seen: ${[...codes].sort().join(', ')}`);
});
