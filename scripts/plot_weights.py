#!/usr/bin/env python3
"""First-layer weights of a run as image tiles, one per hidden unit: the
weights from the inputs to that unit laid out as the input image (8×8 for
the digits, 28×28 for Fashion-MNIST), red positive, blue negative. The run
defaults to the best run of the best config point, ranked as `nnlab summary`
ranks them (by validation accuracy when the experiment has a validation
split, else by test accuracy). The weights are those of the selected epoch
(best/, with validation) when the run has them, else those after its last
epoch; --final takes the last epoch's, --init the initial ones. The output
format follows the file extension.

  plot_weights.py results/seed-baseline/results.h5 -o weights.png
  plot_weights.py results.h5 -o init.png --run 3 --init --max-units 64
"""
import argparse
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nnlab_results as nr  # noqa: E402

# Tiles in one figure at most: beyond, each is a few pixels (and each takes a matplotlib Axes).
MAX_TILES = 1024


def choose(res, run=None, init=False, final=False):
    """(run id, which weights: "init", "best" or "final") to show."""
    if run is None:
        res.note_ranking()
        run = res.best_run()
    if init:
        return run, "init"
    if not final and res.has_weights(run, "best"):
        return run, "best"
    return run, "final"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("results", help="results.h5 (or the output folder holding it)")
    p.add_argument("-o", "--output", required=True, help="image file: .png, .pdf or .svg")
    p.add_argument("--run", type=int,
                   help="run id (default: the best run of the best config point, by the file's ranking metric)")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--init", action="store_true", help="the weights at initialisation")
    which.add_argument("--final", action="store_true",
                       help="the weights after the last epoch trained (weights/), not those of the selected epoch "
                            "(best/, which runs with validation have)")
    p.add_argument("--max-units", type=int, default=0,
                   help="show at most this many hidden units (default all, up to %d)" % MAX_TILES)
    args = p.parse_args()

    with nr.load(args.results) as res:
        run, which = choose(res, args.run, args.init, args.final)
        W, _ = res.weights(run, which)[0]
        n_in, units = W.shape
        side = int(round(math.sqrt(n_in)))
        if side * side != n_in:
            raise nr.NnlabError("%s: %d inputs are not a square image" % (res.path, n_in))
        if args.max_units > 0:
            units = min(units, args.max_units)
        units = min(units, MAX_TILES)  # the title says how many of how many
        cols = int(math.ceil(math.sqrt(units)))
        rows = int(math.ceil(units / cols))
        when = {"init": "initial", "final": "final", "best": "selected"}[which]
        epoch = None if which == "init" else res.run_attr(run, "best_epoch" if which == "best" else "epochs_done")
        if epoch is not None:
            when += " (epoch %d)" % epoch
        seed = res.run_attr(run, "seed")
        import matplotlib  # after the input is checked: bad input fails fast
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, axes = plt.subplots(rows, cols, figsize=(max(1.0 + 0.62 * cols, 3.8), 1.4 + 0.62 * rows), squeeze=False)
        for k, ax in enumerate(axes.flat):
            ax.set_axis_off()
            if k >= units:
                continue
            tile = W[:, k].reshape(side, side).astype(float)
            v = float(nr.np.nanmax(nr.np.abs(tile))) if nr.np.isfinite(tile).any() else 1.0  # diverged: NaN
            v = v if math.isfinite(v) and v > 0 else 1.0
            ax.imshow(tile, cmap="RdBu_r", vmin=-v, vmax=v, interpolation="nearest")
        seed = "" if seed is None else " (seed %d)" % seed
        fig.suptitle("%s run %d%s:\n%s first-layer weights, %d of %d units"
                     % (res.name, run, seed, when, units, W.shape[1]), fontsize=9)
        fig.tight_layout(pad=0.3, rect=(0, 0, 1, 1 - 0.4 / fig.get_figheight()))  # 0.4 inch: two lines of title
        written = nr.save_figure(fig, args.output)
    print("wrote %s" % written)


if __name__ == "__main__":
    nr.run_main(main)
