/**
 * The local page's disk buttons call the same domain functions as `sentinela-agent disk` and word
 * what happened themselves, in Portuguese and in English (they used to show the CLI's English text).
 */
import t from 'tap';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { AgentConfig } from '@sentinela/shared';
import { memoryLogger, tempDir } from '../fixtures.test-support.js';
import { loadOrCreateKey } from '../repository/keys.js';
import { backupKeyPath } from '../paths.js';
import { readDiskLabel } from '../locations/disk-label.js';
import type { AgentContext } from '../module.js';
import { initMessage, ejectMessage, PageActions } from './actions.js';

/** English words that must not appear on the Portuguese page. */
const ENGLISH = /\b(disk|backup|initialized|failed|unplug|safe)\b/i;

t.test('initialize and eject a disk from the page: pt and en texts, the disk labelled and synced', async (t) => {
  const dir = tempDir(t);
  const media = join(dir, 'media');
  mkdirSync(join(media, 'disco-a'), { recursive: true });
  const config = AgentConfig.parse({
    dataDir: join(dir, 'data'),
    site: { id: 'hf-page-disk' },
    hub: { mqttUrl: 'mqtt://127.0.0.1:1' },
    backup: { sources: [{ name: 'conf', kind: 'files', path: dir, schedule: '0 0 1 1 *' }], usb: { mountRoots: [media] } },
  });
  mkdirSync(config.dataDir, { recursive: true });
  loadOrCreateKey(backupKeyPath(config));
  const ctx = { config, siteId: 'hf-page-disk', logger: memoryLogger().logger } as unknown as AgentContext;
  const actions = new PageActions(ctx);

  t.same(actions.disks().blank.map((d) => d.path), [join(media, 'disco-a')], 'the blank folder is offered');
  const init = await actions.run('disk-init', { path: join(media, 'disco-a'), label: 'disco A' });
  t.ok(init.ok);
  t.match(init.message.pt, /^Disco inicializado: "disco A"\. O agente copia para ele cada cópia de segurança enquanto estiver ligado\./);
  // The test's folders share the spool's filesystem: the page says so, in each language.
  t.match(init.message.pt, /Atenção: está no mesmo disco do servidor/);
  t.match(init.message.en, /Warning: it is on the server's own disk/);
  t.match(init.message.en, /^Disk initialized: "disco A"\./);
  t.equal(readDiskLabel(join(media, 'disco-a'))?.siteId, 'hf-page-disk', 'disk.json written');
  t.same(actions.disks().attached.map((d) => d.label), ['disco A'], 'now offered for eject');

  const again = await actions.run('disk-init', { path: join(media, 'disco-a') });
  t.notOk(again.ok, 'an initialized disk is not offered again');
  t.notMatch(again.message.pt, ENGLISH);

  const eject = await actions.run('disk-eject', { path: join(media, 'disco-a') });
  t.ok(eject.ok, eject.message.en);
  t.equal(eject.message.pt, 'Pode retirar o disco "disco A" com segurança.');
  t.equal(eject.message.en, 'It is safe to unplug disk "disco A".');
});

t.test('every result a disk action can have is worded in both languages, without English on the pt side', async (t) => {
  const inits = [
    initMessage({ ok: true, done: 'already', role: 'usb', path: '/m/a', label: 'A', diskId: 'd1', site: 's', warnings: [] }),
    initMessage({ ok: true, done: 'initialized', role: 'usb', path: '/m/a', label: 'A', diskId: 'd1', site: 's', warnings: [{ code: 'same-filesystem', spool: '/var/lib/x' }, { code: 'outside-mount-roots', mountRoots: [] }] }),
    initMessage({ ok: false, code: 'no-backup-config', path: '/m/a' }),
    initMessage({ ok: false, code: 'no-site-id', path: '/m/a' }),
    initMessage({ ok: false, code: 'not-a-folder', path: '/m/a' }),
    initMessage({ ok: false, code: 'other-site', path: '/m/a', site: 'hf-9', label: 'B' }),
  ];
  const ejects = [
    ejectMessage({ ok: false, code: 'not-a-disk', path: '/m/a' }),
    ejectMessage({ ok: false, code: 'sync-failed', path: '/m/a', label: 'A', detail: '' }),
    ejectMessage({ ok: false, code: 'unmount-failed', path: '/m/a', label: 'A', detail: '' }),
  ];
  for (const m of [...inits, ...ejects]) {
    t.notMatch(m.pt, ENGLISH, m.pt);
    t.ok(m.en.length > 0 && m.en !== m.pt, m.en);
  }
  t.match(inits[5]!.pt, /pertence a outro local \(hf-9, "B"\)/);
});
