#!/usr/bin/env python3
"""What would a smaller search have found? The expected best validation
value of n config points drawn at random (with replacement) from an
experiment's config points, n = 1..N (Dodge et al. 2019, "Show your work"):

    E[max_n] = sum_i v_(i) ((i/N)^n - ((i-1)/N)^n)

over the config points' values sorted ascending, v_(1) <= ... <= v_(N), a
config point's value being the mean of --metric over its runs (seeds x
folds), as `nnlab summary` ranks. The band is ± one standard deviation of
the maximum, sqrt(E[max_n^2] - E[max_n]^2), E[max_n^2] with the same weights.
Left, against n; right, against the expected budget of n draws: n times the
experiment's cost per config point (--budget seconds: the wall seconds of
all its runs, or epochs: the epochs they trained, over N). Several results
files (a grid, a random search, a successive-halving search) are overlaid.

For successive halving and Hyperband only the config points that finished
(promoted to the last rung) are drawn from, and the cost per config point
is the whole search's cost, pruned runs included, over the number that
finished: a draw stands for the search's work that produced one finished
config point. Config points without a finite value (every run diverged) are
left out of the draws, and their cost counted.

The metric is a validation one (default: the ranking metric); a test metric
is refused when the file has a validation split, and used without one under
the header line that says the ranking is a test-set selection.

  plot_budget.py results/things-to-try-val -o budget.png
  plot_budget.py results/things-to-try-val results/random-search results/halving -o budget.pdf --style paper
  plot_budget.py results/things-to-try-val --metric val_loss --budget epochs -o budget.png
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nnlab_results as nr  # noqa: E402

np = nr.np
BUDGETS = {"seconds": ("seconds", "training seconds"), "epochs": ("epochs_done", "epochs trained")}


def max_std(values, n_max, higher=True):
    """The standard deviation of the best of n draws, n = 1..n_max (Dodge et
    al. 2019): sqrt(E[max^2] - E[max]^2), both with the weights
    (i/N)^n - ((i-1)/N)^n of the values sorted best last."""
    v = np.sort(np.asarray([float(x) for x in values if np.isfinite(float(x))], dtype=np.float64))
    if not higher:
        v = v[::-1]  # the best (lowest) last
    big_n = len(v)
    i = np.arange(1, big_n + 1, dtype=np.float64)
    mean = nr.expected_max(values, n_max, higher)
    out = np.empty(n_max)
    for n in range(1, n_max + 1):
        second = float(np.sum(v * v * ((i / big_n) ** n - ((i - 1) / big_n) ** n)))
        out[n - 1] = max(second - mean[n - 1] ** 2, 0.0) ** 0.5
    return out


def check_metric(res, metric):
    """The metric to draw from: a validation one; a test one only without validation."""
    metric = res.check_metric(metric or res.rank_metric)
    if "test" in metric and res.validation != "none":
        raise nr.NnlabError("%s: plot_budget draws on validation values; %s is a test metric and would select on "
                            "the test set (use val_acc or val_loss)" % (res.path, metric))
    if "val" not in metric and "test" not in metric:
        raise nr.NnlabError("%s: plot_budget needs a validation metric (val_acc, val_loss, final_val_acc, "
                            "final_val_loss), not %s" % (res.path, metric))
    return metric


def budget_curves(res, metric=None, where=None, budget="seconds"):
    """One dict per experiment in res (load or load_many): name, values (its
    config points' means drawn from), n_configs (config points in all),
    left_out (pruned, paused or without a finite value), cost (the budget of
    one draw), expected and std (arrays over n = 1..N)."""
    metric = check_metric(res, metric)
    column = BUDGETS[budget][0]
    entries = res.configs(where or {}, metric, ranked=False)
    names = getattr(res, "names", None) or [res.name or os.path.basename(os.path.dirname(os.path.abspath(res.path)))]
    out = []
    for name in names:
        mine = [e for e in entries if e["values"].get("experiment", name) == name]
        if not mine:
            continue
        drawn = [e for e in mine if not e["pruned"] and np.isfinite(e["mean"][metric])]
        rows = np.concatenate([e["runs"] for e in mine])
        total = float(np.nansum(res.summary[column][rows].astype(float)))
        if not drawn:
            raise nr.NnlabError("%s: %s has no config point with a value of %s to draw from%s"
                                % (res.path, name, metric, " (every one was pruned)" if any(
                                    e["pruned"] for e in mine) else ""))
        values = [e["mean"][metric] for e in drawn]
        higher = nr.higher_is_better(metric)
        out.append({"name": name, "values": values, "n_configs": len(mine), "left_out": len(mine) - len(drawn),
                    "pruned": sum(e["pruned"] for e in mine), "cost": total / len(drawn),
                    "expected": nr.expected_max(values, len(values), higher),
                    "std": max_std(values, len(values), higher)})
    return metric, out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    nr.add_inputs(p)
    p.add_argument("--metric", choices=nr.METRICS,
                   help="the config points' value (default: the ranking metric, val_acc with validation)")
    p.add_argument("--where", action="append", metavar="KEY=VALUE", help="keep config points with this swept value")
    p.add_argument("--budget", choices=sorted(BUDGETS), default="seconds",
                   help="the right panel's budget: wall seconds of the runs (default) or epochs trained")
    p.add_argument("--no-band", action="store_true", help="leave out the ± std band")
    args = p.parse_args()

    with nr.load_many(args.results) as res:
        where = nr.parse_where(args.where)
        metric, curves = budget_curves(res, args.metric, where, args.budget)
        on_test = res.note_ranking(metric)
        fig = draw(res, metric, curves, args, where, on_test)
        written = nr.save_styled(fig, args.output, args.style)
    print("wrote %s" % written)


def draw(res, metric, curves, args, where, on_test):
    plt = nr.pyplot(args.style)
    paper = args.style == "paper"
    rows, cols = (2, 1) if paper else (1, 2)
    fig, (ax, bx) = plt.subplots(rows, cols, figsize=nr.figsize(args.style, 3.3, 4.6) if paper else (12, 5),
                                 layout="constrained", sharey=True)
    unit = BUDGETS[args.budget][1]
    for k, c in enumerate(curves):
        n = np.arange(1, len(c["expected"]) + 1)
        notes = ["N=%d" % len(c["values"])]
        if c["pruned"]:
            notes.append("%d pruned" % c["pruned"])
        if c["left_out"] - c["pruned"]:
            notes.append("%d without a value" % (c["left_out"] - c["pruned"]))
        label = "%s (%s)" % (c["name"], ", ".join(notes))
        for axis, x in ((ax, n), (bx, n * c["cost"])):
            axis.plot(x, c["expected"], color="C%d" % k, label=label if axis is ax else None, marker="." if
                      len(n) < 30 else None)
            if not args.no_band:
                lo, hi = c["expected"] - c["std"], c["expected"] + c["std"]
                if "_acc" in metric:  # an accuracy's band stays within [0, 1]
                    lo, hi = np.clip(lo, 0, 1), np.clip(hi, 0, 1)
                axis.fill_between(x, lo, hi, color="C%d" % k, alpha=0.15, lw=0)
    ylabel = "expected best mean %s" % metric
    ax.set_ylabel(ylabel)
    if paper:
        bx.set_ylabel(ylabel)
    ax.set_xlabel("config points drawn at random (n)")
    bx.set_xlabel("expected %s" % unit + ("" if paper else " (n × %s per config point)" % args.budget))
    if max(len(c["values"]) for c in curves) > 20:  # as Dodge et al.: the small budgets spread out
        ax.set_xscale("log")
        bx.set_xscale("log")
    for axis in (ax, bx):
        axis.grid(alpha=0.3)
    ax.legend(loc="lower right" if nr.higher_is_better(metric) else "upper right",
              fontsize=None if paper else 9)
    title = "expected best of n random config points, ± std (Dodge et al. 2019)\n%s" % nr.provenance(res, where)
    if on_test:
        title += "\n" + nr.RANKED_ON_TEST
    fig.suptitle(nr.wrap(title, args.style, fig.get_figwidth()), fontsize=None if paper else 11)
    return fig


if __name__ == "__main__":
    nr.run_main(main)
