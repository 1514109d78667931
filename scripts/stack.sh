#!/usr/bin/env bash
# scripts/stack.sh - a real local Apache Kafka (KRaft) and Apicurio Registry.
#
#   scripts/stack.sh up [--nodes 1|3] [--secure] [--monitoring] [--quiet]
#                                                 download (first time), start, wait, write env;
#                                                 --monitoring: also Prometheus (Debian's), scraping
#                                                 the example services' --http ports; --secure: one
#                                                 node with SASL_SSL, mTLS and ACLs only
#                                                 (scripts/stack/secure.sh, doc/security.md)
#   scripts/stack.sh down [--quiet]               stop exactly what `up` started, remove the data
#   scripts/stack.sh status [--quiet]             what runs where; exit 0 only when all runs
#   scripts/stack.sh env                          print the env file
#   scripts/stack.sh node stop|kill|start ID      one Kafka node of the --nodes 3 mode
#   scripts/stack.sh fetch                        only download (and build the probe)
#
# Everything binds to 127.0.0.1. Downloads come through Maven (scripts/stack/pom.xml) into
# the git-ignored .cache/stack/; the state (configs, data, logs, pid files, env) lives in
# $VTEV_STACK_DIR (default .stack/). doc/stack.md describes ports, files and variables.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HERE=$ROOT/scripts/stack
POM=$HERE/pom.xml

pom_prop() { sed -n "s:.*<$1>\(.*\)</$1>.*:\1:p" "$POM" | head -n1; }
KAFKA_VERSION=$(pom_prop kafka.version)
APICURIO_VERSION=$(pom_prop apicurio.version)

CACHE=$ROOT/.cache/stack
KAFKA_LIBS=$CACHE/kafka-$KAFKA_VERSION/libs
APICURIO_HOME=$CACHE/apicurio-registry-$APICURIO_VERSION

abspath() { case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$PWD/$1" ;; esac; }
STATE=$(abspath "${VTEV_STACK_DIR:-$ROOT/.stack}")
BUILD=${VTEV_BUILD_DIR:-build}
case "$BUILD" in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac

KAFKA_PORT=${VTEV_STACK_KAFKA_PORT:-29092}
REGISTRY_PORT=${VTEV_STACK_REGISTRY_PORT:-28081}
PROMETHEUS_PORT=${VTEV_STACK_PROMETHEUS_PORT:-29090}
KAFKA_HEAP=${VTEV_STACK_KAFKA_HEAP:-512m}
REGISTRY_HEAP=${VTEV_STACK_REGISTRY_HEAP:-384m}
START_TIMEOUT=${VTEV_STACK_TIMEOUT:-120}
STOP_TIMEOUT=${VTEV_STACK_STOP_TIMEOUT:-20}
JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java
MARKER=.vtev-stack
# shellcheck source=stack/secure.sh
. "$HERE/secure.sh"
CONTROLLER_BASE=
# A running stack remembers its ports: status/node/down/up use them, whatever
# the environment of the later call says.
if [ -f "$STATE/ports" ]; then
  # shellcheck disable=SC1091
  . "$STATE/ports"
fi

QUIET=0
say() { [ "$QUIET" = 1 ] || printf '%s\n' "$*"; }
log() { [ "$QUIET" = 1 ] || printf 'stack: %s\n' "$*" >&2; }
UP_FRESH=0 # set while `up` builds a new stack: a failure then undoes it
die() {
  printf 'stack: %s\n' "$*" >&2
  if [ "$UP_FRESH" = 1 ]; then
    UP_FRESH=0
    show_failure
    stop_pids TERM "$STATE/prometheus/prometheus.pid" "$STATE/registry/registry.pid" "$STATE"/kafka-*/kafka.pid
    remove_state
  fi
  exit 1
}
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# ---------------------------------------------------------------- ports --
# One node: broker KAFKA_PORT, controller VTEV_STACK_CONTROLLER_PORT (default KAFKA_PORT+1).
# Three nodes: broker of node i (1..3) at KAFKA_PORT+i-1, its controller at
# CONTROLLER_PORT+i-1 where CONTROLLER_PORT defaults to KAFKA_PORT+3.
controller_base() {
  local n=$1
  echo "${CONTROLLER_BASE:-${VTEV_STACK_CONTROLLER_PORT:-$((KAFKA_PORT + n))}}"
}
broker_port() { echo $((KAFKA_PORT + $1 - 1)); }
controller_port() { echo $(($(controller_base "$2") + $1 - 1)); }

nodes_of_state() { cat "$STATE/nodes" 2>/dev/null || echo 0; }

bootstrap_of() {
  local n=$1 i out=
  for ((i = 1; i <= n; i++)); do out+="${out:+,}127.0.0.1:$(broker_port "$i")"; done
  echo "$out"
}
registry_url() { echo "http://127.0.0.1:$REGISTRY_PORT/apis/ccompat/v7"; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A port is busy when it cannot be bound as a server binds it (SO_REUSEADDR):
# a listener, but also a socket that is bound without listening or a
# client connection using it as its local port, which a connect test misses
# and which made Kafka fail with a BindException right after a `down`.
port_busy() {
  python3 -c 'import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(0)
sys.exit(1)' "$1"
}

# wait_ports_free PORT...: waits up to VTEV_STACK_PORT_WAIT seconds (default
# 30) for every port to become free; dies naming those still in use.
wait_ports_free() {
  local deadline=$((SECONDS + ${VTEV_STACK_PORT_WAIT:-30})) p busy waited=0
  while :; do
    busy=()
    for p in "$@"; do port_busy "$p" && busy+=("$p"); done
    [ "${#busy[@]}" = 0 ] && return 0
    [ $SECONDS -ge $deadline ] && break
    [ "$waited" = 0 ] && log "waiting for port(s) ${busy[*]} on 127.0.0.1 to become free"
    waited=1
    sleep 0.5
  done
  die "port(s) ${busy[*]} still in use on 127.0.0.1 after ${VTEV_STACK_PORT_WAIT:-30}s; choose others with VTEV_STACK_KAFKA_PORT / VTEV_STACK_CONTROLLER_PORT / VTEV_STACK_REGISTRY_PORT"
}

# --------------------------------------------------------------- fetch --
mvn_run() {
  local logf=$CACHE/maven.log
  mkdir -p "$CACHE"
  if ! mvn -B -q -Dstyle.color=never -f "$POM" "$@" >"$logf" 2>&1; then
    cat "$logf" >&2
    die "maven failed (mvn $*); see $logf"
  fi
}

fetch_kafka() {
  [ -f "$KAFKA_LIBS/.complete" ] && return 0
  log "fetching Apache Kafka $KAFKA_VERSION and its dependencies through Maven"
  local tmp=$CACHE/kafka-$KAFKA_VERSION.tmp
  rm -rf "$tmp"
  mvn_run dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp"
  ls "$tmp"/kafka_2.13-"$KAFKA_VERSION".jar >/dev/null || die "kafka_2.13-$KAFKA_VERSION.jar missing after maven"
  rm -rf "$(dirname "$KAFKA_LIBS")"
  mkdir -p "$(dirname "$KAFKA_LIBS")"
  mv "$tmp" "$KAFKA_LIBS"
  touch "$KAFKA_LIBS/.complete"
}

fetch_apicurio() {
  [ -f "$APICURIO_HOME/.complete" ] && return 0
  log "fetching Apicurio Registry $APICURIO_VERSION through Maven"
  local dl=$CACHE/download tmp=$APICURIO_HOME.tmp tgz
  mvn_run dependency:copy -Dartifact="io.apicurio:apicurio-registry-app:$APICURIO_VERSION:tar.gz:all" \
    -DoutputDirectory="$dl"
  tgz=$dl/apicurio-registry-app-$APICURIO_VERSION-all.tar.gz
  [ -f "$tgz" ] || die "$tgz missing after maven"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  tar -xzf "$tgz" -C "$tmp"
  rm -rf "$APICURIO_HOME"
  mv "$tmp" "$APICURIO_HOME"
  rm -f "$tgz"
  touch "$APICURIO_HOME/.complete"
}

apicurio_jar() {
  # 3.0.x ships a legacy-jar layout (*-runner.jar + lib/); newer ones quarkus-app/quarkus-run.jar.
  local j
  for j in "$APICURIO_HOME"/*-runner.jar "$APICURIO_HOME"/quarkus-run.jar "$APICURIO_HOME"/*/quarkus-run.jar; do
    [ -f "$j" ] && { echo "$j"; return 0; }
  done
  die "no runnable jar in $APICURIO_HOME"
}

# --------------------------------------------------------------- probe --
# The metadata probe: the meson-built tools/vt-stack-probe, or the same source
# compiled into the cache when no build directory has it.
PROBE=
find_probe() {
  [ -n "$PROBE" ] && return 0
  if [ -x "$BUILD/tools/vt-stack-probe" ]; then PROBE=$BUILD/tools/vt-stack-probe; return 0; fi
  local src=$ROOT/tools/vt-stack-probe.c out=$CACHE/bin/vt-stack-probe
  if [ ! -x "$out" ] || [ "$src" -nt "$out" ]; then
    mkdir -p "$CACHE/bin"
    # shellcheck disable=SC2046
    ${CC:-cc} -std=c11 -D_GNU_SOURCE -O2 -o "$out.tmp" "$src" $(pkg-config --cflags --libs rdkafka) ||
      die "cannot compile the metadata probe ($src); is librdkafka-dev installed? (./run deps)"
    mv "$out.tmp" "$out"
  fi
  PROBE=$out
}

# --------------------------------------------------------- processes --
# A pid file is trusted only while its process still runs the command line we
# started (it names a file inside the state dir), so a recycled pid is never killed.
pid_alive() {
  local pidfile=$1 pid
  [ -f "$pidfile" ] || return 1
  pid=$(cat "$pidfile")
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$STATE/" || return 1
  echo "$pid"
}

stop_pids() { # stop_pids SIGNAL-FIRST pidfile...
  local first=$1 f pid pids=() deadline
  shift
  for f in "$@"; do
    if pid=$(pid_alive "$f"); then pids+=("$pid"); kill "-$first" "$pid" 2>/dev/null || true; fi
  done
  [ "${#pids[@]}" -gt 0 ] || return 0
  deadline=$((SECONDS + STOP_TIMEOUT))
  while [ $SECONDS -lt $deadline ]; do
    local left=0
    for pid in "${pids[@]}"; do [ -d "/proc/$pid" ] && left=1; done
    [ "$left" = 0 ] && return 0
    sleep 0.2
  done
  for pid in "${pids[@]}"; do
    if [ -d "/proc/$pid" ]; then
      log "pid $pid did not stop within ${STOP_TIMEOUT}s: KILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  for pid in "${pids[@]}"; do while [ -d "/proc/$pid" ]; do sleep 0.1; done; done
}

# ------------------------------------------------------------- kafka --
node_dir() { echo "$STATE/kafka-$1"; }

write_kafka_config() { # id nodes
  local id=$1 n=$2 dir rf isr voters= i
  dir=$(node_dir "$id")
  if [ "$n" = 3 ]; then rf=3 isr=2; else rf=1 isr=1; fi
  for ((i = 1; i <= n; i++)); do voters+="${voters:+,}$i@127.0.0.1:$(controller_port "$i" "$n")"; done
  mkdir -p "$dir/data" "$dir/logs"
  cat >"$dir/server.properties" <<EOF
# Generated by scripts/stack.sh for node $id of $n.
process.roles=broker,controller
node.id=$id
controller.quorum.voters=$voters
$(if stack_secure; then secure_kafka_listeners "$(controller_port "$id" "$n")"; else plain_listeners "$id" "$n"; fi)
log.dirs=$dir/data
num.partitions=1
auto.create.topics.enable=true
default.replication.factor=$rf
min.insync.replicas=$isr
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$isr
transaction.state.log.num.partitions=10
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=$isr
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.retention.hours=24
log.segment.bytes=67108864
EOF
}

plain_listeners() { # id nodes
  cat <<EOF
listeners=PLAINTEXT://127.0.0.1:$(broker_port "$1"),CONTROLLER://127.0.0.1:$(controller_port "$1" "$2")
advertised.listeners=PLAINTEXT://127.0.0.1:$(broker_port "$1")
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
EOF
}

kafka_java() { # main-class args... (foreground, short-lived tools)
  "$JAVA" -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -Djava.awt.headless=true -Dlog4j2.configurationFile="$HERE/log4j2.properties" \
    -cp "$KAFKA_LIBS/*" "$@"
}

format_node() { # id cluster-id
  local dir scram=()
  dir=$(node_dir "$1")
  if stack_secure; then mapfile -t scram < <(secure_scram_args); fi
  kafka_java -Dkafka.logs.dir="$dir/logs" kafka.tools.StorageTool format --ignore-formatted \
    -t "$2" -c "$dir/server.properties" "${scram[@]+"${scram[@]}"}" >"$dir/logs/format.log" 2>&1 ||
    { cat "$dir/logs/format.log" >&2; die "formatting node $1 failed"; }
}

start_node() { # id
  local id=$1 dir port
  dir=$(node_dir "$id")
  pid_alive "$dir/kafka.pid" >/dev/null && return 0
  port=$(broker_port "$id")
  wait_ports_free "$port" "$(controller_port "$id" "$(cat "$STATE/nodes" 2>/dev/null || echo 1)")" \
    $(stack_secure && mtls_port)
  (
    cd "$dir"
    exec setsid "$JAVA" -Xms64m "-Xmx$KAFKA_HEAP" -XX:+UseSerialGC -XX:MaxMetaspaceSize=256m \
      -Djava.awt.headless=true -Dlog4j2.configurationFile="$HERE/log4j2.properties" \
      -Dkafka.logs.dir="$dir/logs" -cp "$KAFKA_LIBS/*" \
      kafka.Kafka "$dir/server.properties" </dev/null >"$dir/logs/stdout.log" 2>&1
  ) &
  echo $! >"$dir/kafka.pid"
}

new_cluster_id() { # 16 random bytes, base64url without padding, not starting with '-' (as Kafka's Uuid)
  local id
  while :; do
    id=$(head -c16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
    case "$id" in -*) ;; *) echo "$id"; return ;; esac
  done
}

# ---------------------------------------------------------- registry --
start_registry() {
  local dir=$STATE/registry jar
  pid_alive "$dir/registry.pid" >/dev/null && return 0
  wait_ports_free "$REGISTRY_PORT"
  jar=$(apicurio_jar)
  mkdir -p "$dir/tmp"
  (
    cd "$dir"
    exec setsid "$JAVA" "-Xmx$REGISTRY_HEAP" -XX:+UseSerialGC -XX:MaxMetaspaceSize=192m \
      -Djava.io.tmpdir="$dir/tmp" -Dvtev.stack.dir="$dir/" \
      -Dquarkus.http.host=127.0.0.1 -Dquarkus.http.port="$REGISTRY_PORT" \
      -Dapicurio.storage.kind=sql -Dapicurio.storage.sql.kind=h2 \
      -Dapicurio.datasource.url="jdbc:h2:mem:vtev_registry" \
      -Dapicurio.import.work-dir="$dir/tmp" -Dapicurio.storage.snapshot.location="$dir/tmp" \
      -Dquarkus.http.access-log.enabled=false \
      -Dapicurio.ccompat.use-canonical-hash=true \
      -jar "$jar" </dev/null >"$dir/registry.log" 2>&1
  ) &
  echo $! >"$dir/registry.pid"
}

registry_answers() { curl -fsS --max-time 3 "$(registry_url)/subjects" 2>/dev/null; }

# -------------------------------------------------------- prometheus --
# The example services' --http ports (doc/monitoring.md): vt-demo 9100,
# position-simulator 9101, prediction-trigger 9102, prediction-worker 9103,
# prediction-persister 9104, lag-exporter 9105.
MONITORED=(vt-demo:9100 position-simulator:9101 prediction-trigger:9102 prediction-worker:9103
           prediction-persister:9104 lag-exporter:9105)
prometheus_url() { echo "http://127.0.0.1:$PROMETHEUS_PORT"; }

start_prometheus() {
  local dir=$STATE/prometheus prom j
  pid_alive "$dir/prometheus.pid" >/dev/null && return 0
  prom=$(command -v prometheus) || die "prometheus not found (./run deps installs Debian's prometheus)"
  wait_ports_free "$PROMETHEUS_PORT"
  mkdir -p "$dir/data"
  {
    echo "# written by scripts/stack.sh up --monitoring"
    echo "global: {scrape_interval: 5s, evaluation_interval: 5s}"
    echo "rule_files: ['$ROOT/doc/monitoring/alerts.yml']"
    echo "scrape_configs:"
    for j in "${MONITORED[@]}"; do
      echo "  - job_name: ${j%%:*}"
      echo "    static_configs: [{targets: ['127.0.0.1:${j##*:}']}]"
    done
  } >"$dir/prometheus.yml"
  (
    cd "$dir"
    exec setsid "$prom" --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
      --web.listen-address="127.0.0.1:$PROMETHEUS_PORT" </dev/null >"$dir/prometheus.log" 2>&1
  ) &
  echo $! >"$dir/prometheus.pid"
  echo "$PROMETHEUS_PORT" >"$dir/port"
}

wait_prometheus() { # deadline-seconds
  while [ "$SECONDS" -lt "$1" ]; do
    curl -fsS --max-time 2 "$(prometheus_url)/-/ready" >/dev/null 2>&1 && return 0
    pid_alive "$STATE/prometheus/prometheus.pid" >/dev/null || return 1
    sleep 0.5
  done
  return 1
}

# --------------------------------------------------------------- wait --
# The probe's connection: the brokers, or on the secure stack User:admin's SASL_SSL properties.
probe_conn() { # nodes
  if stack_secure; then echo "-F"; secure_admin_conf; else echo "-b"; bootstrap_of "$1"; fi
}

wait_kafka() { # nodes deadline-seconds; fails early when a node's JVM exits
  local n=$1 i conn
  find_probe
  mapfile -t conn < <(probe_conn "$n")
  while :; do
    "$PROBE" -q "${conn[@]}" -n "$n" -w 2 && return 0
    for ((i = 1; i <= n; i++)); do
      pid_alive "$(node_dir "$i")/kafka.pid" >/dev/null || { log "Kafka node $i exited"; return 1; }
    done
    [ $SECONDS -lt "$2" ] || return 1
  done
}

wait_registry() { # deadline-seconds
  while [ $SECONDS -lt "$1" ]; do
    pid_alive "$STATE/registry/registry.pid" >/dev/null || return 1
    [ "$(registry_answers)" != "" ] && return 0
    sleep 0.25
  done
  return 1
}

show_failure() {
  local f
  for f in "$STATE"/kafka-*/logs/server.log "$STATE"/kafka-*/logs/stdout.log "$STATE/registry/registry.log"; do
    [ -s "$f" ] || continue
    printf -- '--- last lines of %s\n' "$f" >&2
    tail -n 15 "$f" >&2
    # the cause of a failed start is often far above the shutdown's last lines
    grep -m 3 -E 'Address already in use|BindException|FATAL|Exiting Kafka' "$f" >&2 || true
  done
}

write_env() {
  local n=$1
  if stack_secure; then
    # no KAFKA_BOOTSTRAP_SERVERS: it would override the brokers of a properties file (-F)
    printf 'SCHEMA_REGISTRY_URL=%s\nVTEV_STACK_NODES=%s\nVTEV_STACK_SECURE=1\n' \
      "$(registry_url)" "$n" >"$STATE/env.tmp"
    secure_write_env "$STATE/env.tmp"
  else
    cat >"$STATE/env.tmp" <<EOF
KAFKA_BOOTSTRAP_SERVERS=$(bootstrap_of "$n")
SCHEMA_REGISTRY_URL=$(registry_url)
VTEV_STACK_NODES=$n
EOF
  fi
  if [ -f "$STATE/prometheus/port" ]; then
    echo "PROMETHEUS_URL=$(prometheus_url)" >>"$STATE/env.tmp"
  fi
  mv "$STATE/env.tmp" "$STATE/env"
}

# ---------------------------------------------------------- commands --
cmd_up() {
  local n= t0 running i deadline cid java_major monitoring=0 secure=0
  while [ $# -gt 0 ]; do
    case "$1" in
      --monitoring) monitoring=1; shift ;;
      --secure) secure=1; shift ;;
      --nodes) n=${2:-}; shift 2 || die "--nodes needs a value" ;;
      --nodes=*) n=${1#--nodes=}; shift ;;
      -q|--quiet) QUIET=1; shift ;;
      *) die "up: unknown argument $1" ;;
    esac
  done
  if [ -z "$n" ]; then # default: what already runs, else one node
    n=$(nodes_of_state)
    [ "$n" != 0 ] || n=1
  fi
  case "$n" in 1|3) ;; *) die "--nodes must be 1 or 3 (got $n)" ;; esac
  [ "$secure" = 1 ] && [ "$n" != 1 ] && die "--secure runs one node (got --nodes $n)"
  t0=$(now)
  command -v "$JAVA" >/dev/null || die "java not found (./run deps installs default-jre-headless)"
  java_major=$("$JAVA" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1)
  [ "${java_major:-0}" -ge 17 ] || die "Kafka $KAFKA_VERSION needs Java 17 or newer ($JAVA is ${java_major:-unknown})"

  running=$(nodes_of_state)
  if [ "$running" != 0 ]; then
    if any_alive; then
      [ "$running" = "$n" ] || die "the stack already runs with $running node(s) in $STATE; run \`down\` first"
      if [ "$secure" = 1 ] && ! stack_secure; then
        die "the stack in $STATE runs without --secure; run \`down\` first"
      fi
    else
      log "removing stale state in $STATE (nothing of it runs)"
      remove_state
      running=0
      KAFKA_PORT=${VTEV_STACK_KAFKA_PORT:-29092} REGISTRY_PORT=${VTEV_STACK_REGISTRY_PORT:-28081} CONTROLLER_BASE=
    fi
  fi

  fetch_kafka
  fetch_apicurio
  find_probe

  if [ "$running" = 0 ]; then
    ports_free "$n" "$secure"
    UP_FRESH=1
    mkdir -p "$STATE"
    touch "$STATE/$MARKER"
    echo "$n" >"$STATE/nodes"
    printf 'KAFKA_PORT=%s\nCONTROLLER_BASE=%s\nREGISTRY_PORT=%s\n' \
      "$KAFKA_PORT" "$(controller_base "$n")" "$REGISTRY_PORT" >"$STATE/ports"
    cid=$(new_cluster_id)
    echo "$cid" >"$STATE/cluster-id"
    if [ "$secure" = 1 ]; then
      touch "$STATE/secure-mode"
      local tc
      tc=$(now)
      secure_make_certs
      secure_write_clients
      log "secure: CA, broker and $(secure_principals | wc -l) client certificates in $(elapsed "$tc")s"
    fi
    for ((i = 1; i <= n; i++)); do write_kafka_config "$i" "$n"; done
    for ((i = 1; i <= n; i++)); do (UP_FRESH=0; format_node "$i" "$cid") & done
    wait_all_or_die "formatting"
  fi
  start_registry
  for ((i = 1; i <= n; i++)); do start_node "$i"; done

  deadline=$((SECONDS + START_TIMEOUT))
  # A fresh stack that does not come up is stopped and removed again (die);
  # a running one that up only repaired is left as it is, for `status` and the logs.
  wait_kafka "$n" "$deadline" ||
    die "Kafka did not come up (a metadata request listing $n broker(s), waited at most ${START_TIMEOUT}s)"
  wait_registry "$deadline" ||
    die "Apicurio Registry did not answer $(registry_url)/subjects within ${START_TIMEOUT}s"
  if stack_secure && [ "$UP_FRESH" = 1 ]; then
    local tp
    tp=$(now)
    secure_provision
    log "secure: ACLs and platform topics in $(elapsed "$tp")s"
  fi
  if [ "$monitoring" = 1 ]; then
    start_prometheus
    wait_prometheus "$deadline" ||
      die "Prometheus did not answer $(prometheus_url)/-/ready (log: $STATE/prometheus/prometheus.log)"
  fi
  write_env "$n"
  UP_FRESH=0
  log "up in $(elapsed "$t0")s: $n Kafka node(s)$(stack_secure && echo " (secure: SASL_SSL 127.0.0.1:$KAFKA_PORT, mTLS 127.0.0.1:$(mtls_port), ACLs)"), Apicurio Registry$([ "$monitoring" = 1 ] && echo ", Prometheus $(prometheus_url)"); env in $STATE/env"
  [ "$QUIET" = 1 ] || cat "$STATE/env"
}

ports_free() { # every port a fresh stack of n nodes needs is free (waiting a while), or die before starting anything
  local n=$1 i ports=()
  for ((i = 1; i <= n; i++)); do ports+=("$(broker_port "$i")" "$(controller_port "$i" "$n")"); done
  [ "${2:-0}" = 1 ] && ports+=("$(mtls_port)")
  wait_ports_free "${ports[@]}" "$REGISTRY_PORT"
}

wait_all_or_die() {
  local rc=0 j
  for j in $(jobs -p); do wait "$j" || rc=1; done
  [ "$rc" = 0 ] || die "$1 failed"
}

any_alive() {
  local f
  for f in "$STATE"/kafka-*/kafka.pid "$STATE/registry/registry.pid" "$STATE/prometheus/prometheus.pid"; do
    pid_alive "$f" >/dev/null && return 0
  done
  return 1
}

remove_state() {
  [ -d "$STATE" ] || return 0
  if [ -f "$STATE/$MARKER" ] || [ -z "$(ls -A "$STATE")" ]; then
    rm -rf "$STATE"
  else
    die "$STATE does not look like a stack state dir (no $MARKER); not removing it"
  fi
}

cmd_down() {
  while [ $# -gt 0 ]; do
    case "$1" in -q|--quiet) QUIET=1; shift ;; *) die "down: unknown argument $1" ;; esac
  done
  if [ ! -d "$STATE" ]; then log "not running (no $STATE)"; return 0; fi
  local t0
  t0=$(now)
  stop_pids TERM "$STATE/prometheus/prometheus.pid" "$STATE/registry/registry.pid" "$STATE"/kafka-*/kafka.pid
  remove_state
  log "down in $(elapsed "$t0")s; removed $STATE"
}

cmd_status() {
  while [ $# -gt 0 ]; do
    case "$1" in -q|--quiet) QUIET=1; shift ;; *) die "status: unknown argument $1" ;; esac
  done
  local n i pid up=0 total=0 dir
  n=$(nodes_of_state)
  if [ "$n" = 0 ]; then say "stack: not running (no state in $STATE)"; return 1; fi
  say "stack state: $STATE ($n Kafka node(s), Kafka $KAFKA_VERSION, Apicurio Registry $APICURIO_VERSION)"
  for ((i = 1; i <= n; i++)); do
    dir=$(node_dir "$i")
    total=$((total + 1))
    if pid=$(pid_alive "$dir/kafka.pid"); then
      up=$((up + 1))
      say "  kafka node $i: running, pid $pid, broker 127.0.0.1:$(broker_port "$i"), controller 127.0.0.1:$(controller_port "$i" "$n"), logs $dir/logs"
    else
      say "  kafka node $i: stopped (broker port $(broker_port "$i"))"
    fi
  done
  total=$((total + 1))
  if pid=$(pid_alive "$STATE/registry/registry.pid"); then
    if [ "$(registry_answers)" != "" ]; then
      up=$((up + 1))
      say "  registry: running, pid $pid, $(registry_url), log $STATE/registry/registry.log"
    else
      say "  registry: pid $pid does not answer $(registry_url)/subjects"
    fi
  else
    say "  registry: stopped (port $REGISTRY_PORT)"
  fi
  if [ "$up" -gt 1 ] || { [ "$up" = 1 ] && [ "$total" -gt 1 ]; }; then
    find_probe
    local conn
    mapfile -t conn < <(probe_conn "$n")
    if [ "$QUIET" = 1 ]; then
      "$PROBE" -q "${conn[@]}" || up=0
    else
      "$PROBE" "${conn[@]}" | sed 's/^/  /' || up=0
    fi
  fi
  if [ -f "$STATE/prometheus/port" ]; then
    if pid=$(pid_alive "$STATE/prometheus/prometheus.pid"); then
      say "  prometheus: running, pid $pid, $(prometheus_url), config $STATE/prometheus/prometheus.yml"
    else
      say "  prometheus: stopped (port $PROMETHEUS_PORT)"
    fi
  fi
  [ -f "$STATE/env" ] && say "  env: $STATE/env"
  [ "$up" = "$total" ] && return 0
  [ "$up" = 0 ] && return 1
  return 3
}

cmd_env() {
  [ -f "$STATE/env" ] || die "not running (no $STATE/env)"
  cat "$STATE/env"
}

cmd_node() {
  local action=${1:-} id=${2:-} n dir other t0 i
  [ -n "$action" ] && [ -n "$id" ] || die "usage: node stop|kill|start ID"
  n=$(nodes_of_state)
  [ "$n" != 0 ] || die "not running (no state in $STATE)"
  [[ "$id" =~ ^[0-9]+$ ]] && [ "$id" -ge 1 ] && [ "$id" -le "$n" ] || die "node id must be 1..$n"
  dir=$(node_dir "$id")
  t0=$(now)
  # another node's bootstrap, to watch the cluster from outside the node
  other=
  for ((i = 1; i <= n; i++)); do [ "$i" = "$id" ] || other+="${other:+,}127.0.0.1:$(broker_port "$i")"; done
  case "$action" in
    stop|kill)
      pid_alive "$dir/kafka.pid" >/dev/null || { log "node $id is not running"; return 0; }
      if [ "$action" = kill ]; then stop_pids KILL "$dir/kafka.pid"; else stop_pids TERM "$dir/kafka.pid"; fi
      if [ -n "$other" ]; then
        find_probe
        "$PROBE" -q -b "$other" -x "$id" -w 30 ||
          log "node $id stopped, but the other nodes still list it after 30s"
      fi
      log "node $id $([ "$action" = kill ] && echo killed || echo stopped) in $(elapsed "$t0")s (data kept in $dir/data)"
      ;;
    start)
      [ -f "$dir/server.properties" ] || die "node $id has no configuration in $dir"
      fetch_kafka
      start_node "$id"
      find_probe
      local conn
      mapfile -t conn < <(probe_conn "$n")
      if ! "$PROBE" -q "${conn[@]}" -b "127.0.0.1:$(broker_port "$id")" -i "$id" -w "$START_TIMEOUT"; then
        show_failure
        die "node $id did not answer within ${START_TIMEOUT}s"
      fi
      if [ -n "$other" ]; then
        "$PROBE" -q -b "$other" -i "$id" -w 30 || log "node $id answers, but the other nodes do not list it yet"
      fi
      log "node $id started in $(elapsed "$t0")s"
      ;;
    *) die "usage: node stop|kill|start ID" ;;
  esac
}

usage() {
  cat <<EOF
usage: scripts/stack.sh COMMAND [ARGS]
  up [--nodes 1|3] [--quiet]   fetch (first time), start Kafka $KAFKA_VERSION (KRaft) and Apicurio
                               Registry $APICURIO_VERSION on 127.0.0.1, wait, write \$VTEV_STACK_DIR/env
  up --secure                  one node with SASL_SSL (SCRAM-SHA-512) and mTLS listeners only, ACLs
                               per example service, client properties in \$VTEV_STACK_DIR/secure/
                               (doc/security.md)
  down [--quiet]               stop what up started (TERM, then KILL after ${STOP_TIMEOUT}s), remove the data
  status [--quiet]             what runs where; exit 0 all running, 1 not running, 3 partly running
  env                          print the env file
  node stop|kill|start ID      stop (TERM), kill (KILL) or restart Kafka node ID (--nodes 3 mode)
  fetch                        only download into .cache/stack/ (and build the probe)
Environment: VTEV_STACK_KAFKA_PORT (29092) VTEV_STACK_CONTROLLER_PORT VTEV_STACK_REGISTRY_PORT (28081)
             VTEV_STACK_DIR (<repo>/.stack) VTEV_BUILD_DIR (build) VTEV_STACK_TIMEOUT (120)
             VTEV_STACK_KAFKA_HEAP (512m) VTEV_STACK_REGISTRY_HEAP (384m). See doc/stack.md.
EOF
}

sub=${1:-help}
[ $# -gt 0 ] && shift
case "$sub" in
  up) cmd_up "$@" ;;
  down) cmd_down "$@" ;;
  status) cmd_status "$@" ;;
  env) cmd_env ;;
  node) cmd_node "$@" ;;
  fetch) fetch_kafka; fetch_apicurio; find_probe ;;
  help|-h|--help) usage ;;
  *) usage >&2; exit 2 ;;
esac
