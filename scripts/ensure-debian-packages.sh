#!/usr/bin/env bash
# Ensure the given Debian packages are installed.
#
#   scripts/ensure-debian-packages.sh PKG...
#
# Does nothing (and needs no privileges or network) when every package is
# already installed. Otherwise runs `apt-get update` once and installs only the
# missing packages, through sudo when not root.
set -euo pipefail

if [ "$#" -eq 0 ]; then
    exit 0
fi

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "ensure-debian-packages: dpkg not found; this script supports Debian only." >&2
    echo "ensure-debian-packages: make sure these are installed: $*" >&2
    exit 1
fi

missing=()
for pkg in "$@"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    if [ "$status" != "install ok installed" ]; then
        missing+=("$pkg")
    fi
done

if [ "${#missing[@]}" -eq 0 ]; then
    exit 0
fi

as_root=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        as_root=(sudo)
    else
        echo "ensure-debian-packages: missing packages: ${missing[*]}" >&2
        echo "ensure-debian-packages: not root and sudo is unavailable; install them and retry." >&2
        exit 1
    fi
fi

echo "ensure-debian-packages: installing ${missing[*]}" >&2
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
