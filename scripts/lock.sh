#!/usr/bin/env bash
# `make lock`: pin every package pip resolves from pyproject.toml, in two files.
#
#   requirements.lock      [project] dependencies: what the production image installs
#   requirements-dev.lock  those plus the dev extra: what `make install` installs
#
# The dev set is resolved first and the runtime set within it (the new dev lock as pip
# constraints), so a package pinned in both files has one version. Nothing is installed: pip
# resolves with --dry-run in a throwaway venv. With LOCK_KEEP=1 the versions pinned now (the
# current requirements-dev.lock) are kept, to add or drop a dependency without upgrading the
# rest. Environment: PYTHON (python3.11), LOCK_KEEP (0).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"${PYTHON:-python3.11}" -m venv "$tmp/venv"
py=$tmp/venv/bin/python

"$py" - "$tmp" <<'PY'
import sys
import tomllib

with open("pyproject.toml", "rb") as file:
    project = tomllib.load(file)["project"]
runtime = project["dependencies"]
dev = runtime + project["optional-dependencies"]["dev"]
for name, requirements in (("runtime", runtime), ("dev", dev)):
    with open(f"{sys.argv[1]}/{name}.in", "w") as file:
        file.write("\n".join(requirements) + "\n")
PY

resolve() { # REQUIREMENTS LOCK HEADER [pip options...]
    local requirements=$1 lock=$2 header=$3
    shift 3
    "$py" -m pip install --disable-pip-version-check -q --dry-run --ignore-installed \
        --report "$tmp/report.json" -r "$requirements" "$@"
    "$py" - "$tmp/report.json" "$header" >"$tmp/$lock" <<'PY'
import json
import sys

with open(sys.argv[1]) as file:
    resolved = [item["metadata"] for item in json.load(file)["install"]]
print(sys.argv[2])
for metadata in sorted(resolved, key=lambda metadata: metadata["name"].lower()):
    print(f"{metadata['name']}=={metadata['version']}")
PY
}

keep=()
if [ "${LOCK_KEEP:-0}" = 1 ]; then
    keep=(-c requirements-dev.lock)
fi
resolve "$tmp/dev.in" requirements-dev.lock \
    "# requirements.lock plus pyproject's dev extra (tests, lint, load test), all pinned.
# Written by \`make lock\` (scripts/lock.sh); \`make install\` installs this file." "${keep[@]}"
resolve "$tmp/runtime.in" requirements.lock \
    "# The runtime dependencies (pyproject's [project] dependencies), all pinned.
# Written by \`make lock\` (scripts/lock.sh); the production image installs this file only." \
    -c "$tmp/requirements-dev.lock"
mv "$tmp/requirements.lock" "$tmp/requirements-dev.lock" .
echo "lock: requirements.lock ($(grep -c '==' requirements.lock) packages) and" \
    "requirements-dev.lock ($(grep -c '==' requirements-dev.lock)) written" >&2
