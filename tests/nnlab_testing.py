"""Helpers the end-to-end tests share."""
import glob
import os

import h5py


def run_files(out):
    """The finished run files of an output folder, sorted."""
    return sorted(glob.glob(os.path.join(out, "runs", "r*.h5")))


def results_contents(path):
    """{name: bytes} of everything in a results.h5 that must not depend on how
    the experiment was run (threads, interruptions, shards): every dataset
    under /runs and /aggregate, the summary without its timings, and the
    fingerprint (the experiment text differs in its output folder)."""
    out = {}
    with h5py.File(path, "r") as f:
        for top in ("runs", "aggregate"):
            f[top].visititems(lambda n, o, top=top: out.__setitem__(top + "/" + n, o[()].tobytes())
                              if isinstance(o, h5py.Dataset) else None)
        s = f["summary"][()]
        for col in s.dtype.names:
            if col != "seconds":
                out["summary/" + col] = s[col].tobytes()
        out["fingerprint"] = f.attrs["fingerprint"]
    return out
