#!/usr/bin/env bash
# Starts throwaway PostgreSQL 15 and Redis servers on loopback for integration tests and prints
# the environment to use them. Installs the Debian packages when they are missing (needs root).
set -euo pipefail
PG_PORT=${PG_PORT:-54329}
REDIS_PORT=${REDIS_PORT:-63799}
BASE=${IRONFLOW_SERVICES_DIR:-/tmp/ironflow-services}
PG_BIN=/usr/lib/postgresql/15/bin

if [ ! -x "$PG_BIN/pg_ctl" ] || ! command -v redis-server >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql redis-server >&2
fi

mkdir -p "$BASE"
chown postgres:postgres "$BASE" 2>/dev/null || true
if [ ! -f "$BASE/pg/PG_VERSION" ]; then
  su postgres -c "$PG_BIN/initdb -D $BASE/pg -U postgres --auth=trust -E UTF8 >/dev/null"
fi
if ! su postgres -c "$PG_BIN/pg_ctl -D $BASE/pg status" >/dev/null 2>&1; then
  su postgres -c "$PG_BIN/pg_ctl -D $BASE/pg -l $BASE/pg.log -w -o '-c listen_addresses=127.0.0.1 -p $PG_PORT -k $BASE -c max_connections=300 -c fsync=off' start" >&2
fi
if ! redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
    --logfile "$BASE/redis.log" --maxmemory-policy noeviction >&2
  for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
fi
echo "export IRONFLOW_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:$PG_PORT/postgres"
echo "export IRONFLOW_TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT"
