"""End-to-end tests of the statistics of `nnlab summary` and nnlab_results:
n, the 95% interval of the mean (Student t, --ci bootstrap), the `tied`
column and its p-value, and `nnlab summary A B ...`.

Reference values were computed once with scipy (scipy.stats.t.ppf, t.sf,
ttest_ind(equal_var=False), ttest_rel, t.interval) and are pinned here as
numbers: these tests do not import scipy. The loader and nnlab compute the
same things with the same operations, so their numbers are compared bit for
bit.

The results are made here (three small experiments, a few seconds): a grid
with holdout validation, a successive-halving search (pruned points) and a
second grid with other epochs and batch size, for `summary A B`. Where
NNLAB_RESULTS (default: the source's results/) holds things-to-try-val and
halving, the shipped results are checked the same way."""
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
import numpy as np

NNLAB = os.environ["NNLAB"]
SRC = os.environ["NNLAB_SOURCE_DIR"]
sys.path.insert(0, os.path.join(SRC, "scripts"))
import nnlab_results as nr  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nnlab_testing import HALVING_SEARCH  # noqa: E402

SHIPPED = os.environ.get("NNLAB_RESULTS", os.path.join(SRC, "results"))
EXPERIMENTS = {
    "grid": """name: grid
dataset: {validation_fraction: 0.2, scale: standard}
model: {hidden: [12]}
training: {epochs: 3, batch_size: 16, optimizer: momentum}
grid:
  model.activation: [tanh, relu]
  training.l2: [0.0, 0.001]
  model.dropout: [0.0, 0.2]
seeds: [1, 2, 3]
""",
    "other": """name: other
dataset: {validation_fraction: 0.2, scale: standard}
model: {hidden: [12]}
training: {epochs: 4, batch_size: 32}
grid:
  training.optimizer: [sgd, momentum]
seeds: [1, 2, 3, 4]
""",
    "halving": "name: halving\n" + HALVING_SEARCH,
}
TMP = GRID = OTHER = HALVING = None


def setUpModule():
    global TMP, GRID, OTHER, HALVING
    TMP = tempfile.mkdtemp(prefix="nnlab_stats_runs_")
    for name, text in EXPERIMENTS.items():
        exp = os.path.join(TMP, name + ".yaml")
        with open(exp, "w") as f:
            f.write(text)
        r = subprocess.run([NNLAB, "run", exp, "-o", os.path.join(TMP, name), "-j", "2", "--quiet"],
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
    GRID, OTHER, HALVING = (os.path.join(TMP, name) for name in ("grid", "other", "halving"))


def tearDownModule():
    shutil.rmtree(TMP)


def nnlab(*args):
    return subprocess.run([NNLAB, *args], capture_output=True, text=True, timeout=300)


def summary_csv(*args):
    r = nnlab("summary", *args, "--csv")
    assert r.returncode == 0, r.stderr
    return list(csv.DictReader(io.StringIO(r.stdout))), r


def note(stderr, start):
    lines = [line for line in stderr.splitlines() if line.startswith(start)]
    assert len(lines) == 1, stderr
    return lines[0]


SUMMARY = [("run", "<i4"), ("config", "<i4"), ("seed", "<i8"), ("fold", "<i4"), ("status", "S16"),
           ("epochs_done", "<i4"), ("best_epoch", "<i4"), ("val_loss", "<f8"), ("val_acc", "<f8"),
           ("test_loss", "<f8"), ("test_acc", "<f8"), ("final_train_loss", "<f8"), ("final_train_acc", "<f8"),
           ("final_val_loss", "<f8"), ("final_val_acc", "<f8"), ("final_test_loss", "<f8"),
           ("final_test_acc", "<f8"), ("rung", "<i4"), ("seconds", "<f8"), ("training.l2", "<f8")]


def write_results(path, points, validation="holdout"):
    """A results.h5 with only what summary and the loader read: points is
    [(seeds, val_acc values, status)], config ids 0, 1, ... in that order;
    every other metric follows val_acc. Status "pruned" is at rung 0, the
    others at rung 1."""
    rows = []
    for c, (seeds, values, status) in enumerate(points):
        for seed, v in zip(seeds, values):
            rows.append((len(rows), c, seed, 0, status, 5, 5, 1 - v, v, 1 - v, v, 1 - v, v, 1 - v, v, 1 - v, v,
                         0 if status == b"pruned" else 1, 1.0, 0.001 * c))
    with h5py.File(path, "w") as f:
        f.attrs.update({"format": "nnlab-results", "format_version": 2, "validation": validation, "name": "hand"})
        f["summary"] = np.array(rows, dtype=SUMMARY)


TOP = [0.95, 0.97, 0.96, 0.99]


class Statistics(unittest.TestCase):
    def test_loader_functions_against_scipy(self):
        exact = {1: 12.706204736174704646, 2: 4.3026527297494638523, 3: 3.1824463052837095927,
                 5: 2.5705818356363155147, 10: 2.2281388519862747484, 30: 2.04227245630123831,
                 100: 1.9839715185235522866, 1000: 1.962339080826408485}   # mpmath, 40 digits
        scipy = {1: 12.706204736432095, 2: 4.302652729911275, 3: 3.182446305284263, 5: 2.5705818366147395,
                 10: 2.2281388519649385, 30: 2.0422724563012373, 100: 1.9839715184496334, 1000: 1.9623390808264074}
        for df, want in exact.items():
            self.assertTrue(math.isclose(nr.t_ppf(0.975, float(df)), want, rel_tol=1e-13), df)
            self.assertTrue(math.isclose(nr.t_ppf(0.975, float(df)), scipy[df], rel_tol=1e-9), df)  # scipy's own error
        for t, df, want in ((0.5, 1, 0.3524163823495668), (2.0, 3, 0.06966298427942155),
                            (1.5, 7.5, 0.08724028529323215), (4.0, 10, 0.0012591663123683462),
                            (0.1, 1000, 0.4601821845118021), (3.0, 2.3, 0.040247752023050275)):
            self.assertTrue(math.isclose(nr.t_sf(t, df), want, rel_tol=1e-12), (t, df))
        for a, b, x, want in ((0.5, 0.5, 0.3, 0.3690101195655454), (500, 0.5, 0.999, 0.317310447309558),
                              (10, 20, 0.2, 0.049263517304212585)):
            self.assertTrue(math.isclose(nr.incomplete_beta(a, b, x), want, rel_tol=1e-12))
        for x in (0.5, 1.5, 3.0, 10.0, 500.5):
            self.assertTrue(math.isclose(nr.log_gamma(x), math.lgamma(x), rel_tol=1e-14, abs_tol=1e-15), x)
        other = [0.91, 0.96, 0.93, 0.92]
        (ma, sa, na), (mb, sb, nb) = nr.welford(TOP), nr.welford(other)
        t, _, p = nr.welch_test(ma, sa, na, mb, sb, nb)
        self.assertAlmostEqual(t, 2.7235238970096107, places=12)
        self.assertAlmostEqual(p, 0.036344453733953015, places=12)
        t, df, p, n = nr.paired_test(TOP, other)
        self.assertEqual((df, n), (3.0, 4))
        self.assertAlmostEqual(t, 2.9999999999999982, places=12)
        self.assertAlmostEqual(p, 0.057668885622437396, places=12)
        _, _, p, n = nr.paired_test(TOP, [0.9, math.nan, 0.92, 0.91])  # the pair with a NaN left out
        self.assertEqual(n, 3)
        self.assertAlmostEqual(p, 0.04215851130768136, places=12)
        lo, hi = nr.t_interval(ma, sa, na)
        self.assertAlmostEqual(lo, 0.9403246911620351, places=12)
        self.assertAlmostEqual(hi, 0.994675308837965, places=12)
        self.assertTrue(all(math.isnan(v) for v in nr.t_interval(0.9, 0.0, 1)))
        self.assertIsNone(nr.welch_test(0.9, 0.0, 1, 0.8, 0.1, 3))
        self.assertEqual(nr.welch_test(0.75, 0.0, 3, 0.75, 0.0, 3)[2], 1.0)
        self.assertEqual(nr.welch_test(0.75, 0.0, 3, 0.5, 0.0, 3)[2], 0.0)

    def check_loader_equals_csv(self, path, ci="t", *args):
        return loader_equals_csv(self, path, ci, *args)

    def test_loader_equals_nnlab_summary_bit_for_bit(self):
        rows, r = self.check_loader_equals_csv(GRID)
        self.assertEqual(note(r.stderr, "tied: "), "tied: not significantly different from rank 1 on val_acc (paired "
                         "t-test on 3 shared (seed, fold) pairs, two-sided, alpha 0.05)")
        self.assertEqual(rows[0]["tied"], "1")
        self.assertEqual(rows[0]["p_value"], "")  # rank 1 is not tested against itself
        self.assertTrue(all(row["p_value"] for row in rows[1:]))
        # the t interval by hand: mean -+ t_{0.975, 2} std / sqrt(3)
        m, s = float(rows[5]["val_acc_mean"]), float(rows[5]["val_acc_std"])
        self.assertAlmostEqual(float(rows[5]["val_acc_ci_lo"]), m - 4.302652729749464 * s / math.sqrt(3), places=14)
        rows, r = self.check_loader_equals_csv(HALVING)
        pruned = [row for row in rows if row["rung"] != rows[0]["rung"]]
        self.assertEqual(len(pruned), 6)  # 7 trials, the best one trains to the end
        self.assertTrue(all(row["tied"] == "" and row["p_value"] == "" for row in pruned))
        self.assertIn("; - not compared, pruned or paused by the search: c", note(r.stderr, "tied: "))

    @unittest.skipUnless(os.path.exists(os.path.join(SHIPPED, "things-to-try-val", "results.h5")) and
                         os.path.exists(os.path.join(SHIPPED, "halving", "results.h5")),
                         "no shipped results in NNLAB_RESULTS")
    def test_shipped_results(self):
        grid, halving = os.path.join(SHIPPED, "things-to-try-val"), os.path.join(SHIPPED, "halving")
        rows, r = self.check_loader_equals_csv(grid)
        self.assertEqual(len(rows), 72)
        self.assertEqual({row["tied"] for row in rows}, {"0", "1"})
        self.check_loader_equals_csv(grid, "bootstrap", "--top", "5")
        rows, _ = self.check_loader_equals_csv(halving)
        self.assertEqual(sum(row["tied"] == "" for row in rows), 64)  # the pruned points


def loader_equals_csv(test, path, ci="t", *args):
    """nnlab summary --csv (--ci ci) and the loader's configs(ci=ci): the same
    ranking, and the same bits of every number; the same tie_test line."""
    rows, r = summary_csv(path, "--ci", ci, *args)
    with nr.load(path) as res:
        configs = res.configs(ci=ci)
        test.assertEqual([int(row["config"]) for row in rows], [e["config"] for e in configs][:len(rows)])
        metrics = [m for m in res.METRICS if m + "_mean" in rows[0]]
        test.assertEqual(len(metrics), 3)
        for row, e in zip(rows, configs):
            for m in metrics:
                test.assertEqual(int(row[m + "_n"]), e["n"][m])
                for col, have in (("mean", e["mean"][m]), ("std", e["std"][m]),
                                  ("ci_lo", e["ci"][m][0]), ("ci_hi", e["ci"][m][1])):
                    if math.isnan(have):  # no value (mean, std: nan) or no interval (empty)
                        test.assertIn(row[m + "_" + col], ("nan", "") if col in ("mean", "std") else ("",))
                    else:
                        test.assertEqual(float(row[m + "_" + col]).hex(), have.hex(), (row["config"], m, col))
            test.assertEqual(row["tied"], {True: "1", False: "0", None: ""}[e["tied"]], row["config"])
            if e["p_value"] is None:
                test.assertEqual(row["p_value"], "", row["config"])
            else:
                test.assertEqual(float(row["p_value"]).hex(), e["p_value"].hex(), row["config"])
        test.assertEqual(note(r.stderr, "tied: "), res.tie_test)
    return rows, r


class ExperimentColumn(unittest.TestCase):
    def test_configs_pair_only_within_one_experiment(self):
        """A summary as load_many makes it: two experiments' rows with an
        experiment column and config ids made unique. The copy of a point
        in the other experiment has the same (seed, fold) pairs, and is
        still compared with Welch's test."""
        with nr.load(GRID) as res:
            one = res.summary
            rows = len(one)
            columns = [(name, one.dtype.fields[name][0]) for name in one.dtype.names]
            many = np.zeros(2 * rows, dtype=columns + [("experiment", "S16")])
            for k, name in enumerate((b"monday", b"tuesday")):
                part = many[k * rows:(k + 1) * rows]
                for col in one.dtype.names:
                    part[col] = one[col]
                part["config"] += 1000 * k
                part["run"] += rows * k
                part["experiment"] = name
            alone = res.configs()
            res.summary = many
            both = res.configs()
        self.assertEqual(len(both), 2 * len(alone))
        top = both[0]  # equal means: the lower config id first
        twin = next(e for e in both if e["config"] == top["config"] + 1000)
        self.assertEqual((top["experiment"], twin["experiment"]), ("monday", "tuesday"))
        self.assertEqual((twin["test"], twin["tied"], twin["p_value"]), ("welch", True, 1.0))
        for e in both[1:]:
            self.assertEqual(e["test"], "paired" if e["experiment"] == "monday" else "welch", e["config"])
        by_config = {e["config"]: e for e in alone}
        for e in both:
            if e["experiment"] == "monday":
                self.assertEqual(e["p_value"], by_config[e["config"]]["p_value"])
                self.assertEqual(e["ci"], by_config[e["config"]]["ci"])


class Bootstrap(unittest.TestCase):
    def test_bootstrap(self):
        rows, r = loader_equals_csv(self, GRID, "bootstrap")
        self.assertIn("percentile bootstrap, 10000 resamples, seeded", note(r.stderr, "cells: "))
        again, _ = summary_csv(GRID, "--ci", "bootstrap")
        self.assertEqual(again, rows)  # seeded: the same numbers every time
        t_rows, _ = summary_csv(GRID)
        differ = 0
        for b, t in zip(rows, t_rows):
            lo, hi, mean = float(b["val_acc_ci_lo"]), float(b["val_acc_ci_hi"]), float(b["val_acc_mean"])
            self.assertTrue(lo <= mean <= hi or float(b["val_acc_std"]) == 0, b)
            differ += (b["val_acc_ci_lo"], b["val_acc_ci_hi"]) != (t["val_acc_ci_lo"], t["val_acc_ci_hi"])
        self.assertGreater(differ, 0)
        self.assertEqual([b["tied"] for b in rows], [t["tied"] for t in t_rows])  # the test does not change
        # twelve runs: the ends depend on the draws, and nnlab's and the loader's are the same bits
        tmp = tempfile.mkdtemp(prefix="nnlab_stats_boot_")
        try:
            path = os.path.join(tmp, "results.h5")
            write_results(path, [(list(range(12)), [0.5 + 0.03 * k * (-1) ** k for k in range(12)], b"ok"),
                                 (list(range(12)), [0.4 + 0.01 * k for k in range(12)], b"ok")])
            rows, _ = loader_equals_csv(self, path, "bootstrap")
            t_rows, _ = summary_csv(path)
            self.assertNotEqual(rows[0]["val_acc_ci_lo"], t_rows[0]["val_acc_ci_lo"])
        finally:
            shutil.rmtree(tmp)
        # the same numbers as check_stats pins for the C side (stats_bootstrap_interval)
        self.assertEqual(nr.bootstrap_interval([1, 2, 4, 8, 16]), (2.0, float.fromhex("0x1.6cccccccccccdp+3")))
        # three values resampled: each end is the mean of 3 draws from them
        values = [0.25, 0.5, 1.0]
        lo, hi = nr.bootstrap_interval(values)
        means = {(a + b + c) / 3 for a in values for b in values for c in values}
        self.assertIn(lo, means)
        self.assertIn(hi, means)
        self.assertTrue(0.25 <= lo < 0.5833333333333334 < hi <= 1.0)
        r = nnlab("summary", GRID, "--ci", "normal")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--ci needs t or bootstrap", r.stderr)


class EdgeCases(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="nnlab_stats_")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def table(self, points, *args):
        path = os.path.join(self.tmp, "results.h5")
        write_results(path, points)
        rows, r = loader_equals_csv(self, path, "t", *args)
        text = nnlab("summary", path, *args)
        self.assertEqual(text.returncode, 0, text.stderr)
        return rows, r, text.stdout

    def test_paired(self):
        seeds = [1, 2, 3, 4]
        rows, r, text = self.table([
            (seeds, TOP, b"ok"),
            (seeds, [0.91, 0.96, 0.93, 0.92], b"ok"),             # scipy ttest_rel: p = 0.0577, tied
            (seeds, [0.9, math.nan, 0.92, 0.91], b"ok"),           # 3 pairs: p = 0.0422, not tied
            (seeds, [0.5, math.nan, math.nan, math.nan], b"ok"),   # one value: no test
            (seeds, [0.3, 0.3, 0.3, 0.3], b"pruned"),              # pruned: not compared
        ])
        by = {int(row["config"]): row for row in rows}
        self.assertEqual([int(row["config"]) for row in rows], [0, 1, 2, 3, 4])
        self.assertEqual((by[0]["tied"], by[0]["p_value"]), ("1", ""))
        self.assertEqual(by[1]["tied"], "1")
        self.assertAlmostEqual(float(by[1]["p_value"]), 0.057668885622437396, places=12)
        self.assertEqual(by[2]["tied"], "0")
        self.assertAlmostEqual(float(by[2]["p_value"]), 0.04215851130768136, places=12)
        self.assertEqual(by[2]["val_acc_n"], "3")
        self.assertEqual((by[3]["tied"], by[3]["p_value"], by[3]["val_acc_n"]), ("", "", "1"))
        self.assertEqual((by[3]["val_acc_ci_lo"], by[3]["val_acc_ci_hi"]), ("", ""))  # no interval for n = 1
        self.assertEqual((by[4]["tied"], by[4]["p_value"]), ("", ""))
        self.assertEqual(note(r.stderr, "tied: "), (
            "tied: not significantly different from rank 1 on val_acc (paired t-test on 3 to 4 shared (seed, fold) "
            "pairs, two-sided, alpha 0.05); pairs with a non-finite value left out: c0002 3 of 4; ? untestable, "
            "fewer than 2 values or pairs: c0003; - not compared, pruned or paused by the search: c0004"))
        marks = [line.split()[-1] if line.split()[-1] in "*?-" else "" for line in text.splitlines()[1:6]]
        self.assertEqual(marks, ["*", "*", "", "?", "-"])
        self.assertIn("   1  0.5000 ± 0.0000  -", text)  # n = 1: no interval

    def test_an_accuracy_interval_stays_within_0_and_1(self):
        # 3 seeds near 1 (t = 4.30): the t interval's upper end would be 1.0246; near 0 its lower end -0.0246
        rows, r, text = self.table([([1, 2, 3], [0.99, 1.0, 0.97], b"ok"), ([1, 2, 3], [0.01, 0.0, 0.03], b"ok")])
        by = {int(row["config"]): row for row in rows}
        self.assertEqual(float(by[0]["val_acc_ci_hi"]), 1.0)
        self.assertLess(float(by[0]["val_acc_ci_lo"]), 0.97)
        self.assertEqual(float(by[1]["val_acc_ci_lo"]), 0.0)
        self.assertGreater(float(by[1]["val_acc_ci_hi"]), 0.03)
        self.assertGreater(float(by[1]["val_loss_ci_hi"]), 1.0)  # a loss's interval is not clipped
        self.assertIn("[0.9487, 1.0000]", text)

    def test_welch_and_no_spread(self):
        rows, r, _ = self.table([
            ([1, 2, 3, 4], TOP, b"ok"),
            ([5, 6, 7, 8], [0.91, 0.96, 0.93, 0.92], b"ok"),  # other seeds: Welch, p = 0.0363
        ])
        self.assertEqual(rows[1]["tied"], "0")
        self.assertAlmostEqual(float(rows[1]["p_value"]), 0.036344453733953015, places=12)
        self.assertIn("(Welch's t-test, two-sided, alpha 0.05)", note(r.stderr, "tied: "))
        rows, r, _ = self.table([
            ([1, 2, 3], [0.75] * 3, b"ok"),
            ([1, 2, 3], [0.75] * 3, b"ok"),   # paired, no spread, equal: tied
            ([1, 2, 3], [0.5] * 3, b"ok"),    # paired, no spread, lower: not tied
            ([4, 5, 6], [0.75] * 3, b"ok"),   # Welch, both std 0, equal means: tied
            ([4, 5, 6], [0.5] * 3, b"ok"),    # Welch, both std 0, different means: not tied
            ([9], [0.6], b"ok"),              # one run: no test
        ])
        self.assertEqual([(row["config"], row["tied"], row["p_value"]) for row in rows],
                         [("0", "1", ""), ("1", "1", "1"), ("3", "1", "1"), ("5", "", ""), ("2", "0", "0"),
                          ("4", "0", "0")])
        self.assertIn("paired t-test on 3 shared (seed, fold) pairs for 2 points, Welch's t-test for the others",
                      note(r.stderr, "tied: "))
        self.assertIn("? untestable, fewer than 2 values or pairs: c0005", note(r.stderr, "tied: "))


class SeveralExperiments(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="nnlab_stats_many_")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def test_one_table(self):
        rows, r = summary_csv(GRID, OTHER)
        self.assertEqual(list(rows[0])[:3], ["experiment", "rank", "config"])
        self.assertEqual(sorted(row["experiment"] for row in rows), ["grid"] * 8 + ["other"] * 2)
        # settings not swept that differ between them are columns; each takes its experiment's value
        for key, grid_value, other_value in (("training.epochs", "3", "4"), ("training.batch_size", "16", "32"),
                                             ("training.optimizer", "momentum", None), ("model.dropout", None, "0"),
                                             ("model.activation", None, "sigmoid")):
            if grid_value:
                self.assertEqual({row[key] for row in rows if row["experiment"] == "grid"}, {grid_value}, key)
            if other_value:
                self.assertEqual({row[key] for row in rows if row["experiment"] == "other"}, {other_value}, key)
        self.assertEqual({row["training.optimizer"] for row in rows if row["experiment"] == "other"},
                         {"sgd", "momentum"})
        self.assertNotIn("training.learning_rate", rows[0])  # the same in both: no column
        means = [float(row["val_acc_mean"]) for row in rows]
        self.assertEqual(means, sorted(means, reverse=True))  # ranked together
        self.assertEqual([int(row["rank"]) for row in rows], list(range(1, len(rows) + 1)))
        # each experiment's numbers are its own summary's
        for name, path in (("grid", GRID), ("other", OTHER)):
            alone = {int(row["config"]): row for row in summary_csv(path)[0]}
            for row in rows:
                if row["experiment"] == name:
                    for col in ("val_acc_mean", "val_acc_std", "val_acc_n", "val_acc_ci_lo", "test_acc_ci_hi"):
                        self.assertEqual(row[col], alone[int(row["config"])][col])
        # against rank 1, a point of the other experiment is tested with Welch's test, never paired
        top = rows[0]
        others = [row for row in rows if row["experiment"] != top["experiment"]]
        for row in others:
            _, _, p = nr.welch_test(float(top["val_acc_mean"]), float(top["val_acc_std"]), int(top["val_acc_n"]),
                                    float(row["val_acc_mean"]), float(row["val_acc_std"]), int(row["val_acc_n"]))
            self.assertEqual(float(row["p_value"]), p)
        self.assertIn("Welch's t-test for the others", note(r.stderr, "tied: "))
        # --where, --sort and --top apply to the whole table
        rows, _ = summary_csv(GRID, OTHER, "--where", "training.optimizer=momentum", "--sort", "val_loss",
                              "--top", "5")
        self.assertEqual(len(rows), 5)
        self.assertTrue(all(row["training.optimizer"] == "momentum" for row in rows))
        losses = [float(row["val_loss_mean"]) for row in rows]
        self.assertEqual(losses, sorted(losses))
        rows, _ = summary_csv(GRID, OTHER, "--where", "model.activation=sigmoid")
        self.assertEqual({row["experiment"] for row in rows}, {"other"})
        text = nnlab("summary", GRID, OTHER, "--top", "3").stdout.splitlines()
        self.assertEqual(text[0].split()[:3], ["experiment", "rank", "config"])
        self.assertEqual(len(text), 1 + 3 + 2)

    def test_one_name_twice_is_told_apart_by_folder(self):
        for name in ("monday", "tuesday"):
            os.mkdir(os.path.join(self.tmp, name))
            os.symlink(os.path.join(OTHER, "results.h5"), os.path.join(self.tmp, name, "results.h5"))
        rows, _ = summary_csv(os.path.join(self.tmp, "monday"), os.path.join(self.tmp, "tuesday", "results.h5"))
        self.assertEqual({row["experiment"] for row in rows}, {"other (monday)", "other (tuesday)"})
        self.assertEqual(len(rows), 4)
        # the same runs under two names: never paired across experiments, and equal means rank by experiment
        self.assertEqual([row["experiment"] for row in rows[:2]], ["other (monday)", "other (tuesday)"])
        self.assertEqual((rows[1]["tied"], rows[1]["p_value"]), ("1", "1"))

    def test_refusals(self):
        none = os.path.join(self.tmp, "none.h5")
        write_results(none, [([1, 2], [0.5, 0.6], b"ok")], validation="none")
        r = nnlab("summary", GRID, none)
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stderr.count("\n"), 1, r.stderr)
        self.assertIn("rank on different things: %s ranks on val_acc, %s on test_acc" % (GRID, none), r.stderr)
        text = os.path.join(self.tmp, "notes.txt")
        with open(text, "w") as f:
            f.write("not results\n")
        r = nnlab("summary", GRID, text)
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stderr, "nnlab: %s: not an HDF5 file\n" % text)
        r = nnlab("summary", GRID, os.path.join(GRID, "results.h5"))  # one folder twice
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stderr, "nnlab: %s and %s are the same results: name each once\n"
                         % (GRID, os.path.join(GRID, "results.h5")))
        hand = os.path.join(self.tmp, "hand.h5")  # no resolved experiment to compare settings with
        write_results(hand, [([1, 2], [0.5, 0.6], b"ok")])
        r = nnlab("summary", GRID, hand)
        self.assertEqual(r.returncode, 2)
        self.assertIn("%s: the results file holds no resolved experiment" % hand, r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
