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
# "FAIL what", "LEDGER …", "SNAPSHOTS …" and "CUT kind queued=N" (rows in the outbox a moment
# before the cut) are for bench/faults/powercut.ts. The bootable root is cached in
# /var/tmp/sentinela-chroot-cache (installers/lib/test-root.sh): the first run builds it.
#
#   sudo bench/faults/powercut-vm.sh [--bundles DIR] [--plan "backup flush …"] [--seed N] [--keep]
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
. "$REPO/installers/lib/vm-boot.sh"
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
vm_prerequisites powercut-vm.sh
RANDOM=$SEED
echo "powercut-vm: plan \"$PLAN\", seed $SEED"

FAILED=0
vm_root powercut --no-compile

step "install the hub and the agent (enrolled at install)"
vm_install_hub
# Samples every second and a slow drain: a backlog takes a while to flush. The dump: 8 MB of
# lines, new bytes every time (no schedule: the probe starts the backup).
cat > "$R/etc/sentinela/agent.yaml" <<'YAML'
dataDir: /var/lib/sentinela/agent
hub:
  mqttUrl: mqtt://127.0.0.1:1883
  reconnectSeconds: 1
sampling: { intervalSeconds: 1 }
outbox: { drainPerSecond: 3, resendAfterSeconds: 10 }
backup:
  sources:
    - name: dump
      kind: command
      command: [sh, -c, "seq 1 600000; head -c 2500000 /dev/urandom | base64"]
      tokenizer: lines
      schedule: "0 0 1 1 *"
YAML
vm_install_agent hf-cut-0001 "CS Corte de Energia"
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
num() { sed -n "s/.*\\b$1=\\([0-9]*\\).*/\\1/p" <<< "$2"; }
ledger() { as_sentinela node /usr/local/lib/powercut-ledger.cjs; }
# The ledger just before a cut, on disk before the line that asks for the cut.
before_cut() { ledger > /root/powercut-before && sync && echo "CUT-NOW $1 $(cat /root/powercut-before)"; }
CFG=/etc/sentinela/agent.yaml
read -ra PLAN < /root/powercut-plan
STEP=$(cat /root/powercut-step)
echo "== probe: boot $((STEP + 1)), step $STEP of ${#PLAN[@]}, up $(cut -d" " -f1 /proc/uptime) s"
# Up to 10 min: under software emulation on a loaded machine (load ~20) the hub's first connection
# from the agent came 86-226 s after the probe started (boots 1-4 of a run on 2026-12-03), too
# close to the 4 min this waited before.
for _ in $(seq 1 600); do
  systemctl is-active --quiet sentinela-hub sentinela-agent && journalctl -b -u sentinela-hub -o cat | grep -q 'site hf-cut-0001 connected' && break
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
  B=$(cat /root/powercut-before)
  check "after the cut mid-$WHAT: outbox.db and hub.db pass integrity_check" sh -c "echo '$L' | grep -q 'outbox=ok hub=ok'"
  check "after the cut mid-$WHAT: no message lost, none duplicated" sh -c "echo '$L' | grep -q 'lost=0 duplicated=0'"
  # What both databases held just before the cut (synced to disk then) is still there after it.
  check "after the cut mid-$WHAT: the outbox intact (created $(num created "$B") before the cut, $(num created "$L") after)" test "$(num created "$L")" -ge "$(num created "$B")"
  check "after the cut mid-$WHAT: the hub kept what it had acked (stored $(num stored "$B") before the cut, $(num stored "$L") after)" test "$(num stored "$L")" -ge "$(num stored "$B")"
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
    # The ledger before the backup starts (a node process takes seconds here: taken after the
    # objects appear, it could outlast the backup).
    ledger > /root/powercut-before && sync
    before=$(objects)
    as_sentinela sentinela-agent backup --config $CFG --source dump > /tmp/backup.log 2>&1 &
    for _ in $(seq 1 600); do [ "$(objects)" -gt "$before" ] && break; sleep 0.2; done
    echo "CUT-NOW backup (objects in the spool: $before, now $(objects)) $(cat /root/powercut-before)"
    ;;
  flush)
    systemctl stop sentinela-hub
    sleep 60 # samples pile up in the outbox
    since=$(date +%s)
    systemctl start sentinela-hub
    for _ in $(seq 1 600); do journalctl -b -u sentinela-hub -o cat --since "@$since" | grep -q 'site hf-cut-0001 connected' && break; sleep 0.2; done
    # The backlog (a minute of samples at 3 a second) is draining now: the CUT-NOW line says how
    # many rows were still queued a moment before the cut.
    before_cut flush
    ;;
esac
sleep 600
PROBE
vm_probe_unit powercut-probe /root/powercut-probe.sh "sentinela-hub.service sentinela-agent.service" simple powercut-vm
vm_disk
read -ra STEPS <<< "$PLAN"
for boot in $(seq 0 "${#STEPS[@]}"); do
  step "boot $((boot + 1)) (QEMU, software emulation)"
  START=$(date +%s)
  LOG=$WORK/serial-$boot.log
  vm_start "$LOG" writeback
  CUT=""
  for _ in $(seq 1 9000); do # up to 30 min: a loaded machine under software emulation is slow
    kill -0 "$VM_PID" 2>/dev/null || break
    if grep -aq 'CUT-NOW' "$LOG"; then
      sleep "$((RANDOM % 3)).$((RANDOM % 10))" # a random moment within the next 3 s
      kill -9 "$VM_PID"
      CUT=${STEPS[$boot]}
      break
    fi
    sleep 0.2
  done
  kill -9 "$VM_PID" 2>/dev/null || true
  wait "$VM_PID" 2>/dev/null || true
  vm_serial_text "$LOG" "$WORK/serial-$boot.txt"
  grep -aE '^(== probe|PASS  |FAIL  |LEDGER |SNAPSHOTS |CUT-NOW|restore of )' "$WORK/serial-$boot.txt" || true
  FAILED=$((FAILED + $(grep -ac '^FAIL  ' "$WORK/serial-$boot.txt" || true)))
  echo "boot $((boot + 1)) ran $(( $(date +%s) - START )) s"
  if [ -n "$CUT" ]; then echo "CUT $CUT $(grep -a -m1 '^CUT-NOW' "$WORK/serial-$boot.txt" | grep -o 'queued=[0-9]*')"; elif [ "$boot" -lt "${#STEPS[@]}" ]; then echo "FAIL  the machine reached the cut mid-${STEPS[$boot]}"; FAILED=$((FAILED + 1)); tail -40 "$WORK/serial-$boot.txt"; break; fi
done
check "the plan ran to its end (every check after the last cut done)" grep -aq '^== probe: plan done' "$WORK/serial-${#STEPS[@]}.txt"

step "result"
if [ "$FAILED" = 0 ]; then echo "powercut-vm: all checks passed"; else echo "powercut-vm: $FAILED checks FAILED"; exit 1; fi
