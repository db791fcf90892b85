#!/bin/bash
# The node election with real processes (docs/cluster.md, "Who measures what"): three processes of
# one job on one node start in an order other than their ranks'; exactly one holds the node's
# claim; kill -9 of that leader hands the claim to another within a bounded time, and that one
# counts the node from then on, without any time counted twice.
# Usage: election_kill.sh EPOCHWATT_CLI
set -eu
cli=$1
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
export EPOCHWATT_RUNTIME_DIR=$work/run EPOCHWATT_OFFLINE=1
start() {  # start RANK SECONDS: one process of the job, in the background
  "$cli" --log-dir "" --json "$work/rank$1.json" --offline --intensity 100 --no-geolocation --components cpu \
    --sim-cpu "Sim CPU" --sim-cpu-tdp 100 --job-id kill-test --node n0 \
    --rank "$1" --local-rank "$1" --world-size 3 --local-world-size 3 -- sleep "$2" >"$work/rank$1.log" 2>&1 &
  pids+=($!)
}
holder() { cat "$work"/run/*node*.lock 2>/dev/null | head -n 1; }
wait_for() {  # wait_for WHAT COMMAND...: up to 20 s
  for _ in $(seq 200); do
    if "${@:2}"; then return 0; fi
    sleep 0.1
  done
  echo "FAIL: $1 (holder: '$(holder)')"
  for r in 0 1 2; do echo "--- rank $r"; cat "$work/rank$r.log" 2>/dev/null || true; done
  exit 1
}
holder_is() { holder | grep -q "^rank $1 "; }
holder_is_not() { h=$(holder); [ -n "$h" ] && ! echo "$h" | grep -q "^rank $1 "; }

start 2 30   # the leader: started first, killed below
leader=${pids[0]}
wait_for "rank 2 takes the node's claim" holder_is 2
start 0 6
start 1 6
sleep 2
grep -q "measured by one process of job kill-test on n0: rank 2" "$work/rank0.log" ||
  { cat "$work/rank0.log"; echo "FAIL: rank 0 does not name rank 2 as the node's measurer"; exit 1; }
child=$(pgrep -P "$leader" || true)
kill -9 "$leader"
[ -n "$child" ] && kill -9 $child 2>/dev/null || true
wait_for "another rank takes the node over after kill -9 of the leader" holder_is_not 2
echo "after kill -9 of rank 2: $(holder)"
wait "${pids[1]}" "${pids[2]}"
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
cpu = {}
dur = {}
for r in (0, 1):
    s = json.load(open("%s/rank%d.json" % (work, r)))
    t = s["epochs"]
    rows = [i for i in range(t["count"]) if i not in t["interrupted_rows"]]
    dur[r] = sum(t["duration_s"][i] for i in rows)
    cpu[r] = sum(sum(d["joules"][i] or 0 for i in rows) for d in t["devices"])
    assert all(d.get("shared") == "node" for d in s["context"]["devices"]), s["context"]["devices"]
watts = 50.0
counted = (cpu[0] + cpu[1]) / watts
print("survivors counted the node for %.2f s of their %.2f s and %.2f s" % (counted, dur[0], dur[1]))
if counted <= 0:
    sys.exit("FAIL: no survivor counted the node after the leader died")
if counted > max(dur.values()) + 1.0:
    sys.exit("FAIL: the node was counted twice (%.2f s in runs of %.2f s at most)" % (counted, max(dur.values())))
print("PASS")
PY
