#!/usr/bin/env python3
"""Is a difference real? A metric of every config point (default: the one
it is ranked by, validation accuracy when the experiment has a validation
split, else test accuracy): one dot per run (seeds x folds), the mean, and
its 95% confidence interval (Student's t over the runs with a value).
Config points are ranked best first, as `nnlab summary` ranks them. The
output format follows the file extension.

  plot_compare.py results/things-to-try/results.h5 -o compare.png --top 15
  plot_compare.py results.h5 -o dropout.pdf --where model.activation=relu
  plot_compare.py results/things-to-try-val results/random-search -o both.png --top 10

With several results files the config points of all of them are ranked
together (labelled by experiment), each run's dot coloured by its
experiment, and a thin line joins the runs of one seed (and fold) across an
experiment's config points: runs that share a seed share the split and the
initialisation's stream, so lines that do not cross say a difference holds
seed by seed.
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
    nr.add_inputs(p)
    p.add_argument("--metric", choices=nr.METRICS,
                   help="summary metric to compare and rank by (default: the file's ranking metric: val_acc with "
                        "validation, else test_acc; final_test_acc in format 1 files)")
    p.add_argument("--where", action="append", metavar="KEY=VALUE", help="keep config points with this swept value")
    p.add_argument("--top", type=int, default=0, help="only the best N config points")
    p.add_argument("--seed-lines", action=argparse.BooleanOptionalAction, default=None,
                   help="join each seed's runs across config points (default: with several results files)")
    args = p.parse_args()

    with nr.load_many(args.results) as res:
        metric = res.check_metric(args.metric or res.rank_metric)
        where = nr.parse_where(args.where)
        entries = res.configs(where, metric)  # best first
        res.require_values(metric, nr.np.concatenate([e["runs"] for e in entries]))
        on_test = res.note_ranking(metric)
        if args.top > 0:
            entries = entries[:args.top]
        if len(entries) > MAX_CONFIGS:  # a row each
            raise nr.NnlabError("%s: %d config points are too many for one figure (at most %d); use --top or --where"
                                % (res.path, len(entries), MAX_CONFIGS))
        seed_lines = args.seed_lines if args.seed_lines is not None else len(args.results) > 1
        fig = draw(res, entries, metric, args.style, seed_lines, on_test, where)
        written = nr.save_styled(fig, args.output, args.style)
    print("wrote %s" % written)


def points(res, entries, metric):
    """[(row y, experiment index, (seed, fold), value)] of every run with a
    finite value (diverged runs have none); y = 0 is the last entry."""
    s, names = res.summary, getattr(res, "names", None)
    out = []
    for i, e in enumerate(entries):
        y = len(entries) - 1 - i
        k = names.index(e["values"]["experiment"]) if names else 0
        for row in e["runs"]:
            v = float(s[metric][row])
            if nr.np.isfinite(v):
                fold = int(s["fold"][row]) if "fold" in s.dtype.names else 0
                seed = int(s["seed"][row]) if "seed" in s.dtype.names else int(s["run"][row])
                out.append((y, k, (seed, fold), v))
    return out


def draw(res, entries, metric, style, seed_lines, on_test, where):
    plt = nr.pyplot(style)
    paper = style == "paper"
    import matplotlib.lines
    keys = nr.label_keys(res, entries)
    labels = [nr.entry_label(e, keys) for e in reversed(entries)]
    if paper:  # labels wrapped to 1.6 inches, rows as high as their labels
        labels = [nr.wrap(t, style, 1.9) for t in labels]
        lines = max(t.count("\n") + 1 for t in labels)
        size = (nr.PAPER_WIDTH, 1.2 + (0.05 + 0.125 * lines) * len(entries))
    else:
        size = (9, 1.2 + 0.32 * len(entries))
    fig, ax = plt.subplots(figsize=size, layout="constrained")
    rng = nr.np.random.default_rng(0)
    names = getattr(res, "names", None) or [res.name]
    colour = (lambda k: "C%d" % k) if len(names) > 1 else (lambda k: "0.45")
    pts = points(res, entries, metric)
    jitter = rng.uniform(-0.15, 0.15, len(pts))
    if seed_lines:  # one line per (experiment, seed, fold), through its runs from the top row down
        lines = {}
        for (y, k, sf, v), j in zip(pts, jitter):
            lines.setdefault((k, sf), []).append((y + j, v))
        for (k, _), ps in lines.items():
            ps.sort(reverse=True)
            ax.plot([v for _, v in ps], [y for y, _ in ps], color=colour(k), lw=0.4, alpha=0.5, zorder=1)
    ax.scatter([v for _, _, _, v in pts], [y + j for (y, _, _, _), j in zip(pts, jitter)], s=6 if paper else 12,
               color=[colour(k) for _, k, _, _ in pts], zorder=2, lw=0)
    for i, e in enumerate(entries):
        y = len(entries) - 1 - i
        m, half = e["mean"][metric], ci95(e["std"][metric], e["n"][metric])
        if nr.np.isfinite(m):
            ax.errorbar([m], [y], xerr=[[half], [half]] if nr.np.isfinite(half) else None, fmt="o",
                        color="black" if len(names) > 1 else "tab:red", capsize=2 if paper else 3, zorder=3,
                        ms=3 if paper else 6, lw=0.8 if paper else 1.5)
    ax.set_yticks(range(len(entries)), labels, fontsize=None if paper else 7)
    runs = "runs" if res.validation == "folds" else "seeds"
    mark = "black" if len(names) > 1 else "red"
    xlabel = "%s (dots: %s; %s: mean and 95%% CI)" % (metric.replace("_", " "), runs, mark)
    ax.set_xlabel(nr.wrap(xlabel, style, 1.6) if paper else xlabel)
    ax.grid(axis="x", alpha=0.3)
    ax.set_ylim(-0.6, len(entries) - 0.4)
    if len(names) > 1:
        ax.legend(handles=[matplotlib.lines.Line2D([], [], color=colour(k), marker="o", lw=0.6 if seed_lines else 0,
                                                   label=n) for k, n in enumerate(names)],
                  loc="lower left", bbox_to_anchor=(0, 1.0), ncol=1 if paper else len(names),
                  fontsize=None if paper else 8,
                  frameon=False, borderaxespad=0.2)
    title = "%d config points, ranked by mean %s\n%s" % (len(entries), metric, nr.provenance(res, where))
    if on_test:
        title += "\n" + nr.RANKED_ON_TEST
    fig.suptitle(nr.wrap(title, style, fig.get_figwidth()), fontsize=None if paper else 9)
    return fig


if __name__ == "__main__":
    nr.run_main(main)
