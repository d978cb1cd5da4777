#!/usr/bin/env python3
"""What a hyperparameter search found, and what it cost. Left, "the halving
staircase": each trial's (config point's) validation value per epoch, the
mean over its seeds and folds, coloured by its final rank (as `nnlab summary`
ranks: config points promoted to their last rung first, then the pruned ones
by rung reached, then by the mean), the best drawn on top; a trial that
successive halving or Hyperband pruned ends where it stopped. Right: the
best config-point mean found so far against the epochs trained so far by
all runs together, in the order the search spends them
(rung by rung, trial order within a rung; a grid or random search is one
rung, in config order), for this search and for each --grid results file on
the same axes. The output format follows the file extension.

  plot_search.py results/random-search -o search.png
  plot_search.py results/random-search -o search.png --grid results/things-to-try-holdout
  plot_search.py results/random-search -o search.pdf --metric val_loss
  plot_search.py results/halving results/random-search results/things-to-try-holdout -o search.pdf --style paper

With several results files the first is the search drawn on the left; the
others are drawn beside it on the right, as --grid files are.

A run's value at a rung ending at epoch b is what nnlab would report had the
run stopped at b: the value of --metric at its selected epoch among 0..b
(training.select); at the rung where it stopped, its /summary value. A
config point's value is the mean over its runs (nnlab's bits), counted once
every one of them has trained that rung.
"""
import argparse
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nnlab_results as nr  # noqa: E402

METHODS = ("grid", "random", "halving", "hyperband")
NEEDS_VALIDATION = "plot_search needs a validation split (dataset.validation_fraction or dataset.folds)"
SELECT = ("val_loss", "val_acc")  # training.select
MAX_RUNGS = 32  # rungs of one bracket at most (SCHEDULE_MAX_RUNGS in src/schedule.h)
MAX_EPOCHS = 10 ** 7  # more epochs than any run trains (training.epochs has at most 7 digits here)
TOP = 3  # config points named in the legend


# ---- the search, as the resolved experiment states it -----------------------------------------------------------

def _scalar(text):
    """A YAML scalar as nnlab writes it: quotes taken off, a trailing comment dropped."""
    return nr._yaml_text(text)


def _flow(text):
    """{key: value text} of a flow mapping '{a: 1, b: [2, 3]}' (its top level only)."""
    return dict(nr._flow_items(text))


def mapping(text, key):
    """{name: value text} of the top-level mapping `key:` of a resolved
    experiment (block lines two spaces in, or a flow mapping); None without one."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = re.fullmatch(r"%s:(.*)" % re.escape(key), line.rstrip())
        if not m:
            continue
        rest = _scalar(m.group(1)) if not m.group(1).strip().startswith("{") else m.group(1).strip()
        if rest.startswith("{"):
            return _flow(rest)
        out = {}
        for line in lines[i + 1:]:
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if not line.startswith(" "):
                break
            m = re.fullmatch(r"  ([A-Za-z_][A-Za-z0-9_.]*):(.*)", line.rstrip())
            if m:
                out[m.group(1)] = m.group(2).strip()
        return out
    return None


def search_of(res):
    """{"method", "min_epochs", "eta"} of the file's search: its resolved
    experiment's `search:` block (none: a grid); method None when the file
    holds no experiment text."""
    if not res.experiment:
        return {"method": None}
    block = mapping(res.experiment, "search")
    if block is None:
        return {"method": "grid"}
    method = _scalar(block.get("method", "grid"))
    if method not in METHODS:
        raise nr.NnlabError("%s: the experiment's search.method is '%s', not one of %s"
                            % (res.path, method, ", ".join(METHODS)))
    search = {"method": method}
    if method in ("halving", "hyperband"):
        for key, low, high in (("min_epochs", 1, 1000000), ("eta", 2, 1000)):  # nnlab's bounds (src/cfg.c)
            text = _scalar(block.get(key, ""))
            if not re.fullmatch(r"[0-9]{1,7}", text) or not low <= int(text) <= high:
                raise nr.NnlabError("%s: the experiment's search.%s is '%s', not an integer from %d to %d"
                                    % (res.path, key, text, low, high))
            search[key] = int(text)
    return search


def describe(search):
    method = search["method"]
    if method is None:
        return "search of unknown method (no experiment text)"
    if method in ("halving", "hyperband"):
        return "%s (min_epochs %d, eta %d)" % ("successive halving" if method == "halving" else "Hyperband",
                                               search["min_epochs"], search["eta"])
    return method + " search"


def halving_rungs(min_epochs, eta, epochs):
    """The epochs at which successive halving's rungs end: min_epochs·eta^k
    below training.epochs, then training.epochs."""
    out, b = [], min_epochs
    while b < epochs and len(out) < MAX_RUNGS - 1:
        out.append(b)
        b *= eta
    return out + [epochs]


def hyperband_brackets(min_epochs, eta, epochs):
    """[(trials, rung end epochs)] of Hyperband's brackets s = s_max .. 0 (Li
    et al. 2018, R = epochs / min_epochs; s_max the largest s where
    min_epochs·eta^s <= epochs), as nnlab runs them: ⌈(s_max + 1)·eta^s/(s + 1)⌉
    trials each, numbered on across the brackets, whose rung i ends at
    ⌊epochs/eta^(s - i)⌋ epochs."""
    s_max = 0
    while s_max < MAX_RUNGS - 1 and min_epochs * eta ** (s_max + 1) <= epochs:
        s_max += 1
    return [(-(-(s_max + 1) * eta ** s // (s + 1)), [epochs // eta ** (s - i) for i in range(s)] + [epochs])
            for s in range(s_max, -1, -1)]


# ---- the search's runs ------------------------------------------------------------------------------------------

class Search:
    """A results file read for this script: its search, each config point's
    rungs, the rung each run reached, and (lazily) its runs' curves."""

    def __init__(self, res, metric):
        if res.validation == "none":
            why = " (a format 1 file, from nnlab 0.3, has none)" if res.format_version == 1 else ""
            raise nr.NnlabError("%s: %s%s" % (res.path, NEEDS_VALIDATION, why))
        self.res, self.metric, self.s = res, res.check_metric(metric), res.summary
        s = self.s
        res.require_values(metric, nr.np.arange(len(s)))
        self.search = search_of(res)
        self.entries = res.configs(metric=metric, ranked=False)
        self._curves, self._select = {}, {}
        done = s["epochs_done"].astype(float)
        bad = nr.np.flatnonzero(~nr.np.isfinite(done) | (done < 0) | (done > MAX_EPOCHS) | (done != nr.np.round(done)))
        if bad.size:
            raise nr.NnlabError("%s: /summary row %d: epochs_done %s is not a number of epochs"
                                % (res.path, bad[0], nr.value_text(s["epochs_done"][bad[0]])))
        self.done = [int(v) for v in done]
        self.epochs = self._epochs()
        self.rung = self._rungs()
        self.schedule = self._schedule()
        for e in self.entries:
            rungs = self.schedule[e["config"]]
            e["rungs"] = rungs
            e["reached"] = max(self.rung[i] for i in e["runs"])
            e["finished"] = e["reached"] == len(rungs) - 1
            for i in e["runs"]:
                if self.rung[i] >= len(rungs):
                    many = "s" if len(rungs) > 1 else ""
                    raise nr.NnlabError("%s: /summary row %d: rung %d is not a rung of its search (%s: %d rung%s, "
                                        "ending at epoch%s %s)" % (res.path, i, self.rung[i], describe(self.search),
                                                                   len(rungs), many, many, ", ".join(map(str, rungs))))
                if self.done[i] > rungs[self.rung[i]]:
                    raise nr.NnlabError("%s: run %d trained %d epochs, past the end of its rung %d at epoch %d (%s)"
                                        % (res.path, s["run"][i], self.done[i], self.rung[i], rungs[self.rung[i]],
                                           describe(self.search)))
            # as nnlab summary: pruned when a run is (or is paused: an interrupted search)
            e["pruned"] = any(nr._text(s["status"][i]) in ("pruned", "paused") for i in e["runs"])
        # nnlab summary's order: config points not pruned (promoted to their last rung) first, then the
        # pruned ones by rung reached; then by the mean (NaN last), equal means by config id
        self.ranked = sorted(self.entries, key=lambda e: (int(e["pruned"]), -e["reached"] if e["pruned"] else 0)
                             + nr.rank_key(e["mean"][metric], e["config"], metric))
        for rank, e in enumerate(self.ranked, 1):
            e["search_rank"] = rank

    def curves(self, row):
        if row not in self._curves:
            self._curves[row] = self.res.curves(self.s["run"][row])
        return self._curves[row]

    def _epochs(self):
        """training.epochs: from the experiment text, else the longest run's."""
        block = mapping(self.res.experiment, "training") if self.res.experiment else None
        text = _scalar(block.get("epochs", "")) if block else ""
        if re.fullmatch(r"[1-9][0-9]{0,6}", text):
            return int(text)
        return max(max(self.done), 1)

    def _rungs(self):
        """The rung each run reached: /summary's rung column, else for a
        halving or Hyperband file the rung its epochs_done falls in (later),
        else 0."""
        s, res = self.s, self.res
        if "rung" not in s.dtype.names:
            return None
        dt = s.dtype.fields["rung"][0]
        if not nr._kind_of(dt, "int"):
            raise nr.NnlabError("%s: /summary column rung holds %s, not integers" % (res.path, nr._describe(dt)))
        bad = nr.np.flatnonzero((s["rung"] < 0) | (s["rung"] >= MAX_RUNGS))
        if bad.size:
            raise nr.NnlabError("%s: /summary row %d: rung %d is not a rung (0..%d)"
                                % (res.path, bad[0], s["rung"][bad[0]], MAX_RUNGS - 1))
        return [int(v) for v in s["rung"]]

    def _schedule(self):
        """{config: [the epoch each of its rungs ends at]}; fills self.rung when
        the file has no rung column."""
        method, entries = self.search["method"], self.entries
        if method == "halving":
            rungs = halving_rungs(self.search["min_epochs"], self.search["eta"], self.epochs)
            out = {e["config"]: rungs for e in entries}
        elif method == "hyperband":
            brackets = hyperband_brackets(self.search["min_epochs"], self.search["eta"], self.epochs)
            starts = nr.np.cumsum([0] + [n for n, _ in brackets])
            out = {}
            for e in entries:
                b = int(nr.np.searchsorted(starts, e["config"], side="right")) - 1
                if b >= len(brackets):
                    raise nr.NnlabError("%s: config point %d is not a trial of the search (%s: %d trials)"
                                        % (self.res.path, e["config"], describe(self.search), starts[-1]))
                out[e["config"]] = brackets[b][1]
        elif self.rung is not None and method is None and max(self.rung) > 0:
            # no experiment text to say where the rungs end: where the runs pruned at each stopped
            ends = {}
            for i, r in enumerate(self.rung):
                ends[r] = max(ends.get(r, 0), self.done[i])
            top = max(self.rung)
            rungs = [ends.get(k, 0) for k in range(top)] + [max(self.epochs, ends[top])]
            for k in range(1, len(rungs)):
                rungs[k] = max(rungs[k], rungs[k - 1])
            out = {e["config"]: rungs for e in entries}
        else:  # grid, random: one rung, each run's own epochs (they may be sampled)
            out = {e["config"]: [max(self.epochs, max(self.done[i] for i in e["runs"]))] for e in entries}
        if self.rung is None:  # the rung whose end a run's epochs_done reaches
            self.rung = [0] * len(self.s)
            for e in entries:
                rungs = out[e["config"]]
                for i in e["runs"]:
                    self.rung[i] = min(int(nr.np.searchsorted(rungs, self.done[i])), len(rungs) - 1)
        return out

    def select(self, row):
        """training.select of the run in this row (its attribute, else the experiment's, else val_loss)."""
        if row not in self._select:
            v = self.res.run_attr(self.s["run"][row], "training.select", "text")
            if v is None:
                block = mapping(self.res.experiment, "training") if self.res.experiment else None
                v = _scalar(block.get("select", "val_loss")) if block else "val_loss"
            if v not in SELECT:
                raise nr.NnlabError("%s: run %d's training.select is '%s', not one of %s"
                                    % (self.res.path, self.s["run"][row], v, ", ".join(SELECT)))
            self._select[row] = v
        return self._select[row]

    def value(self, row, end):
        """The run's value of metric had it stopped at epoch `end`: its /summary
        value once it has trained no further, else the value at the epoch
        training.select picks among 0..end (ties: the earliest)."""
        if self.done[row] <= end:
            return float(self.s[self.metric][row])
        c = self.curves(row)
        sel = c[self.select(row)][:end + 1]
        finite = nr.np.isfinite(sel)
        if not finite.any():
            return float("nan")
        pick = sel if self.select(row) == "val_acc" else -sel
        return float(c[self.metric][int(nr.np.argmax(nr.np.where(finite, pick, -nr.np.inf)))])

    def events(self):
        """[(rung, config, epochs spent, config point's mean)] in the order the
        search spends them: rung by rung, trial (config) order within a rung."""
        out = []
        for k in range(max(len(e["rungs"]) for e in self.entries)):
            for e in self.entries:  # config order
                if e["reached"] < k:
                    continue
                rows = [i for i in e["runs"] if self.rung[i] >= k]
                end, start = e["rungs"][k], e["rungs"][k - 1] if k else 0
                spent = sum(min(self.done[i], end) - min(self.done[i], start) for i in rows)
                mean = nr.welford(self.value(i, end) for i in rows)[0]
                out.append((k, e["config"], spent, mean))
        return out

    def mean_curve(self, entry):
        """The config point's mean of metric per epoch over its runs, NaN skipped."""
        curves = [self.curves(i)[self.metric] for i in entry["runs"]]
        n = max(len(c) for c in curves)
        stack = nr.np.full((len(curves), n), nr.np.nan)
        for j, c in enumerate(curves):
            stack[j, :len(c)] = c
        finite = nr.np.isfinite(stack)
        count = finite.sum(axis=0)
        return nr.np.where(count > 0, nr.np.where(finite, stack, 0).sum(axis=0) / nr.np.maximum(count, 1), nr.np.nan)


def short_label(entry, keys):
    """nr.label() with sampled reals to 3 significant digits."""
    def short(text):
        try:
            v = float(text)
        except ValueError:
            return text
        return text if v.is_integer() else "%.3g" % v
    return " ".join("%s=%s" % (k.split(".")[-1], short(entry["values"][k])) for k in keys) or "c%04d" % entry["config"]


def trajectory(events, metric):
    """(epochs spent so far, best config-point mean so far) after each event of
    Search.events(): x cumulative, y the best (by metric's direction) of the
    means seen so far, NaN before the first."""
    x, y, total, best = [], [], 0, float("nan")
    for _, _, spent, mean in events:
        total += spent
        if nr.np.isfinite(mean) and (not nr.np.isfinite(best) or
                                      (mean > best if nr.higher_is_better(metric) else mean < best)):
            best = mean
        x.append(total)
        y.append(best)
    return nr.np.array(x, dtype=float), nr.np.array(y, dtype=float)


def search_trajectory(res, metric=None):
    """trajectory() of a loaded results file: what panel 2 draws for it."""
    search = Search(res, metric or res.rank_metric)
    return trajectory(search.events(), search.metric)


# ---- the figure -------------------------------------------------------------------------------------------------

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    nr.add_inputs(p, output_required=False)
    p.add_argument("--metric", choices=SELECT[::-1],
                   help="validation metric (default: the file's ranking metric, val_acc, as nnlab summary ranks)")
    p.add_argument("--grid", nargs="+", default=[], metavar="OTHER_RESULTS",
                   help="other searches' results (a grid, say) to draw in the right panel beside this one")
    args = p.parse_args()
    args.output = args.output or ("search.pdf" if args.style == "paper" else "search.png")
    others = args.results[1:] + args.grid

    with nr.load(args.results[0]) as res:
        metric = args.metric or "val_acc"  # the ranking metric of a file with validation (Search checks it has)
        search = Search(res, metric)
        events = search.events()
        lines = [(res.name or os.path.basename(res.path), search, trajectory(events, metric))]
        for other in others:
            with nr.load(other) as o:
                s2 = Search(o, metric)
                lines.append((o.name or os.path.basename(o.path), s2, trajectory(s2.events(), metric)))
        means = {e["config"]: search.mean_curve(e) for e in search.entries}
        plt = nr.pyplot(args.style)  # after the input is checked: bad input fails fast
        paper = args.style == "paper"
        import matplotlib.cm
        import matplotlib.colors
        import matplotlib.lines
        n = len(search.ranked)
        if paper:  # one column: the staircase above the budget panel
            fig, (ax, bx) = plt.subplots(2, 1, figsize=(nr.PAPER_WIDTH, 5.6))
        else:
            fig, (ax, bx) = plt.subplots(1, 2, figsize=(14, 6.2), gridspec_kw={"width_ratios": [1.25, 1]})
        cmap = plt.get_cmap("plasma")
        norm = matplotlib.colors.Normalize(vmin=1, vmax=max(n, 2))
        colour = lambda rank: cmap(0.85 * norm(rank))  # noqa: E731 (the pale end of plasma is left out)
        handles, keys, stopped = [], nr.varying(search.entries), 0
        for e in reversed(search.ranked):  # the best drawn last, on top
            rank, y = e["search_rank"], means[e["config"]]
            top = rank <= TOP
            thin = 0.5 if paper else 1
            ax.plot(nr.np.arange(len(y)), y, color=colour(rank), lw=(2.2 if top else 1.0) * thin,
                    alpha=1 if top else 0.75, zorder=2 + n - rank)
            last = nr.np.flatnonzero(nr.np.isfinite(y))
            if last.size and last[-1] < e["rungs"][-1]:  # stopped short: pruned, diverged or stopped early
                stopped += 1
                ax.plot(last[-1], y[last[-1]], "o", ms=3.5, color=colour(rank), zorder=2 + n - rank)
            if top:
                label = "#%d c%04d: %s = %.4f (n=%d): %s" % (rank, e["config"], metric, e["mean"][metric],
                                                            e["n"][metric], short_label(e, keys))
                handles.insert(0, matplotlib.lines.Line2D([], [], color=colour(rank), lw=2.2 * thin, label=label))
        schedules = {tuple(e["rungs"]) for e in search.entries}
        if len(schedules) == 1 and len(search.entries[0]["rungs"]) > 1:
            for k, b in enumerate(search.entries[0]["rungs"][:-1]):
                ax.axvline(b, color="0.5", ls=":", lw=1)
                ax.text(b, 1.0, " rung %d" % k, transform=ax.get_xaxis_transform(), va="top",
                        fontsize=8 if paper else 7, color="0.4")
        pruned = sum(e["pruned"] for e in search.entries)
        notes = (["%d pruned" % pruned] if pruned else []) + (["a dot where a trial stopped"] if stopped else [])
        what = metric.replace("val_", "validation ").replace("acc", "accuracy")
        over = "runs (seeds × folds)" if res.validation == "folds" else "seeds"
        ax.set_title("the staircase: each trial's %s, mean over its %s%s" % (
            what, over, "\n" + ", ".join(notes) if notes else ""), fontsize=None if paper else 10)
        if paper:
            ax.set_title(nr.wrap(ax.get_title(), args.style), fontsize=None)
        ax.set_xlabel("epoch (0 = before training)")
        ax.set_ylabel("mean " + metric)
        ax.grid(alpha=0.3)
        if metric == "val_loss":
            ax.set_yscale("log")
        ranks = matplotlib.colors.ListedColormap([colour(r) for r in range(1, max(n, 2) + 1)])
        sm = matplotlib.cm.ScalarMappable(cmap=ranks, norm=matplotlib.colors.Normalize(vmin=0.5, vmax=max(n, 2) + 0.5))
        bar = fig.colorbar(sm, ax=ax, pad=0.01)
        bar.set_label("final rank" if paper else "final rank (1 = best, as nnlab summary ranks)")
        bar.ax.invert_yaxis()
        styles = ["-", "--", "-.", ":"]
        for j, (name, s2, (x, y)) in enumerate(lines):
            label = "%s: %s, %d config points, %d runs: %.4f after %d epochs" % (
                name, describe(s2.search), len(s2.entries), len(s2.s), y[-1], x[-1])
            line, = bx.plot(nr.np.concatenate([[0], x]), nr.np.concatenate([[nr.np.nan], y]), drawstyle="steps-post",
                            lw=(2 if j == 0 else 1.5) * (0.5 if paper else 1), ls=styles[j % len(styles)], label=label,
                            color="C%d" % j)
            bx.plot(x[-1:], y[-1:], "o", color=line.get_color())
        bx.set_title(nr.wrap("best config-point mean %s found against epochs spent" % metric, args.style),
                     fontsize=None if paper else 10)
        bx.set_xlabel("epochs trained, all runs together" + ("" if paper else " (rung by rung, trial order)"))
        bx.set_ylabel("best mean %s so far" % metric)
        bx.set_xlim(left=0)
        bx.grid(alpha=0.3)
        title = "%s, %d trials, %d runs; ranked by mean %s (%s first)\n%s" % (
            describe(search.search), n, len(search.s), metric,
            "highest" if nr.higher_is_better(metric) else "lowest", nr.provenance(res))
        title = nr.wrap(title, args.style, fig.get_figwidth())
        # one legend under both panels: the searches (right), then the best trials (left)
        handles = bx.get_legend_handles_labels()[0] + handles
        if paper:
            for h in handles:
                h.set_label(nr.wrap(h.get_label(), args.style, nr.PAPER_WIDTH - 0.4))
        lines = sum(h.get_label().count("\n") + 1 for h in handles)
        line = 0.15 if paper else 0.17  # inches per legend or title line
        height = fig.get_figheight() + (line * lines if paper else 0)
        fig.set_figheight(height)
        fig.suptitle(title, fontsize=None if paper else 11)
        fig.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.01, 0.005), fontsize=None if paper else 7.5,
                   frameon=False)
        fig.tight_layout(rect=(0, (0.05 + line * lines) / height, 1, 1 - (title.count("\n") + 1.1) * line / height))
        written = nr.save_styled(fig, args.output, args.style)
    print("wrote %s" % written)


if __name__ == "__main__":
    nr.run_main(main)
