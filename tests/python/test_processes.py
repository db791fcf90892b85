"""Processes: DataLoader workers (real torch, fork), multiprocessing children, os.fork() with
os._exit or sys.exit, two trackers in one interpreter, and the interpreter exiting with a live
tracker. Each scenario runs in its own interpreter; its console and log files are then counted."""
import glob
import os

import pytest

from conftest import run_python


def logs(d, suffix):
    return sorted(glob.glob(os.path.join(d, "*_carbontracker" + suffix)))


def read_one(d, suffix):
    files = logs(d, suffix)
    assert len(files) == 1, files
    return open(files[0]).read()


def assert_one_clean_run(out, d, epochs):
    assert out.count("CarbonTracker: The following components were found:") == 1
    assert out.count("Predicted consumption for") == 1
    assert out.count(f"Actual consumption for {epochs} epoch(s):") == 1
    assert out.count("CarbonTracker: Finished monitoring.") == 1
    std = read_one(d, ".log")
    for e in range(1, epochs + 1):
        assert std.count(f" - Epoch {e}:\n") == 1
    assert std.count("Monitoring thread ended.") == 1
    output = read_one(d, "_output.log")
    assert output.count("Actual consumption") == 1 and output.count("Predicted consumption") == 1
    assert len(logs(d, "_err.log")) <= 1


def test_dataloader_with_two_forked_workers(tmp_path):
    torch = pytest.importorskip("torch")
    code = f"""
import torch
from torch.utils.data import DataLoader, TensorDataset
from epochwatt.carbontracker import CarbonTracker
x = torch.randn(256, 8); y = torch.randint(0, 2, (256,))
loader = DataLoader(TensorDataset(x, y), batch_size=16, num_workers=2, multiprocessing_context="fork")
net = torch.nn.Linear(8, 2); opt = torch.optim.SGD(net.parameters(), lr=0.1)
ct = CarbonTracker(epochs=3, log_dir={str(tmp_path)!r}, sim_cpu="c", sim_cpu_tdp=30, sim_gpu="g", sim_gpu_watts=60)
for epoch in range(3):
    ct.epoch_start()
    for xb, yb in loader:   # two worker processes forked here, every epoch
        opt.zero_grad(); torch.nn.functional.cross_entropy(net(xb), yb).backward(); opt.step()
    print("epoch", epoch + 1, "done", flush=True)
    ct.epoch_end()
ct.stop()
e = ct.tracker.epochs()
print("ENERGY", [round(s.joules / s.duration_s, 6) for s in e])
"""
    r = run_python(code, timeout=180)
    assert r.returncode == 0, r.stderr
    assert_one_clean_run(r.stdout, str(tmp_path), 3)
    assert [l for l in r.stdout.splitlines() if l.startswith("epoch ")] == [
        "epoch 1 done", "epoch 2 done", "epoch 3 done"]
    # the parent's sampler measured every epoch: 15 W + 30 W simulated
    assert "ENERGY [45.0, 45.0, 45.0]" in r.stdout


@pytest.mark.parametrize("child_exit,code", [("os._exit(0)", 0), ("sys.exit(0)", 0), ("raise SystemExit(5)", 5)])
def test_os_fork_inside_an_epoch(child_exit, code, tmp_path):
    # The child inherits the tracker, an open track() window and an epoch; it ends the epoch, runs a
    # window of its own and leaves through a `with` block that unwinds: none of it may hang, raise
    # or write a line, and its exit status is its own.
    script = f"""
import os, sys, time
from epochwatt.carbontracker import CarbonTracker
import epochwatt
ct = CarbonTracker(epochs=2, log_dir={str(tmp_path)!r}, sim_cpu="c", sim_cpu_tdp=30)
w = epochwatt.track("window", sim_gpu="g", sim_gpu_watts=10)
with w:
    for epoch in range(2):
        ct.epoch_start()
        pid = os.fork()
        if pid == 0:
            ct.epoch_end(); ct.stop()   # calls in the child do nothing
            with w:                          # the parent's window: its sampler is not here
                time.sleep(0.05)
            assert w.result.joules == 0.0 and w.result.duration_s == 0.0
            with w:                          # unwound by the exit
                {child_exit}
        _, status = os.waitpid(pid, 0)
        print("child", os.waitstatus_to_exitcode(status), flush=True)
        ct.epoch_end()
ct.stop()
print("WINDOW", w.result.joules > 0)
"""
    r = run_python(script)
    assert r.returncode == 0, r.stderr
    assert [l for l in r.stdout.splitlines() if l.startswith("child ")] == [f"child {code}"] * 2, r.stderr
    assert "Traceback" not in r.stderr
    assert_one_clean_run(r.stdout, str(tmp_path), 2)
    assert "WINDOW True" in r.stdout


def test_multiprocessing_children_with_fork(tmp_path):
    code = f"""
import multiprocessing as mp
from epochwatt.carbontracker import CarbonTracker
def work(q):
    q.put(sum(i * i for i in range(10000)))
if __name__ == "__main__":
    ctx = mp.get_context("fork")
    ct = CarbonTracker(epochs=2, log_dir={str(tmp_path)!r}, sim_cpu="c", sim_cpu_tdp=30)
    for epoch in range(2):
        ct.epoch_start()
        q = ctx.Queue()
        ps = [ctx.Process(target=work, args=(q,)) for _ in range(3)]
        for p in ps: p.start()
        results = [q.get() for _ in ps]
        for p in ps: p.join()
        with ctx.Pool(2) as pool:
            pool.map(abs, range(10))
        ct.epoch_end()
    ct.stop()
"""
    r = run_python(code)
    assert r.returncode == 0, r.stderr
    assert_one_clean_run(r.stdout, str(tmp_path), 2)


def test_two_trackers_in_one_interpreter_each_print_their_own_lines_once(tmp_path):
    # A notebook cell run twice: two trackers alive at once; deleting the first leaves the second working.
    code = f"""
import gc
from epochwatt.carbontracker import CarbonTracker
def cell():
    ct = CarbonTracker(epochs=2, log_dir={str(tmp_path)!r}, sim_cpu="c", sim_cpu_tdp=30)
    ct.epoch_start(); ct.epoch_end()
    return ct
first = cell()
second = cell()
del first; gc.collect()   # the first stops (reports 1 epoch, interrupted) when it goes
print("AFTER DEL", flush=True)
second.epoch_start(); second.epoch_end()
"""
    r = run_python(code)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert out.count("CarbonTracker: The following components were found:") == 2
    assert out.count("Predicted consumption for 2 epoch(s):") == 2
    before, after = out.split("AFTER DEL\n")
    assert before.count("Actual consumption for 1 epoch(s):") == 1   # the first, at its deletion
    assert after.count("Actual consumption for 2 epoch(s):") == 1    # the second, still working
    assert out.count("Finished monitoring.") == 2
    stds = [open(f).read() for f in logs(str(tmp_path), ".log")]
    assert len(stds) == 2
    assert sorted(s.count("Training was interrupted") for s in stds) == [0, 1]


@pytest.mark.parametrize("ending", ["", "import sys; sys.exit(3)", "raise RuntimeError('boom')"])
def test_interpreter_exit_with_a_live_tracker_reports_once_and_does_not_hang(ending, tmp_path):
    code = f"""
from epochwatt.carbontracker import CarbonTracker
import epochwatt
ct = CarbonTracker(epochs=5, log_dir={str(tmp_path)!r}, sim_cpu="c", sim_cpu_tdp=30)
lib = epochwatt.Tracker(epochs=5, sim_gpu="g", sim_gpu_watts=10, console=False)
for _ in range(2):
    ct.epoch_start(); ct.epoch_end()
ct.epoch_start()     # an epoch still open at exit
lib.epoch_start()
w = epochwatt.track("left open", sim_gpu="g", sim_gpu_watts=10)
w.__enter__()
{ending}
"""
    r = run_python(code, timeout=30)
    assert r.returncode == {"": 0, "import sys; sys.exit(3)": 3}.get(ending, 1), r.stderr
    out = r.stdout
    assert out.count("Actual consumption for 2 epoch(s):") == 1
    assert out.count("Finished monitoring.") == 1
    std = read_one(str(tmp_path), ".log")
    assert std.count("Training was interrupted before all 5 epochs were monitored.") == 1
    assert std.count("Interrupted epoch 3 (not counted)") == 1


def test_drop_in_answer_n_ends_the_run_like_carbontracker(tmp_path):
    # carbontracker: "n" logs "Session ended by user.", prints "Quitting..." and exits with 0. The
    # drop-in raises SystemExit(0) on the calling thread, after the report is written.
    code = f"""
from epochwatt.carbontracker import CarbonTracker
ct = CarbonTracker(epochs=4, stop_and_confirm=True, log_dir={str(tmp_path)!r}, sim_cpu="c", sim_cpu_tdp=30)
for epoch in range(4):
    ct.epoch_start()
    ct.epoch_end()
    print("TRAINED ON", epoch + 1, flush=True)
"""
    import subprocess
    import sys
    r = subprocess.run([sys.executable, "-c", code], input="n\n", capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "CarbonTracker: Continue training (y/n)?\nCarbonTracker: Quitting..." in out
    assert "TRAINED ON" not in out
    assert out.count("Actual consumption for 1 epoch(s):") == 1
    std = read_one(str(tmp_path), ".log")
    assert "Session ended by user." in std
