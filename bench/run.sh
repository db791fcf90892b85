#!/usr/bin/env bash
# `make bench`: runs the benchmarks with 10 repetitions and prints the median of each.
# docs/performance.md records the figures this printed and explains what each one measures.
#
# usage: bench/run.sh BUILD_DIR [extra benchmark flags, e.g. --benchmark_filter=EpochStartEnd]
set -euo pipefail

BUILD="${1:-build}"
shift || true
BIN="$BUILD/bench/bench_tracker"
JSON="$BUILD/bench/bench_tracker.json"

if [ ! -x "$BIN" ]; then
  echo "bench: $BIN not found; build first (make build, or cmake --build $BUILD)" >&2
  exit 1
fi

echo "== machine: $(nproc) CPU(s), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
console="$(mktemp)"
trap 'rm -f "$console"' EXIT

"$BIN" --benchmark_repetitions=10 --benchmark_report_aggregates_only=true \
  --benchmark_out="$JSON" --benchmark_out_format=json "$@" | tee "$console"

echo
echo "== medians of 10 repetitions (wall-clock time per iteration; full results in $JSON)"
awk '$1 ~ /_median$/ {
  name = $1; sub(/_median$/, "", name)
  extra = ""; for (i = 7; i <= NF; i++) extra = extra " " $i  # user counters, e.g. per_epoch
  printf "  %-72s %10s %-3s%s\n", name, $2, $3, extra
}' "$console"

# The log reader over folders of 200 and 2000 generated log pairs (docs/performance.md, "Parsing logs").
if [ -x "$BUILD/bench/bench_parse" ]; then
  echo
  echo "== $BUILD/bench/bench_parse (medians of 10 repetitions)"
  "$BUILD/bench/bench_parse" --benchmark_repetitions=10 --benchmark_report_aggregates_only=true \
    --benchmark_out="$BUILD/bench/bench_parse.json" --benchmark_out_format=json | grep -E '_median|^BM_|Benchmark' || true
fi

# `epochwatt parse` of 1000 and 10,000 generated carbontracker log pairs: wall time, CPU time and
# peak RSS of the sentence, --table and --json, beside the floor of reading the files
# (docs/performance.md, "Parse at scale (issue 13)").
if [ -x "$BUILD/bench/gen_log_corpus" ] && [ -x "$BUILD/bench/read_floor" ] && [ -x "$BUILD/src/cli/epochwatt" ]; then
  echo
  bash "$(dirname "$0")/parse_at_scale.sh" "$BUILD"
fi

# The /metrics endpoint: the sampler's cost per round for the live readings, the text, a scrape
# over HTTP on 127.0.0.1 (docs/performance.md, "/metrics endpoint (issue 14)").
if [ -x "$BUILD/bench/bench_metrics" ]; then
  echo
  echo "== $BUILD/bench/bench_metrics (medians of 10 repetitions; load average $(cut -d' ' -f1-3 /proc/loadavg))"
  "$BUILD/bench/bench_metrics" --benchmark_repetitions=10 --benchmark_report_aggregates_only=true | grep -E '_median|^Benchmark' || true
fi

# Accuracy of power sampling against the energy counter (H100 trace) and the sampler's cost per
# round with 8 GPUs and 2 RAPL sockets, on the test suite's fake NVML.
if [ -x "$BUILD/bench/bench_nvml_sampling" ]; then
  echo
  echo "== $BUILD/bench/bench_nvml_sampling"
  "$BUILD/bench/bench_nvml_sampling"
fi

# The sampler's CPU time while the job sleeps 5 s: at the defaults, the wake-up floor, with
# update_interval 5 s, and with 8 fake NVML GPUs + 2 fake RAPL sockets; and one /proc/stat reading
# (docs/performance.md, "Sampler CPU and the caller's cost (issue 13)" and "Sampler CPU: the
# adaptive period (issue 13)"). Takes about 80 s.
if [ -x "$BUILD/bench/bench_sampler_cpu" ]; then
  echo
  echo "== $BUILD/bench/bench_sampler_cpu 5 3 (load average $(cut -d' ' -f1-3 /proc/loadavg))"
  "$BUILD/bench/bench_sampler_cpu" 5 3
fi

# Prediction accuracy of both rules on the recorded epoch series (docs/performance.md, "Prediction
# accuracy"); deterministic, reads bench/prediction/series.
if [ -x "$BUILD/bench/bench_prediction" ]; then
  echo
  echo "== $BUILD/bench/bench_prediction"
  "$BUILD/bench/bench_prediction"
  echo
  echo "== bench/prediction/limits.py"
  /usr/bin/python3 "$(dirname "$0")/prediction/limits.py"
fi

# Memory per epoch and stop()'s peak and latency with 8 meters (issue 13; docs/performance.md,
# "Memory per epoch and stop()"): one process per size, without and with log files.
if [ -x "$BUILD/bench/bench_memory" ]; then
  echo
  echo "== $BUILD/bench/bench_memory (8 meters; one process per line)"
  logs="$(mktemp -d)"
  for n in 10 10000 100000; do
    "$BUILD/bench/bench_memory" "$n"
    rm -rf "${logs:?}"/*
    "$BUILD/bench/bench_memory" "$n" "$logs"
  done
  rm -rf "$logs"
fi

# The CLI with 100,000 short epochs from --epoch-regex (simulated CPU and GPU): peak RSS and the
# JSON summary's size.
CLI="$BUILD/src/cli/epochwatt"
if [ -x "$CLI" ] && [ -x /usr/bin/time ]; then
  echo
  echo "== $CLI, 100,000 epochs from --epoch-regex (simulated CPU and GPU)"
  out="$(mktemp -d)"
  /usr/bin/time -v "$CLI" --epochs 100000 --epoch-regex '^epoch' --sim-cpu bench-cpu --sim-cpu-tdp 65 \
    --sim-gpu bench-gpu --sim-gpu-watts 300 --offline --log-dir "$out" --json "$out/summary.json" \
    -- sh -c 'seq 100000 | sed "s/^/epoch /"' >/dev/null 2>"$out/time.txt" || true
  grep -E 'Maximum resident|Elapsed' "$out/time.txt"
  echo "JSON summary: $(stat -c %s "$out/summary.json" 2>/dev/null || echo '?') bytes"
  rm -rf "$out"
fi

# The job's output forwarded through --epoch-regex against the job writing directly, and the
# start-up of `epochwatt -- true` (docs/performance.md, "Forwarding and start-up (issue 13)").
if [ -x "$BUILD/src/cli/epochwatt" ]; then
  echo
  bash "$(dirname "$0")/forwarding.sh" "$BUILD" 200 5
  echo
  bash "$(dirname "$0")/startup.sh" "$BUILD" 100
fi

# The job-wide reduction's cost per epoch on 4 local ranks (docs/performance.md, "Job-wide
# reduction (issue 14)"); needs mpirun and the MPI build.
if [ -x "$BUILD/bench/bench_reduction" ] && command -v mpirun >/dev/null; then
  echo
  echo "== $BUILD/bench/bench_reduction: mpirun -np 4, 300 epochs of 10 ms"
  mpirun --allow-run-as-root --oversubscribe -np 4 "$BUILD/bench/bench_reduction" 300 10
fi
