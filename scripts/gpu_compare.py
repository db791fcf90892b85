#!/usr/bin/env python3
"""Compare epochwatt's per-epoch GPU energy with NVML's counter read by the job itself.

    gpu_compare.py JOB_STDOUT EPOCHWATT_JSON [--tolerance PCT]

JOB_STDOUT holds the lines of scripts/gpu_job.py (`gpu_job start nvml_mj=...` and
`gpu_job epoch K end nvml_mj=...`); EPOCHWATT_JSON is epochwatt's JSON summary of the same run
(`--json PATH`). For each epoch it prints epochwatt's GPU joules (the sum of the epoch's `gpu`
devices, before PUE), the counter difference between the job's two boundary reads, and the
difference in per cent of the latter; then the totals.

Exit status: 0 when every epoch and the total are within the tolerance (default 5 %), 1 when one
is not, 2 when an input cannot be read (one line on stderr).
"""
import argparse
import datetime
import json
import re
import sys

LINE = re.compile(r"^gpu_job (?:start|epoch (\d+) end) nvml_mj=(\d+)")
START_T = re.compile(r"^gpu_job start nvml_mj=\d+ t=([0-9.]+)")


def read_job(path):
    start, ends, start_t = None, {}, None
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            t = START_T.match(line)
            if t:
                start_t = float(t.group(1))
            m = LINE.match(line)
            if not m:
                continue
            mj = int(m.group(2))
            if m.group(1) is None:
                start = mj
            else:
                ends[int(m.group(1))] = mj
    if start is None:
        raise ValueError(f"{path}: no 'gpu_job start nvml_mj=' line")
    nvml_j, prev = {}, start
    for k in sorted(ends):
        nvml_j[k] = (ends[k] - prev) / 1000.0
        prev = ends[k]
    return nvml_j, start_t


def read_epochwatt(path):
    with open(path, encoding="utf-8") as f:
        j = json.load(f)
    out, dur = {}, {}
    for e in j.get("epochs", []):
        if e.get("interrupted"):
            continue
        dur[int(e["epoch"])] = float(e.get("duration_s", 0.0))
        out[int(e["epoch"])] = sum(d["joules"] for d in e.get("devices", []) if d.get("component") == "gpu")
    return out, dur, j


def pct(a, b):
    return float("nan") if b == 0 else 100.0 * (a - b) / b


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("job_stdout")
    ap.add_argument("epochwatt_json")
    ap.add_argument("--tolerance", type=float, default=5.0, help="allowed |difference| in per cent")
    a = ap.parse_args()
    try:
        nvml_j, start_t = read_job(a.job_stdout)
        ew_j, dur, summary = read_epochwatt(a.epochwatt_json)
    except (OSError, ValueError, KeyError, TypeError) as e:
        print(f"gpu_compare: {e}", file=sys.stderr)
        return 2
    if not nvml_j or not ew_j:
        print(f"gpu_compare: nothing to compare ({len(nvml_j)} job epochs, {len(ew_j)} epochwatt epochs)",
              file=sys.stderr)
        return 2

    meters = [d for d in summary.get("context", {}).get("devices", []) if d.get("component") == "gpu"]
    for d in meters:
        print(f"epochwatt GPU meter: {d.get('id')} {d.get('device')} [{d.get('method')}]")
    started = summary.get("context", {}).get("started_utc")
    if started and start_t is not None:
        # Epoch 1 starts, for epochwatt, before the job runs; the job's first read comes after
        # Python has started. The gap's energy is in epochwatt's epoch 1 and not in the job's.
        t0 = datetime.datetime.fromisoformat(started.replace("Z", "+00:00")).timestamp()
        print(f"the job's first counter read came {start_t - t0:.3f} s after epochwatt started "
              f"(its energy counts in epochwatt's epoch 1 only; started_utc has ms resolution)")
    print(f"{'epoch':>5} {'s':>6} {'mean W':>7} {'epochwatt J':>12} {'NVML J':>12} {'diff J':>9} {'diff %':>8}")
    worst, tot_ew, tot_nv = 0.0, 0.0, 0.0
    for k in sorted(set(nvml_j) | set(ew_j)):
        if k not in nvml_j or k not in ew_j:
            print(f"{k:>5} {'':>14} {'missing in ' + ('the job' if k not in nvml_j else 'epochwatt'):>34}")
            worst = float("inf")
            continue
        ew, nv = ew_j[k], nvml_j[k]
        tot_ew += ew
        tot_nv += nv
        d = pct(ew, nv)
        worst = max(worst, abs(d))
        mean_w = ew / dur[k] if dur.get(k) else float("nan")
        print(f"{k:>5} {dur.get(k, float('nan')):6.2f} {mean_w:7.1f} {ew:12.1f} {nv:12.1f} {ew - nv:+9.1f} {d:+7.2f}%")
    d = pct(tot_ew, tot_nv)
    print(f"{'total':>5} {sum(dur.values()):6.2f} {'':>7} {tot_ew:12.1f} {tot_nv:12.1f} {tot_ew - tot_nv:+9.1f} {d:+7.2f}%")
    ok = worst <= a.tolerance and abs(d) <= a.tolerance
    print(f"largest per-epoch |difference| {worst:.2f} %; total {d:+.2f} %: "
          f"{'within' if ok else 'OUTSIDE'} the {a.tolerance:g} % tolerance")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
