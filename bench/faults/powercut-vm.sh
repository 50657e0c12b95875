#!/usr/bin/env bash
# Power cuts that lose the page cache (issue 18): a clean Debian 12 server (test-vm.sh's bootable
# root) with the hub and the agent installed as services, booted in QEMU, and killed hard (SIGKILL
# of QEMU: the guest's page cache and everything it had not flushed are gone, as in a power cut)
# at the moment the plan names, then booted again:
#   backup  mid-backup: a backup of an 8 MB dump is writing objects into the spool
#   flush   mid-outbox-flush: the hub was down for a while, the backlog is draining into it
# After every cut the probe checks, as the technician's tools would: `verify --read-data` clean,
# every listed snapshot restores, outbox.db and hub.db pass SQLite's integrity_check, and every seq
# the agent created is at the hub or still in its outbox (the ledger). Lines "PASS what" /
# "FAIL what", "LEDGER …", "SNAPSHOTS …" and "CUT kind" are for bench/faults/powercut.ts.
#
#   sudo bench/faults/powercut-vm.sh [--bundles DIR] [--plan "backup flush …"] [--seed N] [--keep]
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
. "$REPO/installers/lib/test-root.sh"
PLAN="backup flush"
SEED=$RANDOM
ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --plan) PLAN=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    *) ARGS+=("$1"); shift ;;
  esac
done
parse_test_args "${ARGS[@]}"
command -v qemu-system-x86_64 >/dev/null || { echo "powercut-vm.sh: qemu-system-x86_64 not found (apt-get install qemu-system-x86)" >&2; exit 2; }
RANDOM=$SEED
echo "powercut-vm: plan \"$PLAN\", seed $SEED"

FAILED=0
pristine_root
bootable_root

step "a clean copy of the bootable root, Node.js, the bundles"
copy_root powercut "$BOOTABLE"
cp "$(readlink -f "$(command -v node)")" "$R/usr/bin/node"
if [ -z "$BUNDLES" ]; then
  BUNDLES=$WORK/bundles
  "$REPO/installers/build.sh" --no-compile --out "$BUNDLES" >/dev/null
fi
mkdir -p "$R/root/usb"
cp "$(ls "$BUNDLES"/sentinela-agent-*.tar.gz | head -1)" "$(ls "$BUNDLES"/sentinela-hub-*.tar.gz | head -1)" "$R/root/usb/"
in_root 'cd /root/usb && for f in *.tar.gz; do tar xzf "$f"; done'

step "install the hub and the agent (enrolled at install)"
in_root 'cd /root/usb/sentinela-hub-*/ && ./install.sh' > "$WORK/install.log" 2>&1
cat > "$R/etc/sentinela/hub.yaml" <<'YAML'
hubId: vm-hub
dataDir: /var/lib/sentinela/hub
mqtt:
  listen: { host: 127.0.0.1, port: 1883 }
  allowPlaintext: true
http:
  listen: { host: 127.0.0.1, port: 8080 }
YAML
PORT_HTTP=$(free_port)
sed "s/port: 8080/port: $PORT_HTTP/; s/port: 1883/port: $(free_port)/" "$R/etc/sentinela/hub.yaml" > "$R/etc/sentinela/hub-install.yaml"
in_root 'chgrp sentinela /etc/sentinela/hub-install.yaml && chmod 0640 /etc/sentinela/hub-install.yaml'
serve_hub /etc/sentinela/hub-install.yaml /root/hub-install.log || exit 1
TOKEN=$(site_token hf-cut-0001 "CS Corte de Energia")
# Samples every second and a slow drain: a backlog takes a while to flush. The dump: 8 MB of
# lines, new bytes every time (no schedule: the probe starts the backup).
cat > "$R/etc/sentinela/agent.yaml" <<'YAML'
dataDir: /var/lib/sentinela/agent
hub:
  mqttUrl: mqtt://127.0.0.1:1883
  reconnectSeconds: 1
sampling: { intervalSeconds: 1 }
outbox: { drainPerSecond: 4, resendAfterSeconds: 10 }
backup:
  sources:
    - name: dump
      kind: command
      command: [sh, -c, "seq 1 600000; head -c 2500000 /dev/urandom | base64"]
      tokenizer: lines
      schedule: "0 0 1 1 *"
YAML
in_root "cd /root/usb/sentinela-agent-*/ && ./install.sh --hub http://127.0.0.1:$PORT_HTTP --token $TOKEN" >> "$WORK/install.log" 2>&1
kill "$(cat "$R/run/hub.pid")" 2>/dev/null || true
for _ in $(seq 1 50); do kill -0 "$(cat "$R/run/hub.pid")" 2>/dev/null || break; sleep 0.2; done
rm -f "$R/run/hub.pid" "$R/etc/sentinela/hub-install.yaml"
check "installed with enrolment (credentials.json)" test -f "$R/var/lib/sentinela/agent/credentials.json"
SQLITE_DIR=$(in_root 'dirname "$(find /opt/sentinela/agent -path "*node_modules/better-sqlite3/package.json" | head -1)"')
echo "$PLAN" > "$R/root/powercut-plan"
echo 0 > "$R/root/powercut-step"

step "the probe: one step of the plan per boot"
# The ledger, as the sentinela user (the databases stay its own): created = the outbox's highest
# seq; lost = created, not at the hub and not queued.
cat > "$R/usr/local/lib/powercut-ledger.cjs" <<JS
const Database = require('$SQLITE_DIR');
const o = new Database('/var/lib/sentinela/agent/outbox.db', { readonly: true });
const h = new Database('/var/lib/sentinela/hub/hub.db', { readonly: true });
const stream = o.prepare("SELECT value FROM meta WHERE key = 'stream'").get().value;
const created = o.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'").get()?.seq ?? 0;
const pending = new Set(o.prepare('SELECT seq FROM outbox').all().map((r) => r.seq));
const seqs = h.prepare('SELECT seq FROM messages WHERE stream = ?').all(stream).map((r) => r.seq);
const have = new Set(seqs);
let stored = 0, queued = 0, lost = 0;
for (let s = 1; s <= created; s++) have.has(s) ? stored++ : pending.has(s) ? queued++ : lost++;
const ok = (db) => db.pragma('integrity_check', { simple: true });
console.log('LEDGER created=' + created + ' stored=' + stored + ' queued=' + queued + ' lost=' + lost + ' duplicated=' + (seqs.length - have.size) + ' outbox=' + ok(o) + ' hub=' + ok(h));
JS
install -m 0755 /dev/stdin "$R/root/powercut-probe.sh" <<'PROBE'
#!/bin/bash
# Runs at every boot, as root; its output goes to the serial console.
check() { local what=$1; shift; if "$@" >/dev/null 2>&1; then echo "PASS  $what"; else echo "FAIL  $what"; fi; }
as_sentinela() { setpriv --reuid=sentinela --regid=sentinela --init-groups "$@"; }
CFG=/etc/sentinela/agent.yaml
read -ra PLAN < /root/powercut-plan
STEP=$(cat /root/powercut-step)
echo "== probe: boot $((STEP + 1)), step $STEP of ${#PLAN[@]}, up $(cut -d" " -f1 /proc/uptime) s"
for _ in $(seq 1 240); do
  systemctl is-active --quiet sentinela-hub sentinela-agent && journalctl -u sentinela-hub -o cat | grep -q 'site hf-cut-0001 connected' && break
  sleep 1
done
check "both services came up ($(cut -d" " -f1 /proc/uptime) s after boot)" systemctl is-active sentinela-hub sentinela-agent
if [ "$STEP" -gt 0 ]; then
  WHAT=${PLAN[$((STEP - 1))]}
  systemctl stop sentinela-agent sentinela-hub
  check "after the cut mid-$WHAT: verify --read-data finds no problem" as_sentinela sentinela-agent verify --config $CFG --read-data
  listed=0 restored=0 failed=0
  for id in $(as_sentinela sentinela-agent snapshots --config $CFG --json | node -e 'for (const s of JSON.parse(require("fs").readFileSync(0, "utf8"))) console.log(s.id)'); do
    listed=$((listed + 1))
    if as_sentinela sentinela-agent restore --config $CFG --snapshot "$id" --to-file /tmp/restore.dump --force >/dev/null 2>&1; then restored=$((restored + 1)); else failed=$((failed + 1)); echo "restore of $id failed"; fi
    rm -f /tmp/restore.dump
  done
  echo "SNAPSHOTS listed=$listed restored=$restored failed=$failed"
  check "after the cut mid-$WHAT: every listed snapshot restores ($listed)" test "$failed" = 0
  L=$(as_sentinela node /usr/local/lib/powercut-ledger.cjs)
  echo "$L"
  check "after the cut mid-$WHAT: outbox.db and hub.db pass integrity_check" sh -c "echo '$L' | grep -q 'outbox=ok hub=ok'"
  check "after the cut mid-$WHAT: no message lost, none duplicated" sh -c "echo '$L' | grep -q 'lost=0 duplicated=0'"
  systemctl start sentinela-hub sentinela-agent
fi
if [ "$STEP" -ge "${#PLAN[@]}" ]; then
  echo "== probe: plan done"
  systemctl poweroff
  exit 0
fi
echo $((STEP + 1)) > /root/powercut-step && sync
objects() { find /var/lib/sentinela/agent/repository/objects -type f 2>/dev/null | wc -l; }
case "${PLAN[$STEP]}" in
  backup)
    # One complete snapshot first, so that the check after the cut has one to restore.
    as_sentinela sentinela-agent backup --config $CFG --source dump > /tmp/backup.log 2>&1 || echo "FAIL  a first complete backup"
    before=$(objects)
    as_sentinela sentinela-agent backup --config $CFG --source dump > /tmp/backup.log 2>&1 &
    for _ in $(seq 1 600); do [ "$(objects)" -gt "$before" ] && break; sleep 0.2; done
    echo "CUT-NOW backup (objects in the spool: $before, now $(objects))"
    ;;
  flush)
    systemctl stop sentinela-hub
    sleep 45 # samples pile up in the outbox
    systemctl start sentinela-hub
    for _ in $(seq 1 600); do journalctl -u sentinela-hub -o cat | tail -50 | grep -q 'site hf-cut-0001 connected' && break; sleep 0.2; done
    sleep 2
    echo "CUT-NOW flush ($(as_sentinela node /usr/local/lib/powercut-ledger.cjs))"
    ;;
esac
sleep 600
PROBE
cat > "$R/etc/systemd/system/powercut-probe.service" <<'UNIT'
[Unit]
Description=powercut-vm.sh probe
After=multi-user.target sentinela-hub.service sentinela-agent.service
[Service]
Type=simple
ExecStart=/root/powercut-probe.sh
StandardOutput=tty
StandardError=tty
TTYPath=/dev/ttyS0
[Install]
WantedBy=multi-user.target
UNIT
ln -sf /etc/systemd/system/powercut-probe.service "$R/etc/systemd/system/multi-user.target.wants/powercut-probe.service"
ln -sf /dev/null "$R/etc/systemd/system/serial-getty@ttyS0.service"
echo "/dev/vda / ext4 defaults 0 1" > "$R/etc/fstab"
echo "powercut-vm" > "$R/etc/hostname"
umount "$R/proc"

mkfs.ext4 -q -F -d "$R" "$WORK/disk.img" 2G
KERNEL=$(ls "$R"/boot/vmlinuz-* | head -1)
INITRD=$(ls "$R"/boot/initrd.img-* | head -1)
read -ra STEPS <<< "$PLAN"
for boot in $(seq 0 "${#STEPS[@]}"); do
  step "boot $((boot + 1)) (QEMU, software emulation)"
  START=$(date +%s)
  LOG=$WORK/serial-$boot.log
  # cache=writeback: what the guest flushed survives the kill, what it had not is gone with its RAM.
  qemu-system-x86_64 -accel tcg,thread=multi -cpu max -m 1536 -smp 2 -nographic -no-reboot -nic none \
    -kernel "$KERNEL" -initrd "$INITRD" -append "root=/dev/vda rw console=ttyS0 quiet" \
    -drive "file=$WORK/disk.img,if=virtio,format=raw,cache=writeback" > "$LOG" 2>&1 &
  QPID=$!
  CUT=""
  for _ in $(seq 1 9000); do # up to 30 min: a loaded machine under software emulation is slow
    kill -0 $QPID 2>/dev/null || break
    if grep -aq 'CUT-NOW' "$LOG"; then
      sleep "$((RANDOM % 3)).$((RANDOM % 10))" # a random moment within the next 3 s
      kill -9 $QPID
      CUT=${STEPS[$boot]}
      break
    fi
    sleep 0.2
  done
  kill -9 $QPID 2>/dev/null || true
  wait $QPID 2>/dev/null || true
  sed -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\r//g' "$LOG" > "$WORK/serial-$boot.txt"
  grep -aE '^(== probe|PASS  |FAIL  |LEDGER |SNAPSHOTS |CUT-NOW|restore of )' "$WORK/serial-$boot.txt" || true
  FAILED=$((FAILED + $(grep -ac '^FAIL  ' "$WORK/serial-$boot.txt" || true)))
  echo "boot $((boot + 1)) ran $(( $(date +%s) - START )) s"
  if [ -n "$CUT" ]; then echo "CUT $CUT"; elif [ "$boot" -lt "${#STEPS[@]}" ]; then echo "FAIL  the machine reached the cut mid-${STEPS[$boot]}"; FAILED=$((FAILED + 1)); tail -40 "$WORK/serial-$boot.txt"; break; fi
done
check "the plan ran to its end (every check after the last cut done)" grep -aq '^== probe: plan done' "$WORK/serial-${#STEPS[@]}.txt"

step "result"
if [ "$FAILED" = 0 ]; then echo "powercut-vm: all checks passed"; else echo "powercut-vm: $FAILED checks FAILED"; exit 1; fi
