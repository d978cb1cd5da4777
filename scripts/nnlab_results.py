"""Load nnlab results files (format_version 2, and format 1 of nnlab 0.3)
into numpy, for notebooks and the plotting scripts. The format is
docs/results-format.md.

    import nnlab_results as nr
    res = nr.load("results/things-to-try/results.h5")
    res.format_version           # 1 or 2
    res.validation               # "none", "holdout" or "folds" ("none" for format 1)
    res.summary                  # structured array, one row per run (as /summary)
    res.swept                    # ["model.activation", "training.optimizer", ...]
    res.METRICS                  # the summary metrics this file has (format 1: its old columns)
    res.rank_metric              # val_acc with validation; else test_acc (format 1: final_test_acc)
    res.ranked_on_test           # True without validation: the ranking is a test-set selection
    res.configs()                # one dict per config point, best first: config, values, n_runs,
                                 # n_seeds, n_diverged, mean, std, n, runs, rank
    res.configs(metric="test_loss")   # ranked by another metric
    res.best_run()               # the run id plot_weights.py shows by default
    res.curves(17)               # {"train_loss": array, ...} of run 17 (val_* with validation)
    res.weights(17)              # [(W0, b0), (W1, b1), ...] after the last epoch trained;
                                 # which="best" at best_epoch (with validation), "init" (or init=True)
    res.aggregate(3)             # {"mean": {...}, "std": {...}, "attrs": {...}} of config point 3
    res.dataframe()              # the summary as a pandas DataFrame (needs pandas)

Config points are ranked as `nnlab summary` ranks them, so that "the best
10" is the same set everywhere: by the mean over their runs (seeds x folds)
of the metric, accuracies descending and everything else (losses, seconds,
epochs) ascending, equal means (to the last bit) by config id, lower first,
and config points without a finite value last. Means and standard
deviations skip non-finite values and use Welford's update in run order,
in Python floats, so that they are the same bits as nnlab's (numpy's
pairwise sum is not); the std is the sample one (n - 1), 0 for one value.
Errors are raised as NnlabError with a message meant for the user.
"""
import math
import os
import sys

import numpy as np

try:
    import h5py
except ImportError as e:  # pragma: no cover
    raise SystemExit("nnlab_results needs h5py (Debian: python3-h5py)") from e

CURVES = ("train_loss", "test_loss", "train_acc", "test_acc")  # every run's curves, either format
VAL_CURVES = ("val_loss", "val_acc")                            # format 2 with validation only
# The /summary metrics of each format (res.METRICS is the file's own).
METRICS_1 = ("final_test_acc", "best_test_acc", "final_test_loss", "final_train_acc", "final_train_loss", "seconds")
METRICS_2 = ("val_acc", "val_loss", "test_acc", "test_loss", "final_val_acc", "final_val_loss", "final_test_acc",
             "final_test_loss", "final_train_acc", "final_train_loss", "best_epoch", "epochs_done", "seconds")
# Every metric of either format: what a script's --metric accepts before it has opened a file.
METRICS = METRICS_2 + tuple(m for m in METRICS_1 if m not in METRICS_2)
VALIDATION = ("none", "holdout", "folds")
FORMAT_VERSIONS = (1, 2)
# The line that says a ranking was made on the test set (as `nnlab summary` prints it).
RANKED_ON_TEST = "ranked on the test set: no validation split (dataset.validation_fraction or dataset.folds)"


class NnlabError(Exception):
    """A problem with the user's input: missing file, not a results file, unknown key."""


class NnlabWriteError(Exception):
    """An output that could not be written (a missing folder, no permission, disk full)."""


def _text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


# The true/false settings that can be swept (SET_BOOL in src/cfg.c), stored as 1 and 0.
SWITCHES = ("training.shuffle", "training.train_curves")


def value_text(v, key=None):
    """A swept value of setting `key` as nnlab prints it: strings as is,
    numbers shortest, switches as true and false."""
    if isinstance(v, (bytes, np.bytes_)):
        return v.decode()
    if key in SWITCHES and v in (0, 1):
        return "true" if v else "false"
    if isinstance(v, (float, np.floating)):
        return "%.10g" % v
    return str(v)


def same_value(have, want):
    """A swept value's text against one given on the command line: numbers by
    value (0.20 is 0.2; true and false are 1 and 0 either side), anything else
    ignoring spaces ([200,100])."""
    have, want = ({"true": "1", "false": "0"}.get(v, v) for v in (have, want))
    if have == want:
        return True
    try:
        return float(have) == float(want)
    except ValueError:
        return have.replace(" ", "") == want.replace(" ", "")


def welford(values):
    """(mean, std, n) over the finite values, in their order, as nnlab
    computes them: Welford's update in float64, one value at a time
    (delta = v - mean; k += 1; mean += delta / k; m2 += delta * (v - mean)),
    std = sqrt(m2 / (k - 1)), 0 for one value; (nan, nan, 0) for none.
    A Python loop on purpose: numpy's sums are pairwise and differ in the
    last bits, and the ranking breaks ties by config id only when the means
    are equal to the last bit."""
    k, mean, m2 = 0, 0.0, 0.0
    for v in values:
        v = float(v)
        if not math.isfinite(v):
            continue
        delta = v - mean
        k += 1
        mean += delta / k
        m2 += delta * (v - mean)
    if k == 0:
        return math.nan, math.nan, 0
    return mean, (math.sqrt(m2 / (k - 1)) if k > 1 else 0.0), k


def mean_std(values):
    """Mean and sample std (n - 1) over the finite values, as welford(); (nan, nan) if none."""
    mean, std, _ = welford(values)
    return mean, std


def higher_is_better(metric):
    """Accuracies rank descending; losses, seconds and epochs ascending (as nnlab: '_acc' in the name)."""
    return "_acc" in metric


def rank_key(value, tiebreak, metric):
    """The sort key of a config point (or run) whose mean (or value) of metric is
    `value`: best first, equal values (to the last bit) by `tiebreak` (config or
    run id) ascending, NaN last."""
    value = float(value)
    if math.isnan(value):
        return (1, 0.0, tiebreak)
    return (0, -value if higher_is_better(metric) else value, tiebreak)


def rank(entries, metric):
    """Config entries (of configs()) sorted best first by their mean of metric."""
    return sorted(entries, key=lambda e: rank_key(e["mean"][metric], e["config"], metric))


class Results:
    """An open results.h5; use as a context manager or call close()."""

    def __init__(self, path):
        if os.path.isdir(path):
            path = os.path.join(path, "results.h5")
        if not os.path.exists(path):
            raise NnlabError("%s: no such file" % path)
        try:
            self.file = h5py.File(path, "r")
        except OSError as e:
            raise NnlabError("%s: not an HDF5 file (%s)" % (path, e)) from None
        self.path = path
        try:
            self._open()
        except BaseException:
            self.file.close()
            raise

    def _open(self):
        path, f = self.path, self.file
        fmt = _text(f.attrs.get("format", b""))
        if fmt != "nnlab-results" or not isinstance(f.get("summary"), h5py.Dataset):
            if fmt == "nnlab-run":
                raise NnlabError("%s: one run's file; give the experiment's results.h5, or its output folder" % path)
            raise NnlabError("%s: not an nnlab results file" % path)
        try:
            self.summary = f["summary"][()]
        except (OSError, TypeError, ValueError) as e:
            raise NnlabError("%s: cannot read /summary (%s)" % (path, e)) from None
        names = self.summary.dtype.names or ()
        try:  # none (or not a number) is 0, as nnlab reads it: refused like any other unknown version
            self.format_version = int(np.asarray(f.attrs.get("format_version", 0)).reshape(-1)[0])
        except (TypeError, ValueError, IndexError):
            self.format_version = 0
        if self.format_version not in FORMAT_VERSIONS:
            raise NnlabError("%s: results format_version %d; this loader reads %s%s"
                             % (path, self.format_version, " and ".join(map(str, FORMAT_VERSIONS)),
                                " (a newer nnlab wrote it)" if self.format_version > FORMAT_VERSIONS[-1] else ""))
        self.METRICS = METRICS_2 if self.format_version == 2 else METRICS_1
        for col in ("run", "config", "status") + self.METRICS:
            if col not in names:
                raise NnlabError("%s: /summary lacks the %s column (format_version %d)"
                                 % (path, col, self.format_version))
        self.validation = self._validation()
        self.CURVES = CURVES + (VAL_CURVES if self.validation != "none" else ())
        self.swept = [n for n in names if "." in n]
        data = f.get("data")
        class_names = data.attrs.get("class_names") if isinstance(data, h5py.Group) else None
        # CSV labels that were names
        self.class_names = None if class_names is None else [_text(v) for v in class_names]
        self.name = _text(f.attrs.get("name", ""))
        self.experiment = _text(f.attrs.get("experiment", ""))

    def _validation(self):
        if self.format_version == 1:
            return "none"
        v = _text(self.file.attrs.get("validation", "none"))  # not written: none, as nnlab summary takes it
        if v not in VALIDATION:
            raise NnlabError("%s: unknown validation '%s' (known: %s)" % (self.path, v, ", ".join(VALIDATION)))
        return v

    def close(self):
        self.file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- ranking ---------------------------------------------------------------

    @property
    def rank_metric(self):
        """The metric config points are ranked by: val_acc with validation,
        else test_acc (format 1: final_test_acc)."""
        if self.format_version == 1:
            return "final_test_acc"
        return "test_acc" if self.validation == "none" else "val_acc"

    @property
    def ranked_on_test(self):
        """True when the file has no validation split, so that its ranking
        (by rank_metric) selects on the test set; scripts then print RANKED_ON_TEST."""
        return self.validation == "none"

    def on_test(self, metric=None):
        """Whether ranking by metric (default rank_metric) is the test-set
        selection RANKED_ON_TEST names: a test metric, and no validation split."""
        return self.ranked_on_test and "test" in (metric or self.rank_metric)

    def note_ranking(self, metric=None, file=None):
        """Print RANKED_ON_TEST to stderr (or file) if on_test(metric); returns whether it did."""
        if not self.on_test(metric):
            return False
        print(RANKED_ON_TEST, file=file or sys.stderr)
        return True

    def check_metric(self, metric):
        """NnlabError unless metric is a /summary metric of this file."""
        if metric in self.METRICS:
            return metric
        if self.format_version == 1 and metric in METRICS_2:
            why = " (format 1, from nnlab 0.3: no validation, and test metrics only at the last epoch)"
        elif metric == "best_test_acc":
            why = " (the test curve's maximum, a test-set selection, is gone in format 2; test_acc is at best_epoch)"
        else:
            why = ""
        raise NnlabError("%s: no metric %s in a format %d file%s; metrics: %s"
                         % (self.path, metric, self.format_version, why, ", ".join(self.METRICS)))

    def check_swept(self, key):
        if key not in self.swept:
            raise NnlabError("%s: '%s' was not swept in this experiment; swept: %s"
                             % (self.path, key, ", ".join(self.swept) or "nothing"))

    def where_rows(self, where):
        """A mask of the summary rows whose swept values match `where` {key: text}
        (same_value); NnlabError naming the values there are if none does."""
        keep = np.ones(len(self.summary), dtype=bool)
        for key, want in where.items():
            self.check_swept(key)
            keep &= np.array([same_value(value_text(v, key), want) for v in self.summary[key]], dtype=bool)
        if where and not keep.any():
            known = "; ".join("%s takes %s" % (k, ", ".join(dict.fromkeys(value_text(v, k) for v in self.summary[k])))
                              for k in where)
            raise NnlabError("%s: no config point matches %s (%s)"
                             % (self.path, " ".join("%s=%s" % kv for kv in where.items()), known))
        return keep

    def configs(self, where=None, metric=None, ranked=True):
        """One dict per config point, best first by the mean of metric
        (default rank_metric; ranked=False: in config order): config,
        values {key: text}, n_runs (seeds x folds), n_seeds (distinct
        seeds), n_diverged, mean {metric: ...}, std {metric: ...}, n {metric:
        finite values}, runs (summary row indices, in run order) and rank
        (1 = best, among the points kept). `where` {key: text} keeps matching
        points. Means and stds are nnlab's bits (welford, in run order)."""
        metric = self.check_metric(metric or self.rank_metric)
        s = self.summary
        if len(s) == 0:
            raise NnlabError("%s: /summary holds no runs" % self.path)
        keep = self.where_rows(where or {})
        status = [_text(v) for v in s["status"]]
        out = []
        for c in np.unique(s["config"]):
            rows = np.flatnonzero(s["config"] == c)  # row order is run order
            if not keep[rows[0]]:
                continue
            first = s[rows[0]]
            values = {k: value_text(first[k], k) for k in self.swept}
            seeds = s["seed"][rows] if "seed" in s.dtype.names else rows
            entry = {"config": int(c), "values": values, "n_runs": len(rows), "n_seeds": len(set(seeds.tolist())),
                     "runs": rows, "n_diverged": sum(status[i] == "diverged" for i in rows),
                     "mean": {}, "std": {}, "n": {}}
            for m in self.METRICS:
                entry["mean"][m], entry["std"][m], entry["n"][m] = welford(s[m][rows])
            out.append(entry)
        for i, e in enumerate(rank(out, metric)):
            e["rank"] = i + 1
        return sorted(out, key=lambda e: e["rank"]) if ranked else out

    def best_run(self, where=None, metric=None):
        """The run shown for 'the best': in the best config point (configs()
        ranking by metric, default rank_metric), its run with the best value
        of metric (equal values: the lower run id; NaN last)."""
        metric = metric or self.rank_metric
        best = self.configs(where, metric)[0]
        runs = self.summary["run"][best["runs"]]
        values = self.summary[metric][best["runs"]]
        return int(min(zip(values, runs), key=lambda vr: rank_key(vr[0], int(vr[1]), metric))[1])

    def require_values(self, metric, rows):
        """Raise NnlabError unless some of these summary rows have a value of metric."""
        self.check_metric(metric)
        if not np.isfinite(self.summary[metric][rows].astype(float)).any():
            if "train" in metric:
                hint = " (the runs have training.train_curves: false)"
            elif "val" in metric and self.validation == "none":
                hint = " (no validation split: dataset.validation_fraction or dataset.folds)"
            else:
                hint = ""
            raise NnlabError("%s: no run has a value of %s%s" % (self.path, metric, hint))

    # ---- runs and config points -----------------------------------------------

    def run_group(self, run):
        key = "runs/r%06d" % int(run)
        if key not in self.file:
            raise NnlabError("%s: no run %d" % (self.path, run))
        return self.file[key]

    def curves(self, run):
        """{curve: float64 [epochs + 1]} of a run: CURVES, and VAL_CURVES with
        validation. NaN after the run stopped (early stop, divergence)."""
        g = self.run_group(run)["curves"]
        return {k: g[k][()] for k in CURVES + VAL_CURVES if k in g}

    WEIGHTS = {"final": "weights", "best": "best", "init": "init"}

    def has_weights(self, run, which):
        return self.WEIGHTS.get(which) in self.run_group(run)

    def weights(self, run, which="final", init=False):
        """[(W0, b0), (W1, b1), ...] of a run: which="final" after the last
        epoch trained (weights/), "best" at best_epoch (best/, with validation
        only), "init" at initialisation (init=True says the same)."""
        if init:
            which = "init"
        if which not in self.WEIGHTS:
            raise NnlabError("weights: which must be one of %s, not '%s'" % (", ".join(self.WEIGHTS), which))
        g = self.run_group(run)
        if self.WEIGHTS[which] not in g:
            why = " (only with validation: the weights at best_epoch)" if which == "best" else ""
            raise NnlabError("%s: run %d has no %s weights%s" % (self.path, run, which, why))
        g = g[self.WEIGHTS[which]]
        layers = sorted(g.keys(), key=lambda n: int(n[len("layer"):]))
        return [(g[n]["W"][()], g[n]["b"][()]) for n in layers]

    def aggregate(self, config):
        """{"mean": {curve: ...}, "std": {curve: ...}, "attrs": {...}} of a config point."""
        key = "aggregate/c%04d" % int(config)
        if key not in self.file:
            raise NnlabError("%s: no config point %d" % (self.path, config))
        g = self.file[key]
        have = [k for k in CURVES + VAL_CURVES if k in g["mean"]]
        return {"mean": {k: g["mean"][k][()] for k in have}, "std": {k: g["std"][k][()] for k in have},
                "attrs": dict(g.attrs)}

    def dataframe(self):
        try:
            import pandas as pd
        except ImportError:
            raise NnlabError("dataframe() needs pandas; res.summary is the same table as a numpy array") from None
        df = pd.DataFrame(self.summary)
        for col in df.columns:
            if df[col].dtype == object:
                df[col] = df[col].map(_text)
        return df


def load(path):
    """Open a results.h5 file (or an output folder holding one)."""
    return Results(path)


def parse_where(items):
    """["model.activation=relu", ...] -> {"model.activation": "relu"}."""
    out = {}
    for item in items or []:
        if "=" not in item:
            raise NnlabError("--where expects KEY=VALUE, got '%s'" % item)
        k, v = item.split("=", 1)
        out[k] = v
    return out


def varying(entries):
    """The swept keys whose values differ among these config entries."""
    if not entries:
        return []
    keys = list(entries[0]["values"])
    return [k for k in keys if len({e["values"][k] for e in entries}) > 1]


def label(entry, keys=None):
    """'activation=relu l2=0.001' for a config entry (all swept keys, or `keys`)."""
    keys = entry["values"].keys() if keys is None else keys
    return " ".join("%s=%s" % (k.split(".")[-1], entry["values"][k]) for k in keys) or "c%04d" % entry["config"]


def save_figure(fig, path, dpi=120):
    """Write a matplotlib figure to path, whole or not at all: to a temporary
    file beside it, then renamed. The format is path's extension (png
    without one, which is then added, as matplotlib does). Returns the path
    written. Raises NnlabError for an unknown format, NnlabWriteError when
    the file cannot be written."""
    ext = os.path.splitext(path)[1][1:].lower()
    if not ext:
        ext, path = "png", path + ".png"
    supported = fig.canvas.get_supported_filetypes()
    if ext not in supported:
        raise NnlabError("%s: unknown image format '%s'; use one of %s" % (path, ext, ", ".join(sorted(supported))))
    tmp = os.path.join(os.path.dirname(path) or ".", ".%s.%d.tmp" % (os.path.basename(path), os.getpid()))
    try:
        fig.savefig(tmp, dpi=dpi, format=ext)
        os.replace(tmp, path)
    except OSError as e:
        raise NnlabWriteError("%s: cannot write: %s" % (path, e.strerror or e)) from None
    finally:  # whatever failed, no partial file stays behind
        if os.path.lexists(tmp):
            os.remove(tmp)
    return path


def run_main(main):
    """Run a script's main(), turning NnlabError into 'error: ...' and exit 2
    (bad input), NnlabWriteError into the same and exit 1 (as nnlab does)."""
    try:
        main()
    except NnlabError as e:
        print("error: %s" % e, file=sys.stderr)
        sys.exit(2)
    except NnlabWriteError as e:
        print("error: %s" % e, file=sys.stderr)
        sys.exit(1)
