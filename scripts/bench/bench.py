#!/usr/bin/env python3
"""The benchmark driver behind scripts/bench/run.sh: runs every contender,
prints the table and the targets (docs/performance.md), and writes a JSON
file. --quick runs fewer pairs and rounds of the same measurements (under two
minutes on the 2-core development machine) and marks the JSON as quick."""
import argparse
import gzip
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import nnlab_results  # noqa: E402  (section 7 ranks as nnlab summary ranks)
BASELINE = os.path.join(ROOT, "experiments", "seed-baseline.yaml")
DIGITS = os.path.join(ROOT, "data", "digits.csv.gz")
FASHION = os.path.join(ROOT, "experiments", "fashion-mnist.yaml")
THINGS = os.path.join(ROOT, "experiments", "things-to-try.yaml")
THINGS_RANDOM = os.path.join(HERE, "things-to-try-random.yaml")  # the same space, 24 random trials
THINGS_HALVING = os.path.join(HERE, "things-to-try-halving.yaml")  # the same space, successive halving (eta 3)
HOLDOUT = ["dataset.folds=0", "dataset.validation_fraction=0.2"]  # things-to-try's 5 folds -> a validation split
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


START = time.monotonic()


def progress(msg):
    """One line on stderr per step, so that the few minutes of a run show where it is (and how long each took)."""
    print("bench: [%3.0f s] %s" % (time.monotonic() - START, msg), file=sys.stderr, flush=True)


def run_phase(stderr):
    """The run phase's seconds and runs/s from nnlab's closing line."""
    m = re.search(r"runs done .* in ([0-9.]+) s \(([0-9.]+) runs/s\)", stderr)
    return float(m.group(1)), float(m.group(2))


def build_info(nnlab):
    """`nnlab --version --verbose`: the version, the kernel clone libgcc's resolver picks on this CPU,
    OpenBLAS's core and configuration, OPENBLAS_CORETYPE and the thread counts, one "key: value" a line."""
    return sh([nnlab, "--version", "--verbose"]).stdout.strip().splitlines()


def machine(build):
    """What the figures were measured on: the CPU (as /proc/cpuinfo names it), nnlab's own account of
    the code it runs (build_info) and the commit."""
    info = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key, value = key.strip(), value.strip()
                if key in ("model name", "cpu family", "model") and key not in info:
                    info[key] = value
    except OSError:
        pass
    fields = dict(line.partition(": ")[::2] for line in build[1:])
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    if commit and subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                                 capture_output=True, text=True).stdout.strip():
        commit += " with uncommitted changes"
    return {"cpu": "%s (family %s, model %s)" % (info.get("model name", "?"), info.get("cpu family", "?"),
                                                 info.get("model", "?")),
            "cpus": os.cpu_count(), "nnlab": build[0], "kernels": fields.get("kernels", "?"),
            "openblas": fields.get("OpenBLAS", "?"), "openblas_coretype": fields.get("OPENBLAS_CORETYPE", "?"),
            "threads": fields.get("threads", "?"), "version_verbose": build, "commit": commit or None}


def fann_setup(nnlab, tmp):
    """Compile scripts/bench/fann_tutorial.c (cc -O2, as run.sh compiles sgemm_bench.c) and write the
    digits in nnlab's split for it: the rows of data/train_index (in training order) and data/test_index
    of a seed-baseline run's results.h5, which index the rows of data/digits.csv.gz."""
    exe = os.path.join(tmp, "fann_tutorial")
    sh(["cc", "-O2", "-std=c11", "-D_POSIX_C_SOURCE=200809L", os.path.join(HERE, "fann_tutorial.c"),
        "-lfloatfann", "-lm", "-o", exe])
    out = os.path.join(tmp, "split")
    sh([nnlab, "run", BASELINE, "-j", "1", "seeds=[1]", "training.epochs=1", "-o", out, "--force", "--quiet"])
    with h5py.File(os.path.join(out, "results.h5"), "r") as f:
        train, test = f["data/train_index"][()], f["data/test_index"][()]
        if f["data/scale_offset"][()].any() or (f["data/scale_factor"][()] != 1).any():
            sys.exit("bench: seed-baseline's features are scaled; fann_tutorial needs the raw pixels")
    with gzip.open(DIGITS, "rt") as f:
        rows = np.loadtxt(f, delimiter=",", dtype=np.int64)
    data = os.path.join(tmp, "digits-split.txt")
    with open(data, "w") as f:
        f.write("%d %d %d %d\n" % (len(train), len(test), rows.shape[1] - 1, rows[:, -1].max() + 1))
        for i in np.concatenate([train, test]):
            f.write("%d %s\n" % (rows[i, -1], " ".join(map(str, rows[i, :-1]))))
    return exe, data


def median_middle(items, key):
    """The item of median key (the lower middle one of an even count)."""
    return sorted(items, key=key)[(len(items) - 1) // 2]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--nnlab", required=True)
    ap.add_argument("--sgemm", required=True)
    ap.add_argument("--merge-baseline", required=True,
                    help="nnlab built at the commit before one copy of every run (section 8's merge time)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--quick", action="store_true",
                    help="fewer pairs and rounds (3 for FANN and numpy, 1 for PyTorch and scikit-learn, 1 round"
                         " of Fashion-MNIST, 3 scaling and validation pairs) unless given below; the JSON says so")
    ap.add_argument("--repeat", type=int, help="pairs of runs for PyTorch and scikit-learn (median; 5)")
    ap.add_argument("--repeat-targets", type=int,
                    help="pairs of runs for FANN and the numpy port, whose ratios have targets (median; 9)")
    ap.add_argument("--rounds", type=int, help="rounds of the Fashion-MNIST measurements (median; 3)")
    ap.add_argument("--repeat-scaling", type=int,
                    help="pairs of -j 1 and -j 2 measurements, in alternating order, and of the validation"
                         " measurements (median; 9)")
    args = ap.parse_args()
    for name, full, quick in (("repeat", 5, 1), ("repeat_targets", 9, 3), ("rounds", 3, 1), ("repeat_scaling", 9, 3)):
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else full)
    py = sys.executable
    build = build_info(args.nnlab)
    print("\n".join(build), flush=True)
    mc = machine(build)  # the commit now, beside the build it names: the lead may commit during the run
    tmp = tempfile.mkdtemp(prefix="nnlab_bench_")
    res = {"quick": args.quick,
           "settings": {"pairs_fann_numpy": args.repeat_targets, "pairs_pytorch_sklearn": args.repeat,
                        "fashion_rounds": args.rounds, "pairs_scaling_validation": args.repeat_scaling}}
    try:
        # 1. The tutorial network, per-example SGD, seconds per run on one thread. The tutorial's
        # work is the training and the test set's accuracy after every epoch, so nnlab runs it with
        # test curves only (training.train_curves=false); its default, which also evaluates the
        # training set (4 of the 5 rows) at every epoch, is measured beside it. Each run of a
        # contender is paired with nnlab runs just before and just after it (their mean), so that
        # both see the same machine (its speed drifts by tens of percent), and the median pair's
        # ratio is reported. FANN, compiled C, is the anchor: a ratio against an interpreter moves
        # with the CPU generation much more than one against C.
        progress("1. tutorial network: compiling FANN's contender and writing nnlab's split for it")
        fann, fann_data = fann_setup(args.nnlab, tmp)
        contenders = (("fann", args.repeat_targets, lambda rep: [fann, fann_data, str(rep + 1)]),
                      ("numpy", args.repeat_targets, lambda rep: [py, os.path.join(HERE, "tutorial_numpy.py"),
                                                                  "--runs", "1", "--seed", str(rep + 1)]),
                      ("pytorch", args.repeat, lambda rep: [py, os.path.join(HERE, "tutorial_torch.py"),
                                                            "--runs", "1", "--seed", str(rep + 1)]),
                      ("sklearn", args.repeat, lambda rep: [py, os.path.join(HERE, "tutorial_sklearn.py"),
                                                            "--runs", "1", "--seed", str(rep + 1)]))
        t = res["tutorial"] = {}
        nn, nn_train, nn_all, nn_acc = [], [], [], []
        for impl, reps, command in contenders:
            secs, accs, ratios, ratios_all = [], [], [], []
            for rep in range(reps):
                progress("1. tutorial network: %s, pair %d of %d" % (impl, rep + 1, reps))
                seeds = "seeds={count: 10, start: %d}" % (10 * rep + 1)
                full, _, _ = nnlab_runs(args.nnlab, tmp, "tutorial-all", BASELINE, "-j", "1", seeds)
                before, acc, _ = nnlab_runs(args.nnlab, tmp, "tutorial", BASELINE, "-j", "1", seeds,
                                            "training.train_curves=false")
                line = json_lines(command(rep))[0]
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
        # 2. Fashion-MNIST 784-256-256-10, batch 128, one epoch: training samples per second. Rounds
        # of sgemm, nnlab, sgemm, PyTorch: nnlab's GFLOP/s is set against the mean of the sgemm runs
        # just before and after it (a single sgemm run, minutes from nnlab's, once measured slower
        # than nnlab's own sgemm calls), and the median round is reported.
        rounds = []
        for rnd in range(args.rounds):
            progress("2. Fashion-MNIST: sgemm, nnlab, sgemm and PyTorch, round %d of %d" % (rnd + 1, args.rounds))
            before = json_lines([args.sgemm])[0]["gflops"]
            runs, acc, _ = nnlab_runs(args.nnlab, tmp, "fashion", FASHION, "-j", "1", "training.epochs=1", "seeds=[1]",
                                      "dataset.validation_fraction=0")  # all 60,000 images, as PyTorch trains
            after = json_lines([args.sgemm])[0]["gflops"]
            nn_sps = 60000 / runs[0]["train_seconds"]
            torch_sps = json_lines([py, os.path.join(HERE, "fashion_torch.py")])[0]["samples_per_s"]
            rounds.append({"nnlab_samples_per_s": nn_sps, "pytorch_samples_per_s": torch_sps,
                           "nnlab_gflops": nn_sps * FASHION_FLOPS / 1e9, "sgemm_gflops": (before + after) / 2,
                           "nnlab_test_acc_1_epoch": float(acc[0])})
        res["fashion"] = dict(median_middle(rounds, key=lambda r: r["nnlab_gflops"] / r["sgemm_gflops"]))
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
        ratio, r1, r2 = median_middle(pairs, key=lambda p: p[0])
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
        vr, v0, v2 = median_middle(vpairs, key=lambda p: p[0])
        res["validation"] = {"test_only_s": v0, "val_and_test_s": v2, "ratio": vr, "pair_ratios": [p[0] for p in vpairs]}
        # 6. Optimizers. (a) The tutorial network per example (batch 1, test curves only, one thread):
        # adam and rmsprop against momentum, in back-to-back triples of 10 runs each, the order rotating
        # from triple to triple; seconds per run, the median triple by adam's ratio. (b) Fashion-MNIST
        # at batch 128, one epoch: adam's training samples/s against nesterov's (the experiment's), in
        # back-to-back pairs, the order alternating; the median pair.
        triples = []
        for k in range(args.repeat_scaling):
            progress("6a. optimizers, tutorial network: triple %d of %d" % (k + 1, args.repeat_scaling))
            secs = {}
            kinds = ("momentum", "adam", "rmsprop")
            for o in kinds[k % 3:] + kinds[:k % 3]:
                runs, _, _ = nnlab_runs(args.nnlab, tmp, "opt-" + o, BASELINE, "-j", "1", "seeds={count: 10, start: 1}",
                                        "training.train_curves=false", "training.optimizer=" + o)
                secs[o] = statistics.median(r["seconds"] for r in runs)
            triples.append((secs["adam"] / secs["momentum"], secs["rmsprop"] / secs["momentum"], secs))
        ar, rr, osecs = median_middle(triples, key=lambda p: p[0])
        fpairs = []
        for k in range(args.rounds):
            progress("6b. optimizers, Fashion-MNIST batch 128: pair %d of %d" % (k + 1, args.rounds))
            sps = {}
            for o in (("nesterov", "adam") if k % 2 == 0 else ("adam", "nesterov")):
                runs, _, _ = nnlab_runs(args.nnlab, tmp, "fopt-" + o, FASHION, "-j", "1", "training.epochs=1",
                                        "seeds=[1]", "dataset.validation_fraction=0", "training.optimizer=" + o,
                                        "training.learning_rate=0.001")  # the same work for both
                sps[o] = 60000 / runs[0]["train_seconds"]
            fpairs.append((sps["adam"] / sps["nesterov"], sps))
        far, fsps = median_middle(fpairs, key=lambda p: p[0])
        res["optimizers"] = {"tutorial_s": osecs, "adam_vs_momentum": ar, "rmsprop_vs_momentum": rr,
                             "tutorial_adam_ratios": [p[0] for p in triples],
                             "fashion_samples_per_s": fsps, "fashion_adam_vs_nesterov": far,
                             "fashion_ratios": [p[0] for p in fpairs]}
        # 7. Search efficiency. The things-to-try grid (72 config points x its 3 seeds) ranked on a
        # validation split (HOLDOUT in place of its 5 folds) against a random search over the same space
        # with a third of the points (scripts/bench/things-to-try-random.yaml: 24 trials, every grid axis
        # a choice, the same seeds and split), each on 2 threads, once (the same runs whatever --quick).
        # For each: the epochs trained (the sum of /summary epochs_done), the run phase's wall time
        # (nnlab's closing line), the config point chosen (the best mean val_acc, ranked as nnlab summary
        # ranks, by the loader) and its mean test accuracy. The random search's choice counts as in the
        # grid's top group when its mean test accuracy is no more than one standard error (std over the
        # grid choice's runs / sqrt(n)) below that of the grid's choice.
        found = {}
        for kind, exp in (("grid", THINGS), ("random", THINGS_RANDOM), ("halving", THINGS_HALVING)):
            progress("7. search efficiency: the things-to-try %s on a validation split" % kind)
            out = os.path.join(tmp, "search-" + kind)
            r = sh([args.nnlab, "run", exp, *HOLDOUT, "-j", "2", "-o", out, "--force"])
            with nnlab_results.load(out) as rs:
                best = rs.configs()[0]
                found[kind] = {"config_points": len({int(c) for c in rs.summary["config"]}),
                               "runs": len(rs.summary), "epochs": int(rs.summary["epochs_done"].sum()),
                               "run_seconds": run_phase(r.stderr)[0],
                               "chosen": {"config": best["config"], "values": best["values"],
                                          "val_acc": best["mean"]["val_acc"], "test_acc": best["mean"]["test_acc"],
                                          "test_acc_std": best["std"]["test_acc"], "n": best["n"]["test_acc"]}}
        chosen = found["grid"]["chosen"]
        se = chosen["test_acc_std"] / chosen["n"] ** 0.5
        gap = found["random"]["chosen"]["test_acc"] - chosen["test_acc"]
        res["search"] = dict(found, grid_test_acc_se=se, random_test_acc_gap=gap,
                             random_gap_in_se=gap / se if se > 0 else 0.0 if gap == 0 else float("inf") * gap,
                             random_within_1se=gap >= -se,
                             random_epochs_share=found["random"]["epochs"] / found["grid"]["epochs"])
        # 7b. Successive halving (scripts/bench/things-to-try-halving.yaml: eta 3 from 1 epoch over the same
        # 72 points, seeds and split; ranked as nnlab summary ranks it, promoted points first, which the
        # loader's configs() does): its share of the grid's epochs, and the same test-accuracy criterion.
        gap = found["halving"]["chosen"]["test_acc"] - chosen["test_acc"]
        res["search"].update(halving_test_acc_gap=gap,
                             halving_gap_in_se=gap / se if se > 0 else 0.0 if gap == 0 else float("inf") * gap,
                             halving_within_1se=gap >= -se,
                             halving_epochs_share=found["halving"]["epochs"] / found["grid"]["epochs"])
        # 8. Storage. (a) Output-folder bytes (every file's size) against the bytes of one copy of the run
        # data (the run files): the things-to-try grid at 5 seeds on a validation split (360 runs), and a
        # 30-run Fashion-MNIST grid (6 learning rates x 5 seeds, 1 epoch); (b) the things-to-try folder with
        # storage.keep_weights best and keep_init false; (c) the time of `nnlab merge` over 1,000 tutorial
        # runs, against nnlab at the commit before one copy of every run (results.h5 then copied every
        # run), each merging runs it wrote itself, in back-to-back pairs, the order alternating; the median.
        st = res["storage"] = {}
        for key, exp, extra in (("things_to_try_5_seeds", THINGS, [*HOLDOUT, "seeds={count: 5, start: 1}"]),
                                ("fashion_30_runs", FASHION, ["training.epochs=1", "seeds={count: 5, start: 1}",
                                                              "training.learning_rate=0.002,0.005,0.01,0.02,0.05,0.1"]),
                                ("things_to_try_best_no_init", THINGS, [*HOLDOUT, "seeds={count: 5, start: 1}",
                                                                        "storage.keep_weights=best",
                                                                        "storage.keep_init=false"])):
            progress("8. storage: %s" % key)
            out = os.path.join(tmp, "storage-" + key)
            sh([args.nnlab, "run", exp, *extra, "-j", "2", "-o", out, "--force", "--quiet"])
            runs_dir = os.path.join(out, "runs")
            run_bytes = sum(os.path.getsize(os.path.join(runs_dir, n)) for n in os.listdir(runs_dir))
            folder = sum(os.path.getsize(os.path.join(d, n)) for d, _, names in os.walk(out) for n in names)
            st[key] = {"runs": len(os.listdir(runs_dir)), "folder_bytes": folder, "run_bytes": run_bytes,
                       "results_h5_bytes": os.path.getsize(os.path.join(out, "results.h5")),
                       "ratio": folder / run_bytes}
        st["best_no_init_vs_all"] = st["things_to_try_best_no_init"]["folder_bytes"] / \
            st["things_to_try_5_seeds"]["folder_bytes"]
        merge = {}
        for name, binary in (("now", args.nnlab), ("before", args.merge_baseline)):
            progress("8. storage: 1,000 tutorial runs by nnlab %s one copy" % ("with" if name == "now" else "before"))
            sh([binary, "run", BASELINE, "seeds={count: 1000, start: 1}", "-j", "2", "-o",
                os.path.join(tmp, "merge-" + name), "--force", "--quiet"])
            merge[name] = []
        mpairs = []
        for k in range(args.repeat_scaling):
            progress("8. storage: merge of 1,000 runs, pair %d of %d" % (k + 1, args.repeat_scaling))
            secs = {}
            for name in (("now", "before") if k % 2 == 0 else ("before", "now")):
                binary = args.nnlab if name == "now" else args.merge_baseline
                t0 = time.monotonic()
                sh([binary, "merge", os.path.join(tmp, "merge-" + name)])
                secs[name] = time.monotonic() - t0
            mpairs.append((secs["now"] / secs["before"], secs))
        mr, msecs = median_middle(mpairs, key=lambda p: p[0])
        st.update(merge_1000_s=msecs, merge_vs_before=mr, merge_ratios=[p[0] for p in mpairs])
        # 9. The report: nnlab report's page of a 1,000-run experiment, opened in headless Chromium
        # (scripts/bench/report_open.py: the median of three loads, loadEventEnd - navigationStart).
        progress("9. report: the page of a 1,000-run experiment in Chromium")
        res["report"] = json_lines([py, os.path.join(HERE, "report_open.py"), "--nnlab", args.nnlab])[0]
    finally:
        shutil.rmtree(tmp)

    res["machine"] = mc
    t, f, s, m = res["tutorial"], res["fashion"], res["scaling"], res["memory"]
    budget = m["data_mib"] + 2 * m["run_state_mib"] + 64
    checks = [
        ("tutorial: nnlab vs FANN", t["fann_ratio"], ">= 15x", t["fann_ratio"] >= 15),
        ("  with all four curves", t["fann_ratio_all_curves"], "(more work)", None),
        ("tutorial: nnlab vs numpy", t["numpy_ratio"], ">= 30x", t["numpy_ratio"] >= 30),
        ("  with all four curves", t["numpy_ratio_all_curves"], "(more work)", None),
        ("tutorial: nnlab vs PyTorch", t["pytorch_ratio"], "(a reference)", None),
        ("tutorial: nnlab vs scikit-learn", t["sklearn_ratio"], "(a reference)", None),
        ("fashion: samples/s vs PyTorch", f["pytorch_ratio"], ">= 1.4x", f["pytorch_ratio"] >= 1.4),
        ("fashion: GFLOP/s vs sgemm", f["nnlab_gflops"] / f["sgemm_gflops"], ">= 0.9",
         f["nnlab_gflops"] >= 0.9 * f["sgemm_gflops"]),
        ("scaling: runs/s -j 2 vs -j 1", s["runs_per_s_2"] / s["runs_per_s_1"], ">= 1.85x",
         s["runs_per_s_2"] >= 1.85 * s["runs_per_s_1"]),
        ("  two processes of -j 1 at once", s["two_processes_ratio"], "(the machine)", None),
        ("memory: peak RSS / budget", m["peak_rss_mib"] / budget, "<= 1", m["peak_rss_mib"] <= budget),
        ("validation + test curves / test only", res["validation"]["ratio"], "<= 1.15x",
         res["validation"]["ratio"] <= 1.15),
        ("tutorial: adam / momentum, per example", res["optimizers"]["adam_vs_momentum"], "<= 1.5x",
         res["optimizers"]["adam_vs_momentum"] <= 1.5),
        ("  rmsprop / momentum", res["optimizers"]["rmsprop_vs_momentum"], "(no target)", None),
        ("fashion: adam / nesterov samples/s", res["optimizers"]["fashion_adam_vs_nesterov"], ">= 0.9x",
         res["optimizers"]["fashion_adam_vs_nesterov"] >= 0.9),
        # measured: the random choice's test accuracy minus the grid choice's, in standard errors
        ("random search (1/3 of the points): test acc within 1 SE of the grid's choice",
         res["search"]["random_gap_in_se"], "yes", res["search"]["random_within_1se"]),
        ("halving (eta 3): epochs / the grid's", res["search"]["halving_epochs_share"], "<= 0.35",
         res["search"]["halving_epochs_share"] <= 0.35),
        ("  halving: test acc within 1 SE of the grid's choice", res["search"]["halving_gap_in_se"], "yes",
         res["search"]["halving_within_1se"]),
        ("storage: folder / run data, things-to-try x5", res["storage"]["things_to_try_5_seeds"]["ratio"], "<= 1.1x",
         res["storage"]["things_to_try_5_seeds"]["ratio"] <= 1.1),
        ("storage: folder / run data, 30 Fashion runs", res["storage"]["fashion_30_runs"]["ratio"], "<= 1.1x",
         res["storage"]["fashion_30_runs"]["ratio"] <= 1.1),
        ("  keep_weights best, no init / all", res["storage"]["best_no_init_vs_all"], "(smaller)", None),
        ("storage: merge 1,000 runs / before", res["storage"]["merge_vs_before"], "<= 1.2x",
         res["storage"]["merge_vs_before"] <= 1.2),
        ("report: 1,000-run page opens in (s)", res["report"]["report_open_s"], "< 2 s",
         res["report"]["report_open_s"] < 2),
    ]
    res["checks"] = [{"what": w.strip(), "value": v, "target": tg, "met": ok if ok is None else bool(ok)}
                     for w, v, tg, ok in checks]
    print()
    print("Machine: %s, %d CPUs; %s%s; nnlab's kernels: %s%s" % (
        mc["cpu"], mc["cpus"], mc["nnlab"], " (commit %s)" % mc["commit"] if mc["commit"] else "",
        mc["kernels"].split(":")[0], "; QUICK RUN (--quick: fewer pairs and rounds)" if args.quick else ""))
    print("1. Tutorial network 64-200-10, per-example SGD, 10 epochs (seconds per run, one thread)")
    print("   nnlab %.4f s (training steps alone %.4f s; test curves every epoch, as the tutorial), mean test acc %.4f"
          % (t["nnlab"], t["nnlab_train_only"], t["nnlab_test_acc"]))
    print("   nnlab %.4f s with its default curves (train and test sets every epoch)" % t["nnlab_all_curves"])
    for impl, _, _ in contenders:
        print("   %-8s %.3f s  (%.1fx nnlab, %.1fx with its default curves; the pairs: %s), test acc %.4f"
              % (impl, t[impl], t[impl + "_ratio"], t[impl + "_ratio_all_curves"],
                 ", ".join("%.1f" % r for r in t[impl + "_pair_ratios"]), t[impl + "_test_acc"]))
    print("2. Fashion-MNIST 784-256-256-10, ReLU, Nesterov, batch 128, 1 epoch (training samples/s, one thread),"
          " median of %d rounds" % len(f["pytorch_ratios"]))
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
    od = res["optimizers"]
    print("6. Optimizers: tutorial network per example, seconds per run (median of %d triples): momentum %.4f,"
          " adam %.4f, rmsprop %.4f (adam / momentum in the triples: %s)"
          % (len(od["tutorial_adam_ratios"]), od["tutorial_s"]["momentum"], od["tutorial_s"]["adam"],
             od["tutorial_s"]["rmsprop"], ", ".join("%.2f" % r for r in od["tutorial_adam_ratios"])))
    print("   Fashion-MNIST batch 128, training samples/s (median of %d pairs): nesterov %.0f, adam %.0f (pairs: %s)"
          % (len(od["fashion_ratios"]), od["fashion_samples_per_s"]["nesterov"], od["fashion_samples_per_s"]["adam"],
             ", ".join("%.2f" % r for r in od["fashion_ratios"])))
    sd = res["search"]
    print("7. Search, things-to-try's space on a validation split (0.2), 3 seeds, -j 2: what each chose (best mean"
          " val_acc) and its mean test acc")
    for kind in ("grid", "random", "halving"):
        k, c = sd[kind], sd[kind]["chosen"]
        print("   %-6s %2d config points, %3d runs, %5d epochs, %5.1f s: c%04d %s, val acc %.4f, test acc %.4f ± %.4f"
              " (n=%d)" % (kind, k["config_points"], k["runs"], k["epochs"], k["run_seconds"], c["config"],
                           " ".join("%s=%s" % (key.split(".")[-1], v) for key, v in c["values"].items()),
                           c["val_acc"], c["test_acc"], c["test_acc_std"], c["n"]))
    print("   random: %.0f%% of the grid's epochs; its choice's test acc %+.4f from the grid's (one SE: %.4f): %s"
          % (100 * sd["random_epochs_share"], sd["random_test_acc_gap"], sd["grid_test_acc_se"],
             "within" if sd["random_within_1se"] else "MORE than one SE below"))
    print("   halving (eta 3): %.0f%% of the grid's epochs; its choice's test acc %+.4f from the grid's: %s"
          % (100 * sd["halving_epochs_share"], sd["halving_test_acc_gap"],
             "within" if sd["halving_within_1se"] else "MORE than one SE below"))
    st = res["storage"]
    print("8. Storage: output folder bytes against its run files' (one copy of the run data)")
    for key in ("things_to_try_5_seeds", "fashion_30_runs", "things_to_try_best_no_init"):
        k = st[key]
        print("   %-27s %4d runs: folder %6.1f MB, run files %6.1f MB, results.h5 %5.2f MB: %.3fx"
              % (key, k["runs"], k["folder_bytes"] / 1e6, k["run_bytes"] / 1e6, k["results_h5_bytes"] / 1e6,
                 k["ratio"]))
    print("   merge of 1,000 tutorial runs: %.2f s, %.2f s before one copy (median of %d pairs: %s)"
          % (st["merge_1000_s"]["now"], st["merge_1000_s"]["before"], len(st["merge_ratios"]),
             ", ".join("%.2f" % r for r in st["merge_ratios"])))
    rp = res["report"]
    print("9. Report of %d runs: %.0f kB, written in %.1f s, opens in Chromium in %.2f s"
          % (rp["report_runs"], rp["report_bytes"] / 1e3, rp["report_render_s"], rp["report_open_s"]))
    print()
    print("%-40s %10s  %-20s %s" % ("target", "measured", "wanted", "met"))
    for w, v, tg, ok in checks:
        print("%-40s %10.2f  %-20s %s" % (w, v, tg, "-" if ok is None else "yes" if ok else "NO"))
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as fh:
        json.dump(res, fh, indent=2)
    print("\nwrote %s" % args.out)


if __name__ == "__main__":
    main()
