#!/usr/bin/env bash
# Real Apache Kafka (KRaft) from the broker's jars on Maven Central.
#   kafka.sh fetch                 resolve the jars into .cache/kafka/libs (once)
#   kafka.sh start                 single node: 127.0.0.1:${KAFKA_PORT:-9092}
#   kafka.sh start-cluster         3 nodes on loopback: 127.0.0.1:19092,19094,19096 (RF 3, min ISR 2)
#   kafka.sh start-secure DIR      single node with TLS listeners, certificates from DIR (tools/tls/certs.py):
#                                  SASL_SSL on ${KAFKA_SECURE_PORT:-9194} (SCRAM-SHA-512 and PLAIN, user
#                                  redditstream, password made at format time), SSL with client
#                                  certificates required (mutual TLS) on the next port; the client
#                                  settings are written to .cache/kafka/run/secure/client.env
#   kafka.sh scram-user NAME PASSWORD   add a SCRAM-SHA-512 user to the secure node, or change its password
#   kafka.sh stop [NAME]           stop a node (single) or all nodes (cluster), or one node: cluster/1
#   kafka.sh kill NAME             kill -9 one node (e.g. cluster/2), for fault tests
#   kafka.sh restart NAME          start a stopped node again (its data is kept)
# State lives under .cache/kafka/run/<name>; every start is idempotent.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cache="$root/.cache/kafka"
libs="$cache/libs"
run="$cache/run"
version=$(sed -n 's#.*<kafka.version>\(.*\)</kafka.version>.*#\1#p' "$here/pom.xml")

log() { echo "[kafka] $*" >&2; }

fetch() {
  if [ -f "$libs/.version" ] && [ "$(cat "$libs/.version")" = "$version" ]; then return 0; fi
  command -v mvn >/dev/null || { log "maven (mvn) is required to fetch the Kafka jars"; exit 1; }
  command -v java >/dev/null || { log "java 17+ is required to run Kafka"; exit 1; }
  log "resolving kafka_2.13:$version from Maven Central"
  rm -rf "$libs"
  (cd "$here" && mvn -q -B -Dstyle.color=never dependency:copy-dependencies -DoutputDirectory="$libs" -DincludeScope=runtime)
  echo "$version" > "$libs/.version"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

java_cmd() {  # $1 = node dir; rest = main class + args
  local dir=$1; shift
  exec_java "$dir" "$@"
}

exec_java() {
  local dir=$1; shift
  # a partition holds 2-4 open files (segment, indexes): a development broker that has seen
  # thousands of test topics needs more descriptors than the usual soft limit (it would stop
  # with "Too many open files" and take its log dirs offline)
  ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  ${EXEC:-} java -Xms256m -Xmx${KAFKA_HEAP:-768m} -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$here/log4j2.properties" -Dkafka.logs.dir="$dir/logs" \
    -cp "$libs/*" "$@"
}

write_props() {  # dir node_id port ctrl_port voters rf min_isr
  local dir=$1 id=$2 port=$3 cport=$4 voters=$5 rf=$6 isr=$7
  mkdir -p "$dir/data" "$dir/logs"
  cat > "$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=$id
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/data
num.partitions=${TOPIC_PARTITIONS:-8}
default.replication.factor=$rf
min.insync.replicas=$isr
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$isr
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=$isr
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
log.segment.bytes=67108864
log.retention.hours=168
log.cleaner.backoff.ms=5000
PROPS
}

secure_props() {  # dir port certs password: a SASL_SSL listener on port, mutual TLS on port+1
  local dir=$1 port=$2 certs=$3 password=$4
  write_props "$dir" 1 $((port - 2)) $((port - 1)) "1@127.0.0.1:$((port - 1))" 1 1
  sed -i -e "s#^listeners=.*#listeners=PLAINTEXT://127.0.0.1:$((port - 2)),CONTROLLER://127.0.0.1:$((port - 1)),SASL_SSL://127.0.0.1:$port,SSL://127.0.0.1:$((port + 1))#" \
    -e "s#^advertised.listeners=.*#advertised.listeners=PLAINTEXT://127.0.0.1:$((port - 2)),SASL_SSL://127.0.0.1:$port,SSL://127.0.0.1:$((port + 1))#" \
    -e "s#^listener.security.protocol.map=.*#listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL,SSL:SSL#" \
    "$dir/server.properties"
  cat >> "$dir/server.properties" <<PROPS
ssl.keystore.type=PEM
ssl.keystore.location=$dir/keystore.pem
ssl.truststore.type=PEM
ssl.truststore.location=$dir/truststore.pem
listener.name.ssl.ssl.client.auth=required
listener.name.sasl_ssl.sasl.enabled.mechanisms=SCRAM-SHA-512,PLAIN
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_redditstream="$password";
PROPS
}

start_secure() {  # certs dir
  local certs=${1:?certificate directory (tools/tls/certs.py)} dir="$run/secure" port=${KAFKA_SECURE_PORT:-9194}
  certs=$(cd "$certs" && pwd)
  mkdir -p "$dir"
  # the node keeps the port it was formatted with (its listeners are in server.properties)
  if [ -f "$dir/port" ]; then port=$(cat "$dir/port"); else echo "$port" > "$dir/port"; fi
  if [ ! -f "$dir/password" ]; then
    (umask 077; head -c 24 /dev/urandom | base64 | tr -d '/+=' > "$dir/password")
  fi
  local password; password=$(cat "$dir/password")
  # the server's key and chain in one PEM keystore (an unencrypted PKCS#8 key needs no password)
  (umask 077; cat "$certs/server.key" "$certs/server.pem" > "$dir/keystore.pem")
  cp "$certs/ca.pem" "$dir/truststore.pem"
  [ -f "$dir/server.properties" ] || secure_props "$dir" "$port" "$certs" "$password"
  # the SCRAM credentials are written into the metadata log when the node is formatted
  SCRAM="SCRAM-SHA-512=[name=redditstream,password=$password]" start_node secure 1 "$port" $((port - 1)) "1@127.0.0.1:$((port - 1))" 1 1
  (umask 077; cat > "$dir/client.env" <<ENV
# the secured broker of tools/kafka/kafka.sh start-secure: SASL_SSL with SCRAM-SHA-512
KAFKA_BROKER_URL=kafka://127.0.0.1:$port
KAFKA_SECURITY_PROTOCOL=SASL_SSL
KAFKA_SASL_MECHANISM=SCRAM-SHA-512
KAFKA_SASL_USERNAME=redditstream
KAFKA_SASL_PASSWORD=$password
KAFKA_SSL_CAFILE=$certs/ca.pem
# mutual TLS on the next port: KAFKA_BROKER_URL=kafka://127.0.0.1:$((port + 1)) KAFKA_SECURITY_PROTOCOL=SSL
# KAFKA_SSL_CAFILE=$certs/ca.pem KAFKA_SSL_CERTFILE=$certs/client.pem KAFKA_SSL_KEYFILE=$certs/client.key
ENV
  )
  wait_ports "$port" $((port + 1)); log "secure broker ready: SASL_SSL 127.0.0.1:$port, mutual TLS 127.0.0.1:$((port + 1))"
}

start_node() {  # name id port cport voters rf isr
  local name=$1 id=$2 port=$3 cport=$4 voters=$5 rf=$6 isr=$7
  local dir="$run/$name"
  if [ -f "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
    log "$name already running (pid $(cat "$dir/pid"), port $port)"; return 0
  fi
  if port_open "$port"; then log "port $port is taken by another process"; exit 1; fi
  [ -f "$dir/server.properties" ] || write_props "$dir" "$id" "$port" "$cport" "$voters" "$rf" "$isr"
  if [ ! -f "$dir/data/meta.properties" ]; then
    local cid_file="$run/${name%%/*}.cluster-id"
    [ -f "$cid_file" ] || java_cmd "$dir" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1 > "$cid_file"
    java_cmd "$dir" kafka.tools.StorageTool format -t "$(cat "$cid_file")" -c "$dir/server.properties" \
      ${SCRAM:+--add-scram "$SCRAM"} >"$dir/logs/format.log" 2>&1 \
      || { log "formatting $name failed:"; cat "$dir/logs/format.log" >&2; exit 1; }
  fi
  (EXEC="exec setsid" exec_java "$dir" kafka.Kafka "$dir/server.properties") >"$dir/logs/stdout.log" 2>&1 </dev/null &
  echo $! > "$dir/pid"
  log "$name starting (pid $!, port $port)"
}

wait_ports() {
  local deadline=$((SECONDS + ${KAFKA_START_TIMEOUT:-90}))
  for p in "$@"; do
    until port_open "$p"; do
      if [ $SECONDS -ge $deadline ]; then log "broker on port $p did not come up; see $run/*/logs"; exit 1; fi
      sleep 0.5
    done
  done
}

stop_dir() {  # dir signal
  local dir=$1 sig=${2:-TERM}
  [ -f "$dir/pid" ] || return 0
  local pid; pid=$(cat "$dir/pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -"$sig" "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$dir/pid"
}

cluster_voters="1@127.0.0.1:19093,2@127.0.0.1:19095,3@127.0.0.1:19097"
cluster_port() { echo $((19090 + 2 * $1)); }

cmd=${1:-start}
case "$cmd" in
  fetch) fetch ;;
  start)
    fetch
    p=${KAFKA_PORT:-9092}
    start_node single 1 "$p" $((p + 1)) "1@127.0.0.1:$((p + 1))" 1 1
    wait_ports "$p"; log "ready on 127.0.0.1:$p" ;;
  start-cluster)
    fetch
    for i in 1 2 3; do start_node "cluster/$i" "$i" "$(cluster_port "$i")" $(( $(cluster_port "$i") + 1 )) "$cluster_voters" 3 2; done
    wait_ports 19092 19094 19096; log "cluster ready on 127.0.0.1:19092,127.0.0.1:19094,127.0.0.1:19096" ;;
  start-secure) fetch; start_secure "${2:-}" ;;
  scram-user)
    exec_java "$run/secure" kafka.admin.ConfigCommand --bootstrap-server "127.0.0.1:$(( $(cat "$run/secure/port" 2>/dev/null || echo "${KAFKA_SECURE_PORT:-9194}") - 2))" \
      --alter --add-config "SCRAM-SHA-512=[password=${3:?password}]" --entity-type users --entity-name "${2:?user}" >/dev/null ;;
  restart)
    name=${2:?node name}; i=${name##*/}
    start_node "$name" "$i" "$(cluster_port "$i")" $(( $(cluster_port "$i") + 1 )) "$cluster_voters" 3 2
    wait_ports "$(cluster_port "$i")" ;;
  kill) stop_dir "$run/${2:?node name}" KILL ;;
  stop)
    if [ -n "${2:-}" ]; then stop_dir "$run/$2"
    else stop_dir "$run/single"; stop_dir "$run/secure"; for i in 1 2 3; do stop_dir "$run/cluster/$i"; done; fi ;;
  wipe) "$0" stop; rm -rf "$run" ;;
  *) echo "usage: $0 fetch|start|start-cluster|start-secure DIR|scram-user NAME PASSWORD|stop [NAME]|kill NAME|restart NAME|wipe" >&2; exit 2 ;;
esac
