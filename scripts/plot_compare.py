#!/usr/bin/env python3
"""Is a difference real? Final test accuracy (or another metric) of every
config point: one dot per seed, the mean, and its 95% confidence interval
(Student's t over the seeds). Config points are ranked best first. The
output format follows the file extension.

  plot_compare.py results/things-to-try/results.h5 -o compare.png --top 15
  plot_compare.py results.h5 -o dropout.pdf --where model.activation=relu
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nnlab_results as nr  # noqa: E402

# Student's t, 97.5% quantile, for 1..30 degrees of freedom (then the normal's 1.96).
T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
        2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
        2.045, 2.042]


def ci95(std, n):
    if n < 2:
        return nr.np.nan
    t = T975[n - 2] if n - 1 <= len(T975) else 1.96
    return t * std / n ** 0.5


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("results", help="results.h5 (or the output folder holding it)")
    p.add_argument("-o", "--output", required=True, help="image file: .png, .pdf or .svg")
    p.add_argument("--metric", default="final_test_acc", choices=nr.METRICS)
    p.add_argument("--where", action="append", metavar="KEY=VALUE", help="keep config points with this swept value")
    p.add_argument("--top", type=int, default=0, help="only the best N config points")
    args = p.parse_args()

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with nr.load(args.results) as res:
        entries = res.configs(nr.parse_where(args.where))
        res.require_values(args.metric, nr.np.concatenate([e["runs"] for e in entries]))
        sign = -1 if "acc" in args.metric else 1
        entries.sort(key=lambda e: (nr.np.isnan(e["mean"][args.metric]), sign * e["mean"][args.metric]))
        if args.top > 0:
            entries = entries[:args.top]
        fig, ax = plt.subplots(figsize=(9, 1.2 + 0.32 * len(entries)))
        rng = nr.np.random.default_rng(0)
        for i, e in enumerate(entries):
            y = len(entries) - 1 - i
            vals = res.summary[args.metric][e["runs"]]
            ax.scatter(vals, y + rng.uniform(-0.15, 0.15, len(vals)), s=12, color="0.45", zorder=2)
            m, half = e["mean"][args.metric], ci95(e["std"][args.metric], e["n_seeds"])
            ax.errorbar([m], [y], xerr=[[half], [half]] if nr.np.isfinite(half) else None, fmt="o",
                        color="tab:red", capsize=3, zorder=3)
        keys = nr.varying(entries)
        ax.set_yticks(range(len(entries)), [nr.label(e, keys) for e in reversed(entries)], fontsize=7)
        ax.set_xlabel("%s (dots: seeds; red: mean and 95%% CI)" % args.metric.replace("_", " "))
        ax.grid(axis="x", alpha=0.3)
        ax.set_ylim(-0.6, len(entries) - 0.4)
        ax.set_title("%s: %d config points" % (res.name, len(entries)), fontsize=10)
        fig.tight_layout()
        written = nr.save_figure(fig, args.output)
    print("wrote %s" % written)


if __name__ == "__main__":
    nr.run_main(main)
