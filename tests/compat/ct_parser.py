#!/usr/bin/env python3
"""Reference reader: the log parser of the original carbontracker 2.4.3.

This file re-implements the behaviour of carbontracker's `carbontracker/parser.py`
(identical in 2.3.1 and 2.4.3) as described in the epochwatt compatibility
specification, /work/shared/spec/carbontracker-compat.md, sections 8.1 to 8.5.
It was written from that specification, for compatibility testing only: the test
suite uses it as "the original's parser" to prove that the log files epochwatt
writes are read back to the numbers epochwatt printed (contract rule 1).

It deliberately reproduces the original's quirks, because a log that reads
correctly only with a *fixed* parser does not satisfy the contract:

  * actual["epochs"] is always 1 (the actual-block pattern has no epoch group), so
    a completed multi-epoch run is aggregated with its *predicted* block (D22);
  * the power pattern `(\\[?[0-9\\.]+\\]?|None)` keeps only the first number of an
    array and truncates scientific notation (`5e-05` -> 5.0); `nan` and `[None]`
    lines are not matched at all (D23);
  * device names keep the leading space left by splitting on ',' and end at the
    first '.' (D24); a component listed without any power line raises KeyError;
  * file patterns are applied with `re.match`, i.e. anchored at the start only and
    with unescaped dots, so rotated `*.log.1` files count (D25);
  * logs are paired by sorted position; get_all_logs returns (output, std) while
    get_most_recent_logs returns (std, output) (D25).

A few details that the specification states only loosely were checked against
the upstream source and are reproduced as upstream behaves; each is marked
"(upstream)" where it is implemented:
  * the file patterns are matched against the *joined path* os.path.join(log_dir,
    name), not the bare name, so a directory whose path contains
    "carbontracker" + any char + "log" (e.g. ".../carbontracker-logs/") makes every
    file in it look like a standard log;
  * dropping partnerless files removes exactly "<prefix>_carbontracker.log" /
    "<prefix>_carbontracker_output.log" from the longer list only; if that exact
    name is not in the list (rotated or oddly named file) list.remove raises
    ValueError;
  * in the equivalents, a line starting with a space is skipped and a non-empty
    line without any space raises IndexError;
  * aggregate_consumption reads the pairs itself and never calls parse_logs, so a
    MismatchedEpochsError in a standard log does not stop the aggregate.

Standard library only (no numpy): the original's numpy arrays are returned as
plain lists -- "avg_power_usages (W)" / "avg_energy_usages (J)" as a list of
per-epoch lists (shape (epochs, k)), "epoch_durations (s)" as a flat list.

Command line:
    python3 ct_parser.py aggregate DIR   # prints the print_aggregate sentence
    python3 ct_parser.py json DIR        # prints {"logs": ..., "aggregate": ...}
Exit status 0 on success; 1 with a one-line message on stderr if the parser
raises (MismatchedLogFilesError, MismatchedEpochsError, IndexError, ...).
"""

import argparse
import contextlib
import json
import math
import os
import re
import sys

# ---------------------------------------------------------------------------
# Patterns, exactly as given in spec §8.1 / §8.2 (Python `re` syntax).
# ---------------------------------------------------------------------------

# §8.1: file-name patterns, used with re.match (anchored at the start only).
OUTPUT_LOG_RE = re.compile(r".*carbontracker_output.log")
STD_LOG_RE = re.compile(r".*carbontracker.log")

# §8.2: standard-log patterns.
COMPONENTS_RE = re.compile(r"The following components were found:(.*)\n")
SEGMENT_RE = re.compile(r" (.*?) with device\(s\) (.*?)\.")  # starts with a space
DURATION_RE = re.compile(r"Duration: (\d+):(\d{2}):(\d\d?(?:.\d{2})?)")
POWER_RE = re.compile(r"Average power usage \(W\) for (.+): (\[?[0-9\.]+\]?|None)")
EARLY_STOP_RE = re.compile(r"(?i)Training was interrupted")

# §8.2: output-log patterns (report time and the two consumption blocks).
REPORT_TIME_RE = re.compile(r"(\d+):(\d{2}):(\d\d?(?:.\d{2})?)")
PRED_RE = re.compile(
    r"(?i)Predicted consumption for (\d*) epoch\(s\):[\s\S]*?Time:\s*(.*)\n\s*Energy:\s*(.*)\s+kWh"
    r"[\s\S]*?CO2eq:\s*(.*)\s+g(?:\s*This is equivalent to:\s*([\s\S]*?))?(?=\d{4}-\d{2}-\d{2}|\Z)"
)
ACTUAL_RE = re.compile(
    r"(?i)Actual consumption(?:\s*for\s+\d+\s+epochs)?[\s\S]*?Time:\s*(.*)\n\s*Energy:\s*(.*)\s+kWh"
    r"[\s\S]*?CO2eq:\s*(.*)\s+g(?:\s*This is equivalent to:\s*([\s\S]*?))?(?=\d{4}-\d{2}-\d{2}|\Z)"
)

STD_SUFFIX = "_carbontracker.log"
OUTPUT_SUFFIX = "_carbontracker_output.log"


# ---------------------------------------------------------------------------
# Exceptions (carbontracker.exceptions)
# ---------------------------------------------------------------------------


class MismatchedLogFilesError(Exception):
    """Output and standard logs cannot be paired one to one."""


class MismatchedEpochsError(Exception):
    """A standard log has a different number of power and duration values."""


def _read(path):
    """Read a log as the original does: text mode, universal newlines."""
    with open(path, "r", encoding="utf-8") as f:
        return f.read()


# ---------------------------------------------------------------------------
# §8.1 Discovery and pairing
# ---------------------------------------------------------------------------


def get_all_logs(log_dir):
    """Return (output_logs, std_logs): joined paths, sorted, paired by position.

    Only regular, non-empty files count. Note the order: output logs first.
    """
    files = [
        os.path.join(log_dir, name)
        for name in os.listdir(log_dir)
        if os.path.isfile(os.path.join(log_dir, name))
        and os.path.getsize(os.path.join(log_dir, name)) > 0
    ]
    # (upstream) The patterns see the whole joined path, not just the name.
    output_logs = sorted(f for f in files if OUTPUT_LOG_RE.match(f))
    std_logs = sorted(f for f in files if STD_LOG_RE.match(f))

    if len(output_logs) != len(std_logs):
        # Drop files without a partner; names are compared by the text
        # before "_carbontracker".
        out_prefixes = {f.split("_carbontracker")[0] for f in output_logs}
        std_prefixes = {f.split("_carbontracker")[0] for f in std_logs}
        # (upstream) Only the longer list is pruned, and only the exact name
        # "<prefix>" + suffix is removed; list.remove raises ValueError when that
        # exact name is absent (e.g. a partnerless "x_carbontracker.log.1").
        if len(std_logs) > len(output_logs):
            for prefix in std_prefixes - out_prefixes:
                std_logs.remove(prefix + STD_SUFFIX)
        else:
            for prefix in out_prefixes - std_prefixes:
                output_logs.remove(prefix + OUTPUT_SUFFIX)
        if len(output_logs) != len(std_logs):
            raise MismatchedLogFilesError(
                f"Found {len(output_logs)} output logs and {len(std_logs)} "
                "standard logs. Expected equal number of logs."
            )
    return output_logs, std_logs


def get_most_recent_logs(log_dir):
    """Return (std_log, output_log), the newest of each kind by mtime.

    Note the reversed order compared with get_all_logs. Empty files are not
    skipped; a directory without logs raises IndexError.
    """
    files = [
        os.path.join(log_dir, name)
        for name in os.listdir(log_dir)
        if os.path.isfile(os.path.join(log_dir, name))
    ]
    output_logs = [f for f in files if OUTPUT_LOG_RE.match(f)]
    std_logs = [f for f in files if STD_LOG_RE.match(f)]
    output_logs.sort(key=os.path.getmtime)  # stable: ties keep listdir order
    std_logs.sort(key=os.path.getmtime)
    return std_logs[-1], output_logs[-1]


# ---------------------------------------------------------------------------
# §8.2 / §8.3 Standard log: components, durations, power
# ---------------------------------------------------------------------------


def get_devices(std_log_data):
    """{component (lower-cased NAME): [device, ...]} from the first components line.

    Devices are split on ',' without stripping, and the lazy segment pattern
    ends a device list at its first '.', e.g. "... @ 2.50GHz" -> "... @ 2".
    """
    lines = COMPONENTS_RE.findall(std_log_data)
    if not lines:
        return {}
    devices = {}
    for name, device_str in SEGMENT_RE.findall(lines[0]):
        devices[name.lower()] = device_str.split(",")
    return devices


def get_epoch_durations(std_log_data):
    """Every `Duration:` value in seconds, in file order."""
    return [
        float(h) * 60 * 60 + float(m) * 60 + float(s)
        for h, m, s in DURATION_RE.findall(std_log_data)
    ]


def get_avg_power_usages(std_log_data):
    """{component: [[W, ...] per epoch]} from the matched power lines.

    `None` counts as [0.0]. Otherwise the capture (which can hold only digits,
    dots and brackets) loses its brackets and is split on spaces, so in
    practice each epoch row has exactly one number: the first one on the line.
    Lines the pattern does not match (`nan`, `[None]`) are silently dropped.
    """
    matches = POWER_RE.findall(std_log_data)
    usages = {}
    for comp, power in matches:
        row = usages.setdefault(comp, [])
        if power == "None":
            row.append([0.0])
        else:
            parts = power.strip("[").strip("]").split(" ")
            row.append([float(p) for p in parts if p != ""])
    return usages


def parse_logs(log_dir, std_log_file=None, output_log_file=None):
    """Per-component measurements of one standard log (§8.3).

    Uses the most recent pair when either file is None; reads only the
    standard log. Returns {} when the log has no components line.
    """
    if std_log_file is None or output_log_file is None:
        std_log_file, output_log_file = get_most_recent_logs(log_dir)
    std_log_data = _read(std_log_file)

    epoch_durations = get_epoch_durations(std_log_data)
    avg_power_usages = get_avg_power_usages(std_log_data)
    devices = get_devices(std_log_data)

    components = {}
    for comp, comp_devices in devices.items():
        # No power line at all -> None. Power lines, but none for this
        # component -> KeyError (original behaviour, D24).
        power = avg_power_usages[comp] if len(avg_power_usages) != 0 else None
        durations = list(epoch_durations) if len(epoch_durations) != 0 else None
        if power is None or durations is None:
            energy = None
        else:
            # numpy compares array sizes: epochs * k values against epochs.
            power_size = sum(len(row) for row in power)
            if power_size != len(durations):
                raise MismatchedEpochsError(
                    f"Found {power_size} power measurements and {len(durations)} "
                    "duration measurements. Expected equal number of measurements."
                )
            # Energy per row = power x duration, in J, without PUE.
            energy = [[p * d for p in row] for row, d in zip(power, durations)]
        components[comp] = {
            "avg_power_usages (W)": power,
            "avg_energy_usages (J)": energy,
            "epoch_durations (s)": durations,
            "devices": comp_devices,
        }
    return components


# ---------------------------------------------------------------------------
# §8.4 Output log: consumption blocks, early stop, all pairs
# ---------------------------------------------------------------------------


def get_time(time_str):
    """Report `Time:` text to seconds (`0:00:06` -> 6.0); None if no match."""
    match = REPORT_TIME_RE.search(time_str)
    if not match:
        return None
    h, m, s = match.groups()
    return float(h) * 60 * 60 + float(m) * 60 + float(s)


def parse_equivalents(text):
    """{unit: value} from the lines following `This is equivalent to:`."""
    equivalents = {}
    for line in text.split("\n"):
        # Split at the first space into value and unit. (upstream) A line
        # starting with a space is skipped; a non-empty line without a space
        # raises IndexError.
        parts = line.split(" ", 1)
        if parts[0] and parts[1]:
            try:
                equivalents[parts[1].strip()] = float(parts[0].strip())
            except ValueError:
                print(
                    f"Warning: Unable to convert '{parts[0]}' to float. "
                    "Skipping this equivalent."
                )
    return equivalents


def extract_measurements(match):
    """Block dict from a PRED_RE / ACTUAL_RE match, or None."""
    if not match:
        return None
    groups = list(match.groups())
    if len(groups) == 4:
        # The actual pattern has no epoch group: epochs is always 1 (D22).
        groups = [1] + groups
    epochs, time_str, energy, co2eq, equivalents = groups
    return {
        "epochs": int(epochs),
        "duration (s)": get_time(time_str),
        "energy (kWh)": float(energy),
        "co2eq (g)": float(co2eq),
        "equivalents": parse_equivalents(equivalents) if equivalents is not None else None,
    }


def get_consumption(output_log_data):
    """(actual, pred) from the first match of each block in the output log."""
    actual = extract_measurements(ACTUAL_RE.search(output_log_data))
    pred = extract_measurements(PRED_RE.search(output_log_data))
    return actual, pred


def get_early_stop(std_log_data):
    """True if `Training was interrupted` (any case) occurs anywhere."""
    return bool(EARLY_STOP_RE.findall(std_log_data))


def parse_all_logs(log_dir):
    """One entry per (output, standard) pair of get_all_logs."""
    logs = []
    output_logs, std_logs = get_all_logs(log_dir)
    for out, std in zip(output_logs, std_logs):
        std_log_data = _read(std)
        output_log_data = _read(out)
        actual, pred = get_consumption(output_log_data)
        logs.append(
            {
                "output_filename": out,
                "standard_filename": std,
                "components": parse_logs(log_dir, std, out),
                "early_stop": get_early_stop(std_log_data),
                "actual": actual,
                "pred": pred,
            }
        )
    return logs


# ---------------------------------------------------------------------------
# §8.5 Aggregation and the sentence
# ---------------------------------------------------------------------------


def aggregate_consumption(log_dir):
    """(total kWh, total gCO2eq, {unit: total}) over all pairs of log_dir.

    Per pair: neither block -> skipped; one block -> that block; both -> the
    actual block if early stop or actual epochs == predicted epochs, else the
    predicted block. Since actual epochs is always 1, a completed multi-epoch
    run is summed with its predicted numbers.
    """
    output_logs, std_logs = get_all_logs(log_dir)
    total_energy = 0
    total_co2eq = 0
    total_equivalents = {}
    for output_log, std_log in zip(output_logs, std_logs):
        output_data = _read(output_log)
        std_data = _read(std_log)
        actual, pred = get_consumption(output_data)
        early_stop = get_early_stop(std_data)

        if actual is None and pred is None:
            continue
        if actual is None:
            chosen = pred
        elif pred is None:
            chosen = actual
        elif early_stop or actual["epochs"] == pred["epochs"]:
            chosen = actual
        else:
            chosen = pred

        total_energy += chosen["energy (kWh)"]  # added even when NaN
        if not math.isnan(chosen["co2eq (g)"]):
            total_co2eq += chosen["co2eq (g)"]
        if chosen["equivalents"] is not None:
            for unit, value in chosen["equivalents"].items():
                total_equivalents[unit] = total_equivalents.get(unit, 0) + value
    return total_energy, total_co2eq, total_equivalents


def format_aggregate(energy, co2eq, equivalents):
    """The print_aggregate sentence: 16 decimals, CO2 in kg."""
    equivalents_p = " or ".join(f"{v:.16f} {k}" for k, v in equivalents.items())
    text = (
        f"The training of models in this work is estimated to use {energy:.16f} kWh "
        f"of electricity contributing to {co2eq / 1000:.16f} kg of CO2eq. "
    )
    if equivalents_p:
        text += f"This is equivalent to {equivalents_p}. "
    text += "Measured by carbontracker (https://github.com/lfwa/carbontracker)."
    return text


def print_aggregate(log_dir):
    """Print the aggregate sentence (what `carbontracker --parse DIR` prints)."""
    print(format_aggregate(*aggregate_consumption(log_dir)))


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


def _json_report(log_dir):
    """{"logs": parse_all_logs, "aggregate": {...}} as a JSON-ready dict."""
    logs = parse_all_logs(log_dir)
    kwh, gco2, equivalents = aggregate_consumption(log_dir)
    return {
        "logs": logs,
        "aggregate": {
            "kwh": float(kwh),
            "gco2": float(gco2),
            "equivalents": {k: float(v) for k, v in equivalents.items()},
        },
    }


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="carbontracker 2.4.3 log parser (reference re-implementation "
        "for epochwatt compatibility tests)."
    )
    ap.add_argument("mode", choices=["aggregate", "json"],
                    help="aggregate: print the print_aggregate sentence; "
                    "json: dump parse_all_logs and the aggregate as JSON")
    ap.add_argument("log_dir", help="directory holding carbontracker log files")
    args = ap.parse_args(argv)

    try:
        if args.mode == "aggregate":
            # Warnings go to stdout before the sentence, as in the original.
            print_aggregate(args.log_dir)
        else:
            # Keep stdout pure JSON: parser warnings go to stderr here.
            with contextlib.redirect_stdout(sys.stderr):
                report = _json_report(args.log_dir)
            print(json.dumps(report))
    except Exception as exc:  # any parser exception: one line, exit 1
        message = " ".join(str(exc).split())
        print(f"{type(exc).__name__}: {message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
