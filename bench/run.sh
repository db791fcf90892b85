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

# Accuracy of power sampling against the energy counter (H100 trace) and the sampler's cost per
# round with 8 GPUs and 2 RAPL sockets, on the test suite's fake NVML.
if [ -x "$BUILD/bench/bench_nvml_sampling" ]; then
  echo
  echo "== $BUILD/bench/bench_nvml_sampling"
  "$BUILD/bench/bench_nvml_sampling"
fi

# The sampler's CPU time while the job sleeps 5 s: at the defaults, the wake-up floor, with
# update_interval 5 s, and with 8 fake NVML GPUs + 2 fake RAPL sockets; and one /proc/stat reading
# (docs/performance.md, "Sampler CPU and the caller's cost (issue 13)"). Takes about 80 s.
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
fi
