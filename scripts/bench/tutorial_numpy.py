#!/usr/bin/env python3
"""A faithful Python 3 port of the tutorial's numpy network, for the benchmark:
64-200-10, sigmoid hidden layer, softmax output, W ~ N(0, 1)/sqrt(fan_in)
stored [fan_in][fan_out], biases 0, per-example SGD (lr 0.01) for 10 epochs on
the digits (raw pixels 0..16, 80/20 split), test accuracy after every epoch.

  tutorial_numpy.py [--runs N] [--seed S]   prints one JSON line per run
"""
import argparse
import gzip
import json
import os
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DIGITS = os.path.join(HERE, "..", "..", "data", "digits.csv.gz")


def load_digits():
    with gzip.open(DIGITS, "rt") as f:
        rows = np.loadtxt(f, delimiter=",")
    return rows[:, :64], rows[:, 64].astype(int)


def split_digits():
    """The digits and their 80/20 split (test rows first in a seeded permutation)."""
    X, Y = load_digits()
    split = np.random.default_rng(0).permutation(len(X))
    return X, Y, split[360:], split[:360]


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


class Network:
    def __init__(self, sizes, rng):
        self.W = [rng.standard_normal((m, n)) / np.sqrt(m) for m, n in zip(sizes[:-1], sizes[1:])]
        self.b = [np.zeros(n) for n in sizes[1:]]

    def forward(self, x):
        a1 = sigmoid(x @ self.W[0] + self.b[0])
        return a1, softmax(a1 @ self.W[1] + self.b[1])

    def train_example(self, x, y, lr):
        a1, p = self.forward(x)
        dz2 = p.copy()
        dz2[y] -= 1.0                                    # softmax + cross-entropy
        dz1 = (self.W[1] @ dz2) * a1 * (1.0 - a1)        # before W[1] changes
        self.W[1] -= lr * np.outer(a1, dz2)
        self.b[1] -= lr * dz2
        self.W[0] -= lr * np.outer(x, dz1)
        self.b[0] -= lr * dz1

    def accuracy(self, X, Y):
        return np.mean([np.argmax(self.forward(x)[1]) == y for x, y in zip(X, Y)])


def bench_args(doc):
    """The command line shared by the tutorial ports: --runs N (run r uses seed S + r) and --seed S."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    return ap.parse_args()


def main():
    args = bench_args(__doc__)
    X, Y, train, test = split_digits()
    for r in range(args.runs):
        t0 = time.perf_counter()
        net = Network([64, 200, 10], np.random.default_rng(args.seed + r))
        for epoch in range(10):
            for i in train:
                net.train_example(X[i], Y[i], 0.01)
            acc = net.accuracy(X[test], Y[test])
        print(json.dumps({"impl": "numpy", "seconds": time.perf_counter() - t0, "test_acc": float(acc)}), flush=True)


if __name__ == "__main__":
    main()
