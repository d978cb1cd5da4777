"""The optimizers and learning-rate schedules against an independent float64
replay of DESIGN.md's formulas ("The math", "Optimizers and schedules").

Each configuration is run by nnlab (one run, seed 1), then replayed here in
float64 numpy from the run's stored initial weights (init/layerK), on the
training rows nnlab used (/data/train_index, in split order: shuffle is
off) scaled with its stored scaler (x' = (x - offset)·factor, rounded to
float32 as nnlab stores its data), and nnlab's final weights
(weights/layerK) must match the replay:

    criterion: for every tensor (each W and each b of every layer)
               max|nnlab - replay| <= 1e-5 · max|replay|

Configurations (CONFIGS): the digits with dataset.scale: standard, hidden
[32] (three with [32, 16], so that a hidden-to-hidden layer goes through
the per-example kernels too), tanh (sigmoid, relu and leaky_relu once
each), dropout 0, shuffle false, seed 1. Every optimizer at batch size 1
(nnlab's fused per-example kernels) and at batch size 50 (the batched path:
the 1,437 training rows are 28 batches of 50 and a last one of 37), adam
with and without l2 at both, and the schedules step, exponential, cosine
and cosine after warmup_epochs at batch size 50, on adamw (whose decay
1 - lr·wd follows the epoch's rate), rmsprop, adam and nesterov. Two epochs
(adam's t runs on past the first), four or five with a schedule.

Why these: the test compares float32 training with float64, so it needs
runs whose float32 and float64 trajectories agree. Measured on the same
initial weights with a float32 copy of the replay (and PyTorch float32,
scripts/bench/torch_optim_check.py, which parts from float64 where nnlab
does and by as much):
- Per example, 2,874 steps leave a float32 floor of 2-4e-6 of max|W|
  (half-ulp roundings adding up), whatever the rate; the batch-1
  configurations are at that floor: nnlab 1.9e-6 to 3.6e-6, 2.8-5x under
  the criterion. Batched (58-145 steps): 3.7e-7 to 1.4e-6.
- Raw 0..16 pixels with tanh part completely (sgd lr 0.01 per example:
  float32 and float64 differ by 100% of max|W|): standard scaling. Momentum
  0.9 per example parts by 3e-4 (PyTorch too): μ = 0.5 at batch 1, 0.9
  batched. sgd at lr 0.05 per example parts by 1e-4: lr 0.01.
- adamw: rates and decays are powers of two (batch 1: lr 2^-10, wd 0.125),
  so that 1 - lr·wd is exact in float32. Rounded (lr 0.001, wd 0.01: off by
  1.4e-8) it shrinks the decaying weights by (1 - 1.4e-8)^2874 more than
  float64 does: nnlab and PyTorch both part from float64 by 3.3e-5 (and
  agree with each other to 2.4e-6). Even exact, decay and adam's step are
  two float32 roundings of a weight per step that nearly cancel where the
  decay balances the gradient (the rarely lit pixels' weights), and their
  errors accumulate: wd 2^-6 parts by 1.3e-5 (nnlab and PyTorch alike;
  float64 with only those two writes rounded to float32 reproduces it, to
  2e-6 of nnlab). wd 0.125: 3e-6.

The criterion matters: plausible mistakes (adamw decaying the biases,
adam's t restarting each epoch, the rate one epoch late, warmup from
lr·e/w, L2 on the biases, the last partial batch divided by the full batch
size), replayed, are 2e-2 to 4e-1 away from nnlab (the test requires over
100x the criterion).

AdaptiveReproducibility: adam, adamw and rmsprop runs (batch 1 and 20,
dropout, shuffling, a warmup + cosine schedule) give the same bits with
-j 1 and -j 2, and after a SIGKILL or a Ctrl-C and --resume.
"""
import gzip
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("NNLAB_SOURCE_DIR", os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(SOURCE, "scripts"))
import nnlab_results  # noqa: E402  (the loader the plot scripts use)

from nnlab_testing import ReferenceRun, run_files  # noqa: E402

RTOL = 1e-5  # the criterion above; not to be loosened to make a run pass

BASE_MODEL = {"hidden": [32], "activation": "tanh", "dropout": 0.0}
BASE_TRAINING = {"epochs": 2, "shuffle": False}

# name: (model settings, training settings) over BASE_MODEL, BASE_TRAINING.
CONFIGS = {
    # batch size 1: the fused per-example kernels
    "sgd_b1": ({}, {"optimizer": "sgd", "batch_size": 1, "learning_rate": 0.01}),
    "momentum_b1": ({}, {"optimizer": "momentum", "batch_size": 1, "learning_rate": 0.005, "momentum": 0.5}),
    "nesterov_b1": ({"activation": "sigmoid"},
                    {"optimizer": "nesterov", "batch_size": 1, "learning_rate": 0.005, "momentum": 0.5}),
    "nesterov_b1_deep": ({"hidden": [32, 16]},
                         {"optimizer": "nesterov", "batch_size": 1, "learning_rate": 0.005, "momentum": 0.5}),
    "adam_b1": ({}, {"optimizer": "adam", "batch_size": 1, "learning_rate": 0.001}),
    "adam_l2_b1": ({}, {"optimizer": "adam", "batch_size": 1, "learning_rate": 0.001, "l2": 0.001}),
    "adam_l2_b1_deep": ({"hidden": [32, 16]},
                        {"optimizer": "adam", "batch_size": 1, "learning_rate": 0.001, "l2": 0.001}),
    "adamw_b1": ({}, {"optimizer": "adamw", "batch_size": 1, "learning_rate": 0.0009765625, "weight_decay": 0.125}),
    "adamw_b1_deep": ({"hidden": [32, 16]},
                      {"optimizer": "adamw", "batch_size": 1, "learning_rate": 0.0009765625,
                       "weight_decay": 0.125}),
    "rmsprop_b1": ({}, {"optimizer": "rmsprop", "batch_size": 1, "learning_rate": 0.0005}),
    # batch size 50: the batched path, 28 batches of 50 and one of 37
    "sgd_b50": ({}, {"optimizer": "sgd", "batch_size": 50, "learning_rate": 0.2}),
    "momentum_b50": ({"activation": "leaky_relu"},
                     {"optimizer": "momentum", "batch_size": 50, "learning_rate": 0.05, "momentum": 0.9}),
    "nesterov_b50": ({}, {"optimizer": "nesterov", "batch_size": 50, "learning_rate": 0.05, "momentum": 0.9}),
    "adam_b50": ({}, {"optimizer": "adam", "batch_size": 50, "learning_rate": 0.005}),
    "adam_l2_b50": ({}, {"optimizer": "adam", "batch_size": 50, "learning_rate": 0.005, "l2": 0.01}),
    "adamw_b50": ({}, {"optimizer": "adamw", "batch_size": 50, "learning_rate": 0.0078125, "weight_decay": 0.25}),
    "rmsprop_b50": ({"activation": "relu"},
                    {"optimizer": "rmsprop", "batch_size": 50, "learning_rate": 0.001, "eps": 1e-4}),
    # schedules (batch size 50)
    "step_adamw": ({}, {"optimizer": "adamw", "batch_size": 50, "learning_rate": 0.00390625, "weight_decay": 0.25,
                        "epochs": 4, "lr_schedule": {"type": "step", "step_size": 2, "gamma": 0.5}}),
    "exponential_rmsprop": ({}, {"optimizer": "rmsprop", "batch_size": 50, "learning_rate": 0.001, "alpha": 0.9,
                                 "epochs": 4, "lr_schedule": {"type": "exponential", "gamma": 0.7}}),
    "cosine_adam": ({}, {"optimizer": "adam", "batch_size": 50, "learning_rate": 0.005, "betas": [0.8, 0.99],
                         "epochs": 4, "lr_schedule": {"type": "cosine", "min_lr": 0.0005}}),
    "cosine_warmup_nesterov": ({}, {"optimizer": "nesterov", "batch_size": 50, "learning_rate": 0.05,
                                    "momentum": 0.9, "epochs": 5,
                                    "lr_schedule": {"type": "cosine", "warmup_epochs": 2}}),
    "cosine_warmup_adam": ({}, {"optimizer": "adam", "batch_size": 50, "learning_rate": 0.005, "epochs": 5,
                                "lr_schedule": {"type": "cosine", "warmup_epochs": 2, "min_lr": 0.0}}),
}

# DESIGN.md's defaults, for the settings a configuration leaves out.
DEFAULTS = {"momentum": 0.9, "betas": [0.9, 0.999], "eps": 1e-8, "alpha": 0.99, "weight_decay": 0.01, "l2": 0.0,
            "lr_schedule": {}}
SCHEDULE_DEFAULTS = {"type": "constant", "warmup_epochs": 0, "step_size": 10, "gamma": 0.1, "min_lr": 0.0}


def settings(name):
    """(model, training) of configuration `name`, defaults filled in."""
    model, training = CONFIGS[name]
    model = dict(BASE_MODEL, **model)
    training = dict(BASE_TRAINING, **training)
    full = dict(DEFAULTS, **training)
    full["lr_schedule"] = dict(SCHEDULE_DEFAULTS, **full["lr_schedule"])
    return model, training, full


def yaml_value(v):
    if isinstance(v, dict):
        return "{%s}" % ", ".join("%s: %s" % (k, yaml_value(x)) for k, x in v.items())
    if isinstance(v, (list, tuple)):
        return "[%s]" % ", ".join(yaml_value(x) for x in v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    return str(v)


def experiment_text(name, seed=1):
    """The experiment file of configuration `name`: only the settings it uses."""
    model, training, _ = settings(name)
    return ("name: %s\ndataset: {source: digits, scale: standard}\nmodel: %s\ntraining: %s\nseeds: [%d]\n"
            % (name, yaml_value(model), yaml_value(training), seed))


def load_digits():
    """The digits as nnlab compiles them in: 64 pixel columns, then the label."""
    with gzip.open(os.path.join(SOURCE, "data", "digits.csv.gz"), "rt") as f:
        rows = np.loadtxt(f, delimiter=",")
    return rows[:, :-1].astype(np.float32), rows[:, -1].astype(np.int64)


def run_nnlab(name, tmp, nnlab=None):
    """Run configuration `name` into tmp/name; returns what a replay needs:
    {x_train, y_train, x_test, y_test (float32 scaled inputs as nnlab trains on),
    init, final ([(W, b), ...] float32), curves}."""
    nnlab = nnlab or os.environ["NNLAB"]
    path = os.path.join(tmp, name + ".yaml")
    with open(path, "w") as f:
        f.write(experiment_text(name))
    out = os.path.join(tmp, name)
    r = subprocess.run([nnlab, "run", path, "-o", out, "--quiet", "-j", "1"], capture_output=True, text=True,
                       timeout=600)
    if r.returncode != 0:
        raise AssertionError("nnlab run %s: exit %d\n%s" % (name, r.returncode, r.stderr))
    results = os.path.join(out, "results.h5")
    with h5py.File(results, "r") as f:
        data = {k: f["data"][k][()] for k in ("train_index", "test_index", "scale_offset", "scale_factor")}
        attrs = dict(f["runs/r000000"].attrs)
    res = nnlab_results.load(results)
    got = {"init": res.weights(0, "init"), "final": res.weights(0), "curves": res.curves(0),
           "attrs": {k: v.decode() if isinstance(v, bytes) else v for k, v in attrs.items()}}
    res.close()
    x, y = load_digits()
    for part in ("train", "test"):
        rows = data[part + "_index"]
        # data.c's data_apply_scale: (x - offset)·factor in double, stored as float
        got["x_" + part] = ((x[rows].astype(np.float64) - data["scale_offset"]) * data["scale_factor"]).astype(
            np.float32)
        got["y_" + part] = y[rows]
    got["raw_train"] = x[data["train_index"]]
    got["scale_offset"], got["scale_factor"] = data["scale_offset"], data["scale_factor"]
    return got


def schedule_lr(training, e):
    """The rate of epoch e (0-based): DESIGN.md "Optimizers and schedules"."""
    s, lr, E = training["lr_schedule"], training["learning_rate"], training["epochs"]
    w = s["warmup_epochs"]
    if e < w:
        return lr * (e + 1) / w
    e, E = e - w, E - w
    if s["type"] == "step":
        return lr * s["gamma"] ** (e // s["step_size"])
    if s["type"] == "exponential":
        return lr * s["gamma"] ** e
    if s["type"] == "cosine":
        return s["min_lr"] + (lr - s["min_lr"]) * (1 + np.cos(np.pi * e / E)) / 2
    return lr


# act(z) and act'(z) from a = act(z)
ACTIVATIONS = {
    "sigmoid": (lambda z: 1 / (1 + np.exp(-z)), lambda a: a * (1 - a)),
    "tanh": (np.tanh, lambda a: 1 - a * a),
    "relu": (lambda z: np.maximum(z, 0), lambda a: (a > 0).astype(a.dtype)),
    "leaky_relu": (lambda z: np.where(z > 0, z, 0.01 * z), lambda a: np.where(a > 0, 1.0, 0.01).astype(a.dtype)),
}


def replay(name, x, y, init, dtype=np.float64, mistake=None):
    """Train configuration `name` from init on (x, y) in split order, by the
    formulas, in dtype. Returns [(W, b), ...]. `mistake` replays one
    plausible error instead (test_criterion_catches_mistakes)."""
    model, _, tr = settings(name)
    act, dact = ACTIVATIONS[model["activation"]]
    x = x.astype(dtype)
    params = [[W.astype(dtype), b.astype(dtype)] for W, b in init]
    m = [[np.zeros_like(p) for p in layer] for layer in params]  # momentum's v, adam's m
    v = [[np.zeros_like(p) for p in layer] for layer in params]  # adam's v, rmsprop's square average
    opt, B, l2 = tr["optimizer"], tr["batch_size"], tr["l2"]
    mu, (b1, b2), eps, alpha, wd = tr["momentum"], tr["betas"], tr["eps"], tr["alpha"], tr["weight_decay"]
    onehot = np.eye(init[-1][0].shape[1], dtype=dtype)
    t = 0
    for e in range(tr["epochs"]):
        lr = schedule_lr(tr, e)
        if mistake == "rate one epoch late":
            lr = schedule_lr(tr, max(e - 1, 0))
        if mistake == "warmup from lr·e/w" and e < tr["lr_schedule"]["warmup_epochs"]:
            lr = tr["learning_rate"] * e / tr["lr_schedule"]["warmup_epochs"]
        if mistake == "adam's t restarts each epoch":
            t = 0
        for start in range(0, len(x), B):
            xb, yb = x[start:start + B], y[start:start + B]
            rows = len(xb)
            a = [xb]  # each layer's input
            for l, (W, b) in enumerate(params):
                z = a[-1] @ W + b
                if l < len(params) - 1:
                    a.append(act(z))
            p = np.exp(z - z.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            divisor = B if mistake == "partial batch divided by the batch size" else rows
            dz = (p - onehot[yb]) / divisor  # the gradient of the batch's mean cross-entropy
            grads = [None] * len(params)
            for l in range(len(params) - 1, -1, -1):
                W, b = params[l]
                gW, gb = a[l].T @ dz, dz.sum(axis=0)
                if l2:  # λ·W on the weights, not the biases
                    gW = gW + l2 * W
                    if mistake == "l2 on the biases":
                        gb = gb + l2 * b
                grads[l] = (gW, gb)
                if l > 0:
                    dz = (dz @ W.T) * dact(a[l])
            t += 1
            for l, layer in enumerate(params):
                for k in (0, 1):  # W, b
                    p, g, s1, s2 = layer[k], grads[l][k], m[l][k], v[l][k]
                    if opt == "sgd":
                        p -= lr * g
                    elif opt == "momentum":
                        s1[...] = mu * s1 + g
                        p -= lr * s1
                    elif opt == "nesterov":
                        s1[...] = mu * s1 + g
                        p -= lr * (g + mu * s1)
                    elif opt in ("adam", "adamw"):
                        if opt == "adamw" and (k == 0 or mistake == "adamw decays the biases"):
                            p -= lr * wd * p
                        s1[...] = b1 * s1 + (1 - b1) * g
                        s2[...] = b2 * s2 + (1 - b2) * g * g
                        p -= lr * (s1 / (1 - b1 ** t)) / (np.sqrt(s2 / (1 - b2 ** t)) + eps)
                    elif opt == "rmsprop":
                        s2[...] = alpha * s2 + (1 - alpha) * g * g
                        p -= lr * g / (np.sqrt(s2) + eps)
                    else:
                        raise ValueError(opt)
    return [(W, b) for W, b in params]


def mean_cross_entropy(params, x, y, activation):
    act = ACTIVATIONS[activation][0]
    a = x.astype(np.float64)
    for l, (W, b) in enumerate(params):
        z = a @ W.astype(np.float64) + b.astype(np.float64)
        if l < len(params) - 1:
            a = act(z)
    z = z - z.max(axis=1, keepdims=True)
    return float(np.mean(np.log(np.exp(z).sum(axis=1)) - z[np.arange(len(y)), y]))


def differences(got, want):
    """[(tensor name, max|got - want| / max|want|)] of every W and b."""
    return [("layer%d/%s" % (l, n), float(np.max(np.abs(g.astype(np.float64) - w))) / float(np.max(np.abs(w))))
            for l, (gl, wl) in enumerate(zip(got, want)) for n, g, w in zip("Wb", gl, wl)]


class Replay(unittest.TestCase):
    """nnlab's final weights against the float64 replay, configuration by configuration."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="nnlab_optimizers_")
        cls.runs = {}

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def nnlab_run(self, name):
        if name not in self.runs:
            self.runs[name] = run_nnlab(name, self.tmp)
        return self.runs[name]

    def assertSettings(self, name, attrs):
        """nnlab resolved the settings the replay uses, defaults included."""
        model, _, tr = settings(name)
        want = {"model." + k: v for k, v in model.items()}
        want.update({"training." + k: v for k, v in tr.items() if k != "lr_schedule"})
        want.update({"training.lr_schedule." + k: v for k, v in tr["lr_schedule"].items()})
        for key, value in want.items():
            got = attrs[key]
            if isinstance(value, list):
                self.assertEqual(list(got), value, key)
            elif isinstance(value, float):
                self.assertEqual(float(got), value, key)
            else:
                self.assertEqual(got, value, key)

    def check(self, name):
        run = self.nnlab_run(name)
        self.assertEqual(run["attrs"]["status"], "ok")
        self.assertSettings(name, run["attrs"])
        model, _, tr = settings(name)
        self.assertEqual([W.shape for W, _ in run["init"]],
                         list(zip([64] + model["hidden"], model["hidden"] + [10])))
        want = replay(name, run["x_train"], run["y_train"], run["init"])
        worst = max(differences(run["final"], want), key=lambda d: d[1])
        self.assertLessEqual(worst[1], RTOL, "%s: %s differs from the float64 replay by %.3g of its largest value"
                             % (name, worst[0], worst[1]))
        # and the run learnt: the replay's training loss fell (a run that did nothing would match trivially)
        loss0 = mean_cross_entropy(run["init"], run["x_train"], run["y_train"], model["activation"])
        loss = mean_cross_entropy(want, run["x_train"], run["y_train"], model["activation"])
        self.assertLess(loss, 0.75 * loss0, name)
        # the curve's last training loss is that of the final weights (nnlab's float32 forward pass)
        curve = run["curves"]["train_loss"][tr["epochs"]]
        loss = mean_cross_entropy(run["final"], run["x_train"], run["y_train"], model["activation"])
        self.assertLessEqual(abs(curve - loss), RTOL * loss, name)

    def test_data_and_scaler(self):
        """The rows the replay takes are nnlab's: the stored scaler is the
        training rows' mean and 1/std (population), 1 for the constant pixels."""
        run = self.nnlab_run("sgd_b50")
        raw = run["raw_train"].astype(np.float64)
        self.assertEqual(len(raw), 1437)
        self.assertEqual(len(run["x_test"]), 360)
        np.testing.assert_allclose(run["scale_offset"], raw.mean(axis=0), rtol=1e-12, atol=1e-12)
        sd = raw.std(axis=0)
        np.testing.assert_allclose(run["scale_factor"], np.where(sd > 0, 1 / np.where(sd > 0, sd, 1), 1),
                                   rtol=1e-12)

    def test_schedule_rates(self):
        """schedule_lr as DESIGN.md's examples say."""
        tr = dict(settings("cosine_warmup_adam")[2])
        np.testing.assert_allclose([schedule_lr(tr, e) for e in range(5)],  # warmup 2 of 5, then cosine over 3
                                   [0.0025, 0.005, 0.005, 0.00375, 0.00125], rtol=1e-15)
        tr = settings("step_adamw")[2]
        self.assertEqual([schedule_lr(tr, e) for e in range(4)], [2 ** -8, 2 ** -8, 2 ** -9, 2 ** -9])

    # every optimizer, per example (batch 1) and batched (50: a partial last batch of 37)
    def test_sgd_batch1(self):
        self.check("sgd_b1")

    def test_sgd_batch50(self):
        self.check("sgd_b50")

    def test_momentum_batch1(self):
        self.check("momentum_b1")

    def test_momentum_batch50(self):
        self.check("momentum_b50")

    def test_nesterov_batch1(self):
        self.check("nesterov_b1")

    def test_nesterov_batch1_two_hidden_layers(self):
        self.check("nesterov_b1_deep")

    def test_nesterov_batch50(self):
        self.check("nesterov_b50")

    def test_adam_batch1(self):
        self.check("adam_b1")

    def test_adam_l2_batch1(self):
        self.check("adam_l2_b1")

    def test_adam_l2_batch1_two_hidden_layers(self):
        self.check("adam_l2_b1_deep")

    def test_adam_batch50(self):
        self.check("adam_b50")

    def test_adam_l2_batch50(self):
        self.check("adam_l2_b50")

    def test_adamw_batch1(self):
        self.check("adamw_b1")

    def test_adamw_batch1_two_hidden_layers(self):
        self.check("adamw_b1_deep")

    def test_adamw_batch50(self):
        self.check("adamw_b50")

    def test_rmsprop_batch1(self):
        self.check("rmsprop_b1")

    def test_rmsprop_batch50(self):
        self.check("rmsprop_b50")

    # every schedule
    def test_step_schedule(self):
        self.check("step_adamw")

    def test_exponential_schedule(self):
        self.check("exponential_rmsprop")

    def test_cosine_schedule(self):
        self.check("cosine_adam")

    def test_cosine_schedule_after_warmup(self):
        self.check("cosine_warmup_nesterov")

    def test_cosine_schedule_after_warmup_adam(self):
        self.check("cosine_warmup_adam")

    def test_criterion_catches_mistakes(self):
        """Each plausible mistake, replayed, is far outside the criterion:
        the tolerance does not hide them."""
        for name, mistake in (("adamw_b50", "adamw decays the biases"),
                              ("adam_b1", "adam's t restarts each epoch"),
                              ("adam_b50", "adam's t restarts each epoch"),
                              ("step_adamw", "rate one epoch late"),
                              ("exponential_rmsprop", "rate one epoch late"),
                              ("cosine_warmup_adam", "warmup from lr·e/w"),
                              ("adam_l2_b50", "l2 on the biases"),
                              ("sgd_b50", "partial batch divided by the batch size")):
            run = self.nnlab_run(name)
            wrong = replay(name, run["x_train"], run["y_train"], run["init"], mistake=mistake)
            worst = max(d for _, d in differences(run["final"], wrong))
            self.assertGreater(worst, 100 * RTOL, "%s with '%s'" % (name, mistake))


# Adam, AdamW and RMSprop state (both moments, t) across threads and interruptions.
REPRO_EXPERIMENT = """name: adaptive
dataset: {source: digits, scale: standard}
model: {hidden: [16], activation: tanh, dropout: 0.1}
training:
  epochs: 3
  learning_rate: 0.002
  shuffle: true
  lr_schedule: {type: cosine, warmup_epochs: 1}
grid:
  training.optimizer: [adam, adamw, rmsprop]
  training.batch_size: [1, 20]
seeds: [1, 2]
"""


def nnlab_cmd(*args, env=None):
    return subprocess.run([os.environ["NNLAB"], *args], capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, **(env or {})))


class AdaptiveReproducibility(ReferenceRun):
    EXPERIMENT = REPRO_EXPERIMENT
    NAME = "adaptive"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        assert len([k for k in cls.want if k.startswith("runs/") and k.endswith("weights/layer1/W")]) == 12

    def resume_and_compare(self, out, done, threads):
        r = nnlab_cmd("run", self.exp, "-o", out, "--resume", "-j", threads)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("resuming: %d runs already done, %d to run" % (done, 12 - done), r.stderr)
        self.assertSameAsReference(os.path.join(out, "results.h5"))

    def test_two_threads(self):
        out = os.path.join(self.tmp, "j2")
        r = nnlab_cmd("run", self.exp, "-o", out, "-j", "2", "--quiet")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertSameAsReference(os.path.join(out, "results.h5"))

    def test_kill_during_training_then_resume(self):
        out = os.path.join(self.tmp, "kill")
        # SIGKILL once run 7 (adamw, batch 1) has trained one epoch of three, the other thread busy too
        r = nnlab_cmd("run", self.exp, "-o", out, "-j", "2", "--quiet", env={"NNLAB_CRASH_AT": "train:7"})
        self.assertEqual(r.returncode, -signal.SIGKILL)
        done = len(run_files(out))
        self.assertLess(done, 12)
        self.resume_and_compare(out, done, "2")

    def test_sigint_then_resume(self):
        out = os.path.join(self.tmp, "sigint")
        # Ctrl-C while run 4 trains: it finishes, no other starts; --resume runs the rest with another -j
        r = nnlab_cmd("run", self.exp, "-o", out, "-j", "1",
                      env={"NNLAB_CRASH_AT": "train:4", "NNLAB_CRASH_SIGNAL": "INT"})
        self.assertEqual(r.returncode, 130, r.stderr)
        self.assertEqual(len(run_files(out)), 5)
        self.resume_and_compare(out, 5, "2")


if __name__ == "__main__":
    unittest.main(verbosity=2)
