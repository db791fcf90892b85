"""The prediction from Python (docs/prediction.md): the set-up from the tracker's construction to
the first epoch, counted once; the steady-epochs rule leaving a warm-up epoch out; its range; and
carbontracker's rule as an option."""
import pytest

import epochwatt


def run(rule, seconds, setup_s=4.0, watts=50.0, planned=6):
    clock = epochwatt.ManualClock()
    meter = epochwatt.constant_power_meter("m", "cpu", "cpu:0", watts)
    t = epochwatt.Tracker(epochs=planned, clock=clock, meters=[meter], discover_meters=False, console=False,
                          prediction_rule=rule, pue=1.0, intensity_g_per_kwh=100.0)
    t.flush(); clock.advance(setup_s)  # imports, data loading: before epoch 1
    details = []
    for s in seconds:
        with t.epoch():
            t.flush(); clock.advance(s)
        t.flush()
        details.append((t.prediction(), t.prediction_detail()))
    return t, details


def test_setup_is_measured_and_counted_once():
    t, details = run("steady-epochs", [2.0, 2.0, 2.0])
    s = t.setup()
    assert (s.duration_s, s.joules) == (4.0, 200.0)
    p, d = details[0]
    assert d["rule"] == "steady-epochs" and d["setup_s"] == 4.0
    # 4 s set-up + 6 epochs x 2 s, never 6 x (4 + 2).
    assert p.duration_s == pytest.approx(16.0)
    assert p.energy_kwh == pytest.approx(800.0 / 3.6e6)
    assert not d["range_known"]  # one steady epoch: the spread is unknown
    assert details[2][1]["range_known"]
    t.stop()
    assert t.totals().duration_s == pytest.approx(10.0)  # the actual includes the set-up


def test_warm_up_epoch_is_left_out_once_the_second_epoch_shows_it():
    t, details = run("steady-epochs", [8.0, 2.0, 2.2, 1.9])
    p, d = details[3]
    assert d["warmup_epochs"] == [1]
    assert d["steady_epochs"] == 3
    low, high = d["energy_kwh"]
    assert low <= p.energy_kwh <= high
    # Measured 4 + 14.1 s, then 2 x the mean of 2.0, 2.2, 1.9.
    assert p.duration_s == pytest.approx(4.0 + 14.1 + 2 * 6.1 / 3)
    t.stop()


def test_carbontracker_rule_multiplies_the_mean_epoch():
    t, details = run("carbontracker", [8.0, 2.0])
    p, d = details[1]
    assert d["rule"] == "carbontracker"
    assert p.duration_s == pytest.approx(6 * 5.0)
    t.stop()


def test_unknown_rule_is_refused():
    with pytest.raises(epochwatt.OptionsError, match="prediction_rule"):
        epochwatt.Tracker(epochs=1, prediction_rule="mean", discover_meters=False,
                          meters=[epochwatt.constant_power_meter("m", "cpu", "c", 1.0)], console=False)
