import t from 'tap';
import { statSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { MasterKey, loadOrCreateKey } from './keys.js';
import { tempDir } from '../fixtures.test-support.js';

t.test('recovery code round-trips, tolerates case and separators', async (t) => {
  const key = MasterKey.generate();
  const code = key.toRecoveryCode();
  t.match(code, /^([0-9A-HJKMNP-TV-Z]{4}-){13}[0-9A-HJKMNP-TV-Z]{4}$/, '14 groups of 4 Crockford characters');
  const back = MasterKey.fromRecoveryCode(code.toLowerCase().replace(/-/g, ' '));
  t.equal(back.subkeys().keyId, key.subkeys().keyId);
  t.same(back.subkeys().objectKey, key.subkeys().objectKey);
});

t.test('a typo in the code is caught by the checksum', async (t) => {
  const key = MasterKey.fromBytes(Buffer.alloc(32, 7));
  const code = key.toRecoveryCode();
  const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  let caught = 0;
  const positions = [0, 5, 17, 30, 43, 50, 53, 60, 66]; // not on a dash
  for (const pos of positions) {
    const c = code[pos]!;
    const other = alphabet[(alphabet.indexOf(c) + 1) % 32]!;
    const typo = code.slice(0, pos) + other + code.slice(pos + 1);
    try {
      MasterKey.fromRecoveryCode(typo);
    } catch (err) {
      t.match((err as Error).message, /mistyped|checksum/);
      caught++;
    }
  }
  t.equal(caught, positions.length, 'every single-character typo refused');
  // Two neighbouring characters swapped.
  const swapped = code.slice(0, 10) + code[11] + code[10] + code.slice(12);
  if (swapped !== code) t.throws(() => MasterKey.fromRecoveryCode(swapped), /mistyped/);
  t.throws(() => MasterKey.fromRecoveryCode(code.slice(0, -5)), /56 characters/);
  t.throws(() => MasterKey.fromRecoveryCode(code.replace(/^./, 'U')), /"U"/);
});

t.test('key file: saved 0600, loaded, refused when others can read it', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'backup.key');
  const first = loadOrCreateKey(path);
  t.ok(first.created);
  t.equal(statSync(path).mode & 0o777, 0o600);
  const again = loadOrCreateKey(path);
  t.notOk(again.created);
  t.equal(again.key.subkeys().keyId, first.key.subkeys().keyId);
  chmodSync(path, 0o644);
  t.throws(() => MasterKey.load(path), /readable by other users.*chmod 600/);
  t.throws(() => MasterKey.load(join(dir, 'none.key')), /no backup key at .*key init/);
  writeFileSync(join(dir, 'bad.key'), 'garbage', { mode: 0o600 });
  t.throws(() => MasterKey.load(join(dir, 'bad.key')), /damaged/);
});
