"""One rank of the distributed tests (test_distributed.py): started by the test with torchrun's
variables (RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT,
TORCHELASTIC_RUN_ID), as torchrun would start it.

    distributed_job.py ddp  LOG_DIR JOB_JSON   the digits CNN with DistributedDataParallel on gloo
    distributed_job.py loop LOG_DIR JOB_JSON   epochs of sleep, no training collective (killed-rank test)

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
epochs = 2 if mode == "ddp" else 8
tracker = CarbonTracker(epochs=epochs, log_dir=log_dir, update_interval=0.1, sim_cpu="sim_cpu", sim_cpu_tdp=100,
                        sim_gpu="sim_gpu", sim_gpu_watts=200, job_wait_s=5 if mode == "loop" else 60)

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
        tracker.epoch_start()
        time.sleep(0.3)
        tracker.epoch_end()
        print(f"rank {rank}: epoch {epoch + 1}/{epochs}", flush=True)

tracker.stop()
job = tracker.tracker._job
if rank == 0 and job is not None and job.actual is not None:
    consumption, ranks, nodes, world, missing, early = job.actual
    with open(job_json, "w") as f:
        json.dump({"energy_kwh": consumption[2], "epochs": consumption[0], "ranks": ranks, "nodes": nodes,
                   "world_size": world, "missing": missing}, f)
print(f"rank {rank}: done", flush=True)
if mode == "ddp":
    dist.destroy_process_group()
