"""MPI (an MPI build): `mpirun -np 3 nnlab run ... -j 2` writes the same run
files and results.h5 as one process, bit for bit; when a worker rank dies,
rank 0 names the runs that did not finish and the job exits non-zero, and
--resume completes them. Successive halving and Hyperband on 3 ranks prune
the same runs and write the same bits as -j 1, also after a SIGKILL
mid-search (rank 0, or a worker rank) and an mpirun --resume."""
import glob
import os
import signal
import subprocess
import unittest

import h5py
import numpy as np

from nnlab_testing import HALVING_SEARCH, ReferenceRun, run_files, wait_for_runs

NNLAB = os.environ["NNLAB"]
MPIRUN = os.environ["MPIRUN"]
EXPERIMENT = """name: mpi
model: {hidden: [48], dropout: 0.2}
training: {epochs: 4, batch_size: 4, learning_rate: 0.05, shuffle: true}
grid:
  model.activation: [sigmoid, relu]
  training.optimizer: [momentum, adam]  # the optimizer's state is the run's, whatever rank trains it
seeds: {count: 4, start: 1}
"""


def mpirun(np, *args):
    root = ["--allow-run-as-root"] if os.geteuid() == 0 else []
    # When a rank dies, OpenMPI's mpirun sends SIGCONT, waits this many seconds, sends SIGTERM, and
    # SIGKILL a few ms later with the default of 1 (about a second later from 2 on): rank 0 needs
    # that second to list the runs not finished on a loaded machine (README, "Running on a cluster").
    sigkill = ["--mca", "odls_base_sigkill_timeout", "2"]
    return [MPIRUN, *root, "--oversubscribe", *sigkill, "-np", str(np), NNLAB, *args]


def rank_of(pid):
    try:
        with open("/proc/%d/environ" % pid, "rb") as f:
            env = dict(kv.split(b"=", 1) for kv in f.read().split(b"\0") if b"=" in kv)
        return int(env.get(b"OMPI_COMM_WORLD_RANK", b"-1"))
    except OSError:
        return -1


class Mpi(ReferenceRun):
    EXPERIMENT = EXPERIMENT
    NAME = "mpi"

    def test_three_ranks_give_the_bits_of_one_process(self):
        out = os.path.join(self.tmp, "three")
        r = subprocess.run(mpirun(3, "run", self.exp, "-o", out, "-j", "2"), capture_output=True, text=True,
                           timeout=600)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("16 runs done", r.stderr)
        self.assertSameAsReference(os.path.join(out, "results.h5"))

    def test_an_experiment_grown_by_seeds_resumed_on_three_ranks(self):
        # seeds 1 and 2 in one process; then the experiment's four seeds on three ranks: rank 0 renumbers
        # the 8 finished runs (docs/experiments.md, "Growing an experiment") and hands out the other 8
        out = os.path.join(self.tmp, "grown")
        r = subprocess.run([NNLAB, "run", self.exp, "-o", out, "seeds=1,2", "--quiet"], capture_output=True,
                           text=True, timeout=600)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = subprocess.run(mpirun(3, "run", self.exp, "-o", out, "--resume", "-j", "1"), capture_output=True,
                           text=True, timeout=600)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("the experiment grew from 8 to 16 runs; its 8 finished runs are kept", r.stderr)
        self.assertIn("resuming: 8 runs already done, 8 to run", r.stderr)
        self.assertSameAsReference(os.path.join(out, "results.h5"))

    def test_a_run_committed_as_the_job_ends_is_not_listed(self):
        # mpirun's SIGTERM just after rank 0 renamed run 2's file into place, before it noted the run
        # as saved: that run is finished, so the list of runs not finished leaves it out.
        out = os.path.join(self.tmp, "committed")
        env = dict(os.environ, NNLAB_CRASH_AT="committed:2", NNLAB_CRASH_SIGNAL="TERM")
        r = subprocess.run(mpirun(3, "run", self.exp, "-o", out, "-j", "1"), capture_output=True, text=True,
                           timeout=600, env=env)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("runs not finished:", r.stderr)
        missing = r.stderr.split("runs not finished:")[1].split("\n")[0].split()
        done = {os.path.basename(f)[:7] for f in run_files(out)}
        self.assertIn("r000002", done)
        self.assertNotIn("r000002", missing)
        self.assertFalse(done & set(missing))
        self.assertEqual(len(done) + len(missing), 16, r.stderr)

    def test_a_dead_rank_is_reported_and_resume_completes(self):
        out = os.path.join(self.tmp, "dead")
        # Runs long enough that the surviving worker cannot finish them all in the second mpirun waits
        # between noticing the dead rank and its SIGTERM (0.1 to 0.2 s each, 45 left).
        slower = ["seeds={count: 12, start: 1}", "model.hidden=[200]", "training.batch_size=1", "training.epochs=40"]
        p = subprocess.Popen(mpirun(3, "run", self.exp, "-o", out, "-j", "1", *slower),
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        wait_for_runs(out, 3, p)
        workers = [int(x) for x in subprocess.run(["pgrep", "-f", "^" + NNLAB + " run"], capture_output=True,
                                                   text=True).stdout.split()]
        workers = [pid for pid in workers if rank_of(pid) > 0]
        self.assertTrue(workers, "no worker rank found to kill")
        os.kill(workers[0], signal.SIGKILL)
        _, err = p.communicate(timeout=300)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("runs not finished:", err)
        missing = err.split("runs not finished:")[1].split("\n")[0].split()
        self.assertTrue(missing and all(m.startswith("r") for m in missing), err)
        done = {os.path.basename(f)[:7] for f in run_files(out)}
        self.assertFalse(done & set(missing))
        self.assertEqual(len(done) + len(missing), 48)
        r = subprocess.run([NNLAB, "run", self.exp, "-o", out, "--resume", "-j", "2", *slower],
                           capture_output=True, text=True, timeout=600)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(run_files(out)), 48)
        self.assertEqual(glob.glob(os.path.join(out, "runs", "*.tmp")), [])


class MpiFolds(ReferenceRun):
    """Cross-validation, early stopping and the selected epoch's weights travel
    from the worker ranks to rank 0 whole: the same bits as one process."""
    EXPERIMENT = """name: mpi-folds
dataset: {folds: 3, scale: standard}
model: {hidden: [24], dropout: 0.1}
training: {epochs: 6, batch_size: 1, learning_rate: 0.05, shuffle: true, select: val_acc,
           early_stopping: {patience: 1, min_delta: 0.0}}
grid:
  model.activation: [tanh, relu]
seeds: {count: 2, start: 1}
"""
    NAME = "mpi_folds"

    def test_three_ranks_give_the_bits_of_one_process(self):
        out = os.path.join(self.tmp, "three")
        r = subprocess.run(mpirun(3, "run", self.exp, "-o", out, "-j", "2"), capture_output=True, text=True,
                           timeout=600)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("12 runs done", r.stderr)
        self.assertSameAsReference(os.path.join(out, "results.h5"))
        self.assertTrue(any(k.startswith("runs/") and "/best/" in k for k in self.want))


def run_files_contents(out):
    """{file/name: bytes} of every dataset and attribute of every run file in
    out/runs, but the timings (seconds, train_seconds) and the checksum that
    covers them."""
    got = {}
    for path in run_files(out):
        name = os.path.basename(path)
        with h5py.File(path, "r") as f:
            def visit(n, o):
                for k, v in o.attrs.items():
                    if k not in ("seconds", "train_seconds", "checksum"):
                        got["%s/%s@%s" % (name, n, k)] = np.asarray(v).tobytes()
                if isinstance(o, h5py.Dataset):
                    got["%s/%s" % (name, n)] = o[()].tobytes()
            visit("", f)
            f.visititems(visit)
    return got


HALVING = "name: mpi-halving\n" + HALVING_SEARCH


class RungSearch(ReferenceRun):
    """A search in rungs whose runs travel between rank 0 (the schedule, the
    paused states, the files) and the worker ranks: the same bits in every
    run file and in results.h5 as -j 1 in one process."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.want_runs = run_files_contents(cls.ref)

    def assertSameAsOneProcess(self, out):
        self.assertSameAsReference(os.path.join(out, "results.h5"))
        got = run_files_contents(out)
        self.assertEqual(sorted(got), sorted(self.want_runs))
        for k in self.want_runs:
            self.assertEqual(got[k], self.want_runs[k], k)


class MpiHalving(RungSearch):
    EXPERIMENT = HALVING
    NAME = "mpi_halving"

    def test_three_ranks_give_the_bits_of_one_process(self):
        out = os.path.join(self.tmp, "three")
        r = subprocess.run(mpirun(3, "run", self.exp, "-o", out, "-j", "2"), capture_output=True, text=True,
                           timeout=600)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("14 runs done", r.stderr)
        self.assertSameAsOneProcess(out)
        with h5py.File(os.path.join(out, "results.h5"), "r") as f:  # 7, 3 and 1 trials at rungs 0, 1, 2
            rungs = sorted(int(r) for r in f["summary"]["rung"])
        self.assertEqual(rungs, [0] * 8 + [1] * 4 + [2] * 2)

    def test_rank_0_killed_mid_search_and_resumed(self):
        # SIGKILL of rank 0 right after it wrote run 4's file paused at rung 1 (rung 0 decided, rung 1
        # half done), then mpirun --resume: the paused states come back from the run files
        out = os.path.join(self.tmp, "killed")
        env = dict(os.environ, NNLAB_CRASH_AT="rung1:4")
        r = subprocess.run(mpirun(3, "run", self.exp, "-o", out, "-j", "1", "--quiet"), capture_output=True,
                           text=True, timeout=600, env=env)
        self.assertNotEqual(r.returncode, 0)
        self.assertFalse(os.path.exists(os.path.join(out, "results.h5")))
        r = subprocess.run(mpirun(3, "run", self.exp, "-o", out, "--resume", "-j", "2"), capture_output=True,
                           text=True, timeout=600)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertSameAsOneProcess(out)


class MpiHalvingDeadRank(RungSearch):
    """As e2e_mpi kills a job: SIGKILL a worker rank once rung 0 is written;
    rank 0 names the runs not closed, and mpirun --resume completes the
    search with the bits of one process."""
    EXPERIMENT = HALVING.replace("hidden: [12]", "hidden: [200]").replace("batch_size: 16", "batch_size: 1")
    NAME = "mpi_halving_dead"

    def test_a_dead_worker_rank_and_resume(self):
        out = os.path.join(self.tmp, "dead")
        p = subprocess.Popen(mpirun(3, "run", self.exp, "-o", out, "-j", "1"), stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
        wait_for_runs(out, 14, p)  # every run paused at rung 0: rungs 1 and 2 (24 epochs) to go
        workers = [int(x) for x in subprocess.run(["pgrep", "-f", "^" + NNLAB + " run"], capture_output=True,
                                                   text=True).stdout.split()]
        workers = [pid for pid in workers if rank_of(pid) > 0]
        self.assertTrue(workers, "no worker rank found to kill")
        os.kill(workers[0], signal.SIGKILL)
        _, err = p.communicate(timeout=300)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("runs not finished:", err)
        missing = err.split("runs not finished:")[1].split("\n")[0].split()
        self.assertTrue(missing and all(m.startswith("r") for m in missing), err)
        r = subprocess.run(mpirun(3, "run", self.exp, "-o", out, "--resume", "-j", "1"), capture_output=True,
                           text=True, timeout=600)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(glob.glob(os.path.join(out, "runs", "*.tmp")), [])
        self.assertSameAsOneProcess(out)


class MpiHyperband(RungSearch):
    EXPERIMENT = """name: mpi-hyperband
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
    NAME = "mpi_hyperband"

    def test_three_ranks_give_the_bits_of_one_process(self):
        out = os.path.join(self.tmp, "three")
        r = subprocess.run(mpirun(3, "run", self.exp, "-o", out, "-j", "2"), capture_output=True, text=True,
                           timeout=600)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("17 runs done", r.stderr)
        self.assertSameAsOneProcess(out)


if __name__ == "__main__":
    unittest.main(verbosity=2)
