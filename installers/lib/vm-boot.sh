# The booted Debian 12 server shared by installers/test-vm.sh and bench/faults/powercut-vm.sh: the
# cached bootable root (test-root.sh), both bundles installed through a chroot as a technician
# would (the agent enrolled at install against a hub serving in the root), a probe unit whose
# output goes to the serial console, a disk image, and QEMU booting it (software emulation: KVM
# does not work here). Each caller writes its own agent.yaml and probe between these steps.
# shellcheck shell=bash
. "$(dirname "${BASH_SOURCE[0]}")/test-root.sh"

# vm_prerequisites SCRIPT: QEMU, and debootstrap unless the bootable root is cached already; a
# missing one stops the caller with the package to install (never a silent skip).
vm_prerequisites() {
  command -v qemu-system-x86_64 >/dev/null || { echo "$1: qemu-system-x86_64 not found (apt-get install qemu-system-x86)" >&2; exit 2; }
  if [ ! -d "$BOOTABLE" ] && ! command -v debootstrap >/dev/null; then
    echo "$1: debootstrap not found and no cached root in $BOOTABLE (apt-get install debootstrap)" >&2
    exit 2
  fi
}

# vm_root NAME [BUILD_ARGS…]: a fresh copy of the bootable root ($WORK, $R), with this machine's
# Node.js and both bundles unpacked in /root/usb (built with build.sh BUILD_ARGS unless --bundles).
vm_root() {
  local name=$1; shift
  pristine_root
  bootable_root
  step "a clean copy of the bootable root, Node.js, the bundles"
  copy_root "$name" "$BOOTABLE"
  cp "$(readlink -f "$(command -v node)")" "$R/usr/bin/node"
  if [ -z "$BUNDLES" ]; then
    BUNDLES=$WORK/bundles
    "$(dirname "${BASH_SOURCE[0]}")/../build.sh" "$@" --out "$BUNDLES" >/dev/null
  fi
  mkdir -p "$R/root/usb"
  cp "$(ls "$BUNDLES"/sentinela-agent-*.tar.gz | head -1)" "$(ls "$BUNDLES"/sentinela-hub-*.tar.gz | head -1)" "$R/root/usb/"
  in_root 'cd /root/usb && for f in *.tar.gz; do tar xzf "$f"; done'
}

# vm_install_hub: the hub installed, with the machine's own config (its ports are its own; plain
# MQTT on loopback as in the demo), and serving in the root for the agent's enrolment ($PORT_HTTP).
vm_install_hub() {
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
  # Enrolment needs the hub's API: a hub serving in the chroot for the install, as test-chroot.sh does.
  PORT_HTTP=$(free_port)
  sed "s/port: 8080/port: $PORT_HTTP/; s/port: 1883/port: $(free_port)/" "$R/etc/sentinela/hub.yaml" > "$R/etc/sentinela/hub-install.yaml"
  in_root 'chgrp sentinela /etc/sentinela/hub-install.yaml && chmod 0640 /etc/sentinela/hub-install.yaml'
  serve_hub /etc/sentinela/hub-install.yaml /root/hub-install.log || exit 1
}

# vm_install_agent SITE_ID NAME: a site on the hub, the agent installed and enrolled with its token
# (the caller has written /etc/sentinela/agent.yaml), then the install hub stopped.
vm_install_agent() {
  local token
  token=$(site_token "$1" "$2")
  in_root "cd /root/usb/sentinela-agent-*/ && ./install.sh --hub http://127.0.0.1:$PORT_HTTP --token $token" >> "$WORK/install.log" 2>&1
  kill "$(cat "$R/run/hub.pid")" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$(cat "$R/run/hub.pid")" 2>/dev/null || break; sleep 0.2; done
  rm -f "$R/run/hub.pid" "$R/etc/sentinela/hub-install.yaml"
  check "installed with enrolment (credentials.json)" test -f "$R/var/lib/sentinela/agent/credentials.json"
}

# vm_probe_unit UNIT SCRIPT AFTER TYPE HOSTNAME: the probe (already at SCRIPT in the root) as a unit
# started at boot after the units AFTER names, writing to the serial console (no login prompt there
# to reset the terminal under it); then fstab and the host name, and the root ready to be imaged.
vm_probe_unit() {
  cat > "$R/etc/systemd/system/$1.service" <<UNIT
[Unit]
Description=$1 (the checks of the booted machine)
After=multi-user.target $3
[Service]
Type=$4
ExecStart=$2
StandardOutput=tty
StandardError=tty
TTYPath=/dev/ttyS0
[Install]
WantedBy=multi-user.target
UNIT
  ln -sf "/etc/systemd/system/$1.service" "$R/etc/systemd/system/multi-user.target.wants/$1.service"
  ln -sf /dev/null "$R/etc/systemd/system/serial-getty@ttyS0.service"
  echo "/dev/vda / ext4 defaults 0 1" > "$R/etc/fstab"
  echo "$5" > "$R/etc/hostname"
  umount "$R/proc"
}

# vm_disk: the root as an ext4 disk image ($VM_DISK), its kernel and initrd.
vm_disk() {
  VM_DISK=$WORK/disk.img
  mkfs.ext4 -q -F -d "$R" "$VM_DISK" 2G
  VM_KERNEL=$(ls "$R"/boot/vmlinuz-* | head -1)
  VM_INITRD=$(ls "$R"/boot/initrd.img-* | head -1)
}

# vm_start LOG [CACHE]: boots the disk image in the background ($VM_PID), serial console to LOG.
# CACHE is QEMU's disk cache mode: with writeback, what the guest flushed survives a kill of QEMU
# and what it had not is gone with its RAM, as in a power cut.
vm_start() {
  qemu-system-x86_64 -accel tcg,thread=multi -cpu max -m 1536 -smp 2 -nographic -no-reboot -nic none \
    -kernel "$VM_KERNEL" -initrd "$VM_INITRD" -append "root=/dev/vda rw console=ttyS0 quiet" \
    -drive "file=$VM_DISK,if=virtio,format=raw,cache=${2:-writeback}" > "$1" 2>&1 &
  VM_PID=$!
}

# vm_serial_text LOG TXT: the console's lines without its escape sequences.
vm_serial_text() {
  sed -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\r//g' "$1" > "$2"
}
