#!/usr/bin/env bash
# Throughput of a job's output forwarded by `epochwatt --epoch-regex` against the job writing
# directly (docs/performance.md, "Forwarding and start-up (issue 13)").
#
# usage: bench/forwarding.sh BUILD_DIR [MEGABYTES] [REPEATS]
#
# The job writes MEGABYTES (default 200) MB of lines to /dev/null: `yes LINE | head -c BYTES`, with
# a 75-byte training-log line, and again with yes's own 2-byte lines. Each case runs directly and
# through epochwatt (offline, no log files, --quiet: the job's output goes through two pipes, is
# forwarded to /dev/null and searched for the regex), REPEATS times (default 5) interleaved; the
# medians are printed in MB/s, with the ratio, and below them the best run of each. Two regexes: one RE2 searches a whole read at once
# ('epoch \d+ done'), and one anchored at the line's end, which is searched line by line
# ('^epoch \d+ done$', docs/cli.md).
# With perf (linux-perf) installed, the CPU time of the epochwatt process alone (not the job's) is
# printed too: on a loaded machine it says more than the wall-clock ratio. Beside them the floor of
# any reader: the same job piped through `cat` to /dev/null (a third process and a second pipe,
# nothing searched), and its ratio to direct.
set -euo pipefail

BUILD="${1:-build}"
MB="${2:-200}"
REPEATS="${3:-5}"
EW="$BUILD/src/cli/epochwatt"
if [ ! -x "$EW" ]; then
  echo "forwarding: $EW not found; build first (cmake --build $BUILD --target epochwatt_cli)" >&2
  exit 1
fi
BYTES=$((MB * 1000000))
LINE='train step 000123/100000 loss=0.4321 acc=0.8765 lr=0.000100 time=0.0123s ok'
export XDG_CACHE_HOME="${TMPDIR:-/tmp}/epochwatt-bench-cache" XDG_CONFIG_HOME="${TMPDIR:-/tmp}/epochwatt-bench-config"

# Seconds (wall) that "$@" takes, its stdout and stderr to /dev/null.
seconds() {
  local t0 t1
  t0=$(date +%s%N)
  "$@" >/dev/null 2>&1
  t1=$(date +%s%N)
  echo "$(( (t1 - t0) / 1000 ))" | awk '{ printf "%.4f\n", $1 / 1e6 }'
}
minimum() { sort -g | head -1; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "== forwarding: $MB MB per run, medians of $REPEATS interleaved runs; $(nproc) CPU(s), load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '  %-22s %-18s %10s %12s %7s %16s %12s %7s\n' "job" "regex" "direct" "epochwatt" "ratio" "epochwatt's CPU" "cat" "ratio"
own_cpu_ms() {  # CPU time of the process "$@" alone (perf stat --no-inherit), or "-"
  if command -v perf >/dev/null && perf stat --no-inherit -x, -e task-clock true >/dev/null 2>&1; then
    perf stat --no-inherit -x, -e task-clock "$@" 2>&1 >/dev/null | awk -F, '/task-clock/ { printf "%.0f\n", $1 }'
  else
    echo -
  fi
}
for case in "75-byte lines|yes '$LINE' | head -c $BYTES" "2-byte lines (yes)|yes | head -c $BYTES"; do
  name="${case%%|*}"
  job="${case#*|}"
  for re in 'epoch \d+ done' '^epoch \d+ done$'; do
    direct=() through=() cpu=() piped=()
    ew=("$EW" --offline --log_dir '' --quiet --epochs 1000 --epoch-regex "$re" -- sh -c "$job")
    for _ in $(seq "$REPEATS"); do
      direct+=("$(seconds sh -c "$job")")
      through+=("$(seconds "${ew[@]}")")
      cpu+=("$(own_cpu_ms "${ew[@]}")")
      piped+=("$(seconds sh -c "$job | cat")")
    done
    d=$(printf '%s\n' "${direct[@]}" | median)
    t=$(printf '%s\n' "${through[@]}" | median)
    c=$(printf '%s\n' "${cpu[@]}" | median)
    p=$(printf '%s\n' "${piped[@]}" | median)
    dmin=$(printf '%s\n' "${direct[@]}" | minimum)
    tmin=$(printf '%s\n' "${through[@]}" | minimum)
    pmin=$(printf '%s\n' "${piped[@]}" | minimum)
    awk -v n="$name" -v r="$re" -v d="$d" -v t="$t" -v mb="$MB" -v c="$c" -v p="$p" \
      'BEGIN { printf "  %-22s %-18s %5.0f MB/s %7.0f MB/s %6.0f %% %13s ms %7.0f MB/s %6.0f %%\n", n, r, mb / d, mb / t, 100 * d / t, c, mb / p, 100 * d / p }'
    awk -v d="$dmin" -v t="$tmin" -v mb="$MB" -v p="$pmin" \
      'BEGIN { printf "  %-41s %5.0f MB/s %7.0f MB/s %6.0f %% %16s %7.0f MB/s %6.0f %%\n", "  best runs (shortest time of each):", mb / d, mb / t, 100 * d / t, "", mb / p, 100 * d / p }'
  done
done
