"""End to end: successive halving and Hyperband (search.method halving,
hyperband). A small halving search gives the same results.h5 bits with
-j 1 and -j 2 and after SIGKILL at several points + --resume; what it prunes
is what its own curves say (mean over seeds of val_loss at each rung, ties
to the lower trial); a run that reaches the last rung has the bits of a
plain random search's run of the same trial, and a pruned run's curves are
that run's up to where it stopped; every run file says its status and rung;
without validation or with --shard it is refused (exit 2)."""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nnlab_testing import HALVING_SEARCH, results_contents  # noqa: E402

NNLAB = os.environ["NNLAB"]

HALVING = "name: halving\n" + HALVING_SEARCH
TRIALS, SEEDS, RUNGS, KEEP = 7, 2, [1, 3, 9], [7, 3, 1]


def nnlab(*args, env=None):
    e = dict(os.environ, **(env or {}))
    return subprocess.run([NNLAB] + [str(a) for a in args], capture_output=True, text=True, timeout=600, env=e)


class Halving(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="nnlab_halving_")
        cls.exp = os.path.join(cls.tmp, "halving.yaml")
        with open(cls.exp, "w") as f:
            f.write(HALVING)
        cls.ref = os.path.join(cls.tmp, "j1")
        r = nnlab("run", cls.exp, "-o", cls.ref, "-j", 1, "--quiet")
        assert r.returncode == 0, r.stderr
        cls.want = results_contents(os.path.join(cls.ref, "results.h5"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def same(self, out):
        got = results_contents(os.path.join(out, "results.h5"))
        self.assertEqual(sorted(got), sorted(self.want))
        for k in got:
            self.assertEqual(got[k], self.want[k], k)

    def test_threads_change_no_bit(self):
        out = os.path.join(self.tmp, "j2")
        r = nnlab("run", self.exp, "-o", out, "-j", 2, "--quiet")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.same(out)

    def test_sigkill_and_resume_change_no_bit(self):
        # killed: mid rung 0, right after a run paused at rung 0 and at rung 1, after a prune
        for where in ("train:5", "rung0:6", "rung1:4", "pruned:2", "rung0:13"):
            out = os.path.join(self.tmp, "kill-" + where.replace(":", "-"))
            r = nnlab("run", self.exp, "-o", out, "-j", 2, "--quiet", env={"NNLAB_CRASH_AT": where})
            self.assertEqual(r.returncode, -signal.SIGKILL, where + ": " + r.stderr)
            r = nnlab("run", self.exp, "-o", out, "-j", 1, "--resume", "--quiet")
            self.assertEqual(r.returncode, 0, where + ": " + r.stderr)
            self.same(out)

    def test_keeping_no_weights_keeps_what_continuing_needs(self):
        # storage.keep_weights: none: a paused run's file still holds its weights, best and init (the
        # search continues from them, after a SIGKILL too), a finished or pruned one none of them, and the
        # curves and summary are those of the run that kept everything
        exp = os.path.join(self.tmp, "none.yaml")
        with open(exp, "w") as f:
            f.write(HALVING + "storage: {keep_weights: none, keep_init: false}\n")
        out = os.path.join(self.tmp, "none")
        r = nnlab("run", exp, "-o", out, "-j", 2, "--quiet", env={"NNLAB_CRASH_AT": "rung0:6"})
        self.assertEqual(r.returncode, -signal.SIGKILL, r.stderr)
        paused = 0
        for name in os.listdir(os.path.join(out, "runs")):
            if not name.endswith(".h5"):  # the other thread's run file, half-written (.tmp) when killed
                continue
            with h5py.File(os.path.join(out, "runs", name), "r") as f:
                if f["run"].attrs["status"] == "paused":
                    paused += 1
                    self.assertTrue(all(k in f["run"] for k in ("weights", "best", "init", "state")), name)
        self.assertGreater(paused, 0)
        r = nnlab("run", exp, "-o", out, "-j", 1, "--resume", "--quiet")
        self.assertEqual(r.returncode, 0, r.stderr)
        with h5py.File(os.path.join(out, "results.h5"), "r") as f, \
                h5py.File(os.path.join(self.ref, "results.h5"), "r") as ref:
            got, want = f["summary"][()], ref["summary"][()]
            for col in ("run", "config", "status", "rung", "epochs_done", "best_epoch", "val_loss", "test_acc"):
                self.assertEqual(got[col].tobytes(), want[col].tobytes(), col)
            for name in f["runs"]:
                run = f["runs"][name]
                self.assertFalse(any(k in run for k in ("weights", "best", "init", "state")), name)
                np.testing.assert_array_equal(run["curves/val_loss"][()],
                                              h5py.File(os.path.join(self.ref, "runs", name + ".h5"), "r")
                                              ["run/curves/val_loss"][()])

    def test_pruned_runs_keep_weights_only_when_asked(self):
        # by default a pruned run's file keeps its curves and no weights (storage.keep_pruned: false), and
        # predict says why; storage.keep_pruned: true keeps them as keep_weights says; a finished run keeps
        # its weights either way, and nothing else changes
        with h5py.File(os.path.join(self.ref, "results.h5"), "r") as f:
            s = f["summary"][()]
        pruned = [int(r["run"]) for r in s if r["status"] == b"pruned"]
        done = [int(r["run"]) for r in s if r["status"] == b"ok"]
        self.assertTrue(pruned and done)
        for run in pruned:
            with h5py.File(os.path.join(self.ref, "runs", "r%06d.h5" % run), "r") as f:
                self.assertFalse(any(k in f["run"] for k in ("weights", "best", "init")), run)
                self.assertEqual(int(f["run"].attrs["storage.keep_pruned"]), 0)
                self.assertIn("val_loss", f["run/curves"])
        for run in done:
            with h5py.File(os.path.join(self.ref, "runs", "r%06d.h5" % run), "r") as f:
                self.assertTrue(all(k in f["run"] for k in ("weights", "best", "init")), run)
                self.assertNotIn("storage.keep_pruned", f["run"].attrs)
        r = nnlab("predict", self.ref, "--run", pruned[0])
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("run %d was pruned by successive halving, and a pruned run's weights are not kept "
                      "(storage.keep_pruned: false)" % pruned[0], r.stderr)
        self.assertEqual(r.stdout, "")
        out = os.path.join(self.tmp, "keep-pruned")
        r = nnlab("run", self.exp, "-o", out, "--quiet", "storage.keep_pruned=true")
        self.assertEqual(r.returncode, 0, r.stderr)
        for run in pruned:
            with h5py.File(os.path.join(out, "runs", "r%06d.h5" % run), "r") as f, \
                    h5py.File(os.path.join(self.ref, "runs", "r%06d.h5" % run), "r") as ref:
                self.assertTrue(all(k in f["run"] for k in ("weights", "best", "init")), run)
                np.testing.assert_array_equal(f["run/curves/val_loss"][()], ref["run/curves/val_loss"][()])
        r = nnlab("predict", out, "--run", pruned[0])
        self.assertEqual(r.returncode, 0, r.stderr)
        with h5py.File(os.path.join(out, "results.h5"), "r") as f, \
                h5py.File(os.path.join(self.ref, "results.h5"), "r") as ref:
            got, want = f["summary"][()], ref["summary"][()]
            for col in got.dtype.names:
                if col != "seconds":
                    self.assertEqual(got[col].tobytes(), want[col].tobytes(), col)

    def test_pruned_as_the_curves_say(self):
        with h5py.File(os.path.join(self.ref, "results.h5"), "r") as f:
            s = f["summary"][()]
            self.assertIn("rung", s.dtype.names)
            curves = {int(r): f["runs/r%06d/curves/val_loss" % r][()] for r in s["run"]}
            rung = {int(r["config"]): int(r["rung"]) for r in s}
            for row in s:  # the seeds of a config point share its fate
                self.assertEqual(int(row["rung"]), rung[int(row["config"])])
                status = row["status"].decode()
                last = int(row["rung"]) == len(RUNGS) - 1
                self.assertEqual(status, "ok" if last else "pruned")
                self.assertEqual(int(row["epochs_done"]), RUNGS[int(row["rung"])])
                self.assertLessEqual(int(row["best_epoch"]), int(row["epochs_done"]))
                run = f["runs/r%06d" % row["run"]]
                self.assertNotIn("state", run)  # a closed run keeps no state
                self.assertEqual(int(run.attrs["rung"]), int(row["rung"]))
            alive = list(range(TRIALS))
            for r, e in enumerate(RUNGS):
                self.assertEqual(sorted(c for c in rung if rung[c] >= r), alive, "rung %d" % r)
                if r + 1 == len(RUNGS):
                    break
                value = {c: np.mean([curves[c * SEEDS + k][e] for k in range(SEEDS)]) for c in alive}
                alive = sorted(sorted(alive, key=lambda c: (value[c], c))[:KEEP[r + 1]])

    def test_a_promoted_run_is_a_plain_run(self):
        plain, exp = os.path.join(self.tmp, "plain"), os.path.join(self.tmp, "random.yaml")
        with open(exp, "w") as f:
            f.write(HALVING.replace("method: halving", "method: random").replace("  min_epochs: 1\n  eta: 3\n", ""))
        r = nnlab("run", exp, "-o", plain, "-j", 2, "--quiet")
        self.assertEqual(r.returncode, 0, r.stderr)
        with h5py.File(os.path.join(self.ref, "results.h5"), "r") as h, \
                h5py.File(os.path.join(plain, "results.h5"), "r") as p:
            n_last = 0
            for row in h["summary"][()]:
                a, b = h["runs/r%06d" % row["run"]], p["runs/r%06d" % row["run"]]
                done = int(row["epochs_done"])
                for k in a["curves"]:
                    np.testing.assert_array_equal(a["curves"][k][: done + 1], b["curves"][k][: done + 1])
                    self.assertTrue(np.isnan(a["curves"][k][done + 1:]).all())
                if row["status"] == b"ok":
                    n_last += 1
                    for g in ("weights", "best", "init"):
                        for layer in a[g]:
                            for w in ("W", "b"):
                                self.assertEqual(a[g][layer][w][()].tobytes(), b[g][layer][w][()].tobytes())
            self.assertEqual(n_last, SEEDS * KEEP[-1])

    def test_without_validation_or_with_shards_refused(self):
        bad = os.path.join(self.tmp, "noval.yaml")
        with open(bad, "w") as f:
            f.write(HALVING.replace("validation_fraction: 0.2, ", ""))
        r = nnlab("check", bad)
        self.assertEqual(r.returncode, 2)
        self.assertIn("%s:6:11: search.method: halving ranks config points on validation" % bad, r.stderr)
        out = os.path.join(self.tmp, "shard")
        r = nnlab("run", self.exp, "-o", out, "--shard", "0/2", "--quiet")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--shard cannot split a halving search", r.stderr)
        self.assertFalse(os.path.exists(os.path.join(out, "runs")))


HYPERBAND = """name: hyperband
dataset: {validation_fraction: 0.2, scale: standard}
model: {hidden: [8]}
training: {epochs: 9, batch_size: 32, optimizer: momentum}
search:
  method: hyperband
  seed: 1
  space:
    training.learning_rate: {log_uniform: [0.001, 0.5]}
seeds: [1]
"""


class Hyperband(unittest.TestCase):
    def test_brackets_and_threads(self):
        tmp = tempfile.mkdtemp(prefix="nnlab_hyperband_")
        try:
            exp = os.path.join(tmp, "hb.yaml")
            with open(exp, "w") as f:
                f.write(HYPERBAND)
            r = nnlab("check", exp)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("# runs: 17 (17 trials x 1 seeds)", r.stdout)  # brackets of 9, 5 and 3 trials
            for j in (1, 2):
                r = nnlab("run", exp, "-o", os.path.join(tmp, "j%d" % j), "-j", j, "--quiet")
                self.assertEqual(r.returncode, 0, r.stderr)
            one = results_contents(os.path.join(tmp, "j1", "results.h5"))
            self.assertEqual(one, results_contents(os.path.join(tmp, "j2", "results.h5")))
            with h5py.File(os.path.join(tmp, "j1", "results.h5"), "r") as f:
                s = f["summary"][()]
                # bracket 0: trials 0-8 at 1, 3, 9 epochs keep 9, 3, 1; bracket 1: 9-13 at 3, 9 keep 5, 1;
                # bracket 2: 14-16 at 9 epochs, all
                ok = [int(r["config"]) for r in s if r["status"] == b"ok"]
                self.assertEqual(len(ok), 5)
                self.assertEqual(sum(c < 9 for c in ok), 1)
                self.assertEqual(sum(9 <= c < 14 for c in ok), 1)
                self.assertEqual([c for c in ok if c >= 14], [14, 15, 16])
                for r in s:
                    c, done = int(r["config"]), int(r["epochs_done"])
                    want = {0: [1, 3, 9], 1: [3, 9], 2: [9]}[0 if c < 9 else 1 if c < 14 else 2][int(r["rung"])]
                    self.assertEqual(done, want, r)
        finally:
            shutil.rmtree(tmp)


if __name__ == "__main__":
    unittest.main()
