#!/usr/bin/env python3
"""Checks the per-rank JSON summaries of tests/cluster/mpi_two_nodes.sh (docs/cluster.md).

Usage: check_job.py DEDUP_DIR INDEPENDENT_DIR CPU_WATTS

DEDUP_DIR holds rank0.json .. rank3.json of a job run with the node election, INDEPENDENT_DIR
those of the same job with --independent. Ranks 0-1 are node0, 2-3 node1; each node has two fake
GPUs of known power (mpi_two_nodes.sh) and a simulated CPU of CPU_WATTS.

With the election: each GPU is in the summary of exactly one rank (its local rank's), with
watts x that rank's measured time; the node's CPU is counted once, so the node's CPU joules are at
most CPU_WATTS x the time some rank of the node ran (no second, parallel count), and the job's
total is the sum of those node meters. With --independent: every rank counts the CPU and both
GPUs of its node, and the job's total is about twice the node meters (the overcount the election
removes)."""
import json
import os
import sys

GPU_WATTS = {"GPU-00000000-0000-4000-8000-000000000000": 100, "GPU-00000000-0000-4000-8000-000000000001": 200,
             "GPU-00000001-0000-4000-8000-000000000000": 300, "GPU-00000001-0000-4000-8000-000000000001": 400}


def load(folder):
    ranks = {}
    for r in range(4):
        path = os.path.join(folder, "rank%d.json" % r)
        with open(path) as f:
            s = json.load(f)
        job = s["context"]["job"]
        # With --independent every process is a job of its own: rank 0 of 1.
        assert job["rank"] == (r if job["launcher"] != "none" else 0), (path, job)
        assert job["node"] == "node%d" % (r // 2), (path, job)
        devices = {d["id"]: d for d in s["context"]["devices"]}
        t = s["epochs"]
        counted = [i for i in range(t["count"]) if i not in t["interrupted_rows"]]
        duration = sum(t["duration_s"][i] for i in counted)
        per_meter = {}
        for d in t["devices"]:
            per_meter[d["meter"]] = sum(d["joules"][i] or 0.0 for i in counted)
        ranks[r] = {"job": job, "devices": devices, "duration": duration, "joules": per_meter, "summary": s}
    return ranks


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def by_kind(rank):
    cpu, gpus = 0.0, {}
    for mid, j in rank["joules"].items():
        info = rank["devices"][mid]
        if info["component"] == "gpu":
            gpus[info.get("hardware_id", mid)] = j
        else:
            cpu += j
    return cpu, gpus


def main():
    dedup, indep, cpu_w = load(sys.argv[1]), load(sys.argv[2]), float(sys.argv[3])
    job_ids = {r["job"]["job_id"] for r in dedup.values()}
    if len(job_ids) != 1 or "" in job_ids:
        fail("the ranks name one job: %s" % job_ids)
    for r in dedup.values():
        if r["job"]["launcher"] != "openmpi" or r["job"]["world_size"] != 4 or r["job"]["local_world_size"] != 2:
            fail("rank %d's identity: %s" % (r["job"]["rank"], r["job"]))
    factor_num, factor_den = 0.0, 0.0
    job_total, node_meters = 0.0, 0.0
    for node in (0, 1):
        ranks = [dedup[2 * node], dedup[2 * node + 1]]
        # GPUs: every rank lists both (the other's claimed only after EPOCHWATT_GPU_CLAIM_DELAY_S,
        # 5 s, longer than these runs), and each is measured by exactly one rank, its local rank's,
        # counted as watts x time; the other rank reads 0 J for it.
        seen = {}
        for i, r in enumerate(ranks):
            cpu, listed = by_kind(r)
            if len(listed) != 2:
                fail("node%d rank %d lists %d GPUs, not the node's 2" % (node, r["job"]["rank"], len(listed)))
            gpus = {uuid: j for uuid, j in listed.items() if j > 0}
            if len(gpus) != 1:
                fail("node%d rank %d measures %d GPUs, not its own one" % (node, r["job"]["rank"], len(gpus)))
            own = "GPU-0000000%d-0000-4000-8000-00000000000%d" % (node, r["job"]["local_rank"])
            if own not in gpus:
                fail("node%d rank %d measures %s, not its own %s" % (node, r["job"]["rank"], sorted(gpus), own))
            for uuid, j in gpus.items():
                if uuid in seen:
                    fail("GPU %s counted by two ranks" % uuid)
                seen[uuid] = j
                want = GPU_WATTS[uuid] * r["duration"]
                # The fake counter publishes every 0.1 s: up to one step of it either way.
                if abs(j - want) > GPU_WATTS[uuid] * 0.2 + 0.01 * want:
                    fail("GPU %s: %.3f J, want %.3f J (watts x the rank's time)" % (uuid, j, want))
            for mid, info in r["devices"].items():
                if info["component"] == "gpu" and info.get("shared") != "device":
                    fail("GPU meter %s is not marked shared=device: %s" % (mid, info))
                if info["component"] != "gpu" and info.get("shared") != "node":
                    fail("CPU meter %s is not marked shared=node: %s" % (mid, info))
        if sorted(seen) != sorted(u for u in GPU_WATTS if u.startswith("GPU-0000000%d" % node)):
            fail("node%d's GPUs measured: %s" % (node, sorted(seen)))
        # The CPU: once per node. Its joules are CPU_WATTS x the time it was counted, which is at most
        # the time some rank of the node ran: never two ranks at once.
        cpus = [by_kind(r)[0] for r in ranks]
        longest = max(r["duration"] for r in ranks)
        counted_s = sum(cpus) / cpu_w
        if sum(1 for c in cpus if c > 0) < 1:
            fail("node%d: no rank measured the CPU" % node)
        if counted_s > longest + 1.5:
            fail("node%d: the CPU was counted for %.2f s in ranks that ran %.2f s at most: counted twice" %
                 (node, counted_s, longest))
        if counted_s < 0.5 * longest:
            fail("node%d: the CPU was counted for only %.2f s of %.2f s" % (node, counted_s, longest))
        node_meters += sum(cpus) + sum(seen.values())
        job_total += sum(sum(r["joules"].values()) for r in ranks)
        # The same node with --independent: both ranks count the CPU and both GPUs.
        iranks = [indep[2 * node], indep[2 * node + 1]]
        for r in iranks:
            cpu, gpus = by_kind(r)
            if cpu <= 0 or len(gpus) != 2:
                fail("--independent: rank %d measures CPU %.1f J and %d GPUs" % (r["job"]["rank"], cpu, len(gpus)))
            if r["job"]["launcher"] != "none" or any(d.get("shared") for d in r["devices"].values()):
                fail("--independent: rank %d is job-aware: %s" % (r["job"]["rank"], r["job"]))
        # Its node meters: the CPU and each GPU over the longest rank's time.
        ilongest = max(r["duration"] for r in iranks)
        factor_den += cpu_w * ilongest + sum(GPU_WATTS[u] for u in seen) * ilongest
        factor_num += sum(sum(r["joules"].values()) for r in iranks)
    if abs(job_total - node_meters) > 1e-6 * max(1.0, node_meters):
        fail("the job's joules %.3f differ from the sum of the node meters %.3f" % (job_total, node_meters))
    factor = factor_num / factor_den
    print("election: job %.1f J = sum of node meters %.1f J (CPU once per node, each GPU once)" % (job_total, node_meters))
    print("--independent: the job counts %.2f x its node meters" % factor)
    if not 1.7 <= factor <= 2.1:
        fail("--independent should count each node meter twice (2 ranks per node), got %.2f x" % factor)
    print("PASS")


main()
