#!/usr/bin/env bash
# Start-up of `epochwatt -- true` at the defaults (offline), and the variants that show where its
# time and memory go (docs/performance.md, "Forwarding and start-up (issue 13)").
#
# usage: bench/startup.sh BUILD_DIR [RUNS]
#
# Wall time: hyperfine (Debian's hyperfine; -N: no shell) when installed, RUNS runs (default 100)
# after 5 warm-ups, mean and min; else a loop of RUNS runs, mean only. Peak RSS: /usr/bin/time -v
# (Debian's time), the median of 5 runs. Each run writes its log files into a fresh temporary
# folder (the default ./logs), away from the user's cache and config.
set -euo pipefail

BUILD="${1:-build}"
RUNS="${2:-100}"
EW="$(cd "$(dirname "$BUILD/src/cli/epochwatt")" && pwd)/epochwatt"
if [ ! -x "$EW" ]; then
  echo "startup: $EW not found; build first (cmake --build $BUILD --target epochwatt_cli)" >&2
  exit 1
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
export XDG_CACHE_HOME="$work/cache" XDG_CONFIG_HOME="$work/config"
unset EPOCHWATT_CONFIG EPOCHWATT_ZONE EPOCHWATT_COUNTRY 2>/dev/null || true

names=(
  "a process that does nothing (true)"
  "epochwatt --version (load, command line)"
  "epochwatt --offline -- true (defaults)"
  "  the same without log files (--log_dir '')"
  "  the same, CPU simulated: no TDP table"
)
command_of() {  # sets cmd to case $1's command
  case "$1" in
    0) cmd=(true) ;;
    1) cmd=("$EW" --version) ;;
    2) cmd=("$EW" --offline -- true) ;;
    3) cmd=("$EW" --offline --log_dir '' -- true) ;;
    4) cmd=("$EW" --offline --sim-cpu X --sim-cpu-tdp 10 --components cpu -- true) ;;
  esac
}

peak_rss_kb() {
  local v=()
  for _ in 1 2 3 4 5; do
    v+=("$(/usr/bin/time -f '%M' "$@" 2>&1 >/dev/null | tail -1)")
  done
  printf '%s\n' "${v[@]}" | sort -n | sed -n 3p
}

echo "== start-up: $(nproc) CPU(s), load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '  %-46s %10s %10s %12s %10s\n' "command" "mean" "min" "CPU (u+s)" "peak RSS"
for i in "${!names[@]}"; do
  command_of "$i"
  if command -v hyperfine >/dev/null; then
    # hyperfine quotes nothing with -N: pass each word as it is, '' as an empty argument.
    line=""
    for w in "${cmd[@]}"; do line+="${w:-\"\"} "; done
    hyperfine -N -w 5 -r "$RUNS" --export-json "$work/h.json" "$line" >/dev/null 2>&1
    read -r mean min cpu < <(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print("%.1f %.1f %.1f" % (r["mean"]*1e3, r["min"]*1e3, (r["user"]+r["system"])*1e3))' "$work/h.json")
  else
    t0=$(date +%s%N)
    for _ in $(seq "$RUNS"); do "${cmd[@]}" >/dev/null 2>&1; done
    t1=$(date +%s%N)
    mean=$(awk -v d=$((t1 - t0)) -v n="$RUNS" 'BEGIN { printf "%.1f", d / n / 1e6 }') min=- cpu=-
  fi
  rss=$(peak_rss_kb "${cmd[@]}")
  printf '  %-46s %7s ms %7s ms %9s ms %7.1f MB\n' "${names[$i]}" "$mean" "$min" "$cpu" "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')"
done
