#!/usr/bin/env python3
"""Training curves of nnlab experiments: train, validation (when the
experiment has a validation split) and test loss and accuracy per epoch,
the mean over runs as a line and mean ± std as a band, one colour per config
point. Curves end where runs stopped (early stopping). A diverged run is
left out of its config point's mean and band and drawn alone as a thin stub
up to its last epoch before the divergence, marked ×; the legend counts
them. Accuracy bands are clipped to [0, 1]. Several results files are drawn
together (config points labelled by experiment). The output format follows
the file extension (.png, .pdf, .svg).

  plot_curves.py results/things-to-try/results.h5 -o curves.png
  plot_curves.py results.h5 -o relu.pdf --where model.activation=relu --where training.optimizer=sgd
  plot_curves.py results.h5 -o some.svg --config 0 --config 12
  plot_curves.py results/grid results/random-search -o both.png --max-configs 3
  plot_curves.py results.h5 -o fig3.pdf --style paper --panels val_acc --ylim 0.9 1
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nnlab_results as nr  # noqa: E402

np = nr.np
# Config points in one figure at most: their legend takes a line per two.
MAX_CONFIGS = 60
PARTS = {"train": "train", "val": "validation", "test": "test"}


def select(res, entries, max_configs, metric):
    """The config points to draw (entries best first, as configs() gives
    them): all of them, in config order, or the best max_configs. Returns
    (entries, note for the title)."""
    if len(entries) <= max_configs:
        return sorted(entries, key=lambda e: e["config"]), ""
    res.note_ranking(metric)
    return entries[:max_configs], " (best %d by mean %s)" % (max_configs, metric)


def band(curves, from_epoch, accuracy):
    """The mean ± std of a config point's runs (curves: arrays, the diverged
    runs left out) at each epoch from from_epoch: (x, mean, lo, hi), over the
    runs with a finite value there (sample std, n - 1; 0 for one run). NaN
    where no run has a value. Accuracy bands are clipped to [0, 1]."""
    n = max(len(c) for c in curves)
    stack = np.full((len(curves), n), np.nan)
    for j, c in enumerate(curves):
        stack[j, :len(c)] = c
    stack = stack[:, from_epoch:]
    finite = np.isfinite(stack)
    count = finite.sum(axis=0)
    total = np.where(finite, stack, 0).sum(axis=0)
    mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    dev = np.where(finite, stack - mean, 0)
    std = np.where(count > 1, np.sqrt((dev ** 2).sum(axis=0) / np.maximum(count - 1, 1)), 0.0)
    std = np.where(count > 0, std, np.nan)
    lo, hi = mean - std, mean + std
    if accuracy:
        lo, hi = np.clip(lo, 0, 1), np.clip(hi, 0, 1)
    return np.arange(from_epoch, n), mean, lo, hi


def stub(curve, from_epoch):
    """(x, y) of a diverged run's curve from from_epoch to its last finite value (empty if none)."""
    y = np.asarray(curve, dtype=float)
    finite = np.flatnonzero(np.isfinite(y))
    finite = finite[finite >= from_epoch]
    if not finite.size:
        return np.array([]), np.array([])
    x = np.arange(from_epoch, finite[-1] + 1)
    return x, y[from_epoch:finite[-1] + 1]


def panels_of(res, names, style):
    """The curves to draw, one panel each: --panels, else every curve (the
    paper style: the loss and accuracy of the split the ranking uses)."""
    parts = ["train"] + (["val"] if res.validation != "none" else []) + ["test"]
    known = ["%s_%s" % (part, what) for what in ("loss", "acc") for part in parts]
    if names:
        for n in names:
            if n not in known:
                raise nr.NnlabError("%s: no curve %s (curves: %s)" % (res.path, n, ", ".join(known)))
        return names, min(len(names), 3)
    if style == "paper":
        split = "val" if res.validation != "none" else "test"
        return ["%s_loss" % split, "%s_acc" % split], 2
    return known, len(parts)


def prepare(res, entries, panels):
    """{config: {"bands": {curve: [curves of its runs not diverged]}, "stubs": {curve: [...]},
    "n_diverged": int}} read from the run files."""
    s, out = res.summary, {}
    for e in entries:
        d = {"bands": {p: [] for p in panels}, "stubs": {p: [] for p in panels}, "n_diverged": 0}
        for row in e["runs"]:
            c = res.curves(s["run"][row])
            diverged = nr._text(s["status"][row]) == "diverged"
            d["n_diverged"] += diverged
            for p in panels:
                if p in c:
                    d["stubs" if diverged else "bands"][p].append(c[p])
        out[e["config"]] = d
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    nr.add_inputs(p)
    p.add_argument("--config", type=int, action="append", help="config point to show (repeatable)")
    p.add_argument("--where", action="append", metavar="KEY=VALUE", help="keep config points with this swept value")
    p.add_argument("--max-configs", type=int, default=None,
                   help="show at most this many config points, the best by the mean of --metric (default 10; 5 with "
                        "--style paper, whose legend must fit one column)")
    p.add_argument("--metric", choices=nr.METRICS,
                   help="what --max-configs ranks by (default: the file's ranking metric: val_acc with validation, "
                        "else test_acc; final_test_acc in format 1 files)")
    p.add_argument("--panels", nargs="+", metavar="CURVE",
                   help="the curves to draw, e.g. val_acc test_acc (default: all; --style paper: the ranking "
                        "split's loss and accuracy)")
    p.add_argument("--from-epoch", type=int, metavar="N",
                   help="start the x axis at epoch N (default: 1 for accuracy panels, so that the untrained epoch 0 "
                        "does not squash the axis; 0 for losses)")
    p.add_argument("--ylim", nargs=2, type=float, metavar=("LO", "HI"), help="y range of the accuracy panels")
    p.add_argument("--loss-ylim", nargs=2, type=float, metavar=("LO", "HI"), help="y range of the loss panels")
    scale = p.add_mutually_exclusive_group()
    scale.add_argument("--log", dest="log", action="store_true", default=True, help="loss panels on a log scale "
                       "(the default)")
    scale.add_argument("--linear", dest="log", action="store_false", help="loss panels on a linear scale")
    args = p.parse_args()
    if args.from_epoch is not None and args.from_epoch < 0:
        raise nr.NnlabError("--from-epoch must be 0 or more, not %d" % args.from_epoch)
    for name, lim in (("--ylim", args.ylim), ("--loss-ylim", args.loss_ylim)):
        if lim is not None and not (np.isfinite(lim).all() and lim[0] < lim[1]):
            raise nr.NnlabError("%s needs LO < HI, finite, got %g %g" % (name, lim[0], lim[1]))
    if args.loss_ylim is not None and args.log and args.loss_ylim[0] <= 0:
        raise nr.NnlabError("--loss-ylim LO must be above 0 on a log scale (or give --linear)")

    with nr.load_many(args.results) as res:
        metric = res.check_metric(args.metric or res.rank_metric)
        where = nr.parse_where(args.where)
        entries = res.configs(where, metric)
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
        limit = args.max_configs if args.max_configs is not None else 5 if args.style == "paper" else 10
        entries, note = select(res, entries, max(limit, 1), metric)
        if len(entries) > MAX_CONFIGS:  # the legend takes the figure's height
            raise nr.NnlabError("%s: %d config points are too many for one figure (at most %d); use --max-configs, "
                                "--config or --where" % (res.path, len(entries), MAX_CONFIGS))
        panels, ncols = panels_of(res, args.panels, args.style)
        data = prepare(res, entries, panels)
        fig = draw(res, entries, data, panels, ncols, args, note, where)
        written = nr.save_styled(fig, args.output, args.style)
    print("wrote %s" % written)


def draw(res, entries, data, panels, ncols, args, note, where):
    plt = nr.pyplot(args.style)
    import matplotlib.lines
    import matplotlib.ticker
    keys = nr.label_keys(res, entries)
    nrows = -(-len(panels) // ncols)
    paper = args.style == "paper"
    legend_cols = 1 if paper else 2
    width, height = nr.figsize(args.style, 5.5 * ncols, 3.75 * nrows + 0.5)
    labels = []
    for e in entries:
        n_div = data[e["config"]]["n_diverged"]
        text = "%s (n=%d%s)" % (nr.entry_label(e, keys), e["n_runs"], ", %d diverged ×" % n_div if n_div else "")
        labels.append(nr.wrap(text, args.style, (width - 0.5) / legend_cols))
    rows = [max(t.count("\n") + 1 for t in labels[i:i + legend_cols]) for i in range(0, len(labels), legend_cols)]
    legend_height = (0.17 if paper else 0.2) * sum(rows) + 0.1  # inches: 8 pt lines, with their spacing
    fig = plt.figure(figsize=(width, height + legend_height), layout="constrained")
    grid = fig.add_gridspec(nrows + 1, ncols, height_ratios=[height / nrows] * nrows + [legend_height])
    axes = np.array([[fig.add_subplot(grid[r, c]) for c in range(ncols)] for r in range(nrows)])
    legend_ax = fig.add_subplot(grid[nrows, :])
    legend_ax.set_axis_off()
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    colours = plt.get_cmap("tab10" if len(entries) <= 10 else "tab20")
    lw = 1.0 if paper else 1.6
    handles, diverged = [], 0
    for ax, curve in zip(axes.flat, panels):
        part, what = curve.split("_")
        accuracy = what == "acc"
        start = args.from_epoch if args.from_epoch is not None else (1 if accuracy else 0)
        plotted, tops, bottoms = False, [], []
        for i, e in enumerate(entries):
            d = data[e["config"]]
            runs = [c for c in d["bands"][curve] if len(c) > start]
            if runs:
                x, mean, lo, hi = band(runs, start, accuracy)
                if np.isfinite(mean).any():
                    plotted = True
                    ax.plot(x, mean, color=colours(i), lw=lw)
                    ax.fill_between(x, lo, hi, color=colours(i), alpha=0.18, lw=0)
                    tops.append(np.nanmax(hi))
                    bottoms.append(np.nanmin(lo))
        limits = args.ylim if accuracy else args.loss_ylim
        if not accuracy and args.log:
            ax.set_yscale("log")
        if limits is None and tops:  # the bands set the range; the stubs are drawn within it
            lo_, hi_ = min(bottoms), max(tops)
            if not accuracy and args.log:
                lo_ = min(b for b in bottoms + [hi_] if b > 0) if any(b > 0 for b in bottoms) else hi_ / 10
                pad = (hi_ / lo_) ** 0.05 if hi_ > lo_ else 2.0
                limits = (lo_ / pad, hi_ * pad)
            else:
                pad = 0.05 * (hi_ - lo_) or 0.05
                limits = (lo_ - pad, hi_ + pad)
                if accuracy:
                    limits = (max(limits[0], -0.02), min(limits[1], 1.02))
        if limits is not None:
            ax.set_ylim(*limits)
        for i, e in enumerate(entries):  # the diverged runs: thin stubs, × where each stops
            for c in data[e["config"]]["stubs"][curve]:
                x, y = stub(c, start)
                if not len(x):
                    continue
                plotted = True
                if limits is not None:
                    y = np.clip(y, *ax.get_ylim())
                ax.plot(x, y, color=colours(i), lw=lw * 0.5, alpha=0.8)
                ax.plot(x[-1:], y[-1:], "x", color=colours(i), ms=4 if paper else 6, mew=1 if paper else 1.5,
                        clip_on=False)
        ax.set_title("%s %s" % (PARTS[part], "accuracy" if accuracy else "loss"))
        ax.grid(alpha=0.3)
        ax.set_xlim(left=start)
        if not plotted:  # runs with training.train_curves: false, or all diverged at once
            rows = np.concatenate([e["runs"] for e in entries])
            final = lambda m: np.isfinite(res.summary[m][rows].astype(float)).any()  # noqa: E731
            unevaluated = part == "train" and not final("final_train_" + what) and final("final_test_" + what)
            ax.text(0.5, 0.5, "not evaluated (training.train_curves: false)" if unevaluated else "no values",
                    ha="center", va="center", transform=ax.transAxes, color="0.4")
            ax.set_yticks([])
        ax.set_xlabel("epoch" + ("" if start else " (0 = before training)"))
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))  # epochs are whole
    for i, e in enumerate(entries):
        n_div = data[e["config"]]["n_diverged"]
        diverged += n_div
        handles.append(matplotlib.lines.Line2D([], [], color=colours(i), lw=lw, label=labels[i]))
    over = "runs (seeds × folds)" if res.validation == "folds" else "seeds"
    extra = "%d diverged run%s: stubs marked ×, not in the bands" % (diverged, "" if diverged == 1 else "s") \
        if diverged else ""
    title = "mean ± std over %s%s\n%s" % (over, note, nr.provenance(res, where, [extra]))
    fig.suptitle(nr.wrap(title, args.style, fig.get_figwidth()))
    legend_ax.legend(handles=handles, loc="upper center", ncol=legend_cols, fontsize=None if paper else 8,
                     frameon=False, borderaxespad=0)
    return fig


if __name__ == "__main__":
    nr.run_main(main)
