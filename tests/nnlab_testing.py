"""Helpers the end-to-end tests share."""
import glob
import os
import shutil
import subprocess
import tempfile
import time
import unittest

import h5py

# A small successive-halving search (7 trials x 2 seeds, rungs of 1, 3 and 9 epochs) that e2e_halving,
# e2e_mpi and e2e_stats run: "name: ...\n" + HALVING_SEARCH is an experiment.
HALVING_SEARCH = """dataset: {validation_fraction: 0.2, scale: standard}
model: {hidden: [12]}
training: {epochs: 9, batch_size: 16, shuffle: true, optimizer: momentum}
search:
  method: halving
  trials: 7
  seed: 3
  min_epochs: 1
  eta: 3
  space:
    training.learning_rate: {log_uniform: [0.001, 0.5]}
    model.dropout: {uniform: [0.0, 0.3]}
seeds: [1, 2]
"""


def run_files(out):
    """The finished run files of an output folder, sorted."""
    return sorted(glob.glob(os.path.join(out, "runs", "r*.h5")))


def wait_for_runs(out, n, proc, seconds=300):
    """Wait until out holds n finished run files, proc has ended, or the time is up."""
    deadline = time.time() + seconds
    while len(run_files(out)) < n and proc.poll() is None and time.time() < deadline:
        time.sleep(0.005)


def results_contents(path):
    """{name: bytes} of everything in a results.h5 that must not depend on how
    the experiment was run (threads, interruptions, shards): every dataset
    under /runs and /aggregate, the summary without its timings, and the
    fingerprint (the experiment text differs in its output folder)."""
    out = {}
    with h5py.File(path, "r") as f:
        # each run: /runs/rNNNNNN, an external link to its run file (visititems does not follow one)
        for top in ["runs/" + k for k in f["runs"]] + ["aggregate"]:
            f[top].visititems(lambda n, o, top=top: out.__setitem__(top + "/" + n, o[()].tobytes())
                              if isinstance(o, h5py.Dataset) else None)
        s = f["summary"][()]
        for col in s.dtype.names:
            if col != "seconds":
                out["summary/" + col] = s[col].tobytes()
        out["fingerprint"] = f.attrs["fingerprint"]
    return out


class ReferenceRun(unittest.TestCase):
    """Tests that compare against one uninterrupted single-process run: the
    subclass sets EXPERIMENT (YAML text) and NAME; setUpClass writes it to
    cls.exp in a fresh cls.tmp, runs it into cls.ref and keeps
    results_contents of it in cls.want."""
    EXPERIMENT = None
    NAME = "experiment"

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="nnlab_%s_" % cls.NAME)
        cls.exp = os.path.join(cls.tmp, cls.NAME + ".yaml")
        with open(cls.exp, "w") as f:
            f.write(cls.EXPERIMENT)
        cls.ref = os.path.join(cls.tmp, "reference")
        r = subprocess.run([os.environ["NNLAB"], "run", cls.exp, "-o", cls.ref, "-j", "1", "--quiet"],
                           capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stderr
        cls.want = results_contents(os.path.join(cls.ref, "results.h5"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def assertSameAsReference(self, results):
        """results (a results.h5) holds exactly the reference run's contents."""
        got = results_contents(results)
        self.assertEqual(sorted(got), sorted(self.want))
        for k in self.want:
            self.assertEqual(got[k], self.want[k], k)
