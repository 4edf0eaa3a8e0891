#!/usr/bin/env bash
# Stops the servers that scripts/start-services.sh recorded as started by it, and no others: a
# server that was already running when start-services.sh ran is not in its list. Takes the list
# file (default $IRONFLOW_SERVICES_STARTED, then $IRONFLOW_SERVICES_DIR/started) and empties it.
set -uo pipefail
BASE=${IRONFLOW_SERVICES_DIR:-/tmp/ironflow-services}
STARTED=${1:-${IRONFLOW_SERVICES_STARTED:-$BASE/started}}
PG_BIN=/usr/lib/postgresql/15/bin
[ -f "$STARTED" ] || exit 0

while read -r kind where pidfile; do
  case "$kind" in
    postgres)
      su postgres -c "$PG_BIN/pg_ctl -D $where -m immediate stop" >/dev/null 2>&1 || true
      ;;
    redis)
      # By the pid it wrote at start, so a server someone else started later on the port survives.
      pid=$(cat "$pidfile" 2>/dev/null || true)
      if [ -n "$pid" ] && [ "$(ps -p "$pid" -o comm= 2>/dev/null)" = redis-server ]; then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      fi
      ;;
  esac
done <"$STARTED"
: >"$STARTED"
