"""The logs of a Python-tracked run are read back by `epochwatt parse` (through `python3 -m
epochwatt`) and by the original parser's rules (tests/compat/ct_parser.py) to the figures the run
printed; and a carbontracker example script whose only change is its import line runs."""
import json
import subprocess

import pytest
import sys

from conftest import CT_PARSER, SOURCE_DIR, run_python

sys.path.insert(0, str(CT_PARSER.parent))
import ct_parser  # noqa: E402

# carbontracker's README example, as its users have it, with the import line changed.
CARBONTRACKER_EXAMPLE = """
from epochwatt.carbontracker import CarbonTracker
import time

max_epochs = 3
tracker = CarbonTracker(epochs=max_epochs, log_dir=LOG_DIR, sim_cpu="sim_cpu", sim_cpu_tdp=80,
                        sim_gpu="sim_gpu", sim_gpu_watts=200)

# Training loop.
for epoch in range(max_epochs):
    tracker.epoch_start()

    # Your model training.
    time.sleep(0.3)

    tracker.epoch_end()

# Optional: Add a stop in case of early termination before all monitor_epochs has
# been monitored to ensure that actual consumption is reported.
tracker.stop()
"""


def test_example_script_with_changed_import_runs_and_original_parser_reads_its_logs(tmp_path):
    r = run_python(f"LOG_DIR = {str(tmp_path)!r}\n" + CARBONTRACKER_EXAMPLE)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "Using simulated CPU: sim_cpu with TDP: 40.00W (at 50% utilization)\n" in out
    assert "Using simulated GPU: sim_gpu with power consumption: 100.00W (at 50% utilization)\n" in out
    assert out.count("Predicted consumption for 3 epoch(s):") == 1
    assert out.count("Actual consumption for 3 epoch(s):") == 1
    assert out.rstrip().endswith("CarbonTracker: Finished monitoring.")

    runs = ct_parser.parse_all_logs(str(tmp_path))
    assert len(runs) == 1
    run = runs[0]
    assert run["components"]["gpu"]["devices"] == ["sim_gpu"]
    assert run["components"]["cpu"]["devices"] == ["sim_cpu"]
    # 100 W and 40 W simulated: the std log's per-epoch power, read by the original's pattern
    assert [p[0] for p in run["components"]["gpu"]["avg_power_usages (W)"]] == [100.0, 100.0, 100.0]
    assert [p[0] for p in run["components"]["cpu"]["avg_power_usages (W)"]] == [40.0, 40.0, 40.0]
    durations = run["components"]["gpu"]["epoch_durations (s)"]
    assert len(durations) == 3 and all(0.29 < d < 1.0 for d in durations)
    # The blocks are read back to the numbers the console printed
    for title, key in (("Predicted consumption for 3 epoch(s):", "pred"), ("Actual consumption for 3 epoch(s):", "actual")):
        block = out.split(title)[1].split("CarbonTracker:")[0]
        energy = float(block.split("Energy:\t")[1].split(" kWh")[0])
        co2 = float(block.split("CO2eq:\t")[1].split(" g")[0])
        assert run[key]["energy (kWh)"] == energy and run[key]["co2eq (g)"] == co2
        assert energy > 0
    # (100 + 40) W x 3 epochs of the logged durations x PUE 1.58, within the durations' 2 decimals
    assert run["actual"]["energy (kWh)"] == pytest.approx(140.0 * sum(durations) * 1.58 / 3.6e6, abs=140 * 3 * 0.005 * 1.58 / 3.6e6)
    assert run["early_stop"] is False


def test_epochwatt_parse_reads_a_python_tracked_run(tmp_path):
    code = f"LOG_DIR = {str(tmp_path)!r}\n" + """
import epochwatt, json, time
t = epochwatt.Tracker(epochs=2, log_dir=LOG_DIR, sim_gpu="g", sim_gpu_watts=100, sim_gpu_util=1.0,
                      sim_cpu="c", sim_cpu_tdp=50, console=False)
for _ in range(2):
    with t.epoch():
        time.sleep(0.2)
t.stop()
a = t.totals()
print(json.dumps({"kwh": a.energy_kwh, "g": a.co2_g, "epochs": a.epochs}))
"""
    r = run_python(code)
    assert r.returncode == 0, r.stderr
    printed = json.loads(r.stdout)
    parsed = subprocess.run([sys.executable, "-m", "epochwatt", "parse", str(tmp_path), "--json"],
                            capture_output=True, text=True, timeout=60)
    assert parsed.returncode == 0, parsed.stderr
    doc = json.loads(parsed.stdout)
    assert doc["aggregate"]["energy_kwh"] == pytest.approx(printed["kwh"], rel=0, abs=1e-11)
    assert doc["aggregate"]["co2_g"] == pytest.approx(printed["g"], rel=0, abs=1e-11)
    # and the sentence, through carbontracker's --parse spelling
    sentence = subprocess.run([sys.executable, "-m", "epochwatt", "--parse", str(tmp_path)],
                              capture_output=True, text=True, timeout=60)
    assert sentence.returncode == 0
    assert sentence.stdout.startswith("The training of models in this work is estimated to use ")

