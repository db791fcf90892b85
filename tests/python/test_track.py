"""track(): code without epochs, as a context manager and a decorator, from one set of meters."""
import threading
import time

import pytest

import epochwatt

SIM100 = dict(sim_gpu="sim100", sim_gpu_watts=100.0, sim_gpu_util=1.0, components="gpu")


def test_simulated_100_watts_for_one_second_is_100_joules():
    with epochwatt.track("one-second", **SIM100) as w:
        time.sleep(1.0)
    m = w.result
    assert m.name == "one-second"
    assert m.joules == pytest.approx(100.0 * m.duration_s, rel=1e-9)  # exact for a constant meter
    assert m.joules == pytest.approx(100.0, rel=0.02)
    assert m.joules_by_component == {"gpu": m.joules}
    assert m.energy_kwh == pytest.approx(m.joules * 1.58 / 3.6e6)
    assert m.co2_g == pytest.approx(m.energy_kwh * 445.0)  # offline, unlocated: the 2024 world average
    assert w.energy_kwh == m.energy_kwh  # the last result's fields on the window


def test_windows_nest_and_overlap_on_the_same_meters():
    outer = epochwatt.track("outer", **SIM100)
    inner = epochwatt.track("inner", **SIM100)
    with outer:
        time.sleep(0.2)
        with inner:
            time.sleep(0.3)
        time.sleep(0.1)
    assert epochwatt._shared_session(SIM100) is outer._tracker is inner._tracker  # one sampler
    assert inner.result.duration_s < outer.result.duration_s
    assert outer.result.joules == pytest.approx(100.0 * outer.result.duration_s, rel=1e-9)
    assert inner.result.joules == pytest.approx(100.0 * inner.result.duration_s, rel=1e-9)
    assert 0.29 < inner.result.duration_s < 0.5 and 0.59 < outer.result.duration_s < 0.9


def test_decorator_measures_each_call_and_returns_the_value():
    @epochwatt.track("infer", **SIM100)
    def infer(x):
        time.sleep(0.05)
        return x * 2

    assert infer(21) == 42 and infer(1) == 2
    assert len(infer.window.results) == 2
    assert all(r.name == "infer" and r.joules > 0 for r in infer.window.results)


def test_windows_from_several_threads_at_once():
    results = []

    def work(i):
        with epochwatt.track(f"t{i}", **SIM100) as w:
            time.sleep(0.1 + 0.05 * i)
        results.append(w.result)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.name for r in results) == ["t0", "t1", "t2", "t3"]
    for r in results:
        assert r.joules == pytest.approx(100.0 * r.duration_s, rel=1e-9)


def test_window_on_a_tracker_spans_epochs_and_gaps():
    clock = epochwatt.ManualClock()
    meter = epochwatt.constant_power_meter("m", "cpu", "cpu:0", 40.0)
    t = epochwatt.Tracker(epochs=2, clock=clock, meters=[meter], discover_meters=False, console=False)
    w = t.window("both epochs")
    with w:
        t.flush()
        for _ in range(2):
            with t.epoch():
                t.flush(); clock.advance(10.0)
            t.flush(); clock.advance(5.0)  # a gap between epochs: in the window, in no epoch
    assert w.result.duration_s == 30.0
    assert w.result.joules == 1200.0
    assert sum(e.joules for e in t.epochs()) == 800.0
    t.stop()


def test_window_left_open_at_stop_is_measured_until_stop():
    clock = epochwatt.ManualClock()
    meter = epochwatt.constant_power_meter("m", "gpu", "g", 10.0)
    t = epochwatt.Tracker(epochs=1, clock=clock, meters=[meter], discover_meters=False, console=False)
    wid = t._window_start("open")
    t.flush(); clock.advance(3.0)
    t.stop()
    clock.advance(100.0)
    m = t._window_end(wid)
    assert (m.duration_s, m.joules, m.cut_by_stop) == (3.0, 30.0, True)
    with pytest.raises(epochwatt.UsageError):
        t._window_end(wid)
    with pytest.raises(epochwatt.UsageError, match="after stop"):
        t._window_start("late")


def test_track_refuses_a_tracker_and_options_together():
    t = epochwatt.Tracker(epochs=1, console=False, **SIM100)
    with pytest.raises(TypeError):
        epochwatt.track("x", tracker=t, pue=1.2)
    t.stop()
