"""End-to-end tests of what nnlab reads from files it did not write (issue 25,
group 5). Crafted results files make `nnlab summary` exit 2 with one line
naming the file, within a 2 GiB address-space limit, instead of inventing
rows or allocating by a count the file never held; data values beyond float
range, with a NUL byte, or written in hexadecimal are input errors naming
the file and line and column (or dataset and row) and write nothing; YAML
numbers are decimal and a tag must agree with what the setting takes. Run by
ctest with NNLAB (the binary) and NNLAB_SOURCE_DIR set."""
import csv
import io
import os
import resource
import shutil
import subprocess
import tempfile
import unittest

import h5py
import numpy as np

NNLAB = os.environ["NNLAB"]
SRC = os.environ["NNLAB_SOURCE_DIR"]
FIXTURES = os.path.join(SRC, "tests", "fixtures")
SANITIZED = os.environ.get("NNLAB_SANITIZED") == "1"  # ASan reserves terabytes of address space
MEMORY_LIMIT = 2 << 30

# The columns of a format 2 /summary, as h5io writes them.
METRICS = ["val_loss", "val_acc", "test_loss", "test_acc", "final_train_loss", "final_train_acc", "final_val_loss",
           "final_val_acc", "final_test_loss", "final_test_acc", "seconds"]


def summary_dtype(drop=(), extra=(), status="S16"):
    fields = [("run", "<i4"), ("config", "<i4"), ("seed", "<i8"), ("fold", "<i4"), ("status", status),
              ("epochs_done", "<i4"), ("best_epoch", "<i4")] + [(m, "<f8") for m in METRICS] + list(extra)
    return np.dtype([f for f in fields if f[0] not in drop])


def limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def nnlab(*args, cwd=None, limited=True):
    return subprocess.run([NNLAB, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=600,
                          preexec_fn=limit_memory if limited and not SANITIZED else None)


class Tmp(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="nnlab_integrity_")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def path(self, name):
        return os.path.join(self.tmp, name)


class CraftedSummary(Tmp):
    """results.h5 files that nnlab would never write."""

    def results(self, name, rows=None, **dataset):
        """A format 2 results file whose /summary is rows, or a dataset
        created with the keyword arguments (shape, dtype, chunks, ...)."""
        path = self.path(name)
        with h5py.File(path, "w") as f:
            f.attrs["format"] = "nnlab-results"
            f.attrs["format_version"] = 2
            f.attrs["validation"] = "none"
            if rows is not None:
                f["summary"] = rows
            else:
                f.create_dataset("summary", **dataset)
        return path

    def rows(self, configs, dtype=None):
        s = np.zeros(len(configs), dtype=dtype or summary_dtype())
        s["run"] = np.arange(len(configs))
        s["config"] = configs
        if "status" in s.dtype.names and s.dtype["status"].kind == "S":
            s["status"] = b"ok"
        if "test_acc" in s.dtype.names:
            s["test_acc"] = 0.5
        return s

    def assert_refused(self, path, message):
        r = nnlab("summary", path)
        self.assertEqual(r.returncode, 2, (r.stdout, r.stderr))
        self.assertEqual(r.stdout, "")
        lines = r.stderr.splitlines()
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertTrue(lines[0].startswith("nnlab: %s: " % path), lines[0])
        self.assertIn(message, lines[0])
        self.assertNotIn("out of memory", lines[0])

    def test_a_missing_column_is_named_not_invented(self):
        # only a run column: before, a row of garbage for "config 0"
        self.assert_refused(self.results("run-only.h5", np.zeros(3, dtype=[("run", "<i4")])),
                            "/summary lacks the config column")
        self.assert_refused(self.results("no-status.h5", self.rows([0, 1], summary_dtype(drop=["status"]))),
                            "/summary lacks the status column")
        self.assert_refused(self.results("no-metric.h5", self.rows([0, 1], summary_dtype(drop=["val_acc"]))),
                            "/summary lacks the val_acc column")
        self.assert_refused(self.results("int-status.h5", self.rows([0, 1], summary_dtype(status="<i4"))),
                            "/summary column status holds other values than text")
        self.assert_refused(self.results("not-a-table.h5", np.arange(5.0)), "/summary is not a table")

    def test_rows_the_file_does_not_hold_are_refused(self):
        # 10^8 rows never written: before, 11 GB of fill values
        self.assert_refused(self.results("unallocated.h5", shape=(10 ** 8,), dtype=summary_dtype()),
                            "/summary has 100000000 rows but none is stored")
        # one chunk of 1,000 rows written out of 10^8
        path = self.path("one-chunk.h5")
        with h5py.File(path, "w") as f:
            f.attrs["format"] = "nnlab-results"
            f.attrs["format_version"] = 2
            d = f.create_dataset("summary", shape=(10 ** 8,), dtype=summary_dtype(), chunks=(1000,))
            d[:1000] = self.rows(np.zeros(1000, dtype=int))
        self.assert_refused(path, "/summary claims 100000000 rows of %d bytes, more than the file's"
                            % summary_dtype().itemsize)

    def test_config_ids_out_of_range_are_refused(self):
        # before, 30,000,000 took 3.5 GB; -1 left its row out silently
        self.assert_refused(self.results("big-id.h5", self.rows([0, 30000000])),
                            "/summary row 1: config 30000000 is not a config point's id (0..999999)")
        self.assert_refused(self.results("negative-id.h5", self.rows([0, 1, -1])),
                            "/summary row 2: config -1 is not a config point's id (0..999999)")

    def test_sparse_ids_and_many_config_points_summarise(self):
        # a merge leaves out runs without a run file: ids need not be below the row count
        dtype = summary_dtype(extra=[("training.learning_rate", "<f8")])
        s = self.rows([0, 7, 7, 3], dtype)
        s["test_acc"] = [0.25, 0.5, 0.75, 1.0]
        s["training.learning_rate"] = [0.1, 0.8, 0.8, 0.4]
        s["status"][2] = b"diverged"
        r = nnlab("summary", self.results("sparse.h5", s), "--csv", "--sort", "test_loss")
        self.assertEqual(r.returncode, 0, r.stderr)
        got = list(csv.DictReader(io.StringIO(r.stdout)))
        self.assertEqual([g["config"] for g in got], ["0", "3", "7"])  # equal losses: by config id
        self.assertEqual([g["runs"] for g in got], ["1", "1", "2"])
        self.assertEqual([g["diverged"] for g in got], ["0", "0", "1"])
        self.assertEqual([float(g["test_acc_mean"]) for g in got], [0.25, 1.0, 0.625])
        self.assertEqual([g["training.learning_rate"] for g in got], ["0.1", "0.4", "0.8"])
        # 20,000 rows of 5,000 config points, in shuffled order: each mean over its own 4 runs
        n, k = 5000, 4
        configs = np.random.default_rng(1).permutation(np.repeat(np.arange(n), k))
        s = self.rows(configs)
        s["test_acc"] = configs / n + np.arange(n * k) % 2 * 1e-6
        r = nnlab("summary", self.results("many.h5", s), "--csv", "--sort", "test_loss")
        self.assertEqual(r.returncode, 0, r.stderr)
        got = list(csv.DictReader(io.StringIO(r.stdout)))
        self.assertEqual(len(got), n)
        for g in got:
            c = int(g["config"])
            want = s["test_acc"][configs == c].mean()
            self.assertEqual(g["runs"], str(k))
            self.assertAlmostEqual(float(g["test_acc_mean"]), want, places=12)

    def test_format_1_still_summarises(self):
        r = nnlab("summary", os.path.join(FIXTURES, "format1-results.h5"), "--csv")
        self.assertEqual(r.returncode, 0, r.stderr)
        got = list(csv.DictReader(io.StringIO(r.stdout)))
        with open(os.path.join(FIXTURES, "format1-summary.csv")) as f:
            want = list(csv.DictReader(f))  # nnlab 0.3's own output for this file
        self.assertEqual([g["config"] for g in got], [w["config"] for w in want])
        for g, w in zip(got, want):
            self.assertEqual(g["runs"], w["seeds"])
            for key in w:
                if key != "seeds":
                    self.assertEqual(g[key], w[key], key)


class DataValues(Tmp):
    """Values in CSV and HDF5 data files: decimal numbers in float range."""

    def refused(self, data_name, source, message, **extra):
        exp = self.path("e.yaml")
        with open(exp, "w") as f:
            f.write("dataset: {source: %s, path: %s%s}\nmodel: {hidden: [4]}\ntraining: {epochs: 1}\n"
                    % (source, data_name, "".join(", %s: %s" % kv for kv in extra.items())))
        before = sorted(os.listdir(self.tmp))
        for args in (["run", exp, "-o", self.path("out"), "--quiet"], ["check", exp]):
            r = nnlab(*args, cwd=self.tmp)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.assertIn("%s: %s" % (self.path(data_name), message), r.stderr)
            self.assertEqual(sorted(os.listdir(self.tmp)), before)  # nothing written

    def write_csv(self, name, cell, line=6, column=2):
        """12 rows "r,2r,r%3" with cell at (line, column), both from 1, as bytes."""
        rows = [[b"%d" % r, b"%d" % (2 * r), b"%d" % (r % 3)] for r in range(12)]
        rows[line - 1][column - 1] = cell
        with open(self.path(name), "wb") as f:
            f.write(b"\n".join(b",".join(r) for r in rows) + b"\n")

    def test_csv_beyond_float_range(self):
        # before, each became inf and the runs "diverged"
        for cell in (b"1e39", b"-1e39", b"1e300", b"1e400"):
            self.write_csv("big.csv", cell)
            self.refused("big.csv", "csv", "line 6, column 2: '%s' is not a number in float range" % cell.decode())

    def test_csv_nul_byte_and_hexadecimal(self):
        # before, 1\0garbage was read as 1 and 0x10 as 16
        self.write_csv("nul.csv", b"1\0garbage", line=4, column=1)
        self.refused("nul.csv", "csv", "line 4, column 1: a NUL byte in the value")
        self.write_csv("hex.csv", b"0x10")
        self.refused("hex.csv", "csv", "line 6, column 2: not a decimal number: '0x10'")
        self.write_csv("inf.csv", b"inf", line=3)
        self.refused("inf.csv", "csv", "line 3, column 2: not a finite number: 'inf'")

    def test_hdf5_float64_beyond_float_range(self):
        x = np.array([[r, 2 * r] for r in range(12)], dtype="<f8")
        x[5, 1] = 1e39
        with h5py.File(self.path("big.h5"), "w") as f:
            f["X"] = x
            f["y"] = np.arange(12) % 3
        self.refused("big.h5", "hdf5", "'X' row 5, column 1: 1e+39 is not a number in float range")

    def test_small_values_underflow_to_zero(self):
        self.write_csv("tiny.csv", b"1e-400")  # underflows even a double: read as 0 (nnlab 0.3 refused it)
        exp = self.path("tiny.yaml")
        with open(exp, "w") as f:
            f.write("dataset: {source: csv, path: tiny.csv}\nmodel: {hidden: [4]}\ntraining: {epochs: 1}\n")
        r = nnlab("run", exp, "-o", self.path("out"), "--quiet")
        self.assertEqual(r.returncode, 0, r.stderr)


class YamlValues(Tmp):
    """Numbers in experiment files are decimal; tags agree with the setting."""

    def check(self, *overrides):
        return nnlab("check", os.path.join(SRC, "experiments", "seed-baseline.yaml"), *overrides, cwd=self.tmp)

    def test_refused_with_the_setting_named(self):
        for arg, message in (
                ("training.epochs=0x10", "training.epochs: 0x10 is not a decimal number; write 16"),
                ("training.learning_rate=0x1p-3", "training.learning_rate: 0x1p-3 is not a decimal number; write "
                                                  "0.125"),
                ("training.learning_rate=.inf", "training.learning_rate: .inf is not a finite number"),
                ("training.epochs=!!str 2", "training.epochs: expected an integer, got '2' tagged !!str: a string, "
                                            "not a number"),
                ("training.epochs=!foo 2", "tag !foo: nnlab reads only the YAML core schema's tags"),
                ("training.epochs=!!python/object 2", "tag !!python/object: nnlab reads only"),
                ("training.shuffle=!!int 1", "training.shuffle: expected true or false, got '1' tagged !!int")):
            r = self.check(arg)
            self.assertEqual(r.returncode, 2, (arg, r.stderr))
            self.assertTrue(r.stderr.startswith("command line (%s):1:" % arg), r.stderr)
            self.assertIn(message, r.stderr.splitlines()[0])
            self.assertEqual(os.listdir(self.tmp), [])

    def test_tags_that_agree_are_read(self):
        r = self.check("training.epochs=!!int 2", "training.learning_rate=!!float 1e-2", "training.shuffle=!!bool true",
                       "model.activation=!!str relu")
        self.assertEqual(r.returncode, 0, r.stderr)
        for line in ("  epochs: 2\n", "  learning_rate: 0.01\n", "  shuffle: true\n", "  activation: relu\n"):
            self.assertIn(line, r.stdout)


if __name__ == "__main__":
    unittest.main()
