#!/usr/bin/env bash
# `make demo`: trains the example MLP for 4 epochs on this machine's meters, offline, and shows
# what epochwatt printed and wrote: the prediction after epoch 1, the actual consumption at the
# end, the carbontracker-format log files and the JSON summary, then the run read back by
# `epochwatt parse` and drawn by `epochwatt report` (build/demo-report.html).
#
# usage: scripts/demo.sh BUILD_DIR        (DEMO_LOG_DIR overrides the log folder)
set -euo pipefail

BUILD="${1:-build}"
BIN="$BUILD/examples/mlp_train"
# Inside the build folder: git ignores it and `make clean` removes it.
LOG_DIR="${DEMO_LOG_DIR:-$BUILD/demo-logs}"

if [ ! -x "$BIN" ]; then
  echo "demo: $BIN not found; build first (make build, or cmake --build $BUILD)" >&2
  exit 1
fi

# Only this run's files should be listed: remove what an earlier demo wrote (our files only).
mkdir -p "$LOG_DIR"
rm -f "$LOG_DIR"/*_carbontracker*.log "$LOG_DIR"/*_epochwatt.json

echo "== $BIN --epochs 4 --log-dir $LOG_DIR (this machine's meters, embedded defaults)"
echo
# Offline, on the defaults: the meters are whatever this machine offers (RAPL, NVML, hwmon, else
# the CPU/DRAM estimate, each named in the logs) and the intensity comes from the embedded tables
# (EPOCHWATT_COUNTRY if set, else the 2024 world average).
# EPOCHWATT_OFFLINE=1: no live provider and no IP geolocation, so the demo never touches the network
# (set EPOCHWATT_OFFLINE=0 to let it look the intensity up).
EPOCHWATT_OFFLINE="${EPOCHWATT_OFFLINE:-1}" "$BIN" --epochs 4 --log-dir "$LOG_DIR" --seed 42

shopt -s nullglob
outputs=("$LOG_DIR"/*_carbontracker_output.log)
jsons=("$LOG_DIR"/*_epochwatt.json)

echo
echo "== Files in $LOG_DIR"
for f in "$LOG_DIR"/*_carbontracker*.log "$LOG_DIR"/*_epochwatt.json; do
  echo "  $f"
done
if [ ${#outputs[@]} -eq 0 ] || [ ${#jsons[@]} -eq 0 ]; then
  echo "demo: expected an output log and a JSON summary in $LOG_DIR" >&2
  exit 1
fi

for f in "${outputs[@]}"; do
  echo
  echo "== $f"
  cat "$f"
done
for f in "${jsons[@]}"; do
  echo
  echo "== $f"
  cat "$f"
  echo
done

# The tools that read a run back: the aggregate of the folder, and the HTML report.
CLI="$BUILD/src/cli/epochwatt"
if [ -x "$CLI" ]; then
  echo
  echo "== $CLI parse $LOG_DIR --table"
  "$CLI" parse "$LOG_DIR" --table
  echo
  echo "== $CLI report $LOG_DIR --html $BUILD/demo-report.html"
  "$CLI" report "$LOG_DIR" --html "$BUILD/demo-report.html"
  echo "   (open it in a browser; docs/report.md)"
fi
