#!/usr/bin/env bash
# Quick start 2: set up (including Debian's chromium for the browser tests),
# lint, check types, then run the whole test suite. Any failure, any skipped test under
# CI, or "no tests collected" (pytest exit 5) fails this script.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --with-browser
.venv/bin/ruff check src tests benchmarks experiments scripts
.venv/bin/mypy
.venv/bin/python -m pytest -n 2 "$@"
