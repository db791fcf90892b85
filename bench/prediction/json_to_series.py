#!/usr/bin/python3
"""One epochwatt JSON summary (docs/json-summary.md) -> one series file of the prediction benchmark.

    /usr/bin/python3 bench/prediction/json_to_series.py SUMMARY.json OUT.csv NAME SOURCE

The set-up line comes from the summary's `setup` object, epoch lines from `epochs` (interrupted
epochs left out; the columns of schema version 3, or the epoch objects of versions 1 and 2), first_epoch_includes_setup from `context`. Joules are IT energy (no PUE). SOURCE
is written after the summary's own context (host, start time, meters).
"""
import json
import sys


def epoch_rows(j):
    """The epochs as dicts with epoch, duration_s, joules, interrupted, whatever the schema."""
    t = j["epochs"]
    if isinstance(t, list):  # versions 1 and 2: one object per epoch
        return t
    interrupted = set(t.get("interrupted_rows", []))
    return [{"epoch": t["epoch"][i], "duration_s": t["duration_s"][i], "joules": t["joules"][i],
             "interrupted": i in interrupted} for i in range(len(t["epoch"]))]


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    path, out, name, source = sys.argv[1:]
    with open(path) as f:
        j = json.load(f)
    ctx = j.get("context", {})
    meters = ", ".join(f"{m.get('id')} ({m.get('method')})" for m in ctx.get("devices", []))
    epochs = [e for e in epoch_rows(j) if not e.get("interrupted")]
    setup = j.get("setup")
    with open(out, "w") as f:
        f.write(f"# name: {name}\n")
        f.write(f"# source: {source}; epochwatt {ctx.get('version', '?')}, host {ctx.get('host', '?')}"
                f" ({ctx.get('os', '?')}), started {ctx.get('started_utc', '?')}, devices: {meters}\n")
        f.write(f"# first_epoch_includes_setup: {1 if ctx.get('first_epoch_includes_setup') else 0}\n")
        f.write("kind,index,seconds,joules\n")
        if setup is not None:
            f.write(f"setup,0,{setup['duration_s']:.4f},{setup['joules']:.3f}\n")
        for e in epochs:
            f.write(f"epoch,{e['epoch']},{e['duration_s']:.4f},{e['joules']:.3f}\n")


if __name__ == "__main__":
    main()
