#!/usr/bin/env python3
"""Is a difference real? A metric of every config point (default: the one
it is ranked by, validation accuracy when the experiment has a validation
split, else test accuracy): one dot per run (seeds x folds), the mean, and
its 95% confidence interval (Student's t over the runs with a value).
Config points are ranked best first, as `nnlab summary` ranks them. The
output format follows the file extension.

  plot_compare.py results/things-to-try/results.h5 -o compare.png --top 15
  plot_compare.py results.h5 -o dropout.pdf --where model.activation=relu
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nnlab_results as nr  # noqa: E402

# Config points in one figure at most: a row each, and a PNG is at most 2^16 pixels high.
MAX_CONFIGS = 1000

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
    p.add_argument("--metric", choices=nr.METRICS,
                   help="summary metric to compare and rank by (default: the file's ranking metric: val_acc with "
                        "validation, else test_acc; final_test_acc in format 1 files)")
    p.add_argument("--where", action="append", metavar="KEY=VALUE", help="keep config points with this swept value")
    p.add_argument("--top", type=int, default=0, help="only the best N config points")
    args = p.parse_args()

    with nr.load(args.results) as res:
        metric = res.check_metric(args.metric or res.rank_metric)
        entries = res.configs(nr.parse_where(args.where), metric)  # best first
        res.require_values(metric, nr.np.concatenate([e["runs"] for e in entries]))
        on_test = res.note_ranking(metric)
        if args.top > 0:
            entries = entries[:args.top]
        if len(entries) > MAX_CONFIGS:  # a row each
            raise nr.NnlabError("%s: %d config points are too many for one figure (at most %d); use --top or --where"
                                % (res.path, len(entries), MAX_CONFIGS))
        import matplotlib  # after the input is checked: bad input fails fast
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(9, 1.2 + 0.32 * len(entries)))
        rng = nr.np.random.default_rng(0)
        for i, e in enumerate(entries):
            y = len(entries) - 1 - i
            vals = res.summary[metric][e["runs"]].astype(float)
            vals = vals[nr.np.isfinite(vals)]  # diverged runs have none
            ax.scatter(vals, y + rng.uniform(-0.15, 0.15, len(vals)), s=12, color="0.45", zorder=2)
            m, half = e["mean"][metric], ci95(e["std"][metric], e["n"][metric])
            if nr.np.isfinite(m):
                ax.errorbar([m], [y], xerr=[[half], [half]] if nr.np.isfinite(half) else None, fmt="o",
                            color="tab:red", capsize=3, zorder=3)
        keys = nr.varying(entries)
        ax.set_yticks(range(len(entries)), [nr.label(e, keys) for e in reversed(entries)], fontsize=7)
        runs = "runs" if res.validation == "folds" else "seeds"
        ax.set_xlabel("%s (dots: %s; red: mean and 95%% CI)" % (metric.replace("_", " "), runs))
        ax.grid(axis="x", alpha=0.3)
        ax.set_ylim(-0.6, len(entries) - 0.4)
        title = "%s: %d config points, ranked by mean %s" % (res.name, len(entries), metric)
        if on_test:
            title += "\n" + nr.RANKED_ON_TEST
        ax.set_title(title, fontsize=9)
        fig.tight_layout()
        written = nr.save_figure(fig, args.output)
    print("wrote %s" % written)


if __name__ == "__main__":
    nr.run_main(main)
