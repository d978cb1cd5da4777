#!/usr/bin/env python3
"""The benchmark driver behind scripts/bench/run.sh: runs every contender,
prints the table and the targets of issue 6, and writes a JSON file."""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

import h5py

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
BASELINE = os.path.join(ROOT, "experiments", "seed-baseline.yaml")
FASHION = os.path.join(ROOT, "experiments", "fashion-mnist.yaml")
# forward + weight gradients + input gradients (not for the input layer) of 784-256-256-10
FASHION_FLOPS = 2 * 268800 + 2 * 268800 + 2 * (256 * 256 + 256 * 10)


def sh(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.exit("bench: %s failed:\n%s" % (" ".join(cmd), r.stderr))
    return r


def json_lines(cmd):
    return [json.loads(line) for line in sh(cmd).stdout.splitlines() if line.startswith("{")]


def nnlab_runs(nnlab, tmp, name, *args):
    out = os.path.join(tmp, name)
    r = sh([nnlab, "run", *args, "-o", out, "--force"])
    with h5py.File(os.path.join(out, "results.h5"), "r") as f:
        runs = [dict(f["runs"][k].attrs) for k in f["runs"]]
        acc = f["summary"]["final_test_acc"]
    return runs, acc, r.stderr


def progress(msg):
    """One line on stderr per step, so that the few minutes of a run show where it is."""
    print("bench: " + msg, file=sys.stderr, flush=True)


def run_phase(stderr):
    """The run phase's seconds and runs/s from nnlab's closing line."""
    m = re.search(r"runs done .* in ([0-9.]+) s \(([0-9.]+) runs/s\)", stderr)
    return float(m.group(1)), float(m.group(2))


def machine(nnlab):
    """What the figures were measured on: the CPU (as /proc/cpuinfo names it),
    the kernel clone nnlab picks on it (src/nnlab.h), and nnlab's version."""
    info, flags = {}, set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key, value = key.strip(), value.strip()
                if key == "flags":
                    flags = set(value.split())
                elif key in ("model name", "cpu family", "model") and key not in info:
                    info[key] = value
    except OSError:
        pass
    v3 = {"avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave"}
    v4 = v3 | {"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"}
    kernels = ("x86-64-v4 (AVX-512)" if v4 <= flags else "x86-64-v3 (AVX2 + FMA)" if v3 <= flags
               else "baseline x86-64")
    version = subprocess.run([nnlab, "--version"], capture_output=True, text=True).stdout.strip()
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    return {"cpu": "%s (family %s, model %s)" % (info.get("model name", "?"), info.get("cpu family", "?"),
                                                 info.get("model", "?")),
            "cpus": os.cpu_count(), "kernels": kernels, "nnlab": version, "commit": commit or None}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--nnlab", required=True)
    ap.add_argument("--sgemm", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--repeat", type=int, default=5, help="pairs of runs for PyTorch and scikit-learn (median)")
    ap.add_argument("--repeat-numpy", type=int, default=9,
                    help="pairs of runs for the numpy port, whose ratio has a target (median)")
    ap.add_argument("--repeat-scaling", type=int, default=9,
                    help="pairs of -j 1 and -j 2 measurements, in alternating order (median)")
    args = ap.parse_args()
    py = sys.executable
    tmp = tempfile.mkdtemp(prefix="nnlab_bench_")
    res = {}
    try:
        # 1. The tutorial network, per-example SGD, seconds per run on one thread. The tutorial's
        # work is the training and the test set's accuracy after every epoch, so nnlab runs it with
        # test curves only (training.train_curves=false); its default, which also evaluates the
        # training set (4 of the 5 rows) at every epoch, is measured beside it. Each run of a
        # Python contender is paired with nnlab runs just before and just after it (their mean),
        # so that both see the same machine (its speed drifts by tens of percent), and the median
        # pair's ratio is reported.
        t = res["tutorial"] = {}
        nn, nn_train, nn_all, nn_acc = [], [], [], []
        for impl, script in (("numpy", "tutorial_numpy.py"), ("pytorch", "tutorial_torch.py"),
                             ("sklearn", "tutorial_sklearn.py")):
            secs, accs, ratios, ratios_all = [], [], [], []
            reps = args.repeat_numpy if impl == "numpy" else args.repeat
            for rep in range(reps):
                progress("1. tutorial network: %s, pair %d of %d" % (impl, rep + 1, reps))
                seeds = "seeds={count: 10, start: %d}" % (10 * rep + 1)
                full, _, _ = nnlab_runs(args.nnlab, tmp, "tutorial-all", BASELINE, "-j", "1", seeds)
                before, acc, _ = nnlab_runs(args.nnlab, tmp, "tutorial", BASELINE, "-j", "1", seeds,
                                            "training.train_curves=false")
                line = json_lines([py, os.path.join(HERE, script), "--runs", "1", "--seed", str(rep + 1)])[0]
                after, _, _ = nnlab_runs(args.nnlab, tmp, "tutorial", BASELINE, "-j", "1", seeds,
                                         "training.train_curves=false")
                nn.append(statistics.mean(statistics.median(r["seconds"] for r in x) for x in (before, after)))
                nn_train.append(statistics.median(r["train_seconds"] for r in before + after))
                nn_all.append(statistics.median(r["seconds"] for r in full))
                nn_acc.append(float(acc.mean()))
                secs.append(line["seconds"])
                accs.append(line["test_acc"])
                ratios.append(line["seconds"] / nn[-1])
                ratios_all.append(line["seconds"] / nn_all[-1])
            t[impl] = statistics.median(secs)
            t[impl + "_test_acc"] = statistics.mean(accs)
            t[impl + "_ratio"] = statistics.median(ratios)
            t[impl + "_ratio_all_curves"] = statistics.median(ratios_all)
            t[impl + "_pair_ratios"] = ratios
        t.update(nnlab=statistics.median(nn), nnlab_train_only=statistics.median(nn_train),
                 nnlab_all_curves=statistics.median(nn_all), nnlab_test_acc=statistics.mean(nn_acc))
        # 2. Fashion-MNIST 784-256-256-10, batch 128, one epoch: training samples per second. Three
        # rounds of sgemm, nnlab, sgemm, PyTorch: nnlab's GFLOP/s is set against the mean of the sgemm
        # runs just before and after it (a single sgemm run, minutes from nnlab's, once measured
        # slower than nnlab's own sgemm calls), and the median round is reported.
        rounds = []
        for rnd in range(3):
            progress("2. Fashion-MNIST: sgemm, nnlab, sgemm and PyTorch, round %d of 3" % (rnd + 1))
            before = json_lines([args.sgemm])[0]["gflops"]
            runs, acc, _ = nnlab_runs(args.nnlab, tmp, "fashion", FASHION, "-j", "1", "training.epochs=1", "seeds=[1]",
                                      "dataset.validation_fraction=0")  # all 60,000 images, as PyTorch trains
            after = json_lines([args.sgemm])[0]["gflops"]
            nn_sps = 60000 / runs[0]["train_seconds"]
            torch_sps = json_lines([py, os.path.join(HERE, "fashion_torch.py")])[0]["samples_per_s"]
            rounds.append({"nnlab_samples_per_s": nn_sps, "pytorch_samples_per_s": torch_sps,
                           "nnlab_gflops": nn_sps * FASHION_FLOPS / 1e9, "sgemm_gflops": (before + after) / 2,
                           "nnlab_test_acc_1_epoch": float(acc[0])})
        res["fashion"] = dict(sorted(rounds, key=lambda r: r["nnlab_gflops"] / r["sgemm_gflops"])[1])
        res["fashion"]["pytorch_ratios"] = [r["nnlab_samples_per_s"] / r["pytorch_samples_per_s"] for r in rounds]
        res["fashion"]["sgemm_ratios"] = [r["nnlab_gflops"] / r["sgemm_gflops"] for r in rounds]
        res["fashion"]["pytorch_ratio"] = statistics.median(res["fashion"]["pytorch_ratios"])
        # 3. Scaling: 8 runs of the tutorial network on 1 and 2 threads (runs/s of the run phase),
        # measured in back-to-back pairs so that both halves of a pair see the same machine (its
        # speed drifts by tens of percent on a shared host); the median pair is reported.
        # Beside each pair, what this machine gives two independent processes: two nnlab processes of
        # 4 runs each (-j 1) started together, 8 runs over the longer run phase against -j 1 alone
        # (which errs high when one starts late: the two phases then span more than the longer).
        pairs, apart = [], []
        # The order alternates from pair to pair, so that a drift of the machine's speed within a
        # pair favours neither side.
        for pair in range(args.repeat_scaling):
            progress("3. scaling: pair %d of %d" % (pair + 1, args.repeat_scaling))
            rate = {}
            for j in ((1, 2) if pair % 2 == 0 else (2, 1)):
                _, _, err = nnlab_runs(args.nnlab, tmp, "scale%d" % j, BASELINE, "-j", str(j), "seeds={count: 8, start: 1}")
                rate[j] = run_phase(err)[1]
            pairs.append((rate[2] / rate[1], rate[1], rate[2]))
            procs = [subprocess.Popen([args.nnlab, "run", BASELINE, "-j", "1", "seeds={count: 4, start: %d}" % (1 + 4 * k),
                                       "-o", os.path.join(tmp, "apart%d" % k), "--force"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for k in (0, 1)]
            errs = [p.communicate()[1] for p in procs]
            if any(p.returncode for p in procs):
                sys.exit("bench: two nnlab processes side by side failed:\n%s" % "".join(errs))
            apart.append(8 / max(run_phase(e)[0] for e in errs) / rate[1])
        ratio, r1, r2 = sorted(pairs)[len(pairs) // 2]
        res["scaling"] = {"runs_per_s_1": r1, "runs_per_s_2": r2, "pair_ratios": [p[0] for p in pairs],
                          "two_processes_ratio": statistics.median(apart), "two_processes_ratios": apart}
        # 4. Memory: peak RSS of a 2-thread Fashion-MNIST grid.
        progress("4. memory: a 2-thread Fashion-MNIST grid")
        out = os.path.join(tmp, "memory")
        r = sh(["/usr/bin/time", "-v", args.nnlab, "run", FASHION, "-j", "2", "training.epochs=1", "seeds=[1]",
                "training.learning_rate=0.01,0.02", "-o", out])  # with its validation split
        rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr).group(1)) / 1024
        m = re.search(r"memory: data ([0-9.]+) MiB, ([0-9.]+) MiB per run", r.stderr)
        res["memory"] = {"peak_rss_mib": rss, "data_mib": float(m.group(1)), "run_state_mib": float(m.group(2))}
        # 5. What validation costs: the tutorial network with test curves only (its work, as in 1) against
        # the same with a validation split (dataset.validation_fraction=0.2: 20% fewer training rows, one
        # more set evaluated every epoch), in back-to-back pairs of 10 runs each, seconds per run; the
        # median pair is reported. Both without the training curves (training.train_curves=false).
        vpairs = []
        for pair in range(args.repeat_scaling):
            progress("5. validation cost: pair %d of %d" % (pair + 1, args.repeat_scaling))
            secs = {}
            for v in (("0", "0.2") if pair % 2 == 0 else ("0.2", "0")):
                runs, _, _ = nnlab_runs(args.nnlab, tmp, "val" + v, BASELINE, "-j", "1", "seeds={count: 10, start: 1}",
                                        "training.train_curves=false", "dataset.validation_fraction=" + v)
                secs[v] = statistics.median(r["seconds"] for r in runs)
            vpairs.append((secs["0.2"] / secs["0"], secs["0"], secs["0.2"]))
        vr, v0, v2 = sorted(vpairs)[len(vpairs) // 2]
        res["validation"] = {"test_only_s": v0, "val_and_test_s": v2, "ratio": vr, "pair_ratios": [p[0] for p in vpairs]}
    finally:
        shutil.rmtree(tmp)

    res["machine"] = mc = machine(args.nnlab)
    t, f, s, m = res["tutorial"], res["fashion"], res["scaling"], res["memory"]
    budget = m["data_mib"] + 2 * m["run_state_mib"] + 64
    checks = [
        ("tutorial: nnlab vs numpy", t["numpy_ratio"], ">= 50x", t["numpy_ratio"] >= 50),
        ("  with all four curves", t["numpy_ratio_all_curves"], "(more work)", None),
        ("tutorial: nnlab vs PyTorch", t["pytorch_ratio"], "> numpy ratio", t["pytorch_ratio"] > t["numpy_ratio"]),
        ("tutorial: nnlab vs scikit-learn", t["sklearn_ratio"], "> numpy ratio", t["sklearn_ratio"] > t["numpy_ratio"]),
        ("fashion: samples/s vs PyTorch", f["pytorch_ratio"], ">= 1.0x (aim 1.2x)", f["pytorch_ratio"] >= 1.0),
        ("fashion: GFLOP/s vs sgemm", f["nnlab_gflops"] / f["sgemm_gflops"], ">= 0.5",
         f["nnlab_gflops"] >= 0.5 * f["sgemm_gflops"]),
        ("scaling: runs/s -j 2 vs -j 1", s["runs_per_s_2"] / s["runs_per_s_1"], ">= 1.85x",
         s["runs_per_s_2"] >= 1.85 * s["runs_per_s_1"]),
        ("  two processes of -j 1 at once", s["two_processes_ratio"], "(the machine)", None),
        ("memory: peak RSS / budget", m["peak_rss_mib"] / budget, "<= 1", m["peak_rss_mib"] <= budget),
        ("validation + test curves / test only", res["validation"]["ratio"], "<= 1.15x",
         res["validation"]["ratio"] <= 1.15),
    ]
    res["checks"] = [{"what": w.strip(), "value": v, "target": tg, "met": ok if ok is None else bool(ok)}
                     for w, v, tg, ok in checks]
    print("Machine: %s, %d CPUs; nnlab's kernels: %s; %s%s" % (mc["cpu"], mc["cpus"], mc["kernels"], mc["nnlab"],
                                                              " (commit %s)" % mc["commit"] if mc["commit"] else ""))
    print("1. Tutorial network 64-200-10, per-example SGD, 10 epochs (seconds per run, one thread)")
    print("   nnlab %.4f s (training steps alone %.4f s; test curves every epoch, as the tutorial), mean test acc %.4f"
          % (t["nnlab"], t["nnlab_train_only"], t["nnlab_test_acc"]))
    print("   nnlab %.4f s with its default curves (train and test sets every epoch)" % t["nnlab_all_curves"])
    for impl in ("numpy", "pytorch", "sklearn"):
        print("   %-8s %.3f s  (%.1fx nnlab, %.1fx with its default curves; the pairs: %s), test acc %.4f"
              % (impl, t[impl], t[impl + "_ratio"], t[impl + "_ratio_all_curves"],
                 ", ".join("%.1f" % r for r in t[impl + "_pair_ratios"]), t[impl + "_test_acc"]))
    print("2. Fashion-MNIST 784-256-256-10, ReLU, Nesterov, batch 128, 1 epoch (training samples/s, one thread),"
          " median of 3 rounds")
    print("   nnlab %.0f/s (%.1f GFLOP/s), PyTorch %.0f/s; OpenBLAS sgemm at these shapes %.1f GFLOP/s"
          % (f["nnlab_samples_per_s"], f["nnlab_gflops"], f["pytorch_samples_per_s"], f["sgemm_gflops"]))
    print("   the rounds: nnlab vs PyTorch %s; nnlab vs sgemm %s"
          % (", ".join("%.2f" % r for r in f["pytorch_ratios"]), ", ".join("%.2f" % r for r in f["sgemm_ratios"])))
    print("3. Scaling, 8 tutorial runs, median of %d back-to-back pairs: %.2f runs/s with -j 1, %.2f with -j 2"
          " (the pairs' ratios: %s)" % (len(s["pair_ratios"]), s["runs_per_s_1"], s["runs_per_s_2"],
                                     ", ".join("%.2f" % r for r in s["pair_ratios"])))
    print("   two nnlab processes of 4 runs (-j 1) at once, against -j 1 alone: %.2fx (median; %s)"
          % (s["two_processes_ratio"], ", ".join("%.2f" % r for r in s["two_processes_ratios"])))
    print("4. Memory, 2-thread Fashion-MNIST grid: peak RSS %.1f MiB; data %.1f MiB + 2 x %.2f MiB run state + 64 MiB"
          " = %.1f MiB" % (m["peak_rss_mib"], m["data_mib"], m["run_state_mib"], budget))
    vd = res["validation"]
    print("5. Validation, tutorial network without training curves: %.4f s per run with test curves only, %.4f s"
          " with a validation split (0.2) and its curves (median of %d pairs: %s)"
          % (vd["test_only_s"], vd["val_and_test_s"], len(vd["pair_ratios"]),
             ", ".join("%.2f" % r for r in vd["pair_ratios"])))
    print()
    print("%-34s %10s  %-20s %s" % ("target", "measured", "wanted", "met"))
    for w, v, tg, ok in checks:
        print("%-34s %10.2f  %-20s %s" % (w, v, tg, "-" if ok is None else "yes" if ok else "NO"))
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as fh:
        json.dump(res, fh, indent=2)
    print("\nwrote %s" % args.out)


if __name__ == "__main__":
    main()
