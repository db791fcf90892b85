"""The digits demo's training as a plain script without epochwatt, to be wrapped by the CLI: the
data, model, optimizer and seeds of examples/python/train_digits.py (copied, since that example
imports epochwatt), 10 epochs on the CPU. It prints `start epoch N` before and `epoch N loss ...`
after each epoch, flushed, for `--epoch-start-regex '^start epoch '` and `--epoch-regex '^epoch '`.

    epochwatt --epochs 10 --epoch-regex '^epoch ' -- /usr/bin/python3 -u bench/prediction/digits_plain.py
"""
import argparse

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split


def data(batch_size):  # as train_digits.data(batch_size, workers=0)
    digits = load_digits()
    x = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0
    y = torch.tensor(digits.target, dtype=torch.long)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, random_state=0, stratify=y)
    train = DataLoader(TensorDataset(x_train, y_train), batch_size=batch_size, shuffle=True,
                       num_workers=0, generator=torch.Generator().manual_seed(0))
    test = DataLoader(TensorDataset(x_test, y_test), batch_size=512)
    return train, test


def model():  # as train_digits.model()
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
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
    args = ap.parse_args()

    torch.manual_seed(0)
    torch.set_num_threads(1)  # as the example: small tensors, one thread is fastest and steadiest
    train, test = data(batch_size=32)
    net = model()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(1, args.epochs + 1):
        print(f"start epoch {epoch}", flush=True)
        for x, y in train:
            opt.zero_grad()
            loss = loss_fn(net(x), y)
            loss.backward()
            opt.step()
        print(f"epoch {epoch} loss {loss.item():.4f} test accuracy {accuracy(net, test):.4f}", flush=True)


if __name__ == "__main__":
    main()
