# Shared set-up of every ExitFlow command (sourced, not run): checks the tools a command needs, with one line
# saying what to install, and creates or reuses the Python toolkit's virtual environment.
#
#   source scripts/lib/setup.sh
#   exitflow_require java mvn python     # exits 1 with "install ..." for the first missing tool
#   exitflow_python_env                  # sets EXITFLOW_PYTHON to the venv's python, the toolkit installed
#
# env: EXITFLOW_VENV  the virtual environment (default: $HOME/.cache/exitflow/venv)
# The venv holds PyTorch from the package registry (the CUDA build, a few GB); it is made once and reused. The
# toolkit is (re)installed into it when pyproject.toml changed since the last install (a stamp file in the venv).

exitflow_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
EXITFLOW_VENV="${EXITFLOW_VENV:-$HOME/.cache/exitflow/venv}"
export EXITFLOW_VENV
# ONNX Runtime 1.29 crashes JVMs with long command lines unless telemetry is off (shared notes, stack.md).
export ORT_DISABLE_TELEMETRY=1

exitflow_say() { echo "[exitflow] $*" >&2; }

# exitflow_require TOOL...: java (17+), mvn, python (3.10+). One line per problem, then exit 1.
exitflow_require() {
  local tool
  for tool in "$@"; do
    case "$tool" in
      java)
        if ! command -v java >/dev/null 2>&1; then
          exitflow_say "java is not on PATH: install a JDK 17 or newer (e.g. apt-get install openjdk-17-jdk-headless)"; exit 1
        fi
        local v
        v="$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | sed -n 1p)"
        if [ -n "$v" ] && [ "$v" -lt 17 ]; then
          exitflow_say "java $v found, 17 or newer needed: install a JDK 17+ and put it first on PATH"; exit 1
        fi ;;
      mvn)
        command -v mvn >/dev/null 2>&1 || { exitflow_say "mvn is not on PATH: install Maven 3.8 or newer (e.g. apt-get install maven)"; exit 1; } ;;
      python)
        if ! command -v python3 >/dev/null 2>&1; then
          exitflow_say "python3 is not on PATH: install Python 3.10 or newer (e.g. apt-get install python3 python3-venv)"; exit 1
        fi
        if ! python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)'; then
          exitflow_say "$(python3 --version 2>&1) found, 3.10 or newer needed: install a newer Python 3 as python3"; exit 1
        fi ;;
      *) exitflow_say "internal: unknown tool $tool"; exit 2 ;;
    esac
  done
}

# exitflow_python_env: creates the venv when missing, installs the toolkit (pip install -e .[test]) when the
# venv has not seen this pyproject.toml yet, and sets EXITFLOW_PYTHON.
exitflow_python_env() {
  exitflow_require python
  local venv="$EXITFLOW_VENV"
  if [ ! -x "$venv/bin/python" ]; then
    exitflow_say "creating the toolkit's Python environment at $venv"
    # Debian/Ubuntu ship venv separately (python3-venv); fall back to virtualenv from the package registry.
    if ! python3 -m venv "$venv" 2>/dev/null; then
      rm -rf "$venv"
      exitflow_say "python3 -m venv is unavailable; using virtualenv from the package registry"
      python3 -m pip install -q --user virtualenv
      python3 -m virtualenv -q "$venv"
    fi
    "$venv/bin/python" -m pip install -q --upgrade pip
  fi
  local stamp="$venv/.exitflow-installed" want
  want="$(cat "$exitflow_root/pyproject.toml" | cksum | cut -d' ' -f1)@$exitflow_root"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ] || ! "$venv/bin/python" -c 'import importlib.util as u, sys; sys.exit(0 if u.find_spec("exitflow") and u.find_spec("torch") else 1)' 2>/dev/null; then
    exitflow_say "installing the toolkit and its dependencies into $venv (pip install -e .[test])"
    exitflow_say "the first time this downloads PyTorch and its CUDA libraries, a few GB: several minutes"
    # pip's own lines (Collecting/Downloading/Installing) are the progress; its resolver chatter is not.
    local rc=0
    "$venv/bin/python" -m pip install --progress-bar off -e "$exitflow_root[test]" \
      > >(grep --line-buffered -E '^(Collecting|Downloading|Installing|Successfully)' | sed -u 's/^/[exitflow]   /' >&2) \
      || rc=$?
    if [ "$rc" -ne 0 ]; then
      exitflow_say "pip install failed (exit code $rc): see the lines above; rerun with network access to the package registry"
      exit 1
    fi
    echo "$want" >"$stamp"
  fi
  EXITFLOW_PYTHON="$venv/bin/python"
  export EXITFLOW_PYTHON
}
