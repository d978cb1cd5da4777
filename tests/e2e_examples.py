"""End to end: "your own data in five minutes" (docs/data.md). The example
data (scripts/make-example-data.py: a CSV with class names, its unlabelled
held-out rows, an HDF5 file) and the experiments in experiments/examples/
go through check, a tiny run, summary and predict; the warnings after
loading (empty classes, feature ranges with dataset.scale: none) and the
summary's "predicts one class" note say what they should.

The experiment files are copied into a temporary tree beside the data
folder, laid out as in the repository, so their relative paths
(../../data/examples/...) are the ones tested."""
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

NNLAB = os.environ["NNLAB"]
SOURCE = os.environ["NNLAB_SOURCE_DIR"]
SCRIPT = os.path.join(SOURCE, "scripts", "make-example-data.py")
EXAMPLES = os.path.join(SOURCE, "experiments", "examples")
TINY = ["training.epochs=2", "seeds=[1]"]
N_HELD_OUT = 6


def run(args, cwd=None, env=None):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=600, cwd=cwd, env=env)


def nnlab(*args, cwd=None):
    return run([NNLAB] + list(args), cwd=cwd)


def make_data(out):
    return run([sys.executable, SCRIPT, "-o", out])


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def summary_rows(out, cwd):
    r = nnlab("summary", out, "--csv", cwd=cwd)
    assert r.returncode == 0, r.stderr
    return list(csv.DictReader(io.StringIO(r.stdout))), r.stderr


def warnings(stderr):
    return [line for line in stderr.splitlines() if ": warning: " in line]


def held_out_truth():
    """The labels of breast-cancer-new.csv's rows, from scikit-learn: the
    last 3 rows of each class, in file order."""
    from sklearn.datasets import load_breast_cancer
    b = load_breast_cancer()
    held = sorted(i for c in (0, 1) for i in np.flatnonzero(b.target == c)[-3:])
    return [str(b.target_names[b.target[i]]) for i in held]


class Examples(unittest.TestCase):
    """One tree for all: tmp/experiments/examples/*.yaml, tmp/data/examples/."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="nnlab_examples_")
        cls.data = os.path.join(cls.tmp, "data", "examples")
        r = make_data(cls.data)
        assert r.returncode == 0, r.stderr
        cls.script_stdout = r.stdout
        shutil.copytree(EXAMPLES, os.path.join(cls.tmp, "experiments", "examples"))
        cls.bc = os.path.join(cls.tmp, "experiments", "examples", "breast-cancer.yaml")
        cls.wine = os.path.join(cls.tmp, "experiments", "examples", "wine.yaml")
        cls.bc_csv = os.path.join(cls.data, "breast-cancer.csv")
        cls.new_csv = os.path.join(cls.data, "breast-cancer-new.csv")
        cls.wine_h5 = os.path.join(cls.data, "wine.h5")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    # ---- the data -----------------------------------------------------------

    def test_breast_cancer_csv(self):
        rows = read_csv(self.bc_csv)
        header, body = rows[0], rows[1:]
        self.assertEqual(len(header), 31)
        self.assertEqual(header[0], "mean_radius")
        self.assertEqual(header[-1], "diagnosis")
        self.assertEqual(len(body), 569 - N_HELD_OUT)
        self.assertTrue(all(len(r) == 31 for r in body))
        labels = [r[-1] for r in body]
        self.assertEqual(labels.count("benign"), 357 - 3)
        self.assertEqual(labels.count("malignant"), 212 - 3)
        float(body[0][0])  # numbers, not names

    def test_unlabelled_csv(self):
        rows = read_csv(self.new_csv)
        self.assertEqual(rows[0], read_csv(self.bc_csv)[0][:30], "the same header without the label")
        self.assertEqual(len(rows), 1 + N_HELD_OUT)
        for r in rows[1:]:
            self.assertEqual(len(r), 30)
            [float(v) for v in r]
        self.assertIn("6 rows to predict", self.script_stdout)

    def test_wine_h5(self):
        with h5py.File(self.wine_h5, "r") as f:
            self.assertEqual(f["X"].shape, (178, 13))
            self.assertEqual(f["X"].dtype, np.float64)
            y = f["y"][()]
        self.assertEqual(y.dtype.kind, "i")
        self.assertEqual(np.bincount(y).tolist(), [59, 71, 48])

    def test_same_bytes_every_time(self):
        other = os.path.join(self.tmp, "again")
        r = make_data(other)
        self.assertEqual(r.returncode, 0, r.stderr)
        for name in ("breast-cancer.csv", "breast-cancer-new.csv", "wine.h5"):
            with open(os.path.join(self.data, name), "rb") as a, open(os.path.join(other, name), "rb") as b:
                self.assertEqual(a.read(), b.read(), name)

    def test_without_sklearn_a_message_and_exit_1(self):
        fake = os.path.join(self.tmp, "fake-site")
        os.makedirs(os.path.join(fake, "sklearn"), exist_ok=True)
        with open(os.path.join(fake, "sklearn", "__init__.py"), "w") as f:
            f.write("raise ImportError('No module named sklearn')\n")
        env = dict(os.environ, PYTHONPATH=fake)
        r = run([sys.executable, SCRIPT, "-o", os.path.join(self.tmp, "never")], env=env)
        self.assertEqual(r.returncode, 1)
        self.assertIn("lacks scikit-learn", r.stderr)
        self.assertIn("python3-sklearn", r.stderr)
        self.assertNotIn("Traceback", r.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "never")))

    # ---- check ----------------------------------------------------------------

    def test_check_breast_cancer(self):
        r = nnlab("check", self.bc, cwd=self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("# runs: 135 (9 config points x 3 seeds x 5 folds)", r.stdout)
        self.assertIn("# data: 30 features, 2 classes", r.stdout)
        for k in range(5):
            self.assertIn("# fold %d: n_train 360, n_val 90, n_test 113" % k, r.stdout)
        self.assertIn("data/examples/breast-cancer.csv", r.stdout)
        self.assertEqual(warnings(r.stderr), [], "standardised, no empty class: nothing to warn of")

    def test_check_wine(self):
        r = nnlab("check", self.wine, cwd=self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("# runs: 12 (4 config points x 3 seeds)", r.stdout)
        self.assertIn("# data: 13 features, 3 classes", r.stdout)
        self.assertIn("# n_train 106, n_val 36, n_test 36", r.stdout)

    def test_check_refuses_a_missing_data_file(self):
        missing = os.path.join(self.tmp, "no-such.csv")
        r = nnlab("check", self.bc, "dataset.path=%s" % missing, cwd=self.tmp)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("%s: cannot open: No such file or directory" % missing, r.stderr)
        self.assertEqual(r.stdout.count("# data:"), 0)

    # ---- warnings (nnlab check and run print data_warnings to stderr) --------

    def test_range_warning_names_the_features(self):
        r = nnlab("check", self.bc, "dataset.scale=none", cwd=self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(warnings(r.stderr), [
            "%s: warning: feature ranges differ over 100-fold with dataset.scale: none: column 24 spans "
            "185.2..4254, column 20 only 0.0008948..0.02984 (25 of 30 features span under 1/100 of column 24's "
            "range); set dataset.scale: standard" % self.resolved_path(self.bc, "breast-cancer.csv")])

    def test_range_warning_for_a_swept_scale_none(self):
        """wine.yaml sweeps dataset.scale over none and standard: check warns for the raw inputs."""
        r = nnlab("check", self.wine, cwd=self.tmp)
        self.assertEqual(warnings(r.stderr), [
            "%s: warning: feature ranges differ over 100-fold with dataset.scale: none: X[:, 12] spans 278..1680, "
            "X[:, 7] only 0.13..0.66 (10 of 13 features span under 1/100 of X[:, 12]'s range); set dataset.scale: "
            "standard" % self.resolved_path(self.wine, "wine.h5")])
        r = nnlab("check", self.wine, "dataset.scale=standard", cwd=self.tmp)
        self.assertEqual(warnings(r.stderr), [])

    def test_empty_class_warning(self):
        path = os.path.join(self.tmp, "gap.csv")
        with open(path, "w") as f:  # labels 1..3, the label first: column 2 is the first feature
            f.write("".join("%d,%d.5,%d\n" % (1 + i % 3, i % 5, 200 * (i % 4)) for i in range(30)))
        exp = os.path.join(self.tmp, "gap.yaml")
        with open(exp, "w") as f:
            f.write("dataset: {source: csv, path: gap.csv, label_column: 0, scale: none}\n")
        r = nnlab("check", exp, cwd=self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("# data: 2 features, 4 classes", r.stdout)
        self.assertEqual(warnings(r.stderr), [
            "%s: warning: labels are 1..3: class 0 has no rows; classes are 0..max label" % path,
            "%s: warning: feature ranges differ over 100-fold with dataset.scale: none: column 3 spans 0..600, "
            "column 2 only 0.5..4.5 (1 of 2 features spans under 1/100 of column 3's range); set dataset.scale: "
            "standard" % path])
        with open(path, "w") as f:  # labels 2 and 5: classes 0, 1, 3 and 4 are empty
            f.write("".join("%d,%d\n" % (2 if i % 2 else 5, i) for i in range(20)))
        r = nnlab("check", exp, "dataset.scale=standard", cwd=self.tmp)
        self.assertEqual(warnings(r.stderr), [
            "%s: warning: labels are 2..5: classes 0, 1, 3 and 4 have no rows; classes are 0..max label" % path])

    def test_run_warns_too(self):
        out = os.path.join(self.tmp, "wine-warned")
        r = nnlab("run", self.wine, "-o", out, "--quiet", "dataset.scale=none", *TINY, cwd=self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(warnings(r.stderr)), 1, r.stderr)
        self.assertIn("X[:, 12] spans 278..1680", r.stderr)

    def resolved_path(self, experiment, name):
        """A data path as the resolved experiment writes it: absolute, joined to the file's folder."""
        return os.path.join(os.path.dirname(experiment), "..", "..", "data", "examples", name)

    # ---- run, summary, predict ------------------------------------------------

    def test_breast_cancer_learns_and_predicts(self):
        out = "results/examples-breast-cancer"
        r = nnlab("run", self.bc, "-j", "2", "--quiet", *TINY, cwd=self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        results = os.path.join(self.tmp, out, "results.h5")
        labels = [row[-1] for row in read_csv(self.bc_csv)[1:]]
        with h5py.File(results, "r") as f:
            d = f["data"]
            self.assertEqual([n.decode() if isinstance(n, bytes) else n for n in d.attrs["class_names"]],
                             ["benign", "malignant"])
            self.assertEqual(int(d.attrs["n_classes"]), 2)
            self.assertEqual(int(d.attrs["n_folds"]), 5)
            test_index, train_index, fold = d["test_index"][()], d["train_index"][()], d["fold"][()]
            share = d.attrs.get("val_majority_share")
        y = np.array([1 if v == "malignant" else 0 for v in labels])
        test_share = np.bincount(y[test_index]).max() / len(test_index)
        majority = np.bincount(y[train_index]).argmax()
        fold_shares = [np.mean(y[train_index[fold == k]] == majority) for k in range(5)]
        self.assertIsNotNone(share, "/data has val_majority_share (h5io writes it with validation)")
        self.assertAlmostEqual(float(share), float(np.mean(fold_shares)), delta=1e-12)
        rows, _ = summary_rows(out, self.tmp)
        self.assertEqual(len(rows), 9)
        best = rows[0]
        self.assertEqual(int(best["runs"]), 5)
        self.assertGreater(float(best["val_acc_mean"]), float(share) + 0.2, "learns beyond the majority share")
        self.assertGreater(float(best["test_acc_mean"]), test_share + 0.2)

        # predict on the unlabelled rows: names, probabilities, the held-out truth
        pred = os.path.join(self.tmp, "predictions.csv")
        r = nnlab("predict", out, "--config", best["config"], "--ensemble",
                  "dataset.path=data/examples/breast-cancer-new.csv", "-o", pred, cwd=self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = read_csv(pred)
        self.assertEqual(rows[0], ["row", "predicted", "p_benign", "p_malignant"])
        self.assertEqual([int(r[0]) for r in rows[1:]], list(range(N_HELD_OUT)))
        for row in rows[1:]:
            self.assertIn(row[1], ("benign", "malignant"))
            self.assertAlmostEqual(float(row[2]) + float(row[3]), 1.0, delta=1e-6)
            self.assertEqual(row[1], "benign" if float(row[2]) >= float(row[3]) else "malignant")
        right = sum(row[1] == truth for row, truth in zip(rows[1:], held_out_truth()))
        self.assertGreaterEqual(right, N_HELD_OUT - 1, "held-out rows predicted: %s" % rows[1:])

    def test_wine_runs_from_hdf5(self):
        out = os.path.join(self.tmp, "wine-tiny")
        r = nnlab("run", self.wine, "-o", out, "--quiet", *TINY, cwd=self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        with h5py.File(os.path.join(out, "results.h5"), "r") as f:
            d = f["data"]
            self.assertEqual((int(d.attrs["n_features"]), int(d.attrs["n_classes"])), (13, 3))
            self.assertEqual(int(d.attrs["n_val"]), 36)
            self.assertEqual(len(f["summary"][()]), 4)
        rows, _ = summary_rows(out, self.tmp)
        self.assertEqual(sorted(int(r["config"]) for r in rows), [0, 1, 2, 3])

    def test_predicts_one_class(self):
        """Raw wine inputs: proline (up to 1680) swamps the rest, and both
        scale: none config points predict the majority class; summary says
        so, after the table, and not of the standardised ones."""
        out = os.path.join(self.tmp, "wine-one-class")
        r = nnlab("run", self.wine, "-o", out, "--quiet", "seeds=[1]", cwd=self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        results = os.path.join(out, "results.h5")
        with h5py.File(results, "r") as f, h5py.File(self.wine_h5, "r") as w:
            y = w["y"][()]
            val = y[f["data/val_index"][()]]
            share = f["data"].attrs.get("val_majority_share")
        self.assertIsNotNone(share, "/data has val_majority_share (h5io writes it with validation)")
        self.assertEqual(float(share), np.bincount(val).max() / len(val))
        r = nnlab("summary", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        notes = [line for line in r.stdout.splitlines() if "predicts one class" in line]
        self.assertEqual(notes, ["c%04d predicts one class: its validation accuracy 0.3889 is the majority "
                                 "class's share" % c for c in (0, 1)], r.stdout)  # the two scale: none points
        self.assertTrue(r.stdout.rstrip("\n").endswith(notes[-1]), "after the table")

    def test_summary_reads_the_share_from_data(self):
        """summary's side alone: a share written into /data flags exactly the
        config points whose mean val_acc it is (to 1e-12); with --csv the
        note goes to stderr, the CSV stays a table."""
        out = os.path.join(self.tmp, "wine-share")
        r = nnlab("run", self.wine, "-o", out, "--quiet", "dataset.scale=standard", *TINY, cwd=self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        rows, _ = summary_rows(out, self.tmp)
        target = rows[-1]
        results = os.path.join(out, "results.h5")
        with h5py.File(results, "r+") as f:
            if "val_majority_share" in f["data"].attrs:
                del f["data"].attrs["val_majority_share"]
            f["data"].attrs.create("val_majority_share", float(target["val_acc_mean"]) + 1e-13, dtype="f8")
        r = nnlab("summary", out)
        flagged = [line.split()[0] for line in r.stdout.splitlines() if "predicts one class" in line]
        same = [row["config"] for row in rows if abs(float(row["val_acc_mean"]) - float(target["val_acc_mean"])) <= 1e-12]
        self.assertEqual(flagged, ["c%04d" % int(c) for c in same])
        rows2, stderr = summary_rows(out, self.tmp)
        self.assertEqual(rows2, rows)
        self.assertIn("c%04d predicts one class: its validation accuracy %.4f" % (int(target["config"]),
                      float(target["val_acc_mean"])), stderr)
        with h5py.File(results, "r+") as f:
            f["data"].attrs["val_majority_share"] = "not a number"
        r = nnlab("summary", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("predicts one class", r.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
