#!/usr/bin/env bash
# Parse at scale (issue 13): `epochwatt parse` of folders of 1000 and 10,000 generated
# carbontracker 2.4.3 log pairs (bench/gen_log_corpus.cpp, about 2 kB a pair), for the sentence,
# --table and --json; wall time, CPU time (user + sys) and peak RSS by /usr/bin/time, the minimum
# and the median of REPS runs (warm page cache; output to /dev/null). Beside them the floor:
# bench/read_floor.cpp lists the folder once and opens, reads and closes every file, nothing else.
# docs/performance.md ("Parse at scale (issue 13)") records what this printed.
#
# usage: bench/parse_at_scale.sh BUILD_DIR [REPS (default 7)] [EPOCHWATT binary to compare]
set -euo pipefail

BUILD="${1:-build}"
REPS="${2:-7}"
EW="${3:-$BUILD/src/cli/epochwatt}"
GEN="$BUILD/bench/gen_log_corpus"
FLOOR="$BUILD/bench/read_floor"
for bin in "$EW" "$GEN" "$FLOOR"; do
  if [ ! -x "$bin" ]; then
    echo "parse_at_scale: $bin not found; build it first (cmake --build $BUILD --target epochwatt_cli gen_log_corpus read_floor)" >&2
    exit 1
  fi
done
if [ ! -x /usr/bin/time ]; then
  echo "parse_at_scale: /usr/bin/time not found (Debian package: time)" >&2
  exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# min and median of a column of numbers
stats() { sort -g | awk '{ v[NR] = $1 } END { printf "min %.3f  median %.3f", v[1], v[int((NR + 1) / 2)] }'; }

# measure LABEL COMMAND...: REPS runs timed by bash's `time` (ms resolution): wall s and CPU s
# (user + sys); then one run under /usr/bin/time for the peak RSS (MB).
measure() {
  local label="$1"
  shift
  : > "$work/times"
  local TIMEFORMAT="%3R %3U %3S"
  for _ in $(seq "$REPS"); do
    { time "$@" > /dev/null 2> "$work/stderr"; } 2>> "$work/times" || {
      echo "parse_at_scale: '$*' failed:" >&2
      cat "$work/stderr" >&2
      exit 1
    }
  done
  /usr/bin/time -o "$work/one" -f "%M" "$@" > /dev/null 2> /dev/null
  printf "  %-20s wall %s s | cpu %s s | peak RSS %.1f MB\n" "$label" \
    "$(awk '{ print $1 }' "$work/times" | stats)" \
    "$(awk '{ print $2 + $3 }' "$work/times" | stats)" \
    "$(awk '{ print $1 / 1024 }' "$work/one")"
}

echo "== parse at scale: $(nproc) CPU(s), load average $(cut -d' ' -f1-3 /proc/loadavg), $REPS runs each, $EW"
for n in 1000 10000; do
  dir="$work/runs-$n"
  "$GEN" "$dir" "$n"
  echo "== $n log pairs, $(du -sb "$dir" | cut -f1) bytes in $(find "$dir" -type f | wc -l) files"
  "$FLOOR" "$dir" > /dev/null  # warm the page cache
  measure "floor (read_floor)" "$FLOOR" "$dir"
  measure "parse (sentence)" "$EW" parse "$dir"
  measure "parse --table" "$EW" parse --table "$dir"
  measure "parse --json" "$EW" parse --json "$dir"
done
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
