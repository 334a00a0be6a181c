#!/usr/bin/env bash
# Local stack without Docker: a single-node KRaft Apache Kafka broker and Apicurio Registry 3.x
# (Confluent-compatible API), both fetched from Maven Central with mvn and run on 127.0.0.1.
#
#   infra/local-stack.sh fetch | start | stop | status | env
#
# - start is idempotent: a component already running from this .local/ is reused; a port held by any
#   other process is a clear error (exit 2), never a hang. start waits until each service is ready.
# - stop is idempotent and kills only processes this script started: a pid file is trusted only while
#   that pid's command line is still the one this script ran (a pid recycled by the OS after a crash
#   or a reboot is never signalled).
# - All data, logs and pid files live under $DW_LOCAL_DIR (default: <repo>/.local/, git-ignored), so
#   a second stack on other ports (DW_*_PORT) with its own DW_LOCAL_DIR never touches the first.
# - Every fatal message starts with DW_INFRA_START_FAILED (docs/errors.md), the code the test setup
#   reports too.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCAL="${DW_LOCAL_DIR:-$ROOT/.local}"
KAFKA_PORT="${DW_KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${DW_KAFKA_CONTROLLER_PORT:-19093}"
REGISTRY_PORT="${DW_REGISTRY_PORT:-18081}"
# Quarkus management interface (health, metrics) of the registry; enabled at build time, so it is
# moved to loopback on its own port rather than disabled.
REGISTRY_MGMT_PORT="${DW_REGISTRY_MANAGEMENT_PORT:-$((REGISTRY_PORT + 1))}"
READY_TIMEOUT_S="${DW_READY_TIMEOUT_S:-180}"
APICURIO_VERSION="3.3.3"

KDIR="$LOCAL/kafka"
RDIR="$LOCAL/schema-registry"
mkdir -p "$KDIR" "$RDIR"

log() { printf '[local-stack] %s\n' "$*" >&2; }
# die MESSAGE [EXIT]: exit 2 for a port in use (the caller can pick other ports), 1 otherwise.
die() { printf '[local-stack] DW_INFRA_START_FAILED: %s\n' "$1" >&2; exit "${2:-1}"; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The command line of a live pid, arguments separated by spaces ('' when it is gone). /proc where
# there is one (Linux), ps elsewhere (macOS).
cmdline_of() {
  if [ -r "/proc/$1/cmdline" ]; then tr '\0' ' ' < "/proc/$1/cmdline" 2>/dev/null || true
  else ps -ww -o args= -p "$1" 2>/dev/null || true; fi
}

# owns PIDFILE NEEDLE...: the pid file names a live process whose command line holds every NEEDLE.
# kill -0 alone would trust a pid the OS has since given to an unrelated process (the stack died
# without `stop`, or the machine rebooted), and `stop` would then kill that process.
owns() {
  local pidfile="$1" pid cmd needle
  shift
  [ -f "$pidfile" ] || return 1
  pid=$(cat "$pidfile" 2>/dev/null || true)
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  cmd=$(cmdline_of "$pid")
  for needle in "$@"; do [[ "$cmd" == *"$needle"* ]] || return 1; done
}
# The main class and this stack's own config file / registry database: a Kafka or a registry of
# another stack (another DW_LOCAL_DIR) is not ours either.
kafka_alive() { owns "$KDIR/kafka.pid" kafka.Kafka "$KDIR/server.properties"; }
registry_alive() { owns "$RDIR/registry.pid" quarkus-run.jar "jdbc:h2:file:$RDIR/data/registry"; }
# While start waits for a process it has just launched (or has just checked with *_alive), plain
# liveness is right: between fork and exec the child's command line is still this script's.
still_running() { kill -0 "$(cat "$1")" 2>/dev/null; }

# Apicurio Registry 3.x is compiled for Java 21 (class file 65); Kafka 3.9 runs on 17+.
find_java21() {
  local cand v
  for cand in "${DW_REGISTRY_JAVA:-}" "${JAVA_HOME:+$JAVA_HOME/bin/java}" $(ls -d /usr/lib/jvm/*/bin/java 2>/dev/null) "$(command -v java || true)"; do
    [ -n "$cand" ] && [ -x "$cand" ] || continue
    v=$("$cand" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)
    if [ -n "$v" ] && [ "$v" -ge 21 ]; then echo "$cand"; return 0; fi
  done
  return 1
}

fetch_kafka() {
  if [ -f "$KDIR/lib/.complete" ]; then return 0; fi
  command -v mvn >/dev/null || die "mvn not found: install a JDK and Maven (e.g. apt-get install maven)"
  log "fetching Apache Kafka broker classpath from Maven Central (infra/kafka/pom.xml)"
  rm -rf "$KDIR/lib"
  mvn -B -q -f "$ROOT/infra/kafka/pom.xml" dependency:copy-dependencies -DoutputDirectory="$KDIR/lib" \
    || die "mvn could not fetch Kafka (see output above)"
  touch "$KDIR/lib/.complete"
}

fetch_registry() {
  if [ -f "$RDIR/app/.complete" ]; then return 0; fi
  command -v mvn >/dev/null || die "mvn not found: install a JDK and Maven"
  log "fetching Apicurio Registry $APICURIO_VERSION (all assembly) from Maven Central"
  rm -rf "$RDIR/app" "$RDIR/dl"
  mvn -B -q dependency:copy -Dartifact="io.apicurio:apicurio-registry-app:$APICURIO_VERSION:tar.gz:all" -DoutputDirectory="$RDIR/dl" \
    || die "mvn could not fetch io.apicurio:apicurio-registry-app:$APICURIO_VERSION:tar.gz:all"
  mkdir -p "$RDIR/app"
  tar -xzf "$RDIR"/dl/*.tar.gz -C "$RDIR/app"
  rm -rf "$RDIR/dl"
  [ -f "$RDIR/app/quarkus-run.jar" ] || die "registry assembly has no quarkus-run.jar"
  touch "$RDIR/app/.complete"
}

start_kafka() {
  if kafka_alive && port_open "$KAFKA_PORT"; then log "kafka already running on 127.0.0.1:$KAFKA_PORT (pid $(cat "$KDIR/kafka.pid"))"; return 0; fi
  if kafka_alive; then
    log "kafka process $(cat "$KDIR/kafka.pid") is alive but not listening yet; waiting"
  else
    for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
      port_open "$p" && die "port $p is already in use by another process; set DW_KAFKA_PORT / DW_KAFKA_CONTROLLER_PORT" 2
    done
    cat > "$KDIR/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$KDIR/data
num.partitions=4
offsets.topic.replication.factor=1
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
log.cleaner.min.compaction.lag.ms=0
EOF
    cat > "$KDIR/log4j.properties" <<EOF
log4j.rootLogger=WARN, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=$KDIR/server.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.KafkaRaftServer=INFO
EOF
    local cid
    if [ ! -f "$KDIR/data/meta.properties" ]; then
      cid=$(java -cp "$KDIR/lib/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)
      java -Dlog4j.configuration="file:$KDIR/log4j.properties" -cp "$KDIR/lib/*" kafka.tools.StorageTool format -t "$cid" -c "$KDIR/server.properties" --ignore-formatted >/dev/null 2>&1 \
        || die "kafka storage format failed"
    fi
    log "starting kafka on 127.0.0.1:$KAFKA_PORT"
    : > "$KDIR/server.log"
    nohup java -Xms256m -Xmx1g -Dlog4j.configuration="file:$KDIR/log4j.properties" -cp "$KDIR/lib/*" kafka.Kafka "$KDIR/server.properties" \
      > "$KDIR/stdout.log" 2>&1 < /dev/null &
    echo $! > "$KDIR/kafka.pid"
  fi
  local waited=0
  until port_open "$KAFKA_PORT" && grep -q "Kafka Server started" "$KDIR/server.log" 2>/dev/null; do
    still_running "$KDIR/kafka.pid" || { tail -20 "$KDIR/server.log" "$KDIR/stdout.log" >&2; die "kafka exited during start (logs above)"; }
    [ "$waited" -ge "$READY_TIMEOUT_S" ] && { tail -20 "$KDIR/server.log" >&2; die "kafka not ready after ${READY_TIMEOUT_S}s"; }
    sleep 1; waited=$((waited + 1))
  done
  log "kafka ready after ${waited}s"
}

start_registry() {
  local url="http://127.0.0.1:$REGISTRY_PORT/apis/ccompat/v7/subjects"
  if registry_alive && curl -fsS "$url" >/dev/null 2>&1; then log "schema registry already running on 127.0.0.1:$REGISTRY_PORT"; return 0; fi
  if ! registry_alive; then
    port_open "$REGISTRY_PORT" && die "port $REGISTRY_PORT is already in use by another process; set DW_REGISTRY_PORT" 2
    port_open "$REGISTRY_MGMT_PORT" && die "port $REGISTRY_MGMT_PORT (registry management) is already in use; set DW_REGISTRY_MANAGEMENT_PORT" 2
    local java
    java=$(find_java21) || die "Apicurio Registry 3.x needs Java 21+; none found in /usr/lib/jvm or JAVA_HOME (set DW_REGISTRY_JAVA)"
    log "starting Apicurio Registry on 127.0.0.1:$REGISTRY_PORT with $java"
    # Storage: Apicurio's SQL storage on an H2 *file* under .local/ (its default is H2 in memory).
    # Schema ids must survive a registry restart: producers cache ids, and an event framed with an
    # id the restarted registry no longer knows would be dead-lettered as DW_UNKNOWN_SCHEMA_ID.
    mkdir -p "$RDIR/data"
    # `cd` in the parent shell, then a simple background command: $! is then the java pid itself
    # (backgrounding `cd … && java …` would record a subshell and orphan java on stop).
    pushd "$RDIR/app" >/dev/null
    nohup "$java" -Xmx512m \
        -Dquarkus.http.host=127.0.0.1 -Dquarkus.http.port="$REGISTRY_PORT" \
        -Dquarkus.management.host=127.0.0.1 -Dquarkus.management.port="$REGISTRY_MGMT_PORT" -Dquarkus.log.level=WARN \
        -Dapicurio.datasource.url="jdbc:h2:file:$RDIR/data/registry;DB_CLOSE_ON_EXIT=FALSE" \
        -Dapicurio.rest.deletion.artifact.enabled=true -Dapicurio.rest.deletion.artifact-version.enabled=true \
        -jar quarkus-run.jar > "$RDIR/registry.log" 2>&1 < /dev/null &
    echo $! > "$RDIR/registry.pid"
    popd >/dev/null
  fi
  local waited=0
  until curl -fsS "$url" >/dev/null 2>&1; do
    still_running "$RDIR/registry.pid" || { tail -20 "$RDIR/registry.log" >&2; die "schema registry exited during start (log above)"; }
    [ "$waited" -ge "$READY_TIMEOUT_S" ] && { tail -20 "$RDIR/registry.log" >&2; die "schema registry not ready after ${READY_TIMEOUT_S}s"; }
    sleep 1; waited=$((waited + 1))
  done
  log "schema registry ready after ${waited}s"
}

# stop_one NAME PIDFILE ALIVE_FN
stop_one() {
  local name="$1" pidfile="$2" alive="$3"
  if "$alive"; then
    local pid; pid=$(cat "$pidfile")
    log "stopping $name (pid $pid)"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -0 "$pid" 2>/dev/null && { log "$name did not stop in 30s; SIGKILL"; kill -9 "$pid" 2>/dev/null || true; }
  elif [ -f "$pidfile" ]; then
    log "$name is not running (stale pid file $pidfile: pid $(cat "$pidfile" 2>/dev/null) is gone or is another program; not signalled)"
  fi
  rm -f "$pidfile"
}

status() {
  local k=down r=down
  kafka_alive && port_open "$KAFKA_PORT" && k="up (pid $(cat "$KDIR/kafka.pid"))"
  registry_alive && r="up (pid $(cat "$RDIR/registry.pid"))"
  echo "kafka 127.0.0.1:$KAFKA_PORT: $k"
  echo "schema-registry http://127.0.0.1:$REGISTRY_PORT/apis/ccompat/v7: $r"
}

case "${1:-}" in
  fetch) fetch_kafka; fetch_registry ;;
  start) fetch_kafka; fetch_registry; start_kafka; start_registry ;;
  stop) stop_one "schema registry" "$RDIR/registry.pid" registry_alive; stop_one kafka "$KDIR/kafka.pid" kafka_alive ;;
  restart-kafka) stop_one kafka "$KDIR/kafka.pid" kafka_alive; start_kafka ;;
  stop-kafka) stop_one kafka "$KDIR/kafka.pid" kafka_alive ;;
  start-kafka) start_kafka ;;
  stop-registry) stop_one "schema registry" "$RDIR/registry.pid" registry_alive ;;
  start-registry) start_registry ;;
  status) status ;;
  env)
    echo "KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT"
    echo "SCHEMA_REGISTRY_URL=http://127.0.0.1:$REGISTRY_PORT/apis/ccompat/v7" ;;
  *) echo "usage: $0 fetch|start|stop|status|env|restart-kafka|stop-kafka|start-kafka|stop-registry|start-registry" >&2; exit 64 ;;
esac
