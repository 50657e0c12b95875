#!/usr/bin/env bash
# Boots a clean Debian 12 server with both bundles installed and checks what a chroot cannot: the
# units running under a live systemd (as the sentinela user, hardened as written), logs in the
# journal, the agent reaching the hub, and a safe shutdown end to end: the UPS (NUT's dummy-ups
# driver behind Debian's own upsd) goes on battery and low, and the agent itself stops the
# clinical unit its config names and powers the machine off, both through a live polkitd, which
# refuses its user anything else.
#
# The root is test-chroot.sh's cached Debian 12 root plus a kernel, D-Bus, polkitd and NUT (cached
# too, from the mirror in this machine's apt configuration), installed through a chroot as a
# technician would, then booted in QEMU (software emulation: KVM does not work here). A probe
# unit inside runs the checks and prints "PASS what" / "FAIL what" lines on the serial console,
# then cuts the stand-in UPS's mains and follows the agent's journal there until the power-off.
#
#   sudo installers/test-vm.sh [--bundles DIR] [--keep]
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib/vm-boot.sh"
parse_test_args "$@"
vm_prerequisites test-vm.sh

FAILED=0
vm_root vm

step "install the hub, a site, the agent enrolled at install (with power rights)"
vm_install_hub
cat > "$R/etc/sentinela/agent.yaml" <<'YAML'
dataDir: /var/lib/sentinela/agent
hub:
  mqttUrl: mqtt://127.0.0.1:1883
power:
  source: { kind: nut, host: 127.0.0.1, port: 3493, ups: ups, username: sentinela, passwordFile: /etc/sentinela/upsd.password }
  pollSeconds: 1
  debounceSeconds: 1
  lowBattery: { persistSeconds: 1 }
  secondaryWaitSeconds: 0
  # dummy-ups has no outlet commands; power.test covers them against NUT.
  outletCommands: []
  preShutdown:
    - name: stop the clinical app
      command: [systemctl, stop, clinical-app]
  shutdownCommand: [systemctl, poweroff]
YAML
# NUT as a technician sets it up for a UPS on USB, with the dummy-ups driver standing in for the UPS.
printf 'MODE=standalone\n' > "$R/etc/nut/nut.conf"
printf '[ups]\n  driver = dummy-ups\n  port = /etc/nut/ups.dev\n  desc = "stand-in UPS"\n' > "$R/etc/nut/ups.conf"
printf 'ups.status: OL\nbattery.charge: 100\nbattery.runtime: 1800\n' > "$R/etc/nut/ups.dev"
printf 'LISTEN 127.0.0.1 3493\n' > "$R/etc/nut/upsd.conf"
printf '[sentinela]\n  password = vm-secret\n  upsmon primary\n  actions = SET FSD\n  instcmds = ALL\n' > "$R/etc/nut/upsd.users"
in_root 'chown root:nut /etc/nut/*.conf /etc/nut/upsd.users /etc/nut/ups.dev && chmod 0640 /etc/nut/*.conf /etc/nut/upsd.users /etc/nut/ups.dev'
printf 'vm-secret\n' > "$R/etc/sentinela/upsd.password"
in_root 'chown sentinela:sentinela /etc/sentinela/upsd.password && chmod 0600 /etc/sentinela/upsd.password'

vm_install_agent hf-vm-0001 "CS Maquina Virtual"
check "polkit rule written for the power commands" grep -q clinical-app "$R/etc/polkit-1/rules.d/50-sentinela-agent.rules"

step "the machine: a stand-in clinical app, the probe unit, fstab"
cat > "$R/etc/systemd/system/clinical-app.service" <<'UNIT'
[Unit]
Description=Stand-in for the clinical application (the agent may stop it before a power-off)
[Service]
ExecStart=/bin/sleep infinity
[Install]
WantedBy=multi-user.target
UNIT
ln -sf /etc/systemd/system/clinical-app.service "$R/etc/systemd/system/multi-user.target.wants/clinical-app.service"
install -m 0755 /dev/stdin "$R/root/vm-probe.sh" <<'PROBE'
#!/bin/bash
# Runs inside the booted machine as root; its output goes to the serial console.
check() { local what=$1; shift; if "$@" >/dev/null 2>&1; then echo "PASS  $what"; else echo "FAIL  $what"; fi; }
as_agent() { systemd-run --quiet --wait --collect --uid=sentinela --gid=sentinela -p NoNewPrivileges=yes "$@"; }
echo "== probe: $(uname -r), $(systemctl --version | head -1)"
for _ in $(seq 1 240); do # a loaded CI machine under software emulation is slow
  systemctl is-active --quiet sentinela-hub sentinela-agent && journalctl -u sentinela-hub -o cat | grep -q 'site hf-vm-0001 connected' && break
  sleep 1
done
systemctl --no-pager --lines=0 status sentinela-hub sentinela-agent clinical-app | grep -E '●|Active:|Main PID:' || true
check "sentinela-hub active under systemd" systemctl is-active sentinela-hub
check "sentinela-agent active under systemd" systemctl is-active sentinela-agent
APID=$(systemctl show -p MainPID --value sentinela-agent)
HPID=$(systemctl show -p MainPID --value sentinela-hub)
check "the agent's process runs as sentinela" test "$(ps -o user= -p "$APID")" = sentinela
check "the hub's process runs as sentinela" test "$(ps -o user= -p "$HPID")" = sentinela
check "the agent runs with NoNewPrivileges" grep -q '^NoNewPrivs:[[:space:]]*1' "/proc/$APID/status"
# Writes tried as root inside the agent's own mount namespace: only what its unit leaves writable is.
in_agent_ns() { nsenter -t "$APID" -m sh -c "touch $1/.sentinela-probe && rm $1/.sentinela-probe"; }
check "outside the agent's namespace, root may write to /etc and /usr (the control)" sh -c 'touch /etc/.p /usr/.p && rm /etc/.p /usr/.p'
check "ProtectSystem=strict in force: /etc and /usr are read-only for the agent" sh -c "! nsenter -t $APID -m touch /etc/.sentinela-probe 2>/dev/null && ! nsenter -t $APID -m touch /usr/.sentinela-probe 2>/dev/null"
check "ReadWritePaths: the agent's data folder is writable for it" in_agent_ns /var/lib/sentinela/agent
check "PrivateTmp: the agent has a /tmp of its own" grep -qE ' /tmp [^ ]*' "/proc/$APID/mountinfo"
check "the hub logged the site's connection to the journal" sh -c "journalctl -u sentinela-hub -o cat | grep -q 'site hf-vm-0001 connected'"
check "the agent logs to the journal" sh -c "journalctl -u sentinela-agent -o cat | grep -q ."
check "NUT serves the stand-in UPS on mains (upsc: OL)" sh -c 'for i in $(seq 1 90); do upsc ups@127.0.0.1 ups.status 2>/dev/null | grep -qx OL && exit 0; sleep 1; done; exit 1'
check "the clinical app runs" systemctl is-active clinical-app
check "polkitd answers (D-Bus activated)" sh -c "busctl --system status org.freedesktop.PolicyKit1 >/dev/null 2>&1 || pkcheck --version"
as_agent systemctl stop sentinela-hub 2>/dev/null
check "the agent's user may not stop another unit (sentinela-hub stays active)" systemctl is-active sentinela-hub
sleep 3 # a few polls of the UPS on mains
echo "== probe: mains fails and the battery runs low (ups.status OB LB): the agent's turn"
# What the agent and the clinical unit log from here on, on this console, up to the power-off.
journalctl -f -n 0 -o cat -u sentinela-agent -u clinical-app | grep --line-buffered -E 'power\.|[Ss]hutting|[Ss]top|clinical' | sed -u 's/^/journal: /' &
printf 'ups.status: OB LB\nbattery.charge: 5\nbattery.runtime: 60\n' > /etc/nut/ups.dev.new && chown root:nut /etc/nut/ups.dev.new && chmod 0640 /etc/nut/ups.dev.new && mv /etc/nut/ups.dev.new /etc/nut/ups.dev
sleep 150
echo "FAIL  the agent shut the machine down by itself"
systemctl poweroff -i
PROBE
vm_probe_unit sentinela-vm-probe /root/vm-probe.sh "sentinela-hub.service sentinela-agent.service clinical-app.service" oneshot sentinela-vm

step "boot (QEMU, software emulation)"
vm_disk
START=$(date +%s)
vm_start "$WORK/serial.log" writeback
# Up to 10 min, then QEMU is killed (exit 124, as timeout(1) would say).
QEMU=124
for _ in $(seq 1 3000); do
  if ! kill -0 "$VM_PID" 2>/dev/null; then
    set +e
    wait "$VM_PID"
    QEMU=$?
    set -e
    break
  fi
  sleep 0.2
done
kill -9 "$VM_PID" 2>/dev/null || true
echo "the machine ran $(( $(date +%s) - START )) s (qemu exit $QEMU)"
# The probe's lines, without the console's escape sequences.
vm_serial_text "$WORK/serial.log" "$WORK/serial.txt"
grep -E '^(== probe|PASS  |FAIL  )|Active:|Main PID:' "$WORK/serial.txt" || true
FAILED=$((FAILED + $(grep -c '^FAIL  ' "$WORK/serial.txt" || true)))
check "the probe ran in the booted machine" grep -q '^== probe: mains fails' "$WORK/serial.txt"
# In the order they happened: the agent decided, stopped the clinical unit (through polkit), then
# its shutdown command (systemctl poweroff as sentinela, through polkit) powered the machine off.
order_ok() { # order_ok PATTERN…: each pattern found on a line after the previous one's
  local from=1 p n
  for p in "$@"; do
    n=$(tail -n +"$from" "$WORK/serial.txt" | grep -n -m1 -E "$p" | cut -d: -f1) || return 1
    [ -n "$n" ] || return 1
    from=$((from + n))
  done
}
check "on battery and low: the agent started a safe shutdown" order_ok '^== probe: mains fails' '^journal: .*Shutting this server down safely'
check "the agent stopped the clinical app first (power.preShutdown, through polkit)" order_ok '^== probe: mains fails' '^journal: .*(Stopped|Stopping) .*clinical' 'reboot: Power down'
check "then its shutdown command powered the machine off (systemctl poweroff as sentinela, through polkit)" \
  sh -c "[ $QEMU = 0 ] && grep -q 'reboot: Power down' '$WORK/serial.txt' && ! grep -q '^FAIL  the agent shut the machine down' '$WORK/serial.txt'"
if [ "$FAILED" != 0 ]; then echo "--- serial console (last 60 lines)"; tail -60 "$WORK/serial.txt"; fi

step "result"
if [ "$FAILED" = 0 ]; then echo "test-vm: all checks passed"; else echo "test-vm: $FAILED checks FAILED"; exit 1; fi
