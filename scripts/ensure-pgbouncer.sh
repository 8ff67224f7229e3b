#!/usr/bin/env bash
# Installs Debian's pgbouncer when it is missing (test/pooler.test.ts runs it in front of the test
# PostgreSQL). Prints the binary's path. Needs root or sudo; exits 1 saying so otherwise.
set -euo pipefail
find_bin() { command -v pgbouncer || ls /usr/sbin/pgbouncer 2>/dev/null || true; }
bin="$(find_bin)"
if [ -z "$bin" ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo -n"; else
    echo "pgbouncer is missing and this user cannot install it: apt-get install -y pgbouncer" >&2; exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get install -y -q pgbouncer >/dev/null 2>&1 || { $SUDO apt-get update -q >/dev/null 2>&1 && $SUDO apt-get install -y -q pgbouncer >/dev/null 2>&1; }
  # The package starts its own service on 6432; the tests run their own process instead.
  $SUDO systemctl stop pgbouncer >/dev/null 2>&1 || $SUDO service pgbouncer stop >/dev/null 2>&1 || true
  bin="$(find_bin)"
fi
[ -n "$bin" ] || { echo "pgbouncer could not be installed" >&2; exit 1; }
echo "$bin"
