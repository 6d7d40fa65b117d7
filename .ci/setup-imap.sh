#!/usr/bin/env bash
# Installs Debian's dovecot IMAP server for the e-mail intake tests. The tests start
# their own dovecot on a free loopback port with a config in a temporary folder, so
# this script only makes sure the binary is there. Safe to run more than once.
set -euo pipefail

if command -v dovecot >/dev/null 2>&1 || [ -x /usr/sbin/dovecot ]; then
    echo "[setup-imap] dovecot is installed"
    exit 0
fi

echo "[setup-imap] installing dovecot-imapd"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# policy-rc.d keeps the package from starting the system-wide service on port 143.
apt-get install -y -qq dovecot-imapd
echo "[setup-imap] dovecot installed: $(dovecot --version)"
