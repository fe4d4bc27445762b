# Avhopp developer entry points (Debian 12, Python 3.11).
#
#   make install   system packages (apt, only when missing), .venv, translations
#   make run       migrate, load demo data, serve on http://127.0.0.1:8000/
#   make test      ruff + pytest against private PostgreSQL/Redis (scripts/test.sh)
#   make lock      regenerate requirements.lock and requirements-dev.lock from pyproject.toml
#   make bench     seed (if needed) and benchmark at national scale (BENCH_CASES=10000)
#   make bench-growth  the pages at N = 10,000 and 100,000 timed side by side
#   make bench-compare REV=<commit>  the pages for REV and HEAD timed side by side
#   make bench-log  the log reviewer's pages at 2,000,000 and 20,000,000 events side by side
#   make loadtest  50 simulated users for 2 minutes against gunicorn (scripts/loadtest.sh)
#   make lint | format | clean

PYTHON ?= python3.11
VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# Debian packages the app needs at runtime: WeasyPrint (Pango, fonts) and
# gettext for compilemessages.
RUNTIME_DEBS := libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core gettext

# Extra pytest arguments, e.g. make test PYTEST_ARGS='-x -k "case and not browser"'
PYTEST_ARGS ?=
export PYTEST_ARGS

.PHONY: install system-deps run test bench bench-growth lock lint format clean

install: system-deps $(STAMP)
	$(VPY) manage.py compilemessages --ignore=$(VENV) -v 0

system-deps:
	@bash scripts/ensure-debian-packages.sh $(RUNTIME_DEBS)

$(VPY):
	$(PYTHON) -m venv $(VENV)

# The development set: the runtime lock plus the dev extra (tests, lint, the load test; the
# demo loader lives in the development-only devdata app). The image installs requirements.lock.
$(STAMP): requirements.lock requirements-dev.lock | $(VPY)
	$(VPY) -m pip install --disable-pip-version-check -q -r requirements-dev.lock
	touch $@

run: install
	mkdir -p data
	$(VPY) manage.py migrate --noinput
	$(VPY) manage.py migrate --database register --noinput
	$(VPY) manage.py load_demo
	DJANGO_DEBUG="$${DJANGO_DEBUG:-true}" $(VPY) manage.py runserver 127.0.0.1:8000

test: install
	bash scripts/test.sh

# Load test: gunicorn, PostgreSQL, Redis and a Celery worker on loopback, driven by locust
# (loadtest/locustfile.py). E.g. make loadtest LOADTEST_DURATION=30s LOADTEST_USERS=20
.PHONY: loadtest
loadtest: install
	bash scripts/loadtest.sh

# Benchmark against PostgreSQL and Redis (the test services when not set): seeds
# BENCH_CASES cases with seed_scale when the bench database holds another N, then prints
# the table and writes bench-results/latest.md. E.g. make bench BENCH_CASES=100000
BENCH_CASES ?= 10000
BENCH_DATABASE_URL ?= postgres://avhopp@127.0.0.1:54329/avhopp_bench
BENCH_REQUESTS ?= 100
bench: install
	@set -eu; eval "$$(bash scripts/test-services.sh start)"; \
	db="$(BENCH_DATABASE_URL)"; \
	psql "$${db%/*}/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname = '$${db##*/}'" \
		| grep -q 1 || psql "$${db%/*}/postgres" -qc "CREATE DATABASE \"$${db##*/}\""; \
	DATABASE_URL="$$db" REDIS_URL="$$REDIS_URL" BENCH_CASES=$(BENCH_CASES) \
		BENCH_REQUESTS=$(BENCH_REQUESTS) $(VPY) bench/run.py

# Growth side by side: the pages at N = 10,000 and N = 100,000 timed in alternation in one
# process (both datasets seeded by make bench first). Writes bench-results/growth.md.
BENCH_LARGE_DATABASE_URL ?= $(BENCH_DATABASE_URL)
BENCH_SMALL_DATABASE_URL ?= postgres://avhopp@127.0.0.1:54329/avhopp_bench_10k
bench-growth: install
	@set -eu; eval "$$(bash scripts/test-services.sh start)"; \
	DATABASE_URL="$(BENCH_LARGE_DATABASE_URL)" BENCH_SMALL_DATABASE_URL="$(BENCH_SMALL_DATABASE_URL)" \
		REDIS_URL="$$REDIS_URL" BENCH_REQUESTS=$(BENCH_REQUESTS) $(VPY) bench/growth.py

# HEAD against another revision, side by side: the pages timed for both checkouts against one
# dataset (seeded by REV's code, copied and migrated for HEAD), request by request in turn.
# Writes bench-results/compare.md. E.g. make bench-compare REV=HEAD~3 BENCH_REQUESTS=20
.PHONY: bench-compare
bench-compare: install
	@set -eu; test -n "$(REV)" || { echo "Usage: make bench-compare REV=<commit>" >&2; exit 2; }; \
	eval "$$(bash scripts/test-services.sh start)"; \
	BENCH_DATABASE_URL="$(BENCH_DATABASE_URL)" REDIS_URL="$$REDIS_URL" BENCH_CASES=$(BENCH_CASES) \
		BENCH_REQUESTS=$(BENCH_REQUESTS) $(VPY) bench/compare.py "$(REV)"

# The audit log at national scale, side by side: the log reviewer's pages on a log of
# 2,000,000 and of 20,000,000 events (both 10,000 cases, the same seed), request by request in
# turn, and the audit write on a case page at each size. `make bench-log-seed` makes both
# datasets (the larger takes about 10 minutes). Writes bench-results/log.md.
BENCH_LOG_SMALL_DATABASE_URL ?= postgres://avhopp@127.0.0.1:54329/avhopp_logbench_2m
BENCH_LOG_LARGE_DATABASE_URL ?= postgres://avhopp@127.0.0.1:54329/avhopp_logbench_20m
BENCH_LOG_SMALL_EVENTS ?= 2000000
BENCH_LOG_LARGE_EVENTS ?= 20000000
BENCH_REQUESTS_LOG ?= 30
.PHONY: bench-log bench-log-seed
bench-log-seed: install
	@set -eu; eval "$$(bash scripts/test-services.sh start)"; \
	for pair in "$(BENCH_LOG_SMALL_DATABASE_URL) $(BENCH_LOG_SMALL_EVENTS)" \
			"$(BENCH_LOG_LARGE_DATABASE_URL) $(BENCH_LOG_LARGE_EVENTS)"; do \
		set -- $$pair; db=$$1; \
		psql "$${db%/*}/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname = '$${db##*/}'" \
			| grep -q 1 || psql "$${db%/*}/postgres" -qc "CREATE DATABASE \"$${db##*/}\""; \
		DATABASE_URL="$$db" $(VPY) manage.py migrate -v 0; \
		DATABASE_URL="$$db" $(VPY) manage.py seed_scale --cases 10000 --audit-events $$2 --reset; \
	done

bench-log: install
	@set -eu; eval "$$(bash scripts/test-services.sh start)"; \
	for db in "$(BENCH_LOG_SMALL_DATABASE_URL)" "$(BENCH_LOG_LARGE_DATABASE_URL)"; do \
		DATABASE_URL="$$db" $(VPY) manage.py migrate -v 0; \
	done; \
	DATABASE_URL="$(BENCH_LOG_LARGE_DATABASE_URL)" \
		BENCH_LOG_SMALL_DATABASE_URL="$(BENCH_LOG_SMALL_DATABASE_URL)" \
		REDIS_URL="$$REDIS_URL" BENCH_REQUESTS=$(BENCH_REQUESTS_LOG) $(VPY) bench/log.py

# Resolve pyproject's dependencies, and them plus the dev extra, into requirements.lock and
# requirements-dev.lock (scripts/lock.sh). LOCK_KEEP=1 keeps the versions pinned now.
LOCK_KEEP ?= 0
lock:
	PYTHON=$(PYTHON) LOCK_KEEP=$(LOCK_KEEP) bash scripts/lock.sh

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) data
