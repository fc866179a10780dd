#!/usr/bin/env bash
# The local stack: Apache Kafka (KRaft), PostgreSQL, Redis.  Idempotent.
#   tools/stack.sh up      start what is not already answering, migrate, write .env.local
#   tools/stack.sh down    stop what `up` started; servers found already running are left alone, and named
#   tools/stack.sh status  what answers where
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

migrate() {
  if [ -x "$py" ] && [ -f "$root/alembic.ini" ]; then
    (cd "$root" && set -a && . "$state/env" && set +a && "$py" -m alembic -c alembic.ini upgrade head >/dev/null) \
      && log "migrations applied" || { log "migrations failed"; exit 1; }
  fi
}

case "${1:-up}" in
  up)
    t0=$SECONDS
    : > "$state/env"
    kafka_up; pg_up; redis_up
    migrate
    { echo "# written by tools/stack.sh up; read by streams.settings (the environment wins)"; cat "$state/env"; } > "$root/.env.local"
    log "up in $((SECONDS - t0)) s; settings in .env.local" ;;
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
    rm -f "$state/started"
    log "down: stopped $(join "${stopped[@]:-nothing}"); left running $(join "${left[@]:-nothing}")${gone[*]:+; not running $(join "${gone[@]}")}" ;;
  status)
    port_open "${KAFKA_PORT:-9092}" && echo "kafka: 127.0.0.1:${KAFKA_PORT:-9092}" || echo "kafka: down"
    port_open "$PG_PORT" && echo "postgres: 127.0.0.1:$PG_PORT" || echo "postgres: down"
    port_open "$REDIS_PORT" && echo "redis: 127.0.0.1:$REDIS_PORT" || echo "redis: down" ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
