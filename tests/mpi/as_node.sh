#!/bin/sh
# Runs a rank as one of two simulated nodes: ranks 0 and 1 on node-a, 2 and 3 on node-b (two ranks
# per node), by EPOCHWATT_NODE from OpenMPI's OMPI_COMM_WORLD_RANK.
if [ "${OMPI_COMM_WORLD_RANK:-0}" -lt 2 ]; then EPOCHWATT_NODE=node-a; else EPOCHWATT_NODE=node-b; fi
export EPOCHWATT_NODE
exec "$@"
