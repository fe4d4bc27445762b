#!/usr/bin/env bash
# The whole `make test` run: system packages, services, lint, pytest.
#
# Starts PostgreSQL and Redis through scripts/test-services.sh unless they are
# already available, and always stops what it started (even on failure or
# interrupt). Exit status: pytest's status; if pytest passed but ruff failed, 1.
#
# The OpenID Connect provider the sign-in tests need is started by pytest itself, on
# 127.0.0.1:55401-55402, and stopped when it ends (tests/oidc_support.py; a dev dependency).
#
# Environment: PYTEST_ARGS (extra pytest arguments, shell-quoted),
# DATABASE_URL / REDIS_URL (use existing services), AVHOPP_SERVICES_DIR.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

svc=scripts/test-services.sh

scripts/ensure-debian-packages.sh \
    postgresql redis-server chromium fonts-dejavu-core fonts-liberation

# Stop only the services that were not already up before this run.
stop_pg=0
stop_redis=0
# shellcheck disable=SC2317  # invoked through trap
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ "$stop_pg" = 1 ]; then bash "$svc" stop pg || true; fi
    if [ "$stop_redis" = 1 ]; then bash "$svc" stop redis || true; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bash "$svc" status pg 2>/dev/null || stop_pg=1
bash "$svc" status redis 2>/dev/null || stop_redis=1

exports=$(bash "$svc" start) || {
    echo "test.sh: could not start test services" >&2
    exit 1
}
eval "$exports"
export DATABASE_URL REDIS_URL
echo "test.sh: DATABASE_URL=$DATABASE_URL REDIS_URL=$REDIS_URL" >&2

# Debian's Chromium, for the Playwright browser tests.
if [ -z "${AVHOPP_CHROMIUM_PATH:-}" ] && command -v chromium >/dev/null 2>&1; then
    AVHOPP_CHROMIUM_PATH=$(command -v chromium)
    export AVHOPP_CHROMIUM_PATH
fi

lint_rc=0
echo "test.sh: ruff check" >&2
.venv/bin/ruff check . || lint_rc=1
echo "test.sh: ruff format --check" >&2
.venv/bin/ruff format --check . || lint_rc=1

pytest_args=()
if [ -n "${PYTEST_ARGS:-}" ]; then
    eval "pytest_args=(${PYTEST_ARGS})"
fi

pytest_rc=0
echo "test.sh: pytest ${pytest_args[*]}" >&2
.venv/bin/pytest "${pytest_args[@]}" || pytest_rc=$?

if [ "$pytest_rc" -ne 0 ]; then
    exit "$pytest_rc"
fi
if [ "$lint_rc" -ne 0 ]; then
    echo "test.sh: pytest passed but ruff reported problems" >&2
    exit 1
fi
exit 0
