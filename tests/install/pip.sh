#!/usr/bin/env bash
# `pip install --no-build-isolation .` from the source tree, as a user with a clone would, into a
# temporary target folder (Debian's interpreter is externally managed, PEP 668, so --target; a
# virtual environment works the same way). Then the installed package is used from elsewhere.
# Usage: pip.sh SOURCE_DIR PYTHON
set -euo pipefail
src=$1
python=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$src"
EPOCHWATT_BUILD_JOBS=${EPOCHWATT_BUILD_JOBS:-2} "$python" -m pip install --no-build-isolation --no-deps \
  --no-cache-dir --disable-pip-version-check --target "$tmp/site" . >"$tmp/pip.log" 2>&1 \
  || { tail -40 "$tmp/pip.log" >&2; exit 1; }
test -f "$tmp/site/epochwatt/__init__.py"
test -f "$tmp/site/epochwatt/py.typed" && test -f "$tmp/site/epochwatt/__init__.pyi"
test -x "$tmp/site/epochwatt/_bin/epochwatt"
ls "$tmp/site"/epochwatt/_epochwatt*.so >/dev/null
cd "$tmp"
out=$(PYTHONPATH="$tmp/site" "$python" -c '
import epochwatt, tempfile
from epochwatt.carbontracker import CarbonTracker
print(epochwatt.__file__)
ct = CarbonTracker(epochs=1, log_dir=tempfile.mkdtemp(), verbose=0, sim_cpu="c", sim_cpu_tdp=10)
ct.epoch_start(); ct.epoch_end()
print("epochs", ct.tracker.totals().epochs)')
echo "pip-installed package: $out"
case "$out" in "$tmp/site/epochwatt/__init__.py"*"epochs 1"*) ;; *) echo "unexpected output: $out" >&2; exit 1 ;; esac
out=$(PYTHONPATH="$tmp/site" "$python" -m epochwatt --version)
case "$out" in "epochwatt "*) echo "python -m epochwatt: $out" ;; *) echo "unexpected: $out" >&2; exit 1 ;; esac
