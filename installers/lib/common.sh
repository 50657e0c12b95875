# Shared by installers/agent/install.sh and installers/hub/install.sh (sourced, not run).
# Debian 12 / Ubuntu 22.04+. Every path below is under $ROOT ("" for a real install; --root DIR
# installs into a folder, for tests and for preparing an image).
#
# Layout it makes:
#   /opt/sentinela/<program>/<version>/     the release (app/, docs/, examples/, release.env)
#   /opt/sentinela/<program>/current        → <version> (relative symlink, switched atomically)
#   /usr/local/bin/sentinela-<program>      wrapper: the recorded Node.js + current's CLI
#   /etc/sentinela/<program>.yaml           config (from the example when absent; root:sentinela 0640)
#   /var/lib/sentinela/<program>/           data (sentinela:sentinela 0750), never touched by upgrades
#   /etc/systemd/system/sentinela-<program>.service (+ .service.d/install.conf)
#   /etc/polkit-1/rules.d/50-sentinela-agent.rules   (agent with power: only) the agent's power rights

set -euo pipefail

BUNDLE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck disable=SC1091
. "$BUNDLE/release.env"

ROOT=""
FORCE=0
UNINSTALL=0
PURGE=0
NO_START=0
HUB_URL=""
TOKEN=""
NODE_BIN=""
USER_NAME=sentinela

say() { printf 'sentinela-%s install: %s\n' "$PROGRAM" "$*"; }
warn() { printf 'sentinela-%s install: WARNING: %s\n' "$PROGRAM" "$*" >&2; }
die() { printf 'sentinela-%s install: ERROR: %s\n' "$PROGRAM" "$*" >&2; exit 1; }

usage() {
  cat <<USAGE
usage: ./install.sh [options]            install or upgrade sentinela-$PROGRAM $VERSION
       ./install.sh --uninstall [--purge] remove it (config and data stay unless --purge)

options:
  --root DIR        install under DIR instead of / (tests, image preparation): no service is started
  --force           install even over a newer release (a downgrade); the program itself still
                    refuses a database written by a newer release, so no data is lost
  --no-start        do not start (or restart) the service
  --node PATH       the Node.js binary to use (default: node in PATH)
USAGE
  if [ "$PROGRAM" = agent ]; then
    cat <<USAGE
  --hub URL --token TOKEN
                    enrol this site with the hub in the same step (sentinela-agent enroll, run as
                    the sentinela user); the token comes from "sentinela-hub sites add" on the hub
USAGE
  fi
  cat <<USAGE
  --uninstall       stop and remove the service, the program and the wrapper
  --purge           with --uninstall: also remove /etc/sentinela/$PROGRAM.yaml and /var/lib/sentinela/$PROGRAM

Needs Node.js >= $NODE_MIN, major version $NODE_MAJOR (the native SQLite addon is built for Node ABI $NODE_ABI).
USAGE
}

parse_args() {
  while [ $# -gt 0 ]; do
    case "$1" in
      --root) ROOT=${2%/}; shift 2 ;;
      --force) FORCE=1; shift ;;
      --uninstall) UNINSTALL=1; shift ;;
      --purge) PURGE=1; shift ;;
      --no-start) NO_START=1; shift ;;
      --node) NODE_BIN=$2; shift 2 ;;
      --hub) HUB_URL=$2; shift 2 ;;
      --token) TOKEN=$2; shift 2 ;;
      -h|--help) usage; exit 0 ;;
      *) usage >&2; die "unknown option $1" ;;
    esac
  done
  if [ "$PROGRAM" != agent ] && { [ -n "$HUB_URL" ] || [ -n "$TOKEN" ]; }; then die "--hub and --token are for the agent"; fi
  if { [ -n "$HUB_URL" ] && [ -z "$TOKEN" ]; } || { [ -z "$HUB_URL" ] && [ -n "$TOKEN" ]; }; then die "--hub and --token go together"; fi
  if [ "$PURGE" = 1 ] && [ "$UNINSTALL" = 0 ]; then die "--purge goes with --uninstall"; fi
  if [ -n "$ROOT" ]; then
    mkdir -p "$ROOT"
    ROOT=$(cd "$ROOT" && pwd)
    [ "$ROOT" = / ] && ROOT=""
  fi
  [ "$(id -u)" = 0 ] || die "run as root (sudo ./install.sh …)"

  OPT_DIR="$ROOT/opt/sentinela/$PROGRAM"
  RELEASE_DIR="$OPT_DIR/$VERSION"
  ETC_DIR="$ROOT/etc/sentinela"
  CONFIG="$ETC_DIR/$PROGRAM.yaml"
  WRAPPER="$ROOT/usr/local/bin/sentinela-$PROGRAM"
  UNIT_NAME="sentinela-$PROGRAM.service"
  UNIT="$ROOT/etc/systemd/system/$UNIT_NAME"
  DROPIN_DIR="$UNIT.d"
}

# A path of the target system as seen from here: under $ROOT. A path already under $ROOT (a config
# written for a --root test, whose programs run from outside the root) is taken as it is.
target() {
  case "$1" in
    "$ROOT"/*) [ -n "$ROOT" ] && { printf '%s\n' "$1"; return; } ;;
  esac
  printf '%s%s\n' "$ROOT" "$1"
}

# Is systemd running this very system (not a chroot, not --root)?
systemd_live() { [ -z "$ROOT" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null; }

# Node.js: >= NODE_MIN and the major (ABI) the native addon was built for. Checked before anything changes.
check_node() {
  if [ -z "$NODE_BIN" ]; then NODE_BIN=$(command -v node || true); fi
  [ -n "$NODE_BIN" ] && [ -x "$NODE_BIN" ] || die "Node.js not found. Install Node.js $NODE_MAJOR (>= $NODE_MIN), e.g. from the USB stick's nodejs .deb, or pass --node PATH."
  NODE_BIN=$(readlink -f "$NODE_BIN")
  local v abi
  v=$("$NODE_BIN" -p 'process.versions.node') || die "$NODE_BIN does not run"
  abi=$("$NODE_BIN" -p 'process.versions.modules')
  if ! printf '%s\n%s\n' "$NODE_MIN" "$v" | sort -V -C; then
    die "Node.js $v at $NODE_BIN is too old: sentinela-$PROGRAM $VERSION needs >= $NODE_MIN, major $NODE_MAJOR (Debian 12's own nodejs is 18: install Node.js $NODE_MAJOR)."
  fi
  if [ "$abi" != "$NODE_ABI" ]; then
    die "Node.js $v (ABI $abi) at $NODE_BIN cannot load this bundle's SQLite addon, built for Node.js $NODE_MAJOR (ABI $NODE_ABI): install Node.js $NODE_MAJOR, or use the bundle built for your Node.js."
  fi
  say "Node.js $v at $NODE_BIN"
}

installed_version() {
  if [ -L "$OPT_DIR/current" ]; then basename "$(readlink "$OPT_DIR/current")"; fi
}

# Refuses a downgrade (the installed release is newer than this bundle) unless --force.
check_downgrade() {
  local cur
  cur=$(installed_version)
  [ -n "$cur" ] || return 0
  if [ "$cur" = "$VERSION" ]; then say "reinstalling $VERSION"; return 0; fi
  if printf '%s\n%s\n' "$VERSION" "$cur" | sort -V -C; then
    # $VERSION sorts before $cur: a downgrade.
    if [ "$FORCE" != 1 ]; then
      die "sentinela-$PROGRAM $cur is installed, newer than this bundle ($VERSION). A downgrade can leave data written by the newer release that this one cannot read; nothing was changed. Use --force to install it anyway (the program still refuses a database newer than itself)."
    fi
    warn "downgrading from $cur to $VERSION (--force)"
  else
    say "upgrading from $cur to $VERSION"
  fi
}

ensure_user() {
  local ua=() ga=()
  if [ -n "$ROOT" ]; then ua=(--root "$ROOT"); ga=(--root "$ROOT"); mkdir -p "$ROOT/etc"; fi
  if ! getent_root group "$USER_NAME" >/dev/null; then
    groupadd "${ga[@]}" --system "$USER_NAME"
  fi
  if ! getent_root passwd "$USER_NAME" >/dev/null; then
    useradd "${ua[@]}" --system --gid "$USER_NAME" --home-dir /var/lib/sentinela --no-create-home \
      --shell /usr/sbin/nologin --comment "Sentinela" "$USER_NAME" 2> >(grep -v 'missing or non-executable shell' >&2)
    say "created the system user $USER_NAME"
  fi
  SENTINELA_UID=$(getent_root passwd "$USER_NAME" | cut -d: -f3)
  SENTINELA_GID=$(getent_root group "$USER_NAME" | cut -d: -f3)
}

# getent for the target root: the files themselves, so that --root works without NSS.
getent_root() {
  local db=$1 name=$2 file="$ROOT/etc/$1"
  [ -f "$file" ] || return 2
  grep -E "^$name:" "$file"
}

# Copies the bundle into /opt/sentinela/<program>/<version> (a fresh copy, then renamed into place).
install_release() {
  mkdir -p "$OPT_DIR"
  local tmp="$OPT_DIR/.$VERSION.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  cp -a "$BUNDLE/app" "$BUNDLE/docs" "$BUNDLE/examples" "$BUNDLE/systemd" "$BUNDLE/lib" "$BUNDLE/release.env" "$BUNDLE/README.md" "$tmp/"
  cp -a "$BUNDLE/install.sh" "$tmp/install.sh"
  chown -R 0:0 "$tmp"
  chmod -R go-w "$tmp"
  rm -rf "$RELEASE_DIR"
  mv "$tmp" "$RELEASE_DIR"
}

# Points current at this release (atomic rename of a new symlink), keeps the previous one for a
# rollback and removes older ones.
switch_current() {
  local prev
  prev=$(installed_version)
  ln -sfn "$VERSION" "$OPT_DIR/.current.new"
  mv -T "$OPT_DIR/.current.new" "$OPT_DIR/current"
  if [ -n "$prev" ] && [ "$prev" != "$VERSION" ]; then ln -sfn "$prev" "$OPT_DIR/previous"; fi
  local keep_prev d
  keep_prev=$( [ -L "$OPT_DIR/previous" ] && basename "$(readlink "$OPT_DIR/previous")" || true)
  for d in "$OPT_DIR"/*/; do
    d=$(basename "$d")
    case "$d" in "$VERSION"|"$keep_prev"|current|previous) ;; *) rm -rf "${OPT_DIR:?}/$d"; say "removed the old release $d" ;; esac
  done
}

write_wrapper() {
  mkdir -p "$(dirname "$WRAPPER")"
  cat > "$WRAPPER.tmp" <<WRAP
#!/bin/sh
# sentinela-$PROGRAM: runs the installed release (/opt/sentinela/$PROGRAM/current) with Node.js.
# Written by install.sh; the release is found relative to this file so that an install under
# --root works from there too.
here=\$(dirname "\$(readlink -f "\$0")")
exec "\${SENTINELA_NODE:-$NODE_BIN}" "\$here/../../../opt/sentinela/$PROGRAM/current/app/packages/$PROGRAM/bin/sentinela-$PROGRAM.js" "\$@"
WRAP
  chmod 0755 "$WRAPPER.tmp"
  mv "$WRAPPER.tmp" "$WRAPPER"
}

# /etc/sentinela and the config: kept when present (an upgrade never rewrites it), the example otherwise.
ensure_config() {
  install -d -m 0750 -o 0 -g "$SENTINELA_GID" "$ETC_DIR"
  if [ -e "$CONFIG" ]; then
    say "keeping the config $CONFIG"
  else
    install -m 0640 -o 0 -g "$SENTINELA_GID" "$BUNDLE/examples/$PROGRAM.yaml" "$CONFIG"
    say "wrote $CONFIG from the example: edit it, then: systemctl restart $UNIT_NAME"
  fi
  # The example of this release beside it, to compare with after an upgrade.
  install -m 0640 -o 0 -g "$SENTINELA_GID" "$BUNDLE/examples/$PROGRAM.yaml" "$ETC_DIR/$PROGRAM.yaml.example"
}

# Reads the config with the program's own loader (lib/config-info.mjs).
read_config() {
  # Defaults first: a config-info that cannot run leaves the packaged layout and no power rights.
  CONFIG_OK=0 CONFIG_ERROR="" DATA_DIR="/var/lib/sentinela/$PROGRAM" EXTRA_RW_PATHS="" POWER=0 POWEROFF=0 STOP_UNITS="" UNMATCHED_COMMANDS=""
  local info
  if info=$("$NODE_BIN" "$BUNDLE/lib/config-info.mjs" "$BUNDLE/app" "$PROGRAM" "$CONFIG" 2>&1); then
    eval "$info"
  else
    CONFIG_ERROR="could not read it with this release's loader: $info"
  fi
  if [ "$CONFIG_OK" != 1 ]; then
    warn "the config $CONFIG is not valid for $VERSION; the service will not start until it is fixed:"
    printf '%s\n' "$CONFIG_ERROR" >&2
  fi
}

ensure_data_dir() {
  local d
  d=$(target "$DATA_DIR")
  install -d -m 0755 -o 0 -g 0 "$(dirname "$d")"
  install -d -m 0750 -o "$SENTINELA_UID" -g "$SENTINELA_GID" "$d"
  # An upgrade leaves the data as it is; only the top folder's owner and mode are set again.
  chown "$SENTINELA_UID:$SENTINELA_GID" "$d"
  chmod 0750 "$d"
}

write_units() {
  install -d -m 0755 "$(dirname "$UNIT")" "$DROPIN_DIR"
  install -m 0644 "$BUNDLE/systemd/$UNIT_NAME" "$UNIT"
  {
    echo "# Written by install.sh from $CONFIG for sentinela-$PROGRAM $VERSION; rewritten at every install."
    echo "# Run the installer again (or edit, then systemctl daemon-reload) after moving folders in the config."
    echo "[Service]"
    if [ "$DATA_DIR" != "/var/lib/sentinela/$PROGRAM" ]; then echo "ReadWritePaths=$DATA_DIR"; fi
    local p
    for p in $EXTRA_RW_PATHS; do echo "ReadWritePaths=-$p"; done
  } > "$DROPIN_DIR/install.conf"
  chmod 0644 "$DROPIN_DIR/install.conf"
}

# Checks the units with systemd-analyze when it is there (in the target root when --root).
verify_units() {
  command -v systemd-analyze >/dev/null || { say "systemd-analyze not found: units not verified"; return 0; }
  if [ ! -e "$ROOT/usr/lib/systemd/system/sysinit.target" ] && [ ! -e "$ROOT/lib/systemd/system/sysinit.target" ]; then
    say "no systemd in ${ROOT:-/}: units not verified"
    return 0
  fi
  local args=()
  [ -n "$ROOT" ] && args=(--root="$ROOT")
  local out
  if out=$(systemd-analyze verify "${args[@]}" "$UNIT_NAME" 2>&1); then
    say "systemd-analyze verify $UNIT_NAME: ok"
  else
    warn "systemd-analyze verify $UNIT_NAME reported:"
    printf '%s\n' "$out" >&2
  fi
}

stop_service() {
  WAS_ACTIVE=0
  if systemd_live && systemctl is-active --quiet "$UNIT_NAME"; then
    WAS_ACTIVE=1
    say "stopping $UNIT_NAME for the upgrade"
    systemctl stop "$UNIT_NAME"
  fi
}

enable_and_start() {
  if systemd_live; then
    systemctl daemon-reload
    systemctl enable "$UNIT_NAME" >/dev/null 2>&1 || systemctl enable "$UNIT_NAME"
    if [ "$NO_START" = 1 ]; then
      say "not started (--no-start): systemctl start $UNIT_NAME"
    elif [ "${CONFIG_OK:-0}" = 1 ]; then
      systemctl restart "$UNIT_NAME"
      say "started $UNIT_NAME (journalctl -u $UNIT_NAME -f)"
    else
      say "not started: fix $CONFIG, then: systemctl start $UNIT_NAME"
    fi
  elif command -v systemctl >/dev/null; then
    # A chroot or --root: enable offline (the symlink in multi-user.target.wants), start nothing.
    if systemctl --root="${ROOT:-/}" enable "$UNIT_NAME" >/dev/null 2>&1; then
      say "enabled $UNIT_NAME (starts at the next boot; systemd is not running here)"
    else
      warn "could not enable $UNIT_NAME offline; run: systemctl enable --now $UNIT_NAME"
    fi
  else
    say "systemctl not found: enable the service yourself (systemctl enable --now $UNIT_NAME)"
  fi
}

# Runs the installed CLI as the sentinela user (setpriv: util-linux, no NSS needed under --root).
run_as_sentinela() {
  setpriv --reuid="$SENTINELA_UID" --regid="$SENTINELA_GID" --clear-groups \
    env HOME="$(target "$DATA_DIR")" "$WRAPPER" "$@"
}

# The processes whose working folder or open files are under DIR, one "pid command" a line.
users_of() {
  local dir=$1 pids p
  pids=$(find /proc/[0-9]*/cwd /proc/[0-9]*/fd -maxdepth 1 \( -lname "$dir" -o -lname "$dir/*" \) 2>/dev/null | cut -d/ -f3 | sort -un || true)
  for p in $pids; do
    [ "$p" = "$$" ] || [ "$p" = "$BASHPID" ] && continue
    printf '%s %s\n' "$p" "$(tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null)"
  done
}

# The data folder of the installed config (read with the bundle's loader), as seen from here.
uninstall_data_dir() {
  local data="/var/lib/sentinela/$PROGRAM"
  if [ -f "$CONFIG" ] && [ -f "$BUNDLE/lib/config-info.mjs" ] && [ -n "${NODE_BIN:-}" ]; then
    eval "$("$NODE_BIN" "$BUNDLE/lib/config-info.mjs" "$BUNDLE/app" "$PROGRAM" "$CONFIG" 2>/dev/null)" || true
    data=${DATA_DIR:-$data}
  fi
  target "$data"
}

do_uninstall() {
  local data busy
  data=$(uninstall_data_dir)
  if systemd_live; then
    systemctl disable --now "$UNIT_NAME" 2>/dev/null || true
  fi
  if [ "$PURGE" = 1 ]; then
    # The service is stopped by now (where systemd runs); anything else still running from the
    # data folder (a chroot or --root has no systemd to stop it, or a program started by hand)
    # would write it again behind the purge: refuse before anything is removed.
    busy=$(users_of "$data")
    [ -z "$busy" ] || die "these processes still use $data; stop them, then purge again (the program, config and data are all still there):
$busy"
  fi
  if ! systemd_live && command -v systemctl >/dev/null && [ -e "$UNIT" ]; then
    systemctl --root="${ROOT:-/}" disable "$UNIT_NAME" >/dev/null 2>&1 || true
  fi
  rm -rf "$UNIT" "$DROPIN_DIR" "$WRAPPER" "$OPT_DIR"
  rm -f "$ETC_DIR/$PROGRAM.yaml.example"
  uninstall_extra
  systemd_live && systemctl daemon-reload || true
  rmdir "$ROOT/opt/sentinela" 2>/dev/null || true
  say "removed sentinela-$PROGRAM (service, program, wrapper)"
  if [ "$PURGE" = 1 ]; then
    rm -rf "$CONFIG" "${data:?}"
    # Something still writing there (a process started after the check above) brings it back.
    if [ -e "$data" ]; then
      die "$data is there again after it was removed: a process recreated it; stop it, then purge again:
$(users_of "$data")"
    fi
    rmdir "$ETC_DIR" "$ROOT/var/lib/sentinela" 2>/dev/null || true
    say "purged $CONFIG and $data"
    if [ ! -d "$ROOT/opt/sentinela" ] && getent_root passwd "$USER_NAME" >/dev/null; then
      local ua=(); [ -n "$ROOT" ] && ua=(--root "$ROOT")
      userdel "${ua[@]}" "$USER_NAME" 2>/dev/null && say "removed the user $USER_NAME" || true
      groupdel "${ua[@]}" "$USER_NAME" 2>/dev/null || true
    fi
  else
    say "kept the config $CONFIG and the data $data (--uninstall --purge removes them)"
  fi
}

# The whole install or upgrade; program scripts add their own steps through the hooks
# install_extra (after the units) and uninstall_extra.
main() {
  parse_args "$@"
  if [ "$UNINSTALL" = 1 ]; then
    NODE_BIN=${NODE_BIN:-$(command -v node || true)}
    do_uninstall
    return 0
  fi
  local started=$SECONDS
  check_node
  check_downgrade
  ensure_user
  ensure_config
  read_config
  stop_service
  install_release
  switch_current
  write_wrapper
  ensure_data_dir
  write_units
  install_extra
  verify_units
  enable_and_start
  post_install
  say "sentinela-$PROGRAM $VERSION installed in $((SECONDS - started)) s${ROOT:+ under $ROOT}"
  say "check it: sudo -u sentinela sentinela-$PROGRAM doctor --config /etc/sentinela/$PROGRAM.yaml"
}
