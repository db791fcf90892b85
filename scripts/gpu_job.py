#!/usr/bin/env python3
"""A short GPU job in epochs, for scripts/gpu_check.sh: each epoch runs a matrix-multiply load on
CUDA with pauses, and at each epoch boundary reads NVML's energy counter
(nvmlDeviceGetTotalEnergyConsumption, mJ since the driver loaded, summed over every GPU NVML lists,
which is what epochwatt measures by default) immediately before printing the epoch line:

    gpu_job start nvml_mj=<mJ> t=<unix s>
    gpu_job epoch <k> end nvml_mj=<mJ> t=<unix s> load=<what ran>

Run it under `epochwatt --epochs N --epoch-regex '^gpu_job epoch [0-9]+ end' -- python3 -u
scripts/gpu_job.py --epochs N`; scripts/gpu_compare.py then compares epochwatt's per-epoch GPU
energy with the counter differences printed here.

The start line is printed before torch is imported, so the CUDA start-up belongs to epoch 1 in
both accounts. The epochs vary the load: bf16 and fp32 products, a 50 % duty cycle, pauses at
either end, and one epoch that ends under full load (where a boundary read a few ms late costs the
most).

Needs torch with CUDA and nvidia-ml-py (pynvml). Exit status 3, with a one-line message, when
either is missing or no GPU is visible.
"""
import argparse
import sys
import time

# (name, steps): each step is ("busy", dtype, seconds), ("duty", dtype, seconds) or ("pause", s).
PLAN = [
    ("bf16 4s, pause 2s", [("busy", "bf16", 4.0), ("pause", 2.0)]),
    ("fp32 3s, pause 1s", [("busy", "fp32", 3.0), ("pause", 1.0)]),
    ("bf16 50% duty 4s, pause 1s", [("duty", "bf16", 4.0), ("pause", 1.0)]),
    ("bf16 3s, ends under load", [("busy", "bf16", 3.0)]),
    ("pause 1s, fp32 3s, pause 2s", [("pause", 1.0), ("busy", "fp32", 3.0), ("pause", 2.0)]),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--epochs", type=int, default=len(PLAN), help="epochs to run (the plan repeats)")
    ap.add_argument("--size", type=int, default=8192, help="matrix size n of the n x n products")
    args = ap.parse_args()

    try:
        import pynvml
    except ImportError as e:
        print(f"gpu_job: nvidia-ml-py (pynvml) is not installed: {e}", file=sys.stderr)
        return 3
    try:
        pynvml.nvmlInit()
        handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(pynvml.nvmlDeviceGetCount())]
    except pynvml.NVMLError as e:
        print(f"gpu_job: NVML cannot be used: {e}", file=sys.stderr)
        return 3
    if not handles:
        print("gpu_job: NVML lists no GPU", file=sys.stderr)
        return 3

    def counter_mj():
        return sum(pynvml.nvmlDeviceGetTotalEnergyConsumption(h) for h in handles)

    print(f"gpu_job start nvml_mj={counter_mj()} t={time.time():.3f}", flush=True)

    try:
        import torch
    except ImportError as e:
        print(f"gpu_job: torch is not installed: {e}", file=sys.stderr)
        return 3
    if not torch.cuda.is_available():
        print("gpu_job: torch sees no CUDA device", file=sys.stderr)
        return 3

    dev = torch.device("cuda")
    n = args.size
    mats = {}
    for name, dtype in (("bf16", torch.bfloat16), ("fp32", torch.float32)):
        a = torch.randn(n, n, device=dev, dtype=dtype)
        b = torch.randn(n, n, device=dev, dtype=dtype)
        mats[name] = (a, b, torch.empty(n, n, device=dev, dtype=dtype))
    torch.backends.cuda.matmul.allow_tf32 = False  # fp32 stays fp32: a different, lower load
    # Products queued between two synchronisations: about 15 to 45 ms of work, so that a step ends
    # close to its planned time.
    batch = {"bf16": 10, "fp32": 2}

    def busy(kind, seconds, duty=1.0):
        a, b, c = mats[kind]
        end = time.monotonic() + seconds
        products = 0
        while time.monotonic() < end:
            t0 = time.monotonic()
            for _ in range(batch[kind]):
                torch.matmul(a, b, out=c)
            torch.cuda.synchronize()
            products += batch[kind]
            if duty < 1.0:
                time.sleep((time.monotonic() - t0) * (1.0 - duty) / duty)
        return products

    for epoch in range(1, args.epochs + 1):
        name, steps = PLAN[(epoch - 1) % len(PLAN)]
        flops = 0.0
        for step in steps:
            if step[0] == "pause":
                time.sleep(step[1])
            else:
                flops += 2.0 * n**3 * busy(step[1], step[2], 0.5 if step[0] == "duty" else 1.0)
        torch.cuda.synchronize()
        # The boundary: read the counter, then print at once.
        mj = counter_mj()
        print(f"gpu_job epoch {epoch} end nvml_mj={mj} t={time.time():.3f} load={name}"
              f" tflop={flops / 1e12:.1f}", flush=True)

    pynvml.nvmlShutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
