#!/usr/bin/env python3
"""784-256-256-10 ReLU, Nesterov momentum 0.9, lr 0.01, batches of 128
reshuffled each epoch, on Fashion-MNIST (pixels scaled to [0, 1]) in PyTorch
with one thread: training samples per second over one epoch (the training
loop only, as nnlab's train_seconds). Prints one JSON line."""
import argparse
import gzip
import json
import time

import numpy as np
import torch


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--path", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--epochs", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(1)
    X = torch.tensor(idx(args.path + "/train-images-idx3-ubyte.gz").reshape(-1, 784), dtype=torch.float32) / 255
    Y = torch.tensor(idx(args.path + "/train-labels-idx1-ubyte.gz").astype(np.int64))
    net = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 256), torch.nn.ReLU(),
                              torch.nn.Linear(256, 10))
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, nesterov=True)
    loss_fn = torch.nn.CrossEntropyLoss()
    t0 = time.perf_counter()
    for epoch in range(args.epochs):
        order = torch.randperm(len(X))
        for s in range(0, len(X), 128):
            b = order[s:s + 128]
            opt.zero_grad()
            loss_fn(net(X[b]), Y[b]).backward()
            opt.step()
    seconds = time.perf_counter() - t0
    print(json.dumps({"impl": "pytorch", "samples_per_s": len(X) * args.epochs / seconds, "seconds": seconds}))


if __name__ == "__main__":
    main()
