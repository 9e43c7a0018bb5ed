#!/usr/bin/env bash
# Run every check in order and stop at the first failure: ruff, mypy --strict on salon,
# edge_store and devices, the import contracts, then pytest (whose summary line is the last
# thing printed).
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
bin=.venv/bin
if [[ ! -x "$bin/python" ]]; then
    echo "no .venv here: run 'bash image-build/setup-debian.sh' first" >&2
    exit 1
fi

step=0
run_step() {
    local name="$1"
    shift
    step=$((step + 1))
    printf '\n===== [%d/4] %s =====\n' "$step" "$name"
    "$@"
    local rc=$?
    if ((rc != 0)); then
        printf '===== FAILED: %s (exit %d) =====\n' "$name" "$rc"
        exit "$rc"
    fi
}

run_step "ruff check" "$bin/ruff" check .
run_step "mypy --strict salon edge_store devices" "$bin/mypy" --strict salon edge_store devices
run_step "import contracts (lint-imports)" "$bin/lint-imports"

printf '\n===== [4/4] pytest =====\n'
"$bin/python" -m pytest
rc=$?
if ((rc == 5)); then
    printf '===== FAILED: pytest collected no tests =====\n'
    exit 1
fi
exit "$rc"
