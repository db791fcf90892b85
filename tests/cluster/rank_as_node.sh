#!/bin/sh
# Runs one rank of `mpirun -np 4` as a rank of one of two simulated nodes (node0: ranks 0 and 1,
# node1: ranks 2 and 3): its own node name (EPOCHWATT_NODE), its node's fake NVML scenario
# (FAKE_NVML_SCENARIO, from $CLUSTER_DIR/nodeN.scenario) and its own JSON summary
# ($CLUSTER_OUT/rankR.json). OpenMPI sees one host, so its local rank and size (0-3 of 4) are
# replaced by the simulated node's (0-1 of 2) with --local-rank and --local-world-size, which win
# over the environment. Usage: rank_as_node.sh EPOCHWATT [ARGS...]
rank=${OMPI_COMM_WORLD_RANK:?not started by OpenMPI}
node=node$((rank / 2))
EPOCHWATT_NODE=$node FAKE_NVML_SCENARIO=$CLUSTER_DIR/$node.scenario
export EPOCHWATT_NODE FAKE_NVML_SCENARIO
cli=$1
shift
exec "$cli" --json "$CLUSTER_OUT/rank$rank.json" --local-rank $((rank % 2)) --local-world-size 2 "$@"
