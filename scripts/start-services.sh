#!/usr/bin/env bash
# Starts throwaway PostgreSQL 15 and Redis servers on loopback for integration tests and prints
# the environment to use them. Installs the Debian packages when they are missing (needs root).
set -euo pipefail
PG_PORT=${PG_PORT:-54329}
REDIS_PORT=${REDIS_PORT:-63799}
# A 3-node Redis Cluster (no replicas) on CLUSTER_PORT, +1, +2; CLUSTER_PORT=0 skips it.
# Each node also listens on its port + 10000, so CLUSTER_PORT must be at most 55533.
CLUSTER_PORT=${CLUSTER_PORT:-7101}
if [ "$CLUSTER_PORT" -gt 55533 ]; then echo "start-services: CLUSTER_PORT must be <= 55533" >&2; exit 1; fi
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
if [ "$CLUSTER_PORT" != 0 ]; then
  ports="$CLUSTER_PORT $((CLUSTER_PORT + 1)) $((CLUSTER_PORT + 2))"
  for port in $ports; do
    if ! redis-cli -p "$port" ping >/dev/null 2>&1; then
      mkdir -p "$BASE/cluster-$port"
      redis-server --port "$port" --bind 127.0.0.1 --cluster-enabled yes --cluster-config-file "$BASE/cluster-$port/nodes.conf" \
        --dir "$BASE/cluster-$port" --save '' --appendonly no --daemonize yes --logfile "$BASE/cluster-$port.log" \
        --maxmemory-policy noeviction >&2
    fi
  done
  for port in $ports; do
    for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
    redis-cli -p "$port" ping >/dev/null 2>&1 || { echo "start-services: Redis Cluster node $port did not start (see $BASE/cluster-$port.log)" >&2; exit 1; }
  done
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
