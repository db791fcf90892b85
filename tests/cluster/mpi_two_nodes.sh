#!/bin/bash
# mpirun -np 4 of the epochwatt CLI as two simulated nodes of two ranks each (docs/cluster.md):
# the per-rank JSON summaries add up to the node meters, the CPU once per node and each GPU once;
# with --independent the same job counts the CPU twice per node and each GPU twice.
# Usage: mpi_two_nodes.sh EPOCHWATT_CLI FAKE_NVML_LIBRARY. Exit 77: skipped (no mpirun).
set -eu
cli=$1
nvml=$2
here=$(cd "$(dirname "$0")" && pwd)
if ! command -v mpirun >/dev/null 2>&1; then
  echo "SKIP: mpirun is not installed (Debian: openmpi-bin)"
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export CLUSTER_DIR=$work
# Two GPUs per node, each of its own power, UUIDs distinct across nodes.
for n in 0 1; do
  {
    echo "[gpu]"; echo "uuid = GPU-0000000$n-0000-4000-8000-000000000000"; echo "watts = $((100 + 200 * n))"
    echo "[gpu]"; echo "uuid = GPU-0000000$n-0000-4000-8000-000000000001"; echo "watts = $((200 + 200 * n))"
  } > "$work/node$n.scenario"
done
sim_tdp=100  # the simulated CPU draws sim_tdp x 0.5 (its default utilisation) = 50 W

run() {  # run MODE [EXTRA ARGS...]
  local mode=$1
  shift
  export CLUSTER_OUT=$work/$mode
  mkdir -p "$CLUSTER_OUT"
  timeout 120 mpirun --allow-run-as-root --oversubscribe -np 4 \
    -x CLUSTER_DIR -x CLUSTER_OUT -x EPOCHWATT_OFFLINE=1 \
    "$here/rank_as_node.sh" "$cli" --log-dir "" --offline --intensity 100 --no-geolocation \
    --sim-cpu "Sim CPU" --sim-cpu-tdp $sim_tdp --nvml-library "$nvml" --runtime-dir "$work/run-$mode" \
    "$@" -- sleep 4 >"$work/$mode.log" 2>&1 || { cat "$work/$mode.log"; echo "FAIL: mpirun ($mode)"; exit 1; }
}
run dedup
run independent --independent
python3 "$here/check_job.py" "$work/dedup" "$work/independent" 50
