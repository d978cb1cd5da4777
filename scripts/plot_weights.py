#!/usr/bin/env python3
"""First-layer weights of a run as image tiles, one per hidden unit: the
weights from the inputs to that unit laid out as the input image (8×8 for
the digits, 28×28 for Fashion-MNIST), red positive, blue negative. The run
defaults to the best run of the best config point, ranked as `nnlab summary`
ranks them (by validation accuracy when the experiment has a validation
split, else by test accuracy). The weights are those of the selected epoch
(best/, with validation) when the run has them, else those after its last
epoch; --final takes the last epoch's, --init the initial ones. Data that is not a square image (30
measurements, say) is drawn as one heatmap, features × units, the
features named when the experiment's CSV file (dataset.path, with
dataset.header) is still there to name them. With several results files
the run ids are load_many's (the best run is the best of them all). The
output format follows the file extension.

  plot_weights.py results/seed-baseline/results.h5 -o weights.png
  plot_weights.py results.h5 -o init.png --run 3 --init --max-units 64
  plot_weights.py results/examples-breast-cancer -o weights.pdf --style paper
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
    nr.add_inputs(p)
    p.add_argument("--run", type=int,
                   help="run id (default: the best run of the best config point, by the file's ranking metric)")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--init", action="store_true", help="the weights at initialisation")
    which.add_argument("--final", action="store_true",
                       help="the weights after the last epoch trained (weights/), not those of the selected epoch "
                            "(best/, which runs with validation have)")
    p.add_argument("--max-units", type=int, default=0,
                   help="show at most this many hidden units (default all, up to %d)" % MAX_TILES)
    p.add_argument("--heatmap", action="store_true", help="one heatmap, features × units, even for square images")
    args = p.parse_args()

    with nr.load_many(args.results) as res:
        run, which = choose(res, args.run, args.init, args.final)
        W, _ = res.weights(run, which)[0]
        n_in, units = W.shape
        side = int(round(math.sqrt(n_in)))
        image = side * side == n_in and not args.heatmap
        if args.max_units > 0:
            units = min(units, args.max_units)
        units = min(units, MAX_TILES)  # the title says how many of how many
        when = {"init": "initial", "final": "final", "best": "selected"}[which]
        epoch = None if which == "init" else res.run_attr(run, "best_epoch" if which == "best" else "epochs_done")
        if epoch is not None:
            when += " (epoch %d)" % epoch
        seed = res.run_attr(run, "seed")
        seed = "" if seed is None else " (seed %d)" % seed
        title = "run %d%s: %s first-layer weights, %d of %d units\n%s" % (
            run, seed, when, units, W.shape[1], nr.provenance(res))
        plt = nr.pyplot(args.style)  # after the input is checked: bad input fails fast
        if image:
            fig = tiles(plt, W, side, units, args.style)
        else:
            fig = heatmap(plt, W[:, :units], feature_names(res, run, n_in), args.style)
        fig.suptitle(nr.wrap(title, args.style, fig.get_figwidth()), fontsize=None if args.style == "paper" else 9)
        written = nr.save_styled(fig, args.output, args.style)
    print("wrote %s" % written)


def tiles(plt, W, side, units, style):
    """One image tile per hidden unit, each on its own symmetric colour scale."""
    cols = int(math.ceil(math.sqrt(units)))
    rows = int(math.ceil(units / cols))
    size = (max(1.0 + 0.62 * cols, 3.8), 1.4 + 0.62 * rows)
    if style == "paper":
        size = (nr.PAPER_WIDTH, 0.6 + nr.PAPER_WIDTH * rows / cols)
    fig, axes = plt.subplots(rows, cols, figsize=size, squeeze=False)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=1 - 0.55 / size[1], wspace=0.1, hspace=0.1)
    for k, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if k >= units:
            continue
        tile = W[:, k].reshape(side, side).astype(float)
        v = float(nr.np.nanmax(nr.np.abs(tile))) if nr.np.isfinite(tile).any() else 1.0  # diverged: NaN
        v = v if math.isfinite(v) and v > 0 else 1.0
        ax.imshow(tile, cmap="RdBu_r", vmin=-v, vmax=v, interpolation="nearest")
    return fig


def heatmap(plt, W, names, style):
    """W (features, units) as one heatmap, rows the features (named when
    names is given), on one symmetric colour scale."""
    n_in, units = W.shape
    paper = style == "paper"
    row = 0.11 if paper else 0.16
    size = (nr.PAPER_WIDTH if paper else min(2.5 + 0.12 * units, 14), 1.2 + row * n_in)
    fig, ax = plt.subplots(figsize=size, layout="constrained")
    finite = W[nr.np.isfinite(W)]
    v = float(nr.np.abs(finite).max()) if finite.size else 1.0
    im = ax.imshow(W.astype(float), cmap="RdBu_r", vmin=-(v or 1.0), vmax=v or 1.0, aspect="auto",
                   interpolation="nearest")
    ax.set_yticks(range(n_in), names if names else [str(i) for i in range(n_in)], fontsize=None if paper else 7)
    ax.set_ylabel("input feature" if names else "input feature (column)")
    ax.set_xlabel("hidden unit")
    fig.colorbar(im, ax=ax, shrink=0.6, label="weight")
    return fig


def feature_names(res, run, n_in):
    """The CSV header's feature names of the run's data (dataset.source csv,
    dataset.header true, dataset.path still readable, label_column taken
    out), or None."""
    text = lambda key: res.run_attr(run, key, "text")  # noqa: E731
    try:
        if text("dataset.source") != "csv":
            return None
        path = text("dataset.path")
        header = res.run_attr(run, "dataset.header", "int")
        label = res.run_attr(run, "dataset.label_column", "int")
    except nr.NnlabError:
        return None
    if not path or not header:
        return None
    import gzip
    try:
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rt") as f:
            names = [t.strip().strip('"') for t in f.readline().rstrip("\n").split(",")]
    except (OSError, UnicodeDecodeError):
        return None
    if len(names) != n_in + 1:
        return None
    del names[label if label is not None else -1]
    return names


if __name__ == "__main__":
    nr.run_main(main)
