"""End-to-end tests of the nnlab command line: the baseline learns, results
do not depend on the thread count, bad input is refused with FILE:LINE:COL
and exit status 2 and writes nothing, existing results are never overwritten
silently. Run by ctest with NNLAB (the binary) and NNLAB_SOURCE_DIR set."""
import glob
import gzip
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
BASELINE = os.path.join(SRC, "experiments", "seed-baseline.yaml")
sys.path.insert(0, os.path.join(SRC, "scripts"))
import nnlab_results as nr  # noqa: E402


def nnlab(*args, cwd=None):
    return subprocess.run([NNLAB, *args], cwd=cwd, capture_output=True, text=True, timeout=600)


def walk_datasets(group):
    """{path: array} of every dataset under group (/runs: each run is a link to its run file, followed)."""
    out = {}
    for k in group:
        group[k].visititems(lambda name, obj, k=k: out.__setitem__(k + "/" + name, obj[()])
                            if isinstance(obj, h5py.Dataset) else None)
    return out


class Baseline(unittest.TestCase):
    """One run of the seed-baseline experiment on 2 threads and one on 1."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="nnlab_e2e_")
        cls.j2 = os.path.join(cls.tmp, "j2")
        cls.j1 = os.path.join(cls.tmp, "j1")
        cls.r2 = nnlab("run", BASELINE, "-j", "2", "-o", cls.j2)
        cls.r1 = nnlab("run", BASELINE, "-j", "1", "-o", cls.j1, "--quiet")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def test_run_succeeds_and_writes_the_layout(self):
        self.assertEqual(self.r2.returncode, 0, self.r2.stderr)
        self.assertIn("[5/5 runs]", self.r2.stderr)  # progress on stderr
        self.assertEqual(len(glob.glob(os.path.join(self.j2, "runs", "r*.h5"))), 5)
        self.assertEqual(glob.glob(os.path.join(self.j2, "**", "*.tmp"), recursive=True), [])
        with open(os.path.join(self.j2, "experiment.yaml")) as f:
            resolved = f.read()
        with h5py.File(os.path.join(self.j2, "results.h5"), "r") as f:
            self.assertEqual(f.attrs["format"], "nnlab-results")
            self.assertEqual(f.attrs["format_version"], 2)
            self.assertEqual(f.attrs["validation"], "none")  # the tutorial: no validation split
            self.assertEqual(f.attrs["name"], "seed-baseline")
            self.assertEqual(f.attrs["experiment"], resolved)
            for key in ("fingerprint", "nnlab_version", "created"):
                self.assertIn(key, f.attrs)
            self.assertEqual(f["data"].attrs["n_train"], 1437)
            self.assertEqual(f["data"].attrs["n_test"], 360)
            self.assertEqual(sorted(f["data/train_index"][:].tolist() + f["data/test_index"][:].tolist()),
                             list(range(1797)))
            self.assertEqual(sorted(f["runs"].keys()), ["r%06d" % i for i in range(5)])
            run = f["runs/r000000"]
            self.assertEqual(run.attrs["model.activation"], "sigmoid")
            self.assertEqual(list(run.attrs["model.hidden"]), [200])
            self.assertEqual(run["weights/layer0/W"].shape, (64, 200))
            self.assertEqual(run["weights/layer1/W"].shape, (200, 10))
            self.assertEqual(run["init/layer1/b"].shape, (10,))
            self.assertEqual(run["curves/test_acc"].shape, (11,))
            self.assertEqual(f["summary"].shape, (5,))
            self.assertEqual(list(f["summary"]["seed"]), [1, 2, 3, 4, 5])
            for part in ("mean", "std"):
                self.assertEqual(f["aggregate/c0000/%s/test_loss" % part].shape, (11,))

    def test_baseline_learns(self):
        with h5py.File(os.path.join(self.j2, "results.h5"), "r") as f:
            acc = f["summary"]["final_test_acc"]
            self.assertTrue((f["summary"]["status"] == b"ok").all())
            # Each seed >= 0.93; the mean over the 5 seeds >= 0.95 (the tutorial reaches about 0.97).
            self.assertGreaterEqual(acc.min(), 0.93, acc)
            self.assertGreaterEqual(acc.mean(), 0.95, acc)
            # curve[0] is before training: near chance.
            self.assertLess(f["runs/r000000/curves/test_acc"][0], 0.3)
            mean = f["aggregate/c0000/mean/test_acc"][:]
            self.assertAlmostEqual(mean[-1], acc.mean(), places=12)

    def test_threads_do_not_change_bits(self):
        self.assertEqual(self.r1.returncode, 0, self.r1.stderr)
        self.assertEqual(self.r1.stderr, "")  # --quiet
        with h5py.File(os.path.join(self.j1, "results.h5"), "r") as a, \
                h5py.File(os.path.join(self.j2, "results.h5"), "r") as b:
            da, db = walk_datasets(a["runs"]), walk_datasets(b["runs"])
            self.assertEqual(sorted(da), sorted(db))
            self.assertGreaterEqual(len(da), 5 * (4 + 8))  # curves, weights and init of every run
            for name in da:
                self.assertEqual(da[name].tobytes(), db[name].tobytes(), name)
            self.assertEqual(a.attrs["fingerprint"], b.attrs["fingerprint"])

    def test_without_train_curves(self):
        # Only the test set is evaluated: the train curves are NaN, and the weights and test
        # curves are those of the full run, bit for bit.
        out = os.path.join(self.tmp, "test-only")
        r = nnlab("run", BASELINE, "training.train_curves=false", "-o", out, "--quiet")
        self.assertEqual(r.returncode, 0, r.stderr)
        with h5py.File(os.path.join(out, "results.h5"), "r") as f, \
                h5py.File(os.path.join(self.j1, "results.h5"), "r") as full:
            self.assertTrue((f["summary"]["status"] == b"ok").all())
            self.assertTrue(np.isnan(f["summary"]["final_train_loss"]).all())
            self.assertEqual(f["summary"]["final_test_acc"].tobytes(), full["summary"]["final_test_acc"].tobytes())
            for run in full["runs"]:
                a, b = f["runs"][run], full["runs"][run]
                self.assertEqual(a.attrs["training.train_curves"], 0)
                self.assertTrue(np.isnan(a["curves/train_loss"][:]).all() and np.isnan(a["curves/train_acc"][:]).all())
                for name in ("curves/test_loss", "curves/test_acc", "weights/layer0/W", "weights/layer1/W"):
                    self.assertEqual(a[name][()].tobytes(), b[name][()].tobytes(), name)
        r = nnlab("summary", os.path.join(out, "results.h5"), "--sort", "final_train_loss")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"c0000 +5 +5 +0\.9")  # runs, n, mean: an all-NaN sort still lists it

    def test_csv_with_class_names(self):
        # The digits as a CSV whose labels are names: the same classes, numbered in sorted order.
        names = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
        order = sorted(names)
        with h5py.File(os.path.join(self.j1, "results.h5"), "r") as f:
            n = f["data"].attrs["n_train"] + f["data"].attrs["n_test"]
        with gzip.open(os.path.join(SRC, "data", "digits.csv.gz"), "rt") as f:
            rows = [line.strip().split(",") for line in f if line.strip()]
        self.assertEqual(len(rows), n)
        csv = os.path.join(self.tmp, "named.csv")
        with open(csv, "w") as f:
            f.write("".join(",".join(r[:-1] + [names[int(r[-1])]]) + "\n" for r in rows))
        exp = os.path.join(self.tmp, "named.yaml")
        with open(exp, "w") as f:
            f.write("dataset: {source: csv, path: named.csv, scale: minmax}\nmodel: {hidden: [32]}\n"
                    "training: {epochs: 3, batch_size: 16, learning_rate: 0.5}\nseeds: [1]\n")
        out = os.path.join(self.tmp, "named")
        r = nnlab("run", exp, "-o", out, "--quiet")
        self.assertEqual(r.returncode, 0, r.stderr)
        with h5py.File(os.path.join(out, "results.h5"), "r") as f:
            self.assertEqual([v.decode() if isinstance(v, bytes) else v for v in f["data"].attrs["class_names"]], order)
            self.assertEqual(f["data"].attrs["n_classes"], 10)
            self.assertGreater(f["summary"]["final_test_acc"][0], 0.8)
        with h5py.File(os.path.join(self.j1, "results.h5"), "r") as f:
            self.assertNotIn("class_names", f["data"].attrs)
        with nr.load(out) as res:
            self.assertEqual(res.class_names, order)
        with nr.load(self.j1) as res:
            self.assertIsNone(res.class_names)

    def test_existing_results_are_not_overwritten(self):
        before = os.path.getmtime(os.path.join(self.j2, "results.h5"))
        r = nnlab("run", BASELINE, "-o", self.j2)
        self.assertEqual(r.returncode, 2)
        self.assertIn("not empty", r.stderr)
        self.assertEqual(os.path.getmtime(os.path.join(self.j2, "results.h5")), before)

    def test_force_replaces_only_what_nnlab_wrote(self):
        copy = os.path.join(self.tmp, "forced")
        shutil.copytree(self.j2, copy)
        with open(os.path.join(copy, "notes.txt"), "w") as f:
            f.write("mine\n")
        open(os.path.join(copy, "runs", "r000009.h5.tmp"), "w").close()  # a leftover
        r = nnlab("run", BASELINE, "-o", copy, "--force", "--quiet", "training.epochs=1", "seeds=[1, 2]")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(os.path.exists(os.path.join(copy, "notes.txt")))
        self.assertEqual(sorted(os.listdir(os.path.join(copy, "runs"))), ["r000000.h5", "r000001.h5"])
        with h5py.File(os.path.join(copy, "results.h5"), "r") as f:
            self.assertEqual(f["runs/r000000/curves/test_acc"].shape, (2,))

    def test_merge_rebuilds_results(self):
        copy = os.path.join(self.tmp, "merged")
        shutil.copytree(self.j2, copy)
        os.remove(os.path.join(copy, "results.h5"))
        r = nnlab("merge", copy)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("results.h5: merged all 5 runs", r.stderr)
        with h5py.File(os.path.join(copy, "results.h5"), "r") as a, \
                h5py.File(os.path.join(self.j2, "results.h5"), "r") as b:
            sa, sb = a["summary"][()], b["summary"][()]
            self.assertEqual(sa["final_test_acc"].tobytes(), sb["final_test_acc"].tobytes())
        os.remove(os.path.join(copy, "runs", "r000003.h5"))
        r = nnlab("merge", copy)
        self.assertEqual(r.returncode, 1)
        self.assertIn("merged 4 of 5 runs", r.stderr)
        empty = os.path.join(self.tmp, "empty")
        os.mkdir(empty)
        for path, message in ((empty, "no experiment.yaml: not an nnlab output folder"),
                              (os.path.join(self.tmp, "nothing"), "nothing: cannot open: No such file or directory"),
                              (os.path.join(copy, "experiment.yaml"), "not a folder; merge takes an output folder")):
            r = nnlab("merge", path)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn(message, r.stderr)
        self.assertEqual(os.listdir(empty), [])


class Grid(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="nnlab_grid_")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def test_override_axis_runs_2_x_5(self):
        out = os.path.join(self.tmp, "lr")
        r = nnlab("run", BASELINE, "training.learning_rate=0.1,0.01", "-o", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("10 runs (2 config points x 5 seeds)", r.stderr)
        self.assertEqual(len(glob.glob(os.path.join(out, "runs", "r*.h5"))), 10)
        with open(os.path.join(out, "experiment.yaml")) as f:
            self.assertIn("grid:\n  training.learning_rate: [0.1, 0.01]\n", f.read())
        with h5py.File(os.path.join(out, "results.h5"), "r") as f:
            s = f["summary"][()]
            self.assertEqual(list(s["training.learning_rate"]), [0.1] * 5 + [0.01] * 5)
            self.assertEqual(list(s["config"]), [0] * 5 + [1] * 5)
            self.assertEqual(sorted(f["aggregate"].keys()), ["c0000", "c0001"])
            self.assertEqual(f["aggregate/c0001"].attrs["training.learning_rate"], 0.01)
            self.assertEqual(f["runs/r000007"].attrs["training.learning_rate"], 0.01)
            for c, rows in ((0, slice(0, 5)), (1, slice(5, 10))):
                mean = f["aggregate/c%04d/mean/test_acc" % c][-1]
                self.assertAlmostEqual(mean, s["final_test_acc"][rows].mean(), places=12)

    def test_swept_epochs_scale_and_layers(self):
        """Config points may differ in curve length, data scaling and layer lists."""
        path = os.path.join(self.tmp, "g.yaml")
        with open(path, "w") as f:
            f.write("model: {hidden: [16]}\ntraining: {batch_size: 32, learning_rate: 0.5}\n"
                    "grid:\n  training.epochs: [1, 3]\n  dataset.scale: [none, standard]\n"
                    "  model.hidden: [[16], [16, 8]]\nseeds: [1, 2]\n")
        out = os.path.join(self.tmp, "g")
        r = nnlab("run", path, "-o", out, "-j", "2")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = nnlab("list", path)
        self.assertEqual(len(r.stdout.splitlines()), 2 * 2 * 2 * 2)
        self.assertEqual(r.stdout.splitlines()[2],
                         "r000002 seed=1 training.epochs=1 dataset.scale=none model.hidden=[16, 8]")
        with h5py.File(os.path.join(out, "results.h5"), "r") as f:
            s = f["summary"][()]
            self.assertEqual(s.dtype.names[-3:], ("training.epochs", "dataset.scale", "model.hidden"))
            self.assertEqual(list(s["training.epochs"]), [1] * 8 + [3] * 8)
            self.assertEqual(list(s["dataset.scale"][::2][:4]), [b"none", b"none", b"standard", b"standard"])
            self.assertEqual(list(s["model.hidden"][::2][:4]), [b"[16]", b"[16, 8]", b"[16]", b"[16, 8]"])
            self.assertEqual(f["runs/r000000/curves/test_acc"].shape, (2,))
            self.assertEqual(f["runs/r000015/curves/test_acc"].shape, (4,))
            self.assertEqual(f["aggregate/c0007/mean/test_loss"].shape, (4,))
            self.assertEqual(list(f["aggregate/c0007"].attrs["model.hidden"]), [16, 8])
            self.assertEqual(f["aggregate/c0007"].attrs["dataset.scale"], "standard")
            self.assertTrue((s["status"] == b"ok").all())
            # standardised inputs change the run: same seed, different curves
            a, b = f["runs/r000000/curves/train_loss"][()], f["runs/r000004/curves/train_loss"][()]
            self.assertEqual(a[0] == b[0], False)


class BadInput(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="nnlab_bad_")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def test_every_bad_file_exits_2_and_writes_nothing(self):
        files = sorted(glob.glob(os.path.join(SRC, "tests", "bad", "*.yaml")))
        self.assertGreaterEqual(len(files), 40)
        for path in files:
            with open(path) as f:
                expect = f.readline().rstrip("\n")[len("# expect: "):]
            # "{dir}" is the file's folder; a message about the file itself starts with its path
            if not expect.startswith("{dir}"):
                expect = path + ":" + expect
            expect = expect.replace("{dir}", os.path.dirname(path))
            out = os.path.join(self.tmp, "out")
            # with -o, and without (the default output folder is relative to the cwd)
            for args in (["run", path, "-o", out], ["run", path], ["check", path]):
                r = nnlab(*args, cwd=self.tmp)
                self.assertEqual(r.returncode, 2, (path, r.stderr))
                self.assertEqual(r.stderr.splitlines()[0], expect)
                self.assertEqual(os.listdir(self.tmp), [], path)

    def test_usage_errors(self):
        for args in (["run"], ["run", BASELINE, "-j", "0"], ["run", BASELINE, "--frobnicate"], ["bogus"],
                     ["run", BASELINE, "-o"], ["run", os.path.join(self.tmp, "missing.yaml")],
                     ["run", BASELINE, "-o", "--force"]):  # not a folder named --force
            r = nnlab(*args, cwd=self.tmp)
            self.assertEqual(r.returncode, 2, args)
            self.assertTrue(r.stderr.strip(), args)
        self.assertEqual(os.listdir(self.tmp), [])
        for args in (["--help"], ["run", "--help"], ["summary", "-h"], ["run", BASELINE, "-j", "2", "--help"]):
            r = nnlab(*args, cwd=self.tmp)
            self.assertEqual(r.returncode, 0, args)
            self.assertTrue(r.stdout.startswith("usage:"), args)
        self.assertEqual(os.listdir(self.tmp), [])

    def test_unwritable_output_is_a_runtime_error(self):
        r = nnlab("run", BASELINE, "-o", "/proc/nnlab-cannot-write", "--quiet")
        self.assertEqual(r.returncode, 1)
        self.assertIn("/proc/nnlab-cannot-write", r.stderr)

    def test_absurd_layer_refused_before_allocation(self):
        path = os.path.join(self.tmp, "huge.yaml")
        with open(path, "w") as f:
            f.write("model: {hidden: [1000000000]}\n")
        r = nnlab("run", path, "-o", os.path.join(self.tmp, "out"))
        self.assertEqual(r.returncode, 2)
        self.assertRegex(r.stderr, r"huge.yaml: one run needs [0-9.]+ GiB but this machine has [0-9.]+ GiB: "
                                   r"64 inputs, model.hidden \[1000000000\] and 10 classes make 7.5e\+10 parameters")
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "out")))
        # one run that fits, too many at once: the message says how many threads fit
        machine = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        units = int(math.sqrt(machine / 8 / 16))  # about 16 bytes per weight: one run near an eighth of memory
        with open(path, "w") as f:
            f.write("model: {hidden: [%d, %d]}\nseeds: {count: 1000}\n" % (units, units))
        r = nnlab("run", path, "-o", os.path.join(self.tmp, "out"), "-j", "1000")
        self.assertEqual(r.returncode, 2)
        fits = re.search(r"huge.yaml: 1000 threads need [0-9.]+ GiB \([0-9.]+ GiB per run\) but this machine has "
                         r"[0-9.]+ GiB; -j ([0-9]+) fits", r.stderr)
        self.assertTrue(fits, r.stderr)
        self.assertTrue(1 <= int(fits.group(1)) < 1000, r.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "out")))
        # a run too big mostly for its batches (of at most the 1437 training rows): the message says so
        units = int(machine / 1437 / 8)  # a bit over 8 bytes per unit and row in the batch's buffers
        with open(path, "w") as f:
            f.write("model: {hidden: [%d]}\ntraining: {batch_size: 100000}\n" % units)
        r = nnlab("run", path, "-o", os.path.join(self.tmp, "out"), "-j", "1")
        self.assertEqual(r.returncode, 2)
        self.assertRegex(r.stderr, r"huge.yaml: one run needs [0-9.]+ GiB but this machine has [0-9.]+ GiB, [0-9.]+ "
                                   r"GiB of it for batches of 1437 rows through 64 inputs, model.hidden \[%d\] and "
                                   r"10 classes; make training.batch_size smaller" % units)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "out")))


class Commands(unittest.TestCase):
    def test_check_and_list(self):
        r = nnlab("check", BASELINE)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("learning_rate: 0.01", r.stdout)
        self.assertIn("# runs: 5", r.stdout)
        r = nnlab("list", BASELINE)
        lines = r.stdout.splitlines()
        self.assertEqual(len(lines), 5)
        self.assertEqual(lines[0], "r000000 seed=1")

    def test_diverged_run_is_recorded_and_others_go_on(self):
        tmp = tempfile.mkdtemp(prefix="nnlab_div_")
        try:
            path = os.path.join(tmp, "div.yaml")
            with open(path, "w") as f:
                f.write("model: {hidden: [64, 64], activation: relu}\n"
                        "training: {epochs: 3, learning_rate: 100000, batch_size: 8}\nseeds: [3, 4]\n")
            r = nnlab("run", path, "-o", os.path.join(tmp, "out"))
            self.assertEqual(r.returncode, 0, r.stderr)
            with h5py.File(os.path.join(tmp, "out", "results.h5"), "r") as f:
                s = f["summary"][()]
                self.assertEqual(list(s["status"]), [b"diverged", b"diverged"])
                self.assertTrue(np.isnan(f["runs/r000000/curves/test_acc"][-1]))
                self.assertEqual(f["aggregate/c0000"].attrs["n_diverged"], 2)
        finally:
            shutil.rmtree(tmp)


if __name__ == "__main__":
    unittest.main(verbosity=2)
