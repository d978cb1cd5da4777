#!/usr/bin/env python3
"""How long nnlab report's page of a 1,000-run experiment takes to open in
Chromium (issue 29 asks for under 2 s). Runs a grid of 200 config points x
5 seeds of a tiny network for 2 epochs (under a minute on 2 cores), renders
its report, opens it in headless Chromium three times (one browser, over
its DevTools protocol: scripts/nnlab_browser.py) and prints one JSON line:

  {"report_runs": 1000, "report_open_s": 0.41, "report_bytes": 612345, "report_render_s": 9.8}

report_open_s is the median of performance.timing's loadEventEnd -
navigationStart, in seconds: the browser parsing, laying out and drawing
the page, from file://. report_render_s is the wall time of nnlab report.
A benchmark, not a test: it asserts nothing about time.

  NNLAB=build/nnlab python3 scripts/bench/report_open.py [--keep DIR]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import nnlab_browser  # noqa: E402

# 4 x 5 x 5 x 2 = 200 config points, 5 seeds: 1,000 runs
EXPERIMENT = """name: report-bench
dataset: {validation_fraction: 0.2, scale: standard}
model: {hidden: [8]}
training: {epochs: 2, batch_size: 32, learning_rate: 0.05}
storage: {keep_weights: none, keep_init: false}
seeds: {count: 5, start: 1}
grid:
  model.hidden: [[4], [8], [16], [32]]
  training.learning_rate: [0.003, 0.01, 0.03, 0.1, 0.3]
  training.l2: [0.0, 0.0001, 0.001, 0.01, 0.1]
  model.activation: [tanh, relu]
"""


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--nnlab", default=os.environ.get("NNLAB", "build/nnlab"))
    p.add_argument("--keep", help="write the experiment and report into this folder and keep them")
    args = p.parse_args()
    tmp = args.keep or tempfile.mkdtemp(prefix="nnlab_report_bench_")
    os.makedirs(tmp, exist_ok=True)
    try:
        exp = os.path.join(tmp, "report-bench.yaml")
        with open(exp, "w") as f:
            f.write(EXPERIMENT)
        out = os.path.join(tmp, "out")
        subprocess.run([args.nnlab, "run", exp, "-o", out, "-j", str(os.cpu_count() or 1), "--quiet", "--force"],
                       check=True)
        page = os.path.join(tmp, "report.html")
        start = time.perf_counter()
        subprocess.run([args.nnlab, "report", out, "-o", page], check=True, stdout=subprocess.DEVNULL)
        render = time.perf_counter() - start
        with nnlab_browser.Chromium() as b:
            times = []
            for _ in range(3):
                b.open("file://" + page)
                times.append(b.evaluate("performance.timing.loadEventEnd - performance.timing.navigationStart"))
            errors = b.errors
        if errors:
            raise SystemExit("error: the report's page logged errors: %s" % errors[:3])
        import h5py
        with h5py.File(os.path.join(out, "results.h5"), "r") as f:
            runs = len(f["summary"])
        print(json.dumps({"report_runs": runs, "report_open_s": round(statistics.median(times) / 1000, 3),
                          "report_bytes": os.path.getsize(page), "report_render_s": round(render, 2)}))
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
