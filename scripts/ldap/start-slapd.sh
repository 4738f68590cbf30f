#!/usr/bin/env bash
# Starts a private OpenLDAP slapd for the tests, listening on 127.0.0.1 only.
#
# Usage: scripts/ldap/start-slapd.sh [port] [directory]
#   port       TCP port to listen on (default: a free port picked here)
#   directory  empty or absent directory to keep the configuration, database and pid file in
#              (default: a new temporary directory)
#
# The directory holds slapd.conf (schemas core, cosine, inetorgperson, nis; an mdb database for
# dc=example,dc=com with rootdn cn=admin,dc=example,dc=com / password "admin"; ACLs letting users
# bind and read their own entry only) loaded with the test directory (test-directory.ldif):
#   ou=users,dc=example,dc=com with inetOrgPerson users whose username attribute is cn:
#     alice                 password alicePass1
#     bob                   password bobPass123
#     #o'neil, jr+ünï=test  password oneilPass1  (uid oneil; leading '#', quote, comma, plus,
#                                                 equals and non-ASCII characters: RFC 4514 escaping)
#
# When slapd accepts binds the script prints, and exits 0:
#   LDAP_URL=ldap://127.0.0.1:<port>
#   SLAPD_DIR=<directory>
# Stop it with scripts/ldap/stop-slapd.sh <directory>.
set -euo pipefail

SLAPD=${SLAPD:-/usr/sbin/slapd}
SCHEMAS=/etc/ldap/schema
MODULES=/usr/lib/ldap
SUFFIX="dc=example,dc=com"
ROOTDN="cn=admin,$SUFFIX"
ROOTPW=admin

[ -x "$SLAPD" ] || { echo "slapd not found at $SLAPD (apt-get install slapd ldap-utils)" >&2; exit 2; }
for tool in slapadd slappasswd ldapwhoami; do
  command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || { echo "$tool not found" >&2; exit 2; }
done
export PATH="$PATH:/usr/sbin"

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

PORT=${1:-}
if [ -z "$PORT" ]; then
  for _ in $(seq 1 50); do
    candidate=$((20000 + RANDOM % 40000))
    if ! port_in_use "$candidate"; then PORT=$candidate; break; fi
  done
  [ -n "$PORT" ] || { echo "no free port found" >&2; exit 1; }
fi

DIR=${2:-}
if [ -z "$DIR" ]; then
  DIR=$(mktemp -d "${TMPDIR:-/tmp}/crossauth-slapd.XXXXXX")
else
  if [ -e "$DIR" ] && [ -n "$(ls -A "$DIR")" ]; then echo "$DIR is not empty" >&2; exit 2; fi
  mkdir -p "$DIR"
fi
mkdir -p "$DIR/data"

# On failure: stop the slapd this script started (if any) and remove the directory.
cleanup_on_failure() {
  local status=$?
  [ "$status" -eq 0 ] && return
  if [ -f "$DIR/slapd.pid" ]; then kill "$(cat "$DIR/slapd.pid")" 2>/dev/null || true; fi
  rm -rf "$DIR"
}
trap cleanup_on_failure EXIT

ssha() { slappasswd -h '{SSHA}' -s "$1"; }
b64() { printf '%s' "$1" | base64 -w0; }

cat >"$DIR/slapd.conf" <<CONF
include $SCHEMAS/core.schema
include $SCHEMAS/cosine.schema
include $SCHEMAS/inetorgperson.schema
include $SCHEMAS/nis.schema

pidfile $DIR/slapd.pid
argsfile $DIR/slapd.args
modulepath $MODULES
moduleload back_mdb

database mdb
maxsize 16777216
suffix "$SUFFIX"
rootdn "$ROOTDN"
rootpw $(ssha "$ROOTPW")
directory $DIR/data

# Anonymous clients may only authenticate; a bound user may read its own entry (and change its
# password), nothing else.
access to attrs=userPassword
  by self =wx
  by anonymous auth
  by * none
access to *
  by self read
  by * none
CONF

SPECIAL_CN="#o'neil, jr+ünï=test"
SPECIAL_RDN='\#o'"'"'neil\, jr\+ünï\=test'

cat >"$DIR/test-directory.ldif" <<LDIF
dn: $SUFFIX
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: ou=users,$SUFFIX
objectClass: organizationalUnit
ou: users

dn: cn=alice,ou=users,$SUFFIX
objectClass: inetOrgPerson
cn: alice
sn: Smith
givenName: Alice
uid: alice
mail: alice@example.com
userPassword: $(ssha alicePass1)

dn: cn=bob,ou=users,$SUFFIX
objectClass: inetOrgPerson
cn: bob
sn: Jones
uid: bob
mail: bob@example.com
userPassword: $(ssha bobPass123)

dn:: $(b64 "cn=$SPECIAL_RDN,ou=users,$SUFFIX")
objectClass: inetOrgPerson
cn:: $(b64 "$SPECIAL_CN")
sn:: $(b64 "O'Neil")
uid: oneil
mail: oneil@example.com
userPassword: $(ssha oneilPass1)
LDIF

slapadd -q -f "$DIR/slapd.conf" -l "$DIR/test-directory.ldif" >"$DIR/slapadd.log" 2>&1 || {
  cat "$DIR/slapadd.log" >&2
  exit 1
}

URL="ldap://127.0.0.1:$PORT"
# slapd daemonizes itself and writes its pid to $DIR/slapd.pid.
"$SLAPD" -f "$DIR/slapd.conf" -h "$URL/" -s 0 >"$DIR/slapd.log" 2>&1 || {
  echo "slapd failed to start on port $PORT" >&2
  cat "$DIR/slapd.log" >&2
  exit 1
}

for _ in $(seq 1 100); do
  if ldapwhoami -x -H "$URL" -D "cn=alice,ou=users,$SUFFIX" -w alicePass1 >/dev/null 2>&1; then
    echo "LDAP_URL=$URL"
    echo "SLAPD_DIR=$DIR"
    exit 0
  fi
  sleep 0.1
done
echo "slapd did not accept binds on $URL" >&2
exit 1
