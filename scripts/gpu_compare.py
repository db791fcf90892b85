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
import json
import re
import sys

LINE = re.compile(r"^gpu_job (?:start|epoch (\d+) end) nvml_mj=(\d+)")


def read_job(path):
    start, ends = None, {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
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
    return nvml_j


def read_epochwatt(path):
    with open(path, encoding="utf-8") as f:
        j = json.load(f)
    out = {}
    for e in j.get("epochs", []):
        if e.get("interrupted"):
            continue
        out[int(e["epoch"])] = sum(d["joules"] for d in e.get("devices", []) if d.get("component") == "gpu")
    return out, j


def pct(a, b):
    return float("nan") if b == 0 else 100.0 * (a - b) / b


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("job_stdout")
    ap.add_argument("epochwatt_json")
    ap.add_argument("--tolerance", type=float, default=5.0, help="allowed |difference| in per cent")
    a = ap.parse_args()
    try:
        nvml_j = read_job(a.job_stdout)
        ew_j, summary = read_epochwatt(a.epochwatt_json)
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
    print(f"{'epoch':>5} {'epochwatt J':>12} {'NVML J':>12} {'diff J':>9} {'diff %':>8}")
    worst, tot_ew, tot_nv = 0.0, 0.0, 0.0
    for k in sorted(set(nvml_j) | set(ew_j)):
        if k not in nvml_j or k not in ew_j:
            print(f"{k:>5} {'missing in ' + ('the job' if k not in nvml_j else 'epochwatt'):>34}")
            worst = float("inf")
            continue
        ew, nv = ew_j[k], nvml_j[k]
        tot_ew += ew
        tot_nv += nv
        d = pct(ew, nv)
        worst = max(worst, abs(d))
        print(f"{k:>5} {ew:12.1f} {nv:12.1f} {ew - nv:+9.1f} {d:+7.2f}%")
    d = pct(tot_ew, tot_nv)
    print(f"{'total':>5} {tot_ew:12.1f} {tot_nv:12.1f} {tot_ew - tot_nv:+9.1f} {d:+7.2f}%")
    ok = worst <= a.tolerance and abs(d) <= a.tolerance
    print(f"largest per-epoch |difference| {worst:.2f} %; total {d:+.2f} %: "
          f"{'within' if ok else 'OUTSIDE'} the {a.tolerance:g} % tolerance")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
