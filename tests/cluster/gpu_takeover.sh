#!/bin/bash
# The GPU choice with real processes and the fake NVML (docs/cluster.md, "Who measures what"): a
# node of two GPUs and two local ranks.
#  1. Only rank 0 tracks (`if rank == 0`): it measures both GPUs, its own at once and local rank
#     1's from EPOCHWATT_GPU_CLAIM_DELAY_S on.
#  2. Both ranks track, rank 1 is killed with SIGKILL: rank 0 takes rank 1's GPU over and counts
#     it from then on; before that each rank measured exactly its own GPU.
# Usage: gpu_takeover.sh EPOCHWATT_CLI FAKE_NVML_LIBRARY
set -eu
cli=$1
nvml=$2
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
export EPOCHWATT_OFFLINE=1 EPOCHWATT_GPU_CLAIM_DELAY_S=1 FAKE_NVML_SCENARIO=$work/node.scenario
{
  echo "[gpu]"; echo "uuid = GPU-00000000-0000-4000-8000-0000000000a0"; echo "watts = 100"
  echo "[gpu]"; echo "uuid = GPU-00000000-0000-4000-8000-0000000000a1"; echo "watts = 200"
} > "$FAKE_NVML_SCENARIO"
start() {  # start CASE RANK SECONDS: one process of the job, in the background
  "$cli" --log-dir "" --json "$work/$1-rank$2.json" --offline --intensity 100 --no-geolocation --components gpu \
    --nvml-library "$nvml" --runtime-dir "$work/run-$1" --job-id takeover-$1 --node n0 \
    --rank "$2" --local-rank "$2" --world-size 2 --local-world-size 2 -- sleep "$3" >"$work/$1-rank$2.log" 2>&1 &
  pids+=($!)
}
# GPU joules of one rank's summary, by UUID, and the run's duration.
joules() {
  python3 - "$1" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
uuid = {d["id"]: d.get("hardware_id", d["id"]) for d in s["context"]["devices"]}
t = s["epochs"]
rows = [i for i in range(t["count"]) if i not in t["interrupted_rows"]]
out = {uuid[d["meter"]][-2:]: sum(d["joules"][i] or 0 for i in rows) for d in t["devices"]}
print(json.dumps({"gpu": out, "duration": sum(t["duration_s"][i] for i in rows)}))
PY
}
fail() { echo "FAIL: $*"; for f in "$work"/*.log; do echo "--- $f"; cat "$f"; done; exit 1; }

# 1. Rank 0 alone.
start alone 0 4
wait "${pids[0]}" || fail "rank 0 alone"
alone=$(joules "$work/alone-rank0.json")
echo "rank 0 alone: $alone"
python3 - "$alone" <<'PY' || fail "rank 0 alone does not measure both GPUs"
import json, sys
r = json.loads(sys.argv[1])
g, d = r["gpu"], r["duration"]
assert g["a0"] > 0 and g["a1"] > 0, g
# Its own GPU from the start, local rank 1's from the delay (1 s) on: never more than its run.
assert g["a1"] <= 200 * d + 20 and g["a1"] < g["a0"] * 2, g
PY

# 2. Rank 1 killed: rank 0 takes its GPU over.
start kill 1 30
victim=${pids[1]}
start kill 0 7
sleep 3
kill -9 "$victim"
wait "${pids[2]}" || fail "rank 0 with rank 1 killed"
kept=$(joules "$work/kill-rank0.json")
echo "rank 0 after kill -9 of rank 1: $kept"
python3 - "$kept" <<'PY' || fail "rank 0 does not take the dead rank's GPU over"
import json, sys
r = json.loads(sys.argv[1])
g, d = r["gpu"], r["duration"]
assert g["a0"] > 0 and g["a1"] > 0, g
# Rank 1's GPU counted by rank 0 only after rank 1's death (about 3 s into rank 0's 7 s), never
# for rank 0's whole run.
assert g["a1"] < 200 * d, g
PY
echo "PASS"
