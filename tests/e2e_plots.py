"""End-to-end tests of the plot scripts as a paper uses them (docs/analysis.md,
"The plot scripts"): nnlab_results.load_many on several experiments,
plot_budget's numbers against expected_max and brute force, what
plot_curves draws for diverged runs (read back from the matplotlib figure),
--style paper's PDF (embedded TrueType fonts, one column wide), the weights
heatmap of 30-feature CSV data, and bad input (one line, exit 2).

The experiments are small ones made here with nnlab (digits, a few epochs)."""
import contextlib
import importlib
import io
import itertools
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

import numpy as np

NNLAB = os.environ["NNLAB"]
SRC = os.environ["NNLAB_SOURCE_DIR"]
SCRIPTS = os.path.join(SRC, "scripts")
sys.path.insert(0, SCRIPTS)
import nnlab_results as nr  # noqa: E402

BASE = """name: %(name)s
dataset: {source: digits, test_fraction: 0.2, validation_fraction: %(val)s, scale: standard}
model: {hidden: [8], activation: relu}
training: {epochs: 3, batch_size: 32, learning_rate: 0.1, optimizer: sgd}
%(rest)s
seeds: {count: %(seeds)d, start: 1}
"""
GRID = "grid: {training.learning_rate: [0.05, 0.5], model.activation: [relu, tanh]}"
RANDOM = ("search: {method: random, trials: 3, seed: 0, space: {training.learning_rate: {log_uniform: [0.01, 0.5]}}}")
HALVING = ("grid: {training.learning_rate: [0.01, 0.05, 0.2, 0.5], model.activation: [relu, tanh]}\n"
           "search: {method: halving, min_epochs: 1, eta: 3}")
# 0.05 trains; at 2.6 most seeds diverge, at 5.0 all of them (src/train.c: a non-finite loss)
DIVERGE = "grid: {training.learning_rate: [0.05, 2.6, 5.0]}"


def run(*args):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=300)


def script(name, *args):
    return run(sys.executable, os.path.join(SCRIPTS, name), *args)


def make(tmp, name, rest, seeds=2, val="0.2", overrides=()):
    path = os.path.join(tmp, name + ".yaml")
    with open(path, "w") as f:
        f.write(BASE % {"name": name, "rest": rest, "seeds": seeds, "val": val})
    out = os.path.join(tmp, name)
    r = run(NNLAB, "run", path, "-o", out, *overrides)
    assert r.returncode == 0, r.stderr
    return out


def figure(module, *argv, write=False):
    """Run a plot script's main() in this process (a process per script would
    take a second or more to start matplotlib); return the figure it drew,
    written as the script writes it (write=True) or not at all."""
    mod = importlib.import_module(module)
    got = {}
    saved, old_argv = nr.save_styled, sys.argv

    def capture(fig, path, style):
        got["fig"], got["path"] = fig, nr.output_path(path, style)
        return saved(fig, path, style) if write else got["path"]
    nr.save_styled, sys.argv = capture, [module + ".py"] + list(argv)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            mod.main()
    finally:
        nr.save_styled, sys.argv = saved, old_argv
    return got["fig"]


def texts(fig):
    """Every text of a figure: titles, suptitle, legends, labels."""
    out = [t.get_text() for t in fig.findobj(lambda o: hasattr(o, "get_text") and callable(o.get_text))]
    return "\n".join(t for t in out if t)


class Plots(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="nnlab-plots-")
        cls.grid = make(cls.tmp, "grid", GRID, overrides=["training.epochs=3"])
        cls.random = make(cls.tmp, "random", RANDOM)
        cls.halving = make(cls.tmp, "halving", HALVING)
        cls.diverge = make(cls.tmp, "diverge", DIVERGE, seeds=4)
        cls.noval = make(cls.tmp, "noval", GRID, val="0")
        os.makedirs(os.path.join(cls.tmp, "again"))
        cls.grid_again = make(os.path.join(cls.tmp, "again"), "grid", GRID, seeds=1)  # the same name, elsewhere

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    # ---- load_many -------------------------------------------------------------------------------------------

    def test_load_many_ids_unique_and_routed(self):
        parts = [nr.load(p) for p in (self.grid, self.random, self.halving)]
        with nr.load_many([self.grid, self.random, self.halving]) as m:
            s = m.summary
            self.assertEqual(len(s), sum(len(p.summary) for p in parts))
            self.assertEqual(len(set(s["run"].tolist())), len(s))
            self.assertEqual(sorted(set(s["config"].tolist())), list(range(len(set(s["config"].tolist())))))
            self.assertEqual([nr._text(v) for v in dict.fromkeys(s["experiment"])], ["grid", "random", "halving"])
            self.assertEqual(m.swept[0], "experiment")
            self.assertIn("search.method", m.swept)  # grid, random, halving: a setting that differs
            self.assertEqual(len(m.configs()), sum(len(p.configs()) for p in parts))
            for row in (0, len(parts[0].summary) + 1, len(s) - 1):  # a run of each file, read from its own file
                p = parts[[nr._text(v) for v in dict.fromkeys(s["experiment"])].index(nr._text(s["experiment"][row]))]
                want = p.curves(s["orig_run"][row])["val_acc"]
                np.testing.assert_array_equal(m.curves(s["run"][row])["val_acc"], want)
                self.assertEqual(float(s["val_acc"][row]), float(p.summary["val_acc"][s["orig_run"][row]]))
            halving = m.configs(where={"experiment": "halving"}, ranked=False)
            self.assertEqual({e["values"]["search.method"] for e in halving}, {"halving"})
            own = {e["config"]: e for e in parts[2].configs(ranked=False)}
            self.assertEqual(len(halving), len(own))
            for e in halving:  # the combined config point is its file's, under a new id
                orig = int(s["orig_config"][e["runs"][0]])
                self.assertEqual(e["values"]["training.learning_rate"], own[orig]["values"]["training.learning_rate"])
                self.assertEqual(e["mean"]["val_acc"], own[orig]["mean"]["val_acc"])
                self.assertEqual(e["pruned"], own[orig]["pruned"])
        for p in parts:
            p.close()

    def test_load_many_equal_names_get_their_folder(self):
        with nr.load_many([self.grid, self.grid_again]) as m:
            self.assertEqual(len(set(m.names)), 2, m.names)
            self.assertTrue(all(n.startswith("grid") for n in m.names))

    def test_load_many_refuses_validation_beside_none(self):
        with self.assertRaises(nr.NnlabError) as e:
            nr.load_many([self.grid, self.noval])
        self.assertIn("different metrics", str(e.exception))
        r = script("plot_compare.py", self.grid, self.noval, "-o", os.path.join(self.tmp, "x.png"))
        self.assertEqual(r.returncode, 2)
        self.assertTrue(r.stderr.startswith("error: ") and r.stderr.count("\n") == 1, r.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "x.png")))

    # ---- plot_budget -----------------------------------------------------------------------------------------

    def test_budget_is_expected_max_of_config_means(self):
        import plot_budget
        with nr.load_many([self.grid, self.halving]) as m:
            metric, curves = plot_budget.budget_curves(m, None, {}, "seconds")
            self.assertEqual(metric, "val_acc")
            grid, halving = curves
            with nr.load(self.grid) as g:
                means = [e["mean"]["val_acc"] for e in g.configs(ranked=False)]
                np.testing.assert_array_equal(grid["expected"], nr.expected_max(means, len(means), True))
                self.assertAlmostEqual(grid["cost"], float(np.sum(g.summary["seconds"])) / len(means), places=12)
            with nr.load(self.halving) as h:
                entries = h.configs(ranked=False)
                finished = [e["mean"]["val_acc"] for e in entries if not e["pruned"]]
                self.assertLess(len(finished), len(entries))  # something was pruned
                self.assertEqual(sorted(halving["values"]), sorted(finished))
                # the pruned runs' seconds are in the budget: the whole search over the finished ones
                self.assertAlmostEqual(halving["cost"], float(np.sum(h.summary["seconds"])) / len(finished),
                                       places=12)
            self.assertEqual(halving["pruned"], len(entries) - len(finished))

    def test_budget_std_against_brute_force(self):
        import plot_budget
        values = [0.2, 0.5, 0.5, 0.9]
        for higher in (True, False):
            got = plot_budget.max_std(values, 3, higher)
            for n in (1, 2, 3):
                best = [(max if higher else min)(d) for d in itertools.product(values, repeat=n)]
                self.assertAlmostEqual(got[n - 1], float(np.std(best)), places=12)

    def test_budget_refuses_a_test_metric_beside_validation_and_says_when_it_ranks_on_test(self):
        r = script("plot_budget.py", self.grid, "--metric", "test_acc", "-o", os.path.join(self.tmp, "b.png"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("test metric", r.stderr)
        self.assertEqual(r.stderr.count("\n"), 1)
        fig = figure("plot_budget", self.noval, "-o", "b.png")
        self.assertIn(nr.RANKED_ON_TEST, fig._suptitle.get_text().replace("\n", " "))
        fig = figure("plot_budget", self.grid, self.random, self.halving, "-o", "b.png")
        labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
        self.assertEqual([t.split(" (")[0] for t in labels], ["grid", "random", "halving"])
        line = fig.axes[0].get_lines()[0]
        with nr.load(self.grid) as g:
            means = [e["mean"]["val_acc"] for e in g.configs()]
        np.testing.assert_array_equal(line.get_ydata(), nr.expected_max(means))

    # ---- plot_curves -----------------------------------------------------------------------------------------

    def test_curves_diverged_runs_are_stubs_not_bands(self):
        import plot_curves
        fig = figure("plot_curves", self.diverge, "-o", "c.png", "--panels", "val_loss", "val_acc")
        loss_ax, acc_ax = fig.axes[:2]
        with nr.load(self.diverge) as res:
            s = res.summary
            status = [nr._text(v) for v in s["status"]]
            self.assertIn("diverged", status)
            self.assertIn("ok", status)
            entries = sorted(res.configs(), key=lambda e: e["config"])
            n_stubs = 0
            means = []
            for e in entries:
                ok = [res.curves(s["run"][i]) for i in e["runs"] if status[i] != "diverged"]
                bad = [res.curves(s["run"][i]) for i in e["runs"] if status[i] == "diverged"]
                n_stubs += sum(np.isfinite(c["val_acc"][1:]).any() for c in bad)
                if ok:
                    x, mean, lo, hi = plot_curves.band([c["val_acc"] for c in ok], 1, True)
                    means.append(mean)
            legend = texts(fig)
            for e in entries:
                k = sum(status[i] == "diverged" for i in e["runs"])
                if k:
                    self.assertIn("%d diverged ×" % k, legend)
        # the mean lines are the non-diverged runs' means, from epoch 1 on the accuracy panel
        lines = [ln for ln in acc_ax.get_lines() if ln.get_marker() in ("None", None, "") and ln.get_linewidth() > 1]
        self.assertEqual(len(lines), len(means))
        for ln, mean in zip(lines, means):
            self.assertEqual(ln.get_xdata()[0], 1)
            np.testing.assert_array_equal(ln.get_ydata(), mean)
        crosses = [ln for ln in acc_ax.get_lines() if ln.get_marker() == "x"]
        self.assertEqual(len(crosses), n_stubs)
        # accuracy bands within [0, 1]; the loss panel starts at epoch 0, on a log scale
        for poly in acc_ax.collections:
            for path in poly.get_paths():
                v = path.vertices[:, 1]
                self.assertTrue(((v >= 0) & (v <= 1)).all())
        self.assertEqual(loss_ax.get_xlim()[0], 0)
        self.assertEqual(loss_ax.get_yscale(), "log")
        top = max(np.nanmax(ln.get_ydata()) for ln in loss_ax.get_lines() if ln.get_linewidth() > 1)
        self.assertLess(loss_ax.get_ylim()[1], top * 10)  # the stubs (to 1e30 and more) do not set the range

    def test_curves_options(self):
        fig = figure("plot_curves", self.grid, "-o", "c.png", "--panels", "val_loss", "val_acc", "--from-epoch", "2",
                     "--ylim", "0.05", "1", "--linear", "--where", "model.activation=relu")
        loss_ax, acc_ax = fig.axes[:2]
        self.assertEqual(acc_ax.get_ylim(), (0.05, 1.0))
        self.assertEqual(loss_ax.get_yscale(), "linear")
        for ax in (loss_ax, acc_ax):
            for ln in ax.get_lines():
                self.assertGreaterEqual(min(ln.get_xdata()), 2)
        title = fig._suptitle.get_text().replace("\n", " ")
        self.assertIn("grid", title)
        self.assertIn("where model.activation=relu", title)
        for bad, why in ((["--ylim", "1", "0"], "LO < HI"), (["--panels", "val_foo"], "no curve val_foo"),
                         (["--from-epoch", "-1"], "--from-epoch")):
            r = script("plot_curves.py", self.grid, "-o", os.path.join(self.tmp, "c.png"), *bad)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn(why, r.stderr)
            self.assertEqual(r.stderr.count("\n"), 1, r.stderr)

    def test_titles_name_experiments_filters_and_recorded_overrides(self):
        # nnlab records its command-line overrides in the folder's experiment.yaml ("# override: KEY=VALUE")
        # and in results.h5's root attribute `overrides`, through a merge too; the titles name them
        import h5py
        copy = os.path.join(self.tmp, "grid-overridden")
        shutil.copytree(self.grid, copy)
        with open(os.path.join(copy, "experiment.yaml")) as f:
            self.assertEqual([line for line in f if line.startswith("# override: ")], ["# override: training.epochs=3\n"])
        os.remove(os.path.join(copy, "results.h5"))
        r = run(NNLAB, "merge", copy)
        self.assertEqual(r.returncode, 0, r.stderr)
        with h5py.File(os.path.join(copy, "results.h5"), "r") as f:
            self.assertEqual(f.attrs["overrides"], "training.epochs=3\n")
        with h5py.File(os.path.join(self.random, "results.h5"), "r") as f:
            self.assertNotIn("overrides", f.attrs)
        fig = figure("plot_grid", copy, self.random, "-o", "g.png", "--x", "experiment", "--y", "model.activation",
                     "--where", "model.activation=relu")
        title = fig._suptitle.get_text().replace("\n", " ")
        self.assertIn("grid vs random", title)
        self.assertIn("where model.activation=relu", title)
        self.assertIn("overrides grid: training.epochs=3", title)
        fig = figure("plot_budget", self.random, "-o", "b.png")
        self.assertNotIn("overrides", fig._suptitle.get_text())

    # ---- several experiments, paper style, weights ------------------------------------------------------------

    def test_compare_two_experiments_shows_each_ones_seeds(self):
        fig = figure("plot_compare", self.grid, self.random, "-o", "c.png")
        ax = fig.axes[0]
        dots = ax.collections[0]
        with nr.load(self.grid) as g, nr.load(self.random) as r:
            n = int(np.isfinite(g.summary["val_acc"]).sum() + np.isfinite(r.summary["val_acc"]).sum())
            seeds = len(set(g.summary["seed"].tolist())) + len(set(r.summary["seed"].tolist()))
        self.assertEqual(len(dots.get_offsets()), n)
        self.assertEqual(len({tuple(c) for c in dots.get_facecolors()}), 2)  # one colour per experiment
        seed_lines = [ln for ln in ax.get_lines() if ln.get_linewidth() < 0.5]
        self.assertEqual(len(seed_lines), seeds)
        labels = [t.get_text() for t in ax.get_yticklabels()]
        self.assertTrue(all(t.startswith(("grid:", "random:")) for t in labels), labels)

    def test_paper_style_pdf(self):
        runs = [("plot_curves.py", [self.grid]), ("plot_grid.py", [self.grid]),
                ("plot_compare.py", [self.grid, self.random]), ("plot_weights.py", [self.grid]),
                ("plot_budget.py", [self.grid, self.random]), ("plot_search.py", [self.halving, self.grid])]
        for name, inputs in runs:
            out = os.path.join(self.tmp, "paper-" + name[:-3])
            figure(name[:-3], *inputs, "-o", out, "--style", "paper", write=True)
            with open(out + ".pdf", "rb") as f:
                pdf = f.read()
            self.assertTrue(pdf.startswith(b"%PDF"))
            self.assertIn(b"/FontFile2", pdf, name)   # TrueType, embedded (pdf.fonttype 42)
            self.assertNotIn(b"/Type3", pdf, name)
            box = re.search(rb"/MediaBox \[ *0 0 ([0-9.]+) ([0-9.]+) *\]", pdf)
            self.assertEqual(float(box.group(1)), 237.6, name)  # 3.3 in
        fig = figure("plot_grid", self.grid, "-o", "g", "--style", "paper")
        sizes = {round(t.get_fontsize(), 1) for t in fig.findobj(lambda o: hasattr(o, "get_fontsize"))
                 if hasattr(t, "get_text") and t.get_text()}
        self.assertTrue(sizes and min(sizes) >= 8 and max(sizes) <= 9, sizes)

    def test_weights_heatmap_of_csv_features(self):
        data = os.path.join(self.tmp, "features.csv")
        rng = np.random.default_rng(0)
        x = rng.normal(size=(120, 30))
        names = ["m%02d" % i for i in range(30)]
        with open(data, "w") as f:
            f.write(",".join(names + ["label"]) + "\n")
            for row, y in zip(x, x[:, 0] + x[:, 3] > 0):
                f.write(",".join("%.5f" % v for v in row) + (",yes\n" if y else ",no\n"))
        rest = "dataset: {source: csv, path: %s, header: true, test_fraction: 0.2, validation_fraction: 0.2}" % data
        path = os.path.join(self.tmp, "csv.yaml")
        with open(path, "w") as f:
            f.write((BASE % {"name": "csv", "rest": "", "seeds": 1, "val": "0.2"}).replace(
                "dataset: {source: digits, test_fraction: 0.2, validation_fraction: 0.2, scale: standard}", rest))
        out = os.path.join(self.tmp, "csv")
        r = run(NNLAB, "run", path, "-o", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        fig = figure("plot_weights", out, "-o", "w.png")
        ax = fig.axes[0]
        image = ax.get_images()[0].get_array()
        with nr.load(out) as res:
            W, _ = res.weights(res.best_run(), "best")[0]
        self.assertEqual(image.shape, (30, 8))
        np.testing.assert_array_equal(np.asarray(image), W.astype(float))
        self.assertEqual([t.get_text() for t in ax.get_yticklabels()], names)


if __name__ == "__main__":
    unittest.main()
