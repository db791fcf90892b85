"""ignore_errors with a log_dir that cannot be created (issue 12 item 10): the training loop runs to
its end in a real interpreter, with one warning, for epochwatt.Tracker, carbontracker's class and
track(); without ignore_errors the same log_dir is an error before training starts."""
import pytest

import epochwatt
from epochwatt.carbontracker import CarbonTracker

from conftest import run_python

SIM = dict(sim_cpu="c", sim_cpu_tdp=10.0, sim_gpu="g", sim_gpu_watts=10.0)


@pytest.fixture
def unwritable_log_dir(tmp_path):
    """A folder below a regular file: no one can create it, root or not."""
    (tmp_path / "a-file").write_text("x")
    return tmp_path / "a-file" / "logs"


def test_training_loop_runs_to_its_end_with_one_warning(unwritable_log_dir):
    # A child interpreter, so that the console is read from its real stdout.
    r = run_python(f"""
        import epochwatt
        t = epochwatt.Tracker(3, ignore_errors=True, log_dir={str(unwritable_log_dir)!r}, update_interval=0.05,
                              offline=True, sim_cpu="c", sim_cpu_tdp=10.0, sim_gpu="g", sim_gpu_watts=10.0)
        done = 0
        for epoch in range(3):
            t.epoch_start()
            sum(range(10000))
            t.epoch_end()
            done += 1
        t.stop()
        print("epochs run:", done, "counted:", t.totals().epochs, "log:", repr(t.standard_log_path))
    """)
    assert r.returncode == 0, r.stderr
    assert "epochs run: 3 counted: 3 log: ''" in r.stdout
    assert r.stdout.count(f"cannot create log directory {unwritable_log_dir}") == 1, r.stdout
    assert "Actual consumption for 3 epoch(s):" in r.stdout
    assert not unwritable_log_dir.exists()


def test_carbontrackers_class_and_track_run_on(unwritable_log_dir):
    ct = CarbonTracker(epochs=2, ignore_errors=True, log_dir=str(unwritable_log_dir), verbose=0,
                       update_interval=0.05, offline=True, **SIM)
    for _ in range(2):
        ct.epoch_start()
        ct.epoch_end()
    ct.stop()
    with epochwatt.track("block", ignore_errors=True, log_dir=str(unwritable_log_dir), offline=True,
                         console=False, **SIM) as w:
        sum(range(10000))
    assert w.duration_s >= 0
    assert not unwritable_log_dir.exists()


def test_without_ignore_errors_it_is_an_error_before_training(unwritable_log_dir):
    with pytest.raises(epochwatt.Error, match="cannot create log directory"):
        epochwatt.Tracker(2, log_dir=str(unwritable_log_dir), console=False, offline=True, **SIM)
