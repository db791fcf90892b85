"""One rank of the distributed tests (test_distributed.py): started by the test with torchrun's
variables (RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT,
TORCHELASTIC_RUN_ID), as torchrun would start it.

    distributed_job.py ddp  LOG_DIR JOB_JSON   the digits CNN with DistributedDataParallel on gloo
    distributed_job.py loop LOG_DIR JOB_JSON   epochs of sleep, no training collective (killed-rank test)
    distributed_job.py rank0only LOG_DIR JOB_JSON   epochs of sleep; only rank 0 builds a tracker
    distributed_job.py extra-epochs|extra-same|extra-named LOG_DIR JOB_JSON   epochs of sleep; rank 0
        first builds, runs and stops a throwaway tracker (its files in LOG_DIR-probe): of 1 epoch
        (extra-epochs), of the real run's 3 epochs (extra-same), or of 3 epochs with run_name="probe"
        while every rank's real tracker has run_name="train" (extra-named)

Tracked by the drop-in CarbonTracker with simulated meters; rank 0 writes the job's figures as
the reduction reported them to JOB_JSON.
"""
import json
import sys
import time

import torch
import torch.distributed as dist

from epochwatt.carbontracker import CarbonTracker

mode, log_dir, job_json = sys.argv[1], sys.argv[2], sys.argv[3]
dist.init_process_group("gloo")
rank = dist.get_rank()
epochs = {"ddp": 2, "loop": 8}.get(mode, 3)
SIM = dict(update_interval=0.1, sim_cpu="sim_cpu", sim_cpu_tdp=100, sim_gpu="sim_gpu", sim_gpu_watts=200)
# Short where a wait is expected to run out (a rank with no tracker, or not paired), longer where
# the records are expected, so that a loaded machine cannot make a paired rank look missing.
wait_s = {"ddp": 60, "loop": 5, "rank0only": 3, "extra-same": 3}.get(mode, 15)
names = dict(run_name="train") if mode == "extra-named" else {}
if mode.startswith("extra-") and rank == 0:
    probe = CarbonTracker(epochs=1 if mode == "extra-epochs" else epochs, log_dir=log_dir + "-probe", **SIM,
                          job_wait_s=3, **(dict(run_name="probe") if mode == "extra-named" else {}))
    probe.epoch_start()
    time.sleep(0.1)
    probe.epoch_end()
    probe.stop()
    print("rank 0: probe stopped", flush=True)
if mode != "rank0only" or rank == 0:
    tracker = CarbonTracker(epochs=epochs, log_dir=log_dir, **SIM, job_wait_s=wait_s, **names)
else:
    tracker = None

if mode == "ddp":
    from torch import nn
    from torch.nn.parallel import DistributedDataParallel
    from torch.utils.data import DataLoader, TensorDataset
    from torch.utils.data.distributed import DistributedSampler
    from sklearn.datasets import load_digits

    torch.manual_seed(0)
    torch.set_num_threads(1)
    digits = load_digits()
    x = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0
    y = torch.tensor(digits.target, dtype=torch.long)
    data = TensorDataset(x, y)
    sampler = DistributedSampler(data, shuffle=True, seed=0)
    loader = DataLoader(data, batch_size=64, sampler=sampler)
    net = DistributedDataParallel(nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(16 * 4 * 4, 64), nn.ReLU(), nn.Linear(64, 10)))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(epochs):
        sampler.set_epoch(epoch)
        tracker.epoch_start()
        for xb, yb in loader:
            opt.zero_grad()
            loss = loss_fn(net(xb), yb)
            loss.backward()
            opt.step()
        tracker.epoch_end()
        print(f"rank {rank}: epoch {epoch + 1}/{epochs} loss {loss.item():.4f}", flush=True)
else:
    for epoch in range(epochs):
        if tracker is not None:
            tracker.epoch_start()
        time.sleep(0.3)
        if tracker is not None:
            tracker.epoch_end()
        print(f"rank {rank}: epoch {epoch + 1}/{epochs}", flush=True)

if tracker is not None:
    tracker.stop()
job = tracker.tracker._job if tracker is not None else None
if rank == 0 and job is not None and job.actual is not None:
    consumption, ranks, nodes, world, missing, early = job.actual
    with open(job_json, "w") as f:
        json.dump({"energy_kwh": consumption[2], "epochs": consumption[0], "ranks": ranks, "nodes": nodes,
                   "world_size": world, "missing": missing}, f)
print(f"rank {rank}: done", flush=True)
if mode == "ddp":
    dist.destroy_process_group()
