#!/usr/bin/env python3
"""Write the example data sets of docs/data.md from the copies scikit-learn
ships (no download): load_breast_cancer and load_wine read files inside the
sklearn package.

  breast-cancer.csv      563 rows: a header, 30 measurements, then the label
                         "malignant" or "benign" (CSV with class names)
  breast-cancer-new.csv  6 rows held out of breast-cancer.csv (3 of each
                         class): the header and the 30 measurements, no label
                         (new data for `nnlab predict`)
  wine.h5                X float64 (178, 13), y int64 (178) in 0..2 (HDF5)

into data/examples/ (git-ignored), or the folder given with -o. The output
is the same bytes every time.

  python3 scripts/make-example-data.py
  python3 scripts/make-example-data.py -o /tmp/nnlab-data
"""
import argparse
import importlib
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(ROOT, "data", "examples")
HELD_OUT_PER_CLASS = 3  # rows of each class kept out of breast-cancer.csv for breast-cancer-new.csv


def modules():
    """numpy, sklearn.datasets and h5py, or exit 1 saying which are missing and how to get them."""
    found, missing = [], []
    for module, package in (("numpy", "numpy"), ("sklearn.datasets", "scikit-learn"), ("h5py", "h5py")):
        try:
            found.append(importlib.import_module(module))
        except ImportError:
            missing.append(package)
    if missing:
        sys.exit("make-example-data.py: %s lacks %s; install them (Debian: scripts/install-deps.sh installs "
                 "python3-sklearn and python3-h5py for /usr/bin/python3; or pip install %s), or run this script "
                 "with a Python that has them, such as /usr/bin/python3 scripts/make-example-data.py"
                 % (sys.executable, ", ".join(missing), " ".join(missing)))
    return found


def number(v):
    """A value as the shortest text that reads back as the same double."""
    return repr(float(v))


def write_text(path, lines):
    """Write lines (with \\n endings) beside path, then rename: whole or not there."""
    tmp = path + ".tmp"
    with open(tmp, "w", newline="\n") as f:
        f.writelines(line + "\n" for line in lines)
    os.replace(tmp, path)


def breast_cancer(out, datasets, np):
    """The CSV with class names, and the unlabelled rows held out of it."""
    b = datasets.load_breast_cancer()
    header = [name.replace(" ", "_") for name in b.feature_names]
    names = [str(b.target_names[t]) for t in b.target]
    # The last HELD_OUT_PER_CLASS rows of each class, in file order.
    held = sorted(i for c in range(len(b.target_names)) for i in np.flatnonzero(b.target == c)[-HELD_OUT_PER_CLASS:])
    kept = [i for i in range(len(b.target)) if i not in set(held)]
    write_text(os.path.join(out, "breast-cancer.csv"),
               [",".join(header + ["diagnosis"])] +
               [",".join([number(v) for v in b.data[i]] + [names[i]]) for i in kept])
    write_text(os.path.join(out, "breast-cancer-new.csv"),
               [",".join(header)] + [",".join(number(v) for v in b.data[i]) for i in held])
    return len(kept), [names[i] for i in held]


def wine(out, datasets, np, h5py):
    """The HDF5 file: X (178, 13) float64, y (178) int64."""
    w = datasets.load_wine()
    path = os.path.join(out, "wine.h5")
    tmp = path + ".tmp"
    # track_times=False and the earliest file format: no timestamps, the same bytes every time.
    with h5py.File(tmp, "w", libver="earliest", track_order=False) as f:
        f.create_dataset("X", data=np.asarray(w.data, dtype=np.float64), track_times=False)
        f.create_dataset("y", data=np.asarray(w.target, dtype=np.int64), track_times=False)
    os.replace(tmp, path)
    return w.data.shape


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-o", "--output", default=DEFAULT_OUT,
                   help="folder to write into (made if missing; default: data/examples/ of the repository)")
    a = p.parse_args()
    np, datasets, h5py = modules()
    try:
        os.makedirs(a.output, exist_ok=True)
        n_bc, held = breast_cancer(a.output, datasets, np)
        shape = wine(a.output, datasets, np, h5py)
    except OSError as e:
        sys.exit("make-example-data.py: %s: %s" % (e.filename or a.output, e.strerror))
    out = os.path.relpath(a.output) if not os.path.relpath(a.output).startswith("..") else a.output
    print("%s/breast-cancer.csv      %d rows: 30 features, then malignant or benign" % (out, n_bc))
    print("%s/breast-cancer-new.csv  %d rows to predict (features only; they are %s)" %
          (out, len(held), ", ".join(held)))
    print("%s/wine.h5                X (%d, %d) float64, y (%d) in 0..2" % (out, shape[0], shape[1], shape[0]))


if __name__ == "__main__":
    main()
