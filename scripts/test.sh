#!/usr/bin/env bash
# Runs every test of the project: Maven (unit + integration tests of all modules), then the Python toolkit's
# pytest suite. Exits non-zero when either fails.
#
# usage: bash scripts/test.sh
# env:   EXITFLOW_VENV   Python virtual environment with the toolkit installed
#                        (default: $HOME/.cache/exitflow/venv; .ci/run creates it)
#        EXITFLOW_TARGET Maven build folder name (default: target), for parallel builds in one tree
#        MVN_ARGS        extra Maven arguments (for example -o)
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
venv="${EXITFLOW_VENV:-$HOME/.cache/exitflow/venv}"
target="${EXITFLOW_TARGET:-target}"
# ONNX Runtime 1.29 segfaults in JVMs with long command lines unless telemetry is off (shared notes).
export ORT_DISABLE_TELEMETRY=1

status=0

echo "== mvn verify (all modules, unit and integration tests) =="
# shellcheck disable=SC2086
if ! mvn -B verify -Dexitflow.target="$target" ${MVN_ARGS:-}; then
  echo "FAILED: mvn verify" >&2
  status=1
fi

echo "== pytest tests/python =="
if [ -x "$venv/bin/python" ]; then
  python="$venv/bin/python"
else
  python="$(command -v python3 || true)"
  echo "note: no venv at $venv, using $python" >&2
fi
if [ -z "$python" ]; then
  echo "FAILED: no Python interpreter for pytest" >&2
  status=1
else
  "$python" -m pytest -q tests/python
  rc=$?
  if [ "$rc" -eq 5 ]; then
    # Exit code 5 means pytest collected no tests: not a failure of the code under test.
    echo "note: pytest collected no tests" >&2
  elif [ "$rc" -ne 0 ]; then
    echo "FAILED: pytest (exit code $rc)" >&2
    status=1
  fi
fi

if [ "$status" -eq 0 ]; then
  echo "ALL TESTS PASSED"
fi
exit "$status"
