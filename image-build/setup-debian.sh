#!/usr/bin/env bash
# Set up a Debian 12 machine to run and test salon-edge: the apt packages in
# image-build/apt-packages.txt, a .venv in the repository root, and an editable install
# with the test extra. Idempotent and quick when nothing changed. Takes no arguments;
# runs from any directory, as root or through sudo.
set -euo pipefail

if (($# != 0)); then
    echo "usage: bash image-build/setup-debian.sh   (it takes no arguments)" >&2
    exit 2
fi

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

log() { printf '[setup] %s\n' "$*"; }
die() {
    printf '[setup] ERROR: %s\n' "$*" >&2
    exit 1
}

as_root() {
    if (($(id -u) == 0)); then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root or sudo to run: $*"
    fi
}

# 1. apt packages: ask dpkg first; apt-get only runs when something is missing.
mapfile -t wanted < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' image-build/apt-packages.txt | grep -v '^$')
missing=()
for pkg in "${wanted[@]}"; do
    status="$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)"
    [[ "$status" == installed ]] || missing+=("$pkg")
done
if ((${#missing[@]})); then
    log "installing apt packages: ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}"
else
    log "apt packages already installed"
fi

# 2. a Python >= 3.11 with venv support, from PATH.
is_usable() { "$1" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; }
python=""
for candidate in python3 python3.11 python3.12 python3.13 python3.14; do
    if command -v "$candidate" >/dev/null 2>&1 && is_usable "$candidate"; then
        python="$(command -v "$candidate")"
        break
    fi
done
[[ -n "$python" ]] || die "no python3 >= 3.11 with venv and ensurepip on PATH ($PATH)"

# 3. the virtual environment (made again if its interpreter has gone).
if [[ -d .venv ]] && ! is_usable .venv/bin/python; then
    log ".venv is broken or too old: making it again"
    rm -rf .venv
fi
if [[ ! -d .venv ]]; then
    log "creating .venv with $python ($("$python" --version 2>&1))"
    "$python" -m venv .venv
fi

# 4. the editable install, again only when pyproject.toml changed since the last one.
stamp=.venv/.salon-edge-pyproject.sha256
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(<"$stamp")" == "$want" && -x .venv/bin/salon-edge ]]; then
    log "salon-edge already installed in .venv (pyproject.toml unchanged)"
else
    log "installing salon-edge[test] into .venv"
    rm -f "$stamp"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
    printf '%s\n' "$want" >"$stamp"
fi
log "ready: $(.venv/bin/python --version 2>&1) in $repo_root/.venv"
