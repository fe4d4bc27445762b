#!/usr/bin/env bash
# `make loadtest`: gunicorn on loopback with PostgreSQL, Redis and a Celery worker, driven by
# LOADTEST_USERS simulated users (locust, headless) for LOADTEST_DURATION.
#
# Services come from scripts/test-services.sh (started if missing, and then stopped again).
# The application uses its own database (LOADTEST_DB, created if missing, migrated and seeded
# by loadtest/seed.py) and its own Redis database number (LOADTEST_REDIS_DB), so a test run
# on the same servers neither sees nor takes its jobs. Prints requests/s, p50, p95 and the
# error count; exits non-zero when any request failed. Locust's CSV files and the server
# logs are kept in LOADTEST_RESULTS.
#
# Environment (defaults): LOADTEST_DURATION (2m), LOADTEST_USERS (50), LOADTEST_SPAWN_RATE
# (10), LOADTEST_GUNICORN_WORKERS (4), LOADTEST_GUNICORN_THREADS (4), LOADTEST_DB
# (avhopp_load), LOADTEST_REDIS_DB (15), LOADTEST_RESET (0; 1 drops the database first),
# LOADTEST_KEEPALIVE (10, gunicorn --keep-alive seconds),
# LOADTEST_RESULTS (data/loadtest), DATABASE_URL / REDIS_URL (use running servers).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

VPY=.venv/bin/python
DURATION=${LOADTEST_DURATION:-2m}
USERS=${LOADTEST_USERS:-50}
SPAWN_RATE=${LOADTEST_SPAWN_RATE:-10}
WORKERS=${LOADTEST_GUNICORN_WORKERS:-4}
THREADS=${LOADTEST_GUNICORN_THREADS:-4}
DB_NAME=${LOADTEST_DB:-avhopp_load}
REDIS_DB=${LOADTEST_REDIS_DB:-15}
RESULTS=${LOADTEST_RESULTS:-data/loadtest}
svc=scripts/test-services.sh

log() { echo "loadtest: $*" >&2; }

case "$DB_NAME" in
*[!a-z0-9_]* | '') log "LOADTEST_DB must be a plain lower-case name" && exit 2 ;;
esac

work=$(mktemp -d "${TMPDIR:-/tmp}/avhopp-loadtest.XXXXXX")
stop_pg=0
stop_redis=0
web_pid=""
worker_pid=""

# shellcheck disable=SC2317  # called from cleanup, which runs through trap
stop_process() { # PID NAME
    local pid=$1 i
    if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
        return 0
    fi
    log "stopping $2 (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 150); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "$2 did not stop after ${i} tries; killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

# shellcheck disable=SC2317  # invoked through trap
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_process "$web_pid" gunicorn
    stop_process "$worker_pid" "celery worker"
    mkdir -p "$RESULTS"
    cp -f "$work"/*.log "$RESULTS"/ 2>/dev/null || true
    rm -rf "$work"
    if [ "$stop_pg" = 1 ]; then bash "$svc" stop pg || true; fi
    if [ "$stop_redis" = 1 ]; then bash "$svc" stop redis || true; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- services and database -----------------------------------------------------------------

bash "$svc" status pg 2>/dev/null || stop_pg=1
bash "$svc" status redis 2>/dev/null || stop_redis=1
eval "$(bash "$svc" start)"

server_url=${DATABASE_URL%%\?*}
server_url=${server_url%/*}
if [ "${LOADTEST_RESET:-0}" = 1 ]; then
    log "dropping database $DB_NAME"
    psql -X -q "$server_url/postgres" -c "DROP DATABASE IF EXISTS \"$DB_NAME\" WITH (FORCE)"
fi
if ! psql -X -tA "$server_url/postgres" \
    -c "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'" | grep -q 1; then
    log "creating database $DB_NAME"
    psql -X -q "$server_url/postgres" -c "CREATE DATABASE \"$DB_NAME\""
fi

if [[ $REDIS_URL =~ ^(rediss?://[^/]+) ]]; then
    redis_server=${BASH_REMATCH[1]}
else
    log "cannot read REDIS_URL=$REDIS_URL"
    exit 1
fi

export DATABASE_URL="$server_url/$DB_NAME"
export REDIS_URL="$redis_server/$REDIS_DB"
export DJANGO_ENV=development DJANGO_DEBUG=false DJANGO_ALLOWED_HOSTS=127.0.0.1
export AVHOPP_DATA_DIR="$work/data" AVHOPP_LOG_LEVEL=WARNING PYTHONUNBUFFERED=1
DJANGO_SECRET_KEY=$("$VPY" -c 'import secrets; print(secrets.token_urlsafe(50))')
export DJANGO_SECRET_KEY
export LOADTEST_MANIFEST="$work/manifest.json"
log "DATABASE_URL=$DATABASE_URL REDIS_URL=$REDIS_URL"

log "migrating and seeding"
"$VPY" manage.py migrate --noinput -v 0
"$VPY" loadtest/seed.py "$LOADTEST_MANIFEST"

# Jobs left in this Redis database by an interrupted earlier run would only add noise.
"$VPY" -m celery -A avhopp purge -f >/dev/null

# --- application ---------------------------------------------------------------------------

port=$("$VPY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
host="http://127.0.0.1:$port"

"$VPY" -m celery -A avhopp worker -l warning --concurrency 1 -Q celery \
    --without-gossip --without-mingle --without-heartbeat >"$work/worker.log" 2>&1 &
worker_pid=$!

# Keep-alive above the users' think time (1-3 s): with gunicorn's default of 2 s, a request
# sent on a reused connection just as the server closes it can be lost, which a browser
# retries and locust does not (an artefact of the client, not an application error).
.venv/bin/gunicorn avhopp.wsgi:application --bind "127.0.0.1:$port" \
    --workers "$WORKERS" --threads "$THREADS" --keep-alive "${LOADTEST_KEEPALIVE:-10}" \
    --timeout 60 --graceful-timeout 10 >"$work/gunicorn.log" 2>&1 &
web_pid=$!

log "waiting for gunicorn on $host ($WORKERS workers x $THREADS threads)"
for i in $(seq 1 120); do
    if curl -fsS -o /dev/null --max-time 5 "$host/healthz"; then
        break
    fi
    if ! kill -0 "$web_pid" 2>/dev/null || ! kill -0 "$worker_pid" 2>/dev/null; then
        log "gunicorn or the worker exited; see $RESULTS/*.log"
        exit 1
    fi
    if [ "$i" = 120 ]; then
        log "gunicorn did not become healthy after ${i} tries"
        exit 1
    fi
    sleep 0.5
done
curl -fsS "$host/healthz" >&2
echo >&2

# --- load ----------------------------------------------------------------------------------

mkdir -p "$RESULTS"
rm -f "$RESULTS"/loadtest_*.csv "$RESULTS/summary.json"
export LOADTEST_SUMMARY="$RESULTS/summary.json"
log "$USERS users (spawn rate $SPAWN_RATE/s) for $DURATION; locust output in $RESULTS/locust.log"
locust_rc=0
.venv/bin/locust -f loadtest/locustfile.py --headless --only-summary \
    -u "$USERS" -r "$SPAWN_RATE" -t "$DURATION" --stop-timeout 10 \
    --host "$host" --csv "$RESULTS/loadtest" >"$work/locust.log" 2>&1 || locust_rc=$?

# Referrals created during the run: give the worker a moment to finish what is queued.
"$VPY" manage.py shell -v 0 -c '
import time
from referrals.models import Referral
pending = Referral.objects.filter(status__in=["queued", "generating"])
deadline = time.monotonic() + 60
while pending.exists() and time.monotonic() < deadline:
    time.sleep(1)
counts = {s: Referral.objects.filter(status=s).count() for s in ("ready", "queued", "generating", "failed")}
print("loadtest: referral documents in the database: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
' >&2

server_errors=$(grep -c "Traceback" "$work/gunicorn.log" || true)
if [ ! -s "$LOADTEST_SUMMARY" ]; then
    log "locust wrote no summary (exit $locust_rc):"
    tail -n 30 "$work/locust.log" >&2
    exit 1
fi
"$VPY" - "$LOADTEST_SUMMARY" "$server_errors" "$USERS" "$DURATION" "$WORKERS" "$THREADS" <<'PY'
import json
import os
import sys

path, server_errors, users, duration, workers, threads = sys.argv[1:7]
with open(path, encoding="utf-8") as handle:
    summary = json.load(handle)
print(f"\n{'request':<46} {'count':>6} {'fail':>5} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7}")
for row in summary["rows"]:
    name = f"{row['method']} {row['name']}"[:46]
    print(
        f"{name:<46} {row['requests']:>6} {row['failures']:>5} "
        f"{row['p50']:>7} {row['p95']:>7} {row['max']:>7}"
    )
for error in summary["errors"]:
    print(f"  error x{error['count']}: {error['method']} {error['name']}: {error['error']}")
total, work = summary["total"], summary["without_sign_in"]
print(
    f"\nloadtest summary: {users} users for {duration} ({summary['seconds']:.0f} s measured), "
    f"gunicorn {workers} workers x {threads} threads, {os.cpu_count()} CPUs"
)
print(f"{'':<24} {'requests':>9} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'errors':>7}")
for label, figures in (("all requests", total), ("without sign-in", work)):
    print(
        f"{label:<24} {figures['requests']:>9} {figures['rps']:>7.1f} {figures['p50']:>7} "
        f"{figures['p95']:>7} {figures['p99']:>7} {figures['failures']:>7}"
    )
print(f"server tracebacks: {server_errors}")
PY

if [ "$server_errors" != 0 ]; then
    log "the server logged $server_errors traceback(s); see $RESULTS/gunicorn.log"
    [ "$locust_rc" -ne 0 ] || locust_rc=1
fi
exit "$locust_rc"
