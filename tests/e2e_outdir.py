"""Integrity of the output folder (issue 25's red-team findings, each one a
test): one owner at a time (a lock; shards of one count side by side), run
files that prove their content and origin (checksum, fingerprint, run
identity, data hash) and are moved aside when they do not, --force that
removes only what nnlab wrote, and resource limits that are messages. Ends
with a stress test: concurrent --resume and merge on one folder never exit
0 with bits other than the reference's."""
import glob
import os
import random
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

import h5py

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nnlab_testing import ReferenceRun, results_contents, run_files  # noqa: E402

NNLAB = os.environ["NNLAB"]
SANITIZED = os.environ.get("NNLAB_SANITIZED") == "1"

EXPERIMENT = """name: owner
dataset: {validation_fraction: 0.2}
model: {hidden: [24]}
training: {epochs: 3, batch_size: 4, learning_rate: 0.05}
grid:
  model.activation: [sigmoid, relu]
seeds: [1, 2, 3, 4, 5, 6]
"""
# long enough to be caught running (about a second a run)
SLOW = """name: slow
model: {hidden: [256, 256]}
training: {epochs: 60, batch_size: 1}
seeds: [1, 2]
"""


def nnlab(*args, env=None, limits=None, timeout=600):
    def preexec():
        for what, value in (limits or {}).items():
            resource.setrlimit(what, (value, value))
    return subprocess.run([NNLAB, *[str(a) for a in args]], capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, **(env or {})), preexec_fn=preexec if limits else None)


def start(*args, env=None):
    return subprocess.Popen([NNLAB, *[str(a) for a in args]], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=dict(os.environ, **(env or {})))


def listing(folder):
    """Every path under folder with its bytes (symlinks as their target)."""
    out = {}
    for root, dirs, files in os.walk(folder):
        for name in files + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
            p = os.path.join(root, name)
            out[os.path.relpath(p, folder)] = os.readlink(p) if os.path.islink(p) else open(p, "rb").read()
    return out


def stopped(pid):
    """Whether process pid is stopped (SIGSTOP): its state in /proc."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "T"
    except OSError:
        return False


def wait_until(pred, seconds=60):
    deadline = time.time() + seconds
    while not pred() and time.time() < deadline:
        time.sleep(0.01)
    return pred()


class Owner(ReferenceRun):
    EXPERIMENT = EXPERIMENT
    NAME = "owner"

    def slow_exp(self):
        path = os.path.join(self.tmp, "slow.yaml")
        with open(path, "w") as f:
            f.write(SLOW)
        return path

    def test_a_second_process_on_a_folder_in_use_is_refused(self):
        out = os.path.join(self.tmp, "busy")
        first = start("run", self.slow_exp(), "-o", out, "-j", "1", "--quiet")
        try:
            self.assertTrue(wait_until(lambda: os.path.exists(os.path.join(out, "experiment.yaml"))))
            host = socket.gethostname()
            for args in (("run", self.slow_exp(), "-o", out, "--resume"), ("merge", out),
                         ("run", self.slow_exp(), "-o", out, "--force"), ("run", self.exp, "-o", out, "--resume"),
                         ("run", self.slow_exp(), "-o", out, "--shard", "0/2")):
                r = nnlab(*args)
                self.assertEqual(r.returncode, 1, (args, r.stderr))
                self.assertIn("is in use by another nnlab process (pid %d on %s)" % (first.pid, host), r.stderr)
            r = nnlab("summary", out)  # readers take no lock
            self.assertEqual(r.returncode, 0, r.stderr)
        finally:
            first.send_signal(signal.SIGTERM)
            first.communicate(timeout=60)
        self.assertEqual(first.returncode, 130)

    def test_two_experiments_started_into_one_folder_at_once(self):
        other = os.path.join(self.tmp, "other.yaml")
        with open(other, "w") as f:
            f.write(EXPERIMENT.replace("learning_rate: 0.05", "learning_rate: 0.5"))
        for k in range(5):
            out = os.path.join(self.tmp, "race%d" % k)
            procs = [start("run", e, "-o", out, "-j", "1", "--quiet") for e in (self.exp, other)]
            codes = [p.wait(timeout=600) for p in procs]
            self.assertEqual(sorted(codes)[0], 0, codes)
            self.assertIn(sorted(codes)[1], (1, 2), codes)  # in use, or not empty
            with h5py.File(os.path.join(out, "results.h5"), "r") as f:
                winner = f.attrs["fingerprint"]
                for name in f["runs"]:
                    self.assertEqual(f["runs"][name].attrs["fingerprint"], winner)

    def test_shards_of_another_count_or_the_same_shard_twice_are_refused(self):
        out = os.path.join(self.tmp, "shards")
        slow = self.slow_exp()
        first = start("run", slow, "-o", out, "--shard", "0/2", "-j", "1", "--quiet")
        try:
            self.assertTrue(wait_until(lambda: os.path.exists(os.path.join(out, "experiment.yaml"))))
            r = nnlab("run", slow, "-o", out, "--shard", "0/3")
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn("shard 0/2 (pid %d" % first.pid, r.stderr)
            self.assertIn("every shard of one folder takes the same N", r.stderr)
            r = nnlab("run", slow, "-o", out, "--shard", "0/2")
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn("shard 0/2 of %s is in use by another nnlab process (pid %d" % (out, first.pid), r.stderr)
            # another shard with other settings: another experiment, refused
            r = nnlab("run", slow, "-o", out, "--shard", "1/2", "training.learning_rate=0.5")
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("the experiment differs from the one it holds", r.stderr)
        finally:
            first.send_signal(signal.SIGTERM)
            first.communicate(timeout=60)

    def test_damaged_foreign_and_misplaced_run_files_are_rejected_and_rerun(self):
        out = os.path.join(self.tmp, "damaged")
        shutil.copytree(self.ref, out)
        other = os.path.join(self.tmp, "foreign")
        r = nnlab("run", self.exp, "-o", other, "--quiet", "training.epochs=2")
        self.assertEqual(r.returncode, 0, r.stderr)
        runs = os.path.join(out, "runs")
        # 64 bytes of r3's first-layer weights changed; r5 from another experiment; r7 holds r8
        with h5py.File(os.path.join(runs, "r000003.h5"), "r") as f:
            offset = f["run/weights/layer0/W"].id.get_offset()
        with open(os.path.join(runs, "r000003.h5"), "r+b") as f:
            f.seek(offset + 100)
            f.write(bytes(random.Random(3).randrange(256) for _ in range(64)))
        shutil.copy(os.path.join(other, "runs", "r000005.h5"), os.path.join(runs, "r000005.h5"))
        shutil.copy(os.path.join(runs, "r000008.h5"), os.path.join(runs, "r000007.h5"))
        r = nnlab("merge", out)
        self.assertEqual(r.returncode, 1, r.stderr)
        for run, why in ((3, "damaged: its contents do not match its checksum"), (5, "from another experiment"),
                         (7, "holds run 8 (config 1, seed 3, fold 0), not run 7")):
            self.assertIn("r%06d.h5 (%s" % (run, why), r.stderr)
            self.assertTrue(os.path.exists(os.path.join(runs, "rejected", "r%06d.h5" % run)))
        self.assertIn("merged 9 of 12 runs", r.stderr)
        with h5py.File(os.path.join(out, "results.h5"), "r") as f:
            self.assertEqual(sorted(f["runs"]), ["r%06d" % i for i in range(12) if i not in (3, 5, 7)])
        r = nnlab("run", self.exp, "-o", out, "--resume", "--quiet")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertSameAsReference(os.path.join(out, "results.h5"))
        self.assertEqual(len(os.listdir(os.path.join(runs, "rejected"))), 3)  # kept, never deleted

    def test_random_damage_is_never_accepted(self):
        """64 bytes changed at a random place of a run file: --resume either
        reruns the run (the bits of the reference) or fails; never exit 0
        with other bits."""
        rng = random.Random(25)
        for k in range(12):
            out = os.path.join(self.tmp, "random%d" % k)
            shutil.copytree(self.ref, out)
            os.remove(os.path.join(out, "results.h5"))
            path = os.path.join(out, "runs", "r%06d.h5" % rng.randrange(12))
            size = os.path.getsize(path)
            at = rng.randrange(size - 64)
            with open(path, "r+b") as f:
                f.seek(at)
                old = f.read(64)
                new = bytes(b ^ (1 + rng.randrange(255)) for b in old)
                f.seek(at)
                f.write(new)
            r = nnlab("run", self.exp, "-o", out, "--resume", "--quiet")
            if r.returncode == 0:
                self.assertSameAsReference(os.path.join(out, "results.h5"))
            shutil.rmtree(out)

    def test_a_run_file_replaced_after_its_commit_fails_the_run(self):
        out = os.path.join(self.tmp, "replaced")
        p = start("run", self.exp, "-o", out, "-j", "1", "--quiet",
                  env={"NNLAB_CRASH_AT": "committed:11", "NNLAB_CRASH_SIGNAL": "STOP"})
        try:
            self.assertTrue(wait_until(lambda: stopped(p.pid)))  # at its crash point: r11 committed, no merge yet
            self.assertTrue(os.path.exists(os.path.join(out, "runs", "r000011.h5")))
            with open(os.path.join(out, "runs", "r000004.h5"), "wb") as f:
                f.write(b"junk" * 1000)
        finally:
            p.send_signal(signal.SIGCONT)
        _, err = p.communicate(timeout=600)
        self.assertEqual(p.returncode, 1, err)
        self.assertIn("results.h5 lacks 1 run whose file was damaged or replaced after it was written: r000004.h5",
                      err)
        r = nnlab("run", self.exp, "-o", out, "--resume", "--quiet")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertSameAsReference(os.path.join(out, "results.h5"))

    def test_a_sigkill_before_experiment_yaml_resumes(self):
        # the state a SIGKILL before the first rename leaves (nnlab 0.3 layout: no marker)
        out = os.path.join(self.tmp, "early-kill")
        os.makedirs(os.path.join(out, "runs"))
        with open(os.path.join(out, "experiment.yaml.tmp.4242"), "w") as f:
            f.write("name: half")
        r = nnlab("run", self.exp, "-o", out, "--resume", "--quiet")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertSameAsReference(os.path.join(out, "results.h5"))
        self.assertFalse(os.path.exists(os.path.join(out, "experiment.yaml.tmp.4242")))


    def test_a_folder_of_another_version_is_neither_resumed_nor_merged(self):
        out = os.path.join(self.tmp, "old")
        shutil.copytree(self.ref, out)
        with open(os.path.join(out, "experiment.yaml")) as f:
            text = f.read()
        with open(os.path.join(out, "experiment.yaml"), "w") as f:
            f.write(re.sub(r"^# nnlab [0-9.]+:", "# nnlab 0.3.0:", text))
        before = listing(out)
        for args in (("run", self.exp, "-o", out, "--resume"), ("merge", out)):
            r = nnlab(*args)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("it was written by nnlab 0.3.0, whose splits, selection and results format differ", r.stderr)
        after = listing(out)
        after.pop(".nnlab.lock", None)
        before.pop(".nnlab.lock", None)
        self.assertEqual(after, before)  # nothing moved aside, nothing rewritten


class Force(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="nnlab_force_")
        self.exp = os.path.join(self.tmp, "e.yaml")
        with open(self.exp, "w") as f:
            f.write("model: {hidden: [8]}\ntraining: {epochs: 1}\nseeds: [1, 2]\n")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def test_a_folder_nnlab_did_not_make_is_never_cleared(self):
        out = os.path.join(self.tmp, "mine")
        os.makedirs(os.path.join(out, "runs"))
        for name, text in (("experiment.yaml", "my notes"), ("results.h5", "my data"),
                           ("runs/reference.h5", "ref"), ("runs/raw_2023.h5", "raw"), ("runs/r-old.h5.tmp", "old"),
                           ("experiment.yaml.tmp.bak", "bak"), ("runs/r000000.h5", "looks like nnlab's")):
            with open(os.path.join(out, name), "w") as f:
                f.write(text)
        before = listing(out)
        r = nnlab("run", self.exp, "-o", out, "--force")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("not a folder nnlab made (it has no .nnlab-output marker)", r.stderr)
        self.assertIn("nothing here was deleted", r.stderr)
        after = listing(out)
        after.pop(".nnlab.lock", None)
        self.assertEqual(after, before)

    def test_force_removes_only_nnlab_names_and_never_through_a_symlink(self):
        out = os.path.join(self.tmp, "out")
        r = nnlab("run", self.exp, "-o", out, "--quiet")
        self.assertEqual(r.returncode, 0, r.stderr)
        mine = {"notes.txt": "mine", "runs/reference.h5": "ref", "runs/r-old.h5.tmp": "old",
                "experiment.yaml.tmp.bak": "bak", "runs/r12.h5": "not nnlab's spelling"}
        for name, text in mine.items():
            with open(os.path.join(out, name), "w") as f:
                f.write(text)
        r = nnlab("run", self.exp, "-o", out, "--force", "--quiet", "seeds=[3]")
        self.assertEqual(r.returncode, 0, r.stderr)
        for name, text in mine.items():
            with open(os.path.join(out, name)) as f:
                self.assertEqual(f.read(), text, name)
        self.assertFalse(os.path.exists(os.path.join(out, "runs", "r000001.h5")))  # the old experiment's run 1
        # runs/ a symlink to a folder of precious files: refused, nothing deleted or written there
        precious = os.path.join(self.tmp, "precious")
        os.makedirs(precious)
        with open(os.path.join(precious, "r000000.h5"), "w") as f:
            f.write("precious")
        shutil.rmtree(os.path.join(out, "runs"))
        os.symlink(precious, os.path.join(out, "runs"))
        for extra in (["--force"], ["--resume"]):
            r = nnlab("run", self.exp, "-o", out, *extra)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("runs is a symbolic link", r.stderr)
        self.assertEqual(listing(precious), {"r000000.h5": b"precious"})


class Limits(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="nnlab_limits_")
        self.exp = os.path.join(self.tmp, "e.yaml")
        with open(self.exp, "w") as f:
            f.write("model: {hidden: [64]}\ntraining: {epochs: 1}\nseeds: {count: 6, start: 1}\n")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def test_a_file_size_limit_during_the_merge_is_a_message(self):
        out = os.path.join(self.tmp, "fsize")
        r = nnlab("run", self.exp, "-o", out, "--quiet")
        self.assertEqual(r.returncode, 0, r.stderr)
        runs = listing(os.path.join(out, "runs"))
        size = os.path.getsize(os.path.join(out, "results.h5"))  # it links to the run files: smaller than one
        os.remove(os.path.join(out, "results.h5"))
        r = nnlab("merge", out, limits={resource.RLIMIT_FSIZE: size // 2})  # results.h5 does not fit
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("results.h5.tmp: cannot write: File too large", r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        self.assertFalse(os.path.exists(os.path.join(out, "results.h5.tmp")))
        self.assertEqual(listing(os.path.join(out, "runs")), runs)

    @unittest.skipIf(SANITIZED, "AddressSanitizer needs terabytes of address space")
    def test_an_address_space_limit_is_a_message_not_a_hang(self):
        t0 = time.time()
        r = nnlab("run", self.exp, "-o", os.path.join(self.tmp, "as"), limits={resource.RLIMIT_AS: 200 << 20},
                  timeout=60)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("address-space limit (ulimit -v)", r.stderr)
        self.assertLess(time.time() - t0, 10)

    def test_sigterm_is_obeyed_within_two_seconds(self):
        slow = os.path.join(self.tmp, "slow.yaml")
        with open(slow, "w") as f:
            f.write(SLOW)
        out = os.path.join(self.tmp, "term")
        p = start("run", slow, "-o", out, "-j", "2")
        self.assertTrue(wait_until(lambda: os.path.exists(os.path.join(out, "experiment.yaml"))))
        time.sleep(0.5)
        t0 = time.time()
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=60)
        self.assertLess(time.time() - t0, 2.0, err)
        self.assertEqual(p.returncode, 130, err)
        self.assertTrue(os.path.exists(os.path.join(out, "results.h5")))

    def test_disk_full_during_the_merge(self):
        """A real full disk: a small tmpfs in a mount namespace of its own
        (skipped where this machine cannot make one)."""
        probe = subprocess.run(["unshare", "-m", "--propagation", "private", "true"], capture_output=True)
        if probe.returncode != 0:
            self.skipTest("cannot make a mount namespace here: %s" % probe.stderr.decode().strip())
        out = os.path.join(self.tmp, "full")
        r = nnlab("run", self.exp, "-o", out, "--quiet")
        self.assertEqual(r.returncode, 0, r.stderr)
        merged = os.path.getsize(os.path.join(out, "results.h5"))  # it links to the run files: a few pages
        os.remove(os.path.join(out, "results.h5"))
        pages = lambda n: -(-n // 4096) * 4096  # noqa: E731
        need = sum(pages(os.path.getsize(os.path.join(root, name))) for root, _, names in os.walk(out) for name in names)
        mnt = os.path.join(self.tmp, "mnt")
        os.makedirs(mnt)
        script = ("mount -t tmpfs -o size=%d tmpfs %s && cp -a %s %s/full && %s merge %s/full; echo rc=$?; "
                  "ls -a %s/full" % (need + pages(merged // 2), mnt, out, mnt, NNLAB, mnt, mnt))
        r = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script], capture_output=True,
                           text=True, timeout=300)
        if "rc=" not in r.stdout:
            self.skipTest("cannot mount a tmpfs here: %s" % r.stderr.strip())
        self.assertIn("rc=1", r.stdout, r.stdout + r.stderr)
        self.assertIn("results.h5.tmp: cannot write: No space left on device", r.stderr)
        self.assertNotIn("results.h5.tmp\n", r.stdout)  # nothing left behind


class Stress(ReferenceRun):
    EXPERIMENT = EXPERIMENT
    NAME = "stress"

    def test_concurrent_resumes_and_merges_never_accept_other_bits(self):
        refused = 0
        for k in range(20):
            out = os.path.join(self.tmp, "round%d" % k)
            shutil.copytree(self.ref, out)
            for p in run_files(out)[k % 4::3]:
                os.remove(p)
            os.remove(os.path.join(out, "results.h5"))
            procs = [start("run", self.exp, "-o", out, "--resume", "-j", "1", "--quiet")]
            time.sleep(0.001 * k)
            procs.append(start("run", self.exp, "-o", out, "--resume", "-j", "1", "--quiet"))
            merges = []
            while procs[0].poll() is None or procs[1].poll() is None:
                merges.append(nnlab("merge", out).returncode)
            codes = []
            for p in procs:
                p.communicate()
                codes.append(p.returncode)
            for code in codes + merges:
                self.assertIn(code, (0, 1), (codes, merges))
            refused += codes.count(1)
            if 0 not in codes:  # both found the folder in use (a merge of the loop had it): once more, alone
                self.assertEqual(nnlab("run", self.exp, "-o", out, "--resume", "--quiet").returncode, 0)
            self.assertSameAsReference(os.path.join(out, "results.h5"))
            shutil.rmtree(out)
        self.assertGreater(refused, 0)  # the race was there to be lost


if __name__ == "__main__":
    unittest.main()
