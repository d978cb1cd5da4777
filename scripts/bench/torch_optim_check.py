#!/usr/bin/env python3
"""nnlab's optimizers and schedules against torch.optim, in float32: the
configurations of tests/e2e_optimizers.py (its CONFIGS: every optimizer at
batch 1 and 50, adam with and without l2, the step, exponential, cosine and
warmup + cosine schedules), each run once by nnlab and once by PyTorch from
nnlab's stored initial weights on the same scaled training rows in split
order. Prints, per configuration, the largest relative difference
max|torch - nnlab| / max|nnlab| over the tensors (each W and b), the same
for nnlab and for torch against the float64 replay of the test, and the
overall largest. A benchmark-only check (needs python3-torch); not run by
ctest.

The torch model is nnlab's exactly: nn.Linear's weight is W.T (nnlab
stores W [fan_in][fan_out]), its bias b; the hidden activation; the mean
cross-entropy over the batch (nn.CrossEntropyLoss), the last partial batch
as a batch of its size. The optimizers: SGD (momentum μ, nesterov), Adam,
AdamW and RMSprop with nnlab's betas, eps and alpha, in two parameter
groups, weights and biases: l2 is the weights' weight_decay (SGD, Adam,
RMSprop add it to the gradient as nnlab's L2 does), and AdamW's decoupled
weight_decay is the weights' only (PyTorch would decay biases too). The
schedules are stepped once per epoch: StepLR, ExponentialLR,
CosineAnnealingLR(T_max = epochs - warmup, eta_min = min_lr), after
warmup_epochs a LambdaLR of (e + 1)/w joined to it by SequentialLR; the
rate of every epoch is checked against the formula before it is used.

  /usr/bin/python3 scripts/bench/torch_optim_check.py --nnlab build/nnlab [--config NAME ...]
"""
import argparse
import math
import os
import sys
import tempfile
import time
import warnings

import numpy as np
import torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path.insert(0, os.path.join(ROOT, "tests"))
os.environ.setdefault("NNLAB_SOURCE_DIR", ROOT)
import e2e_optimizers as spec  # noqa: E402  (CONFIGS, settings, run_nnlab, replay)

ACTIVATIONS = {"sigmoid": torch.nn.Sigmoid, "tanh": torch.nn.Tanh, "relu": torch.nn.ReLU,
               "leaky_relu": lambda: torch.nn.LeakyReLU(0.01)}


def torch_model(init, activation):
    layers = []
    for l, (W, b) in enumerate(init):
        lin = torch.nn.Linear(W.shape[0], W.shape[1])
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(W.T)))  # nnlab's W is [fan_in][fan_out]
            lin.bias.copy_(torch.from_numpy(b))
        layers.append(lin)
        if l < len(init) - 1:
            layers.append(ACTIVATIONS[activation]())
    return torch.nn.Sequential(*layers)


def torch_optimizer(net, tr):
    linears = [m for m in net if isinstance(m, torch.nn.Linear)]
    weights, biases = [m.weight for m in linears], [m.bias for m in linears]
    opt, lr = tr["optimizer"], tr["learning_rate"]
    decay = tr["weight_decay"] if opt == "adamw" else tr["l2"]
    groups = [{"params": weights, "weight_decay": decay}, {"params": biases, "weight_decay": 0.0}]
    if opt == "sgd":
        return torch.optim.SGD(groups, lr=lr)
    if opt in ("momentum", "nesterov"):
        return torch.optim.SGD(groups, lr=lr, momentum=tr["momentum"], dampening=0, nesterov=opt == "nesterov")
    if opt == "adam":
        return torch.optim.Adam(groups, lr=lr, betas=tuple(tr["betas"]), eps=tr["eps"])
    if opt == "adamw":
        return torch.optim.AdamW(groups, lr=lr, betas=tuple(tr["betas"]), eps=tr["eps"])
    if opt == "rmsprop":
        return torch.optim.RMSprop(groups, lr=lr, alpha=tr["alpha"], eps=tr["eps"])
    raise ValueError(opt)


def torch_scheduler(optimizer, tr):
    s, E = tr["lr_schedule"], tr["epochs"]
    w = s["warmup_epochs"]
    lrs = torch.optim.lr_scheduler
    if s["type"] == "step":
        main = lrs.StepLR(optimizer, step_size=s["step_size"], gamma=s["gamma"])
    elif s["type"] == "exponential":
        main = lrs.ExponentialLR(optimizer, gamma=s["gamma"])
    elif s["type"] == "cosine":
        main = lrs.CosineAnnealingLR(optimizer, T_max=E - w, eta_min=s["min_lr"])
    else:
        main = lrs.LambdaLR(optimizer, lambda e: 1.0)
    if w == 0:
        return main
    warmup = lrs.LambdaLR(optimizer, lambda e: (e + 1) / w)
    # SequentialLR starts `main` at the milestone with step(0), which PyTorch 1.13 warns about
    warnings.filterwarnings("ignore", message="The epoch parameter in `scheduler.step\\(\\)`")
    return lrs.SequentialLR(optimizer, schedulers=[warmup, main], milestones=[w])


def train_torch(name, run):
    model, _, tr = spec.settings(name)
    net = torch_model(run["init"], model["activation"])
    opt = torch_optimizer(net, tr)
    sched = torch_scheduler(opt, tr)
    x, y = torch.from_numpy(run["x_train"]), torch.from_numpy(run["y_train"])
    loss_fn = torch.nn.CrossEntropyLoss()  # the mean over the batch
    B = tr["batch_size"]
    for e in range(tr["epochs"]):
        want = spec.schedule_lr(tr, e)
        for group in opt.param_groups:
            if not math.isclose(group["lr"], want, rel_tol=1e-12):
                raise SystemExit("%s: epoch %d: torch's scheduler gives lr %r, the formula %r"
                                 % (name, e, group["lr"], want))
        for start in range(0, len(x), B):
            opt.zero_grad()
            loss_fn(net(x[start:start + B]), y[start:start + B]).backward()
            opt.step()
        sched.step()
    linears = [m for m in net if isinstance(m, torch.nn.Linear)]
    return [(m.weight.detach().numpy().T.copy(), m.bias.detach().numpy().copy()) for m in linears]


def largest(got, want):
    return max(d for _, d in spec.differences(got, want))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nnlab", default=os.path.join(ROOT, "build", "nnlab"), help="the nnlab binary")
    ap.add_argument("--config", action="append", choices=sorted(spec.CONFIGS),
                    help="only these configurations (default: all)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    names = args.config or list(spec.CONFIGS)
    print("torch %s; nnlab %s; criterion of the test: %.0e" % (torch.__version__, args.nnlab, spec.RTOL))
    print("%-24s %14s %16s %16s %8s" % ("configuration", "torch~nnlab", "nnlab~float64", "torch~float64",
                                        "torch s"))
    worst = (0.0, None)
    with tempfile.TemporaryDirectory(prefix="nnlab_torch_optim_") as tmp:
        for name in names:
            run = spec.run_nnlab(name, tmp, nnlab=args.nnlab)
            t0 = time.perf_counter()
            got = train_torch(name, run)
            seconds = time.perf_counter() - t0
            f64 = spec.replay(name, run["x_train"], run["y_train"], run["init"])
            d = largest(got, run["final"])
            worst = max(worst, (d, name))
            print("%-24s %14.2e %16.2e %16.2e %8.2f" % (name, d, largest(run["final"], f64), largest(got, f64),
                                                        seconds), flush=True)
    print("largest torch~nnlab difference: %.2e (%s)" % worst)


if __name__ == "__main__":
    main()
