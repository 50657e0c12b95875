/**
 * The installed command, bin/sentinela-agent.js, starts the one-shot verbs from the bundle that
 * `npm run build` makes (tools/bundle-agent.mjs); every other test runs dist/cli/main.js. Here the
 * launcher itself runs them on a real repository: help, key, backup of a folder, snapshots, verify
 * --read-data, restore to a folder and to a file (same bytes), a flipped byte reported, and a
 * usage error printed as one line.
 */
import t from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AgentHandle, NEVER } from '@sentinela/tools/harness/fleet.js';
import { AGENT_LAUNCHER, REPO_ROOT } from '@sentinela/tools/harness/paths.js';
import { runNode } from '@sentinela/tools/harness/process.js';
import { tempDir } from '@sentinela/tools/harness/tmp.js';

const digest = (b: Buffer) => createHash('sha256').update(b).digest('hex');

t.test('the launcher runs restore and verify from the bundle, on a real repository', async (t) => {
  t.ok(existsSync(join(REPO_ROOT, 'packages/agent/dist/bundle/sentinela-agent.mjs')), 'npm run build made the bundle');
  const dir = tempDir('agent-bundle');
  t.teardown(dir.remove);
  // A folder of more than two objects (4 MiB each): incompressible bytes and a text file.
  const folder = join(dir.path, 'conf');
  mkdirSync(folder);
  const files: Record<string, Buffer> = { 'scans.bin': randomBytes(9 * 1024 * 1024), 'notes.txt': Buffer.from('observação 1\n'.repeat(100_000)) };
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(folder, name), bytes);
  const agent = new AgentHandle({
    dir: join(dir.path, 'agent'),
    siteId: 'hf-bundle',
    mqttUrl: 'mqtt://127.0.0.1:9',
    overrides: { backup: { sources: [{ name: 'conf', kind: 'files', path: folder, schedule: NEVER }] } },
  });
  const cli = (args: string[]) => runNode(AGENT_LAUNCHER, [...args, '--config', agent.configFile]);

  const help = await runNode(AGENT_LAUNCHER, ['--help']);
  t.equal(help.code, 0, 'help');
  t.match(help.stdout, /restore/, 'help lists the verbs');

  t.equal((await cli(['key', 'init'])).code, 0, 'key init');
  const b = await cli(['backup', '--json']);
  t.equal(b.code, 0, `backup: ${b.stderr}`);
  const snapshot = (JSON.parse(b.stdout) as Array<{ id: string }>)[0]!.id;
  const list = await cli(['snapshots']);
  t.match(list.stdout, snapshot, 'snapshots lists it');

  const v = await cli(['verify', '--read-data']);
  t.equal(v.code, 0, `verify --read-data: ${v.stderr}`);
  t.match(v.stdout, /no problems found/);

  const to = join(dir.path, 'restored');
  const r = await cli(['restore', '--source', 'conf', '--latest', '--to-dir', to]);
  t.equal(r.code, 0, `restore to a folder: ${r.stderr}`);
  for (const [name, bytes] of Object.entries(files)) t.equal(digest(readFileSync(join(to, name))), digest(bytes), `${name} restored byte for byte`);
  const tar = join(dir.path, 'conf.tar');
  const f = await cli(['restore', '--snapshot', snapshot, '--to-file', tar]);
  t.equal(f.code, 0, `restore to a file: ${f.stderr}`);
  t.ok(readFileSync(tar).includes(files['notes.txt']!), 'the tar holds the text file');

  // A flipped byte in one object: verify names it, restore refuses; neither prints a stack trace.
  const objects = join(dir.path, 'agent/data/repository/objects');
  const sub = readdirSync(objects)[0]!;
  const victim = join(objects, sub, readdirSync(join(objects, sub))[0]!);
  const bytes = readFileSync(victim);
  bytes[bytes.length >> 1]! ^= 0x40;
  writeFileSync(victim, bytes);
  const bad = await cli(['verify', '--read-data']);
  t.equal(bad.code, 1, 'verify fails on the damaged copy');
  t.match(bad.stdout + bad.stderr, /corrupt|altered/, 'and says the object is damaged');
  const rb = await cli(['restore', '--source', 'conf', '--latest', '--to-dir', join(dir.path, 'again')]);
  t.not(rb.code, 0, 'restore of the damaged copy fails');
  t.notMatch(rb.stderr, /\n\s+at /, 'one clear line, no stack trace');

  const usage = await cli(['restore', '--snapshot', snapshot]);
  t.equal(usage.code, 2, 'a usage error exits 2');
  t.match(usage.stderr, /give one target/);
});
