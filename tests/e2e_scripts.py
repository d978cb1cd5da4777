"""End-to-end tests of `nnlab summary` and the Python scripts: every plotting
script makes a valid image from a small results file made here, the loader's
numbers equal those `nnlab summary` prints, and bad input gives a clear
message (no traceback) and exit status 2 (an unwritable output: 1)."""
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


def run(*args):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=600)


def script(name, *args):
    return run(sys.executable, os.path.join(SCRIPTS, name), *args)


def summary_csv(path, *extra):
    r = run(NNLAB, "summary", path, "--csv", *extra)
    assert r.returncode == 0, r.stderr
    return list(csv.DictReader(io.StringIO(r.stdout))), r


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
        with open(path, "rb") as f:
            head = f.read(8)
        ext = os.path.splitext(path)[1]
        want = {".png": PNG, ".pdf": b"%PDF", ".svg": b"<?xml"}[ext]
        self.assertTrue(head.startswith(want), (path, head))
        self.assertGreater(os.path.getsize(path), 2000)

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
            configs = {e["config"]: e for e in res.configs()}
            self.assertEqual(res.swept, ["model.activation", "training.l2", "model.hidden"])
            self.assertEqual(len(rows), 8)
            for row in rows:
                e = configs[int(row["config"])]
                self.assertEqual(int(row["seeds"]), e["n_seeds"])
                self.assertEqual(int(row["diverged"]), e["n_diverged"])
                for k in res.swept:
                    self.assertEqual(row[k], e["values"][k])
                for m in ("final_test_acc", "best_test_acc", "final_test_loss"):
                    for stat in ("mean", "std"):
                        self.assertTrue(math.isclose(float(row["%s_%s" % (m, stat)]), e[stat][m],
                                                     rel_tol=1e-12, abs_tol=1e-15), (row, m, stat))
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
        rows, _ = summary_csv(self.results, "--sort", "final_test_loss", "--top", "3")
        self.assertEqual(len(rows), 3)
        losses = [float(r["final_test_loss_mean"]) for r in rows]
        self.assertEqual(losses, sorted(losses))
        self.assertNotIn("seconds_mean", rows[0])
        rows, _ = summary_csv(self.results, "--sort", "seconds")  # a metric not shown by default gets a column
        secs = [float(r["seconds_mean"]) for r in rows]
        self.assertEqual(secs, sorted(secs))
        self.assertIn("seconds", run(NNLAB, "summary", self.results, "--sort", "seconds").stdout.splitlines()[0].split())
        rows, _ = summary_csv(self.results)
        accs = [float(r["final_test_acc_mean"]) for r in rows]
        self.assertEqual(accs, sorted(accs, reverse=True))
        r = run(NNLAB, "summary", self.results, "--top", "2")
        self.assertEqual(r.returncode, 0)
        lines = r.stdout.splitlines()
        self.assertEqual(len(lines), 3)
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
        seeds = {int(row["config"]): int(row["seeds"]) for row in got}
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
                f["summary"] = rows
            r = run(NNLAB, "summary", path, "--csv")
            self.assertEqual(r.returncode, 0, r.stderr)
            got = list(csv.DictReader(io.StringIO(r.stdout)))
            self.assertEqual([g["config"] for g in got], ["0", "1"])
            a, b = got
            self.assertEqual((a["training.l2"], a["model.activation"], a["seeds"], a["diverged"]), ("0", "relu", "3", "0"))
            self.assertAlmostEqual(float(a["final_test_acc_mean"]), 0.9, places=12)
            self.assertAlmostEqual(float(a["final_test_acc_std"]), 0.1, places=12)
            self.assertAlmostEqual(float(a["best_test_acc_mean"]), 0.9333333333333333, places=12)
            self.assertAlmostEqual(float(a["best_test_acc_std"]), 0.07637626158259733, places=12)
            self.assertAlmostEqual(float(a["final_test_loss_mean"]), 0.3, places=12)
            self.assertAlmostEqual(float(a["final_test_loss_std"]), 0.2, places=12)
            # the diverged run's NaN is left out of the mean and counted
            self.assertEqual((b["seeds"], b["diverged"], b["training.l2"]), ("2", "1", "0.01"))
            self.assertAlmostEqual(float(b["final_test_acc_mean"]), 0.5, places=12)
            self.assertEqual(float(b["final_test_acc_std"]), 0.0)
            self.assertAlmostEqual(float(b["best_test_acc_mean"]), 0.4, places=12)
            r = run(NNLAB, "summary", path)
            self.assertIn("0.9000 ± 0.1000", r.stdout)
            self.assertIn("0.3000 ± 0.2000", r.stdout)
        finally:
            shutil.rmtree(tmp)


if __name__ == "__main__":
    unittest.main(verbosity=2)
