"""End to end: honest model selection. Validation splits and folds through
the whole pipeline (run, results.h5, summary, predict): the kept best/
weights are those of a plain run stopped at the selected epoch, predict
reproduces every stored test_acc, threads change no bit with folds and early
stopping, a changed data file is refused by --resume, and format 1 files
(nnlab 0.3) are still summarised."""
import csv
import io
import math
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nnlab_testing import results_contents  # noqa: E402

NNLAB = os.environ["NNLAB"]
SOURCE = os.environ["NNLAB_SOURCE_DIR"]
FIXTURES = os.path.join(SOURCE, "tests", "fixtures")


def nnlab(*args, cwd=None):
    return subprocess.run([NNLAB] + [str(a) for a in args], capture_output=True, text=True, timeout=600, cwd=cwd)


HOLDOUT = """name: holdout
dataset: {validation_fraction: 0.2, scale: standard}
model: {hidden: [16], activation: tanh}
training: {epochs: 8, batch_size: 1, learning_rate: 0.05, optimizer: momentum, momentum: 0.9}
seeds: [1, 2]
grid:
  training.learning_rate: [0.002, 0.05]
"""

FOLDS = """name: folds
dataset: {folds: 3, scale: minmax}
model: {hidden: [12], dropout: 0.1}
training: {epochs: 12, batch_size: 8, learning_rate: 0.5, shuffle: true, select: val_acc,
           early_stopping: {patience: 2, min_delta: 0.001}}
seeds: [3, 4]
grid:
  model.activation: [sigmoid, relu]
"""


class Tmp(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="nnlab_selection_")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def run_ok(self, exp, out, *extra):
        r = nnlab("run", exp, "-o", out, "--quiet", *extra)
        self.assertEqual(r.returncode, 0, r.stderr)
        return os.path.join(out, "results.h5")


class SelectedEpoch(Tmp):
    def test_best_weights_are_a_plain_run_stopped_there(self):
        """best/ of every run equals weights/ of the same run trained for
        best_epoch epochs (and no validation-dependent setting changes the
        training itself): bit for bit."""
        exp = self.write("h.yaml", HOLDOUT)
        res = self.run_ok(exp, os.path.join(self.tmp, "h"))
        with h5py.File(res, "r") as f:
            s = f["summary"][()]
            self.assertEqual(f.attrs["validation"], "holdout")
            inner = [i for i in range(len(s)) if 1 <= s["best_epoch"][i] < s["epochs_done"][i]]
            self.assertTrue(inner, "no run selected an epoch strictly inside its training: %s" % s["best_epoch"])
            for i in range(len(s)):
                run = f["runs/r%06d" % s["run"][i]]
                e = int(s["best_epoch"][i])
                val = run["curves/val_loss"][()]
                self.assertEqual(e, int(np.nanargmin(val)))  # lowest val_loss, the earliest of ties
                self.assertEqual(s["val_loss"][i], val[e])
                self.assertEqual(s["test_acc"][i], run["curves/test_acc"][e])
                if e == 0:
                    continue
                lr = float(s["training.learning_rate"][i])
                plain = os.path.join(self.tmp, "plain%d" % i)
                self.run_ok(exp, plain, "training.epochs=%d" % e, "seeds=%d" % s["seed"][i],
                            "training.learning_rate=%r" % lr)
                with h5py.File(os.path.join(plain, "results.h5"), "r") as p:
                    for l in range(2):
                        for part in ("W", "b"):
                            a = run["best/layer%d/%s" % (l, part)][()]
                            b = p["runs/r000000/weights/layer%d/%s" % (l, part)][()]
                            self.assertEqual(a.tobytes(), b.tobytes(), "run %d layer %d %s" % (i, l, part))
                    np.testing.assert_array_equal(p["runs/r000000/curves/val_acc"][()],
                                                  run["curves/val_acc"][:e + 1])

    def test_no_validation_selects_the_last_epoch_and_says_it_ranks_on_test(self):
        exp = self.write("t.yaml", HOLDOUT.replace("validation_fraction: 0.2, ", ""))
        res = self.run_ok(exp, os.path.join(self.tmp, "t"))
        with h5py.File(res, "r") as f:
            s = f["summary"][()]
            self.assertEqual(f.attrs["validation"], "none")
            self.assertTrue((s["best_epoch"] == s["epochs_done"]).all())
            self.assertTrue(np.isnan(s["val_acc"]).all())
            self.assertEqual(s["test_acc"].tobytes(), s["final_test_acc"].tobytes())
            self.assertNotIn("best", f["runs/r000000"])
            self.assertNotIn("val_loss", f["runs/r000000/curves"])
        r = nnlab("summary", os.path.dirname(res))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.splitlines()[0],
                         "ranked on the test set: no validation split (dataset.validation_fraction or dataset.folds)")

    def test_summary_ranks_on_validation_not_test(self):
        exp = self.write("h.yaml", HOLDOUT)
        out = os.path.join(self.tmp, "h")
        res = self.run_ok(exp, out)
        r = nnlab("summary", out, "--csv")
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = list(csv.DictReader(io.StringIO(r.stdout)))
        with h5py.File(res, "r") as f:
            s = f["summary"][()]
        means = {}
        for c in set(s["config"].tolist()):
            v = s["val_acc"][s["config"] == c]
            means[c] = v.mean()
            row = [x for x in rows if int(x["config"]) == c][0]
            self.assertAlmostEqual(float(row["val_acc_mean"]), means[c], places=12)
            self.assertAlmostEqual(float(row["test_acc_mean"]), s["test_acc"][s["config"] == c].mean(), places=12)
            self.assertEqual(int(row["runs"]), 2)
        order = [int(x["config"]) for x in rows]
        self.assertEqual(order, sorted(means, key=lambda c: (-means[c], c)))
        self.assertNotIn("ranked on the test set", r.stdout + r.stderr)


class Folds(Tmp):
    def test_threads_early_stopping_and_folds_do_not_change_bits(self):
        exp = self.write("f.yaml", FOLDS)
        a = self.run_ok(exp, os.path.join(self.tmp, "j1"), "-j", "1")
        b = self.run_ok(exp, os.path.join(self.tmp, "j2"), "-j", "2")
        ca, cb = results_contents(a), results_contents(b)
        self.assertEqual(sorted(ca), sorted(cb))
        for k in ca:
            self.assertEqual(ca[k], cb[k], k)
        with h5py.File(a, "r") as f:
            s = f["summary"][()]
            self.assertEqual(f.attrs["validation"], "folds")
            self.assertEqual(len(s), 2 * 2 * 3)  # config x seed x fold, fold-minor
            self.assertEqual(s["fold"].tolist(), [0, 1, 2] * 4)
            self.assertEqual(s["seed"].tolist(), [3, 3, 3, 4, 4, 4] * 2)
            stopped = s["epochs_done"] < 12
            self.assertTrue(stopped.any(), "early stopping never stopped a run: %s" % s["epochs_done"])
            for i in np.nonzero(stopped)[0]:
                curve = f["runs/r%06d/curves/val_acc" % s["run"][i]][()]
                done = s["epochs_done"][i]
                self.assertTrue(np.isnan(curve[done + 1:]).all())
                self.assertTrue(np.isfinite(curve[:done + 1]).all())
            d = f["data"]
            self.assertEqual(d.attrs["n_folds"], 3)
            fold = d["fold"][()]
            self.assertEqual(sorted(np.bincount(fold).tolist())[-1] - sorted(np.bincount(fold).tolist())[0] <= 1, True)
            self.assertEqual(list(d.attrs["n_val"]), np.bincount(fold).tolist())
            self.assertEqual(d["scale_offset"].shape, (3, 64))
            self.assertEqual(sorted(d["train_index"][()].tolist() + d["test_index"][()].tolist()), list(range(1797)))
            for i in range(len(s)):  # each run holds its own fold's scaler
                k = s["fold"][i]
                self.assertEqual(f["runs/r%06d/scale_offset" % s["run"][i]][()].tobytes(),
                                 d["scale_offset"][k].tobytes())
        r = nnlab("list", exp)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.splitlines()[1], "r000001 seed=3 fold=1 model.activation=sigmoid")
        r = nnlab("check", exp)
        self.assertIn("# fold 2: n_train ", r.stdout)
        self.assertIn("# runs: 12 (2 config points x 2 seeds x 3 folds)", r.stdout)


class Predict(Tmp):
    def assert_reproduces(self, out):
        with h5py.File(os.path.join(out, "results.h5"), "r") as f:
            s = f["summary"][()]
        for i in range(len(s)):
            for final in (False, True):
                csv_path = os.path.join(self.tmp, "p.csv")
                args = ["predict", out, "--run", s["run"][i], "-o", csv_path] + (["--final"] if final else [])
                r = nnlab(*args)
                self.assertEqual(r.returncode, 0, r.stderr)
                want = s["final_test_acc"][i] if final else s["test_acc"][i]
                with open(csv_path) as f:
                    rows = list(csv.DictReader(f))
                got = sum(r["label"] == r["predicted"] for r in rows) / len(rows)
                self.assertEqual(got, want, "run %d final=%s" % (s["run"][i], final))  # to the last bit
                self.assertIn("accuracy %.6f" % want, r.stdout)

    def test_predict_reproduces_every_stored_test_acc(self):
        for name, text in (("h", HOLDOUT), ("f", FOLDS), ("t", HOLDOUT.replace("validation_fraction: 0.2, ", ""))):
            out = os.path.join(self.tmp, name)
            self.run_ok(self.write(name + ".yaml", text), out)
            self.assert_reproduces(out)

    def test_ensemble_new_data_names_and_bad_input(self):
        rng = np.random.default_rng(0)
        names = ["benign", "malignant", "unsure"]
        x = rng.normal(size=(150, 5))
        y = (x[:, 0] > 0.4).astype(int) + (x[:, 1] > 1.0)
        with open(os.path.join(self.tmp, "train.csv"), "w") as f:
            f.write("a,b,c,d,e,label\n")
            for row, label in zip(x, y):
                f.write(",".join("%.6f" % v for v in row) + ",%s\n" % names[label])
        with open(os.path.join(self.tmp, "new.csv"), "w") as f:  # no labels: only the features
            f.write("a,b,c,d,e\n")
            for row in x[:7]:
                f.write(",".join("%.6f" % v for v in row) + "\n")
        exp = self.write("c.yaml", "name: c\ndataset: {source: csv, path: train.csv, header: true, "
                                   "scale: standard, validation_fraction: 0.25}\nmodel: {hidden: [8]}\n"
                                   "training: {epochs: 5, learning_rate: 0.1}\nseeds: [1, 2, 3]\n")
        out = os.path.join(self.tmp, "c")
        self.run_ok(exp, out)
        self.assert_reproduces(out)
        r = nnlab("predict", out, "--config", 0, "--ensemble")
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = list(csv.DictReader(io.StringIO(r.stdout)))
        self.assertEqual(list(rows[0])[:3], ["row", "label", "predicted"])
        self.assertEqual(list(rows[0])[3:], ["p_benign", "p_malignant", "p_unsure"])
        self.assertTrue(all(r["predicted"] in names for r in rows))
        for row in rows:
            self.assertAlmostEqual(sum(float(row["p_" + n]) for n in names), 1.0, places=5)
        self.assertIn("ensemble of 3 runs of config point 0", r.stderr)
        self.assertIn("confusion matrix", r.stderr)
        # New rows without labels, scaled with the stored scaler.
        r = nnlab("predict", out, "--run", 1, "dataset.path=new.csv", cwd=self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = list(csv.DictReader(io.StringIO(r.stdout)))
        self.assertEqual(len(rows), 7)
        self.assertNotIn("label", rows[0])
        self.assertEqual([r["row"] for r in rows], [str(i) for i in range(7)])
        # The same rows with labels, given as the training file: predictions agree with the unlabelled ones.
        r2 = nnlab("predict", out, "--run", 1, "dataset.path=train.csv", cwd=self.tmp)
        self.assertEqual(r2.returncode, 0, r2.stderr)
        rows2 = list(csv.DictReader(io.StringIO(r2.stdout)))[:7]
        self.assertEqual([r["predicted"] for r in rows], [r["predicted"] for r in rows2])
        # Bad input: exit 2 and a message.
        with open(os.path.join(self.tmp, "wide.csv"), "w") as f:
            f.write("a,b,c,d,e,f,g,label\n1,2,3,4,5,6,7,benign\n")
        for args, message in ((["--run", 99], "no run 99: the experiment has runs 0 to 2"),
                              (["--run", 0, "dataset.path=wide.csv"], "wide.csv: 7 features, but the model takes 5"),
                              (["--run", 0, "training.epochs=2"], "predict takes dataset.KEY=VALUE overrides"),
                              (["--config", 0], "add --ensemble"),
                              (["--config", 5, "--ensemble"], "no config point 5"),
                              ([], "predict needs --run N or --config N --ensemble")):
            r = nnlab("predict", out, *args, cwd=self.tmp)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.assertIn(message, r.stderr)
        r = nnlab("predict", os.path.join(FIXTURES, "format1-results.h5"), "--run", 0)
        self.assertEqual(r.returncode, 2)
        self.assertIn("format_version 1", r.stderr)


class Integrity(Tmp):
    def test_resume_refuses_a_changed_data_file(self):
        data = os.path.join(self.tmp, "d.csv")
        rows = ["%d,%d,%d" % (i, (i * 7) % 11, i % 2) for i in range(60)]
        with open(data, "w") as f:
            f.write("\n".join(rows) + "\n")
        exp = self.write("d.yaml", "name: d\ndataset: {source: csv, path: d.csv, validation_fraction: 0.2, "
                                   "scale: minmax}\nmodel: {hidden: [4]}\ntraining: {epochs: 2}\nseeds: [1, 2, 3]\n")
        out = os.path.join(self.tmp, "d")
        self.run_ok(exp, out)
        os.remove(os.path.join(out, "runs", "r000002.h5"))
        r = nnlab("run", exp, "-o", out, "--resume", "--quiet")
        self.assertEqual(r.returncode, 0, r.stderr)  # unchanged data: resumes
        os.remove(os.path.join(out, "runs", "r000002.h5"))
        with open(data, "w") as f:
            f.write("\n".join(rows[:-1] + ["59,3,0"]) + "\n")
        before = sorted(os.listdir(os.path.join(out, "runs")))
        r = nnlab("run", exp, "-o", out, "--resume", "--quiet")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("cannot resume %s: %s has changed since its runs were trained" % (out, data), r.stderr)
        self.assertEqual(sorted(os.listdir(os.path.join(out, "runs"))), before)  # nothing written
        with h5py.File(os.path.join(out, "results.h5"), "r") as f:
            self.assertEqual(len(f["data"].attrs["data_hash"]), 16)


class FormatOne(unittest.TestCase):
    def test_format_1_is_still_summarised_with_its_columns(self):
        path = os.path.join(FIXTURES, "format1-results.h5")
        r = nnlab("summary", path, "--csv")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("ranked on the test set", r.stderr)
        got = list(csv.DictReader(io.StringIO(r.stdout)))
        with open(os.path.join(FIXTURES, "format1-summary.csv")) as f:
            want = list(csv.DictReader(f))  # nnlab 0.3's own output for this file
        self.assertEqual(len(got), len(want))
        for g, w in zip(got, want):
            self.assertEqual(g["runs"], w["seeds"])
            for k in w:
                if k != "seeds":
                    self.assertEqual(g[k], w[k], k)
        r = nnlab("summary", path, "--sort", "best_test_acc")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = nnlab("summary", path, "--sort", "val_acc")
        self.assertEqual(r.returncode, 2)
        self.assertIn("allowed in a format 1 results file", r.stderr)


if __name__ == "__main__":
    unittest.main()
