#!/usr/bin/env bash
# The local stack: Apache Kafka (KRaft), PostgreSQL, Redis.  Idempotent.
#   tools/stack.sh up      start what is not already answering, migrate, write .env.local
#   tools/stack.sh down    stop what `up` started; servers found already running are left alone, and named
#   tools/stack.sh status  what answers where
#   tools/stack.sh secure  the same services with TLS required, beside them (docs/deploy.md): Kafka with a
#                          SASL_SSL (SCRAM-SHA-512) listener and a mutual-TLS one (kafka.sh start-secure),
#                          PostgreSQL accepting TLS only, Redis speaking TLS only (ports of this checkout's
#                          own, so that two checkouts' secured stacks do not meet); certificates from tools/tls/certs.py in
#                          .cache/tls; their settings (sslmode=verify-full, rediss://) in .cache/stack/secure.env
#   tools/stack.sh up-secure   `up`, then `secure`, and .env.local with the secured settings (`make up-secure`)
# Servers found running at KAFKA_BROKER_URL / DATABASE_URL / REDIS_URL are used as they are;
# otherwise throwaway ones are started (PostgreSQL on 55432, Redis on 56379, Kafka on 9092),
# installing Debian's postgresql / redis-server where missing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
state="$root/.cache/stack"
mkdir -p "$state"
# Throwaway PostgreSQL runs as the postgres user: keep its files where that user can reach them.
pg_home=${PG_HOME:-/var/tmp/redditstream-$(echo "$root" | md5sum | cut -c1-8)/pg}
redis_home="$state/redis"
PG_PORT=${PG_PORT:-55432}
REDIS_PORT=${REDIS_PORT:-56379}
py="$root/.venv/bin/python"

log() { echo "[stack] $*" >&2; }
port_open() { (exec 3<>"/dev/tcp/${2:-127.0.0.1}/$1") 2>/dev/null; }
join() { local out; printf -v out '%s, ' "$@"; echo "${out%, }"; }
mark() { grep -qx "$1" "$state/started" 2>/dev/null || echo "$1" >> "$state/started"; }

apt_install() {
  log "installing $* (Debian packages)"
  if [ ! -f "$state/apt-updated" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null && touch "$state/apt-updated"
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# ------------------------------------------------------------------ Kafka
kafka_up() {
  local url=${KAFKA_BROKER_URL:-}
  if [ -n "$url" ]; then
    local first=${url#kafka://}; first=${first%%[;,]*}
    if port_open "${first##*:}" "${first%:*}"; then log "kafka: using $url"; echo "KAFKA_BROKER_URL=$url" >> "$state/env"; return; fi
    log "kafka: $url does not answer; starting a local broker instead"
  fi
  if port_open "${KAFKA_PORT:-9092}" && ! [ -f "$root/.cache/kafka/run/single/pid" ]; then
    log "kafka: a broker already answers on 127.0.0.1:${KAFKA_PORT:-9092}; using it"
  else
    "$root/tools/kafka/kafka.sh" start
    mark kafka
  fi
  echo "KAFKA_BROKER_URL=kafka://127.0.0.1:${KAFKA_PORT:-9092}" >> "$state/env"
}

# ------------------------------------------------------------------ PostgreSQL
pg_bin() {
  local d; d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  if [ -z "$d" ]; then apt_install postgresql; d=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1); fi
  echo "$d"
}

pg_answers() { PGCONNECT_TIMEOUT=3 psql "$1" -Atqc 'select 1' >/dev/null 2>&1; }

pg_up() {
  if [ -n "${DATABASE_URL:-}" ] && pg_answers "$DATABASE_URL"; then
    log "postgres: using $DATABASE_URL"; echo "DATABASE_URL=$DATABASE_URL" >> "$state/env"; return
  fi
  command -v psql >/dev/null || apt_install postgresql-client
  local bin; bin=$(pg_bin)
  local url="postgresql://postgres@127.0.0.1:$PG_PORT/redditstream"
  if ! pg_answers "postgresql://postgres@127.0.0.1:$PG_PORT/postgres"; then
    mkdir -p "$pg_home"; chown postgres:postgres "$pg_home"; chmod 700 "$pg_home"
    if [ ! -f "$pg_home/data/PG_VERSION" ]; then
      runuser -u postgres -- "$bin/initdb" -D "$pg_home/data" -U postgres -A trust -E UTF8 --no-locale >/dev/null
    fi
    runuser -u postgres -- "$bin/pg_ctl" -D "$pg_home/data" -l "$pg_home/server.log" -w -t 60 start \
      -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$pg_home -c fsync=off \
          -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 -c shared_buffers=256MB" >/dev/null
    mark postgres
    log "postgres: started on 127.0.0.1:$PG_PORT (data in $pg_home)"
  fi
  psql "postgresql://postgres@127.0.0.1:$PG_PORT/postgres" -Atqc "select 1 from pg_database where datname='redditstream'" | grep -q 1 \
    || psql "postgresql://postgres@127.0.0.1:$PG_PORT/postgres" -qc "create database redditstream" >/dev/null
  echo "DATABASE_URL=$url" >> "$state/env"
}

# ------------------------------------------------------------------ Redis
redis_up() {
  if [ -n "${REDIS_URL:-}" ] && command -v redis-cli >/dev/null && redis-cli -u "$REDIS_URL" ping 2>/dev/null | grep -q PONG; then
    log "redis: using $REDIS_URL"; echo "REDIS_URL=$REDIS_URL" >> "$state/env"; return
  fi
  command -v redis-server >/dev/null || apt_install redis-server
  if ! redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; then
    mkdir -p "$redis_home"
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --dir "$redis_home" \
      --pidfile "$redis_home/redis.pid" --logfile "$redis_home/redis.log" --save "" --appendonly no \
      --databases 64 >/dev/null
    for _ in $(seq 1 50); do redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
    mark redis
    log "redis: started on 127.0.0.1:$REDIS_PORT"
  fi
  echo "REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0" >> "$state/env"
}

migrate() {  # [env file]
  local env=${1:-$state/env}
  if [ -x "$py" ] && [ -f "$root/alembic.ini" ]; then
    (cd "$root" && set -a && . "$env" && set +a && "$py" -m alembic -c alembic.ini upgrade head >/dev/null) \
      && log "migrations applied" || { log "migrations failed"; exit 1; }
  fi
}

# ------------------------------------------------------------------ TLS (secure)
certs="$root/.cache/tls"
# Each checkout has its own CA, so its own secured servers, on ports derived from its path (slot
# 0-199): Kafka 9200+4·slot (SASL_SSL; mutual TLS on the next port), PostgreSQL 55500+slot,
# Redis 56500+slot. Override with KAFKA_SECURE_PORT, PG_TLS_PORT, REDIS_TLS_PORT.
slot=$(( 16#$(echo "$root" | md5sum | cut -c1-4) % 200 ))
export KAFKA_SECURE_PORT=${KAFKA_SECURE_PORT:-$((9200 + 4 * slot))}
PG_TLS_PORT=${PG_TLS_PORT:-$((55500 + slot))}
REDIS_TLS_PORT=${REDIS_TLS_PORT:-$((56500 + slot))}
# beside the TLS PostgreSQL's data: outside the checkout, so a server of a checkout made again at
# the same path is still found (and stopped) by its pid file
redis_tls_home="$(dirname "$pg_home")/redis-tls"

pg_tls_up() {  # a PostgreSQL that takes TLS connections only (pg_hba: hostssl)
  local bin; bin=$(pg_bin)
  local home="${pg_home}-tls"
  local url="postgresql://postgres@localhost:$PG_TLS_PORT/redditstream?sslmode=verify-full&sslrootcert=$certs/ca.pem"
  if ! PGCONNECT_TIMEOUT=3 psql "$url" -Atqc 'select 1' >/dev/null 2>&1; then
    mkdir -p "$home"; chown postgres:postgres "$home"; chmod 700 "$home"
    if [ ! -f "$home/data/PG_VERSION" ]; then
      runuser -u postgres -- "$bin/initdb" -D "$home/data" -U postgres -A trust -E UTF8 --no-locale >/dev/null
      printf 'local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostssl all all ::1/128 trust\n' > "$home/data/pg_hba.conf"
    fi
    install -o postgres -g postgres -m 600 "$certs/server.key" "$home/data/server.key"
    install -o postgres -g postgres -m 644 "$certs/server.pem" "$home/data/server.crt"
    runuser -u postgres -- "$bin/pg_ctl" -D "$home/data" -l "$home/server.log" -w -t 60 start \
      -o "-p $PG_TLS_PORT -c listen_addresses=localhost -c unix_socket_directories=$home -c ssl=on \
          -c fsync=off -c synchronous_commit=off -c max_connections=200" >/dev/null
    mark postgres-tls
    psql -h "$home" -p "$PG_TLS_PORT" -U postgres -Atqc "select 1 from pg_database where datname='redditstream'" postgres | grep -q 1 \
      || psql -h "$home" -p "$PG_TLS_PORT" -U postgres -qc "create database redditstream" postgres >/dev/null
    log "postgres (TLS only): started on localhost:$PG_TLS_PORT (data in $home)"
  fi
  echo "DATABASE_URL='$url'" >> "$state/secure.env"
}

redis_tls_up() {  # a Redis that speaks TLS only
  local home="$redis_tls_home"
  if ! redis-cli --tls --cacert "$certs/ca.pem" -h localhost -p "$REDIS_TLS_PORT" ping 2>/dev/null | grep -q PONG; then
    mkdir -p "$home"
    redis-server --port 0 --tls-port "$REDIS_TLS_PORT" --bind 127.0.0.1 --daemonize yes --dir "$home" \
      --tls-cert-file "$certs/server.pem" --tls-key-file "$certs/server.key" --tls-ca-cert-file "$certs/ca.pem" \
      --tls-auth-clients no --pidfile "$home/redis.pid" --logfile "$home/redis.log" --save "" --appendonly no \
      --databases 64 >/dev/null
    for _ in $(seq 1 50); do
      redis-cli --tls --cacert "$certs/ca.pem" -h localhost -p "$REDIS_TLS_PORT" ping 2>/dev/null | grep -q PONG && break
      sleep 0.1
    done
    mark redis-tls
    log "redis (TLS only): started on localhost:$REDIS_TLS_PORT"
  fi
  echo "REDIS_URL='rediss://localhost:$REDIS_TLS_PORT/0?ssl_ca_certs=$certs/ca.pem&ssl_check_hostname=true'" >> "$state/secure.env"
}

secure_stop() {  # the secured servers of this checkout, whatever started them
  "$root/tools/kafka/kafka.sh" stop secure
  # a broker of a checkout made again at this path (its pid file went with the old .cache)
  pkill -f "$root/.cache/kafka/run/secure/server.properties" 2>/dev/null || true
  for _ in $(seq 1 120); do port_open "$KAFKA_SECURE_PORT" || break; sleep 0.5; done
  [ -f "${pg_home}-tls/data/postmaster.pid" ] && runuser -u postgres -- "$(pg_bin)/pg_ctl" -D "${pg_home}-tls/data" -m fast stop >/dev/null 2>&1 || true
  [ -f "$redis_tls_home/redis.pid" ] && kill "$(cat "$redis_tls_home/redis.pid")" 2>/dev/null || true
  pkill -f "redis-server 127.0.0.1:$REDIS_TLS_PORT\$" 2>/dev/null || true  # one whose pid file went with a checkout
  for _ in $(seq 1 50); do port_open "$REDIS_TLS_PORT" || break; sleep 0.1; done
}

secure_up() {
  [ -x "$py" ] || { log "the secured stack needs the project's venv (make install) for its certificates"; exit 1; }
  local before; before=$(md5sum < "$certs/ca.pem" 2>/dev/null || true)
  TLS_SERVER_NAMES=${TLS_SERVER_NAMES:-kafka,postgres,redis} "$py" "$root/tools/tls/certs.py" "$certs"
  # new certificates (also a first set, in a checkout made again at the same path, whose servers
  # from before may still run): the servers restart with them
  if [ "$before" != "$(md5sum < "$certs/ca.pem")" ]; then
    secure_stop
  fi
  : > "$state/secure.env"
  "$root/tools/kafka/kafka.sh" start-secure "$certs"
  mark kafka-secure
  grep -v '^#' "$root/.cache/kafka/run/secure/client.env" >> "$state/secure.env"
  pg_tls_up; redis_tls_up
  migrate "$state/secure.env"
  chmod 600 "$state/secure.env"
}

case "${1:-up}" in
  up)
    t0=$SECONDS
    : > "$state/env"
    kafka_up; pg_up; redis_up
    migrate
    { echo "# written by tools/stack.sh up; read by streams.settings (the environment wins)"; cat "$state/env"; } > "$root/.env.local"
    log "up in $((SECONDS - t0)) s; settings in .env.local" ;;
  secure)
    t0=$SECONDS; secure_up
    log "secured services up in $((SECONDS - t0)) s; settings in .cache/stack/secure.env" ;;
  up-secure)
    "$0" up; t0=$SECONDS; secure_up
    { echo "# written by tools/stack.sh up-secure: Kafka over SASL_SSL, PostgreSQL and Redis over TLS"; cat "$state/secure.env"; } > "$root/.env.local"
    chmod 600 "$root/.env.local"
    log "secured services up in $((SECONDS - t0)) s; settings in .env.local (\`make up\` goes back to PLAINTEXT)" ;;
  down)
    # stop what `up` started here (.cache/stack/started); name what it found running and leaves
    stopped=(); left=(); gone=()
    for name in kafka postgres redis; do
      case $name in
        kafka) var=KAFKA_BROKER_URL; default="kafka://127.0.0.1:${KAFKA_PORT:-9092}" ;;
        postgres) var=DATABASE_URL; default="postgresql://127.0.0.1:$PG_PORT" ;;
        redis) var=REDIS_URL; default="redis://127.0.0.1:$REDIS_PORT" ;;
      esac
      url=$(grep -m1 "^$var=" "$state/env" 2>/dev/null | cut -d= -f2- || true)
      where=$(echo "${url:-$default}" | sed -E 's#//[^@/]*@#//#')  # no credentials in the output
      hostport=${where#*://}; hostport=${hostport%%[/;,]*}
      if grep -qx "$name" "$state/started" 2>/dev/null; then
        case $name in
          kafka) "$root/tools/kafka/kafka.sh" stop ;;
          postgres) runuser -u postgres -- "$(pg_bin)/pg_ctl" -D "$pg_home/data" -m fast stop >/dev/null 2>&1 || true ;;
          redis) redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true ;;
        esac
        if port_open "${hostport##*:}" "${hostport%:*}"; then
          log "$name: still answers at $where after the stop"; left+=("$name ($where)")
        else
          log "$name: stopped ($where)"; stopped+=("$name")
        fi
      elif port_open "${hostport##*:}" "${hostport%:*}"; then
        log "$name: left running at $where (this checkout's \`up\` did not start it)"; left+=("$name ($where)")
      else
        gone+=("$name")
      fi
    done
    if grep -qx -e kafka-secure -e postgres-tls -e redis-tls "$state/started" 2>/dev/null; then
      secure_stop; stopped+=("the secured servers")
    fi
    rm -f "$state/started"
    log "down: stopped $(join "${stopped[@]:-nothing}"); left running $(join "${left[@]:-nothing}")${gone[*]:+; not running $(join "${gone[@]}")}" ;;
  status)
    port_open "${KAFKA_PORT:-9092}" && echo "kafka: 127.0.0.1:${KAFKA_PORT:-9092}" || echo "kafka: down"
    port_open "$PG_PORT" && echo "postgres: 127.0.0.1:$PG_PORT" || echo "postgres: down"
    port_open "$REDIS_PORT" && echo "redis: 127.0.0.1:$REDIS_PORT" || echo "redis: down" ;;
  *) echo "usage: $0 up|down|status|secure|up-secure" >&2; exit 2 ;;
esac
