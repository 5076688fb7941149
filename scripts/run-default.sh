#!/usr/bin/env bash
# Quick start 1: set up, then run the default scenario (fragmented baseline)
# end to end. Results and figures land in results/baseline/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/coprod-sim run configs/baseline.yaml --seed 0 --out results/baseline "$@"
