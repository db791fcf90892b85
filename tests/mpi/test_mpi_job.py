"""4 MPI ranks on 2 simulated nodes, one job-wide report from rank 0 (issue 14, item 2).

Run by ctest (label mpi) as `python3 -m pytest tests/mpi`, with EPOCHWATT_MPI_JOB_PROGRAM naming
the built tests/mpi/job_program. Skipped where mpirun is absent.
"""
import glob
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
PROGRAM = os.environ.get("EPOCHWATT_MPI_JOB_PROGRAM", "")
MPIRUN = shutil.which("mpirun")

pytestmark = pytest.mark.skipif(not MPIRUN or not PROGRAM, reason="needs mpirun (openmpi-bin) and the built job_program")

# Rank tags of mpirun --tag-output: "[1,R]<stdout>:" / "[1,R]<stderr>:".
TAG = re.compile(r"^\[\d+,(\d+)\]<(stdout|stderr)>:(.*)$")


def run_job(tmp_path, *args, np=4, timeout=120):
    logs = tmp_path / "logs"
    job_json = tmp_path / "job.json"
    cmd = [MPIRUN, "--allow-run-as-root", "--oversubscribe", "--tag-output", "-np", str(np),
           str(HERE / "as_node.sh"), PROGRAM, "--log-dir", str(logs), "--job-json", str(job_json), *args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    assert p.returncode == 0, p.stdout + p.stderr
    by_rank = {}
    for line in (p.stdout + p.stderr).splitlines():
        m = TAG.match(line)
        if m:
            by_rank.setdefault(int(m.group(1)), []).append(m.group(3))
    job = json.loads(job_json.read_text()) if job_json.exists() else None
    return by_rank, job, logs


def rank_actuals(logs):
    """The actual IT+PUE energy (kWh) in each rank's own JSON summary, by the rank it names
    (context.job.rank)."""
    out = {}
    for path in glob.glob(str(logs / "*_epochwatt.json")):
        summary = json.loads(Path(path).read_text())
        out[summary["context"]["job"]["rank"]] = summary["actual"]["energy_kwh"]
    return out


def test_one_prediction_and_one_actual_for_four_ranks_on_two_nodes(tmp_path):
    by_rank, job, logs = run_job(tmp_path, "--epochs", "3", "--epoch-ms", "300")
    r0 = by_rank[0]
    predicted = [i for i, l in enumerate(r0) if l.startswith("Predicted consumption for")]
    actual = [i for i, l in enumerate(r0) if l.startswith("Actual consumption for")]
    assert len(predicted) == 1 and len(actual) == 1, r0
    assert "whole job (4 rank(s) on 2 node(s))" in r0[predicted[0]]
    assert "Actual consumption for 3 epoch(s), whole job (4 rank(s) on 2 node(s))" in r0[actual[0]]
    # At epoch 1's end (inside its epoch_end()), before epoch 2 begins.
    assert r0.index("rank 0: epoch 1 begins") < predicted[0] < r0.index("rank 0: epoch 1 ended")
    assert actual[0] > r0.index("rank 0: epoch 3 begins")
    # The other ranks print their epoch markers and nothing of the tracker's.
    for rank in (1, 2, 3):
        assert not [l for l in by_rank.get(rank, []) if "CarbonTracker" in l], by_rank[rank]
    # The job's actual is the sum of the ranks' own actuals (their JSON summaries).
    actuals = rank_actuals(logs)
    assert sorted(actuals) == [0, 1, 2, 3]
    assert job["ranks"] == 4 and job["nodes"] == 2 and job["missing"] == []
    assert job["energy_kwh"] == pytest.approx(sum(actuals.values()), rel=1e-12)
    assert job["energy_kwh"] > 0


def test_a_rank_that_stops_early_is_named_and_counted(tmp_path):
    by_rank, job, logs = run_job(tmp_path, "--epochs", "4", "--epoch-ms", "150", "--stop-rank", "3",
                                 "--stop-after", "2")
    text = "\n".join(by_rank[0])
    assert "Rank 3 stopped early, after 2 epoch(s)." in text
    assert text.count("Predicted consumption") == 1 and text.count("Actual consumption") == 1
    assert job["missing"] == [] and job["epochs"] == 4
    assert job["energy_kwh"] == pytest.approx(sum(rank_actuals(logs).values()), rel=1e-12)


def test_a_rank_that_vanishes_is_named_missing_and_nothing_hangs(tmp_path):
    # Rank 2 leaves after 1 epoch without its final record; rank 0 waits 2 s, then reports.
    by_rank, job, _ = run_job(tmp_path, "--epochs", "3", "--epoch-ms", "150", "--vanish-rank", "2",
                              "--vanish-after", "1", "--wait-s", "2", timeout=60)
    text = "\n".join(by_rank[0])
    assert "Missing from this actual (no final record in time): rank(s) 2" in text
    assert job["missing"] == [2]
    assert text.count("Actual consumption") == 1
