#!/usr/bin/env bash
# Set up the project's virtual environment (.venv) with everything it needs.
# Finds a Python >= 3.12 by actually running each candidate (pyenv shims can
# exist on PATH yet fail), and reinstalls only when pyproject.toml or constraints.txt changed.
# Versions are pinned by constraints.txt, so results are the same bit for bit on every set-up.
# Usage: scripts/setup.sh [--with-browser]   (browser = Debian chromium for tests)
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {
  local candidates=()
  [ -n "${PYTHON:-}" ] && candidates+=("$PYTHON")
  candidates+=(python3.13 python3.12 python3 python)
  if command -v pyenv >/dev/null 2>&1; then
    local root; root="$(pyenv root 2>/dev/null || true)"
    for d in "$root"/versions/3.1[2-9]*; do [ -x "$d/bin/python3" ] && candidates+=("$d/bin/python3"); done
  fi
  for d in /usr/bin/python3.1[2-9] /usr/local/bin/python3.1[2-9]; do [ -x "$d" ] && candidates+=("$d"); done
  for c in "${candidates[@]}"; do
    if "$c" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; then
      echo "$c"; return 0
    fi
  done
  return 1
}

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
  if ! PY="$(find_python)"; then
    echo "error: coprod-sim needs Python >= 3.12 (Mesa 3.5 requires it) and none was found." >&2
    echo "       Install one (e.g. 'apt-get install python3.12' or 'pyenv install 3.12'), or point to it:" >&2
    echo "       PYTHON=/path/to/python3.12 $0" >&2
    exit 1
  fi
  echo "setup: creating .venv with $("$PY" --version 2>&1) ($PY)"
  rm -rf .venv
  "$PY" -m venv .venv
fi

stamp=".venv/.setup-stamp"
want="$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing coprod-sim and its dependencies into .venv (first time takes a few minutes)"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[test]"
  echo "$want" > "$stamp"
fi

if [ "${1:-}" = "--with-browser" ] && ! command -v chromium >/dev/null 2>&1; then
  echo "setup: installing Debian's chromium for the browser tests"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq </dev/null
  $SUDO apt-get install -y -qq chromium </dev/null >/dev/null
fi

# axe-core (npm) for the browser tests' accessibility check, pinned in tests/browser_assets/package-lock.json;
# the test injects it from node_modules, so it runs offline
if [ "${1:-}" = "--with-browser" ] && [ ! -f tests/browser_assets/node_modules/axe-core/axe.min.js ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "setup: installing Debian's npm for the browser tests' accessibility checker"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get install -y -qq npm </dev/null >/dev/null
  fi
  echo "setup: installing axe-core (npm) into tests/browser_assets/"
  (cd tests/browser_assets && npm ci --no-audit --no-fund --silent)
fi

# --- browser app (coprod-sim viz): front-end assets must be local for offline classrooms ---
# They come from the PyPI package solara-assets (a dependency); this only checks they landed.
if ! .venv/bin/python -c 'import sys; from coprod_sim.app.launcher import missing_assets; m = missing_assets(); print("setup: app assets missing: " + ", ".join(m)) if m else None; sys.exit(1 if m else 0)'; then
  echo "setup: warning: 'coprod-sim viz' would show a blank page offline; try: .venv/bin/python -m pip install --force-reinstall solara-assets" >&2
fi
