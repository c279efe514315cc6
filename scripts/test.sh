#!/usr/bin/env bash
# Runs every test of the project, doing its own set-up first: checks Java 17+, Maven and Python 3.10+, creates or
# reuses the toolkit's virtual environment and installs the toolkit into it (scripts/lib/setup.sh), then runs
# Maven (unit + integration tests of all modules) and the Python toolkit's pytest suite. Exits non-zero when
# either fails. CI runs exactly this (.ci/run).
#
# usage: bash scripts/test.sh
# env:   EXITFLOW_VENV   the toolkit's virtual environment (default: $HOME/.cache/exitflow/venv; made when missing)
#        EXITFLOW_TARGET Maven build folder name (default: target), for parallel builds in one tree
#        MVN_ARGS        extra Maven arguments (for example -o)
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
# shellcheck source=lib/setup.sh
source scripts/lib/setup.sh
target="${EXITFLOW_TARGET:-target}"

exitflow_require java mvn python
echo "== $(java -version 2>&1 | sed -n 1p); $(mvn -v 2>&1 | sed -n 1p | sed 's/\x1b\[[0-9;]*m//g'); $(python3 --version) =="
echo "== Python environment ($EXITFLOW_VENV) =="
exitflow_python_env

status=0

echo "== mvn verify (all modules, unit and integration tests) =="
# shellcheck disable=SC2086
if ! mvn -B verify -Dexitflow.target="$target" ${MVN_ARGS:-}; then
  echo "FAILED: mvn verify" >&2
  status=1
fi

echo "== pytest tests/python =="
"$EXITFLOW_PYTHON" -m pytest -q tests/python
rc=$?
if [ "$rc" -ne 0 ]; then
  echo "FAILED: pytest (exit code $rc)" >&2
  status=1
fi

if [ "$status" -eq 0 ]; then
  echo "ALL TESTS PASSED"
fi
exit "$status"
