#!/usr/bin/env python3
"""Self-test of tests/compat/ct_parser.py, the reference re-implementation of the
original carbontracker 2.4.3 log parser (written from the compatibility spec,
/work/shared/spec/carbontracker-compat.md §8, for compatibility testing).

The log files below are hand-made in the exact 2.4 format of the spec (§5.3 standard
log, §6 report block, §14 worked example) and in the 2.3 CLI form (§9, §12). The
expected values are the ones the spec states for the original's parser.

Run:  python3 tests/compat/test_ct_parser.py      (standard library only)
"""

import io
import json
import os
import subprocess
import sys
import tempfile
import unittest
from contextlib import redirect_stdout

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # leave no __pycache__ in the source tree

import ct_parser  # noqa: E402

PARSER = os.path.join(HERE, "ct_parser.py")

# ---------------------------------------------------------------------------
# §14 worked example, 2.4 format
# ---------------------------------------------------------------------------

STEM_24 = "48213.70211_2025-03-04T101500Z"
COMPONENTS_24 = (
    "The following components were found: GPU with device(s) NVIDIA A100-SXM4-40GB, "
    "NVIDIA A100-SXM4-40GB. CPU with device(s) cpu:0, dram:0."
)


def _std_log_24():
    """Standard log of §14 in the §5.3 line order (no provider, unlocated)."""
    lines = [
        "2025-03-04 10:00:00 - carbontracker version 2.4.3",
        "2025-03-04 10:00:00 - Only predicted and actual consumptions are multiplied by a "
        "PUE coefficient of 1.58 (Daniel Bizo, 2023, Uptime Institute Global Data Center Survey).",
        "2025-03-04 10:00:00 - " + COMPONENTS_24,
        "2025-03-04 10:00:00 - Monitoring thread started.",
    ]
    for n in (1, 2, 3):
        ts = f"2025-03-04 10:00:{10 * n:02d}"
        lines += [
            f"{ts} - Epoch {n}:",
            f"{ts} - Duration: 0:00:10.00",
            f"{ts} - Average power usage (W) for gpu: 300.0",
            f"{ts} - Average power usage (W) for cpu: 50.0",
        ]
    lines += [
        "2025-03-04 10:00:30 - Carbon intensities (gCO2eq/kWh) fetched every 900 s at "
        "detected location: Unknown: [445.0]",
        # Note the trailing space (§5.3).
        "2025-03-04 10:00:30 - Average carbon intensity during training was 445.00 gCO2eq/kWh. ",
        "2025-03-04 10:00:30 - Monitoring thread ended.",
    ]
    return "\n".join(lines) + "\n"


def _block(title):
    """One §6 report block message: starts with \\n, no final \\n."""
    return (
        f"\n{title}\n\tTime:\t0:00:30\n\tEnergy:\t0.004608333333 kWh"
        "\n\tCO2eq:\t2.050708333333 g"
        "\n\tThis is equivalent to:\n\t0.019201388889 km travelled by car"
    )


def _output_log_24():
    """Output log of §14 (§5.4 record order); each record ends with \\n."""
    records = [
        ("2025-03-04 10:00:00", COMPONENTS_24),
        ("2025-03-04 10:00:10", _block("Predicted consumption for 3 epoch(s):")),
        ("2025-03-04 10:00:30", "Average carbon intensity during training was 445.00 gCO2eq/kWh. "),
        ("2025-03-04 10:00:30", _block("Actual consumption for 3 epoch(s):")),
        ("2025-03-04 10:00:30", "Finished monitoring."),
    ]
    return "".join(f"{ts} - CarbonTracker: {msg}\n" for ts, msg in records)


def _err_log_24():
    return (
        "2025-03-04 10:00:00,001 - MainThread - WARNING - No API keys provided. "
        "Skipping intensity provider initialization.\n"
    )


SENTENCE_14 = (
    "The training of models in this work is estimated to use 0.0046083333330000 kWh of "
    "electricity contributing to 0.0020507083333330 kg of CO2eq. This is equivalent to "
    "0.0192013888890000 km travelled by car. Measured by carbontracker "
    "(https://github.com/lfwa/carbontracker)."
)

# ---------------------------------------------------------------------------
# 2.3 CLI-style run: report from stop(), early-stop line with -1, title without count
# (epochs_before_pred=0), 2.3 units; one epoch of 60 s at 27.5 W (pooled package+DRAM).
# Energy 27.5 W * 60 s * 1.58 = 2607 J = 0.000724166667 kWh; x 481 g/kWh; / 107.5 g/km.
# ---------------------------------------------------------------------------

STEM_23 = "777.4242_2024-05-01T120000Z"
COMPONENTS_23 = "The following components were found: CPU with device(s) cpu:0, dram:0."
STD_LOG_23 = (
    "2024-05-01 12:00:00 - carbontracker version 2.3.1\n"
    "2024-05-01 12:00:00 - " + COMPONENTS_23 + "\n"
    "2024-05-01 12:00:00 - Monitoring thread started.\n"
    "2024-05-01 12:01:00 - Epoch 1:\n"
    "2024-05-01 12:01:00 - Duration: 0:01:00.00\n"
    "2024-05-01 12:01:00 - Average power usage (W) for cpu: 27.5\n"
    "2024-05-01 12:01:00 - Training was interrupted before all -1 epochs were monitored.\n"
    "2024-05-01 12:01:00 - Carbon intensities (gCO2/kWh) fetched every 900 s at detected "
    "location Unknown: [481]\n"
    "2024-05-01 12:01:00 - Average carbon intensity during training was 481.00 gCO2/kWh at "
    "detected location: Unknown.\n"
    "2024-05-01 12:01:00 - Monitoring thread ended.\n"
)
OUTPUT_LOG_23 = (
    "2024-05-01 12:00:00 - CarbonTracker: " + COMPONENTS_23 + "\n"
    "2024-05-01 12:01:00 - CarbonTracker: Average carbon intensity during training was "
    "481.00 gCO2/kWh at detected location: Unknown.\n"
    "2024-05-01 12:01:00 - CarbonTracker: \nActual consumption:\n\tTime:\t0:01:00"
    "\n\tEnergy:\t0.000724166667 kWh\n\tCO2eq:\t0.348324166667 g"
    "\n\tThis is equivalent to:\n\t0.003240224806 km travelled by car\n"
    "2024-05-01 12:01:00 - CarbonTracker: Finished monitoring.\n"
)


def _write(directory, name, text):
    path = os.path.join(directory, name)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    return path


def _write_pair_24(directory, stem=STEM_24):
    std = _write(directory, f"{stem}_carbontracker.log", _std_log_24())
    out = _write(directory, f"{stem}_carbontracker_output.log", _output_log_24())
    _write(directory, f"{stem}_carbontracker_err.log", _err_log_24())
    return std, out


def _write_pair_23(directory, stem=STEM_23):
    std = _write(directory, f"{stem}_carbontracker.log", STD_LOG_23)
    out = _write(directory, f"{stem}_carbontracker_output.log", OUTPUT_LOG_23)
    return std, out


def _run_cli(*args):
    return subprocess.run(
        [sys.executable, PARSER, *args], capture_output=True, text=True, check=False
    )


class TempDirCase(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="ctparser-")
        self.dir = self._tmp.name

    def tearDown(self):
        self._tmp.cleanup()


class WorkedExample24(TempDirCase):
    """§14: 3 epochs, gpu 300.0 W, cpu 50.0 W, 10 s epochs."""

    def setUp(self):
        super().setUp()
        self.std, self.out = _write_pair_24(self.dir)

    def test_discovery_and_orders(self):
        outputs, stds = ct_parser.get_all_logs(self.dir)
        self.assertEqual(outputs, [self.out])  # output first, err log ignored
        self.assertEqual(stds, [self.std])
        self.assertEqual(ct_parser.get_most_recent_logs(self.dir), (self.std, self.out))

    def test_components(self):
        comps = ct_parser.parse_logs(self.dir, self.std, self.out)
        self.assertEqual(list(comps), ["gpu", "cpu"])
        gpu, cpu = comps["gpu"], comps["cpu"]
        self.assertEqual(gpu["avg_power_usages (W)"], [[300.0], [300.0], [300.0]])
        self.assertEqual(gpu["avg_energy_usages (J)"], [[3000.0], [3000.0], [3000.0]])
        self.assertEqual(gpu["epoch_durations (s)"], [10.0, 10.0, 10.0])
        self.assertEqual(gpu["devices"], ["NVIDIA A100-SXM4-40GB", " NVIDIA A100-SXM4-40GB"])
        self.assertEqual(cpu["avg_power_usages (W)"], [[50.0], [50.0], [50.0]])
        self.assertEqual(cpu["avg_energy_usages (J)"], [[500.0], [500.0], [500.0]])
        self.assertEqual(cpu["devices"], ["cpu:0", " dram:0"])
        # Default arguments use the most recent pair.
        self.assertEqual(ct_parser.parse_logs(self.dir), comps)

    def test_consumption(self):
        with open(self.out, encoding="utf-8") as f:
            actual, pred = ct_parser.get_consumption(f.read())
        equivalents = {"km travelled by car": 0.019201388889}
        self.assertEqual(pred, {"epochs": 3, "duration (s)": 30.0,
                                "energy (kWh)": 0.004608333333,
                                "co2eq (g)": 2.050708333333, "equivalents": equivalents})
        # The original always reports 1 epoch for the actual block.
        self.assertEqual(actual, {"epochs": 1, "duration (s)": 30.0,
                                  "energy (kWh)": 0.004608333333,
                                  "co2eq (g)": 2.050708333333, "equivalents": equivalents})

    def test_parse_all_logs(self):
        (entry,) = ct_parser.parse_all_logs(self.dir)
        self.assertEqual(entry["output_filename"], self.out)
        self.assertEqual(entry["standard_filename"], self.std)
        self.assertFalse(entry["early_stop"])
        self.assertEqual(entry["actual"]["epochs"], 1)
        self.assertEqual(entry["pred"]["epochs"], 3)
        self.assertEqual(entry["components"]["gpu"]["epoch_durations (s)"], [10.0] * 3)

    def test_aggregate_and_sentence(self):
        # actual epochs 1 != pred epochs 3, no early stop -> predicted block (equal here).
        kwh, g, eq = ct_parser.aggregate_consumption(self.dir)
        self.assertEqual((kwh, g, eq),
                         (0.004608333333, 2.050708333333, {"km travelled by car": 0.019201388889}))
        buf = io.StringIO()
        with redirect_stdout(buf):
            ct_parser.print_aggregate(self.dir)
        self.assertEqual(buf.getvalue(), SENTENCE_14 + "\n")

    def test_cli(self):
        res = _run_cli("aggregate", self.dir)
        self.assertEqual((res.returncode, res.stdout, res.stderr), (0, SENTENCE_14 + "\n", ""))
        res = _run_cli("json", self.dir)
        self.assertEqual(res.returncode, 0, res.stderr)
        doc = json.loads(res.stdout)
        self.assertEqual(doc["aggregate"], {"kwh": 0.004608333333, "gco2": 2.050708333333,
                                            "equivalents": {"km travelled by car": 0.019201388889}})
        self.assertEqual(doc["logs"][0]["components"]["gpu"]["avg_power_usages (W)"],
                         [[300.0], [300.0], [300.0]])


class CliLog23(TempDirCase):
    """2.3 CLI log: early-stop line, `Actual consumption:` title, no prediction."""

    def setUp(self):
        super().setUp()
        self.std, self.out = _write_pair_23(self.dir)

    def test_parse(self):
        (entry,) = ct_parser.parse_all_logs(self.dir)
        self.assertTrue(entry["early_stop"])
        self.assertIsNone(entry["pred"])
        self.assertEqual(entry["actual"], {"epochs": 1, "duration (s)": 60.0,
                                           "energy (kWh)": 0.000724166667,
                                           "co2eq (g)": 0.348324166667,
                                           "equivalents": {"km travelled by car": 0.003240224806}})
        cpu = entry["components"]["cpu"]
        self.assertEqual(cpu["avg_power_usages (W)"], [[27.5]])
        self.assertEqual(cpu["avg_energy_usages (J)"], [[1650.0]])
        self.assertEqual(cpu["devices"], ["cpu:0", " dram:0"])

    def test_aggregate_with_24_pair(self):
        # Pairs are summed; equivalents per unit.
        _write_pair_24(self.dir)
        kwh, g, eq = ct_parser.aggregate_consumption(self.dir)
        self.assertAlmostEqual(kwh, 0.004608333333 + 0.000724166667, places=15)
        self.assertAlmostEqual(g, 2.050708333333 + 0.348324166667, places=15)
        self.assertEqual(list(eq), ["km travelled by car"])
        self.assertAlmostEqual(eq["km travelled by car"], 0.019201388889 + 0.003240224806,
                               places=15)


class MismatchedFiles(TempDirCase):
    def test_unpaired_std_log_is_dropped(self):
        std, out = _write_pair_24(self.dir)
        _write(self.dir, "99.1_2025-01-01T000000Z_carbontracker.log", _std_log_24())
        self.assertEqual(ct_parser.get_all_logs(self.dir), ([out], [std]))

    def test_mismatched_count_raises(self):
        # A rotated std log shares the prefix, so nothing is dropped: 1 vs 2.
        _write_pair_24(self.dir)
        _write(self.dir, f"{STEM_24}_carbontracker.log.1", _std_log_24())
        with self.assertRaises(ct_parser.MismatchedLogFilesError) as ctx:
            ct_parser.get_all_logs(self.dir)
        self.assertEqual(str(ctx.exception),
                         "Found 1 output logs and 2 standard logs. Expected equal number of logs.")
        res = _run_cli("aggregate", self.dir)
        self.assertEqual(res.returncode, 1)
        self.assertEqual(res.stdout, "")
        self.assertEqual(res.stderr,
                         "MismatchedLogFilesError: Found 1 output logs and 2 standard logs. "
                         "Expected equal number of logs.\n")

    def test_directory_path_matches_pattern(self):
        # Patterns see the joined path: a "carbontracker-logs" directory makes every
        # file a "standard log" (the output log is counted twice).
        sub = os.path.join(self.dir, "carbontracker-logs")
        os.mkdir(sub)
        _write_pair_24(sub)
        with self.assertRaises(ct_parser.MismatchedLogFilesError):
            ct_parser.get_all_logs(sub)

    def test_no_logs(self):
        self.assertEqual(ct_parser.parse_all_logs(self.dir), [])
        buf = io.StringIO()
        with redirect_stdout(buf):
            ct_parser.print_aggregate(self.dir)
        self.assertEqual(buf.getvalue(),
                         "The training of models in this work is estimated to use "
                         "0.0000000000000000 kWh of electricity contributing to "
                         "0.0000000000000000 kg of CO2eq. Measured by carbontracker "
                         "(https://github.com/lfwa/carbontracker).\n")
        with self.assertRaises(IndexError):
            ct_parser.get_most_recent_logs(self.dir)


class Quirks(unittest.TestCase):
    """Original behaviours that epochwatt must write around (§8.2, §13 D22–D24)."""

    def test_power_pattern_keeps_first_number(self):
        text = (
            "Average power usage (W) for gpu: [136.86 140.2]\n"
            "Average power usage (W) for gpu: 5e-05\n"
            "Average power usage (W) for gpu: None\n"
            "Average power usage (W) for gpu: nan\n"
            "Average power usage (W) for gpu: [None]\n"
        )
        self.assertEqual(ct_parser.get_avg_power_usages(text),
                         {"gpu": [[136.86], [5.0], [0.0]]})

    def test_device_names_cut_at_dot(self):
        text = ("x - The following components were found: CPU with device(s) "
                "Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz.\n")
        self.assertEqual(ct_parser.get_devices(text),
                         {"cpu": ["Intel(R) Xeon(R) Gold 6248 CPU @ 2"]})

    def test_durations(self):
        self.assertEqual(ct_parser.get_epoch_durations(
            "Duration: 1:01:06.40\nDuration: 0:00:02.00\n"), [3666.4, 2.0])
        self.assertEqual(ct_parser.get_time("0:00:06"), 6.0)

    def test_mismatched_epochs_and_missing_component(self):
        with tempfile.TemporaryDirectory(prefix="ctparser-") as d:
            std = _write(d, "1.1_x_carbontracker.log", _std_log_24().replace(
                "for gpu: 300.0\n2025-03-04 10:00:30", "for gpu: nan\n2025-03-04 10:00:30"))
            with self.assertRaises(ct_parser.MismatchedEpochsError) as ctx:
                ct_parser.parse_logs(d, std, std)
            self.assertEqual(str(ctx.exception),
                             "Found 2 power measurements and 3 duration measurements. "
                             "Expected equal number of measurements.")
            std2 = _write(d, "1.2_x_carbontracker.log", _std_log_24().replace(
                "for cpu: 50.0", "for cpux: 50.0"))
            with self.assertRaises(KeyError):
                ct_parser.parse_logs(d, std2, std2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
