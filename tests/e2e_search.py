"""End to end: random search (search: {method: random, ...}). A small search
gives the same results.h5 bits with -j 1, -j 2 and two shards; the drawn
values are the summary's columns, every run's attributes and `nnlab list`'s;
the resolved experiment stored with the results draws the same trials again;
raising trials keeps the trials drawn; `nnlab summary` ranks the trials with
the sampled values as columns; `nnlab check` shows the search; a bad search
is an error at FILE:LINE:COL, exit 2."""
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nnlab_testing import results_contents  # noqa: E402

NNLAB = os.environ["NNLAB"]
SOURCE = os.environ["NNLAB_SOURCE_DIR"]
sys.path.insert(0, os.path.join(SOURCE, "scripts"))
import nnlab_results as nr  # noqa: E402

SEARCH = """name: search
dataset: {validation_fraction: 0.2, scale: standard}
model: {hidden: [16]}
training: {epochs: 4, shuffle: true, optimizer: momentum}
grid:
  model.activation: [tanh, relu]
search:
  method: random
  trials: 6
  seed: 3
  space:
    training.learning_rate: {log_uniform: [0.005, 0.2]}
    training.batch_size: {int_log_uniform: [1, 32]}
    model.hidden: {choice: [[16], [8, 8]]}
    model.dropout: {uniform: [0.0, 0.3]}
seeds: [1, 2]
"""
SAMPLED = ["training.learning_rate", "training.batch_size", "model.hidden", "model.dropout", "model.activation"]
TRIALS, SEEDS = 6, 2


def nnlab(*args):
    return subprocess.run([NNLAB] + [str(a) for a in args], capture_output=True, text=True, timeout=600)


def listed(path, *overrides):
    """{run id: "seed=... key=value ..."} of `nnlab list`."""
    r = nnlab("list", path, *overrides)
    assert r.returncode == 0, r.stderr
    return {int(line.split()[0][1:]): line.split(" ", 1)[1] for line in r.stdout.splitlines()}


class RandomSearch(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="nnlab_search_")
        cls.exp = os.path.join(cls.tmp, "search.yaml")
        with open(cls.exp, "w") as f:
            f.write(SEARCH)
        cls.out = {}
        for j in (1, 2):
            cls.out[j] = os.path.join(cls.tmp, "j%d" % j)
            r = nnlab("run", cls.exp, "-o", cls.out[j], "-j", j, "--quiet")
            assert r.returncode == 0, r.stderr
        cls.results = os.path.join(cls.out[1], "results.h5")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def test_threads_change_no_bit(self):
        one = results_contents(self.results)
        two = results_contents(os.path.join(self.out[2], "results.h5"))
        self.assertEqual(sorted(one), sorted(two))
        self.assertTrue(any(k.endswith("curves/val_acc") for k in one))
        self.assertEqual(sum(k.startswith("runs/") and k.endswith("curves/val_loss") for k in one), TRIALS * SEEDS)
        for k in one:
            self.assertEqual(one[k], two[k], k)

    def test_shards_draw_the_same_trials(self):
        out = os.path.join(self.tmp, "shards")
        for k in (0, 1):
            r = nnlab("run", self.exp, "-o", out, "--shard", "%d/2" % k, "-j", 1, "--quiet")
            self.assertEqual(r.returncode, 0, r.stderr)
        r = nnlab("merge", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(results_contents(os.path.join(out, "results.h5")), results_contents(self.results))

    def test_drawn_values_are_columns_attributes_and_listed(self):
        runs = listed(self.exp)
        self.assertEqual(len(runs), TRIALS * SEEDS)
        with h5py.File(self.results, "r") as f:
            s = f["summary"][()]
            self.assertEqual([n for n in s.dtype.names if "." in n], SAMPLED)
            self.assertEqual(sorted(set(s["config"].tolist())), list(range(TRIALS)))
            for row in s:
                run = f["runs/r%06d" % row["run"]]
                for key in SAMPLED:
                    attr = run.attrs[key]
                    if key == "model.hidden":
                        self.assertEqual("[%s]" % ", ".join(str(v) for v in attr), row[key].decode())
                    elif key == "model.activation":
                        self.assertEqual(attr if isinstance(attr, str) else attr.decode(), row[key].decode())
                    else:
                        self.assertEqual(attr, row[key], key)  # the bits the run used
                line = runs[int(row["run"])]
                lr = float(line.split("training.learning_rate=")[1].split()[0])
                self.assertEqual(lr, row["training.learning_rate"])  # list prints the double exactly
                self.assertIn("model.activation=%s" % row["model.activation"].decode(), line)
            # the draws follow their distributions, and the seeds of a trial share them
            self.assertTrue(((s["training.learning_rate"] >= 0.005) & (s["training.learning_rate"] <= 0.2)).all())
            self.assertTrue(((s["training.batch_size"] >= 1) & (s["training.batch_size"] <= 32)).all())
            self.assertTrue(((s["model.dropout"] >= 0) & (s["model.dropout"] <= 0.3)).all())
            self.assertEqual(len(set(s["training.learning_rate"].tolist())), TRIALS)
            experiment = f.attrs["experiment"]
            experiment = experiment if isinstance(experiment, str) else experiment.decode()
        self.assertIn("search:\n  method: random\n  trials: 6\n  seed: 3\n  space:\n", experiment)
        self.assertIn("    training.learning_rate: {log_uniform: [0.005, 0.2]}\n", experiment)
        self.assertIn("grid:\n  model.activation: [tanh, relu]\n", experiment)
        # the resolved experiment, as written beside the results, draws the same trials
        self.assertEqual(listed(os.path.join(self.out[1], "experiment.yaml")), runs)

    def test_more_trials_keep_the_trials_drawn(self):
        few, more = listed(self.exp), listed(self.exp, "search.trials=9")
        self.assertEqual(len(more), 9 * SEEDS)
        self.assertEqual({i: more[i] for i in few}, few)
        other = listed(self.exp, "search.seed=4")
        self.assertNotEqual(other[0], few[0])

    def test_summary_ranks_the_trials_with_sampled_columns(self):
        r = nnlab("summary", self.out[1])
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        for key in SAMPLED:
            self.assertIn(key, lines[0].split())
        ranks = [int(line.split()[0]) for line in lines[1:] if line.split() and line.split()[0].isdigit()]
        self.assertEqual(ranks, list(range(1, TRIALS + 1)))
        # CSV: one row per trial, best mean val_acc first, with its sampled values
        r = nnlab("summary", self.out[1], "--csv")
        self.assertEqual(r.returncode, 0, r.stderr)
        table = list(csv.DictReader(io.StringIO(r.stdout)))
        self.assertEqual(len(table), TRIALS)
        acc = [float(row["val_acc_mean"]) for row in table]
        self.assertEqual(acc, sorted(acc, reverse=True))
        with h5py.File(self.results, "r") as f:
            s = f["summary"][()]
        for row in table:
            first = s[s["config"] == int(row["config"].lstrip("c"))][0]
            self.assertTrue(math.isclose(float(row["training.learning_rate"]), first["training.learning_rate"],
                                         rel_tol=1e-9))
            self.assertEqual(row["model.hidden"], first["model.hidden"].decode())
            self.assertEqual(int(row["training.batch_size"]), first["training.batch_size"])
        # the Python loader ranks the same way and sees the sampled settings as swept
        res = nr.load(self.results)
        self.assertEqual(res.swept, SAMPLED)
        self.assertEqual(res.configs()[0]["config"], int(table[0]["config"].lstrip("c")))
        # --where on a sampled choice
        r = nnlab("summary", self.out[1], "--where", "model.activation=relu", "--csv")
        self.assertEqual(r.returncode, 0, r.stderr)
        kept = list(csv.DictReader(io.StringIO(r.stdout)))
        self.assertTrue(kept and all(row["model.activation"] == "relu" for row in kept))
        self.assertEqual(len(kept), sum(row["model.activation"] == "relu" for row in table))

    def test_check_shows_the_search(self):
        r = nnlab("check", self.exp)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("# search: random, 6 trials drawn with seed 3; sampled: training.learning_rate (log_uniform), "
                      "training.batch_size (int_log_uniform), model.hidden (choice), model.dropout (uniform), "
                      "model.activation (grid axis, a choice)\n", r.stdout)
        self.assertIn("# runs: 12 (6 trials x 2 seeds)\n", r.stdout)

    def test_a_bad_search_is_an_input_error(self):
        r = nnlab("check", self.exp, "search.method=hyperband")
        self.assertEqual(r.returncode, 2)
        self.assertIn("search.yaml:9:3: search.trials: hyperband draws the trials of its brackets itself", r.stderr)
        bad = os.path.join(self.tmp, "bad.yaml")
        with open(bad, "w") as f:
            f.write(SEARCH.replace("{uniform: [0.0, 0.3]}", "{uniform: [0.0, 1.0]}"))
        out = os.path.join(self.tmp, "bad-out")
        r = nnlab("run", bad, "-o", out)
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stderr.strip().splitlines()[0], "%s:15:36: model.dropout must be < 1, got 1.0" % bad)
        self.assertFalse(os.path.exists(out))


if __name__ == "__main__":
    unittest.main()
