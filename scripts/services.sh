#!/usr/bin/env bash
# Throwaway PostgreSQL 15 and Redis on loopback, for the test suite and the benchmark.
#   scripts/services.sh install   install what is missing from Debian (PostgreSQL 15, Redis, Chromium)
#   scripts/services.sh start     start both on private ports; prints the environment to eval
#   scripts/services.sh stop      stop both and delete their data
# Ports and the data folder come from RAPPORT_PG_PORT, RAPPORT_REDIS_PORT and RAPPORT_RUN_DIR,
# so several copies can run side by side.
set -euo pipefail

PG_PORT=${RAPPORT_PG_PORT:-55432}
REDIS_PORT=${RAPPORT_REDIS_PORT:-56379}
RUN_DIR=${RAPPORT_RUN_DIR:-/tmp/rapport-services-$PG_PORT}
PG_BIN=${RAPPORT_PG_BIN:-/usr/lib/postgresql/15/bin}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# initdb and postgres refuse to run as root: run them as the postgres user then.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

install() {
  local need=()
  [ -x "$PG_BIN/postgres" ] || need+=(postgresql-15)
  command -v redis-server >/dev/null || need+=(redis-server)
  [ -x /usr/bin/chromium ] || need+=(chromium)
  # Fonts for Thai and Traditional Chinese, so browser screenshots of survey and report pages are readable.
  [ -n "$(fc-list :lang=th 2>/dev/null)" ] || need+=(fonts-thai-tlwg)
  [ -n "$(fc-list :lang=zh-tw 2>/dev/null)" ] || need+=(fonts-wqy-zenhei)
  if [ ${#need[@]} -gt 0 ]; then
    echo "Installing from Debian: ${need[*]}" >&2
    as_root apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${need[@]}" >&2
  fi
}

stop() {
  if [ -f "$RUN_DIR/pg/postmaster.pid" ]; then
    as_pg "$PG_BIN/pg_ctl" -D "$RUN_DIR/pg" stop -m immediate >/dev/null 2>&1 || true
  fi
  if [ -f "$RUN_DIR/redis.pid" ]; then
    kill "$(cat "$RUN_DIR/redis.pid")" 2>/dev/null || true
  fi
  rm -rf "$RUN_DIR"
}

start() {
  stop
  mkdir -p "$RUN_DIR"
  chmod 755 "$RUN_DIR"
  [ "$(id -u)" = 0 ] && chown postgres "$RUN_DIR"
  as_pg "$PG_BIN/initdb" -D "$RUN_DIR/pg" -U rapport --auth=trust -E UTF8 --locale=C.UTF-8 >"$RUN_DIR/initdb.log" 2>&1 \
    || { cat "$RUN_DIR/initdb.log" >&2; exit 1; }
  # Durability is pointless for a throwaway database; speed is not.
  as_pg "$PG_BIN/pg_ctl" -D "$RUN_DIR/pg" -l "$RUN_DIR/pg.log" -w start -o \
    "-p $PG_PORT -k $RUN_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
     -c full_page_writes=off -c max_connections=200 -c shared_buffers=256MB -c work_mem=64MB" >/dev/null \
    || { cat "$RUN_DIR/pg.log" >&2; exit 1; }
  psql -q -h 127.0.0.1 -p "$PG_PORT" -U rapport -d postgres -c "CREATE DATABASE rapport" >/dev/null
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --pidfile "$RUN_DIR/redis.pid" \
    --dir "$RUN_DIR" --logfile "$RUN_DIR/redis.log" --save "" --appendonly no >/dev/null
  for _ in $(seq 50); do
    redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  echo "export DATABASE_URL=postgres://rapport@127.0.0.1:$PG_PORT/rapport"
  echo "export CELERY_BROKER_URL=redis://127.0.0.1:$REDIS_PORT/0"
  echo "export REDIS_URL=redis://127.0.0.1:$REDIS_PORT/1"
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 install|start|stop" >&2; exit 2 ;;
esac
