#!/usr/bin/env python3
"""First-layer weights of a run as image tiles, one per hidden unit: the
weights from the inputs to that unit laid out as the input image (8×8 for
the digits, 28×28 for Fashion-MNIST), red positive, blue negative. The run
defaults to the one with the best final test accuracy. The output format
follows the file extension.

  plot_weights.py results/seed-baseline/results.h5 -o weights.png
  plot_weights.py results.h5 -o init.png --run 3 --init --max-units 64
"""
import argparse
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nnlab_results as nr  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("results", help="results.h5 (or the output folder holding it)")
    p.add_argument("-o", "--output", required=True, help="image file: .png, .pdf or .svg")
    p.add_argument("--run", type=int, help="run id (default: the best final test accuracy)")
    p.add_argument("--init", action="store_true", help="the weights at initialisation instead of the final ones")
    p.add_argument("--max-units", type=int, default=0, help="show at most this many hidden units (default all)")
    args = p.parse_args()

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with nr.load(args.results) as res:
        if args.run is None:
            acc = nr.np.nan_to_num(res.summary["final_test_acc"], nan=-1)
            args.run = int(res.summary["run"][int(nr.np.argmax(acc))])
        W, _ = res.weights(args.run, init=args.init)[0]
        n_in, units = W.shape
        side = int(round(math.sqrt(n_in)))
        if side * side != n_in:
            raise nr.NnlabError("%s: %d inputs are not a square image" % (res.path, n_in))
        if args.max_units > 0:
            units = min(units, args.max_units)
        cols = int(math.ceil(math.sqrt(units)))
        rows = int(math.ceil(units / cols))
        fig, axes = plt.subplots(rows, cols, figsize=(1.0 + 0.62 * cols, 1.2 + 0.62 * rows), squeeze=False)
        for k, ax in enumerate(axes.flat):
            ax.set_axis_off()
            if k >= units:
                continue
            tile = W[:, k].reshape(side, side)
            v = float(abs(tile).max()) or 1.0
            ax.imshow(tile, cmap="RdBu_r", vmin=-v, vmax=v, interpolation="nearest")
        attrs = res.run_group(args.run).attrs
        fig.suptitle("%s run %d (seed %d): %s first-layer weights, %d of %d units"
                     % (res.name, args.run, attrs["seed"], "initial" if args.init else "final", units, W.shape[1]),
                     fontsize=9)
        fig.tight_layout(pad=0.3, rect=(0, 0, 1, 0.96))
        written = nr.save_figure(fig, args.output)
    print("wrote %s" % written)


if __name__ == "__main__":
    nr.run_main(main)
