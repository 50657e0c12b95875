import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SyncProgress } from './progress.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

function folder(t: { teardown(fn: () => unknown): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'sync-progress-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('what the receiver acknowledged survives a restart, per site, and a piece below it counts as sent again', async (t) => {
  const file = join(folder(t), 'progress.json');
  const p = new SyncProgress(file);
  p.sent('hf-1', A, 0, 100);
  p.ack('hf-1', A, 100);
  p.flush(); // what close() does; receipts alone are written within a second
  const again = new SyncProgress(file);
  t.equal(again.acked('hf-1', A), 100, 'the offset is read back');
  t.equal(again.acked('hf-2', A), 0, "another site's copy of the same object is its own transfer");
  again.sent('hf-1', A, 0, 100);
  again.sent('hf-1', A, 100, 100);
  again.flush();
  t.same(new SyncProgress(file).counters, { piecesSent: 3, bytesSent: 300, acked: 0, resentAcked: 1, refused: 0, timedOut: 0 }, 'counters go on across restarts; the one acknowledged piece sent again is counted');
  again.forget('hf-1', [A]);
  t.equal(new SyncProgress(file).acked('hf-1', A), 0, 'a completed snapshot forgets its offsets');
});

t.test("the agent's version-1 file (keyed by object alone) is read as its own site's", async (t) => {
  const file = join(folder(t), 'offsite.json');
  writeFileSync(file, JSON.stringify({ v: 1, acked: { [A]: 65536, [B]: 'x' }, counters: { piecesSent: 7, bytesSent: 458752, acked: 7, resentAcked: 0, refused: 1, timedOut: 0 } }));
  const p = new SyncProgress(file, 'hf-1');
  t.equal(p.acked('hf-1', A), 65536);
  t.equal(p.acked('hf-1', B), 0, 'a value that is not a number is dropped');
  t.equal(p.counters.piecesSent, 7);
  p.ack('hf-1', A, 131072);
  p.flush();
  t.equal((JSON.parse(readFileSync(file, 'utf8')) as { v: number }).v, 2, 'written back as version 2');
});

t.test("a torn or foreign file starts from zero: the receiver's need still says where to resume", async (t) => {
  const dir = folder(t);
  for (const [name, text] of [['torn', '{"v":2,"acked":{"'], ['other', '{"v":9,"acked":{}}'], ['array', '[1,2]'], ['null-acked', '{"v":2,"acked":null}']]) {
    const file = join(dir, `${name}.json`);
    writeFileSync(file, text!);
    const p = new SyncProgress(file, 'hf-1');
    t.equal(p.counters.piecesSent, 0, `${name}: counters from zero`);
    t.equal(p.acked('hf-1', A), 0, `${name}: nothing acknowledged`);
  }
});
