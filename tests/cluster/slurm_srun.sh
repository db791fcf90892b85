#!/bin/bash
# A real single-node SLURM (Debian's slurm-wlm and munge, on 127.0.0.1) started by this script:
# `srun -n 2` of the epochwatt CLI. Each rank reads its identity from srun's variables (launcher
# slurm, ranks 0 and 1 of one job slurm-<id>, step 0, one node) and the node election gives the
# simulated CPU to one of them at a time, so the ranks' sum is one node's CPU, not two. Start-up from munged to a finished srun took 0.4 to 0.8 s
# here (docs/cluster.md, "Launchers"). Needs root (slurmd starts the tasks).
# Usage: slurm_srun.sh EPOCHWATT_CLI. Exit 77: skipped (not root, or slurm-wlm/munge absent).
set -eu
cli=$1
for tool in munged slurmctld slurmd srun sinfo; do
  if ! command -v "$tool" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$tool" ]; then
    echo "SKIP: $tool is not installed (Debian: slurm-wlm munge)"
    exit 77
  fi
done
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: a SLURM of its own needs root (slurmd, munged as the munge user)"
  exit 77
fi
if [ ! -r /etc/munge/munge.key ]; then
  echo "SKIP: /etc/munge/munge.key is missing (the munge package makes it)"
  exit 77
fi
work=$(mktemp -d)
chmod 755 "$work"
pids=()
cleanup() {
  for f in "$work/slurmd.pid" "$work/slurmctld.pid" "$work/munge/munged.pid"; do
    [ -s "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
  done
  sleep 0.2
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/state" "$work/spool" "$work/log" "$work/munge" "$work/out"
chown munge:munge "$work/munge"
# Ports of our own, free now, so that a SLURM already on the machine is not disturbed.
read -r ctld_port slurmd_port < <(python3 -c '
import socket
s=[socket.socket() for _ in range(2)]
[x.bind(("127.0.0.1",0)) for x in s]
print(*[x.getsockname()[1] for x in s])')
cat > "$work/slurm.conf" <<CONF
ClusterName=epochwatttest
SlurmctldHost=localhost
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$work/munge/munge.socket
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$work/slurm.conf
t0=$(date +%s.%N)
runuser -u munge -- /usr/sbin/munged --socket="$work/munge/munge.socket" --pid-file="$work/munge/munged.pid" \
  --log-file="$work/munge/munged.log" --seed-file="$work/munge/munged.seed"
/usr/sbin/slurmctld -i -f "$SLURM_CONF"
/usr/sbin/slurmd -N localhost -f "$SLURM_CONF"
for _ in $(seq 300); do
  sinfo -h -o %t 2>/dev/null | grep -qx idle && break
  sleep 0.1
done
if ! sinfo -h -o %t 2>/dev/null | grep -qx idle; then
  echo "FAIL: the SLURM node did not become idle within 30 s"
  tail -n 20 "$work/log/slurmctld.log" "$work/log/slurmd.log" 2>/dev/null || true
  exit 1
fi
echo "SLURM up in $(python3 -c "import time; print(round(time.time() - $t0, 2))") s"
# The tracked job: 3 s of sleep, one epoch, a simulated CPU of 100 W TDP x 0.5.
timeout 120 srun -n 2 "$cli" --epochs 1 --epoch-regex '^done$' --sim-cpu "Sim CPU" --sim-cpu-tdp 100 \
  --offline --no-geolocation --intensity 100 --log-dir "$work/out" --runtime-dir "$work/run" \
  -- sh -c 'sleep 3; echo done' > "$work/srun.log" 2>&1 || { cat "$work/srun.log"; echo "FAIL: srun"; exit 1; }
python3 - "$work/out" <<'PY'
import glob, json, sys
summaries = [json.load(open(p)) for p in sorted(glob.glob(sys.argv[1] + "/*_epochwatt.json"))]
assert len(summaries) == 2, f"expected 2 summaries, found {len(summaries)}"
jobs = [s["context"]["job"] for s in summaries]
assert sorted(j["rank"] for j in jobs) == [0, 1], jobs
for j in jobs:
    assert j["launcher"] == "slurm", j
    assert j["job_id"].startswith("slurm-") and j["step_id"] == "0", j
    assert j["world_size"] == 2 and j["local_world_size"] == 2 and j["node_rank"] == 0, j
assert jobs[0]["job_id"] == jobs[1]["job_id"], jobs
energies = sorted(s["actual"]["energy_kwh"] for s in summaries)
longest_s = max(s["actual"]["duration_s"] for s in summaries)
# The node election: one process at a time measures the node's CPU (50 W x PUE 1.58). The leader
# counts it; the other rank counts 0 J while the leader runs, and takes the claim over if it
# outlives the leader by a moment, so the two add up to one node's CPU over the job, not two.
one_node_kwh = 50.0 * 1.58 * longest_s / 3.6e6
assert energies[1] > 0.5 * one_node_kwh, (energies, one_node_kwh)
assert sum(energies) <= 1.2 * one_node_kwh, (energies, one_node_kwh)
print("srun -n 2:", jobs[0]["job_id"], "ranks 0 and 1; node CPU counted once:", energies, "of", one_node_kwh)
PY
