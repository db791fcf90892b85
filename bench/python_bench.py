#!/usr/bin/env python3
"""Costs of the Python package, each beside carbontracker 2.4.3's figure on this kind of machine
(as measured for issue 10; carbontracker itself is not installable here, there being no package
index). Prints one table; docs/performance.md records it.

  1. the caller's cost of epoch_start() + epoch_end() through the drop-in (median over pairs);
  2. the time `import epochwatt` takes (median over fresh interpreters);
  3. the memory a tracker adds to the interpreter (RSS after 100 epochs minus before construction).

usage: PYTHONPATH=build/python /usr/bin/python3 bench/python_bench.py [--pairs N] [--imports N]
Runs offline (EPOCHWATT_OFFLINE=1) on this machine's default meters.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap

CARBONTRACKER = {"pair_us": 80.0, "import_s": 0.49, "memory_mib": 73.0}


def caller_cost(pairs, spaced, layer="drop-in"):
    code = textwrap.dedent(f"""
        import time, tempfile, statistics
        from epochwatt.carbontracker import CarbonTracker
        d = tempfile.mkdtemp()
        ct = CarbonTracker(epochs=10**7, epochs_before_pred=0, log_dir=d, verbose=0)
        ct.epoch_start(); ct.epoch_end()  # warm
        # the drop-in, or the extension's bound C++ calls alone (the layers under it)
        api = ct if {layer!r} == "drop-in" else ct.tracker._t
        ns = []
        pc = time.perf_counter_ns
        for i in range({pairs}):
            t0 = pc()
            api.epoch_start()
            api.epoch_end()
            ns.append(pc() - t0)
            if {spaced}:
                time.sleep(0.02)
        ct.stop()
        print(statistics.median(ns) / 1000.0, sorted(ns)[int(len(ns) * 0.9)] / 1000.0)
    """)
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    median, p90 = map(float, out.splitlines()[-1].split())  # the err channel may print first
    return median, p90


def import_time(n):
    code = "import time; t0 = time.perf_counter(); import epochwatt; print(time.perf_counter() - t0)"
    times = [float(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                                  text=True).stdout) for _ in range(n)]
    return statistics.median(times)


def memory():
    code = textwrap.dedent("""
        import tempfile
        def rss_kib():
            with open("/proc/self/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        base = rss_kib()
        import epochwatt
        from epochwatt.carbontracker import CarbonTracker
        after_import = rss_kib()
        ct = CarbonTracker(epochs=100, log_dir=tempfile.mkdtemp(), verbose=0)
        for _ in range(100):
            ct.epoch_start(); ct.epoch_end()
        ct.tracker.flush()
        print(base, after_import, rss_kib())
    """)
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    base, after_import, after = map(int, out.splitlines()[-1].split())
    return (after_import - base) / 1024.0, (after - after_import) / 1024.0, (after - base) / 1024.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=20000)
    ap.add_argument("--spaced-pairs", type=int, default=200)
    ap.add_argument("--imports", type=int, default=20)
    args = ap.parse_args()
    os.environ["EPOCHWATT_OFFLINE"] = "1"
    home = tempfile.mkdtemp()
    os.environ.setdefault("XDG_CACHE_HOME", os.path.join(home, "cache"))
    os.environ.setdefault("XDG_CONFIG_HOME", os.path.join(home, "config"))
    with open("/proc/loadavg") as f:
        print(f"== {os.cpu_count()} CPU(s), load average {' '.join(f.read().split()[:3])}, {sys.executable} {sys.version.split()[0]}")

    back_to_back, b2b_p90 = caller_cost(args.pairs, False)
    raw_b2b, raw_b2b_p90 = caller_cost(args.pairs, False, "extension")
    spaced, spaced_p90 = caller_cost(args.spaced_pairs, True)
    raw_spaced, raw_spaced_p90 = caller_cost(args.spaced_pairs, True, "extension")
    imp = import_time(args.imports)
    mem_import, mem_tracker, mem_total = memory()
    rows = [
        ("epoch_start()+epoch_end(), back to back (median; p90)", f"{back_to_back:.1f} us; {b2b_p90:.1f} us", "-"),
        ("  of which the C++ calls through the extension alone", f"{raw_b2b:.1f} us; {raw_b2b_p90:.1f} us", "-"),
        ("epoch_start()+epoch_end(), 20 ms apart (median; p90)", f"{spaced:.1f} us; {spaced_p90:.1f} us",
         f"{CARBONTRACKER['pair_us']:.0f} us (median)"),
        ("  of which the C++ calls through the extension alone", f"{raw_spaced:.1f} us; {raw_spaced_p90:.1f} us", "-"),
        (f"import epochwatt (median of {args.imports})", f"{imp * 1000:.1f} ms", f"{CARBONTRACKER['import_s'] * 1000:.0f} ms"),
        ("memory: import", f"{mem_import:.1f} MiB", "-"),
        ("memory: a tracker after 100 epochs", f"{mem_tracker:.1f} MiB", "-"),
        ("memory: import + tracker", f"{mem_total:.1f} MiB", f"{CARBONTRACKER['memory_mib']:.0f} MiB"),
    ]
    w = max(len(r[0]) for r in rows)
    print(f"{'figure':<{w}}  {'epochwatt':>20}  {'carbontracker 2.4.3':>20}")
    for name, ours, theirs in rows:
        print(f"{name:<{w}}  {ours:>20}  {theirs:>20}")


if __name__ == "__main__":
    main()
