"""End-to-end tests of `nnlab summary` and the Python scripts: every plotting
script makes a valid image from a small results file made here, the loader's
numbers equal those `nnlab summary` prints, and bad input gives a clear
message (no traceback) and exit status 2 (an unwritable output: 1).

Both results formats (docs/results-format.md): format 1 from the fixture
tests/fixtures/format1-results.h5 (nnlab 0.3) and its `nnlab summary --csv`,
format 2 from files written here with h5py as the spec lays them out (so
that these tests pass whichever format the nnlab binary writes), and from
nnlab itself once it writes format 2. plot_search.py on a real random search
and on a successive-halving file written here (rung column, pruned runs)."""
import contextlib
import csv
import io
import math
import os
import re
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
sys.path.insert(0, SCRIPTS)
import nnlab_results as nr  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"
FIXTURES = os.path.join(SRC, "tests", "fixtures")
FORMAT1 = os.path.join(FIXTURES, "format1-results.h5")
FORMAT1_CSV = os.path.join(FIXTURES, "format1-summary.csv")
HEADER = "ranked on the test set: no validation split (dataset.validation_fraction or dataset.folds)"


def run(*args):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=600)


def script(name, *args):
    return run(sys.executable, os.path.join(SCRIPTS, name), *args)


def summary_csv(path, *extra):
    r = run(NNLAB, "summary", path, "--csv", *extra)
    assert r.returncode == 0, r.stderr
    text = "".join(line for line in r.stdout.splitlines(True) if line.strip() != HEADER)  # wherever nnlab puts it
    return list(csv.DictReader(io.StringIO(text))), r


def csv_runs(row):
    """A `nnlab summary --csv` row's count of runs (format 1 calls the column seeds)."""
    return int(row["runs"] if "runs" in row else row["seeds"])


def check_image(test, path):
    with open(path, "rb") as f:
        head = f.read(8)
    ext = os.path.splitext(path)[1]
    want = {".png": PNG, ".pdf": b"%PDF", ".svg": b"<?xml"}[ext]
    test.assertTrue(head.startswith(want), (path, head))
    test.assertGreater(os.path.getsize(path), 2000)


def header_lines(text):
    return [line for line in text.splitlines() if line == HEADER]


def welford(values):
    """The spec's mean and std (docs/results-format.md, Ranking), written out
    here apart from the loader's."""
    k, mean, m2 = 0, 0.0, 0.0
    for v in values:
        if math.isfinite(v):
            delta = v - mean
            k += 1
            mean += delta / k
            m2 += delta * (v - mean)
    return (mean, math.sqrt(m2 / (k - 1)) if k > 1 else 0.0) if k else (math.nan, math.nan)


class Scripts(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="nnlab_scripts_")
        exp = os.path.join(cls.tmp, "small.yaml")
        with open(exp, "w") as f:
            f.write("name: small\nmodel: {hidden: [16]}\n"
                    "training: {epochs: 3, batch_size: 16, learning_rate: 0.5}\n"
                    "grid:\n  model.activation: [sigmoid, relu]\n  training.l2: [0.0, 0.001]\n"
                    "  model.hidden: [[16], [16, 8]]\nseeds: [1, 2, 3]\n")
        cls.out = os.path.join(cls.tmp, "out")
        r = run(NNLAB, "run", exp, "-o", cls.out, "--quiet")
        assert r.returncode == 0, r.stderr
        cls.results = os.path.join(cls.out, "results.h5")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def check_image(self, path):
        check_image(self, path)

    def test_where_matches_numbers_by_value_and_lists_without_spaces(self):
        with nr.load(self.results) as res:
            configs = res.configs({"training.l2": "1e-3", "model.hidden": "[16,8]"})
            self.assertEqual([e["values"]["training.l2"] for e in configs], ["0.001", "0.001"])
            self.assertEqual({e["values"]["model.hidden"] for e in configs}, {"[16, 8]"})
            self.assertEqual(res.where_rows({"training.l2": "0.0010"}).sum(), 12)
        r = script("plot_grid.py", self.results, "--x", "training.l2", "--y", "model.activation",
                   "--where", "model.hidden=[16,8]", "-o", os.path.join(self.tmp, "where.png"))
        self.assertEqual(r.returncode, 0, r.stderr)
        # nnlab summary --where keeps the same config points
        rows, _ = summary_csv(self.results, "--where", "training.l2=1e-3", "--where", "model.hidden=[16,8]")
        self.assertEqual(sorted(int(r["config"]) for r in rows), sorted(e["config"] for e in configs))
        for args, message in ((["--where", "model.activation=tanh"],
                               "--where: no config point has model.activation=tanh (model.activation takes sigmoid, "
                               "relu)"),
                              (["--where", "activation=relu"], "--where: 'activation' was not swept in this experiment"),
                              (["--where", "relu"], "--where needs KEY=VALUE")):
            r = run(NNLAB, "summary", self.results, *args)
            self.assertEqual(r.returncode, 2, args)
            self.assertIn(message, r.stderr)

    def test_where_takes_true_and_false_for_swept_switches(self):
        exp = os.path.join(self.tmp, "switch.yaml")
        with open(exp, "w") as f:
            f.write("model: {hidden: [8]}\ntraining: {epochs: 1, batch_size: 64}\n"
                    "grid:\n  training.shuffle: [false, true]\nseeds: [1]\n")
        out = os.path.join(self.tmp, "switch")
        r = run(NNLAB, "run", exp, "-o", out, "--quiet")
        self.assertEqual(r.returncode, 0, r.stderr)
        for value, config in (("true", 1), ("false", 0)):
            rows, _ = summary_csv(out, "--where", "training.shuffle=" + value)
            self.assertEqual([int(r["config"]) for r in rows], [config])
            self.assertEqual([r["training.shuffle"] for r in rows], [value])  # shown as written, not 1 and 0
            rows, _ = summary_csv(out, "--where", "training.shuffle=%d" % config)  # as stored
            self.assertEqual([int(r["config"]) for r in rows], [config])
            with nr.load(out) as res:
                self.assertEqual([e["config"] for e in res.configs({"training.shuffle": value})], [config])
                self.assertEqual([e["values"]["training.shuffle"] for e in res.configs({"training.shuffle": value})],
                                 [value])
                self.assertEqual([e["config"] for e in res.configs({"training.shuffle": str(config)})], [config])
        # the loader's list of switches is every true/false setting that can be swept (not dataset.*)
        with open(os.path.join(SRC, "src", "cfg.c")) as f:
            switches = re.findall(r'\{"((?!dataset\.)[a-z_.]+)", SET_BOOL,', f.read())
        self.assertEqual(sorted(switches), sorted(nr.SWITCHES))

    def test_every_script_makes_an_image(self):
        jobs = {
            "plot_curves.py": [],
            "plot_grid.py": ["--x", "training.l2", "--y", "model.activation", "--facet", "model.hidden"],
            "plot_weights.py": ["--run", "4"],
            "plot_compare.py": [],
        }
        for name, extra in jobs.items():
            for ext in (".png", ".svg", ".pdf"):
                out = os.path.join(self.tmp, name.replace(".py", ext))
                r = script(name, self.results, "-o", out, *extra)
                self.assertEqual(r.returncode, 0, (name, r.stderr))
                self.check_image(out)
                # ranked (plot_compare), shown (plot_grid) on the test set: no validation split here
                ranked = name in ("plot_compare.py", "plot_grid.py")
                self.assertEqual(header_lines(r.stderr), [HEADER] if ranked else [],
                                 (name, r.stderr))
            r = script(name, "--help")
            self.assertEqual(r.returncode, 0)
            self.assertIn("usage:", r.stdout)

    def test_outputs_are_whole_or_absent(self):
        # An unwritable path is a message and status 1 (nnlab's runtime failure), with nothing
        # left behind; an unknown format is bad input (2); no extension writes PNG to name.png.
        folder = os.path.join(self.tmp, "outputs")
        os.mkdir(folder)
        for out, status, message in ((os.path.join(folder, "missing", "c.png"), 1, "cannot write: No such file"),
                                     (os.path.join(folder, "c.xyz"), 2, "unknown image format 'xyz'")):
            r = script("plot_curves.py", self.results, "-o", out)
            self.assertEqual(r.returncode, status, r.stderr)
            self.assertIn(message, r.stderr)
            self.assertNotIn("Traceback", r.stderr)
            self.assertEqual(os.listdir(folder), [])
        r = script("plot_curves.py", self.results, "-o", os.path.join(folder, "plain"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(os.listdir(folder), ["plain.png"])
        self.check_image(os.path.join(folder, "plain.png"))
        self.assertIn("wrote " + os.path.join(folder, "plain.png"), r.stdout)

    def test_results_without_train_curves(self):
        # training.train_curves=false leaves the train curves NaN: every script still draws.
        out = os.path.join(self.tmp, "test-only")
        r = run(NNLAB, "run", os.path.join(self.tmp, "small.yaml"), "training.train_curves=false", "seeds=[1]",
                "-o", out, "--quiet")
        self.assertEqual(r.returncode, 0, r.stderr)
        results = os.path.join(out, "results.h5")
        for name, extra in (("plot_curves.py", []), ("plot_compare.py", []),
                            ("plot_grid.py", ["--x", "training.l2", "--y", "model.activation"]),
                            ("plot_weights.py", [])):
            png = os.path.join(self.tmp, "test-only-" + name.replace(".py", ".png"))
            r = script(name, results, "-o", png, *extra)
            self.assertEqual(r.returncode, 0, (name, r.stderr))
            self.check_image(png)
        # a metric without values is a message, not an empty plot
        png = os.path.join(self.tmp, "test-only-train-loss.png")
        for name, extra in (("plot_compare.py", []), ("plot_grid.py", ["--x", "training.l2", "--y", "model.hidden"])):
            r = script(name, results, "--metric", "final_train_loss", "-o", png, *extra)
            self.assertEqual(r.returncode, 2, (name, r.stderr))
            self.assertIn("no run has a value of final_train_loss (the runs have training.train_curves: false)",
                          r.stderr)
            self.assertFalse(os.path.exists(png))

    def test_script_selections(self):
        out = os.path.join(self.tmp, "sel.png")
        for name, extra in (("plot_curves.py", ["--where", "model.activation=relu", "--config", "5"]),
                            ("plot_curves.py", ["--max-configs", "2"]),
                            ("plot_compare.py", ["--where", "training.l2=0.001", "--top", "2"]),
                            ("plot_grid.py", ["--x", "training.l2", "--y", "model.hidden",
                                              "--where", "model.activation=sigmoid"]),
                            ("plot_weights.py", ["--init", "--max-units", "4"])):
            os.path.exists(out) and os.remove(out)
            r = script(name, self.results, "-o", out, *extra)
            self.assertEqual(r.returncode, 0, (name, extra, r.stderr))
            self.check_image(out)

    def test_loader_matches_nnlab_summary(self):
        rows, _ = summary_csv(self.results)
        with nr.load(self.results) as res:
            ranked = res.configs()
            configs = {e["config"]: e for e in ranked}
            self.assertEqual(res.swept, ["model.activation", "training.l2", "model.hidden"])
            self.assertEqual(res.validation, "none")
            self.assertTrue(res.ranked_on_test)
            self.assertEqual(len(rows), 8)
            # the same ranking, and the same bits (nnlab prints %.17g)
            self.assertEqual([int(row["config"]) for row in rows], [e["config"] for e in ranked])
            metrics = [m for m in res.METRICS if m + "_mean" in rows[0]]
            self.assertIn(res.rank_metric, metrics)
            for row in rows:
                e = configs[int(row["config"])]
                self.assertEqual(csv_runs(row), e["n_runs"])
                self.assertEqual(e["n_seeds"], 3)
                self.assertEqual(int(row["diverged"]), e["n_diverged"])
                for k in res.swept:
                    self.assertEqual(row[k], e["values"][k])
                for m in metrics:
                    for stat in ("mean", "std"):
                        self.assertEqual(float(row["%s_%s" % (m, stat)]).hex(), e[stat][m].hex(), (row, m, stat))
            # curves and weights through the loader
            c = res.curves(5)
            self.assertEqual(c["test_acc"].shape, (4,))
            self.assertEqual([W.shape for W, _ in res.weights(2)], [(64, 16), (16, 10)])
            w = res.weights(5, init=True)  # config 1: hidden [16, 8]
            self.assertEqual([(W.shape, b.shape) for W, b in w], [((64, 16), (16,)), ((16, 8), (8,)), ((8, 10), (10,))])
            self.assertTrue(all((b == 0).all() for _, b in w))
            agg = res.aggregate(1)
            self.assertEqual(agg["attrs"]["n_seeds"], 3)
            self.assertAlmostEqual(agg["mean"]["test_acc"][-1], configs[1]["mean"]["final_test_acc"], places=12)

    def test_ranking_options(self):
        with nr.load(self.results) as res:
            rank_metric = res.rank_metric
            order = {m: [e["config"] for e in res.configs(metric=m)]
                     for m in ("final_test_loss", "seconds", rank_metric)}
        rows, _ = summary_csv(self.results, "--sort", "final_test_loss", "--top", "3")
        self.assertEqual(len(rows), 3)
        losses = [float(r["final_test_loss_mean"]) for r in rows]
        self.assertEqual(losses, sorted(losses))
        self.assertEqual([int(r["config"]) for r in rows], order["final_test_loss"][:3])
        self.assertNotIn("seconds_mean", rows[0])
        rows, _ = summary_csv(self.results, "--sort", "seconds")  # a metric not shown by default gets a column
        secs = [float(r["seconds_mean"]) for r in rows]
        self.assertEqual(secs, sorted(secs))
        self.assertEqual([int(r["config"]) for r in rows], order["seconds"])
        table = [line for line in run(NNLAB, "summary", self.results, "--sort", "seconds").stdout.splitlines()
                 if line != HEADER]
        self.assertIn("seconds", table[0].split())
        rows, _ = summary_csv(self.results)
        accs = [float(r[rank_metric + "_mean"]) for r in rows]
        self.assertEqual(accs, sorted(accs, reverse=True))
        self.assertEqual([int(r["config"]) for r in rows], order[rank_metric])
        r = run(NNLAB, "summary", self.results, "--top", "2")
        self.assertEqual(r.returncode, 0)
        notes = ("cells: ", "tied: ")  # the two lines under the table (e2e_stats tests them)
        lines = [line for line in r.stdout.splitlines() if line != HEADER and not line.startswith(notes)]
        self.assertEqual(len(lines), 3)
        self.assertEqual([line.split(":")[0] + ": " for line in r.stdout.splitlines()[-2:]], list(notes))
        self.assertTrue(lines[0].split()[:3] == ["rank", "config", "model.activation"], lines[0])
        self.assertIn(" ± ", lines[1])
        r = run(NNLAB, "summary", self.results, "--sort", "accuracy")
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown metric 'accuracy'", r.stderr)

    def test_summary_reads_run_files_when_results_is_missing_or_older(self):
        copy = os.path.join(self.tmp, "running")
        shutil.copytree(self.out, copy)
        want, _ = summary_csv(self.results)
        os.remove(os.path.join(copy, "results.h5"))
        got, r = summary_csv(copy)
        self.assertEqual(got, want)
        self.assertIn("read 24 run files (0 not there yet)", r.stderr)
        # an experiment still running: some run files are not there yet
        for run_id in (0, 1, 23):
            os.remove(os.path.join(copy, "runs", "r%06d.h5" % run_id))
        got, r = summary_csv(copy)
        self.assertIn("(3 not there yet)", r.stderr)
        seeds = {int(row["config"]): csv_runs(row) for row in got}
        self.assertEqual(seeds[0], 1)
        self.assertEqual(seeds[7], 2)
        self.assertEqual(seeds[3], 3)
        # results.h5 older than a run file: the run files win
        shutil.copy(self.results, os.path.join(copy, "results.h5"))
        os.utime(os.path.join(copy, "results.h5"), (1, 1))
        got, r = summary_csv(copy)
        self.assertIn("older than the run files", r.stderr)

    def test_bad_input_is_a_message_not_a_traceback(self):
        bogus = os.path.join(self.tmp, "bogus.h5")
        with h5py.File(bogus, "w") as f:
            f["x"] = np.arange(3)
        text = os.path.join(self.tmp, "text.h5")
        with open(text, "w") as f:
            f.write("hello\n")
        missing = os.path.join(self.tmp, "missing.h5")
        run_file = os.path.join(self.out, "runs", "r000000.h5")
        for name, args, message in (
                ("plot_curves.py", [missing], "no such file"),
                ("plot_grid.py", [bogus], "not an nnlab results file"),
                ("plot_curves.py", [run_file], "one run's file; give the experiment's results.h5"),
                ("plot_weights.py", [text], "not an HDF5 file"),
                ("plot_compare.py", [self.results, "--where", "model.dropout=0.5"], "'model.dropout' was not swept"),
                ("plot_grid.py", [self.results, "--x", "training.epochs", "--y", "training.l2"],
                 "'training.epochs' was not swept"),
                ("plot_curves.py", [self.results, "--where", "model.activation=tanh"],
                 "no config point matches model.activation=tanh (model.activation takes sigmoid, relu)"),
                ("plot_grid.py", [self.results, "--x", "training.l2", "--y", "training.l2"],
                 "--x, --y and --facet need different settings"),
                ("plot_weights.py", [self.results, "--run", "99"], "no run 99"),
                ("plot_curves.py", [self.results, "--config", "99"], "no config point 99 (there are 0 to 7)")):
            r = script(name, *args, "-o", os.path.join(self.tmp, "x.png"))
            self.assertEqual(r.returncode, 2, (name, args, r.stderr))
            self.assertIn(message, r.stderr)
            self.assertNotIn("Traceback", r.stderr)
        for path, message in ((bogus, "not an nnlab results file"), (missing, "No such file"),
                              (self.tmp, "not an nnlab output folder"),
                              (run_file, "one run's file; summary reads an experiment's results.h5")):
            r = run(NNLAB, "summary", path)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn(message, r.stderr)


class HandMade(unittest.TestCase):
    """nnlab summary on a results file written here with known numbers."""

    def test_means_and_stds(self):
        tmp = tempfile.mkdtemp(prefix="nnlab_hand_")
        try:
            path = os.path.join(tmp, "results.h5")
            dt = np.dtype([("run", "<i4"), ("config", "<i4"), ("seed", "<i8"), ("status", "S16"),
                           ("final_test_acc", "<f8"), ("best_test_acc", "<f8"), ("final_test_loss", "<f8"),
                           ("final_train_acc", "<f8"), ("final_train_loss", "<f8"), ("seconds", "<f8"),
                           ("training.l2", "<f8"), ("model.activation", "S64")])
            rows = np.array([
                (0, 0, 1, b"ok", 0.9, 0.95, 0.3, 1, 0.1, 1, 0.0, b"relu"),
                (1, 0, 2, b"ok", 0.8, 0.85, 0.5, 1, 0.1, 1, 0.0, b"relu"),
                (2, 0, 3, b"ok", 1.0, 1.0, 0.1, 1, 0.1, 1, 0.0, b"relu"),
                (3, 1, 1, b"ok", 0.5, 0.6, 1.5, 1, 0.1, 1, 0.01, b"tanh"),
                (4, 1, 2, b"diverged", np.nan, 0.2, np.nan, 1, 0.1, 1, 0.01, b"tanh"),
            ], dtype=dt)
            with h5py.File(path, "w") as f:
                f.attrs["format"] = "nnlab-results"
                f.attrs["format_version"] = 1
                f["summary"] = rows
            r = run(NNLAB, "summary", path, "--csv")
            self.assertEqual(r.returncode, 0, r.stderr)
            got = list(csv.DictReader(io.StringIO(r.stdout)))
            self.assertEqual([g["config"] for g in got], ["0", "1"])
            a, b = got
            self.assertEqual((a["training.l2"], a["model.activation"], csv_runs(a), a["diverged"]),
                             ("0", "relu", 3, "0"))
            self.assertAlmostEqual(float(a["final_test_acc_mean"]), 0.9, places=12)
            self.assertAlmostEqual(float(a["final_test_acc_std"]), 0.1, places=12)
            self.assertAlmostEqual(float(a["best_test_acc_mean"]), 0.9333333333333333, places=12)
            self.assertAlmostEqual(float(a["best_test_acc_std"]), 0.07637626158259733, places=12)
            self.assertAlmostEqual(float(a["final_test_loss_mean"]), 0.3, places=12)
            self.assertAlmostEqual(float(a["final_test_loss_std"]), 0.2, places=12)
            # the diverged run's NaN is left out of the mean and counted
            self.assertEqual((csv_runs(b), b["diverged"], b["training.l2"]), (2, "1", "0.01"))
            self.assertAlmostEqual(float(b["final_test_acc_mean"]), 0.5, places=12)
            self.assertEqual(float(b["final_test_acc_std"]), 0.0)
            self.assertAlmostEqual(float(b["best_test_acc_mean"]), 0.4, places=12)
            r = run(NNLAB, "summary", path)
            self.assertIn("0.9000 ± 0.1000", r.stdout)
            self.assertIn("0.3000 ± 0.2000", r.stdout)
            # the loader: nnlab's ranking and bits
            with nr.load(path) as res:
                self.assertEqual((res.format_version, res.validation, res.rank_metric), (1, "none", "final_test_acc"))
                self.assertTrue(res.ranked_on_test)
                configs = res.configs()
                self.assertEqual([e["config"] for e in configs], [int(g["config"]) for g in got])
                self.assertEqual([e["n_diverged"] for e in configs], [0, 1])
                self.assertEqual(configs[1]["n"]["final_test_acc"], 1)
                for g, e in zip(got, configs):
                    for m in ("final_test_acc", "best_test_acc", "final_test_loss"):
                        for stat in ("mean", "std"):
                            self.assertEqual(float(g["%s_%s" % (m, stat)]).hex(), e[stat][m].hex(), (m, stat))
        finally:
            shutil.rmtree(tmp)


# ---- format 2, written here as docs/results-format.md lays it out --------------------------------------------

EPOCHS = 6
SUMMARY_2 = [("run", "<i4"), ("config", "<i4"), ("seed", "<i8"), ("fold", "<i4"), ("status", "S16"),
             ("epochs_done", "<i4"), ("best_epoch", "<i4"), ("val_loss", "<f8"), ("val_acc", "<f8"),
             ("test_loss", "<f8"), ("test_acc", "<f8"), ("final_train_loss", "<f8"), ("final_train_acc", "<f8"),
             ("final_val_loss", "<f8"), ("final_val_acc", "<f8"), ("final_test_loss", "<f8"),
             ("final_test_acc", "<f8"), ("seconds", "<f8")]


def synthetic_run(config, seed, values, val_acc, test_acc, fold=0, epochs_done=EPOCHS, best_epoch=None,
                  diverged=False, val_loss=None, test_loss=None):
    """One run of a synthetic format 2 file: its settings and summary values
    (val_loss, test_loss: 2·(1 - acc) unless given); the curves are made to agree."""
    best_epoch = epochs_done if best_epoch is None else best_epoch
    return dict(config=config, seed=seed, fold=fold, values=values, val_acc=val_acc, test_acc=test_acc,
                val_loss=2 * (1 - val_acc) if val_loss is None else val_loss,
                test_loss=2 * (1 - test_acc) if test_loss is None else test_loss,
                epochs_done=epochs_done, best_epoch=best_epoch, diverged=diverged)


def write_format2(path, runs, validation="holdout", swept=(("model.activation", "S64"), ("training.l2", "<f8")),
                  version=2, name="synthetic"):
    """A results.h5 of format_version 2 holding these runs (in this order: run ids 0, 1, ...)."""
    with_val = validation != "none"
    n_folds = max(r["fold"] for r in runs) + 1 if validation == "folds" else 0
    rng = np.random.default_rng(len(runs))
    table = np.zeros(len(runs), dtype=SUMMARY_2 + [(k, t) for k, t in swept])
    curves_of = []
    for i, r in enumerate(runs):
        x = np.arange(EPOCHS + 1, dtype=float)
        curves = {}
        for part, acc in (("train", max(r["test_acc"], r["val_acc"]) if with_val else r["test_acc"]),
                          ("val", r["val_acc"]), ("test", r["test_acc"])):
            # rises to acc at best_epoch, then falls a little
            rise = np.minimum(x / max(r["best_epoch"], 1), 1)
            c = 0.1 + (acc - 0.1) * rise - 0.01 * np.maximum(x - r["best_epoch"], 0)
            c[x > r["epochs_done"]] = np.nan  # after an early stop or divergence
            if r["diverged"]:
                c[r["epochs_done"]:] = np.nan  # the epoch it diverged at too
            curves[part + "_acc"], curves[part + "_loss"] = c, 2 * (1 - c)
        if not with_val:
            curves["val_acc"][:] = curves["val_loss"][:] = np.nan
        curves_of.append(curves)
        row = table[i]
        row["run"], row["config"], row["seed"], row["fold"] = i, r["config"], r["seed"], r["fold"]
        row["status"] = b"diverged" if r["diverged"] else b"ok"
        row["epochs_done"], row["best_epoch"] = r["epochs_done"], r["best_epoch"]
        for part in ("val", "test"):
            for what in ("acc", "loss"):
                row["%s_%s" % (part, what)] = np.nan if r["diverged"] or (part == "val" and not with_val) \
                    else r["%s_%s" % (part, what)]
        for curve, c in curves.items():
            row["final_" + curve] = c[r["epochs_done"]]
        row["seconds"] = 0.5 + 0.01 * i
        for k, _ in swept:
            row[k] = r["values"][k]
    with h5py.File(path, "w") as f:
        f.attrs.update({"format": "nnlab-results", "format_version": version, "name": name,
                        "experiment": "name: %s\n" % name, "fingerprint": "0123456789abcdef",
                        "nnlab_version": "0.4.0", "created": "2026-12-07T00:00:00Z", "validation": validation})
        d = f.create_group("data")
        d.attrs.update({"source": "digits", "n_features": 64, "n_classes": 10, "n_folds": n_folds,
                        "data_hash": "fedcba9876543210", "n_test": 360})
        if validation == "folds":
            d.attrs["n_train"], d.attrs["n_val"] = [958] * n_folds, [479] * n_folds
            d["fold"] = (np.arange(1437) % n_folds).astype(np.int8)
        else:
            d.attrs["n_train"], d.attrs["n_val"] = (1150, 287) if with_val else (1437, 0)
            if with_val:
                d["val_index"] = np.arange(287, dtype=np.int32)
        d["train_index"] = np.arange(1437, dtype=np.int32)
        d["test_index"] = np.arange(360, dtype=np.int32)
        d["scale_offset"], d["scale_factor"] = np.zeros(64), np.ones(64)
        f["summary"] = table
        for i, (r, curves) in enumerate(zip(runs, curves_of)):
            g = f.create_group("runs/r%06d" % i)
            g.attrs.update({"run": i, "config": r["config"], "seed": r["seed"], "fold": r["fold"],
                            "status": "diverged" if r["diverged"] else "ok", "epochs_done": r["epochs_done"],
                            "best_epoch": r["best_epoch"], "seconds": table[i]["seconds"], "train_seconds": 0.4,
                            "fingerprint": "0123456789abcdef", "data_hash": "fedcba9876543210",
                            "training.epochs": EPOCHS})
            g.attrs.update({k: r["values"][k] for k, _ in swept})
            for curve, c in curves.items():
                if with_val or not curve.startswith("val"):
                    g["curves/" + curve] = c
            groups = ("weights", "init") + (("best",) if with_val else ())
            for which in groups:
                for layer, shape in enumerate(((64, 8), (8, 10))):
                    W = rng.normal(size=shape).astype(np.float32)
                    if r["diverged"] and which == "weights":
                        W[:] = np.nan
                    g["%s/layer%d/W" % (which, layer)] = W
                    g["%s/layer%d/b" % (which, layer)] = np.zeros(shape[1], np.float32)
            g["scale_offset"], g["scale_factor"] = np.zeros(64), np.ones(64)
        for c in sorted({r["config"] for r in runs}):
            members = [i for i, r in enumerate(runs) if r["config"] == c]
            g = f.create_group("aggregate/c%04d" % c)
            g.attrs.update({"config": c, "n_runs": len(members), "n_seeds": len({runs[i]["seed"] for i in members}),
                            "n_diverged": sum(runs[i]["diverged"] for i in members)})
            g.attrs.update({k: runs[members[0]]["values"][k] for k, _ in swept})
            for curve in curves_of[0]:
                if not with_val and curve.startswith("val"):
                    continue
                stack = np.array([curves_of[i][curve] for i in members])
                finite = np.isfinite(stack)
                n = finite.sum(axis=0)
                total = np.where(finite, stack, 0).sum(axis=0)
                mean = np.where(n > 0, total / np.maximum(n, 1), np.nan)
                sq = np.where(finite, (stack - mean) ** 2, 0).sum(axis=0)
                g["mean/" + curve] = mean
                g["std/" + curve] = np.where(n > 1, np.sqrt(sq / np.maximum(n - 1, 1)), np.where(n == 1, 0.0, np.nan))


def holdout_runs():
    """4 config points x 2 seeds, ranked differently on validation (2, 0, 3, 1) and on the test set
    (1, 3, 0, 2); config 0's seed 2 stopped early (epoch 4 of 6), config 3's seed 1 diverged."""
    values = [{"model.activation": a, "training.l2": l2} for a in (b"relu", b"tanh") for l2 in (0.0, 0.01)]
    val = {0: (0.90, 0.92), 1: (0.80, 0.82), 2: (0.95, 0.97), 3: (0.5, 0.86)}
    test = {0: (0.80, 0.81), 1: (0.90, 0.91), 2: (0.70, 0.71), 3: (0.5, 0.85)}
    runs = []
    for c in range(4):
        for k, seed in enumerate((1, 2)):
            runs.append(synthetic_run(c, seed, values[c], val[c][k], test[c][k],
                                      epochs_done=4 if (c, seed) == (0, 2) else EPOCHS,
                                      best_epoch=3 if (c, seed) == (0, 2) else 5,
                                      diverged=(c, seed) == (3, 1)))
    return runs


class Format1Fixture(unittest.TestCase):
    """tests/fixtures/format1-results.h5, written by nnlab 0.3, and its `nnlab summary --csv`."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="nnlab_format1_")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def test_loads_with_its_old_columns(self):
        with nr.load(FORMAT1) as res:
            self.assertEqual((res.format_version, res.validation), (1, "none"))
            self.assertEqual(res.METRICS, ("final_test_acc", "best_test_acc", "final_test_loss", "final_train_acc",
                                           "final_train_loss", "seconds"))
            self.assertEqual(res.rank_metric, "final_test_acc")
            self.assertTrue(res.ranked_on_test)
            self.assertEqual(nr.RANKED_ON_TEST, HEADER)
            self.assertEqual(res.swept, ["model.activation", "training.learning_rate"])
            self.assertEqual(sorted(res.curves(3)), ["test_acc", "test_loss", "train_acc", "train_loss"])
            self.assertEqual(res.curves(3)["test_acc"].shape, (4,))
            self.assertEqual(sorted(res.aggregate(1)["mean"]), sorted(nr.CURVES))
            self.assertEqual([W.shape for W, _ in res.weights(0)], [(64, 8), (8, 10)])
            init = res.weights(0, init=True)
            for (a, _), (b, _) in zip(init, res.weights(0, "init")):
                self.assertTrue((a == b).all())
            self.assertFalse((init[0][0] == res.weights(0, "final")[0][0]).all())
            with self.assertRaisesRegex(nr.NnlabError, "run 0 has no best weights"):
                res.weights(0, "best")
            with self.assertRaisesRegex(nr.NnlabError, "no metric val_acc in a format 1 file"):
                res.configs(metric="val_acc")
            self.assertEqual(res.best_run(), 1)  # config 0's better seed (0.7556 against 0.575)

    def test_ranking_equals_nnlab_0_3_summary(self):
        with open(FORMAT1_CSV) as f:
            want = list(csv.DictReader(f))
        with nr.load(FORMAT1) as res:
            got = res.configs()
        # configs 1 and 3 tie exactly (0.10833333333333334): by config id
        self.assertEqual([int(w["config"]) for w in want], [0, 1, 3, 2])
        self.assertEqual([e["config"] for e in got], [0, 1, 3, 2])
        self.assertEqual([e["rank"] for e in got], [int(w["rank"]) for w in want])
        for w, e in zip(want, got):
            self.assertEqual((e["n_seeds"], e["n_runs"], e["n_diverged"]), (int(w["seeds"]), 2, int(w["diverged"])))
            self.assertEqual(e["values"], {k: w[k] for k in ("model.activation", "training.learning_rate")})
            for m in ("final_test_acc", "best_test_acc", "final_test_loss"):
                for stat in ("mean", "std"):
                    have, ref = e[stat][m], float(w["%s_%s" % (m, stat)])
                    self.assertTrue(math.isclose(have, ref, rel_tol=1e-15, abs_tol=0), (w["config"], m, stat))
                    self.assertEqual(have.hex(), ref.hex(), (w["config"], m, stat))  # in fact the same bits

    def test_nnlab_summary_still_reads_format_1(self):
        rows, _ = summary_csv(FORMAT1)
        with open(FORMAT1_CSV) as f:
            want = list(csv.DictReader(f))
        self.assertEqual([r["config"] for r in rows], [w["config"] for w in want])
        for r, w in zip(rows, want):
            for col in ("final_test_acc_mean", "final_test_acc_std", "final_test_loss_mean"):
                self.assertEqual(float(r[col]), float(w[col]), col)

    def test_scripts_draw_it_and_say_it_is_ranked_on_the_test_set(self):
        for name, extra, header in (("plot_curves.py", ["--max-configs", "2"], True),  # best 2: ranked
                                    ("plot_curves.py", [], False),
                                    ("plot_compare.py", ["--top", "3"], True),
                                    ("plot_compare.py", ["--metric", "final_train_loss"], False),
                                    ("plot_grid.py", [], True),
                                    ("plot_weights.py", [], True),
                                    ("plot_weights.py", ["--run", "2", "--init"], False)):
            out = os.path.join(self.tmp, "f1-%s.png" % name)
            r = script(name, FORMAT1, "-o", out, *extra)
            self.assertEqual(r.returncode, 0, (name, extra, r.stderr))
            check_image(self, out)
            self.assertEqual(header_lines(r.stderr), [HEADER] if header else [], (name, extra, r.stderr))
        for name, extra, message in (("plot_compare.py", ["--metric", "val_acc"], "no metric val_acc in a format 1"),
                                     ("plot_grid.py", ["--metric", "test_acc"], "no metric test_acc in a format 1"),
                                     ("plot_weights.py", ["--final", "--init"], "not allowed with argument")):
            r = script(name, FORMAT1, "-o", os.path.join(self.tmp, "x.png"), *extra)
            self.assertEqual(r.returncode, 2, (name, r.stderr))
            self.assertIn(message, r.stderr)
            self.assertNotIn("Traceback", r.stderr)


class Format2Synthetic(unittest.TestCase):
    """Format 2 files written here (h5py, per docs/results-format.md)."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="nnlab_format2_")
        cls.holdout = os.path.join(cls.tmp, "holdout.h5")
        write_format2(cls.holdout, holdout_runs(), "holdout", name="holdout")
        cls.none = os.path.join(cls.tmp, "none.h5")
        write_format2(cls.none, holdout_runs(), "none", name="none")
        cls.folds = os.path.join(cls.tmp, "folds.h5")
        runs = []
        for c, (act, l2) in enumerate(((b"relu", 0.0), (b"tanh", 0.0))):
            for seed in (1, 2):
                for fold in range(3):
                    runs.append(synthetic_run(c, seed, {"model.activation": act, "training.l2": l2},
                                              0.6 + 0.1 * c + 0.01 * fold, 0.9 - 0.1 * c, fold=fold))
        write_format2(cls.folds, runs, "folds", name="folds")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def test_validation_ranks_on_val_acc(self):
        with nr.load(self.holdout) as res:
            self.assertEqual((res.format_version, res.validation, res.rank_metric), (2, "holdout", "val_acc"))
            self.assertFalse(res.ranked_on_test)
            self.assertFalse(res.note_ranking(file=io.StringIO()))
            self.assertEqual(res.METRICS, ("val_acc", "val_loss", "test_acc", "test_loss", "final_val_acc",
                                           "final_val_loss", "final_test_acc", "final_test_loss", "final_train_acc",
                                           "final_train_loss", "best_epoch", "epochs_done", "seconds"))
            configs = res.configs()
            self.assertEqual([e["config"] for e in configs], [2, 0, 3, 1])
            self.assertEqual([e["config"] for e in res.configs(metric="test_acc")], [1, 3, 0, 2])
            self.assertEqual([e["config"] for e in res.configs(metric="val_loss")], [2, 0, 3, 1])
            self.assertEqual([e["config"] for e in res.configs(ranked=False)], [0, 1, 2, 3])
            self.assertEqual([e["config"] for e in res.configs({"model.activation": "tanh"})], [2, 3])
            by = {e["config"]: e for e in configs}
            # the diverged run's NaN is skipped and counted
            self.assertEqual((by[3]["n_runs"], by[3]["n_diverged"], by[3]["n"]["val_acc"]), (2, 1, 1))
            self.assertEqual((by[3]["mean"]["val_acc"], by[3]["std"]["val_acc"]), (0.86, 0.0))
            self.assertEqual(by[0]["mean"]["val_acc"], welford([0.90, 0.92])[0])
            self.assertEqual(by[0]["mean"]["epochs_done"], 5.0)  # one run stopped at 4 of 6
            # the best run: config 2's better seed (run 5), its weights at best_epoch
            self.assertEqual(res.best_run(), 5)
            self.assertEqual(res.best_run(metric="test_acc"), 3)
            with h5py.File(self.holdout, "r") as f:
                want = f["runs/r000005/best/layer0/W"][()]
            self.assertTrue((res.weights(5, "best")[0][0] == want).all())
            self.assertFalse((res.weights(5)[0][0] == want).all())
            self.assertEqual(sorted(res.curves(1)), sorted(nr.CURVES + nr.VAL_CURVES))
            self.assertTrue(np.isnan(res.curves(1)["val_acc"][5:]).all())  # stopped early at epoch 4
            self.assertEqual(sorted(res.aggregate(0)["mean"]), sorted(nr.CURVES + nr.VAL_CURVES))
            with self.assertRaisesRegex(nr.NnlabError, "best_test_acc .*gone in format 2"):
                res.configs(metric="best_test_acc")

    def test_no_validation_ranks_on_test_acc(self):
        with nr.load(self.none) as res:
            self.assertEqual((res.format_version, res.validation, res.rank_metric), (2, "none", "test_acc"))
            self.assertTrue(res.ranked_on_test)
            note = io.StringIO()
            self.assertTrue(res.note_ranking(file=note))
            self.assertEqual(note.getvalue(), HEADER + "\n")
            self.assertEqual([e["config"] for e in res.configs()], [1, 3, 0, 2])
            self.assertEqual(res.CURVES, nr.CURVES)
            self.assertEqual(sorted(res.curves(0)), sorted(nr.CURVES))
            with self.assertRaisesRegex(nr.NnlabError, "run 0 has no best weights"):
                res.weights(0, "best")
            with self.assertRaisesRegex(nr.NnlabError, r"no run has a value of val_acc \(no validation split"):
                res.require_values("val_acc", np.arange(8))

    def test_folds_count_runs_and_seeds(self):
        with nr.load(self.folds) as res:
            self.assertEqual((res.validation, res.rank_metric), ("folds", "val_acc"))
            configs = res.configs()
            self.assertEqual([e["config"] for e in configs], [1, 0])
            self.assertEqual([(e["n_runs"], e["n_seeds"]) for e in configs], [(6, 2), (6, 2)])
            for e in configs:
                vals = res.summary["val_acc"][res.summary["config"] == e["config"]].tolist()
                self.assertEqual(len(vals), 6)
                self.assertEqual((e["mean"]["val_acc"], e["std"]["val_acc"]), welford(vals))

    def test_expected_max_is_the_mean_best_of_n_draws(self):
        # Dodge et al.'s formula against brute force: every ordered draw of n of the values, with replacement
        import itertools
        values = [0.31, 0.9, 0.52, 0.9, 0.7, math.nan]  # a tie, and a NaN left out
        finite = [v for v in values if math.isfinite(v)]
        got = nr.expected_max(values, n_max=4)
        for n in range(1, 5):
            draws = list(itertools.product(finite, repeat=n))
            self.assertAlmostEqual(got[n - 1], sum(max(d) for d in draws) / len(draws), places=12)
            self.assertAlmostEqual(nr.expected_max(values, 4, higher=False)[n - 1],
                                   sum(min(d) for d in draws) / len(draws), places=12)
        self.assertAlmostEqual(got[0], sum(finite) / len(finite), places=15)  # n = 1: the mean
        self.assertTrue(all(a <= b for a, b in zip(got, got[1:])))
        with self.assertRaises(nr.NnlabError):
            nr.expected_max([math.nan])

    def test_ties_go_by_value_to_the_last_bit_then_config(self):
        # three values whose Welford mean W is not numpy's mean (pairwise sums): a loader
        # using numpy would break the exact tie between configs 0 and 1 below
        rng = np.random.default_rng(7)
        while True:
            trio = [float(v) for v in rng.uniform(0.5, 0.99, 3)]
            w = welford(trio)[0]
            if float(np.mean(trio)) != w:
                break
        up, down = math.nextafter(w, 1), math.nextafter(w, 0)
        self.assertEqual(nr.mean_std(trio + [math.nan, math.inf]), welford(trio))  # plot_grid's cells: the same bits
        self.assertEqual(nr.welford(trio), welford(trio) + (3,))
        values = {"model.activation": b"relu", "training.l2": 0.0}
        runs = [synthetic_run(0, s, values, v, 0.5, val_loss=v) for s, v in zip((1, 2, 3), trio)]
        runs += [synthetic_run(1, 1, values, w, 0.5, val_loss=w),                # W exactly: ties with config 0
                 synthetic_run(2, 1, values, up, 0.5, val_loss=up),              # 1 ulp above
                 synthetic_run(3, 1, values, down, 0.5, val_loss=down),          # 1 ulp below
                 synthetic_run(4, 1, values, 0.9, 0.5, diverged=True),           # no value: last
                 synthetic_run(5, 1, values, w, 0.5, val_loss=w),                # W, and a diverged run
                 synthetic_run(5, 2, values, 0.99, 0.5, diverged=True)]
        path = os.path.join(self.tmp, "ties.h5")
        write_format2(path, runs, "holdout", name="ties")
        with nr.load(path) as res:
            by_acc = res.configs()
            self.assertEqual(by_acc[1]["mean"]["val_acc"].hex(), w.hex())
            self.assertEqual([e["config"] for e in by_acc], [2, 0, 1, 5, 3, 4])        # accuracy: descending
            self.assertEqual([e["config"] for e in res.configs(metric="val_loss")], [3, 0, 1, 5, 2, 4])  # ascending
            self.assertEqual(res.best_run(), 4)  # run ids: 0-2 config 0, 3 config 1, 4 config 2
        # nnlab summary ranks the same, once it reads format 2
        r = run(NNLAB, "summary", path, "--csv")
        if r.returncode != 0 and "best_test_acc" in r.stderr:
            self.skipTest("this nnlab reads format 1 only: %s" % r.stderr.strip())
        rows, _ = summary_csv(path)
        self.assertEqual([int(row["config"]) for row in rows], [2, 0, 1, 5, 3, 4])
        if "val_acc_mean" in rows[0]:
            self.assertEqual([float(row["val_acc_mean"]).hex() for row in rows],
                             [e["mean"]["val_acc"].hex() if e["n"]["val_acc"] else float("nan").hex() for e in by_acc])
        rows, _ = summary_csv(path, "--sort", "val_loss")
        self.assertEqual([int(row["config"]) for row in rows], [3, 0, 1, 5, 2, 4])

    def test_scripts_draw_format_2(self):
        jobs = (("plot_curves.py", []), ("plot_curves.py", ["--max-configs", "2"]),
                ("plot_curves.py", ["--config", "0", "--config", "3"]),  # an early stop, a divergence
                ("plot_compare.py", []), ("plot_compare.py", ["--metric", "test_loss", "--top", "2"]),
                ("plot_grid.py", []), ("plot_grid.py", ["--metric", "epochs_done"]),
                ("plot_weights.py", []), ("plot_weights.py", ["--final"]), ("plot_weights.py", ["--run", "6"]))
        for path, ranked_on_test in ((self.holdout, False), (self.none, True), (self.folds, False)):
            for name, extra in jobs:
                if path == self.folds and "--config" in extra:
                    continue
                out = os.path.join(self.tmp, "%s-%s.png" % (os.path.basename(path), name))
                os.path.exists(out) and os.remove(out)
                r = script(name, path, "-o", out, *extra)
                self.assertEqual(r.returncode, 0, (path, name, extra, r.stderr))
                check_image(self, out)
                # the header when something was ranked or shown on the test set without a validation split
                ranks = (name in ("plot_compare.py", "plot_grid.py") and "--metric" not in extra
                         or name == "plot_curves.py" and "--max-configs" in extra
                         or name == "plot_weights.py" and "--run" not in extra
                         or "test_loss" in extra)
                self.assertEqual(header_lines(r.stderr), [HEADER] if ranked_on_test and ranks else [],
                                 (path, name, extra, r.stderr))
        r = script("plot_compare.py", self.holdout, "--metric", "best_test_acc", "-o", os.path.join(self.tmp, "x.png"))
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("holdout.h5: no metric best_test_acc in a format 2 file", r.stderr)
        self.assertNotIn("Traceback", r.stderr)
        r = script("plot_grid.py", self.none, "--metric", "val_acc", "-o", os.path.join(self.tmp, "x.png"))
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("no run has a value of val_acc (no validation split", r.stderr)

    def test_plot_weights_takes_the_selected_epoch(self):
        import plot_weights
        err = io.StringIO()
        with nr.load(self.holdout) as res, contextlib.redirect_stderr(err):
            self.assertEqual(plot_weights.choose(res), (5, "best"))
            self.assertEqual(plot_weights.choose(res, final=True), (5, "final"))
            self.assertEqual(plot_weights.choose(res, init=True), (5, "init"))
            self.assertEqual(plot_weights.choose(res, run=2), (2, "best"))
        self.assertEqual(err.getvalue(), "")  # chosen on validation
        with nr.load(self.none) as res, contextlib.redirect_stderr(err):
            self.assertEqual(plot_weights.choose(res, run=2), (2, "final"))  # no best/ without validation
            self.assertEqual(err.getvalue(), "")  # given, not ranked
            self.assertEqual(plot_weights.choose(res)[0], 3)  # by test_acc: config 1's better seed
        self.assertEqual(err.getvalue(), HEADER + "\n")

    def test_newer_and_broken_files_are_messages(self):
        newer = os.path.join(self.tmp, "newer.h5")
        write_format2(newer, holdout_runs(), "holdout", version=3)
        short = os.path.join(self.tmp, "short.h5")
        with h5py.File(short, "w") as f:
            f.attrs.update({"format": "nnlab-results", "format_version": 2, "validation": "holdout"})
            f["summary"] = np.zeros(2, dtype=[("run", "<i4"), ("config", "<i4"), ("status", "S16"),
                                              ("val_acc", "<f8")])
        unversioned = os.path.join(self.tmp, "unversioned.h5")
        shutil.copy(FORMAT1, unversioned)
        with h5py.File(unversioned, "a") as f:
            del f.attrs["format_version"]
        for path, message in ((newer, "newer.h5: results format_version 3; this loader reads 1 and 2 "
                                      "(a newer nnlab wrote it)"),
                              (unversioned, "unversioned.h5: results format_version 0; this loader reads 1 and 2"),
                              (short, "short.h5: /summary lacks the val_loss column (format_version 2)")):
            with self.assertRaises(nr.NnlabError) as e:
                nr.load(path)
            self.assertEqual(str(e.exception), path + message[message.index(":"):])
            r = script("plot_curves.py", path, "-o", os.path.join(self.tmp, "x.png"))
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn(message, r.stderr)
            self.assertNotIn("Traceback", r.stderr)
        for path in (newer, unversioned):  # nnlab summary refuses them too
            r = run(NNLAB, "summary", path)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("format_version", r.stderr)


class RealFormat2(unittest.TestCase):
    """nnlab's own format 2 files, with validation (holdout and folds), once nnlab writes them."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="nnlab_real2_")
        cls.outs = {}
        for kind, dataset, training in (("holdout", "validation_fraction: 0.2", "epochs: 3"),
                                        ("folds", "folds: 3", "epochs: 3"),
                                        ("early", "validation_fraction: 0.2",  # relu is stuck at 10%: it stops
                                         "epochs: 12, early_stopping: {patience: 1}")):
            exp = os.path.join(cls.tmp, kind + ".yaml")
            with open(exp, "w") as f:
                f.write("name: %s\ndataset: {%s}\nmodel: {hidden: [8]}\n"
                        "training: {%s, batch_size: 16, learning_rate: 0.5}\n"
                        "grid:\n  model.activation: [sigmoid, relu]\n  training.l2: [0.0, 0.001]\n"
                        "seeds: [1, 2]\n" % (kind, dataset, training))
            out = os.path.join(cls.tmp, kind)
            r = run(NNLAB, "run", exp, "-o", out, "--quiet")
            if r.returncode == 0:
                cls.outs[kind] = out
            else:
                cls.why = r.stderr.strip()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def results(self, kind):
        if kind not in self.outs:
            self.skipTest("this nnlab has no %s validation (format 1): %s" % (kind, self.why))
        return os.path.join(self.outs[kind], "results.h5")

    def check(self, kind, n_runs):
        path = self.results(kind)
        rows, r = summary_csv(path)
        self.assertEqual(header_lines(r.stdout + "\n" + r.stderr), [])  # ranked on validation
        with nr.load(path) as res:
            self.assertEqual((res.format_version, res.validation, res.rank_metric),
                             (2, "folds" if kind == "folds" else "holdout", "val_acc"))
            configs = res.configs()
            self.assertEqual([int(row["config"]) for row in rows], [e["config"] for e in configs])
            self.assertEqual([csv_runs(row) for row in rows], [e["n_runs"] for e in configs])
            self.assertEqual([e["n_runs"] for e in configs], [n_runs] * 4)
            metrics = [m for m in res.METRICS if m + "_mean" in rows[0]]
            self.assertIn("val_acc", metrics)
            for row, e in zip(rows, configs):
                for m in metrics:
                    self.assertEqual(float(row[m + "_mean"]).hex(), e["mean"][m].hex(), m)
            run_id = res.best_run()
            self.assertTrue(res.has_weights(run_id, "best"))
            self.assertIn("val_acc", res.curves(run_id))
        for name in ("plot_curves.py", "plot_compare.py", "plot_grid.py", "plot_weights.py"):
            out = os.path.join(self.tmp, "%s-%s.png" % (kind, name))
            r = script(name, path, "-o", out)
            self.assertEqual(r.returncode, 0, (name, r.stderr))
            check_image(self, out)
            self.assertEqual(header_lines(r.stderr), [], name)

    def test_holdout(self):
        self.check("holdout", 2)

    def test_folds(self):
        self.check("folds", 6)

    def test_early_stopping(self):
        self.check("early", 2)
        with nr.load(self.results("early")) as res:
            s = res.summary
            self.assertTrue((s["epochs_done"] < 12).any(), s["epochs_done"])
            for row in s:
                c = res.curves(row["run"])
                done, best = int(row["epochs_done"]), int(row["best_epoch"])
                self.assertTrue(np.isnan(c["val_acc"][done + 1:]).all())
                self.assertTrue(np.isfinite(c["val_acc"][:done + 1]).all())
                self.assertLessEqual(best, done)
                self.assertEqual(row["val_acc"], c["val_acc"][best])   # selected on validation
                self.assertEqual(row["test_acc"], c["test_acc"][best])  # and reported at that epoch
                self.assertEqual(row["final_test_acc"], c["test_acc"][done])


class SearchPlot(unittest.TestCase):
    """plot_search.py on a real random search (experiments/random-search.yaml,
    fewer trials and epochs) beside a small grid, on real successive halving
    and Hyperband runs, and on a successive-halving file written here (rung
    column, pruned runs) whose every value is known."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="nnlab_search_")
        cls.random = os.path.join(cls.tmp, "random")
        r = run(NNLAB, "run", os.path.join(SRC, "experiments", "random-search.yaml"), "search.trials=8",
                "training.epochs=4", "seeds=[1, 2]", "-o", cls.random, "--quiet")
        assert r.returncode == 0, r.stderr
        exp = os.path.join(cls.tmp, "grid.yaml")
        with open(exp, "w") as f:
            f.write("name: small-grid\ndataset: {validation_fraction: 0.2, scale: standard}\nmodel: {hidden: [16]}\n"
                    "training: {epochs: 4, batch_size: 16, learning_rate: 0.1}\n"
                    "grid:\n  model.activation: [tanh, relu]\n  training.l2: [0.0, 0.001]\nseeds: [1, 2]\n")
        cls.grid = os.path.join(cls.tmp, "grid")
        r = run(NNLAB, "run", exp, "-o", cls.grid, "--quiet")
        assert r.returncode == 0, r.stderr
        cls.halving = os.path.join(cls.tmp, "halving.h5")
        write_halving(cls.halving)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def test_draws_a_search_beside_a_grid(self):
        import plot_search
        for ext in (".png", ".svg", ".pdf"):
            out = os.path.join(self.tmp, "search" + ext)
            r = script("plot_search.py", self.random, "-o", out, "--grid", self.grid, self.halving)
            self.assertEqual(r.returncode, 0, r.stderr)
            check_image(self, out)
            self.assertIn("wrote " + out, r.stdout)
            self.assertEqual(r.stderr, "")
        out = os.path.join(self.tmp, "halving.png")
        r = script("plot_search.py", self.halving, "-o", out, "--metric", "val_loss")
        self.assertEqual(r.returncode, 0, r.stderr)
        check_image(self, out)
        with nr.load(self.random) as res:
            self.assertEqual(plot_search.search_of(res), {"method": "random"})
        with nr.load(self.grid) as res:
            self.assertEqual(plot_search.search_of(res), {"method": "grid"})

    def test_best_so_far_is_the_best_mean_of_the_trials_trained(self):
        import plot_search
        rows, _ = summary_csv(self.random)
        for metric in ("val_acc", "val_loss"):
            with nr.load(self.random) as res:
                x, y = plot_search.search_trajectory(res, metric)
                configs = res.configs(metric=metric)
                search = plot_search.Search(res, metric)
                s = res.summary
                # one rung: a step per trial, in trial order, each its runs' epochs
                self.assertEqual(len(x), 8)
                want = np.cumsum([s["epochs_done"][s["config"] == c].sum() for c in range(8)])
                self.assertEqual(x.tolist(), want.tolist())
                self.assertEqual(x[-1], s["epochs_done"].sum())
                # the best mean so far: the running best of the trials' means (computed apart here)
                means = [welford(s[metric][s["config"] == c].tolist())[0] for c in range(8)]
                best = np.maximum.accumulate(means) if metric == "val_acc" else np.minimum.accumulate(means)
                self.assertEqual(y.tolist(), best.tolist())
                self.assertTrue((np.diff(y) >= 0).all() if metric == "val_acc" else (np.diff(y) <= 0).all(), y)
                self.assertEqual(y[-1].hex(), configs[0]["mean"][metric].hex())  # the best config point's, its bits
                # no rungs today: every trial finished, ranked as the loader (and nnlab summary) ranks
                self.assertTrue(all(e["finished"] for e in search.entries))
                self.assertEqual([e["config"] for e in search.ranked], [e["config"] for e in configs])
            if metric == "val_acc":
                self.assertEqual([int(row["config"]) for row in rows], [e["config"] for e in configs])

    def test_halving_rungs_ranking_and_spending(self):
        import plot_search
        self.assertEqual(plot_search.halving_rungs(1, 3, 6), [1, 3, 6])
        self.assertEqual(plot_search.halving_rungs(1, 3, 9), [1, 3, 9])
        self.assertEqual(plot_search.halving_rungs(2, 2, 20), [2, 4, 8, 16, 20])
        self.assertEqual(plot_search.halving_rungs(10, 3, 10), [10])
        # Li et al.'s table for R = 81, eta = 3: brackets of 81, 34, 15, 8 and 5 trials
        brackets = plot_search.hyperband_brackets(1, 3, 81)
        self.assertEqual([n for n, _ in brackets], [81, 34, 15, 8, 5])
        self.assertEqual([rungs for _, rungs in brackets],
                         [[1, 3, 9, 27, 81], [3, 9, 27, 81], [9, 27, 81], [27, 81], [81]])
        with nr.load(self.halving) as res:
            self.assertEqual(plot_search.search_of(res), {"method": "halving", "min_epochs": 1, "eta": 3.0})
            search = plot_search.Search(res, "val_acc")
            s = res.summary
            # config 8 has the highest mean, but was pruned at rung 0: as nnlab summary ranks, the config points
            # promoted to the last rung come first, then the pruned ones by rung reached, then by the mean
            self.assertEqual([e["config"] for e in search.ranked][:4], [3, 6, 1, 8])
            self.assertEqual([(e["config"], e["reached"]) for e in search.entries if e["reached"]],
                             [(1, 1), (3, 2), (6, 1)])
            events = search.events()
            self.assertEqual([(k, c) for k, c, _, _ in events],
                             [(0, c) for c in range(9)] + [(1, 1), (1, 3), (1, 6), (2, 3)])
            self.assertEqual([spent for _, _, spent, _ in events], [2] * 9 + [4, 4, 4, 6])
            x, y = plot_search.trajectory(events, "val_acc")
            self.assertEqual(x[-1], s["epochs_done"].sum())
            self.assertTrue((np.diff(y) >= 0).all())
            # a trial that went on: its value at rung 0 is its runs' at the epoch selected among 0..1
            # (training.select: val_acc here); once stopped, its /summary value
            rung0 = {c: mean for k, c, _, mean in events if k == 0}
            runs = s["run"][s["config"] == 3]
            self.assertEqual(rung0[3], welford([np.max(res.curves(r)["val_acc"][:2]) for r in runs])[0])
            self.assertEqual(rung0[0], welford(s["val_acc"][s["config"] == 0].tolist())[0])
            self.assertEqual(events[-1][3], search.ranked[0]["mean"]["val_acc"])
        # a run past its rung's end, a rung the search does not have: refused
        for change, message in ((lambda u: u["rung"].__setitem__(0, 5), "rung 5 is not a rung of its search"),
                                (lambda u: u["epochs_done"].__setitem__(0, 3), "run 0 trained 3 epochs, past the end "
                                                                                "of its rung 0 at epoch 1")):
            bad = os.path.join(self.tmp, "bad-halving.h5")
            write_halving(bad, change)
            r = script("plot_search.py", bad, "-o", os.path.join(self.tmp, "bad.png"))
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn(message, r.stderr)
            self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)

    def test_real_halving_and_hyperband(self):
        import plot_search
        space = ", space: {training.learning_rate: {log_uniform: [1.0e-3, 1.0]}}"
        for method, grid, extra in (("halving", "  training.learning_rate: [0.01, 0.1, 0.5]\n", ""),  # 9, 3, 1
                                    ("hyperband", "", space)):  # brackets of 9, 5 and 3 trials
            exp = os.path.join(self.tmp, method + ".yaml")
            with open(exp, "w") as f:
                f.write("name: small-%s\ndataset: {validation_fraction: 0.2, scale: standard}\nmodel: {hidden: [16]}\n"
                        "training: {epochs: 9, batch_size: 16}\ngrid:\n  model.activation: [tanh, relu, sigmoid]\n%s"
                        "search: {method: %s, min_epochs: 1, eta: 3%s}\nseeds: [1, 2]\n"
                        % (method, grid, method, extra))
            out = os.path.join(self.tmp, "real-" + method)
            r = run(NNLAB, "run", exp, "-o", out, "--quiet")
            if r.returncode != 0 and "halving" in r.stderr and "not built" in r.stderr:
                self.skipTest("this nnlab has no successive halving: " + r.stderr.strip())
            self.assertEqual(r.returncode, 0, r.stderr)
            png = os.path.join(self.tmp, method + ".png")
            r = script("plot_search.py", out, "-o", png, "--grid", self.grid)
            self.assertEqual(r.returncode, 0, (method, r.stderr))
            check_image(self, png)
            rows, _ = summary_csv(out)
            with nr.load(out) as res:
                search = plot_search.Search(res, "val_acc")  # its rungs agree with every run's (or it refuses)
                s = res.summary
                self.assertEqual(plot_search.search_of(res), {"method": method, "min_epochs": 1, "eta": 3})
                self.assertIn(b"pruned", s["status"].tolist())
                # nnlab summary's ranking, promoted points first
                self.assertEqual([int(row["config"]) for row in rows], [e["config"] for e in search.ranked])
                # and the loader's, which the other plots use
                self.assertEqual([int(row["config"]) for row in rows], [e["config"] for e in res.configs()])
                # every rung, every config point trained in it, its runs' epochs in it
                events = search.events()
                self.assertEqual(sorted(events, key=lambda ev: ev[:2]), events)
                for k in range(3):
                    self.assertEqual([c for r_, c, _, _ in events if r_ == k],
                                     [e["config"] for e in search.entries if e["reached"] >= k])
                x, y = plot_search.trajectory(events, "val_acc")
                self.assertEqual(x[-1], s["epochs_done"].sum())
                self.assertTrue((np.diff(y) >= 0).all())
                self.assertGreaterEqual(y[-1], search.ranked[0]["mean"]["val_acc"])
                for e in search.entries:  # a pruned point's curve ends at its rung's end
                    ends = np.flatnonzero(np.isfinite(search.mean_curve(e)))[-1]
                    if not e["n_diverged"]:
                        self.assertEqual(ends, e["rungs"][e["reached"]], e)
                        self.assertEqual(e["pruned"], e["reached"] < len(e["rungs"]) - 1)

    def test_needs_validation(self):
        none = os.path.join(self.tmp, "none.h5")
        write_format2(none, holdout_runs(), "none", name="none")
        for args, message in (([none], "none.h5: plot_search needs a validation split"),
                              ([FORMAT1], "format1-results.h5: plot_search needs a validation split "
                                          "(dataset.validation_fraction or dataset.folds) (a format 1 file"),
                              ([self.random, "--grid", self.grid, none], "none.h5: plot_search needs a validation"),
                              ([os.path.join(self.random, "runs", "r000000.h5")], "one run's file"),
                              ([self.random, "--metric", "test_acc"], "invalid choice: 'test_acc'")):
            out = os.path.join(self.tmp, "refused.png")
            r = script("plot_search.py", *args, "-o", out)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.assertIn(message, r.stderr)
            self.assertNotIn("Traceback", r.stderr)
            self.assertFalse(os.path.exists(out))


HALVING = ("name: halving\ntraining:\n  epochs: 6\n  select: val_acc\nsearch:\n  method: halving\n  trials: 9\n"
           "  seed: 0\n  min_epochs: 1\n  eta: 3\nseeds: [1, 2]\n")


def write_halving(path, change=None):
    """Successive halving as nnlab writes it (min_epochs 1, eta 3, 6 epochs: rungs end at 1, 3, 6): 9
    trials x 2 seeds, trials 1, 3 and 6 promoted to rung 1, trial 3 to rung 2; the others pruned, with
    status pruned, their rung, and curves NaN after the epochs they trained. change(table) alters /summary."""
    val = [0.50, 0.80, 0.60, 0.90, 0.70, 0.55, 0.85, 0.65, 0.97]
    reached = {1: 1, 3: 2, 6: 1}
    runs, rungs = [], []
    for c in range(9):
        for seed in (1, 2):
            done = (1, 3, 6)[reached.get(c, 0)]
            runs.append(synthetic_run(c, seed, {"model.activation": b"relu", "training.l2": 0.001 * c},
                                      val[c] + 0.01 * seed, 0.8, epochs_done=done, best_epoch=done))
            rungs.append(reached.get(c, 0))
    write_format2(path, runs, "holdout", name="halving")
    with h5py.File(path, "a") as f:
        s = f["summary"][()]
        table = np.zeros(len(s), dtype=[(n, s.dtype.fields[n][0]) for n in s.dtype.names] + [("rung", "<i4")])
        for n in s.dtype.names:
            table[n] = s[n]
        table["rung"] = rungs
        table["status"] = [b"ok" if r == 2 else b"pruned" for r in rungs]
        if change:
            change(table)
        del f["summary"]
        f["summary"] = table
        f.attrs["experiment"] = HALVING


if __name__ == "__main__":
    unittest.main(verbosity=2)
