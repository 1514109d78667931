#!/usr/bin/env bash
# tests/registry/run_with_nginx.sh PROGRAM [ARGS...]
#
# Puts nginx (Debian's, run as the current user with its own prefix in a
# temporary directory, 127.0.0.1 only) in front of the Schema Registry at
# $SCHEMA_REGISTRY_URL and runs PROGRAM with the variables below. nginx gets a
# CA, server and client certificates generated here with openssl, basic auth
# (htpasswd from `openssl passwd`, a password containing @ : / and %), a
# required client certificate, a bearer-token server, a plain proxy (that the
# outage test stops and restarts) and an always-503 server.
#
#   VTEV_TEST_TLS_URL          https URL: TLS + client cert + basic auth
#   VTEV_TEST_TLS_CA           the CA that signed the server certificate
#   VTEV_TEST_TLS_WRONG_CA     another CA
#   VTEV_TEST_TLS_CERT/_KEY    client certificate and its encrypted key
#   VTEV_TEST_TLS_KEY_PASSWORD the key's password
#   VTEV_TEST_USERINFO         user:password accepted by nginx
#   VTEV_TEST_BEARER_URL/_TOKEN
#   VTEV_TEST_PROXY_URL        plain http proxy to the registry
#   VTEV_TEST_PROXY_STOP/_START shell commands that stop / start nginx
#   VTEV_TEST_FAIL_URL         always answers 503
#   VTEV_TEST_DEAD_URL         a closed port
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

if [ -z "${SCHEMA_REGISTRY_URL:-}" ]; then
  if [ "${VTEV_ALLOW_SKIP:-}" = 1 ]; then exit 77; fi
  echo "SCHEMA_REGISTRY_URL is not set: start the stack with ./run stack up (or set VTEV_ALLOW_SKIP=1)" >&2
  exit 1
fi
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
[ -x "$NGINX" ] || { echo "nginx not found (apt-get install nginx-light)" >&2; exit 1; }

DIR=$(mktemp -d "${TMPDIR:-/tmp}/vtev-nginx.XXXXXX")
cleanup() {
  if [ -f "$DIR/nginx.pid" ]; then
    pid=$(cat "$DIR/nginx.pid" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill -QUIT "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
  fi
  rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
mkdir -p "$DIR/tmp"

# --- upstream host:port and path of the registry ---
rest=${SCHEMA_REGISTRY_URL#*://}
UPSTREAM=${rest%%/*}
RPATH=/${rest#*/}
[ "$RPATH" = "/$rest" ] && RPATH=
RPATH=${RPATH%/}

# --- free ports ---
read -r TLS_PORT PLAIN_PORT BEARER_PORT FAIL_PORT DEAD_PORT < <(python3 - <<'PY'
import socket
socks = []
for _ in range(5):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
)

# --- certificates ---
(
  cd "$DIR"
  EC=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1)
  openssl req -x509 "${EC[@]}" -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=vtev test CA" 2>/dev/null
  openssl req -x509 "${EC[@]}" -nodes -keyout wrong-ca.key -out wrong-ca.pem -days 2 -subj "/CN=vtev wrong CA" 2>/dev/null
  openssl req "${EC[@]}" -nodes -keyout server.key -out server.csr -subj "/CN=localhost" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >server.ext
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile server.ext 2>/dev/null
  openssl req "${EC[@]}" -passout pass:key-pw-1 -keyout client.key -out client.csr -subj "/CN=vtev client" 2>/dev/null
  printf 'extendedKeyUsage=clientAuth\n' >client.ext
  openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 2 -extfile client.ext 2>/dev/null
)
USER_NAME=vtuser
PASSWORD='S3cr@t:pa/ss%20!'
printf '%s:%s\n' "$USER_NAME" "$(openssl passwd -apr1 "$PASSWORD")" >"$DIR/htpasswd"
# nginx workers run as another user when the master runs as root: they read
# the htpasswd file and write the temp directories.
chmod 755 "$DIR"
chmod 644 "$DIR/htpasswd"
chmod 1777 "$DIR/tmp"
BEARER_TOKEN=tok-$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')

sed -e "s|@DIR@|$DIR|g" -e "s|@UPSTREAM@|$UPSTREAM|g" -e "s|@TLS_PORT@|$TLS_PORT|g" \
    -e "s|@PLAIN_PORT@|$PLAIN_PORT|g" -e "s|@BEARER_PORT@|$BEARER_PORT|g" \
    -e "s|@FAIL_PORT@|$FAIL_PORT|g" -e "s|@BEARER_TOKEN@|$BEARER_TOKEN|g" \
    "$HERE/nginx.conf.in" >"$DIR/nginx.conf"

# nginx runs in the foreground of a background job (not as a daemon): it stays
# in this process group, so a test runner that kills the group also stops it.
START="'$NGINX' -q -p '$DIR' -e '$DIR/error.log' -c '$DIR/nginx.conf' -g 'daemon off;' </dev/null >/dev/null 2>&1 &"
# stop: fast shutdown, then wait until the listening ports are closed
STOP="pid=\$(cat '$DIR/nginx.pid' 2>/dev/null) && kill -TERM \$pid && while kill -0 \$pid 2>/dev/null; do sleep 0.05; done"
eval "$START"
up=0
for _ in $(seq 100); do
  if curl -s -o /dev/null "http://127.0.0.1:$PLAIN_PORT$RPATH/subjects"; then up=1; break; fi
  sleep 0.1
done
if [ "$up" != 1 ]; then
  echo "nginx did not start:" >&2
  cat "$DIR/error.log" >&2 || true
  exit 1
fi

export VTEV_TEST_TLS_URL="https://127.0.0.1:$TLS_PORT$RPATH"
export VTEV_TEST_TLS_CA="$DIR/ca.pem" VTEV_TEST_TLS_WRONG_CA="$DIR/wrong-ca.pem"
export VTEV_TEST_TLS_CERT="$DIR/client.pem" VTEV_TEST_TLS_KEY="$DIR/client.key"
export VTEV_TEST_TLS_KEY_PASSWORD=key-pw-1
export VTEV_TEST_USERINFO="$USER_NAME:$PASSWORD"
export VTEV_TEST_BEARER_URL="http://127.0.0.1:$BEARER_PORT$RPATH" VTEV_TEST_BEARER_TOKEN="$BEARER_TOKEN"
export VTEV_TEST_PROXY_URL="http://127.0.0.1:$PLAIN_PORT$RPATH"
export VTEV_TEST_PROXY_STOP="$STOP" VTEV_TEST_PROXY_START="$START"
export VTEV_TEST_FAIL_URL="http://127.0.0.1:$FAIL_PORT$RPATH"
export VTEV_TEST_DEAD_URL="http://127.0.0.1:$DEAD_PORT$RPATH"

rc=0
"$@" || rc=$?
if [ "$rc" -ne 0 ] && [ -s "$DIR/error.log" ]; then
  echo "--- nginx error.log ---" >&2
  tail -n 20 "$DIR/error.log" >&2
fi
exit "$rc"
