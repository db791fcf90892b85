"""Where the console goes: file descriptor 1 for a plain script (tested through subprocesses
elsewhere), and through sys.stdout, collected from the sampler, wherever sys.stdout is something
else: a notebook cell, contextlib.redirect_stdout, a test's capture."""
import builtins
import contextlib
import io

import epochwatt
from conftest import GOLDEN_DIR, SECTION14_METERS

exec(SECTION14_METERS)  # section14_meters()


def run_section14(console, **extra):
    clock = epochwatt.ManualClock()
    from epochwatt.carbontracker import CarbonTracker
    ct = CarbonTracker(epochs=3, clock=clock, meters=section14_meters(), discover_meters=False,  # noqa: F821
                       console=console, **extra)
    for epoch in range(3):
        ct.epoch_start(); ct.tracker.flush(); clock.advance(10.0)
        print(f"user line after epoch {epoch + 1}")
        ct.epoch_end(); ct.tracker.flush()
    ct.stop()
    return ct


def test_redirected_stdout_gets_the_console_in_order():
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        run_section14(True)
    text = buf.getvalue()
    # The golden console, with the user's lines where they were printed.
    golden = (GOLDEN_DIR / "section14_full_run" / "console.txt").read_text()
    assert text.replace("user line after epoch 1\n", "").replace("user line after epoch 2\n", "") \
        .replace("user line after epoch 3\n", "") == golden
    assert text.index("user line after epoch 1") < text.index("Predicted consumption for 3 epoch(s):")
    assert text.index("user line after epoch 3") < text.index("Actual consumption for 3 epoch(s):")


def test_console_false_prints_nothing():
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        run_section14(False)
    assert "CarbonTracker" not in buf.getvalue()


def test_stop_and_confirm_asks_through_input_when_the_console_is_collected(monkeypatch):
    answers = iter(["what", "y"])
    asked = []

    def fake_input(prompt=""):
        asked.append(buf.getvalue())  # what the user saw when asked
        return next(answers)
    monkeypatch.setattr(builtins, "input", fake_input)
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        run_section14(True, stop_and_confirm=True)
    assert len(asked) == 2
    # The Predicted block and its extension lines (rule, range) come before the question.
    assert "km travelled by car\nCarbonTracker: Prediction rule: " in asked[0]
    assert "the figures above may be far off.\n" in asked[0]
    # then what of it was measured (issue 12, item 5), then the question
    assert asked[0].endswith(
        "CarbonTracker: Of the energy it extrapolates from, all was measured (GPU: energy counter; CPU: energy counter; "
        "DRAM: energy counter).\nCarbonTracker: Continue training (y/n)?\n")
    assert asked[1].endswith("CarbonTracker: Input not recognized. Try again (y/n):\n")
    assert "CarbonTracker: Continuing...\n" in buf.getvalue()
    assert "Actual consumption for 3 epoch(s):" in buf.getvalue()


def test_deleting_a_tracker_with_a_collected_console_prints_its_report():
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        t = epochwatt.Tracker(epochs=3, sim_cpu="c", sim_cpu_tdp=10, console="python")
        t.epoch_start(); t.epoch_end()
        del t
    text = buf.getvalue()
    assert text.count("Predicted consumption for 3 epoch(s):") == 1
    assert text.count("Actual consumption for 1 epoch(s):") == 1
