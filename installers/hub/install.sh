#!/usr/bin/env bash
# Installs, upgrades or removes sentinela-hub at a DPS or the MoH (Debian 12 / Ubuntu 22.04+),
# with no network access: everything it needs is in this folder. ./install.sh --help
#
#   sudo ./install.sh                       install or upgrade
#   sudo ./install.sh --uninstall [--purge] remove (config and database stay unless --purge)
#
# The steps are in lib/common.sh; the hub has no extra rights and nothing more to do.
set -euo pipefail
PROGRAM=hub
# shellcheck source=../lib/common.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib/common.sh"

install_extra() { :; }
uninstall_extra() { :; }
post_install() {
  say "next: put the TLS certificate and key where mqtt.tls says (mode 0600, owner sentinela), then"
  say "  sudo -u sentinela sentinela-hub tokens add --config $CONFIG --name console"
}

main "$@"
