"""Job-array shards: `--shard K/N` runs runs K, K+N, ... into one shared
output folder, `nnlab merge DIR` joins them; the merged results.h5 is
bit-identical to a single-process run, and a missing shard is reported."""
import glob
import os
import subprocess
import unittest

import h5py

from nnlab_testing import ReferenceRun, results_contents as contents

NNLAB = os.environ["NNLAB"]
EXPERIMENT = """name: shards
model: {hidden: [24]}
training: {epochs: 2, batch_size: 8, learning_rate: 0.1, shuffle: true}
grid:
  model.activation: [tanh, relu]
  model.dropout: [0.0, 0.2]
seeds: [1, 2]
"""


def nnlab(*args):
    return subprocess.run([NNLAB, *args], capture_output=True, text=True, timeout=600)


class Shards(ReferenceRun):
    EXPERIMENT = EXPERIMENT
    NAME = "shards"

    def test_three_shards_at_once_then_merge(self):
        out = os.path.join(self.tmp, "three")
        procs = [subprocess.Popen([NNLAB, "run", self.exp, "-o", out, "--shard", "%d/3" % k, "-j", "1"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for k in range(3)]
        for k, p in enumerate(procs):
            _, err = p.communicate(timeout=600)
            self.assertEqual(p.returncode, 0, err)
            self.assertIn("shard %d/3" % k, err)
            self.assertIn("nnlab merge", err)
        self.assertFalse(os.path.exists(os.path.join(out, "results.h5")))  # shards do not merge
        self.assertEqual(len(glob.glob(os.path.join(out, "runs", "r*.h5"))), 8)
        r = nnlab("merge", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertSameAsReference(os.path.join(out, "results.h5"))

    def test_shard_takes_every_nth_run_and_resumes(self):
        out = os.path.join(self.tmp, "every")
        r = nnlab("run", self.exp, "-o", out, "--shard", "1/3")
        self.assertEqual(r.returncode, 0, r.stderr)
        ids = sorted(int(os.path.basename(p)[1:7]) for p in glob.glob(os.path.join(out, "runs", "r*.h5")))
        self.assertEqual(ids, [1, 4, 7])
        r = nnlab("run", self.exp, "-o", out, "--shard", "1/3")  # again: nothing left to do
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("0 of its runs to run", r.stderr)

    def test_missing_shard_is_reported_by_merge(self):
        out = os.path.join(self.tmp, "missing")
        for k in (0, 2):
            r = nnlab("run", self.exp, "-o", out, "--shard", "%d/3" % k, "--quiet")
            self.assertEqual(r.returncode, 0, r.stderr)
        r = nnlab("merge", out)
        self.assertEqual(r.returncode, 1)
        self.assertIn("merged 5 of 8 runs; 3 runs are missing or rejected: r000001, r000004, r000007 (nnlab "
                      "run %s/experiment.yaml -o %s --resume runs them)" % (out, out), r.stderr)
        with h5py.File(os.path.join(out, "results.h5"), "r") as f:  # what is there is merged
            self.assertEqual(sorted(f["runs"].keys()), ["r%06d" % i for i in (0, 2, 3, 5, 6)])
        r = nnlab("run", self.exp, "-o", out, "--shard", "1/3", "--quiet")  # the late shard
        self.assertEqual(r.returncode, 0, r.stderr)
        r = nnlab("merge", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(contents(os.path.join(out, "results.h5")), self.want)

    def test_shard_refuses_another_experiment_and_bad_usage(self):
        out = os.path.join(self.tmp, "other")
        self.assertEqual(nnlab("run", self.exp, "-o", out, "--shard", "0/2", "--quiet").returncode, 0)
        r = nnlab("run", self.exp, "-o", out, "--shard", "1/2", "training.epochs=3")
        self.assertEqual(r.returncode, 2)
        self.assertIn("training.epochs: 2 -> 3", r.stderr)
        for bad in ("2/2", "-1/3", "1/0", "a/b", "1/2x"):
            self.assertEqual(nnlab("run", self.exp, "-o", out, "--shard", bad).returncode, 2, bad)
        self.assertEqual(nnlab("run", self.exp, "-o", out, "--shard", "0/2", "--force").returncode, 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
