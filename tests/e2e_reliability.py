"""Reliability: no finished run is ever lost. SIGKILL at several points
(during training, during a run-file write, during the merge) then --resume
gives results bit-identical to an uninterrupted run; SIGINT exits 130 with a
valid results.h5 and --resume completes it; a file size limit (disk full)
exits 1 with the earlier runs intact; a damaged run file is named by merge
and run again by --resume; --fail-fast and the default keep-going
behaviour; --resume refuses another experiment."""
import glob
import os
import resource
import shutil
import signal
import subprocess
import tempfile
import unittest

import h5py

from nnlab_testing import ReferenceRun, results_contents as contents, run_files

NNLAB = os.environ["NNLAB"]
SANITIZED = os.environ.get("NNLAB_SANITIZED") == "1"

# 12 short runs. The kills and Ctrl-Cs that must land mid-experiment are sent by nnlab itself at
# fixed points (NNLAB_CRASH_AT, src/nnlab.h): sent from outside, they raced the last runs.
EXPERIMENT = """name: crash
model: {hidden: [48]}
training: {epochs: 3, batch_size: 4, learning_rate: 0.05}
grid:
  model.activation: [sigmoid, relu]
  training.shuffle: [false, true]
seeds: [1, 2, 3]
"""


def nnlab(*args, env=None, limits=None):
    def preexec():
        for what, value in (limits or {}).items():
            resource.setrlimit(what, (value, value))
    return subprocess.run([NNLAB, *args], capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, **(env or {})), preexec_fn=preexec if limits else None)


class Crash(ReferenceRun):
    EXPERIMENT = EXPERIMENT
    NAME = "crash"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        assert len([k for k in cls.want if k.startswith("runs/") and k.endswith("/W")]) == 12 * 2 * 2

    def resume_and_compare(self, out, expect_done=None):
        r = nnlab("run", self.exp, "-o", out, "--resume", "-j", "2")
        self.assertEqual(r.returncode, 0, r.stderr)
        if expect_done is not None:
            self.assertIn("resuming: %d runs already done, %d to run" % (expect_done, 12 - expect_done), r.stderr)
        self.assertEqual(glob.glob(os.path.join(out, "**", "*.tmp"), recursive=True), [])
        self.assertSameAsReference(os.path.join(out, "results.h5"))
        r = nnlab("run", self.exp, "-o", out, "--resume")  # a finished experiment: merged again, nothing run
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("nothing to run: all 12 runs were done", r.stderr)
        self.assertNotIn("runs/s", r.stderr)
        self.assertSameAsReference(os.path.join(out, "results.h5"))

    def test_kill_during_training(self):
        # SIGKILL while run 8 is training (it has done one epoch of three) and the other thread
        # another run. A kill from outside "once 3 runs are done" raced the last runs on a busy
        # machine: all 12 could finish before it landed.
        out = os.path.join(self.tmp, "kill-training")
        r = nnlab("run", self.exp, "-o", out, "-j", "2", "--quiet", env={"NNLAB_CRASH_AT": "train:8"})
        self.assertEqual(r.returncode, -signal.SIGKILL)
        self.assertFalse(os.path.exists(os.path.join(out, "runs", "r000008.h5")))
        done = len(run_files(out))
        self.assertLess(done, 12)
        for path in run_files(out):  # every finished run file is complete
            with h5py.File(path, "r") as f:
                self.assertIn("weights/layer1/W", f["run"])
        self.assertFalse(os.path.exists(os.path.join(out, "results.h5")))
        self.resume_and_compare(out, expect_done=done)

    def test_kill_during_run_file_write(self):
        out = os.path.join(self.tmp, "kill-write")
        r = nnlab("run", self.exp, "-o", out, "-j", "1", "--quiet", env={"NNLAB_CRASH_AT": "write:5"})
        self.assertEqual(r.returncode, -signal.SIGKILL)
        self.assertTrue(os.path.exists(os.path.join(out, "runs", "r000005.h5.tmp")))
        self.assertEqual(len(run_files(out)), 5)  # r0..r4: the half-written r5 is only a .tmp
        self.resume_and_compare(out, expect_done=5)

    def test_kill_during_merge(self):
        out = os.path.join(self.tmp, "kill-merge")
        r = nnlab("run", self.exp, "-o", out, "-j", "2", "--quiet", env={"NNLAB_CRASH_AT": "merge:7"})
        self.assertEqual(r.returncode, -signal.SIGKILL)
        # results.h5 is built in memory and written in one piece: a kill while merging leaves no file at all
        self.assertFalse(os.path.exists(os.path.join(out, "results.h5.tmp")))
        self.assertFalse(os.path.exists(os.path.join(out, "results.h5")))
        self.assertEqual(len(run_files(out)), 12)
        self.resume_and_compare(out, expect_done=12)

    def test_damaged_run_file_is_named_by_merge_and_rerun_by_resume(self):
        out = os.path.join(self.tmp, "damaged")
        r = nnlab("run", self.exp, "-o", out, "-j", "2", "--quiet")
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(out, "runs", "r000003.h5"), "wb") as f:  # say, a disk that lost it
            f.write(b"not an HDF5 file")
        r = nnlab("merge", out)
        self.assertEqual(r.returncode, 1)
        self.assertIn("1 run file failed verification, moved to runs/rejected/: r000003.h5 (not an HDF5 file, "
                      "or truncated)", r.stderr)
        self.assertIn("merged 11 of 12 runs; 1 run is missing or rejected: r000003 (nnlab run "
                      "%s/experiment.yaml -o %s --resume runs it)" % (out, out), r.stderr)
        with open(os.path.join(out, "runs", "rejected", "r000003.h5"), "rb") as f:  # kept, not deleted
            self.assertEqual(f.read(), b"not an HDF5 file")
        r = nnlab("run", os.path.join(out, "experiment.yaml"), "-o", out, "--resume")  # as the message says
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("resuming: 11 runs already done, 1 to run", r.stderr)
        self.assertSameAsReference(os.path.join(out, "results.h5"))

    def test_sigint_exits_130_and_resume_completes(self):
        out = os.path.join(self.tmp, "sigint")
        # Ctrl-C while run 4 trains (sent by the process itself at that point, so that it
        # cannot land after the last run): run 4 finishes, no other starts.
        r = nnlab("run", self.exp, "-o", out, "-j", "1",
                  env={"NNLAB_CRASH_AT": "train:4", "NNLAB_CRASH_SIGNAL": "INT"})
        self.assertEqual(r.returncode, 130, r.stderr)
        self.assertIn("no new runs start", r.stderr)
        self.assertIn("interrupted", r.stderr)
        done = len(run_files(out))
        self.assertEqual(done, 5)
        with h5py.File(os.path.join(out, "results.h5"), "r") as f:  # valid, and holds what finished
            self.assertEqual(len(f["summary"]), done)
            self.assertEqual(len(f["runs"]), done)
        self.resume_and_compare(out, expect_done=done)

    def test_second_sigint_stops_at_once(self):
        out = os.path.join(self.tmp, "sigint2")
        # the first Ctrl-C while run 2 trains (sent by the process itself), the second as soon as
        # it says it is stopping: killed at once, or exit 130 if the runs in flight beat it
        p = subprocess.Popen([NNLAB, "run", self.exp, "-o", out, "-j", "2", "--quiet"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True,
                             env=dict(os.environ, NNLAB_CRASH_AT="train:2", NNLAB_CRASH_SIGNAL="INT"))
        stderr = ""
        while "no new runs start" not in stderr and p.poll() is None:
            stderr += p.stderr.readline()
        p.send_signal(signal.SIGINT)
        stderr += p.communicate(timeout=300)[1]
        self.assertIn("no new runs start", stderr)
        self.assertIn(p.returncode, (-signal.SIGINT, 130))
        self.assertLess(len(run_files(out)), 12)
        for path in run_files(out):
            with h5py.File(path, "r") as f:
                self.assertIn("weights/layer1/W", f["run"])
        self.resume_and_compare(out)

    def test_resume_refuses_another_experiment(self):
        r = nnlab("run", self.exp, "-o", self.ref, "--resume", "training.learning_rate=0.1", "seeds=1,2")
        self.assertEqual(r.returncode, 2)
        self.assertIn("cannot resume", r.stderr)
        self.assertIn("  training.learning_rate: 0.05 -> 0.1\n", r.stderr)
        self.assertIn("  seeds: [1, 2, 3] -> [1, 2]\n", r.stderr)
        r = nnlab("run", self.exp, "-o", self.ref, "--resume", "--force")
        self.assertEqual(r.returncode, 2)
        self.assertEqual(contents(os.path.join(self.ref, "results.h5")), self.want)


class WriteFailures(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="nnlab_full_")
        self.exp = os.path.join(self.tmp, "grow.yaml")
        with open(self.exp, "w") as f:
            # two small runs first, then two whose run files exceed the limit
            f.write("model: {hidden: [8]}\ntraining: {epochs: 1, batch_size: 64}\n"
                    "grid: {model.hidden: [[8], [400]]}\nseeds: [1, 2]\n")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def test_file_size_limit_exits_1_and_keeps_earlier_runs(self):
        out = os.path.join(self.tmp, "out")
        r = nnlab("run", self.exp, "-o", out, "-j", "1", limits={resource.RLIMIT_FSIZE: 100 * 1024})
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("r000002.h5.tmp: cannot write: File too large", r.stderr)
        self.assertIn("finished run files are intact", r.stderr)
        self.assertEqual([os.path.basename(p) for p in run_files(out)], ["r000000.h5", "r000001.h5"])
        for path in run_files(out):
            with h5py.File(path, "r") as f:
                self.assertEqual(f["run/weights/layer0/W"].shape, (64, 8))
        self.assertFalse(os.path.exists(os.path.join(out, "results.h5")))
        self.assertEqual(glob.glob(os.path.join(out, "**", "*.tmp"), recursive=True), [])
        r = nnlab("run", self.exp, "-o", out, "--resume", "-j", "1")  # room again: the rest runs
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("resuming: 2 runs already done, 2 to run", r.stderr)
        with h5py.File(os.path.join(out, "results.h5"), "r") as f:
            self.assertEqual(len(f["summary"]), 4)

    @unittest.skipIf(SANITIZED, "AddressSanitizer reserves more address space than the limit")
    def test_failed_runs_keep_going_or_fail_fast(self):
        with open(self.exp, "w") as f:  # the second config point cannot allocate its 4.8 GB under a 2 GB limit
            f.write("model: {hidden: [8]}\ntraining: {epochs: 1, batch_size: 64}\n"
                    "grid: {model.hidden: [[8], [30000, 10000]]}\nseeds: [1, 2]\n")
        limit = {resource.RLIMIT_AS: 2 << 30}
        out = os.path.join(self.tmp, "keep-going")
        r = nnlab("run", self.exp, "-o", out, "-j", "1", limits=limit)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(r.stderr.count("failed: out of memory"), 2)
        self.assertIn("2 runs failed (see above); the 2 finished runs are in", r.stderr)
        with h5py.File(os.path.join(out, "results.h5"), "r") as f:
            self.assertEqual(list(f["summary"]["run"]), [0, 1])
        out = os.path.join(self.tmp, "fail-fast")
        r = nnlab("run", self.exp, "-o", out, "-j", "1", "--fail-fast", limits=limit)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(r.stderr.count("failed: out of memory"), 1)
        self.assertIn("--fail-fast stopped the experiment", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
