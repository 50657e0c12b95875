# Shared by the clean-root tests (test-chroot.sh, test-vm.sh): output helpers, the Debian mirror
# from this machine's apt configuration, the cached pristine root, and a shell inside the root ($R).
# shellcheck shell=bash

# Both scripts take: [--bundles DIR] [--keep]; they run as root.
parse_test_args() {
  BUNDLES=""
  KEEP=0
  while [ $# -gt 0 ]; do
    case "$1" in
      --bundles) BUNDLES=$2; shift 2 ;;
      --keep) KEEP=1; shift ;;
      *) echo "$(basename "$0"): unknown option $1" >&2; exit 2 ;;
    esac
  done
  [ "$(id -u)" = 0 ] || { echo "$(basename "$0"): run as root" >&2; exit 2; }
}

step() { printf '\n== %s\n' "$*"; }
check() { # check DESCRIPTION COMMAND…: prints PASS/FAIL, counts failures
  local what=$1; shift
  if "$@" >/dev/null 2>&1; then echo "PASS  $what"; else echo "FAIL  $what"; FAILED=$((FAILED + 1)); fi
}

# The mirror apt uses for Debian 12 itself (a source whose suite is exactly "bookworm"), never a
# host name written here: deb822 stanzas in sources.list.d/*.sources, then one-line "deb" entries.
debian_mirror() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk 'BEGIN { RS = "" }
      /(^|\n)Suites:[^\n]*[ \t]bookworm([ \t]|\n|$)/ && !/(^|\n)Enabled:[ \t]*no/ {
        if (match($0, /(^|\n)URIs:[ \t]*[^ \t\n]+/)) { u = substr($0, RSTART, RLENGTH); sub(/^\n?URIs:[ \t]*/, "", u); print u; exit }
      }' "$f"
  done
  awk '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ } if ($(i + 1) == "bookworm") { print $i; exit } }' \
    /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true
}

CACHE=/var/tmp/sentinela-chroot-cache
PRISTINE=$CACHE/bookworm

# The pristine Debian 12 root (minbase with systemd), made once and cached.
pristine_root() {
  if [ ! -x "$PRISTINE/usr/bin/systemd-analyze" ]; then
    step "debootstrap (first run only)"
    command -v debootstrap >/dev/null || apt-get install -y debootstrap
    MIRROR=$(debian_mirror | head -1)
    [ -n "$MIRROR" ] || { echo "$(basename "$0"): no source for the suite bookworm in /etc/apt/sources.list or /etc/apt/sources.list.d/: cannot debootstrap" >&2; exit 1; }
    echo "mirror (from the apt configuration): $MIRROR"
    mkdir -p "$CACHE"
    # Into a folder of its own, renamed when complete: an interrupted run leaves no half root to reuse.
    NEW=$(mktemp -d "$CACHE/bookworm.new.XXXXXX")
    chmod 0755 "$NEW" # the root's /: mktemp makes it 0700, which locks the sentinela user out of everything
    debootstrap --variant=minbase --include=systemd,systemd-sysv,sudo,ca-certificates,procps bookworm "$NEW" "$MIRROR"
    rm -rf "$PRISTINE"
    mv "$NEW" "$PRISTINE"
  fi
}

# A fresh copy of the root FROM in a work folder (WORK, R = the root) with /proc mounted; on exit,
# whatever the test started there (a hub, a booted machine) is stopped, /proc unmounted and the folder removed (--keep keeps it).
copy_root() {
  WORK=$(mktemp -d "/var/tmp/sentinela-$1-XXXXXX")
  R=$WORK/root
  trap cleanup_root EXIT
  trap 'exit 143' TERM INT # a stopped test cleans up too
  cp -a "$2" "$R"
  mount -t proc proc "$R/proc"
}
cleanup_root() {
  if [ -n "${VM_PID:-}" ]; then kill -9 "$VM_PID" 2>/dev/null || true; fi
  if [ -f "$R/run/hub.pid" ]; then kill "$(cat "$R/run/hub.pid")" 2>/dev/null || true; fi
  umount "$R/proc" 2>/dev/null || true
  if [ "$KEEP" = 1 ]; then echo "kept: $WORK"; else rm -rf "$WORK"; fi
}

# A login-less root shell inside $R, with a clean environment.
in_root() { chroot "$R" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root /bin/bash -c "$1"; }

# A free TCP port on this machine's loopback (the chroot shares its network).
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

# serve_hub CONFIG LOG: the hub serving inside the root as sentinela (pid in $R/run/hub.pid, which
# cleanup_root stops). Waits up to 2 min (a loaded 2-core machine is slow to start it), less when
# the hub has exited; returns 1, with the end of its log, when it never said it was ready.
serve_hub() {
  in_root "setpriv --reuid=sentinela --regid=sentinela --init-groups sentinela-hub serve --config $1 > $2 2>&1 & echo \$! > /run/hub.pid"
  for _ in $(seq 1 600); do
    grep -q '"hub ready"' "$R$2" 2>/dev/null && return 0
    kill -0 "$(cat "$R/run/hub.pid")" 2>/dev/null || break
    sleep 0.2
  done
  echo "the hub said:"
  tail -20 "$R$2"
  return 1
}

# site_token ID NAME: adds a site with the hub's CLI inside the root; prints its enrolment token.
site_token() {
  in_root "setpriv --reuid=sentinela --regid=sentinela --init-groups sentinela-hub sites add --config /etc/sentinela/hub.yaml --id $1 --name \"$2\" --json" |
    node -pe 'JSON.parse(require("fs").readFileSync(0,"utf8")).token'
}

# The bootable root (BOOTABLE): the pristine one plus a kernel made for virtual machines, D-Bus,
# polkitd and NUT, made once and cached (test-vm.sh, bench/faults/powercut-vm.sh).
BOOTABLE=$CACHE/bookworm-vm
bootable_root() {
  if [ ! -e "$BOOTABLE/usr/lib/polkit-1/polkitd" ] || [ ! -x "$BOOTABLE/lib/nut/dummy-ups" ] || ! ls "$BOOTABLE"/boot/vmlinuz-* >/dev/null 2>&1; then
    step "a bootable root (first run only): kernel, D-Bus, polkitd, NUT"
    NEW=$(mktemp -d "$CACHE/bookworm-vm.new.XXXXXX")
    rmdir "$NEW"
    cp -a "$PRISTINE" "$NEW"
    mount -t proc proc "$NEW/proc"
    chroot "$NEW" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
      /bin/bash -c 'apt-get update -q && apt-get install -y -q --no-install-recommends linux-image-cloud-amd64 dbus polkitd nut-server && apt-get clean' || { umount "$NEW/proc"; exit 1; }
    umount "$NEW/proc"
    rm -rf "$BOOTABLE"
    mv "$NEW" "$BOOTABLE"
  fi
}
