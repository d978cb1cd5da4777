"""Experiments that grow (DESIGN.md "Extending an experiment"): --resume
with more seeds, or more values on a grid axis, keeps every finished run
(renumbered to its new id, not trained again) and gives the bits of a fresh
run of the grown experiment, run files included; anything else, fewer seeds
or values included, is refused with exit 2 and the differences listed,
nothing written. A SIGKILL at every crash point of the renumbering, then
--resume (or merge, or the old experiment, or a second kill), loses no
finished run. Shards grow a folder too, but never under a running shard.
A random search grows with more trials the same way; a changed space is
refused."""
import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

import h5py
import numpy as np

from nnlab_testing import results_contents

NNLAB = os.environ["NNLAB"]

# 8 runs; tiny and batched, so each nnlab call takes a fraction of a second.
BASE = """name: grow
model: {hidden: [6]}
training: {epochs: 2, batch_size: 64, learning_rate: 0.1}
grid:
  model.activation: [sigmoid, relu]
  training.shuffle: [false, true]
seeds: [1, 2]
"""
SEEDS = BASE.replace("seeds: [1, 2]", "seeds: {count: 4, start: 1}")  # a count raised: 16 runs
VALUES = BASE.replace("[sigmoid, relu]", "[sigmoid, tanh, relu, leaky_relu]")  # inserted and appended: 16 runs
# 18 runs: runs 0 and 1 keep their ids, the other 6 move (2 -> 3, 3 -> 4, 4 -> 6, ... 7 -> 10)
BOTH = BASE.replace("[sigmoid, relu]", "[sigmoid, relu, tanh]").replace("seeds: [1, 2]", "seeds: [1, 2, 7]")
TIMINGS = ("seconds", "train_seconds", "checksum")


def nnlab(*args, env=None):
    return subprocess.run([NNLAB, *args], capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, **(env or {})))


def run_file_contents(path):
    """{name: bytes} of every dataset and attribute of a run file, but its timings and checksum."""
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                out[name] = obj[()].tobytes()
            for k, v in obj.attrs.items():
                if k not in TIMINGS:
                    out[name + "@" + k] = v if isinstance(v, str) else np.asarray(v).tobytes()
        visit("/", f)
        f.visititems(visit)
    return out


def kept(out):
    """{identity: seconds} of the run files in out/runs: which runs are there, and when each was trained."""
    got = {}
    for path in glob.glob(os.path.join(out, "runs", "r*.h5")):
        with h5py.File(path, "r") as f:
            got[f["run"].attrs["identity"]] = f["run"].attrs["seconds"]
    return got


def open_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def folder_bytes(out):
    """{name: bytes} of the files in out/runs."""
    return {n: open_bytes(os.path.join(out, "runs", n)) for n in os.listdir(os.path.join(out, "runs"))}


def resolved_without_output(path):
    with open(path) as f:
        return [line for line in f if not line.startswith("output:")]


class Grow(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="nnlab_grow_")
        cls.exp = {}
        for name, text in (("base", BASE), ("seeds", SEEDS), ("values", VALUES), ("both", BOTH)):
            cls.exp[name] = os.path.join(cls.tmp, name + ".yaml")
            with open(cls.exp[name], "w") as f:
                f.write(text)
            r = nnlab("run", cls.exp[name], "-o", cls.fresh(name), "-j", "2", "--quiet")
            assert r.returncode == 0, r.stderr
        cls.base_runs = kept(cls.fresh("base"))
        cls.want = {}
        assert len(cls.base_runs) == 8

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    @classmethod
    def fresh(cls, name):
        return os.path.join(cls.tmp, "fresh-" + name)

    def copy_of_base(self, name):
        out = os.path.join(self.tmp, name)
        shutil.copytree(self.fresh("base"), out, symlinks=True)
        return out

    def assertSameAsFresh(self, out, name):
        """out holds what a fresh run of the grown experiment writes, and every run of the base folder,
        not trained again."""
        fresh = self.fresh(name)
        if name not in self.want:  # read once: the crash tests compare against it two dozen times
            self.want[name] = (results_contents(os.path.join(fresh, "results.h5")),
                               {n: run_file_contents(os.path.join(fresh, "runs", n))
                                for n in os.listdir(os.path.join(fresh, "runs"))})
        results, runs = self.want[name]
        self.assertEqual(results_contents(os.path.join(out, "results.h5")), results)
        self.assertEqual(sorted(os.listdir(os.path.join(out, "runs"))), sorted(runs))  # no .tmp, no rejected/
        for n, contents in runs.items():
            self.assertEqual(run_file_contents(os.path.join(out, "runs", n)), contents, n)
        self.assertEqual(resolved_without_output(os.path.join(out, "experiment.yaml")),
                         resolved_without_output(os.path.join(fresh, "experiment.yaml")))
        self.assertEqual(sorted(n for n in os.listdir(out) if not n.startswith(".")),
                         ["experiment.yaml", "results.h5", "runs"])
        got = kept(out)
        for identity, seconds in self.base_runs.items():
            self.assertEqual(got.get(identity), seconds, "a finished run was lost or trained again")

    def grow(self, name, out, *more, env=None):
        return nnlab("run", self.exp[name], "-o", out, "--resume", "-j", "2", *more, env=env)

    # ---- the three cases ---------------------------------------------------------------

    def test_more_seeds(self):
        out = self.copy_of_base("seeds")
        r = self.grow("seeds", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("the experiment grew from 8 to 16 runs; its 8 finished runs are kept (6 under a new id)",
                      r.stderr)
        self.assertIn("resuming: 8 runs already done, 8 to run", r.stderr)
        self.assertSameAsFresh(out, "seeds")
        r = self.grow("seeds", out)  # grown: a plain resume now
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("nothing to run: all 16 runs were done", r.stderr)

    def test_more_values_on_an_axis_inserted_and_appended(self):
        out = self.copy_of_base("values")
        r = self.grow("values", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("grew from 8 to 16 runs; its 8 finished runs are kept (4 under a new id)", r.stderr)
        self.assertSameAsFresh(out, "values")

    def test_missing_and_damaged_runs_of_the_old_experiment(self):
        # run 5 never finished, run 6's file is damaged: the growth keeps the other 6, moves the damaged
        # file aside (never deleted), and both run again under their new ids (9 and 10)
        out = self.copy_of_base("holes")
        os.remove(os.path.join(out, "runs", "r000005.h5"))
        with open(os.path.join(out, "runs", "r000006.h5"), "wb") as f:
            f.write(b"not an HDF5 file")
        r = self.grow("values", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("1 run file failed verification, moved to runs/rejected/: r000006.h5 (not an HDF5 file, or "
                      "truncated)", r.stderr)
        self.assertIn("grew from 8 to 16 runs; its 6 finished runs are kept (2 under a new id)", r.stderr)
        self.assertIn("resuming: 6 runs already done, 10 to run", r.stderr)
        self.assertEqual(open_bytes(os.path.join(out, "runs", "rejected", "r000006.h5")), b"not an HDF5 file")
        self.assertEqual(results_contents(os.path.join(out, "results.h5")),
                         results_contents(os.path.join(self.fresh("values"), "results.h5")))

    def test_other_changes_and_fewer_seeds_or_values_are_refused(self):
        out = self.copy_of_base("refused")
        before, yaml_before = folder_bytes(out), open_bytes(os.path.join(out, "experiment.yaml"))
        cases = [
            (("training.learning_rate=0.2", "seeds=1,2,3"),
             ["differs from the one it holds", "  training.learning_rate: 0.1 -> 0.2\n",
              "  seeds: [1, 2] -> [1, 2, 3]\n", "only adds seeds or values on its grid axes"]),
            (("seeds=1",), ["fewer seeds or grid values", "would be dropped", "  seeds: [1, 2] -> [1]\n"]),
            (("model.activation=sigmoid,tanh",),
             ["fewer seeds or grid values", "  grid model.activation: [sigmoid, relu] -> [sigmoid, tanh]\n"]),
            (("model.activation=relu,sigmoid",),  # the same values in another order: ids would be reshuffled
             ["differs from the one it holds", "  grid model.activation: [sigmoid, relu] -> [relu, sigmoid]\n"]),
            (("seeds=2,1,3",), ["differs from the one it holds", "  seeds: [1, 2] -> [2, 1, 3]\n"]),
            (("model.dropout=0.0,0.5",),  # a new axis is not more values on an existing one
             ["differs from the one it holds", "  grid model.dropout: (not swept) -> [0, 0.5]\n"]),
        ]
        for overrides, messages in cases:
            r = nnlab("run", self.exp["base"], "-o", out, "--resume", *overrides)
            self.assertEqual(r.returncode, 2, (overrides, r.stderr))
            for m in messages:
                self.assertIn(m, r.stderr, overrides)
            self.assertNotIn("grew", r.stderr)
        self.assertEqual(folder_bytes(out), before)  # nothing written
        self.assertEqual(open_bytes(os.path.join(out, "experiment.yaml")), yaml_before)
        self.assertFalse(os.path.exists(os.path.join(out, "experiment.yaml.grow")))

    def test_a_changed_data_file_refuses_the_growth(self):
        data = os.path.join(self.tmp, "d.csv")
        rows = ["%d,%d,%d" % (i, (i * 7) % 11, i % 2) for i in range(60)]
        with open(data, "w") as f:
            f.write("\n".join(rows) + "\n")
        exp = os.path.join(self.tmp, "d.yaml")
        with open(exp, "w") as f:
            f.write("dataset: {source: csv, path: d.csv}\nmodel: {hidden: [4]}\ntraining: {epochs: 1}\n"
                    "seeds: [1, 2]\n")
        out = os.path.join(self.tmp, "d")
        self.assertEqual(nnlab("run", exp, "-o", out, "--quiet").returncode, 0)
        with open(data, "w") as f:
            f.write("\n".join(rows[:-1] + ["59,3,0"]) + "\n")
        before = sorted(os.listdir(os.path.join(out, "runs")))
        r = nnlab("run", exp, "-o", out, "--resume", "seeds=1,2,3")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("cannot resume %s: %s has changed since its runs were trained" % (out, data), r.stderr)
        self.assertEqual(sorted(os.listdir(os.path.join(out, "runs"))), before)
        self.assertFalse(os.path.exists(os.path.join(out, "experiment.yaml.grow")))

    # ---- crashes -------------------------------------------------------------------------

    def crash_points(self):
        """Every crash point of growing the base folder to BOTH: new ids of the kept runs, old ids of the
        moved ones."""
        with h5py.File(os.path.join(self.fresh("both"), "results.h5"), "r") as f:
            new_of = {}
            for name in f["runs"]:
                new_of[f["runs"][name].attrs["identity"]] = int(name[1:])
        points = ["grow-journal:0"]
        for path in sorted(glob.glob(os.path.join(self.fresh("base"), "runs", "r*.h5")), reverse=True):
            with h5py.File(path, "r") as f:
                old, new = int(f["run"].attrs["run"]), new_of[f["run"].attrs["identity"]]
            points += ["grow-write:%d" % new, "grow-renamed:%d" % new]
            if new != old:
                points.append("grow-removed:%d" % old)
        return points + ["grow-commit:0", "grow-done:0"]

    def crash(self, out, point, name="both"):
        r = self.grow(name, out, "--quiet", env={"NNLAB_CRASH_AT": point})
        self.assertEqual(r.returncode, -signal.SIGKILL, (point, r.stderr))
        got = kept(out)
        for identity, seconds in self.base_runs.items():  # every finished run is still there, whole
            self.assertEqual(got.get(identity), seconds, (point, "a finished run is missing"))

    def test_sigkill_at_every_crash_point_then_resume(self):
        points = self.crash_points()
        self.assertEqual(len(points), 1 + 8 * 2 + 6 + 2)  # 6 of the 8 runs change their id
        self.assertEqual(points[1:4], ["grow-write:10", "grow-renamed:10", "grow-removed:7"])
        for point in points:
            out = self.copy_of_base("kill-" + point.replace(":", "-"))
            self.crash(out, point)
            r = self.grow("both", out)
            self.assertEqual(r.returncode, 0, (point, r.stderr))
            if point != "grow-done:0":
                self.assertIn("finished the growth of its experiment that an earlier nnlab began", r.stderr)
            self.assertSameAsFresh(out, "both")
            shutil.rmtree(out)

    def test_sigkill_twice(self):
        # killed, then killed again while the next --resume finishes the growth
        points = self.crash_points()
        # the second point is one the replay reaches: the step the first kill cut short is done again
        for first, second in ((points[2], points[3]), (points[4], points[-3]), (points[-3], points[-1])):
            out = self.copy_of_base("twice")
            self.crash(out, first)
            self.crash(out, second)
            r = self.grow("both", out, "--quiet")
            self.assertEqual(r.returncode, 0, (first, second, r.stderr))
            self.assertSameAsFresh(out, "both")
            shutil.rmtree(out)

    def test_after_a_kill_merge_or_the_old_experiment_finish_the_growth(self):
        point = self.crash_points()[5]
        out = self.copy_of_base("kill-merge")
        self.crash(out, point)
        r = nnlab("merge", out)  # finishes the growth, then merges the runs there are
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("finished the growth", r.stderr)
        self.assertIn("merged 8 of 18 runs", r.stderr)
        self.grow("both", out, "--quiet")
        self.assertSameAsFresh(out, "both")
        out = self.copy_of_base("kill-old")
        self.crash(out, point)
        r = nnlab("run", self.exp["base"], "-o", out, "--resume")  # the growth is finished first: then fewer seeds
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("finished the growth", r.stderr)
        self.assertIn("fewer seeds or grid values", r.stderr)
        self.grow("both", out, "--quiet")
        self.assertSameAsFresh(out, "both")
        out = self.copy_of_base("kill-force")  # --force replaces all of it, the journal's runs too
        self.crash(out, point)
        r = nnlab("run", self.exp["base"], "-o", out, "--force", "--quiet")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(glob.glob(os.path.join(out, "runs", "r*.h5"))), 8)
        self.assertFalse(os.path.exists(os.path.join(out, "experiment.yaml.grow")))

    # ---- shards --------------------------------------------------------------------------------

    def test_shards_grow_a_folder(self):
        out = self.copy_of_base("shards")
        r = self.grow("both", out, "--shard", "0/2")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("grew from 8 to 18 runs", r.stderr)
        r = nnlab("run", self.exp["both"], "-o", out, "--shard", "1/2", "--quiet")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(nnlab("merge", out).returncode, 0)
        self.assertSameAsFresh(out, "both")

    def test_no_growth_under_a_running_shard(self):
        out = os.path.join(self.tmp, "busy")
        slow = subprocess.Popen([NNLAB, "run", self.exp["base"], "-o", out, "--shard", "0/2", "-j", "1", "--quiet"],
                                env=dict(os.environ, NNLAB_CRASH_AT="train:2", NNLAB_CRASH_SIGNAL="STOP"),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.time() + 60
            while time.time() < deadline and open_bytes("/proc/%d/stat" % slow.pid).split()[2] != b"T":
                time.sleep(0.01)  # stopped mid-run
            r = nnlab("run", self.exp["both"], "-o", out, "--shard", "1/2")
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn("cannot grow the experiment of %s while shard 0/2 (pid %d" % (out, slow.pid), r.stderr)
            self.assertFalse(os.path.exists(os.path.join(out, "experiment.yaml.grow")))
        finally:
            slow.kill()
            slow.wait()


RANDOM = """name: grow-random
model: {hidden: [6]}
training: {epochs: 2, batch_size: 64}
search:
  method: random
  trials: 3
  seed: 4
  space:
    training.learning_rate: {log_uniform: [0.01, 0.5]}
    model.activation: {choice: [sigmoid, relu, tanh]}
seeds: [1, 2]
"""


class GrowRandom(unittest.TestCase):
    def test_more_trials_keep_the_trials_run(self):
        tmp = tempfile.mkdtemp(prefix="nnlab_grow_random_")
        try:
            exp = {}
            for name, text in (("three", RANDOM), ("five", RANDOM.replace("trials: 3", "trials: 5")),
                               ("other", RANDOM.replace("trials: 3", "trials: 5").replace("0.5]", "0.4]"))):
                exp[name] = os.path.join(tmp, name + ".yaml")
                with open(exp[name], "w") as f:
                    f.write(text)
            out, fresh = os.path.join(tmp, "out"), os.path.join(tmp, "fresh")
            for e, o in ((exp["three"], out), (exp["five"], fresh)):
                r = nnlab("run", e, "-o", o, "-j", "2", "--quiet")
                self.assertEqual(r.returncode, 0, r.stderr)
            before = kept(out)
            self.assertEqual(len(before), 6)
            r = nnlab("run", exp["other"], "-o", out, "--resume")  # another space: other draws
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("search", r.stderr)
            r = nnlab("run", exp["five"], "-o", out, "--resume", "-j", "2")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("grew from 6 to 10 runs", r.stderr)
            self.assertIn("resuming: 6 runs already done, 4 to run", r.stderr)
            self.assertEqual(results_contents(os.path.join(out, "results.h5")),
                             results_contents(os.path.join(fresh, "results.h5")))
            for n in os.listdir(os.path.join(fresh, "runs")):
                self.assertEqual(run_file_contents(os.path.join(out, "runs", n)),
                                 run_file_contents(os.path.join(fresh, "runs", n)), n)
            got = kept(out)
            for identity, seconds in before.items():
                self.assertEqual(got.get(identity), seconds, "a finished run was lost or trained again")
            r = nnlab("run", exp["three"], "-o", out, "--resume")  # fewer trials: refused
            self.assertEqual(r.returncode, 2, r.stderr)
        finally:
            shutil.rmtree(tmp)


if __name__ == "__main__":
    unittest.main()
