#!/usr/bin/env python3
"""One self-contained HTML page about an nnlab experiment, to open in a
browser or send to someone: nothing is fetched from a network or a server;
its figures are inline SVG, its style and script inline. `nnlab report`
runs this script (docs/report.md); it can also be run directly:

  nnlab_report.py results/things-to-try-val                  # -> results/things-to-try-val/report.html
  nnlab_report.py results.h5 -o report.html --where model.activation=relu --top 20

Sections: the resolved experiment; the ranked table, exactly the rows of
`nnlab summary RESULTS --csv` (every column it gives), sortable by a click
on a header; learning curves of the best config points with seed bands
(diverged runs left out of the bands, and counted); a heatmap of the
ranking metric for every pair of swept settings; the budget curve (the
expected best config-point mean of n random draws, Dodge et al. 2019); for
a random, halving or Hyperband search, the staircase; the runs' statuses.

The page's own script records any error (window.onerror, console.error)
in the hidden element #nnlab-errors, and `#sort=COLUMN` or
`#sort=COLUMN:desc` in its address sorts the table at load by clicking
that header once or twice: tests/e2e_report.py reads both with
`chromium --headless --dump-dom`.
"""
import argparse
import csv
import datetime
import html
import io
import math
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nnlab_results as nr  # noqa: E402

CURVE_CONFIGS = 5      # config points in the learning curves
MAX_HEATMAP_SIDE = 40  # values along a heatmap's side at most; a pair with more is listed, not drawn
SAMPLED_VALUES = 12    # more numbers than this along a side: a sampled setting, drawn as a scatter
SEARCHES = ("random", "halving", "hyperband")


def run_summary(nnlab, results, where, top):
    """(header, rows, notes) of `nnlab summary RESULTS --csv`: the CSV as
    lists of strings, and what it printed on stderr (the ranked-on-test line,
    and so on). Its refusal (exit 2: not a results file, bad --where) is
    this script's, with its message."""
    cmd = [nnlab, "summary", results, "--csv"]
    for w in where:
        cmd += ["--where", w]
    if top:
        cmd += ["--top", str(top)]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True)
    except OSError as e:
        raise nr.NnlabError("%s: cannot run nnlab (%s)" % (nnlab, e.strerror or e)) from None
    if r.returncode != 0:
        sys.stderr.write(r.stderr)
        sys.exit(r.returncode)
    table = list(csv.reader(io.StringIO(r.stdout)))
    if not table:
        raise nr.NnlabError("%s: nnlab summary printed no table" % results)
    notes = [line[len("nnlab: "):] if line.startswith("nnlab: ") else line for line in r.stderr.splitlines() if line]
    return table[0], table[1:], notes


# ---- figures ------------------------------------------------------------------------------------------------

def svg(fig, _count=[0]):
    """The figure as an inline <svg> element, and the figure closed: text as text (in the page's font),
    without its RDF metadata (whose namespace addresses would look like links), its ids (salted by the
    figure's number) the same on every run and unique in the page."""
    import matplotlib
    import matplotlib.pyplot as plt
    _count[0] += 1
    matplotlib.rcParams["svg.hashsalt"] = "nnlab-figure-%d" % _count[0]
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})  # laid out already: bbox "tight" would draw twice
    plt.close(fig)
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    start, end = text.find("<metadata>"), text.find("</metadata>")
    if 0 <= start < end:
        text = text[:start] + text[end + len("</metadata>"):]
    return text


def band(curves):
    """Mean and std per epoch over runs' curves (NaN where no run has a value)."""
    n = max(len(c) for c in curves)
    stack = nr.np.full((len(curves), n), nr.np.nan)
    for j, c in enumerate(curves):
        stack[j, :len(c)] = c
    count = nr.np.isfinite(stack).sum(axis=0)
    with nr.np.errstate(invalid="ignore", divide="ignore"):
        mean = nr.np.where(count > 0, nr.np.nansum(stack, axis=0) / nr.np.maximum(count, 1), nr.np.nan)
        var = nr.np.nansum((stack - mean) ** 2, axis=0) / nr.np.maximum(count - 1, 1)
    return mean, nr.np.where(count > 1, nr.np.sqrt(var), 0.0)


def curves_figure(res, entries, plt):
    """Train and validation (test without validation) loss and accuracy of
    these config points: mean ± std over their runs that did not diverge."""
    import matplotlib.ticker
    held = "val" if res.validation != "none" else "test"
    panels = [("train_loss", "train loss"), ("%s_loss" % held, "%s loss" % held.replace("val", "validation")),
              ("train_acc", "train accuracy"), ("%s_acc" % held, "%s accuracy" % held.replace("val", "validation"))]
    import plot_search
    fig, axes = plt.subplots(2, 2, figsize=(9, 5.6), sharex=True)
    keys = nr.varying(entries) or list(res.swept)
    labels = ["#%d %s" % (e["rank"], plot_search.short_label(e, keys)) for e in entries]  # sampled reals: 3 digits
    ncol = 2 if max(map(len, labels), default=0) <= 50 else 1
    left_out = 0
    for i, e in enumerate(entries):
        status = [nr._text(res.summary["status"][r]) for r in e["runs"]]
        runs = [int(res.summary["run"][r]) for r, st in zip(e["runs"], status) if st != "diverged"]
        left_out += len(status) - len(runs)
        colour = "C%d" % i
        if not runs:  # named in the legend all the same
            axes[0, 0].plot([], [], color=colour, lw=1.5, ls=":", label="%s (%d runs, all diverged: not drawn)"
                            % (labels[i], len(status)))
            continue
        curves = [res.curves(run) for run in runs]
        for ax, (name, _) in zip(axes.flat, panels):
            have = [c[name] for c in curves if name in c and nr.np.isfinite(c[name]).any()]
            if not have:
                continue
            mean, std = band(have)
            x = nr.np.arange(len(mean))
            lo, hi = mean - std, mean + std
            if name.endswith("_acc"):
                lo, hi = nr.np.clip(lo, 0, 1), nr.np.clip(hi, 0, 1)
                if len(x) > 1:  # from epoch 1, as plot_curves: the initial accuracy would squash the axis
                    x, mean, lo, hi = x[1:], mean[1:], lo[1:], hi[1:]
            ax.plot(x, mean, color=colour, lw=1.5,
                    label="%s (%d runs)" % (labels[i], len(runs)) if name == "train_loss" else None)
            ax.fill_between(x, lo, hi, color=colour, alpha=0.18, lw=0)
    for ax, (name, title) in zip(axes.flat, panels):
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
        if not ax.lines:
            ax.text(0.5, 0.5, "no values", ha="center", va="center", transform=ax.transAxes, color="0.4")
        elif name.endswith("_loss"):
            ax.set_yscale("log")
    for ax in axes[1]:
        ax.set_xlabel("epoch (0 = before training; accuracies from 1)")
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    legend_rows = -(-len(entries) // ncol)
    fig.set_figheight(5.6 + 0.2 * legend_rows)
    fig.legend(loc="lower center", ncol=ncol, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.2 * (legend_rows + 0.5) / fig.get_figheight(), 1, 1))
    return svg(fig), left_out


def heatmap_figure(res, keep, metric, x, y, plt):
    """Mean of metric over the runs of each (x, y) cell (every other swept
    setting averaged), as plot_grid.py draws it; the best cell framed."""
    s = res.summary
    rows = nr.np.flatnonzero(keep)
    text = {k: nr.np.array([nr.value_text(v, k) for v in s[k]]) for k in (x, y)}
    xs = list(dict.fromkeys(text[x][rows]))
    ys = list(dict.fromkeys(text[y][rows]))
    if len(xs) > MAX_HEATMAP_SIDE or len(ys) > MAX_HEATMAP_SIDE:
        return scatter_figure(res, keep, metric, x, y, text, plt) if sampled(xs) or sampled(ys) else None
    if sampled(xs) or sampled(ys):
        return scatter_figure(res, keep, metric, x, y, text, plt)
    mean = nr.np.full((len(ys), len(xs)), nr.np.nan)
    cells = []
    for i, yv in enumerate(ys):
        for j, xv in enumerate(xs):
            cell = keep & (text[x] == xv) & (text[y] == yv)
            if cell.any():
                mean[i, j] = nr.mean_std(s[metric][cell])[0]
                cells.append((nr.rank_key(mean[i, j], int(s["config"][cell].min()), metric), i, j))
    fig, ax = plt.subplots(figsize=(2.2 + 0.85 * len(xs), 1.3 + 0.45 * len(ys)), layout="constrained")
    finite = mean[nr.np.isfinite(mean)]
    im = ax.imshow(mean, cmap="viridis" if nr.higher_is_better(metric) else "viridis_r", aspect="auto",
                   vmin=finite.min() if finite.size else 0, vmax=finite.max() if finite.size else 1)
    if len(xs) * len(ys) <= 150:
        for i in range(len(ys)):
            for j in range(len(xs)):
                if nr.np.isfinite(mean[i, j]):
                    ax.text(j, i, "%.4f" % mean[i, j], ha="center", va="center", fontsize=7,
                            color="white" if im.norm(mean[i, j]) < 0.5 else "black")
    best = min(cells) if cells else None
    if best is not None and best[0][0] == 0:
        import matplotlib.patches
        ax.add_patch(matplotlib.patches.Rectangle((best[2] - 0.5, best[1] - 0.5), 1, 1, fill=False, edgecolor="red",
                                                  lw=2))
    ax.set_xticks(range(len(xs)), xs, fontsize=8, rotation=30 if max(map(len, xs)) > 6 else 0)
    ax.set_yticks(range(len(ys)), ys, fontsize=8)
    ax.set_xlabel(x, fontsize=9)
    ax.set_ylabel(y, fontsize=9)
    fig.colorbar(im, ax=ax, shrink=0.9).ax.tick_params(labelsize=7)
    return svg(fig)


def sampled(values):
    """Values of a setting a search drew from a distribution: many, and all numbers (a grid of them is a heatmap)."""
    return len(values) > SAMPLED_VALUES and all(is_number(v) for v in values)


def scatter_figure(res, keep, metric, x, y, text, plt):
    """A pair with a sampled setting (a random search's learning rate, say), where a heatmap would be
    mostly empty cells: one dot per config point at its two values, coloured by its mean of metric,
    the best ringed in red. Numbers on a log axis when they are positive and span two decades."""
    s = res.summary
    points = {}
    for i in nr.np.flatnonzero(keep):
        points.setdefault(int(s["config"][i]), []).append(i)
    xv, yv, mean, keys = [], [], [], []
    for config, rows in points.items():
        xv.append(text[x][rows[0]])
        yv.append(text[y][rows[0]])
        mean.append(nr.mean_std(s[metric][rows])[0])
        keys.append(nr.rank_key(mean[-1], config, metric))
    fig, ax = plt.subplots(figsize=(4.2, 3.2), layout="constrained")
    coords = []
    for values, axis in ((xv, ax.xaxis), (yv, ax.yaxis)):
        if all(is_number(v) for v in values):
            nums = nr.np.array([float(v) for v in values])
            coords.append(nums)
            if (nums > 0).all() and nums.max() / nums.min() >= 100:
                (ax.set_xscale if axis is ax.xaxis else ax.set_yscale)("log")
        else:
            names = list(dict.fromkeys(values))
            coords.append(nr.np.array([names.index(v) for v in values], dtype=float))
            axis.set_ticks(range(len(names)), names, fontsize=8)
    m = nr.np.array(mean)
    finite = nr.np.isfinite(m)
    sc = ax.scatter(coords[0][finite], coords[1][finite], c=m[finite], s=22, edgecolors="0.3", linewidths=0.3,
                    cmap="viridis" if nr.higher_is_better(metric) else "viridis_r")
    best = min(range(len(keys)), key=lambda k: keys[k])
    if finite[best]:
        ax.scatter([coords[0][best]], [coords[1][best]], s=90, facecolors="none", edgecolors="red", linewidths=1.5)
    ax.set_xlabel(x, fontsize=9)
    ax.set_ylabel(y, fontsize=9)
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.3)
    fig.colorbar(sc, ax=ax, shrink=0.9).ax.tick_params(labelsize=7)
    return svg(fig)


def budget_figure(res, where, metric, plt):
    """plot_budget.py's curve: expected_max of the config points' means
    against n draws, and the training seconds n draws cost on average (for
    successive halving and Hyperband, drawn from the points that finished,
    each costing the whole search's seconds over their number). Returns
    (svg, the curve's dict) or None."""
    import plot_budget as pb
    try:
        _, curves = pb.budget_curves(res, metric, where, "seconds")
    except nr.NnlabError:  # no config point with a value to draw from
        return None
    c = curves[0]
    means, curve, per_draw = c["values"], c["expected"], c["cost"]
    n = nr.np.arange(1, len(curve) + 1)
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    ax.plot(n, curve, color="C0", lw=1.8, marker="o" if len(n) <= 30 else None, ms=3)
    ax.axhline(max(means) if nr.higher_is_better(metric) else min(means), color="0.5", ls=":", lw=1)
    ax.set_xscale("log" if len(n) > 20 else "linear")
    ax.set_xlabel("config points drawn at random (n)")
    ax.set_ylabel("expected best mean %s" % metric)
    ax.grid(alpha=0.3)
    if per_draw > 0:
        top = ax.secondary_xaxis("top", functions=(lambda v: v * per_draw, lambda v: v / per_draw))
        top.set_xlabel("training seconds, on average (%.3g s per config point)" % per_draw, fontsize=8)
    fig.tight_layout()
    return svg(fig), c


def search_figure(res, plt):
    """The staircase of a random, halving or Hyperband search (plot_search.py's left panel) and its
    best-so-far line; None for a grid, or without a validation split. Returns (svg, method text)."""
    import plot_search as ps
    if res.validation == "none":
        return None
    search = ps.search_of(res)
    if search["method"] not in SEARCHES:
        return None
    found = ps.Search(res, "val_acc")
    x, y = ps.trajectory(found.events(), "val_acc")
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(10, 3.8), gridspec_kw={"width_ratios": [1.3, 1]})
    cmap, n = plt.get_cmap("plasma"), max(len(found.ranked), 2)
    for e in reversed(found.ranked):
        yv, rank = found.mean_curve(e), e["search_rank"]
        ax.plot(nr.np.arange(len(yv)), yv, color=cmap(0.85 * (rank - 1) / (n - 1)), lw=2 if rank <= 3 else 0.8,
                alpha=1 if rank <= 3 else 0.7)
        last = nr.np.flatnonzero(nr.np.isfinite(yv))
        if last.size and last[-1] < e["rungs"][-1]:
            ax.plot(last[-1], yv[last[-1]], "o", ms=2.5, color=cmap(0.85 * (rank - 1) / (n - 1)))
    rungs = {tuple(e["rungs"]) for e in found.entries}
    if len(rungs) == 1:
        for b in list(rungs)[0][:-1]:
            ax.axvline(b, color="0.5", ls=":", lw=1)
    ax.set_title("each trial's mean val_acc (dark: ranked best; a dot where it stopped)", fontsize=9)
    ax.set_xlabel("epoch (0 = before training)")
    ax.grid(alpha=0.3)
    bx.plot(nr.np.concatenate([[0], x]), nr.np.concatenate([[nr.np.nan], y]), drawstyle="steps-post", lw=1.8)
    bx.set_title("best config-point mean val_acc against epochs spent", fontsize=9)
    bx.set_xlabel("epochs trained, all runs together")
    bx.set_xlim(left=0)
    bx.grid(alpha=0.3)
    fig.tight_layout()
    return svg(fig), ps.describe(search)


# ---- the page -----------------------------------------------------------------------------------------------

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:0 auto;max-width:1180px;
padding:0 18px 40px;color:#1c1c1c}
h1{font-size:22px;margin:18px 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd}
.meta{color:#444}.warn{background:#fff3cd;border:1px solid #e0c060;padding:6px 10px;margin:8px 0}
pre{background:#f6f6f6;padding:8px;overflow:auto;font-size:12px;max-height:260px}
nav a{margin-right:12px}
.scroll{overflow:auto;max-height:640px;border:1px solid #ddd}
table{border-collapse:collapse;font-size:12px;font-variant-numeric:tabular-nums}
th,td{padding:2px 7px;border-bottom:1px solid #eee;text-align:right;white-space:nowrap}
th{position:sticky;top:0;background:#f0f0f0;cursor:pointer;user-select:none}
th.asc::after{content:" \\25B2"}th.desc::after{content:" \\25BC"}
td.text{text-align:left}tr.tied td{background:#eef7ee}
.figs{display:flex;flex-wrap:wrap;gap:14px}.figs figure{margin:0}
figure svg{max-width:100%;height:auto}figcaption{font-size:12px;color:#555}
dl.counts{display:grid;grid-template-columns:max-content max-content;gap:2px 14px}dl.counts dd{margin:0}
"""

# The first script: records errors (of this page's script too) where a test can read them.
ERRORS_JS = """
(function(){var box=document.getElementById('nnlab-errors');function note(t){box.textContent+=t+'\\n';}
window.addEventListener('error',function(e){note('error: '+e.message);});
var ce=console.error;console.error=function(){note('console.error: '+Array.prototype.join.call(arguments,' '));
ce.apply(console,arguments);};})();
"""

# Sorting: a click on a header sorts by that column, ascending, then toggles; numbers as numbers when every
# filled cell of the column is one (empty and nan last); equal keys keep their previous order (stable).
SORT_JS = """
(function(){
var table=document.getElementById('ranked'),body=table.tBodies[0],heads=table.tHead.rows[0].cells;
function num(s){return s===''||/^(nan|-?inf)$/i.test(s)?null:Number(s);}
function sortBy(col,dir){
  var rows=Array.prototype.slice.call(body.rows),numeric=rows.every(function(r){
    var v=r.cells[col].dataset.v;return v===''||/^(nan|-?inf)$/i.test(v)||!isNaN(Number(v));});
  var keyed=rows.map(function(r,i){var t=r.cells[col].dataset.v;return {r:r,i:i,k:numeric?num(t):t};});
  keyed.sort(function(a,b){
    if(a.k===null||b.k===null){return a.k===b.k?a.i-b.i:(a.k===null?1:-1);}
    var c=numeric?a.k-b.k:(a.k<b.k?-1:a.k>b.k?1:0);return c?dir*c:a.i-b.i;});
  keyed.forEach(function(x){body.appendChild(x.r);});
  for(var h=0;h<heads.length;h++){heads[h].className=h===col?(dir>0?'asc':'desc'):'';}
}
Array.prototype.forEach.call(heads,function(th,col){th.addEventListener('click',function(){
  sortBy(col,th.className==='asc'?-1:1);});});
var m=/[#&]sort=([^&:]+)(?::(asc|desc))?/.exec(location.hash);
if(m){var name=decodeURIComponent(m[1]),found=false;
  Array.prototype.forEach.call(heads,function(th){if(th.dataset.column===name){found=true;th.click();
    if(m[2]==='desc'){th.click();}}});
  if(!found){console.error('#sort: no column '+name);}}
window.addEventListener('load',function(){setTimeout(function(){var t=performance.timing;
  document.getElementById('nnlab-load').textContent=String(t.loadEventEnd-t.navigationStart);},0);});
document.body.dataset.ready='1';
})();
"""


def esc(text):
    return html.escape(str(text), quote=True)


def is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


def shown(text):
    """A CSV number as the table shows it: as printed when short (ids, counts, swept values such as 0.003),
    else (a mean, a std) to 4 decimals, or 4 significant digits below 0.01; the exact text stays in the
    cell's data-v, which sorting reads."""
    if len(text) <= 8 or not math.isfinite(float(text)):
        return text
    v = float(text)
    return "%.4f" % v if v == 0 or abs(v) >= 0.01 else "%.4g" % v


def table_html(header, rows):
    """The summary CSV as a table: every column, each cell's exact text in data-v (what a test compares and
    sorting reads), numbers shown rounded; a tied row marked when the column exists."""
    tied = header.index("tied") if "tied" in header else None
    out = ['<div class="scroll"><table id="ranked"><thead><tr>']
    out += ['<th data-column="%s" title="click to sort">%s</th>' % (esc(h), esc(h)) for h in header]
    out.append("</tr></thead><tbody>")
    for row in rows:
        mark = tied is not None and row[tied].strip() == "1"  # 1 tied, 0 not, empty: not tested
        out.append('<tr class="tied">' if mark else "<tr>")
        out += ['<td data-v="%s" title="%s">%s</td>' % (esc(v), esc(v), esc(shown(v))) if is_number(v)
                else '<td class="text" data-v="%s">%s</td>' % (esc(v), esc(v)) for v in row]
        out.append("</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def counts_html(res, keep):
    status = [nr._text(v) for v in res.summary["status"][keep]]
    counts = {}
    for st in status:
        counts[st] = counts.get(st, 0) + 1
    items = [("runs", len(status))] + sorted(counts.items())
    return '<dl class="counts">%s</dl>' % "".join("<dt>%s</dt><dd>%d</dd>" % (esc(k), v) for k, v in items)


def created(res):
    text = res._attr(res.file, "created", "text")
    if text:
        return text
    return datetime.datetime.fromtimestamp(os.path.getmtime(res.path), datetime.timezone.utc).strftime(
        "%Y-%m-%d %H:%M:%S UTC (file modified)")


def experiment_text(res):
    if res.experiment:
        return res.experiment
    path = os.path.join(os.path.dirname(res.path), "experiment.yaml")
    if os.path.isfile(path):
        with open(path, errors="replace") as f:
            return f.read()
    return "(the results file holds no experiment text)"


def nnlab_version(nnlab):
    try:
        r = subprocess.run([nnlab, "--version"], capture_output=True, text=True)
        return r.stdout.strip() if r.returncode == 0 else "nnlab (version unknown)"
    except OSError:
        return "nnlab (version unknown)"


def build(args):
    header, rows, notes = run_summary(args.nnlab, args.results, args.where, args.top)
    where = nr.parse_where(args.where)
    with nr.load(args.results) as res:
        metric = res.rank_metric
        keep = res.where_rows(where)
        entries = res.configs(where, metric)
        by_id = {e["config"]: e for e in entries}
        if "config" not in header:
            raise nr.NnlabError("%s: nnlab summary --csv gave no config column" % res.path)
        col = header.index("config")
        shown = [by_id[int(r[col])] for r in rows if int(r[col]) in by_id]
        import matplotlib
        matplotlib.use("Agg")
        matplotlib.rcParams["svg.fonttype"] = "none"  # text as text: smaller, and in the page's font
        import matplotlib.pyplot as plt
        curves, left_out = curves_figure(res, shown[:CURVE_CONFIGS], plt) if shown else (None, 0)
        swept = [k for k in res.swept if len({e["values"][k] for e in entries}) > 1]
        heatmaps, too_big = [], []
        # successive halving or Hyperband: the cells average the points that trained to the end only (a
        # pruned point's runs stopped after an epoch or a few, and would drag its cells down)
        pruned = [e for e in entries if e["pruned"]]
        cells = keep.copy()
        for e in pruned:
            cells[e["runs"]] = False
        args.heatmap_pruned = len(pruned) if cells.any() else 0
        if not cells.any():
            cells = keep
        for i, y in enumerate(swept):
            for x in swept[i + 1:]:
                fig = heatmap_figure(res, cells, metric, x, y, plt)
                (heatmaps if fig else too_big).append((x, y, fig))
        budget = budget_figure(res, where, metric, plt)
        search = search_figure(res, plt)
        page = render(args, res, header, rows, notes, metric, keep, entries, shown, curves, left_out, heatmaps,
                      too_big, budget, search)
    return page


def render(args, res, header, rows, notes, metric, keep, entries, shown, curves, left_out, heatmaps, too_big,
           budget, search):
    name = res.name or os.path.basename(os.path.dirname(res.path))
    n_runs = int(keep.sum())
    over = "runs (seeds × folds)" if res.validation == "folds" else "seeds"
    p = ['<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
         '<meta name="viewport" content="width=device-width, initial-scale=1">',
         "<title>nnlab report: %s</title><style>%s</style></head><body>" % (esc(name), CSS),
         '<pre id="nnlab-errors" hidden></pre><span id="nnlab-load" hidden></span>',
         "<script>%s</script>" % ERRORS_JS,
         "<h1>%s</h1>" % esc(name)]
    ranking = ("ranked on the validation set: mean %s over %s, best first" % (metric, over) if not res.ranked_on_test
               else "ranked by mean %s over %s, best first" % (metric, over))
    p.append('<p class="meta">%s<br>%d runs in %d config points%s; results file %s, written %s by nnlab %s; '
             "report by %s on %s</p>" % (
                 esc(ranking), n_runs, len(entries),
                 esc(" (where %s)" % ", ".join(args.where)) if args.where else "",
                 esc(res.path), esc(created(res)), esc(res._attr(res.file, "nnlab_version", "text") or "?"),
                 esc(nnlab_version(args.nnlab)), datetime.date.today().isoformat()))
    # nnlab summary's lines on stderr: the ranked-on-test warning and those about the file (run files not
    # merged, rejected) here; the others (what the tied column means, ...) under the table
    warnings = [n for n in notes if n == nr.RANKED_ON_TEST or n.startswith(args.results)]
    for note in warnings:
        p.append('<p class="warn">%s</p>' % esc(note))
    p.append('<nav><a href="#experiment">experiment</a><a href="#table">ranked table</a><a href="#curves">curves</a>'
             '<a href="#heatmaps">heatmaps</a><a href="#budget">budget</a>%s<a href="#runs">runs</a></nav>'
             % ('<a href="#search">search</a>' if search else ""))
    p.append('<h2 id="experiment">The experiment</h2><details open><summary>the resolved experiment '
             "(as stored in the results file)</summary><pre>%s</pre></details>" % esc(experiment_text(res)))
    p.append('<h2 id="table">Ranked config points</h2><p class="meta">The rows of <code>nnlab summary %s --csv%s</code>'
             " (%d of %d config points). Click a header to sort by it; again to reverse.%s</p>" % (
                 esc(args.results), esc("".join(" --where " + w for w in args.where)
                                         + (" --top %d" % args.top if args.top else "")),
                 len(rows), len(entries), " Green rows are tied with the best (column tied)." if "tied" in header
                 else ""))
    p.append(table_html(header, rows))
    p += ['<p class="meta">%s</p>' % esc(n) for n in notes if n not in warnings]
    p.append('<h2 id="curves">Learning curves</h2>')
    if curves:
        p.append('<p class="meta">The best %d config points: mean ± std over their %s, per epoch; accuracy bands '
                 "clipped to [0, 1]. %s</p>" % (
                     min(len(shown), CURVE_CONFIGS), over,
                     "%d diverged run%s left out of the bands." % (left_out, "s" if left_out != 1 else "")
                     if left_out else "No run diverged."))
        p.append("<figure>%s</figure>" % curves)
    else:
        p.append("<p>No config point to show.</p>")
    p.append('<h2 id="heatmaps">Settings, two at a time</h2>')
    if heatmaps:
        p.append('<p class="meta">Mean %s over the runs of each cell (every other swept setting averaged); the best '
                 "cell framed in red. A setting a search sampled (more than %d numbers) is drawn as a scatter "
                 "instead: a dot per config point, the best ringed in red.%s</p><div class=\"figs\">"
                 % (esc(metric), SAMPLED_VALUES, esc(" The %d config points the search pruned are left out: their "
                                                     "runs stopped early." % args.heatmap_pruned)
                    if getattr(args, "heatmap_pruned", 0) else ""))
        for x, y, fig in heatmaps:
            p.append("<figure>%s<figcaption>%s × %s</figcaption></figure>" % (fig, esc(y), esc(x)))
        p.append("</div>")
    else:
        p.append("<p>Fewer than two swept settings vary: no heatmap.</p>")
    if too_big:
        p.append("<p>Not drawn (more than %d values along a side): %s.</p>" % (
            MAX_HEATMAP_SIDE, esc(", ".join("%s × %s" % (y, x) for x, y, _ in too_big))))
    p.append('<h2 id="budget">Budget</h2>')
    if budget:
        fig, c = budget
        left = ""
        if c["left_out"]:
            left = " (%d pruned or without a value left out; their seconds counted)" % c["left_out"]
        p.append('<p class="meta">What a smaller search would have found: the expected best mean %s of n config '
                 "points drawn at random, with replacement, from these %d%s (Dodge et al. 2019, as "
                 "scripts/plot_budget.py draws it); the dotted line is the best of all.</p><figure>%s</figure>"
                 % (esc(metric), len(c["values"]), esc(left), fig))
    else:
        p.append("<p>No config point has a value of %s.</p>" % esc(metric))
    if search:
        p.append('<h2 id="search">The search</h2><p class="meta">%s: %d trials.</p><figure>%s</figure>' % (
            esc(search[1]), len(entries), search[0]))
    p.append('<h2 id="runs">Runs</h2><p class="meta">The runs in the results file by status: ok, diverged (a '
             "non-finite loss stopped it), pruned or paused (successive halving, Hyperband). A run that failed (an "
             "error, not a divergence) is not in the file: <code>nnlab run</code> reported it, and "
             "<code>nnlab run --resume</code> runs it again.</p>")
    p.append(counts_html(res, keep))
    p.append("<script>%s</script></body></html>\n" % SORT_JS)
    return "".join(p)


def write(path, text):
    """path whole or not at all: a temporary file beside it, then renamed."""
    tmp = os.path.join(os.path.dirname(path) or ".", ".%s.%d.tmp" % (os.path.basename(path), os.getpid()))
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as e:
        raise nr.NnlabWriteError("%s: cannot write: %s" % (path, e.strerror or e)) from None
    finally:
        if os.path.lexists(tmp):
            os.remove(tmp)


def main():
    p = argparse.ArgumentParser(prog="nnlab report", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("results", help="results.h5 (or the output folder holding it)")
    p.add_argument("-o", "--output", help="the HTML file (default: report.html beside results.h5)")
    p.add_argument("--where", action="append", default=[], metavar="KEY=VALUE",
                   help="keep config points with this swept value (as nnlab summary --where)")
    p.add_argument("--top", type=int, help="the table shows the best N config points (as nnlab summary --top)")
    p.add_argument("--nnlab", default=os.environ.get("NNLAB", "nnlab"), help="the nnlab binary to run summary with")
    args = p.parse_args()
    if args.top is not None and args.top < 1:
        p.error("--top needs a positive number")
    folder = args.results if os.path.isdir(args.results) else os.path.dirname(args.results)
    output = args.output or os.path.join(folder, "report.html")
    page = build(args)
    write(output, page)
    print("wrote %s" % output)


if __name__ == "__main__":
    nr.run_main(main)
