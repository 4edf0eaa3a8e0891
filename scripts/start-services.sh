#!/usr/bin/env bash
# Starts throwaway PostgreSQL 15 and Redis servers on loopback for integration tests and prints
# the environment to use them. Installs the Debian packages when they are missing (needs root).
#
# A server that already answers on its port is used as it is and left alone. Every server this
# run does start is recorded, one line each, in $IRONFLOW_SERVICES_STARTED (default
# $IRONFLOW_SERVICES_DIR/started) as it comes up, so that scripts/stop-services.sh stops exactly
# those, even after a failure half-way through:
#   postgres <data directory>
#   redis <port> <pid file>
set -euo pipefail
PG_PORT=${PG_PORT:-54329}
REDIS_PORT=${REDIS_PORT:-63799}
# A 3-node Redis Cluster (no replicas) on CLUSTER_PORT, +1, +2; CLUSTER_PORT=0 skips it.
# Each node also listens on its port + 10000, so CLUSTER_PORT must be at most 55533.
CLUSTER_PORT=${CLUSTER_PORT:-7101}
if [ "$CLUSTER_PORT" -gt 55533 ]; then echo "start-services: CLUSTER_PORT must be <= 55533" >&2; exit 1; fi
BASE=${IRONFLOW_SERVICES_DIR:-/tmp/ironflow-services}
STARTED=${IRONFLOW_SERVICES_STARTED:-$BASE/started}
PG_BIN=/usr/lib/postgresql/15/bin

if [ ! -x "$PG_BIN/pg_ctl" ] || ! command -v redis-server >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql redis-server >&2
fi

mkdir -p "$BASE"
chown postgres:postgres "$BASE" 2>/dev/null || true
touch "$STARTED"

# Starts a Redis server on port $1 unless one answers there; extra arguments go to redis-server.
start_redis() {
  local port=$1 name=$2
  shift 2
  redis-cli -p "$port" ping >/dev/null 2>&1 && return 0
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
    --pidfile "$BASE/$name.pid" --logfile "$BASE/$name.log" --maxmemory-policy noeviction "$@" >&2
  echo "redis $port $BASE/$name.pid" >>"$STARTED"
  for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "start-services: Redis on port $port did not start (see $BASE/$name.log)" >&2
  exit 1
}

if ! "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; then
  if [ ! -f "$BASE/pg/PG_VERSION" ]; then
    su postgres -c "$PG_BIN/initdb -D $BASE/pg -U postgres --auth=trust -E UTF8 >/dev/null"
  fi
  if ! su postgres -c "$PG_BIN/pg_ctl -D $BASE/pg status" >/dev/null 2>&1; then
    # Recorded first: pg_ctl -w can fail after the server started (a slow start-up).
    echo "postgres $BASE/pg" >>"$STARTED"
    su postgres -c "$PG_BIN/pg_ctl -D $BASE/pg -l $BASE/pg.log -w -o '-c listen_addresses=127.0.0.1 -p $PG_PORT -k $BASE -c max_connections=300 -c fsync=off' start" >&2
  fi
fi
start_redis "$REDIS_PORT" redis
if [ "$CLUSTER_PORT" != 0 ]; then
  ports="$CLUSTER_PORT $((CLUSTER_PORT + 1)) $((CLUSTER_PORT + 2))"
  for port in $ports; do
    mkdir -p "$BASE/cluster-$port"
    start_redis "$port" "cluster-$port" --cluster-enabled yes --cluster-config-file "$BASE/cluster-$port/nodes.conf" --dir "$BASE/cluster-$port"
  done
  # Nodes restarted from an earlier run's nodes.conf already form the cluster: give them a few
  # seconds to agree again instead of trying to create it over them.
  if [ -s "$BASE/cluster-$CLUSTER_PORT/nodes.conf" ]; then
    for _ in $(seq 50); do
      redis-cli -p "$CLUSTER_PORT" cluster info 2>/dev/null | grep -q 'cluster_state:ok' && break
      sleep 0.1
    done
  fi
  if ! redis-cli -p "$CLUSTER_PORT" cluster info 2>/dev/null | grep -q 'cluster_state:ok'; then
    # shellcheck disable=SC2086
    redis-cli --cluster create $(for port in $ports; do printf '127.0.0.1:%s ' "$port"; done) --cluster-replicas 0 --cluster-yes >&2
    for _ in $(seq 100); do
      redis-cli -p "$CLUSTER_PORT" cluster info | grep -q 'cluster_state:ok' && break
      sleep 0.1
    done
  fi
  redis-cli -p "$CLUSTER_PORT" cluster info | grep -q 'cluster_state:ok' || { echo "start-services: the Redis Cluster did not come up" >&2; exit 1; }
  echo "export IRONFLOW_TEST_REDIS_CLUSTER_URL=$(for port in $ports; do printf 'redis://127.0.0.1:%s,' "$port"; done | sed 's/,$//')"
fi
echo "export IRONFLOW_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:$PG_PORT/postgres"
echo "export IRONFLOW_TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT"
