#!/usr/bin/env bash
# `make demo`: a real PyTorch run, tracked by epochwatt. A small CNN learns scikit-learn's
# handwritten digits (1797 8x8 images, shipped with python3-sklearn) for 10 epochs on the CPU,
# tracked by epochwatt's drop-in for carbontracker's class, offline, on this machine's meters and
# the embedded defaults. It shows the accuracy per epoch, the prediction after epoch 1 and the
# actual consumption at the end; then the run read back by `epochwatt parse` and drawn by
# `epochwatt report` (build/demo-report.html).
#
# usage: scripts/demo.sh BUILD_DIR        (DEMO_LOG_DIR overrides the log folder, DEMO_EPOCHS the epochs)
set -euo pipefail

BUILD="${1:-build}"
PKG="$BUILD/python"
# Debian's interpreter, where python3-torch and python3-sklearn live (a pyenv python3 on PATH has neither).
PYTHON="${PYTHON:-/usr/bin/python3}"
LOG_DIR="${DEMO_LOG_DIR:-$BUILD/demo-logs}"   # inside the build folder: ignored by git, removed by make clean
EPOCHS="${DEMO_EPOCHS:-10}"

if [ ! -f "$PKG/epochwatt/__init__.py" ] || ! ls "$PKG"/epochwatt/_epochwatt*.so >/dev/null 2>&1; then
  echo "demo: the Python package is not built in $PKG; build first (make build)" >&2
  exit 1
fi

# Only this run's files should be listed: remove what an earlier demo wrote (our files only).
mkdir -p "$LOG_DIR"
rm -f "$LOG_DIR"/*_carbontracker*.log "$LOG_DIR"/*_epochwatt.json

echo "== $PYTHON examples/python/train_digits.py --epochs $EPOCHS --log-dir $LOG_DIR"
echo "   (PyTorch CNN on scikit-learn's digits; this machine's meters; embedded intensity tables)"
echo
# EPOCHWATT_OFFLINE=1: no live provider and no IP geolocation, so the demo never touches the
# network (EPOCHWATT_OFFLINE=0 lets it look the intensity up).
EPOCHWATT_OFFLINE="${EPOCHWATT_OFFLINE:-1}" PYTHONPATH="$PKG${PYTHONPATH:+:$PYTHONPATH}" \
  "$PYTHON" examples/python/train_digits.py --epochs "$EPOCHS" --log-dir "$LOG_DIR"

shopt -s nullglob
outputs=("$LOG_DIR"/*_carbontracker_output.log)
if [ ${#outputs[@]} -eq 0 ]; then
  echo "demo: expected an output log in $LOG_DIR" >&2
  exit 1
fi
echo
echo "== Files in $LOG_DIR"
for f in "$LOG_DIR"/*_carbontracker*.log "$LOG_DIR"/*_epochwatt.json; do
  echo "  $f"
done

# The tools that read a run back, through `python3 -m epochwatt` (the same CLI as `epochwatt`).
CLI=(env PYTHONPATH="$PKG" "$PYTHON" -m epochwatt)
echo
echo "== python3 -m epochwatt parse $LOG_DIR --table"
"${CLI[@]}" parse "$LOG_DIR" --table
echo
echo "== python3 -m epochwatt parse $LOG_DIR"
"${CLI[@]}" parse "$LOG_DIR"
echo
echo "== python3 -m epochwatt report $LOG_DIR --html $BUILD/demo-report.html"
"${CLI[@]}" report "$LOG_DIR" --html "$BUILD/demo-report.html"
echo "   (open it in a browser; docs/report.md)"
echo
echo "The C++ example (examples/mlp_train.cpp) runs as: $BUILD/examples/mlp_train --epochs 4 --log-dir DIR"
