#!/usr/bin/env python3
"""Training curves of an nnlab experiment: train and test loss and accuracy per
epoch, the mean over seeds as a line and mean ± std as a band, one colour per
config point. The output format follows the file extension (.png, .pdf, .svg).

  plot_curves.py results/things-to-try/results.h5 -o curves.png
  plot_curves.py results.h5 -o relu.pdf --where model.activation=relu --where training.optimizer=sgd
  plot_curves.py results.h5 -o some.svg --config 0 --config 12
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nnlab_results as nr  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("results", help="results.h5 (or the output folder holding it)")
    p.add_argument("-o", "--output", required=True, help="image file: .png, .pdf or .svg")
    p.add_argument("--config", type=int, action="append", help="config point to show (repeatable)")
    p.add_argument("--where", action="append", metavar="KEY=VALUE", help="keep config points with this swept value")
    p.add_argument("--max-configs", type=int, default=10,
                   help="show at most this many config points, the best by mean final test accuracy (default 10)")
    args = p.parse_args()

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with nr.load(args.results) as res:
        entries = res.configs(nr.parse_where(args.where))
        if args.config:
            known = {e["config"]: e for e in entries}
            missing = [c for c in args.config if c not in known]
            if missing:
                ids = sorted(known)
                have = ("%d to %d" % (ids[0], ids[-1]) if ids == list(range(ids[0], ids[-1] + 1))
                        else ", ".join(map(str, ids)))
                raise nr.NnlabError("%s: no config point %s%s (there are %s)" % (
                    res.path, ", ".join(map(str, missing)), " matching --where" if args.where else "", have))
            entries = [known[c] for c in args.config]
        note = ""
        if len(entries) > args.max_configs:
            entries = sorted(entries, key=lambda e: -nr.np.nan_to_num(e["mean"]["final_test_acc"], nan=-1))
            entries = entries[:args.max_configs]
            note = " (best %d by final test accuracy)" % args.max_configs
        keys = nr.varying(entries)
        fig, axes = plt.subplots(2, 2, figsize=(11, 7.5), sharex=True)
        colours = plt.get_cmap("tab10" if len(entries) <= 10 else "tab20")
        plotted = set()
        for i, e in enumerate(entries):
            agg = res.aggregate(e["config"])
            for ax, curve in zip(axes.flat, nr.CURVES):
                mean, std = agg["mean"][curve], agg["std"][curve]
                if not nr.np.isnan(mean).all():
                    plotted.add(curve)
                x = nr.np.arange(len(mean))
                ax.plot(x, mean, color=colours(i), lw=1.6,
                        label="%s (n=%d)" % (nr.label(e, keys), e["n_seeds"]) if curve == "train_loss" else None)
                ax.fill_between(x, mean - std, mean + std, color=colours(i), alpha=0.18, lw=0)
        for ax, curve in zip(axes.flat, nr.CURVES):
            ax.set_title(curve.replace("_", " "))
            ax.grid(alpha=0.3)
            if curve not in plotted:  # runs with training.train_curves: false, or all diverged at once
                unevaluated = curve.startswith("train") and curve.replace("train", "test") in plotted
                ax.text(0.5, 0.5, "not evaluated (training.train_curves: false)" if unevaluated else "no values",
                        ha="center", va="center", transform=ax.transAxes, color="0.4")
                ax.set_yticks([])
            elif "loss" in curve:
                ax.set_yscale("log")
        for ax in axes[1]:
            ax.set_xlabel("epoch (0 = before training)")
        fig.suptitle("%s: mean ± std over seeds%s" % (res.name, note))
        fig.legend(loc="lower center", ncol=2, fontsize=8, frameon=False)
        fig.tight_layout(rect=(0, 0.04 + 0.022 * ((len(entries) + 1) // 2), 1, 0.97))
        written = nr.save_figure(fig, args.output)
    print("wrote %s" % written)


if __name__ == "__main__":
    nr.run_main(main)
