#!/usr/bin/env python3
"""Heatmap of a metric over two swept settings (default: the one config
points are ranked by, validation accuracy when the experiment has a
validation split, else test accuracy), each cell annotated with mean ± std
over its runs, the best cell (ranked as `nnlab summary` ranks config points)
framed; a third swept setting gives one panel per value. Settings not on an
axis are averaged over unless fixed with --where. The output format follows
the file extension.

  plot_grid.py results/things-to-try/results.h5 -o grid.png --x training.optimizer --y model.activation
  plot_grid.py results.h5 -o grid.pdf --x model.dropout --y training.l2 --facet model.activation
  plot_grid.py results/things-to-try-val results/halving -o grid.png --x experiment --y model.activation

With several results files, `experiment` (and any setting that differs
between them) is a key like the swept ones (nnlab_results.load_many).
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nnlab_results as nr  # noqa: E402

# Cells along either side of the figure at most (all panels' columns together).
MAX_CELLS = 200


def values_of(res, key, rows):
    """The distinct values of a swept column among rows, in first-seen order."""
    seen = []
    for v in res.summary[key][rows]:
        t = nr.value_text(v, key)
        if t not in seen:
            seen.append(t)
    return seen


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    nr.add_inputs(p)
    p.add_argument("--x", help="swept setting along the columns")
    p.add_argument("--y", help="swept setting along the rows")
    p.add_argument("--facet", help="swept setting with one panel per value")
    p.add_argument("--metric", choices=nr.METRICS,
                   help="summary metric (default: the file's ranking metric: val_acc with validation, else test_acc; "
                        "final_test_acc in format 1 files)")
    p.add_argument("--where", action="append", metavar="KEY=VALUE", help="keep runs with this swept value")
    args = p.parse_args()

    with nr.load_many(args.results) as res:
        if not args.x or not args.y:
            if len(res.swept) != 2:
                raise nr.NnlabError("%s: give --x and --y (swept: %s)" % (res.path, ", ".join(res.swept) or "nothing"))
            args.x, args.y = res.swept[1], res.swept[0]
        where = nr.parse_where(args.where)
        axes_keys = [args.x, args.y] + ([args.facet] if args.facet else [])
        for key in axes_keys:
            res.check_swept(key)
        if len(set(axes_keys)) < len(axes_keys):
            raise nr.NnlabError("%s: --x, --y and --facet need different settings, got %s"
                                % (res.path, ", ".join(axes_keys)))
        metric = res.check_metric(args.metric or res.rank_metric)
        s = res.summary
        keep = res.where_rows(where)
        # successive halving or Hyperband: the cells average the points that trained to the end (a pruned
        # point's runs stopped early and would drag its cells down)
        n_pruned = 0
        if "status" in s.dtype.names:
            pruned = nr.np.array([nr._text(v) in ("pruned", "paused") for v in s["status"]], dtype=bool)
            by_config = {int(c) for c in s["config"][pruned]}
            pruned = nr.np.array([int(c) in by_config for c in s["config"]], dtype=bool)
            if (keep & ~pruned).any() and (keep & pruned).any():
                n_pruned = len({int(c) for c in s["config"][keep & pruned]})
                keep = keep & ~pruned
        rows = nr.np.flatnonzero(keep)
        res.require_values(metric, rows)
        on_test = res.note_ranking(metric)
        xs, ys = values_of(res, args.x, rows), values_of(res, args.y, rows)
        facets = values_of(res, args.facet, rows) if args.facet else [None]
        if len(xs) * len(facets) > MAX_CELLS or len(ys) > MAX_CELLS:  # a PNG is at most 2^16 pixels wide
            raise nr.NnlabError("%s: %d columns (%s%s) and %d rows (%s) are too many for one figure (at most %d "
                                "each); fix some values with --where"
                                % (res.path, len(xs) * len(facets), args.x, " x " + args.facet if args.facet else "",
                                   len(ys), args.y, MAX_CELLS))
        plt = nr.pyplot(args.style)  # after the input is checked: bad input fails fast
        import matplotlib.patches
        paper = args.style == "paper"
        averaged = [k for k in res.swept if k not in (args.x, args.y, args.facet) and k not in where
                    and k not in getattr(res, "differ", ())]  # those the experiment (a key itself) sets
        text = {k: nr.np.array([nr.value_text(v, k) for v in s[k]]) for k in res.swept}
        size = (2.4 + 1.5 * len(xs) * len(facets), 1.9 + 0.75 * len(ys))
        if paper:  # one column wide: cells share it; rows about as high as a cell is wide
            size = (nr.PAPER_WIDTH, 1.3 + min(0.45, 2.4 / max(len(xs) * len(facets), 1)) * len(ys))
        fig, axes = plt.subplots(1, len(facets), figsize=size, squeeze=False, layout="constrained")
        cmap = "viridis" if nr.higher_is_better(metric) else "viridis_r"
        panels, cells = [], []  # cells: (rank key, panel, row, column), ranked as config points are
        for k, facet in enumerate(facets):
            mean = nr.np.full((len(ys), len(xs)), nr.np.nan)
            std = nr.np.full_like(mean, nr.np.nan)
            for i, yv in enumerate(ys):
                for j, xv in enumerate(xs):
                    cell = keep & (text[args.x] == xv) & (text[args.y] == yv)
                    if facet is not None:
                        cell &= text[args.facet] == facet
                    if cell.any():  # over the cell's runs in run order, as nnlab: its bits
                        mean[i, j], std[i, j] = nr.mean_std(s[metric][cell])
                        first = int(s["config"][cell].min())  # equal means: the cell with the lower config id
                        cells.append((nr.rank_key(mean[i, j], first, metric), k, i, j))
            panels.append((mean, std))
        top = min(cells) if cells else None
        best = top[1:] if top is not None and top[0][0] == 0 else None  # (panel, row, column); None if no value
        finite = nr.np.concatenate([m[nr.np.isfinite(m)] for m, _ in panels])
        lo, hi = (finite.min(), finite.max()) if finite.size else (0, 1)
        for k, (ax, facet, (mean, std)) in enumerate(zip(axes[0], facets, panels)):
            im = ax.imshow(mean, cmap=cmap, aspect="auto", vmin=lo, vmax=hi)  # one scale for every panel
            for i in range(len(ys)):
                for j in range(len(xs)):
                    if nr.np.isfinite(mean[i, j]):
                        ax.text(j, i, "%.4f\n±%.4f" % (mean[i, j], std[i, j]) if not paper else "%.3f" % mean[i, j]
                                if len(xs) * len(facets) > 3 else "%.3f\n±%.3f" % (mean[i, j], std[i, j]),
                                ha="center", va="center", fontsize=8,
                                color="white" if im.norm(mean[i, j]) < 0.5 else "black")
            if best is not None and best[0] == k:
                ax.add_patch(matplotlib.patches.Rectangle((best[2] - 0.5, best[1] - 0.5), 1, 1, fill=False,
                                                          edgecolor="red", lw=1.2 if paper else 2.5))
            ax.set_xticks(range(len(xs)), xs)
            ax.set_yticks(range(len(ys)), ys)
            ax.set_xlabel(args.x)
            ax.set_ylabel(args.y)
            if facet is not None:
                ax.set_title("%s = %s" % (args.facet, facet))
        fig.colorbar(im, ax=list(axes[0]), shrink=0.8)
        over = "runs (seeds × folds)" if res.validation == "folds" else "seeds"
        title = "%s, mean ± std over %s%s" % (metric.replace("_", " "), over,
                                              ", best framed" if best is not None else "")
        if averaged:
            title += "\nand over %s" % ", ".join(averaged)  # a line of its own: one line can be wider than the figure
        if n_pruned:
            title += "\n%d config points the search pruned left out" % n_pruned
        title += "\n" + nr.provenance(res, where)
        if on_test:
            title += "\n" + nr.RANKED_ON_TEST
        fig.suptitle(nr.wrap(title, args.style, fig.get_figwidth()), fontsize=None if paper else 10)
        written = nr.save_styled(fig, args.output, args.style)
    print("wrote %s" % written)


if __name__ == "__main__":
    nr.run_main(main)
