"""Results storage (issue 30): every run's data is on disk once. results.h5's
/runs/rNNNNNN are external links, by relative name, to runs/rNNNNNN.h5; each
test here checks a way that could go wrong: the folder moved with mv or
copied with cp -r and read from another current folder; a run file missing
(while the current folder holds another experiment's run file of that name,
which HDF5's own search would find), damaged, or another run's; results.h5
copied alone; SIGKILL during the merge, then --resume. Every reader
(nnlab summary, nnlab predict, the Python loader, the plot scripts) either
reads the right run or says which file is wrong, in one line, exit 2."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import h5py
import numpy as np

from nnlab_testing import results_contents

NNLAB = os.environ["NNLAB"]
SCRIPTS = os.path.join(os.environ["NNLAB_SOURCE_DIR"], "scripts")
ENV = dict(os.environ, MPLBACKEND="Agg", OPENBLAS_NUM_THREADS="1")

EXPERIMENT = """name: storage
dataset: {validation_fraction: 0.2}
model: {hidden: [16]}
training: {epochs: 3, batch_size: 16}
grid:
  model.activation: [sigmoid, relu]
seeds: [1, 2]
"""
LOAD = ("import sys; sys.path.insert(0, sys.argv[1]); import nnlab_results as nr\n"
        "def go():\n    r = nr.load(sys.argv[2])\n    r.configs(); r.curves(1); print(r.weights(1, 'best')[0][0].sum())\n"
        "nr.run_main(go)")


def run(*args, cwd=None, env=None):
    return subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, timeout=300, env=env or ENV)


def readers(out, png):
    """Every reader of out (an output folder or its results.h5): name -> CompletedProcess."""
    return {
        "summary": run(NNLAB, "summary", out),
        "predict": run(NNLAB, "predict", out, "--run", "1", "-o", png + ".csv"),
        "loader": run(sys.executable, "-c", LOAD, SCRIPTS, out),
        "plot_weights": run(sys.executable, os.path.join(SCRIPTS, "plot_weights.py"), out, "--run", "1", "-o", png),
        "plot_curves": run(sys.executable, os.path.join(SCRIPTS, "plot_curves.py"), out, "-o", png),
    }


class Links(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="nnlab_storage_")
        cls.exp = os.path.join(cls.tmp, "storage.yaml")
        with open(cls.exp, "w") as f:
            f.write(EXPERIMENT)
        cls.out = os.path.join(cls.tmp, "out")
        r = run(NNLAB, "run", cls.exp, "-o", cls.out, "--quiet")
        assert r.returncode == 0, r.stderr
        cls.want = results_contents(os.path.join(cls.out, "results.h5"))
        cls.loaded = run(sys.executable, "-c", LOAD, SCRIPTS, cls.out).stdout

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def copy(self, name):
        dst = os.path.join(self.tmp, name)
        subprocess.run(["cp", "-r", self.out, dst], check=True)
        return dst

    def test_results_links_each_run_by_a_relative_name(self):
        with h5py.File(os.path.join(self.out, "results.h5"), "r") as f:
            for k in f["runs"]:
                link = f["runs"].get(k, getlink=True)
                self.assertIsInstance(link, h5py.ExternalLink)
                self.assertEqual((link.filename, link.path), ("runs/%s.h5" % k, "/run"))
        self.assertLess(os.path.getsize(os.path.join(self.out, "results.h5")),
                        os.path.getsize(os.path.join(self.out, "runs", "r000000.h5")))

    def test_moved_and_copied_folders_read_from_anywhere(self):
        moved = os.path.join(self.tmp, "moved")
        subprocess.run(["mv", self.copy("to-move"), moved], check=True)
        copied = self.copy("copied")
        elsewhere = os.path.join(self.tmp, "elsewhere")
        os.makedirs(elsewhere, exist_ok=True)
        for folder in (moved, copied):
            for cwd in (elsewhere, os.path.join(folder, "runs"), "/"):
                with self.subTest(folder=folder, cwd=cwd):
                    self.assertEqual(results_contents(os.path.join(folder, "results.h5")), self.want)
                    r = run(sys.executable, "-c", LOAD, SCRIPTS, os.path.relpath(folder, cwd), cwd=cwd)
                    self.assertEqual((r.returncode, r.stdout), (0, self.loaded), r.stderr)
            for name, r in readers(folder, os.path.join(self.tmp, "moved.png")).items():
                self.assertEqual(r.returncode, 0, (name, r.stderr))

    def refused(self, folder, message, cwd=None):
        for name, r in readers(folder, os.path.join(self.tmp, "refused.png")).items():
            if name == "summary":  # /summary is in results.h5 (plot_curves reads the runs' curves)
                self.assertEqual(r.returncode, 0, r.stderr)
                continue
            with self.subTest(reader=name):
                lines = r.stderr.strip().splitlines()
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertEqual(len(lines), 1, r.stderr)
                self.assertNotIn("Traceback", r.stderr)
                self.assertIn(message, lines[0])

    def test_missing_run_file_is_named_never_read_from_the_current_folder(self):
        folder = self.copy("missing")
        os.remove(os.path.join(folder, "runs", "r000001.h5"))
        self.refused(folder, "r000001.h5 is missing")
        # another experiment's folder as the current one: HDF5 alone would read its runs/r000001.h5
        decoy = self.copy("decoy")
        with h5py.File(os.path.join(folder, "results.h5"), "r") as f:
            with self.assertRaises(KeyError):
                f["runs/r000001"]  # h5py: a dangling link, from the folder itself
        r = run(sys.executable, "-c", LOAD, SCRIPTS, folder, cwd=decoy)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("r000001.h5 is missing", r.stderr)
        r = run(NNLAB, "predict", folder, "--run", "1", "-o", os.path.join(self.tmp, "p.csv"), cwd=decoy)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("r000001.h5 is missing", r.stderr)
        # results.h5 copied alone
        alone = os.path.join(self.tmp, "alone")
        os.makedirs(alone)
        shutil.copy(os.path.join(self.out, "results.h5"), alone)
        self.refused(os.path.join(alone, "results.h5"), "copy or move the whole output folder")

    def test_another_run_or_experiments_file_is_refused(self):
        folder = self.copy("swapped")
        shutil.copy(os.path.join(folder, "runs", "r000000.h5"), os.path.join(folder, "runs", "r000001.h5"))
        self.refused(folder, "is not the one results.h5 was merged from")

    def test_damaged_run_file_is_refused_by_nnlab(self):
        folder = self.copy("damaged")
        with h5py.File(os.path.join(folder, "runs", "r000001.h5"), "a") as f:
            w = f["run/best/layer0/W"]
            w[0, 0] = w[0, 0] + 1
        r = run(NNLAB, "predict", folder, "--run", "1", "-o", os.path.join(self.tmp, "d.csv"))
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("r000001.h5 is damaged", r.stderr)
        r = run(NNLAB, "merge", folder)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("r000001.h5 (damaged", r.stderr)
        with h5py.File(os.path.join(folder, "results.h5"), "r") as f:
            self.assertEqual(sorted(f["runs"]), ["r000000", "r000002", "r000003"])

    def test_sigkill_during_the_merge_then_resume_loses_nothing(self):
        for where in ("merge:2", "merge-written:0"):
            with self.subTest(where=where):
                out = os.path.join(self.tmp, "kill-" + where.replace(":", "-"))
                r = run(NNLAB, "run", self.exp, "-o", out, "--quiet", env=dict(ENV, NNLAB_CRASH_AT=where))
                self.assertEqual(r.returncode, -9, r.stderr)
                self.assertFalse(os.path.exists(os.path.join(out, "results.h5")))
                r = run(NNLAB, "run", self.exp, "-o", out, "--resume", "--quiet")
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(results_contents(os.path.join(out, "results.h5")), self.want)
                # a rejected run file: results.h5, which linked to it, goes until the merge rebuilds it
                with h5py.File(os.path.join(out, "runs", "r000002.h5"), "a") as f:
                    f["run/curves/test_acc"][0] += 1
                r = run(NNLAB, "run", self.exp, "-o", out, "--resume", "--quiet",
                        env=dict(ENV, NNLAB_CRASH_AT="train:2"))
                self.assertEqual(r.returncode, -9, r.stderr)
                self.assertFalse(os.path.exists(os.path.join(out, "results.h5")))
                r = run(NNLAB, "run", self.exp, "-o", out, "--resume", "--quiet")
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(results_contents(os.path.join(out, "results.h5")), self.want)


class Kept(unittest.TestCase):
    """storage.keep_weights and keep_init: each reader reads what was kept and names what was not, exit 2."""

    def test_each_mode(self):
        tmp = tempfile.mkdtemp(prefix="nnlab_kept_")
        self.addCleanup(shutil.rmtree, tmp)
        exp = os.path.join(tmp, "kept.yaml")
        with open(exp, "w") as f:
            f.write(EXPERIMENT)
        png = os.path.join(tmp, "w.png")
        sizes = {}
        for mode, init in (("all", "true"), ("best", "false"), ("final", "true"), ("none", "false")):
            out = os.path.join(tmp, mode)
            r = run(NNLAB, "run", exp, "-o", out, "--quiet", "storage.keep_weights=" + mode, "storage.keep_init=" + init)
            self.assertEqual(r.returncode, 0, r.stderr)
            sizes[mode] = sum(os.path.getsize(p) for p in [os.path.join(out, "runs", n)
                                                           for n in os.listdir(os.path.join(out, "runs"))])
            with h5py.File(os.path.join(out, "results.h5"), "r") as f:
                g = f["runs/r000001"]
                self.assertEqual(sorted(k for k in g if isinstance(g[k], h5py.Group)),
                                 sorted(["curves"] + {"all": ["weights", "best"], "best": ["best"],
                                                      "final": ["weights"], "none": []}[mode]
                                        + (["init"] if init == "true" else [])))
            self.assertEqual(run(NNLAB, "summary", out).returncode, 0)
            self.assertEqual(run(sys.executable, os.path.join(SCRIPTS, "plot_curves.py"), out, "-o", png).returncode, 0)
            for args, kept, missing in (([], mode in ("all", "best"), "selected epoch's weights were not kept"),
                                        (["--final"], mode in ("all", "final"), "final weights were not kept")):
                with self.subTest(mode=mode, args=args):
                    r = run(NNLAB, "predict", out, "--run", "1", "-o", png + ".csv", *args)
                    self.assertEqual(r.returncode, 0 if kept else 2, r.stderr)
                    if not kept:
                        self.assertIn("%s (storage.keep_weights: %s)" % (missing, mode), r.stderr)
            r = run(sys.executable, os.path.join(SCRIPTS, "plot_weights.py"), out, "--run", "1", "-o", png, "--final")
            self.assertEqual(r.returncode, 0 if mode in ("all", "final") else 2, r.stderr)
            if r.returncode:
                self.assertIn("not kept: storage.keep_weights: %s" % mode, r.stderr)
            r = run(sys.executable, os.path.join(SCRIPTS, "plot_weights.py"), out, "--run", "1", "-o", png, "--init")
            self.assertEqual(r.returncode, 0 if init == "true" else 2, r.stderr)
            if r.returncode:
                self.assertIn("not kept: storage.keep_init: false", r.stderr)
            r = run(NNLAB, "merge", out)  # the run files still verify
            self.assertEqual(r.returncode, 0, r.stderr)
        self.assertLess(sizes["none"], sizes["best"])
        self.assertLess(sizes["best"], sizes["all"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
