#!/usr/bin/env bash
# Installs, upgrades or removes sentinela-agent on a health facility's server (Debian 12 / Ubuntu
# 22.04+), with no network access: everything it needs is in this folder. ./install.sh --help
#
#   sudo ./install.sh                                   install or upgrade
#   sudo ./install.sh --hub https://hub:8080 --token enr_…   … and enrol the site in the same step
#   sudo ./install.sh --uninstall [--purge]             remove (config and data stay unless --purge)
#
# The shared steps are in lib/common.sh; here is what only the agent does: its power rights and
# the enrolment.
set -euo pipefail
PROGRAM=agent
# shellcheck source=../lib/common.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib/common.sh"

POLKIT_RULE_REL=etc/polkit-1/rules.d/50-sentinela-agent.rules

# The agent may power the host off and stop the clinical services before that: exactly the
# commands of power.shutdownCommand and power.preShutdown, nothing broader. A polkit rule (not
# sudo) because the unit runs with NoNewPrivileges=yes, under which sudo cannot gain root, and
# because the config's commands ("systemctl poweroff", "systemctl stop mariadb") then work as
# written: systemctl asks systemd over D-Bus and polkit answers for the sentinela user.
install_extra() {
  local rule="$ROOT/$POLKIT_RULE_REL"
  if [ "${POWER:-0}" != 1 ]; then
    rm -f "$rule"
    say "no power: section in the config: the agent gets no right to power off or stop services"
    return 0
  fi
  local units_js="" u
  for u in $STOP_UNITS; do units_js="$units_js${units_js:+, }\"$u\""; done
  install -d -m 0755 "$(dirname "$(dirname "$rule")")"
  [ -d "$(dirname "$rule")" ] || install -d -m 0700 "$(dirname "$rule")"
  cat > "$rule.tmp" <<RULE
// Written by the sentinela-agent installer ($VERSION) from /etc/sentinela/agent.yaml: the agent
// (user sentinela) may power this host off (power.shutdownCommand) and stop exactly these units
// before that (power.preShutdown). Nothing else. Rewritten at every install; run the installer
// again after changing those keys.
polkit.addRule(function (action, subject) {
  if (subject.user !== "sentinela") return polkit.Result.NOT_HANDLED;
  var powerOff = $( [ "$POWEROFF" = 1 ] && echo true || echo false );
  if (powerOff && (action.id === "org.freedesktop.login1.power-off" ||
                   action.id === "org.freedesktop.login1.power-off-multiple-sessions" ||
                   action.id === "org.freedesktop.login1.power-off-ignore-inhibit")) {
    return polkit.Result.YES;
  }
  var stoppable = [$units_js];
  if (action.id === "org.freedesktop.systemd1.manage-units" &&
      action.lookup("verb") === "stop" && stoppable.indexOf(action.lookup("unit")) >= 0) {
    return polkit.Result.YES;
  }
  return polkit.Result.NOT_HANDLED;
});
RULE
  chmod 0644 "$rule.tmp"
  mv "$rule.tmp" "$rule"
  say "power rights (polkit, $rule): power off: $( [ "$POWEROFF" = 1 ] && echo yes || echo no ); stop: ${STOP_UNITS:-nothing}"
  if [ -n "$UNMATCHED_COMMANDS" ]; then
    warn "these power commands are not 'systemctl poweroff' or 'systemctl stop UNIT'; they run as the sentinela user with no extra right:"
    printf '  %s\n' "$UNMATCHED_COMMANDS" >&2
    warn "wrap what needs root in a systemd unit and list 'systemctl stop THAT-UNIT' instead (docs/operations.md, Power rights)"
  fi
  if [ ! -x "$ROOT/usr/lib/polkit-1/polkitd" ]; then
    warn "polkitd is not installed: without it the agent cannot power off. Install it from the USB stick (polkitd .deb) or: apt-get install polkitd"
  fi
}

uninstall_extra() {
  rm -f "$ROOT/$POLKIT_RULE_REL"
}

# Enrolment in the same step: sentinela-agent enroll as the sentinela user, then a restart so
# that the running agent connects with its new credentials.
post_install() {
  [ -n "$HUB_URL" ] || return 0
  say "enrolling with $HUB_URL"
  if ! run_as_sentinela enroll --config "$CONFIG" --hub "$HUB_URL" --token "$TOKEN"; then
    die "the enrolment failed (above); the agent is installed: enrol later with sudo -u sentinela sentinela-agent enroll --config /etc/sentinela/agent.yaml --hub URL --token TOKEN"
  fi
  if systemd_live && [ "$NO_START" != 1 ] && [ "${CONFIG_OK:-0}" = 1 ]; then systemctl restart "$UNIT_NAME"; fi
}

main "$@"
