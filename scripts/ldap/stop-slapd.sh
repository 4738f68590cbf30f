#!/usr/bin/env bash
# Stops a slapd started by start-slapd.sh and removes its directory.
#
# Usage: scripts/ldap/stop-slapd.sh <directory printed by start-slapd.sh as SLAPD_DIR>
# Only the process whose id is in <directory>/slapd.pid is signalled.
set -euo pipefail

DIR=${1:?usage: stop-slapd.sh <slapd directory>}
[ -f "$DIR/slapd.conf" ] || { echo "$DIR is not a slapd directory made by start-slapd.sh" >&2; exit 2; }

if [ -f "$DIR/slapd.pid" ]; then
  PID=$(cat "$DIR/slapd.pid")
  if kill "$PID" 2>/dev/null; then
    for _ in $(seq 1 50); do
      kill -0 "$PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -0 "$PID" 2>/dev/null && kill -9 "$PID" 2>/dev/null
  fi
fi
rm -rf "$DIR"
