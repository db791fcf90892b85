#!/usr/bin/python3
"""Epoch series of the shared H100 trace (tests/data/h100-cnn-training*.csv) for the prediction
benchmark: each epoch's GPU energy is the counter difference between its bounds, each bound
interpolated linearly between the trace's samples (the reference of bench/bench_nvml_sampling);
the set-up is the trace's start to epoch 1's start.

    /usr/bin/python3 bench/prediction/record_h100.py > bench/prediction/series/h100-cnn.csv
"""
import bisect
import csv
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TRACE = os.path.join(ROOT, "tests", "data", "h100-cnn-training.csv")
EPOCHS = os.path.join(ROOT, "tests", "data", "h100-cnn-training.epochs.csv")


def main():
    with open(TRACE) as f:
        rows = [(float(r["t_s"]), float(r["energy_mj"])) for r in csv.DictReader(f)]
    times = [t for t, _ in rows]

    def energy_j(t):  # counter (mJ -> J) at time t, linear between the samples around it
        i = bisect.bisect_right(times, t)
        if i == 0:
            return rows[0][1] / 1000.0
        if i == len(rows):
            return rows[-1][1] / 1000.0
        (t0, e0), (t1, e1) = rows[i - 1], rows[i]
        return (e0 + (e1 - e0) * (t - t0) / (t1 - t0)) / 1000.0

    with open(EPOCHS) as f:
        epochs = [(int(r["epoch"]), float(r["start_s"]), float(r["end_s"])) for r in csv.DictReader(f)]

    out = sys.stdout
    out.write("# name: H100, small PyTorch CNN (6 epochs of about 3.5, 4.5 and 5.6 s, twice), GPU only\n")
    out.write("# source: tests/data/h100-cnn-training.csv + .epochs.csv (copied from shared/traces; NVIDIA H100 80GB HBM3,"
              " driver 580.159.04, NVML polled every ~15 ms; see tests/data/README.md). Converted by"
              " `/usr/bin/python3 bench/prediction/record_h100.py`: epoch energy = nvmlDeviceGetTotalEnergyConsumption"
              " difference between the epoch bounds (linear between samples); set-up = trace start (t 0) to epoch 1's"
              " start. The 1 s idle gaps between epochs and the trace after epoch 6 are in no epoch.\n")
    out.write("# first_epoch_includes_setup: 0\n")
    out.write("kind,index,seconds,joules\n")
    first_start = epochs[0][1]
    out.write(f"setup,0,{first_start:.4f},{energy_j(first_start) - energy_j(times[0]):.3f}\n")
    for n, start, end in epochs:
        out.write(f"epoch,{n},{end - start:.4f},{energy_j(end) - energy_j(start):.3f}\n")


if __name__ == "__main__":
    main()
