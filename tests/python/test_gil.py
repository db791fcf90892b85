"""The GIL: every call that can wait releases it (stop, flush, window_end, stop_and_confirm's
question, the destructor), and the sampler never takes it.

Method: the interpreter's switch interval is set to 100 s, so the main thread gives up the GIL
only where a call releases it explicitly. A spinner thread counts in pure Python and yields at
each step (time.sleep(0)). It can count during a call only if that call released the GIL; a call
that holds it (the control) shows no progress, however often it is tried."""
import os
import subprocess
import sys
import threading
import time
import textwrap

import pytest

import epochwatt

SIM = dict(sim_gpu="g", sim_gpu_watts=100.0, sim_gpu_util=1.0, sim_cpu="c", sim_cpu_tdp=20.0)
TRIES = 40


@pytest.fixture
def spinner():
    old = sys.getswitchinterval()
    state = {"count": 0, "running": True}

    def spin():
        while state["running"]:
            state["count"] += 1
            time.sleep(0)

    thread = threading.Thread(target=spin, daemon=True)
    thread.start()
    sys.setswitchinterval(100.0)
    try:
        yield state
    finally:
        sys.setswitchinterval(old)
        state["running"] = False
        thread.join()


def progress(state, fn):
    before = state["count"]
    fn()
    return state["count"] - before


def best_progress(state, make_call):
    return max(progress(state, make_call()) for _ in range(TRIES))


def test_control_a_call_that_holds_the_gil_shows_no_progress(spinner):
    t = epochwatt.Tracker(epochs=1, console=False, **SIM)
    assert best_progress(spinner, lambda: t._t.finished) == 0
    t.stop()


def test_stop_releases_the_gil(spinner, tmp_path):
    def make():
        t = epochwatt.Tracker(epochs=2, log_dir=str(tmp_path), console=False, **SIM)
        t.epoch_start()
        return t._t.stop
    assert best_progress(spinner, make) > 0


def test_flush_releases_the_gil(spinner):
    t = epochwatt.Tracker(epochs=10 ** 6, console=False, **SIM)

    def make():
        t.epoch_start()
        t.epoch_end()
        return t._t.flush
    assert best_progress(spinner, make) > 0
    t.stop()


def test_window_end_releases_the_gil(spinner):
    t = epochwatt.Tracker(epochs=1, console=False, **SIM)

    def make():
        wid = t._t.window_start("w")
        return lambda: t._t.window_end(wid)
    assert best_progress(spinner, make) > 0
    t.stop()


def test_destructor_releases_the_gil(spinner, tmp_path):
    holder = {}

    def make():
        holder["t"] = epochwatt._epochwatt.Tracker(dict(epochs=2, log_dir=str(tmp_path), **SIM), -1)
        holder["t"].epoch_start()
        return lambda: holder.pop("t")  # the last reference: ~Tracker stops and joins the sampler
    assert best_progress(spinner, make) > 0


def test_stop_and_confirm_question_releases_the_gil(tmp_path):
    # In a child: the question waits on stdin for 0.5 s; a spinner counts meanwhile.
    code = textwrap.dedent(f"""
        import sys, threading, time, epochwatt
        state = {{"count": 0, "running": True}}
        def spin():
            while state["running"]:
                state["count"] += 1; time.sleep(0)
        threading.Thread(target=spin, daemon=True).start()
        sys.setswitchinterval(100.0)
        t = epochwatt.Tracker(epochs=3, stop_and_confirm=True, log_dir={str(tmp_path)!r},
                              sim_gpu="g", sim_gpu_watts=50, console=True)
        t.epoch_start()
        before = state["count"]
        go_on = t.epoch_end()   # prediction, then "Continue training (y/n)?" on fd 0
        print("PROGRESS", state["count"] - before, "GO_ON", go_on, flush=True)
        state["running"] = False
        t.stop()
    """)
    p = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)
    out, err = p.communicate("maybe\ny\n", timeout=60)
    assert p.returncode == 0, err
    assert "CarbonTracker: Continue training (y/n)?" in out
    assert "CarbonTracker: Input not recognized. Try again (y/n):" in out
    assert "CarbonTracker: Continuing..." in out
    line = [l for l in out.splitlines() if l.startswith("PROGRESS")][0].split()
    assert int(line[1]) > 0 and line[3] == "True"
