#!/usr/bin/env python3
"""Training curves of an nnlab experiment: train, validation (when the
experiment has a validation split) and test loss and accuracy per epoch,
the mean over runs as a line and mean ± std as a band, one colour per config
point. Curves end where runs stopped (early stopping, divergence). The
output format follows the file extension (.png, .pdf, .svg).

  plot_curves.py results/things-to-try/results.h5 -o curves.png
  plot_curves.py results.h5 -o relu.pdf --where model.activation=relu --where training.optimizer=sgd
  plot_curves.py results.h5 -o some.svg --config 0 --config 12
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nnlab_results as nr  # noqa: E402

# Config points in one figure at most: their legend takes a line per two.
MAX_CONFIGS = 60


def select(res, entries, max_configs, metric):
    """The config points to draw (entries best first, as configs() gives
    them): all of them, in config order, or the best max_configs. Returns
    (entries, note for the title)."""
    if len(entries) <= max_configs:
        return sorted(entries, key=lambda e: e["config"]), ""
    res.note_ranking(metric)
    return entries[:max_configs], " (best %d by mean %s)" % (max_configs, metric)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("results", help="results.h5 (or the output folder holding it)")
    p.add_argument("-o", "--output", required=True, help="image file: .png, .pdf or .svg")
    p.add_argument("--config", type=int, action="append", help="config point to show (repeatable)")
    p.add_argument("--where", action="append", metavar="KEY=VALUE", help="keep config points with this swept value")
    p.add_argument("--max-configs", type=int, default=10,
                   help="show at most this many config points, the best by the mean of --metric (default 10)")
    p.add_argument("--metric", choices=nr.METRICS,
                   help="what --max-configs ranks by (default: the file's ranking metric: val_acc with validation, "
                        "else test_acc; final_test_acc in format 1 files)")
    args = p.parse_args()

    with nr.load(args.results) as res:
        metric = res.check_metric(args.metric or res.rank_metric)
        entries = res.configs(nr.parse_where(args.where), metric)
        if args.config:
            known = {e["config"]: e for e in entries}
            missing = [c for c in args.config if c not in known]
            if missing:
                ids = sorted(known)  # distinct: one entry per config point
                have = ("%d to %d" % (ids[0], ids[-1]) if ids[-1] - ids[0] + 1 == len(ids)
                        else ", ".join(map(str, ids[:20])) + (", ..." if len(ids) > 20 else ""))
                raise nr.NnlabError("%s: no config point %s%s (there are %s)" % (
                    res.path, ", ".join(map(str, missing)), " matching --where" if args.where else "", have))
            entries = [known[c] for c in args.config]
        entries, note = select(res, entries, max(args.max_configs, 1), metric)
        if len(entries) > MAX_CONFIGS:  # the legend takes the figure's height
            raise nr.NnlabError("%s: %d config points are too many for one figure (at most %d); use --max-configs, "
                                "--config or --where" % (res.path, len(entries), MAX_CONFIGS))
        keys = nr.varying(entries)
        aggregates = [res.aggregate(e["config"]) for e in entries]
        import matplotlib  # after the input is checked: bad input fails fast
        matplotlib.use("Agg")
        import matplotlib.lines
        import matplotlib.pyplot as plt
        # columns train, (validation,) test; rows loss, accuracy
        parts = ["train"] + (["val"] if res.validation != "none" else []) + ["test"]
        grid = [["%s_%s" % (part, what) for part in parts] for what in ("loss", "acc")]
        fig, axes = plt.subplots(2, len(parts), figsize=(5.5 * len(parts), 7.5), sharex=True, squeeze=False)
        colours = plt.get_cmap("tab10" if len(entries) <= 10 else "tab20")
        plotted, handles = set(), []
        for i, (e, agg) in enumerate(zip(entries, aggregates)):
            handles.append(matplotlib.lines.Line2D([], [], color=colours(i), lw=1.6,
                                                   label="%s (n=%d)" % (nr.label(e, keys), e["n_runs"])))
            for ax, curve in zip(axes.flat, sum(grid, [])):
                if curve not in agg["mean"]:
                    continue
                mean, std = agg["mean"][curve], agg["std"][curve]
                if not nr.np.isfinite(mean).any():  # NaN after a run stopped; all NaN: nothing to draw
                    continue
                plotted.add(curve)
                x = nr.np.arange(len(mean))
                ax.plot(x, mean, color=colours(i), lw=1.6)
                ax.fill_between(x, mean - std, mean + std, color=colours(i), alpha=0.18, lw=0)
        names = {"train": "train", "val": "validation", "test": "test"}
        for ax, curve in zip(axes.flat, sum(grid, [])):
            part, what = curve.split("_")
            ax.set_title("%s %s" % (names[part], what))
            ax.grid(alpha=0.3)
            if curve not in plotted:  # runs with training.train_curves: false, or all diverged at once
                unevaluated = part == "train" and "test_" + what in plotted
                ax.text(0.5, 0.5, "not evaluated (training.train_curves: false)" if unevaluated else "no values",
                        ha="center", va="center", transform=ax.transAxes, color="0.4")
                ax.set_yticks([])
            elif what == "loss":
                ax.set_yscale("log")
        for ax in axes[1]:
            ax.set_xlabel("epoch (0 = before training)")
        over = "runs (seeds × folds)" if res.validation == "folds" else "seeds"
        fig.suptitle("%s: mean ± std over %s%s" % (res.name, over, note))
        fig.legend(handles=handles, loc="lower center", ncol=2, fontsize=8, frameon=False)
        fig.tight_layout(rect=(0, 0.04 + 0.022 * ((len(entries) + 1) // 2), 1, 0.97))
        written = nr.save_figure(fig, args.output)
    print("wrote %s" % written)


if __name__ == "__main__":
    nr.run_main(main)
