#!/usr/bin/env bash
# Installs both bundles into a clean Debian 12 root (debootstrap) through a chroot, the way a
# technician would on a fresh server, and checks the result: users, modes, units
# (systemd-analyze verify inside the root), wrappers, a hub serving its console, enrolment at
# install, doctor, uninstall and purge. One "PASS what" or "FAIL what" line per check; exit 1 when
# any failed. test/install-chroot.test.ts runs it (debootstrap downloads ~100 MB the first time,
# ~40 s here; later runs copy the cached root, 10-20 s); test/install.test.ts covers upgrade and
# downgrade under --root.
#
#   sudo installers/test-chroot.sh [--bundles DIR] [--keep]
#
#   --bundles DIR  use the .tar.gz in DIR (default: build them into a temporary folder)
#   --keep         leave the root in place and print its path
#
# The Debian mirror is read from this machine's apt configuration; the pristine debootstrap
# result is cached in /var/tmp/sentinela-chroot-cache/bookworm and copied for each run.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib/test-root.sh"
parse_test_args "$@"

FAILED=0
pristine_root

step "a clean copy of the Debian 12 root"
copy_root chroot "$PRISTINE"
cat "$R/etc/debian_version"

step "Node.js in the root (copied from this machine: Debian 12's nodejs is 18, too old)"
cp "$(readlink -f "$(command -v node)")" "$R/usr/bin/node"
chroot "$R" /usr/bin/node --version

step "bundles"
if [ -z "$BUNDLES" ]; then
  BUNDLES=$WORK/bundles
  "$HERE/build.sh" --out "$BUNDLES" >/dev/null
fi
AGENT_TGZ=$(ls "$BUNDLES"/sentinela-agent-*.tar.gz | head -1)
HUB_TGZ=$(ls "$BUNDLES"/sentinela-hub-*.tar.gz | head -1)
ls -la "$AGENT_TGZ" "$HUB_TGZ"
mkdir -p "$R/root/usb"
cp "$AGENT_TGZ" "$HUB_TGZ" "$R/root/usb/"
in_root 'cd /root/usb && for f in *.tar.gz; do tar xzf "$f"; done && ls'

step "install the hub (no network in the install: everything comes from the bundle)"
time in_root 'cd /root/usb/sentinela-hub-*/ && ./install.sh'
step "install the agent"
time in_root 'cd /root/usb/sentinela-agent-*/ && ./install.sh'

step "what the installs made"
in_root 'id sentinela; ls -la /etc/sentinela /var/lib/sentinela /opt/sentinela/*; ls -la /usr/local/bin/sentinela-*'
check "system user sentinela with nologin shell" in_root 'getent passwd sentinela | grep -q ":/usr/sbin/nologin$"'
check "/etc/sentinela/agent.yaml root:sentinela 0640" in_root '[ "$(stat -c %U:%G:%a /etc/sentinela/agent.yaml)" = root:sentinela:640 ]'
check "/etc/sentinela/hub.yaml root:sentinela 0640" in_root '[ "$(stat -c %U:%G:%a /etc/sentinela/hub.yaml)" = root:sentinela:640 ]'
check "/var/lib/sentinela/agent sentinela 0750" in_root '[ "$(stat -c %U:%G:%a /var/lib/sentinela/agent)" = sentinela:sentinela:750 ]'
check "/var/lib/sentinela/hub sentinela 0750" in_root '[ "$(stat -c %U:%G:%a /var/lib/sentinela/hub)" = sentinela:sentinela:750 ]'
check "current symlinks" in_root '[ -L /opt/sentinela/agent/current ] && [ -L /opt/sentinela/hub/current ]'
check "units enabled (multi-user.target.wants)" in_root '[ -L /etc/systemd/system/multi-user.target.wants/sentinela-agent.service ] && [ -L /etc/systemd/system/multi-user.target.wants/sentinela-hub.service ]'
check "polkit rule for the agent's power commands" in_root 'grep -q "mariadb.service" /etc/polkit-1/rules.d/50-sentinela-agent.rules'
check "polkit rule is valid JavaScript" in_root 'node -e "new Function(\"polkit\", require(\"fs\").readFileSync(\"/etc/polkit-1/rules.d/50-sentinela-agent.rules\", \"utf8\"))"'
check "sentinela-agent --version" in_root 'sentinela-agent --version'
check "sentinela-hub --version" in_root 'sentinela-hub --version'

step "systemd-analyze verify (inside the root)"
in_root 'systemd-analyze verify sentinela-agent.service sentinela-hub.service && echo verify: ok'
check "systemd-analyze verify both units" in_root 'systemd-analyze verify sentinela-agent.service sentinela-hub.service'
in_root 'systemd-analyze security --offline=yes sentinela-agent.service sentinela-hub.service 2>/dev/null | grep -E "Overall exposure level" || true'
in_root 'systemd-analyze security --offline=yes sentinela-hub.service 2>/dev/null | tail -1 || true'

step "a hub serving in the root (loopback, plain MQTT for the test), a site, enrolment at install"
PORT_HTTP=$(free_port)
PORT_MQTT=$(free_port)
cat > "$R/etc/sentinela/hub.yaml" <<YAML
hubId: chroot-hub
dataDir: /var/lib/sentinela/hub
mqtt:
  listen: { host: 127.0.0.1, port: $PORT_MQTT }
  allowPlaintext: true
http:
  listen: { host: 127.0.0.1, port: $PORT_HTTP }
YAML
serve_hub /etc/sentinela/hub.yaml /var/lib/sentinela/hub/serve.log || true
check "hub serving as sentinela" grep -q '"hub ready"' "$R/var/lib/sentinela/hub/serve.log"
# The console's pages and its static files (packages/hub/dist/console/static) come from the bundle.
fetch_has() { # fetch_has PATH TEXT: GET from the hub in the root answers 200 with TEXT in the body
  node -e 'fetch(process.argv[1]).then(async (r) => { const b = await r.text(); process.exit(r.status === 200 && b.includes(process.argv[2]) ? 0 : 1); }, () => process.exit(1))' "http://127.0.0.1:$PORT_HTTP$1" "$2"
}
check "the console's login page (GET /login)" fetch_has /login 'id="login-form"'
check "GET / with no session leads to the login page" fetch_has / 'id="login-form"'
check "the console's stylesheet (GET /assets/app.css, as installed)" fetch_has /assets/app.css "$(head -c 60 "$R"/opt/sentinela/hub/current/app/packages/hub/dist/console/static/app.css | head -1)"
check "the console's script (GET /assets/login.js)" fetch_has /assets/login.js login-form
TOKEN=$(site_token hf-chroot-0001 "CS Chroot")
cat > "$R/etc/sentinela/agent.yaml" <<YAML
dataDir: /var/lib/sentinela/agent
hub:
  mqttUrl: mqtt://127.0.0.1:$PORT_MQTT
YAML
in_root "cd /root/usb/sentinela-agent-*/ && ./install.sh --hub http://127.0.0.1:$PORT_HTTP --token $TOKEN"
check "enrolled at install: credentials.json sentinela 0600" in_root '[ "$(stat -c %U:%a /var/lib/sentinela/agent/credentials.json)" = sentinela:600 ]'
check "polkit rule removed when the config has no power: section" in_root '[ ! -e /etc/polkit-1/rules.d/50-sentinela-agent.rules ]'

step "doctor, as the sentinela user"
in_root 'setpriv --reuid=sentinela --regid=sentinela --init-groups sentinela-agent doctor --config /etc/sentinela/agent.yaml' || true
in_root 'setpriv --reuid=sentinela --regid=sentinela --init-groups sentinela-hub doctor --config /etc/sentinela/hub.yaml' || true
check "agent doctor passes (no FAIL)" in_root 'setpriv --reuid=sentinela --regid=sentinela --init-groups sentinela-agent doctor --config /etc/sentinela/agent.yaml'
check "hub doctor passes (no FAIL)" in_root 'setpriv --reuid=sentinela --regid=sentinela --init-groups sentinela-hub doctor --config /etc/sentinela/hub.yaml'
kill "$(cat "$R/run/hub.pid")" 2>/dev/null || true
rm -f "$R/run/hub.pid"

step "uninstall the agent (keeps config and data), then purge"
in_root 'cd /root/usb/sentinela-agent-*/ && ./install.sh --uninstall'
check "uninstall kept config and credentials" in_root '[ -f /etc/sentinela/agent.yaml ] && [ -f /var/lib/sentinela/agent/credentials.json ]'
check "uninstall removed program, wrapper, unit" in_root '[ ! -e /opt/sentinela/agent ] && [ ! -e /usr/local/bin/sentinela-agent ] && [ ! -e /etc/systemd/system/sentinela-agent.service ]'
in_root 'cd /root/usb/sentinela-agent-*/ && ./install.sh --uninstall --purge'
check "purge removed config and data" in_root '[ ! -e /etc/sentinela/agent.yaml ] && [ ! -e /var/lib/sentinela/agent ]'
check "the hub is untouched" in_root '[ -x /usr/local/bin/sentinela-hub ] && [ -f /var/lib/sentinela/hub/hub.db ] && getent passwd sentinela'

step "result"
if [ "$FAILED" = 0 ]; then echo "test-chroot: all checks passed"; else echo "test-chroot: $FAILED checks FAILED"; exit 1; fi
