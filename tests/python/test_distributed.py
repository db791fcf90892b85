"""Two ranks of real training, launched as torchrun launches them (issue 14, items 2 and 5).

Debian's torch 1.13 torchrun fails on Python 3.11 with an AttributeError in its elastic agent
before any rank starts (docs/cluster.md), so the test starts the ranks itself with exactly the
variables torchrun sets. Each rank runs tests/python/distributed_job.py.
"""
import glob
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
if not torch.distributed.is_available():
    pytest.skip("torch.distributed is not available", allow_module_level=True)

JOB = Path(__file__).resolve().parent / "distributed_job.py"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_ranks(mode, tmp_path, world=2):
    port = free_port()
    procs = []
    for rank in range(world):
        env = dict(os.environ, RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(world),
                   LOCAL_WORLD_SIZE=str(world), MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port),
                   TORCHELASTIC_RUN_ID="epochwatt-test", OMP_NUM_THREADS="1")
        out = open(tmp_path / f"rank{rank}.out", "w")
        procs.append((subprocess.Popen([sys.executable, str(JOB), mode, str(tmp_path / "logs"),
                                        str(tmp_path / "job.json")], env=env, stdout=out,
                                       stderr=subprocess.STDOUT, text=True), out))
    return procs


def wait_all(procs, timeout):
    deadline = time.monotonic() + timeout
    codes = []
    for p, out in procs:
        try:
            codes.append(p.wait(timeout=max(1, deadline - time.monotonic())))
        except subprocess.TimeoutExpired:
            for q, _ in procs:
                q.kill()
            pytest.fail(f"a rank was still running after {timeout} s")
        finally:
            out.close()
    return codes


def rank_actuals(logs):
    """The actual IT+PUE energy (kWh) in each rank's own JSON summary, by the rank it names
    (context.job.rank)."""
    out = {}
    for path in glob.glob(str(logs / "*_epochwatt.json")):
        summary = json.loads(Path(path).read_text())
        out[summary["context"]["job"]["rank"]] = summary["actual"]["energy_kwh"]
    return out


def test_ddp_on_gloo_gives_one_job_prediction_and_one_job_actual_from_rank_0(tmp_path):
    pytest.importorskip("sklearn")
    procs = start_ranks("ddp", tmp_path)
    codes = wait_all(procs, timeout=300)
    r0 = (tmp_path / "rank0.out").read_text().splitlines()
    r1 = (tmp_path / "rank1.out").read_text()
    assert codes == [0, 0], "\n".join(r0) + "\n---\n" + r1
    predicted = [i for i, l in enumerate(r0) if l.startswith("Predicted consumption for")]
    actual = [i for i, l in enumerate(r0) if l.startswith("Actual consumption for")]
    assert len(predicted) == 1 and len(actual) == 1, r0
    assert "Predicted consumption for 2 epoch(s), whole job (2 rank(s) on 1 node(s))" in r0[predicted[0]]
    assert "Actual consumption for 2 epoch(s), whole job (2 rank(s) on 1 node(s))" in r0[actual[0]]
    # After epoch 1 (its end comes before the rank's own "epoch 1/2" line), before epoch 2's.
    assert predicted[0] < next(i for i, l in enumerate(r0) if l.startswith("rank 0: epoch 1/2"))
    assert "CarbonTracker" not in r1, r1
    job = json.loads((tmp_path / "job.json").read_text())
    actuals = rank_actuals(tmp_path / "logs")
    assert sorted(actuals) == [0, 1]
    assert job["ranks"] == 2 and job["world_size"] == 2 and job["missing"] == []
    assert job["energy_kwh"] == pytest.approx(sum(actuals.values()), rel=1e-12)


def test_a_killed_rank_is_named_and_nothing_hangs(tmp_path):
    procs = start_ranks("loop", tmp_path)
    victim, out1 = procs[1]
    deadline = time.monotonic() + 120
    while "rank 1: epoch 2/8" not in (tmp_path / "rank1.out").read_text():
        assert victim.poll() is None and time.monotonic() < deadline, (tmp_path / "rank1.out").read_text()
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    codes = wait_all(procs, timeout=120)
    r0 = (tmp_path / "rank0.out").read_text()
    assert codes[0] == 0 and codes[1] == -signal.SIGKILL, r0
    assert "rank 0: epoch 8/8" in r0 and "rank 0: done" in r0
    assert "Missing from this actual (no final record in time): rank(s) 1" in r0, r0
    assert r0.count("Actual consumption for") == 1
    job = json.loads((tmp_path / "job.json").read_text())
    assert job["missing"] == [1]


def run_loop_job(mode, tmp_path):
    """Runs distributed_job.py MODE in two ranks; returns rank 0's output, rank 1's and the job's
    figures (None where rank 0 wrote none)."""
    procs = start_ranks(mode, tmp_path)
    codes = wait_all(procs, timeout=120)
    r0 = (tmp_path / "rank0.out").read_text()
    r1 = (tmp_path / "rank1.out").read_text()
    assert codes == [0, 0], r0 + "\n---\n" + r1
    assert "rank 0: done" in r0 and "rank 1: done" in r1, r0 + "\n---\n" + r1
    job_json = tmp_path / "job.json"
    return r0, r1, json.loads(job_json.read_text()) if job_json.exists() else None


def test_a_tracker_on_rank_0_only_is_warned_about_and_bounded(tmp_path):
    # carbontracker's usual `if rank == 0:` under torch.distributed: rank 0 waits job_wait_s once,
    # says in one line why rank 1 is missing and how to avoid it, and reports without it.
    r0, r1, job = run_loop_job("rank0only", tmp_path)
    warnings = [l for l in r0.splitlines() if "built no tracker" in l]
    assert len(warnings) == 1, r0
    assert "rank(s) 1 built no tracker" in warnings[0] and "independent=True" in warnings[0], warnings
    assert r0.count("Actual consumption for 3 epoch(s), whole job") == 1, r0
    assert job["missing"] == [1] and job["ranks"] == 1


def test_an_extra_tracker_of_other_epochs_on_rank_0_does_not_shift_the_pairing(tmp_path):
    # Trackers pair by run name, which defaults to one derived from `epochs`: rank 0's 1-epoch
    # probe is apart from the 3-epoch run every rank builds.
    r0, r1, job = run_loop_job("extra-epochs", tmp_path)
    assert "rank 0: probe stopped" in r0, r0
    # The probe itself is a tracker on rank 0 only: warned about by its own name, not the run's.
    warnings = [l for l in r0.splitlines() if "job reduction" in l]
    assert warnings and all("'epochs=1'" in l for l in warnings), warnings
    actuals = rank_actuals(tmp_path / "logs")
    assert sorted(actuals) == [0, 1]
    assert job["ranks"] == 2 and job["missing"] == [] and job["epochs"] == 3
    assert job["energy_kwh"] == pytest.approx(sum(actuals.values()), rel=1e-12)


def test_an_extra_tracker_of_the_same_name_on_rank_0_is_named_in_one_warning(tmp_path):
    # Same epochs, no run_name: rank 0's second tracker cannot pair with rank 1's first. One
    # line says so and what to do; nothing hangs and rank 1 is named missing.
    r0, r1, job = run_loop_job("extra-same", tmp_path)
    warnings = [l for l in r0.splitlines() if "do not pair" in l]
    assert len(warnings) == 1, r0
    assert "rank(s) 1" in warnings[0] and "run_name=" in warnings[0], warnings
    assert job["missing"] == [1]


def test_run_name_pairs_the_right_trackers_despite_an_extra_one(tmp_path):
    r0, r1, job = run_loop_job("extra-named", tmp_path)
    assert "rank 0: probe stopped" in r0, r0
    warnings = [l for l in r0.splitlines() if "job reduction" in l]
    assert warnings and all("'probe'" in l for l in warnings), warnings
    actuals = rank_actuals(tmp_path / "logs")
    assert sorted(actuals) == [0, 1]
    assert job["ranks"] == 2 and job["missing"] == [] and job["epochs"] == 3
    assert job["energy_kwh"] == pytest.approx(sum(actuals.values()), rel=1e-12)


def run_mpi(script_text, tmp_path, timeout):
    """Runs a Python script in 2 ranks under mpirun (--tag-output); returns (returncode, stdout,
    stderr), or fails naming the timeout, after ending mpirun and its ranks (its own session)."""
    import shutil
    mpirun = shutil.which("mpirun")
    if not mpirun:
        pytest.skip("mpirun (openmpi-bin) is not installed")
    pytest.importorskip("mpi4py")
    script = tmp_path / "mpi_job.py"
    script.write_text(script_text)
    p = subprocess.Popen([mpirun, "--allow-run-as-root", "--oversubscribe", "--tag-output", "-np", "2",
                          sys.executable, str(script), str(tmp_path / "logs")],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        pytest.fail(f"mpirun was still running after {timeout} s:\n{out}\n{err}")
    return p.returncode, out, err


def rank_lines(out, rank):
    return [l.split(">:", 1)[1] for l in out.splitlines() if l.startswith(f"[1,{rank}]<stdout>:")]


MPI_RANK0_ONLY = """
import sys, time
from mpi4py import MPI
from epochwatt.carbontracker import CarbonTracker
rank = MPI.COMM_WORLD.Get_rank()
if rank == 0:
    t = CarbonTracker(epochs=2, log_dir=sys.argv[1], update_interval=0.1, sim_cpu="sim_cpu", sim_cpu_tdp=100,
                      job_wait_s=30)
    for e in range(2):
        t.epoch_start(); time.sleep(0.2); t.epoch_end()
    t.stop()
sys.stdout.write(f"rank {rank}: done\\n")
sys.stdout.flush()
"""


def test_mpi4py_tracker_on_rank_0_only_reports_alone_and_finishes(tmp_path):
    # Without comm= the tracker makes no MPI call: carbontracker's `if rank == 0:` cannot hang.
    code, out, err = run_mpi(MPI_RANK0_ONLY, tmp_path, timeout=60)
    assert code == 0, out + err
    r0 = rank_lines(out, 0)
    assert "rank 0: done" in r0 and rank_lines(out, 1) == ["rank 1: done"], out + err
    assert [l for l in r0 if l.startswith("Actual consumption for")] == ["Actual consumption for 2 epoch(s):"], r0


MPI_JOB = """
import sys, time
from mpi4py import MPI
from epochwatt.carbontracker import CarbonTracker
t = CarbonTracker(epochs=3, log_dir=sys.argv[1], update_interval=0.1, sim_cpu="sim_cpu", sim_cpu_tdp=100,
                  sim_gpu="sim_gpu", sim_gpu_watts=200, job_wait_s=30, comm=MPI.COMM_WORLD)
for e in range(3):
    t.epoch_start(); time.sleep(0.2); t.epoch_end()
t.stop()
job = t.tracker._job
# One write() of the whole line: mpirun's --tag-output tags each chunk it reads, and print() of
# several pieces to an unbuffered stdout can reach it in two.
sys.stdout.write("transport " + type(job._t).__name__ + "\\n")
sys.stdout.flush()
"""


def test_mpi4py_comm_gives_one_job_report_from_rank_0(tmp_path):
    code, out, err = run_mpi(MPI_JOB, tmp_path, timeout=180)
    assert code == 0, out + err
    r0, r1 = rank_lines(out, 0), rank_lines(out, 1)
    assert [l for l in r0 if l.startswith("Predicted consumption for")] == [
        "Predicted consumption for 3 epoch(s), whole job (2 rank(s) on 1 node(s)):"], r0
    assert [l for l in r0 if l.startswith("Actual consumption for")] == [
        "Actual consumption for 3 epoch(s), whole job (2 rank(s) on 1 node(s)):"], r0
    assert r1 == ["transport _MpiTransport"], r1
