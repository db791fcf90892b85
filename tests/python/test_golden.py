"""The drop-in's console and log files for the worked example of spec §14 are byte for byte the
C++ golden files (tests/golden/section14_*), which tests/unit/golden_test.cpp checks for the C++
API: the same numbers and text, through the same code."""
import pytest

from conftest import GOLDEN_DIR, SECTION14_METERS, mask_version, run_python

SCENARIO = SECTION14_METERS + """
import sys
from epochwatt.carbontracker import CarbonTracker
clock = epochwatt.ManualClock()
ct = CarbonTracker(epochs=3, log_dir=LOG_DIR, clock=clock,
                   meters=section14_meters(), discover_meters=False)
def run_epoch(seconds):
    # as tests/unit/support.cpp's run_epoch: every boundary read at its exact time
    ct.epoch_start(); ct.tracker.flush(); clock.advance(seconds); ct.epoch_end(); ct.tracker.flush()
run_epoch(10.0)
run_epoch(10.0)
if SCENARIO == "section14_full_run":
    run_epoch(10.0)
if SCENARIO == "section14_stopped_mid_epoch":
    ct.epoch_start(); ct.tracker.flush(); clock.advance(5.0)
ct.stop()
t = ct.tracker
print("PATHS", t.output_log_path, t.standard_log_path, t.error_log_path, file=sys.stderr)
"""

SCENARIOS = ["section14_full_run", "section14_stopped_after_epoch_2", "section14_stopped_mid_epoch"]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_drop_in_matches_cpp_golden_files(scenario, tmp_path):
    code = f"SCENARIO = {scenario!r}\nLOG_DIR = {str(tmp_path)!r}\n" + SCENARIO
    r = run_python(code)
    assert r.returncode == 0, r.stderr
    paths = [l for l in r.stderr.splitlines() if l.startswith("PATHS ")][0].split()[1:]
    output_log, standard_log, err_log = (open(p).read() for p in paths)
    golden = GOLDEN_DIR / scenario
    assert r.stdout == (golden / "console.txt").read_text()
    assert output_log == (golden / "output_log.txt").read_text()
    assert mask_version(standard_log) == (golden / "standard_log.txt").read_text()
    assert err_log == (golden / "err_log.txt").read_text()


def test_library_tracker_gives_the_same_figures_as_the_spec():
    # The Tracker class mirrors the C++ API: §14's figures as plain Python values.
    code = SECTION14_METERS + """
import epochwatt
clock = epochwatt.ManualClock()
t = epochwatt.Tracker(epochs=3, clock=clock, meters=section14_meters(), discover_meters=False, console=False)
for _ in range(3):
    with t.epoch():
        t.flush(); clock.advance(10.0)
    t.flush()
p, a = t.prediction(), t.totals()
print(p.epochs, round(p.energy_kwh, 12), round(p.co2_g, 12), a.epochs, round(a.energy_kwh, 12), round(a.co2_g, 12))
e = t.epochs()[0]
print(e.index, e.duration_s, e.joules, [d.joules for d in e.devices], [m.method for m in t.meters()])
"""
    r = run_python(code)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "3 0.004608333333 2.050708333333 3 0.004608333333 2.050708333333"
    assert lines[1] == "1 10.0 3500.0 [1500.0, 1500.0, 450.0, 50.0] ['counter', 'counter', 'counter', 'counter']"
