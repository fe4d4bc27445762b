#!/usr/bin/env bash
# Private PostgreSQL and Redis instances for the test suite.
#
#   scripts/test-services.sh start        start what is missing; print export lines
#   scripts/test-services.sh stop [pg|redis]
#                                         stop only what this script started
#   scripts/test-services.sh status [pg|redis]
#                                         report; exit 0 when the service(s) answer
#   scripts/test-services.sh pg-restart   restart our PostgreSQL (fast shutdown)
#   scripts/test-services.sh redis-stop   stop our Redis (fault-tolerance tests)
#   scripts/test-services.sh redis-start  start our Redis again
#
# Usage: eval "$(scripts/test-services.sh start)"
#
# If $DATABASE_URL / $REDIS_URL are set and reachable they are used as they are
# and never stopped. Otherwise a throwaway PostgreSQL cluster (127.0.0.1:54329)
# and Redis (127.0.0.1:63799) are run from ${AVHOPP_SERVICES_DIR}. Only the
# `export ...` lines go to stdout; everything else goes to stderr.
set -euo pipefail

SERVICES_DIR=${AVHOPP_SERVICES_DIR:-/tmp/avhopp-test-services}
PG_DIR="$SERVICES_DIR/pg"
PG_SOCK_DIR="$SERVICES_DIR/pg-socket"
PG_LOG="$SERVICES_DIR/pg.log"
PG_MARKER="$SERVICES_DIR/pg.started-by-avhopp"
PG_PORT=54329
PG_HOST=127.0.0.1
PG_URL="postgres://avhopp@$PG_HOST:$PG_PORT/avhopp"

REDIS_PORT=63799
REDIS_HOST=127.0.0.1
REDIS_PIDFILE="$SERVICES_DIR/redis.pid"
REDIS_LOG="$SERVICES_DIR/redis.log"
REDIS_MARKER="$SERVICES_DIR/redis.started-by-avhopp"
REDIS_OUR_URL="redis://$REDIS_HOST:$REDIS_PORT/0"

log() { echo "test-services: $*" >&2; }
die() {
    log "$*"
    exit 1
}

# --------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------

pg_bindir() {
    local dir
    if [ -n "${PG_BINDIR:-}" ] && [ -x "$PG_BINDIR/pg_ctl" ]; then
        echo "$PG_BINDIR"
        return
    fi
    # Highest installed major version (Debian: /usr/lib/postgresql/<version>/bin).
    dir=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -type d -name bin 2>/dev/null |
        sort -t/ -k5,5 -n | tail -n 1)
    if [ -n "$dir" ] && [ -x "$dir/pg_ctl" ]; then
        echo "$dir"
        return
    fi
    if command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(command -v pg_ctl)"
        return
    fi
    die "PostgreSQL server binaries not found (install the 'postgresql' package)"
}

# Run a command as the owner of the cluster (the postgres OS user when root).
as_pg() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

pg_ctl_cmd() {
    as_pg "$(pg_bindir)/pg_ctl" -D "$PG_DIR" "$@"
}

our_pg_running() {
    [ -f "$PG_DIR/PG_VERSION" ] && pg_ctl_cmd status >/dev/null 2>&1
}

pg_reachable() { # URL
    pg_isready -q -t 3 -d "$1" >/dev/null 2>&1
}

pg_psql() {
    psql -X -q -v ON_ERROR_STOP=1 -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres
}

pg_write_conf() {
    cat >"$SERVICES_DIR/avhopp-test.conf.tmp" <<EOF
# Written by scripts/test-services.sh on every start; throwaway test cluster.
listen_addresses = '$PG_HOST'
port = $PG_PORT
unix_socket_directories = '$PG_SOCK_DIR'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
EOF
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres: "$SERVICES_DIR/avhopp-test.conf.tmp"
    fi
    mv -f "$SERVICES_DIR/avhopp-test.conf.tmp" "$PG_DIR/avhopp-test.conf"
}

pg_prepare_dirs() {
    mkdir -p "$SERVICES_DIR"
    chmod 755 "$SERVICES_DIR"
    mkdir -p "$PG_DIR" "$PG_SOCK_DIR"
    touch "$PG_LOG"
    chmod 700 "$PG_DIR"
    if [ "$(id -u)" -eq 0 ]; then
        id postgres >/dev/null 2>&1 || die "OS user 'postgres' not found (install 'postgresql')"
        chown postgres: "$PG_DIR" "$PG_SOCK_DIR" "$PG_LOG"
    fi
}

pg_start_ours() {
    local bindir
    bindir=$(pg_bindir)
    pg_prepare_dirs
    if [ ! -f "$PG_DIR/PG_VERSION" ]; then
        log "initialising PostgreSQL cluster in $PG_DIR ($bindir)"
        as_pg "$bindir/initdb" -D "$PG_DIR" -U postgres --auth=trust \
            --encoding=UTF8 --locale=C.UTF-8 --no-sync >&2
        echo "include 'avhopp-test.conf'" | as_pg tee -a "$PG_DIR/postgresql.conf" >/dev/null
    fi
    pg_write_conf
    if ! our_pg_running; then
        log "starting PostgreSQL on $PG_HOST:$PG_PORT"
        pg_ctl_cmd -w -t 60 -l "$PG_LOG" start >&2 ||
            die "PostgreSQL failed to start; see $PG_LOG"
    fi
    touch "$PG_MARKER"
    pg_psql <<'SQL' >&2
SELECT 'CREATE ROLE avhopp SUPERUSER LOGIN'
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'avhopp') \gexec
SELECT 'CREATE DATABASE avhopp OWNER avhopp'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'avhopp') \gexec
SQL
}

pg_start() {
    # Our own cluster already running: reuse it.
    if [ -f "$PG_MARKER" ] && our_pg_running; then
        echo "$PG_URL"
        return
    fi
    if [ -n "${DATABASE_URL:-}" ] && [ "$DATABASE_URL" != "$PG_URL" ]; then
        if pg_reachable "$DATABASE_URL"; then
            log "using PostgreSQL from \$DATABASE_URL"
            echo "$DATABASE_URL"
            return
        fi
        log "\$DATABASE_URL is set but not reachable; starting a private cluster instead"
    fi
    pg_start_ours
    echo "$PG_URL"
}

pg_stop() {
    if [ ! -f "$PG_MARKER" ]; then
        return 0
    fi
    if our_pg_running; then
        log "stopping PostgreSQL"
        pg_ctl_cmd -w -t 60 -m fast stop >&2 || pg_ctl_cmd -w -m immediate stop >&2
    fi
    rm -f "$PG_MARKER"
}

pg_restart() {
    if [ ! -f "$PG_MARKER" ] || ! our_pg_running; then
        die "pg-restart: no PostgreSQL started by this script is running"
    fi
    log "restarting PostgreSQL"
    pg_ctl_cmd -w -t 60 -m fast -l "$PG_LOG" restart >&2
}

# --------------------------------------------------------------------------
# Redis
# --------------------------------------------------------------------------

redis_ping_url() { # URL
    [ "$(redis-cli -u "$1" ping 2>/dev/null || true)" = "PONG" ]
}

our_redis_running() {
    local pid
    [ -f "$REDIS_PIDFILE" ] || return 1
    pid=$(cat "$REDIS_PIDFILE" 2>/dev/null || true)
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

redis_start_ours() {
    command -v redis-server >/dev/null 2>&1 || die "redis-server not found (install 'redis-server')"
    mkdir -p "$SERVICES_DIR"
    if ! our_redis_running; then
        rm -f "$REDIS_PIDFILE"
        log "starting Redis on $REDIS_HOST:$REDIS_PORT"
        redis-server --bind "$REDIS_HOST" --port "$REDIS_PORT" \
            --daemonize yes --pidfile "$REDIS_PIDFILE" --logfile "$REDIS_LOG" \
            --dir "$SERVICES_DIR" --save '' --appendonly no >&2
    fi
    touch "$REDIS_MARKER"
    local i
    for i in $(seq 1 100); do
        if redis_ping_url "$REDIS_OUR_URL"; then
            return 0
        fi
        sleep 0.1
    done
    die "Redis did not answer on $REDIS_HOST:$REDIS_PORT after ${i} tries; see $REDIS_LOG"
}

redis_start() {
    if [ -f "$REDIS_MARKER" ] && our_redis_running; then
        echo "$REDIS_OUR_URL"
        return
    fi
    if [ -n "${REDIS_URL:-}" ] && [ "$REDIS_URL" != "$REDIS_OUR_URL" ]; then
        if redis_ping_url "$REDIS_URL"; then
            log "using Redis from \$REDIS_URL"
            echo "$REDIS_URL"
            return
        fi
        log "\$REDIS_URL is set but does not answer; starting a private Redis instead"
    fi
    redis_start_ours
    echo "$REDIS_OUR_URL"
}

redis_stop() {
    if [ ! -f "$REDIS_MARKER" ]; then
        return 0
    fi
    if our_redis_running; then
        local pid i
        pid=$(cat "$REDIS_PIDFILE")
        log "stopping Redis"
        redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 ||
            kill "$pid" 2>/dev/null || true
        for i in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            log "Redis (pid $pid) did not stop after ${i} tries; killing it"
            kill -9 "$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$REDIS_MARKER" "$REDIS_PIDFILE"
}

# --------------------------------------------------------------------------

status() {
    local what=${1:-all} rc=0
    if [ "$what" = all ] || [ "$what" = pg ]; then
        if [ -f "$PG_MARKER" ] && our_pg_running; then
            log "postgres: running (ours) $PG_URL"
        elif [ -n "${DATABASE_URL:-}" ] && pg_reachable "$DATABASE_URL"; then
            log "postgres: reachable via \$DATABASE_URL (not ours)"
        else
            log "postgres: not running"
            rc=1
        fi
    fi
    if [ "$what" = all ] || [ "$what" = redis ]; then
        if [ -f "$REDIS_MARKER" ] && our_redis_running; then
            log "redis: running (ours) $REDIS_OUR_URL"
        elif [ -n "${REDIS_URL:-}" ] && redis_ping_url "$REDIS_URL"; then
            log "redis: reachable via \$REDIS_URL (not ours)"
        else
            log "redis: not running"
            rc=1
        fi
    fi
    return "$rc"
}

usage() {
    sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

main() {
    local cmd=${1:-}
    case "$cmd" in
    start)
        local db_url redis_url
        db_url=$(pg_start)
        redis_url=$(redis_start)
        printf 'export DATABASE_URL=%q\n' "$db_url"
        printf 'export REDIS_URL=%q\n' "$redis_url"
        ;;
    stop)
        local what=${2:-all} rc=0
        case "$what" in all | pg | redis) ;; *) usage ;; esac
        if [ "$what" != redis ]; then pg_stop || rc=1; fi
        if [ "$what" != pg ]; then redis_stop || rc=1; fi
        return "$rc"
        ;;
    status)
        case "${2:-all}" in all | pg | redis) ;; *) usage ;; esac
        status "${2:-all}"
        ;;
    pg-restart) pg_restart ;;
    redis-stop)
        [ -f "$REDIS_MARKER" ] || die "redis-stop: no Redis started by this script"
        redis_stop
        ;;
    redis-start) redis_start_ours ;;
    *) usage ;;
    esac
}

main "$@"
