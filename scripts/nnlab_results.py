"""Load nnlab results files (format_version 1) into numpy, for notebooks and
the plotting scripts.

    import nnlab_results as nr
    res = nr.load("results/things-to-try/results.h5")
    res.summary                  # structured array, one row per run (as /summary)
    res.swept                    # ["model.activation", "training.optimizer", ...]
    res.configs()                # one dict per config point: config, values, n_seeds, means, stds
    res.curves(17)               # {"train_loss": array, ...} of run 17
    res.weights(17)              # [(W0, b0), (W1, b1), ...]; init=True for the initial ones
    res.aggregate(3)             # {"mean": {...}, "std": {...}, "attrs": {...}} of config point 3
    res.dataframe()              # the summary as a pandas DataFrame (needs pandas)

Means and standard deviations over seeds follow `nnlab summary`: over the
seeds whose value is finite, sample standard deviation (n - 1), 0 for one.
Errors are raised as NnlabError with a message meant for the user.
"""
import math
import os

import numpy as np

try:
    import h5py
except ImportError as e:  # pragma: no cover
    raise SystemExit("nnlab_results needs h5py (Debian: python3-h5py)") from e

CURVES = ("train_loss", "test_loss", "train_acc", "test_acc")
METRICS = ("final_test_acc", "best_test_acc", "final_test_loss", "final_train_acc", "final_train_loss", "seconds")


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


def mean_std(values):
    """Mean and sample std (n - 1) over the finite values; (nan, nan) if none."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return math.nan, math.nan
    return float(v.mean()), float(v.std(ddof=1)) if v.size > 1 else 0.0


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
        fmt = _text(self.file.attrs.get("format", b""))
        if fmt != "nnlab-results" or "summary" not in self.file:
            self.file.close()
            if fmt == "nnlab-run":
                raise NnlabError("%s: one run's file; give the experiment's results.h5, or its output folder" % path)
            raise NnlabError("%s: not an nnlab results file" % path)
        self.summary = self.file["summary"][()]
        self.swept = [n for n in self.summary.dtype.names if "." in n]
        names = self.file["data"].attrs.get("class_names") if "data" in self.file else None
        self.class_names = None if names is None else [_text(v) for v in names]  # CSV labels that were names
        self.name = _text(self.file.attrs.get("name", ""))
        self.experiment = _text(self.file.attrs.get("experiment", ""))

    def close(self):
        self.file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

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

    def configs(self, where=None):
        """One dict per config point (in config order): config, values
        {key: text}, n_seeds, n_diverged, mean {metric: ...}, std {metric: ...},
        runs (row indices). `where` {key: text} keeps matching points."""
        keep = self.where_rows(where or {})
        out = []
        for c in np.unique(self.summary["config"]):
            rows = np.flatnonzero(self.summary["config"] == c)
            if not keep[rows[0]]:
                continue
            first = self.summary[rows[0]]
            values = {k: value_text(first[k], k) for k in self.swept}
            entry = {"config": int(c), "values": values, "n_seeds": len(rows), "runs": rows,
                     "n_diverged": int(np.sum(self.summary["status"][rows] == b"diverged")),
                     "mean": {}, "std": {}}
            for m in METRICS:
                entry["mean"][m], entry["std"][m] = mean_std(self.summary[m][rows])
            out.append(entry)
        return out

    def require_values(self, metric, rows):
        """Raise NnlabError unless some of these summary rows have a value of metric."""
        if np.isnan(self.summary[metric][rows]).all():
            hint = " (the runs have training.train_curves: false)" if "train" in metric else ""
            raise NnlabError("%s: no run has a value of %s%s" % (self.path, metric, hint))

    def run_group(self, run):
        key = "runs/r%06d" % int(run)
        if key not in self.file:
            raise NnlabError("%s: no run %d" % (self.path, run))
        return self.file[key]

    def curves(self, run):
        g = self.run_group(run)["curves"]
        return {k: g[k][()] for k in CURVES}

    def weights(self, run, init=False):
        g = self.run_group(run)["init" if init else "weights"]
        layers = sorted(g.keys(), key=lambda n: int(n[len("layer"):]))
        return [(g[n]["W"][()], g[n]["b"][()]) for n in layers]

    def aggregate(self, config):
        key = "aggregate/c%04d" % int(config)
        if key not in self.file:
            raise NnlabError("%s: no config point %d" % (self.path, config))
        g = self.file[key]
        return {"mean": {k: g["mean"][k][()] for k in CURVES}, "std": {k: g["std"][k][()] for k in CURVES},
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
    import sys
    try:
        main()
    except NnlabError as e:
        print("error: %s" % e, file=sys.stderr)
        sys.exit(2)
    except NnlabWriteError as e:
        print("error: %s" % e, file=sys.stderr)
        sys.exit(1)
