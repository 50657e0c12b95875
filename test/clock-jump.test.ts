/**
 * The agent's wall clock jumps (a wrong RTC at boot, then NTP puts it right; a technician setting
 * the date): the store-and-forward keeps flowing. The agent runs under its own clock (libfaketime),
 * never the machine's. Found by the fault campaign (bench/faults, issue 18): the drain's rate limit
 * and resend timers ran on the wall clock, so a jump forward and back stopped all sending for as
 * long as the jump (a day ahead: a day of silence).
 */
import t from 'tap';
import { join } from 'node:path';
import { AgentHandle, hubWithNewSite } from '@sentinela/tools/harness/fleet.js';
import { FakeClock, hasFaketime } from '@sentinela/tools/harness/faketime.js';
import { agentOutbox, hubMessages } from '@sentinela/tools/harness/stores.js';
import { tempDir } from '@sentinela/tools/harness/tmp.js';
import { sleep, waitFor } from '@sentinela/tools/harness/wait.js';

for (const jump of [86_400, -86_400]) {
  t.test(`the clock jumps ${jump > 0 ? 'a day ahead' : 'a day back'} and is put right: messages keep reaching the hub`, async (t) => {
    if (!t.ok(hasFaketime(), 'libfaketime (apt-get install faketime)')) return;
    const dir = tempDir('clock');
    t.teardown(dir.remove);
    const { hub, siteId, token } = await hubWithNewSite(t, join(dir.path, 'hub'), 'hf-clock');
    const clock = new FakeClock(join(dir.path, 'clock'));
    const dataDir = join(dir.path, 'agent', 'data');
    const agent = new AgentHandle({ dir: join(dir.path, 'agent'), siteId, mqttUrl: hub.mqttUrl, env: clock.env(), overrides: { sampling: { intervalSeconds: 1 } } });
    await agent.enroll(hub.httpUrl, token);
    await agent.start();
    t.teardown(() => agent.proc.stop());
    const atHub = () => hubMessages(join(hub.opts.dir, 'data'), siteId).length;
    await waitFor('messages at the hub', () => atHub() >= 2, 30_000);

    clock.jump(jump);
    await sleep(4000);
    clock.reset();
    await sleep(2000);
    const { maxSeq } = agentOutbox(dataDir);
    await waitFor(`every seq up to ${maxSeq} at the hub`, () => hubMessages(join(hub.opts.dir, 'data'), siteId).filter((r) => r.seq <= maxSeq).length === maxSeq, 30_000).then(
      () => t.pass(`all ${maxSeq} messages reached the hub after the jump`),
      () => t.fail(`after the jump only ${atHub()} of ${maxSeq} messages reached the hub; ${agentOutbox(dataDir).pending.length} wait in the outbox`),
    );
    t.ok(agent.proc.running, 'the agent is running');
  });
}
