#!/usr/bin/env python3
"""The tutorial's network in PyTorch, one thread, for the benchmark: 64-200-10
sigmoid/softmax, W ~ N(0,1)/sqrt(fan_in), biases 0, per-example SGD (lr 0.01)
for 10 epochs on the digits (raw pixels, 80/20 split), test accuracy after
every epoch. Prints one JSON line per run."""
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tutorial_numpy import bench_args, split_digits  # noqa: E402


def main():
    args = bench_args(__doc__)
    torch.set_num_threads(1)
    X, Y, train, test = split_digits()
    Xtr, Ytr = torch.tensor(X[train], dtype=torch.float32), torch.tensor(Y[train])
    Xte, Yte = torch.tensor(X[test], dtype=torch.float32), torch.tensor(Y[test])
    for r in range(args.runs):
        t0 = time.perf_counter()
        torch.manual_seed(args.seed + r)
        net = torch.nn.Sequential(torch.nn.Linear(64, 200), torch.nn.Sigmoid(), torch.nn.Linear(200, 10))
        with torch.no_grad():
            for layer in (net[0], net[2]):
                layer.weight.normal_(0, 1 / layer.in_features ** 0.5)
                layer.bias.zero_()
        opt = torch.optim.SGD(net.parameters(), lr=0.01)
        loss_fn = torch.nn.CrossEntropyLoss()
        for epoch in range(10):
            for i in range(len(Xtr)):
                opt.zero_grad()
                loss_fn(net(Xtr[i:i + 1]), Ytr[i:i + 1]).backward()
                opt.step()
            with torch.no_grad():
                acc = (net(Xte).argmax(1) == Yte).float().mean().item()
        print(json.dumps({"impl": "pytorch", "seconds": time.perf_counter() - t0, "test_acc": acc}), flush=True)


if __name__ == "__main__":
    main()
