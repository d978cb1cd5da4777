#!/usr/bin/env python3
"""The tutorial's network with scikit-learn's MLPClassifier, for the
benchmark: hidden (200,), logistic, solver sgd, batch_size 1, lr 0.01, no
momentum, no L2, 10 epochs, no shuffling, on the digits (raw pixels, 80/20
split). Prints one JSON line per run."""
import json
import os
import sys
import time
import warnings

from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tutorial_numpy import bench_args, split_digits  # noqa: E402


def main():
    args = bench_args(__doc__)
    X, Y, train, test = split_digits()
    for r in range(args.runs):
        t0 = time.perf_counter()
        clf = MLPClassifier(hidden_layer_sizes=(200,), activation="logistic", solver="sgd", batch_size=1,
                            learning_rate_init=0.01, momentum=0.0, nesterovs_momentum=False, alpha=0.0,
                            max_iter=10, shuffle=False, tol=0.0, n_iter_no_change=1000, random_state=args.seed + r)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X[train], Y[train])
        acc = clf.score(X[test], Y[test])
        print(json.dumps({"impl": "sklearn", "seconds": time.perf_counter() - t0, "test_acc": acc}), flush=True)


if __name__ == "__main__":
    main()
