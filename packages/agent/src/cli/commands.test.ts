/**
 * Every `sentinela-agent` command written for a person — in docs/operations.md, in the verbs' help
 * examples, in the hub's restore guide — parses with the verb's own option definitions
 * (AGENT_VERB_OPTIONS): no guide can show an option the agent refuses.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { agentCommand, agentVerbOf } from '@sentinela/shared';
import { helpText, parseOnly } from '@sentinela/shared/cli';
import { AGENT_PROGRAM } from './program.js';

const DOCS = fileURLToPath(new URL('../../../../docs/operations.md', import.meta.url));

/** The command lines in a text: code blocks and `inline code` that start with (sudo …) sentinela-agent VERB. */
function commandsIn(text: string): string[] {
  const spans = [...text.matchAll(/```[a-z]*\n([\s\S]*?)```/g)].flatMap((m) => m[1]!.split('\n'));
  spans.push(...[...text.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!));
  spans.push(...text.split('\n').filter((l) => /^\s+(echo .* \| )?sentinela-agent [a-z]/.test(l)));
  return spans
    .map((l) => l.replace(/^.*?(?=sentinela-agent [a-z])/, ''))
    .filter((l) => /^sentinela-agent [a-z]/.test(l))
    // Elisions (…), optional parts ([--json]) and alternatives ((A | B)) are prose, not a command.
    .filter((l) => !/…|\[|\|| or /.test(l));
}

function check(t: { pass(m: string): void; fail(m: string): void }, where: string, line: string): void {
  // Words as the shell splits them: "disco A" is one.
  const words = [...line.trim().matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!).slice(1);
  const verb = agentVerbOf(words);
  if (!verb) return void t.fail(`${where}: "${line}" names no verb`);
  // A verb named in prose ("`sentinela-agent disk init` prepares…") is not a command line.
  if (words.length === verb.split(' ').length) return void t.pass(`${where}: ${line} (the verb's name)`);
  try {
    // The agent's own parser, verb and all: an option the verb lacks, a missing PATH or a stray word fails.
    parseOnly(AGENT_PROGRAM, words);
    t.pass(`${where}: ${line}`);
  } catch (err) {
    t.fail(`${where}: ${line}: ${(err as Error).message}`);
  }
}

t.test('docs/operations.md: every sentinela-agent command parses', async (t) => {
  const cmds = commandsIn(readFileSync(DOCS, 'utf8'));
  t.ok(cmds.length >= 10, `${cmds.length} commands found`);
  for (const c of cmds) check(t, 'operations.md', c);
});

t.test('the verbs’ help: every example parses', async (t) => {
  for (const verb of AGENT_PROGRAM.verbs) for (const c of commandsIn(helpText(AGENT_PROGRAM, verb.name))) check(t, `${verb.name} --help`, c);
});

t.test('agentCommand refuses an option the verb does not take, or a value where none goes', async (t) => {
  t.equal(agentCommand('verify', [['from', 'usb'], ['read-data', true]]), 'sentinela-agent verify --from usb --read-data');
  t.throws(() => agentCommand('verify', [['snapshot' as 'from', 'X']]), /has no option --snapshot/);
  t.throws(() => agentCommand('restore', [['latest', 'yes']]), /--latest takes no value/);
  t.equal(agentCommand('restore', [['to-dir', '<FOLDER>/scans'], ['to-file', "a b's"]]), "sentinela-agent restore --to-dir <FOLDER>/scans --to-file 'a b'\\''s'", 'values quoted for the shell, placeholders left as written');
});
