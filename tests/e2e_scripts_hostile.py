"""The Python loader and the plotting scripts on damaged and crafted results
files (issue 25): every one is a one-line message naming the file and exit
status 2, never a traceback, never a MemoryError, in bounded memory.

A real small results file is made with `nnlab run` (holdout validation, a
2 x 2 grid, 2 seeds); each case is a copy of it corrupted with h5py (a
missing field, a scalar summary, a string curve, a 149 GiB W HDF5 never
stored, ...). Every script that reads the object in question runs on it
under a 2 GiB address-space limit: the loader (load(), configs(),
curves(), weights(), aggregate() as `python3 -c`, through run_main as the
scripts call it), plot_curves.py, plot_compare.py, plot_grid.py,
plot_weights.py and plot_search.py (which reads every run's curves, and the
search block of the experiment text and a rung column successive halving
will add). The uncorrupted file, and copies that only leave out what
readers may do without, must still work (exit 0), so that refusing
everything cannot pass."""
import concurrent.futures
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import unittest

import h5py
import numpy as np

NNLAB = os.environ["NNLAB"]
SRC = os.environ["NNLAB_SOURCE_DIR"]
SCRIPTS = os.path.join(SRC, "scripts")
MEMORY_LIMIT = 2 << 30  # bytes of address space for each script

EXPERIMENT = """name: hostile
dataset: {validation_fraction: 0.2}
model: {hidden: [8]}
training: {epochs: 2, batch_size: 64}
grid:
  model.activation: [sigmoid, relu]
  training.l2: [0.0, 0.001]
seeds: [1, 2]
"""

# What each reader runs: loader calls (an expression of r, the loaded file) and scripts (their arguments).
LOADER = {
    "load": "r",
    "configs": "r.configs()",
    "curves": "r.curves(0)",
    "weights": "r.weights(0, 'best')",
    "weights_final": "r.weights(0)",
    "weights_init": "r.weights(0, init=True)",
    "aggregate": "r.aggregate(0)",
}
SCRIPT = {
    "plot_curves": ("plot_curves.py", []),
    "plot_compare": ("plot_compare.py", []),
    "plot_grid": ("plot_grid.py", []),
    "plot_weights": ("plot_weights.py", []),
    "plot_weights_run0": ("plot_weights.py", ["--run", "0"]),
    "plot_weights_final": ("plot_weights.py", ["--run", "0", "--final"]),
    "plot_weights_init": ("plot_weights.py", ["--run", "0", "--init"]),
    "plot_search": ("plot_search.py", []),
}
# Readers of the whole file (everything reads the root attributes and /summary).
ALL = ("load", "configs", "plot_curves", "plot_compare", "plot_grid", "plot_weights", "plot_search")
CURVE_READERS = ("curves", "plot_search", "plot_curves")  # plot_search reads every run's curves, plot_curves those
# of the config points it draws (it leaves diverged runs out of the bands, so not /aggregate)
WEIGHT_READERS = ("weights", "plot_weights_run0")  # best/ (with validation, the default)
AGGREGATE_READERS = ("aggregate",)


def limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def command(reader, path, out):
    if reader in LOADER:
        code = ("import sys; sys.path.insert(0, sys.argv[1]); import nnlab_results as nr\n"
                "def go():\n    r = nr.load(sys.argv[2])\n    %s\nnr.run_main(go)" % LOADER[reader])
        return [sys.executable, "-c", code, SCRIPTS, path]
    name, extra = SCRIPT[reader]
    return [sys.executable, os.path.join(SCRIPTS, name), path, "-o", out] + extra


def run(reader, path, out):
    env = dict(os.environ, MPLBACKEND="Agg", OPENBLAS_NUM_THREADS="1")
    return subprocess.run(command(reader, path, out), capture_output=True, text=True, timeout=300,
                          preexec_fn=limit_memory, env=env)


# ---- corruptions (each takes the copy open in h5py "a" mode) ------------------------------------------------------

def summary_of(f):
    return f["summary"][()]


def put_summary(f, table):
    del f["summary"]
    f["summary"] = table


def without_column(col):
    def go(f):
        s = summary_of(f)
        keep = [n for n in s.dtype.names if n != col]
        put_summary(f, np.array(s[keep].tolist(), dtype=[(n, s.dtype.fields[n][0]) for n in keep]))
    return go


def retyped(col, dtype, values):
    """The column col as dtype, holding values(old column)."""
    def go(f):
        s = summary_of(f)
        dt = [(n, dtype if n == col else s.dtype.fields[n][0]) for n in s.dtype.names]
        t = np.zeros(len(s), dtype=dt)
        for n in s.dtype.names:
            t[n] = values(s[n]) if n == col else s[n]
        put_summary(f, t)
    return go


def with_config(value):
    def go(f):
        s = summary_of(f)
        s["config"][1] = value
        put_summary(f, s)
    return go


def replaced(path, value=None, **create):
    """The dataset at path replaced by value, or by create_dataset(**create) (nothing written)."""
    def go(f):
        if path in f:
            del f[path]
        if value is not None:
            f[path] = value
        else:
            f.create_dataset(path, **create)
    return go


def deleted(path):
    def go(f):
        del f[path]
    return go


def attr(path, key, value):
    """Attribute key of the object at path set to value (None: deleted)."""
    def go(f):
        if value is None:
            del f[path].attrs[key]
        else:
            f[path].attrs[key] = value
    return go


def added(col, dtype, value):
    """/summary with the column col (dtype) last, every row holding value (or value(old table)), in place of
    nnlab's col if any (nnlab writes a rung column since successive halving)."""
    def go(f):
        s = summary_of(f)
        keep = [n for n in s.dtype.names if n != col]
        t = np.zeros(len(s), dtype=[(n, s.dtype.fields[n][0]) for n in keep] + [(col, dtype)])
        for n in keep:
            t[n] = s[n]
        t[col] = value(s) if callable(value) else value
        put_summary(f, t)
    return go


def each(*changes):
    def go(f):
        for change in changes:
            change(f)
    return go


def many_config_points(f):
    """1500 config points, one run each, every one a different training.l2."""
    s = summary_of(f)
    t = np.resize(s, 1500)
    t["run"] = t["config"] = np.arange(1500)
    t["training.l2"] = np.arange(1500) * 1e-4
    put_summary(f, t)


W0 = "runs/r000000/best/layer0/W"
B0 = "runs/r000000/best/layer0/b"
W1 = "runs/r000000/best/layer1/W"
CURVE = "runs/r000000/curves/test_acc"
MEAN = "aggregate/c0000/mean/test_acc"
FILE_SIZE = "more than the file's"
HUGE_W = {"shape": (200000, 200000), "dtype": "f4"}  # 149 GiB, never written

# The resolved experiment's search block as successive halving will write it: 2 epochs, rungs ending at 1 and 2.
HALVING = ("name: hostile\ntraining:\n  epochs: 2\n  select: val_loss\n"
           "search:\n  method: halving\n  min_epochs: 1\n  eta: 3\n")
HALVED = each(attr("/", "experiment", HALVING), added("rung", "<i4", 1))  # every run promoted to the last rung
SEARCH = ("plot_search",)
NEEDS_VALIDATION = "plot_search needs a validation split"

# (name, corruption, readers, what the message says: a text for all readers or {reader: text}).
CASES = [
    # root attributes
    ("format-missing", attr("/", "format", None), ALL, "not an nnlab results file"),
    ("format-number", attr("/", "format", 42), ALL, "not an nnlab results file"),
    ("format-version-missing", attr("/", "format_version", None), ALL, "results format_version 0"),
    ("format-version-text", attr("/", "format_version", "2"), ALL, "attribute format_version is"),
    ("format-version-fraction", attr("/", "format_version", 2.5), ALL, "2.5, not an integer"),
    ("format-version-array", attr("/", "format_version", np.array([2, 2])), ALL, "not an integer"),
    ("format-version-newer", attr("/", "format_version", 3), ALL, "results format_version 3"),
    ("validation-number", attr("/", "validation", 1), ALL, "attribute validation is"),
    ("validation-unknown", attr("/", "validation", "sometimes"), ALL, "unknown validation 'sometimes'"),
    ("experiment-numbers", attr("/", "experiment", np.arange(3)), ALL, "attribute experiment is"),
    ("experiment-strings", attr("/", "experiment", np.array([b"a", b"b"])), ALL, "not a string"),
    ("name-number", attr("/", "name", 1.5), ALL, "attribute name is"),
    # /summary
    ("summary-missing", deleted("summary"), ALL, "no /summary table"),
    ("summary-group", each(deleted("summary"), lambda f: f.create_group("summary")), ALL, "/summary is not a table"),
    ("summary-scalar", lambda f: put_summary(f, summary_of(f)[0]), ALL, "/summary is not a table: it has a scalar"),
    ("summary-scalar-number", replaced("summary", np.float64(1.0)), ALL, "/summary is not a table"),
    ("summary-not-compound", replaced("summary", np.arange(8.0)), ALL, "/summary is not a table: it holds floating"),
    ("summary-2d", lambda f: put_summary(f, summary_of(f).reshape(2, 4)), ALL, "it has shape (2, 4)"),
    ("summary-no-run", without_column("run"), ALL, "/summary lacks the run column"),
    ("summary-no-config", without_column("config"), ALL, "/summary lacks the config column"),
    ("summary-no-status", without_column("status"), ALL, "/summary lacks the status column"),
    ("summary-no-val-acc", without_column("val_acc"), ALL, "/summary lacks the val_acc column"),
    ("summary-no-test-acc", without_column("test_acc"), ALL, "/summary lacks the test_acc column"),
    ("summary-no-seconds", without_column("seconds"), ALL, "/summary lacks the seconds column"),
    ("summary-text-metric", retyped("val_acc", "S8", lambda c: [b"high"] * len(c)), ALL,
     "/summary column val_acc holds text, not numbers"),
    ("summary-text-config", retyped("config", "S8", lambda c: c.astype("S8")), ALL,
     "/summary column config holds text, not integers"),
    ("summary-float-config", retyped("config", "<f8", lambda c: c + 0.5), ALL,
     "/summary column config holds floating-point numbers, not integers"),
    ("summary-number-status", retyped("status", "<f8", lambda c: np.zeros(len(c))), ALL,
     "/summary column status holds floating-point numbers, not text"),
    ("summary-array-swept", retyped("training.l2", ("<f8", (3,)), lambda c: np.zeros((len(c), 3))), ALL,
     "/summary column training.l2 holds arrays"),
    ("summary-text-seed", retyped("seed", "S8", lambda c: c.astype("S8")), ALL, "/summary column seed holds text"),
    ("summary-1e8-rows", lambda f: replaced("summary", shape=(10 ** 8,), dtype=summary_of(f).dtype)(f), ALL,
     "/summary claims 100000000 rows"),
    ("summary-unstored", lambda f: replaced("summary", shape=(8,), dtype=summary_of(f).dtype)(f), ALL,
     "/summary has 8 rows but none of it is stored"),
    ("config-huge", with_config(30000000), ALL, "config 30000000 is not a config point's id"),
    ("config-negative", with_config(-1), ALL, "config -1 is not a config point's id"),
    ("many-config-points", many_config_points, ("configs", "plot_grid", "plot_compare", "plot_curves", "plot_search"),
     {"configs": None, "plot_grid": "are too many for one figure", "plot_compare": "are too many for one figure",
      "plot_curves": "no run", "plot_search": "no run 8"}),
    # what plot_search reads besides: validation, the search, the rung column, each run's training.select
    ("validation-missing-search", attr("/", "validation", None), SEARCH, NEEDS_VALIDATION),
    ("validation-none", attr("/", "validation", "none"), SEARCH, NEEDS_VALIDATION),
    ("rung-text", added("rung", "S8", b"0"), SEARCH, "/summary column rung holds text, not integers"),
    ("rung-float", added("rung", "<f8", 0.5), SEARCH, "/summary column rung holds floating-point numbers"),
    ("rung-negative", added("rung", "<i4", -1), SEARCH, "rung -1 is not a rung (0..31)"),
    ("rung-huge", added("rung", "<i8", 2 ** 40), SEARCH, "rung 1099511627776 is not a rung (0..31)"),
    ("rung-past-the-grid", added("rung", "<i4", 1), SEARCH,
     "rung 1 is not a rung of its search (grid search: 1 rung, ending at epoch 2)"),
    ("epochs-done-nan", retyped("epochs_done", "<f8", lambda c: np.full(len(c), np.nan)), SEARCH,
     "/summary row 0: epochs_done nan is not a number of epochs"),
    ("epochs-done-negative", retyped("epochs_done", "<i4", lambda c: c - 3), SEARCH,
     "/summary row 0: epochs_done -1 is not a number of epochs"),
    ("search-method-unknown", attr("/", "experiment", "name: x\nsearch:\n  method: annealing\n"), SEARCH,
     "the experiment's search.method is 'annealing', not one of grid, random, halving, hyperband"),
    ("search-method-flow", attr("/", "experiment", "name: x\nsearch: {method: bayes, trials: 3}\n"), SEARCH,
     "search.method is 'bayes'"),
    ("search-eta-text", attr("/", "experiment", HALVING.replace("eta: 3", "eta: three")), SEARCH,
     "search.eta is 'three', not an integer from 2 to 1000"),
    ("search-eta-one", attr("/", "experiment", HALVING.replace("eta: 3", "eta: 1")), SEARCH, "search.eta is '1'"),
    ("search-min-epochs-fraction", attr("/", "experiment", HALVING.replace("min_epochs: 1", "min_epochs: 1.5")),
     SEARCH, "search.min_epochs is '1.5', not an integer from 1 to 1000000"),
    ("search-min-epochs-missing", attr("/", "experiment", HALVING.replace("  min_epochs: 1\n", "")), SEARCH,
     "search.min_epochs is ''"),
    ("select-unknown", each(HALVED, attr("runs/r000000", "training.select", "test_acc")),
     SEARCH, "run 0's training.select is 'test_acc', not one of val_loss, val_acc"),
    ("select-number", each(HALVED, attr("runs/r000000", "training.select", 3)), SEARCH,
     "/runs/r000000 attribute training.select is a scalar of integers, not a string"),
    ("halving-past-rung", each(attr("/", "experiment", HALVING), added("rung", "<i4", 0)), SEARCH,
     "run 0 trained 2 epochs, past the end of its rung 0 at epoch 1 (successive halving (min_epochs 1, eta 3))"),
    # /data
    ("data-dataset", each(deleted("data"), replaced("data", np.arange(3))), ALL, "/data is not a group"),
    ("class-names-numbers", attr("data", "class_names", np.arange(10)), ALL, "class_names is shape (10)"),
    ("class-names-scalar", attr("data", "class_names", "a,b,c"), ALL, "not a list of strings"),
    ("class-names-count", attr("data", "class_names", np.array([b"a", b"b", b"c"])), ALL,
     "class_names holds 3 names for 10 classes"),
    ("n-features-text", attr("data", "n_features", "64"), ALL, "/data attribute n_features is"),
    ("n-classes-zero", attr("data", "n_classes", 0), ALL, "/data attribute n_classes is 0, not a count"),
    # a run's curves
    ("curves-missing", deleted("runs/r000000/curves"), CURVE_READERS, "run 0 has no curves"),
    ("curves-dataset", replaced("runs/r000000/curves", np.arange(3.0)), CURVE_READERS, "curves is not a group"),
    ("curve-missing", deleted(CURVE), CURVE_READERS, "lacks the curve test_acc"),
    ("curve-text", replaced(CURVE, np.array([b"a", b"b", b"c"])), CURVE_READERS, "holds text"),
    ("curve-integers", replaced(CURVE, np.arange(3)), CURVE_READERS, "holds integers"),
    ("curve-length", replaced(CURVE, np.zeros(5)), CURVE_READERS, "has 5 entries, not 3 (training.epochs + 1)"),
    ("curve-2d", replaced(CURVE, np.zeros((3, 2))), CURVE_READERS, "has shape (3, 2), not 1 dimension"),
    ("curve-scalar", replaced(CURVE, np.float64(0.5)), CURVE_READERS, "has a scalar, not 1 dimension"),
    ("curve-huge", replaced(CURVE, shape=(10 ** 10,), dtype="f8"), CURVE_READERS, FILE_SIZE),
    ("epochs-text", attr("runs/r000000", "training.epochs", "two"), CURVE_READERS, "training.epochs is"),
    ("run-dataset", replaced("runs/r000000", np.arange(3)), CURVE_READERS + WEIGHT_READERS,
     "/runs/r000000 is not a group"),
    ("runs-dataset", replaced("runs", np.arange(3)), CURVE_READERS + WEIGHT_READERS + ("plot_weights",),
     "/runs is not a group"),
    # weights
    ("w-missing", deleted(W0), WEIGHT_READERS, "layer0 lacks W"),
    ("b-missing", deleted(B0), WEIGHT_READERS, "layer0 lacks b"),
    ("w-rank-1", replaced(W0, np.zeros(512, np.float32)), WEIGHT_READERS, "has shape (512), not 2 dimensions"),
    ("w-rank-3", replaced(W0, np.zeros((64, 8, 2), np.float32)), WEIGHT_READERS, "not 2 dimensions"),
    ("w-no-chain", replaced(W1, np.zeros((9, 10), np.float32)), WEIGHT_READERS, "9 inputs, but layer0 has 8 units"),
    ("w-features", replaced(W0, np.zeros((63, 8), np.float32)), WEIGHT_READERS, "the data has 64 features"),
    ("w-classes", each(replaced(W1, np.zeros((8, 9), np.float32)),
                       replaced("runs/r000000/best/layer1/b", np.zeros(9, np.float32))), WEIGHT_READERS,
     "9 units, but the data has 10 classes"),
    ("b-shape", replaced(B0, np.zeros(7, np.float32)), WEIGHT_READERS, "has shape (7), not (8)"),
    ("w-empty", replaced(W0, np.zeros((64, 0), np.float32)), WEIGHT_READERS, "no weights"),
    ("w-149-gib", replaced(W0, **HUGE_W), WEIGHT_READERS, FILE_SIZE),
    ("w-149-gib-final", replaced("runs/r000000/weights/layer0/W", **HUGE_W), ("weights_final", "plot_weights_final"),
     FILE_SIZE),
    ("w-149-gib-init", replaced("runs/r000000/init/layer0/W", **HUGE_W), ("weights_init", "plot_weights_init"),
     FILE_SIZE),
    ("w-unstored", replaced(W0, shape=(64, 8), dtype="f4"), WEIGHT_READERS, "none of it is stored"),
    ("w-text", replaced(W0, np.full((64, 8), b"w")), WEIGHT_READERS, "holds text"),
    ("w-layer-gap", deleted("runs/r000000/best/layer0"), WEIGHT_READERS, "does not hold layer0 to layer0"),
    ("w-layer-name", lambda f: f["runs/r000000/best"].create_group("layerX"), WEIGHT_READERS,
     "does not hold layer0 to layer2"),
    ("w-layer-dataset", each(deleted("runs/r000000/best/layer1"),
                             replaced("runs/r000000/best/layer1", np.zeros(3))), WEIGHT_READERS,
     "layer1 is not a group"),
    ("weights-missing", deleted("runs/r000000/weights"), ("weights_final", "plot_weights_final"),
     "run 0 has no final weights"),
    ("weights-external-link", each(deleted("runs/r000000/best"),
                                   lambda f: f["runs/r000000"].__setitem__("best", h5py.ExternalLink("/x.h5", "/"))),
     WEIGHT_READERS, "is a link to another file"),
    # /aggregate
    ("aggregate-dataset", replaced("aggregate", np.arange(3)), AGGREGATE_READERS, "/aggregate is not a group"),
    ("aggregate-missing", deleted("aggregate/c0000"), AGGREGATE_READERS, "no config point 0"),
    ("aggregate-no-mean", deleted("aggregate/c0000/mean"), AGGREGATE_READERS, "has no mean curves"),
    ("aggregate-mean-dataset", replaced("aggregate/c0000/mean", np.zeros(3)), AGGREGATE_READERS,
     "mean is not a group"),
    ("aggregate-no-curve", deleted(MEAN), AGGREGATE_READERS, "lacks the curve test_acc"),
    ("aggregate-text", replaced(MEAN, np.array([b"a", b"b", b"c"])), AGGREGATE_READERS, "holds text"),
    ("aggregate-2d", replaced("aggregate/c0000/mean/val_acc", np.zeros((3, 3))), AGGREGATE_READERS,
     "has shape (3, 3), not 1 dimension"),
    ("aggregate-std-length", replaced("aggregate/c0000/std/test_acc", np.zeros(4)), AGGREGATE_READERS,
     "has 4 entries, not 3 as mean/train_loss"),
    ("aggregate-huge", replaced(MEAN, shape=(10 ** 10,), dtype="f8"), AGGREGATE_READERS, FILE_SIZE),
]

# Copies that leave out only what readers may do without: each must still work, for the readers of what changed.
EVERY_READER = tuple(LOADER) + tuple(SCRIPT)
HARMLESS = [
    ("as-made", lambda f: None, EVERY_READER),
    ("experiment-missing", attr("/", "experiment", None), ALL),
    ("name-missing", attr("/", "name", None), ALL),
    ("validation-missing", attr("/", "validation", None), ALL[:-1]),  # read as none, as nnlab summary does
    ("format-version-float", attr("/", "format_version", 2.0), ALL),
    ("data-missing", deleted("data"), ALL + WEIGHT_READERS),  # nothing to check the first and last layer against
    ("class-names", attr("data", "class_names", np.array(["c%d" % i for i in range(10)], dtype=h5py.string_dtype())),
     ALL),
    ("seed-missing", attr("runs/r000000", "seed", None), ("plot_weights_run0",)),  # the title goes without
    # successive halving as it will be written: the search block, the rung column, pruned runs
    ("halving", HALVED, SEARCH),
    ("halving-no-rungs", each(attr("/", "experiment", HALVING), without_column("rung")), SEARCH),  # by epochs_done
    ("halving-no-select", each(HALVED, attr("runs/r000000", "training.select", None)), SEARCH),  # the experiment's
    ("rung-zero", added("rung", "<i4", 0), SEARCH),  # a grid: one rung
    ("rung-missing", without_column("rung"), ALL),  # files written before successive halving
    ("hyperband", each(attr("/", "experiment", HALVING.replace("halving", "hyperband").replace("eta: 3", "eta: 2")),
                       added("rung", "<i4", lambda s: (s["config"] < 2).astype(int))),
     SEARCH),  # R = 2, eta 2: brackets of 2 trials (rungs end at 1, 2) and 2 trials (at 2), all at their last
    ("random", attr("/", "experiment", "name: x\nsearch: {method: random, trials: 4, seed: 0}\n"), SEARCH),
]


class Hostile(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="nnlab_hostile_")
        exp = os.path.join(cls.tmp, "hostile.yaml")
        with open(exp, "w") as f:
            f.write(EXPERIMENT)
        cls.out = os.path.join(cls.tmp, "out")
        r = subprocess.run([NNLAB, "run", exp, "-o", cls.out, "--quiet"], capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stderr
        cls.results = os.path.join(cls.out, "results.h5")
        cls.pool = concurrent.futures.ThreadPoolExecutor(max(os.cpu_count() or 1, 2))

    @classmethod
    def tearDownClass(cls):
        cls.pool.shutdown()
        shutil.rmtree(cls.tmp)

    def corrupt(self, name, change):
        """A copy of results.h5 with its runs copied in (it links to the run files beside it; a copy holding
        them is what nnlab wrote before, and readers still read it), changed through h5py. Linked runs'
        own failures are tests/e2e_storage.py's."""
        path = os.path.join(self.tmp, name + ".h5")
        shutil.copy(self.results, path)
        with h5py.File(path, "a") as f:
            for k in list(f["runs"]):
                link = f["runs"].get(k, getlink=True)
                del f["runs"][k]
                with h5py.File(os.path.join(self.out, link.filename), "r") as src:
                    src.copy(link.path, f["runs"], k)
            change(f)
        return path

    def run_all(self, jobs):
        """[(label, path, reader)] -> [(label, path, reader, CompletedProcess)], run a few at a time."""
        futures = [(job, self.pool.submit(run, job[2], job[1], os.path.join(self.tmp, "%s-%s.png" % job[::2])))
                   for job in jobs]
        return [job + (future.result(),) for job, future in futures]

    def check_refused(self, results, messages):
        for label, path, reader, r in results:
            with self.subTest(case=label, reader=reader):
                lines = r.stderr.strip().splitlines()
                self.assertNotIn("Traceback", r.stderr)
                self.assertNotIn("MemoryError", r.stderr)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertEqual(len(lines), 1, r.stderr)
                self.assertTrue(lines[0].startswith("error: " + path), lines[0])
                want = messages[label] if isinstance(messages[label], str) else messages[label][reader]
                self.assertIn(want, lines[0])
                self.assertFalse(os.path.exists(os.path.join(self.tmp, "%s-%s.png" % (label, reader))))

    def check_works(self, results):
        for label, path, reader, r in results:
            with self.subTest(case=label, reader=reader):
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertNotIn("Traceback", r.stderr)
                if reader in SCRIPT:
                    with open(os.path.join(self.tmp, "%s-%s.png" % (label, reader)), "rb") as f:
                        self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")

    def test_corrupted_files_are_one_line_messages(self):
        jobs, messages, works = [], {}, []
        for name, change, readers, message in CASES:
            path = self.corrupt(name, change)
            for reader in readers:
                if isinstance(message, dict) and message[reader] is None:
                    works.append((name, path, reader))  # a valid file: read as it is
                else:
                    jobs.append((name, path, reader))
            messages[name] = message
        self.check_refused(self.run_all(jobs), messages)
        self.check_works(self.run_all(works))

    def test_files_that_are_not_results(self):
        paths = {}
        paths["not-hdf5"] = os.path.join(self.tmp, "text.h5")
        with open(paths["not-hdf5"], "w") as f:
            f.write("hello\n" * 100)
        paths["empty"] = os.path.join(self.tmp, "empty.h5")
        open(paths["empty"], "w").close()
        paths["truncated"] = os.path.join(self.tmp, "truncated.h5")
        with open(self.results, "rb") as src, open(paths["truncated"], "wb") as dst:
            dst.write(src.read(os.path.getsize(self.results) // 2))
        paths["folder"] = os.path.join(self.tmp, "no-results")
        os.mkdir(paths["folder"])
        paths["run-file"] = os.path.join(self.out, "runs", "r000000.h5")
        paths["missing"] = os.path.join(self.tmp, "missing.h5")
        messages = {"not-hdf5": "not an HDF5 file", "empty": "not an HDF5 file (it is empty)",
                    "truncated": "not an HDF5 file", "folder": "no-results/results.h5: no such file",
                    "run-file": "one run's file; give the experiment's results.h5",
                    "missing": "missing.h5: no such file"}
        self.check_refused(self.run_all([(k, p, reader) for k, p in paths.items() for reader in ALL]), messages)

    def test_valid_files_still_work(self):
        jobs = []
        for name, change, readers in HARMLESS:
            path = self.corrupt(name, change)
            jobs += [(name, path, reader) for reader in readers]
        jobs += [("folder", self.out, reader) for reader in ALL]  # the output folder for its results.h5
        self.check_works(self.run_all(jobs))


if __name__ == "__main__":
    unittest.main(verbosity=2)
