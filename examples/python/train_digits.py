"""The demo: a small CNN learns scikit-learn's handwritten digits on the CPU with PyTorch, tracked
by epochwatt's drop-in for carbontracker's class.

The data: load_digits(), 1797 images of 8x8 pixels (16 grey levels), digits 0-9, shipped inside
scikit-learn (UCI ML hand-written digits; Alpaydin and Kaynak 1998). 80 % train, 20 % test, split
with a fixed seed. Apart from the import line, the tracking is carbontracker's own README example.

    python3 examples/python/train_digits.py --epochs 10 --log-dir logs
"""
import argparse
import time

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from epochwatt.carbontracker import CarbonTracker  # was: from carbontracker.tracker import CarbonTracker


def data(batch_size, workers):
    digits = load_digits()
    x = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0  # (1797, 1, 8, 8) in [0, 1]
    y = torch.tensor(digits.target, dtype=torch.long)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, random_state=0, stratify=y)
    train = DataLoader(TensorDataset(x_train, y_train), batch_size=batch_size, shuffle=True,
                       num_workers=workers, generator=torch.Generator().manual_seed(0))
    test = DataLoader(TensorDataset(x_test, y_test), batch_size=512)
    return train, test


def model():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # 64 x 4 x 4
        nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 128 x 2 x 2
        nn.Flatten(), nn.Linear(512, 128), nn.ReLU(), nn.Linear(128, 10))


def accuracy(net, loader):
    net.eval()
    right = total = 0
    with torch.no_grad():
        for x, y in loader:
            right += (net(x).argmax(1) == y).sum().item()
            total += len(y)
    net.train()
    return right / total


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--log-dir", default="logs")
    ap.add_argument("--workers", type=int, default=0, help="DataLoader worker processes")
    args = ap.parse_args()

    torch.manual_seed(0)
    torch.set_num_threads(1)  # small tensors: one thread is fastest and keeps the run steady
    train, test = data(batch_size=32, workers=args.workers)
    net = model()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()

    tracker = CarbonTracker(epochs=args.epochs, log_dir=args.log_dir)
    for epoch in range(args.epochs):
        tracker.epoch_start()
        started = time.monotonic()
        for x, y in train:
            opt.zero_grad()
            loss = loss_fn(net(x), y)
            loss.backward()
            opt.step()
        print(f"epoch {epoch + 1}/{args.epochs}: loss {loss.item():.4f}, test accuracy "
              f"{accuracy(net, test):.4f} ({time.monotonic() - started:.2f} s)", flush=True)
        tracker.epoch_end()
    tracker.stop()


if __name__ == "__main__":
    main()
