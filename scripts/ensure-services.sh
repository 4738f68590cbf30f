#!/usr/bin/env bash
# Makes sure the services the tests use are installed and running on this machine:
# OpenLDAP's slapd and ldap-utils (Debian packages; the tests start their own slapd), and the
# PostgreSQL, MariaDB and Redis servers the machine provides (restarted here if they stopped).
set -euo pipefail

reachable() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

wait_for() {
  local name=$1 port=$2
  for _ in $(seq 1 60); do
    reachable "$port" && { echo "$name is up on port $port"; return 0; }
    sleep 1
  done
  echo "$name did not come up on port $port" >&2
  return 1
}

missing=()
command -v slapd >/dev/null 2>&1 || [ -x /usr/sbin/slapd ] || missing+=(slapd)
command -v ldapadd >/dev/null 2>&1 || missing+=(ldap-utils)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing ${missing[*]} from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! reachable 5432; then
  echo "Starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start || true
  wait_for PostgreSQL 5432
fi
if ! reachable 3306; then
  echo "Starting MariaDB"
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
  wait_for MariaDB 3306
fi
if ! reachable 6379; then
  echo "Starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
  wait_for Redis 6379
fi
echo "Services ready"
