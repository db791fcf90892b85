#!/usr/bin/python3
"""What the first epochs of the recorded real runs can show at best: figures for the issue's two
error targets (docs/performance.md, "Prediction accuracy", "Against the issue's targets").

    /usr/bin/python3 bench/prediction/limits.py [SERIES_DIR]

Reads the series files that bench_prediction reads (the real runs: every file not named
synthetic-*) and prints two Markdown tables, in energy (joules):

1. After epoch 1, with the set-up apart (the runs whose epoch 1 does not include the set-up): the
   ratio of epoch 1 to the mean of epochs 2..N, and the error of the predicted total
   set-up + epoch 1 + (N-1) x c x epoch 1 for c = 1 (the steady rule after one epoch) and for a
   prior "the first epoch is 1/c times the rest" with c = 0.9, 0.8 and 0.7. A rule that knows only
   epoch 1 has nothing else to go on: these are the only rules of that kind.
2. After epoch 2, for every real run: the error of set-up + epochs 1, 2 + (N-2) x epoch 2 (what the
   steady rule predicts where it leaves epoch 1 out as warm-up, as it does in every digits run),
   the spread of epochs 2..N (coefficient of variation), the deviation of one epoch from the mean
   that keeps the total within 5 % (0.05 x actual / ((N-2) x mean of epochs 2..N)), and the chance
   that one epoch drawn from a normal with that spread stays within it. Their sum is the number of
   runs one epoch can be expected to predict within 5 %.
"""
import math
import os
import sys


def read(path):
    setup, epochs, includes = 0.0, [], False
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            if line.startswith("#"):
                if line[1:].strip().startswith("first_epoch_includes_setup:"):
                    includes = line.split(":", 1)[1].strip() == "1"
                continue
            kind, _, _, joules = line.split(",")
            if kind == "setup":
                setup = float(joules)
            elif kind == "epoch":
                epochs.append(float(joules))
    return setup, epochs, includes


def pct(x):
    return f"{x:+.1f} %"


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    folder = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "series")
    runs = []
    for name in sorted(os.listdir(folder)):
        if name.endswith(".csv") and not name.startswith("synthetic-"):
            runs.append((name[:-4],) + read(os.path.join(folder, name)))

    print("After epoch 1, set-up apart: epoch 1 / mean of epochs 2..N, and the error of set-up + epoch 1 + (N-1) x c x epoch 1\n")
    cs = [1.0, 0.9, 0.8, 0.7]
    print("| series | N | epoch 1 / mean 2..N | " + " | ".join(f"c = {c}" for c in cs) + " |")
    print("|---|---:|---:|" + "---:|" * len(cs))
    for name, setup, e, includes in runs:
        if includes:
            continue
        n, actual = len(e), setup + sum(e)
        rest = sum(e[1:]) / (n - 1)
        errors = [(setup + e[0] + (n - 1) * c * e[0] - actual) / actual * 100 for c in cs]
        print(f"| {name} | {n} | {e[0] / rest:.2f} | " + " | ".join(pct(x) for x in errors) + " |")

    print("\nAfter epoch 2, epoch 1 left out: the error of set-up + epochs 1, 2 + (N-2) x epoch 2, and the chance that one epoch keeps the total within 5 %\n")
    print("| series | N | error | epoch 2 / mean 3..N | spread of epochs 2..N (CV) | deviation allowed for 5 % | P(one epoch within it) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    expected = 0.0
    for name, setup, e, _ in runs:
        n, actual = len(e), setup + sum(e)
        tail = e[1:]
        mean = sum(tail) / len(tail)
        sd = math.sqrt(sum((x - mean) ** 2 for x in tail) / (len(tail) - 1))
        cv = sd / mean
        error = (setup + e[0] + e[1] + (n - 2) * e[1] - actual) / actual * 100
        allowed = 0.05 * actual / ((n - 2) * mean)
        p = math.erf(allowed / cv / math.sqrt(2))
        expected += p
        later = sum(e[2:]) / (n - 2)
        print(f"| {name} | {n} | {pct(error)} | {e[1] / later:.2f} | {cv * 100:.1f} % | {allowed * 100:.1f} % | {p * 100:.0f} % |")
    print(f"\nExpected number within 5 % after epoch 2, from the runs' own spread: {expected:.1f} of {len(runs)}")


if __name__ == "__main__":
    main()
