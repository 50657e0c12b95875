/**
 * The fault campaign at its quick size (issue 18): `npm run bench -- faults --json`, real agents
 * and a hub under every kind of fault at random moments, then the ledger. What a user relies on:
 * no message lost or duplicated, every snapshot listed restores, no process died on its own, no
 * shutdown on mains. The power cuts in QEMU (bench/faults/powercut-vm.sh) are too slow for CI here.
 */
import t from 'tap';
import { join } from 'node:path';
import { REPO_ROOT } from '@sentinela/tools/harness/paths.js';
import { runNode } from '@sentinela/tools/harness/process.js';

t.test('quick fault campaign: every kind injected, nothing lost, duplicated or unrestorable', async (t) => {
  const r = await runNode(join(REPO_ROOT, 'bench/dist/run.js'), ['faults', '--json']);
  t.equal(r.code, 0, `the campaign ran${r.code === 0 ? '' : `: ${r.stderr.slice(-3000)}`}`);
  if (r.code !== 0) return;
  const result = JSON.parse(r.stdout.trim().split('\n').pop()!) as { figures: Record<string, number>; notes: string[]; setup: Record<string, number> };
  const f = result.figures;
  // On a failure: the seed and what the campaign noted (lost seqs, crashes, failed restores).
  const why = (ok: boolean) => (ok ? '' : `: seed ${result.setup.seed}\n${result.notes.join('\n')}`);
  for (const key of Object.keys(f).filter((k) => k.startsWith('faults ') && k !== 'faults injected')) t.ok(f[key]! >= 1, `${key.slice(7)} injected (${f[key]})`);
  t.ok(f['messages stored']! > 0, `messages reached the hub (${f['messages stored']} of ${f['messages created']})`);
  t.equal(f['messages lost'], 0, `no message lost${why(f['messages lost'] === 0)}`);
  t.equal(f['messages duplicated'], 0, 'no message duplicated');
  t.ok(f['ledgers during the faults']! >= 1, `the ledger was also taken while the faults went on (${f['ledgers during the faults']} times)`);
  t.equal(f['lost at a ledger during the faults'], 0, `no message lost at any of those ledgers${why(f['lost at a ledger during the faults'] === 0)}`);
  t.equal(f['duplicated at a ledger during the faults'], 0, 'no message duplicated at any of those ledgers');
  // Once the faults end the backlogs drain: what is left is the last few live samples.
  t.ok(f['messages still queued']! <= 5 * result.setup.agents!, `the backlogs drained (${f['messages still queued']} still queued)`);
  t.equal(f['messages on unknown streams'], 0, 'nothing at the hub that no agent created');
  t.equal(f['damaged databases'], 0, 'every outbox.db and hub.db passes integrity_check');
  t.ok(f['snapshots listed']! > 0, `snapshots were listed (${f['snapshots listed']})`);
  t.equal(f['snapshots that do not restore'], 0, `every listed snapshot restores${why(f['snapshots that do not restore'] === 0)}`);
  t.equal(f['repositories failing verify --read-data'], 0, 'verify --read-data clean on every spool and USB disk');
  t.equal(f['process crashes'], 0, `no agent or hub exited on its own${why(f['process crashes'] === 0)}`);
  t.equal(f['spurious shutdowns'], 0, 'no shutdown while the UPS was on mains');
  t.equal(f['injector errors'], 0, 'every fault was injected as planned');
});
