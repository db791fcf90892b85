#!/usr/bin/env bash
# Records the digits series of the prediction benchmark (docs/performance.md, "Prediction
# accuracy"): real PyTorch training of scikit-learn's digits, 10 epochs on the CPU, offline.
#
#   bash bench/prediction/record_digits.sh [BUILD_DIR] [RUNS] [API_RUNS]     (defaults: build 3 2)
#
# - digits-wrapped-end-I:   the CLI wraps bench/prediction/digits_plain.py with --epoch-regex alone,
#                           so epoch 1 starts with the job and includes its set-up;
# - digits-wrapped-start-I: the same with --epoch-start-regex: the set-up is measured apart;
# - digits-api-I:           examples/python/train_digits.py through the Python package (its
#                           CarbonTracker drop-in writes a JSON summary into --log-dir).
# Wrapped runs alternate (end, start, end, ...) so that the machine's other load falls on both.
# Before each run the script waits (at most IDLE_WAIT_S, default 600 s) until the CPUs were at least
# 90 % idle over 3 s, as the other benchmarks of docs/performance.md; the header records the idle
# share and the load average at the start. The digits run on the CPU, whose energy the estimate
# meter takes from the utilisation of the whole machine: other jobs' load is in the joules.
# Each JSON summary becomes bench/prediction/series/<name>.csv (json_to_series.py); this overwrites
# the files of the same names.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD="$(cd "${1:-$ROOT/build}" && pwd)"
RUNS="${2:-3}"
API_RUNS="${3:-2}"
CLI="$BUILD/src/cli/epochwatt"
PY=/usr/bin/python3  # Debian's interpreter: the one with python3-torch and python3-sklearn
SERIES="$ROOT/bench/prediction/series"
TO_SERIES="$ROOT/bench/prediction/json_to_series.py"
[ -x "$CLI" ] || { echo "record_digits: $CLI not found; build first" >&2; exit 1; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
export EPOCHWATT_OFFLINE=1
machine="$(nproc) CPU(s), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
commit="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"

idle_share() {  # the CPUs' idle share over 3 s, in percent
  local a b
  a=($(head -1 /proc/stat)); sleep 3; b=($(head -1 /proc/stat))
  local total=0 i
  for i in 1 2 3 4 5 6 7 8; do total=$((total + b[i] - a[i])); done
  echo $(( total > 0 ? 100 * (b[4] - a[4] + b[5] - a[5]) / total : 0 ))
}

wait_idle() {  # sets $idle
  local waited=0
  idle="$(idle_share)"
  while [ "$idle" -lt 90 ] && [ "$waited" -lt "${IDLE_WAIT_S:-600}" ]; do
    sleep 7; waited=$((waited + 10)); idle="$(idle_share)"
  done
}

shown() {  # the command as one would type it: arguments with spaces or specials in single quotes
  local a out=""
  for a in "$@"; do
    case "$a" in *[!A-Za-z0-9_./=:,+-]*) a="'$a'" ;; esac
    out="$out${out:+ }$a"
  done
  echo "$out" | sed "s|$ROOT/||g; s|$BUILD|BUILD|g; s|$tmp|TMP|g"
}

record() {  # name, what it was, then the command
  local name="$1" what="$2"
  shift 2
  local load idle
  wait_idle
  load="$(cut -d' ' -f1 /proc/loadavg)"
  echo "== $name ($idle % idle): $(shown "$@")" >&2
  "$@" >"$tmp/$name.out" 2>&1 || { cat "$tmp/$name.out" >&2; exit 1; }
  local json="$tmp/$name.json"
  [ -f "$json" ] || json="$(ls "$tmp/$name"/*_epochwatt.json)"
  "$PY" "$TO_SERIES" "$json" "$SERIES/$name.csv" "$what" \
    "bench/prediction/record_digits.sh at commit $commit: \`$(shown "$@")\`, EPOCHWATT_OFFLINE=1; $machine, CPUs $idle % idle over the 3 s before the start, load average $load"
}

for i in $(seq 1 "$RUNS"); do
  record "digits-wrapped-end-$i" "digits CNN wrapped by the CLI, end regex alone (epoch 1 includes the job's set-up), run $i" \
    "$CLI" --epochs 10 --epoch-regex '^epoch ' --json "$tmp/digits-wrapped-end-$i.json" --log-dir "$tmp/logs" \
    -- "$PY" -u "$ROOT/bench/prediction/digits_plain.py"
  record "digits-wrapped-start-$i" "digits CNN wrapped by the CLI, start and end regex (set-up apart), run $i" \
    "$CLI" --epochs 10 --epoch-start-regex '^start epoch ' --epoch-regex '^epoch ' \
    --json "$tmp/digits-wrapped-start-$i.json" --log-dir "$tmp/logs" -- "$PY" -u "$ROOT/bench/prediction/digits_plain.py"
done
for i in $(seq 1 "$API_RUNS"); do
  record "digits-api-$i" "digits CNN through the Python package (CarbonTracker drop-in; set-up = construction to epoch 1), run $i" \
    env PYTHONPATH="$BUILD/python" "$PY" "$ROOT/examples/python/train_digits.py" --epochs 10 --log-dir "$tmp/digits-api-$i"
done
ls -l "$SERIES"/digits-*.csv
