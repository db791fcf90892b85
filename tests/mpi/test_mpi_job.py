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


def test_independent_ranks_build_no_job_report(tmp_path):
    # Options::independent: every rank is its own run; no job block anywhere, no reduction.
    by_rank, job, logs = run_job(tmp_path, "--epochs", "2", "--epoch-ms", "100", "--independent", "1", np=2)
    for rank in (0, 1):
        lines = by_rank.get(rank, [])
        assert "rank %d: epoch 2 ended" % rank in lines, lines
        assert not [l for l in lines if "whole job" in l], lines
    assert job is None  # rank 0 has no job actual to write
    # Each process is its own run (no job identity: each says rank 0 of 1), with its own files.
    assert len(glob.glob(str(logs / "*_epochwatt.json"))) == 2


def test_an_inert_rank_is_named_and_not_waited_for(tmp_path):
    # Rank 1 has no meter (ignore_errors): its tracker is inert and measures nothing. It says so
    # at once, so rank 0 neither waits for it nor counts it as stopped early; both blocks name it.
    by_rank, job, _ = run_job(tmp_path, "--epochs", "2", "--epoch-ms", "100", "--inert-rank", "1",
                              "--wait-s", "60", np=3, timeout=50)
    text = "\n".join(by_rank[0])
    assert text.count("Predicted consumption") == 1 and text.count("Actual consumption") == 1
    assert text.count("Measuring nothing (inert tracker): rank(s) 1;") == 2, text
    assert "Rank 1 stopped early" not in text
    assert job["missing"] == []


def test_a_rank_behind_at_the_prediction_is_named_late(tmp_path):
    # The prediction after 2 epochs of 0.1 s; rank 2's epochs take 3.1 s and rank 0 waits 4.5 s:
    # rank 2 has sent its epoch-1 record (at 3.1 s) but not epoch 2's (6.2 s) when rank 0 gives up
    # (4.7 s), and the prediction names it late rather than leaving it out unnamed.
    by_rank, job, _ = run_job(tmp_path, "--epochs", "2", "--epoch-ms", "100", "--pred-after", "2",
                              "--late-rank", "2", "--late-ms", "3000", "--wait-s", "4.5", np=3, timeout=90)
    text = "\n".join(by_rank[0])
    assert "Late for this prediction (epoch 2 not in on time): rank(s) 2." in text, text
    assert "Missing from this prediction" not in text
    assert job["epochs"] == 2


def test_the_reduction_does_not_wait_for_an_intensity_fetch(tmp_path):
    # Rank 1's live intensity request hangs until its last epoch has ended; its epoch_end() (which
    # sends exact figures up to the prediction's epoch) returns while the request is still held.
    by_rank, job, _ = run_job(tmp_path, "--epochs", "2", "--epoch-ms", "100", "--pred-after", "2",
                              "--held-intensity-rank", "1", np=2, timeout=90)
    lines = by_rank[1]
    assert "rank 1: epoch 1 ended, intensity fetch held: yes" in lines, lines
    assert "rank 1: epoch 2 ended, intensity fetch held: yes" in lines, lines
    assert job["ranks"] == 2 and job["missing"] == []
