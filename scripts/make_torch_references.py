"""Reference values from PyTorch for course_lib's parity tests, so they run without torch.

    .venv/bin/python scripts/make_torch_references.py          # writes tests/references/torch_<X.Y>.npz
    .venv/bin/python scripts/make_torch_references.py --list   # the case names, nothing written

For every layer, loss, initializer, optimizer, clipping function and schedule that course_lib
shares with PyTorch, this script draws fixed inputs from seeded NumPy generators, runs PyTorch
(float64, one thread) on them and stores inputs and results in one small file. The tests read
that file ALWAYS (tests/test_torch_references.py: course_lib must reproduce every stored
output); where torch is installed, the same test file also rebuilds every case in memory with
this code and checks that the committed file still says what torch says now.

The file is independent of course_lib: the script imports only NumPy and torch. Arrays are
stored in course_lib's layout: a weight ``W`` is torch's ``weight.T`` (in, out).

Layout of the .npz (read it with ``load(path)``; `np.load` works too):
  values      one float64 vector: every array of every case, concatenated (identical arrays,
              e.g. an input shared by several cases, are stored once)
  index       JSON text: {case name: {"config": {...}, "inputs": {array: [offset, shape,
              dtype]}, "outputs": {...}}}
  torch_version, numpy_version, python_version, command, date: how the file was made

Cases
-----
A case is named ``family/variant`` (e.g. ``activation/ELU(alpha=0.3) 4x3``). A family is two
functions registered in FAMILIES at the bottom of this file:
  <family>_cases()                      -> yields (variant, config, inputs): NumPy only
  <family>_torch(torch, config, inputs) -> {output name: array}: what torch computes
``config`` is JSON data (the torch call, hyperparameters, shapes) and ``inputs`` a dict of
arrays. On the test side, tests/_torch_counterparts.py holds, for each family, the course_lib
function that computes the same outputs from (config, inputs), and the tolerances.

To add a case:
  1. a new variant of an existing family: add it to that family's list below (e.g. one more
     entry in ACTIVATIONS or OPTIMIZERS); nothing else changes on the test side.
  2. a new family (e.g. LayerNorm): write ``layernorm_cases`` and ``layernorm_torch`` here,
     append ``Family("layernorm", layernorm_cases, layernorm_torch)`` to FAMILIES, then add
     ``"layernorm": Counterpart(<course_lib function>, {<tolerances>})`` to COUNTERPARTS in
     tests/_torch_counterparts.py.
  3. regenerate: ``.venv/bin/python scripts/make_torch_references.py`` and commit the .npz
     (a few tens of KB; keep inputs small, and describe large random inputs by their recipe in
     ``config`` as the dropout family does). The tests fail until the file and the code agree.
Regenerating with the same torch and NumPy gives the same values (only ``date`` changes).
"""
import argparse
import datetime
import json
import math
import platform
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
REFERENCE_DIR = ROOT / "tests" / "references"
COMMAND = "python scripts/make_torch_references.py"


@dataclass
class Family:
    name: str
    cases: Callable          # () -> iterable of (variant, config, inputs)
    torch: Callable          # (torch, config, inputs) -> {name: array}


@dataclass
class Case:
    name: str                # "family/variant"
    config: dict
    inputs: dict = field(default_factory=dict)
    outputs: dict = field(default_factory=dict)

    @property
    def family(self):
        return self.name.split("/", 1)[0]

    @property
    def variant(self):
        return self.name.split("/", 1)[1]


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------

def shape_id(shape):
    return "x".join(map(str, shape))


def data_for(shape, seed, zeros=True):
    """x ~ 2 N(0, 1) with exact zeros every 5th element (they pin down the convention at a
    kink), and an upstream gradient dout ~ N(0, 1)."""
    r = np.random.default_rng(seed)
    x = 2.0 * r.standard_normal(shape)
    if zeros and x.size > 2:
        x.flat[::5] = 0.0
    return x, r.standard_normal(shape)


def as_numpy(value):
    """A tensor, float or int as a NumPy array (float64 unless it is an integer)."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    value = np.asarray(value)
    return value.astype(np.int64 if value.dtype.kind in "iub" else np.float64)


def tensor(torch, array, grad=False):
    return torch.tensor(np.asarray(array), requires_grad=grad)


def forward_backward(torch, module, x, dout):
    """out = module(x) and d(sum(out * dout))/dx."""
    xt = tensor(torch, x, grad=True)
    out = module(xt)
    out.backward(tensor(torch, dout))
    return out, xt.grad


def copy_into(torch, param, array):
    with torch.no_grad():
        param.copy_(tensor(torch, array))


# ---------------------------------------------------------------------------------------------
# layers
# ---------------------------------------------------------------------------------------------

# small shapes keep the file small; where torch is installed, tests/test_torch_parity.py also
# compares random larger shapes live
SHAPES = [(1, 1), (4, 3), (7, 5)]

# variant name -> (torch.nn class, keyword arguments)
ACTIVATIONS = {
    "ReLU": ("ReLU", {}),
    "LeakyReLU(0.01)": ("LeakyReLU", {}),
    "LeakyReLU(0.2)": ("LeakyReLU", {"negative_slope": 0.2}),
    "ELU(alpha=1)": ("ELU", {}),
    "ELU(alpha=0.3)": ("ELU", {"alpha": 0.3}),
    "Sigmoid": ("Sigmoid", {}),
    "Tanh": ("Tanh", {}),
    "GELU(tanh)": ("GELU", {"approximate": "tanh"}),
    "SiLU": ("SiLU", {}),
}


def activation_cases():
    for shape in SHAPES:
        x, dout = data_for(shape, seed=sum(shape))
        for variant, (cls, kwargs) in ACTIVATIONS.items():
            yield f"{variant} {shape_id(shape)}", {"class": cls, "kwargs": kwargs}, {"x": x, "dout": dout}


def activation_torch(torch, config, inputs):
    module = getattr(torch.nn, config["class"])(**config["kwargs"])
    out, dx = forward_backward(torch, module, inputs["x"], inputs["dout"])
    return {"out": out, "dx": dx}


def prelu_cases():
    for shape in SHAPES:
        x, dout = data_for(shape, seed=3)
        for per_feature in (False, True):
            n_alpha = shape[1] if per_feature else 1
            alpha = np.random.default_rng(4).uniform(0.0, 0.5, n_alpha)
            yield (f"{'per feature' if per_feature else 'shared'} {shape_id(shape)}",
                   {"num_parameters": n_alpha}, {"x": x, "dout": dout, "alpha": alpha})


def prelu_torch(torch, config, inputs):
    module = torch.nn.PReLU(num_parameters=config["num_parameters"], dtype=torch.float64)
    copy_into(torch, module.weight, inputs["alpha"])
    out, dx = forward_backward(torch, module, inputs["x"], inputs["dout"])
    return {"out": out, "dx": dx, "dalpha": module.weight.grad}


def prelu_default_cases():
    yield "num_parameters=3", {"num_parameters": 3}, {}


def prelu_default_torch(torch, config, inputs):
    return {"alpha": torch.nn.PReLU(config["num_parameters"], dtype=torch.float64).weight}


def linear_cases():
    for n, d_in, d_out in [(1, 1, 1), (5, 3, 4), (12, 7, 5)]:
        r = np.random.default_rng(n + d_in + d_out)
        W = r.standard_normal((d_in, d_out)) * math.sqrt(2.0 / d_in)
        b = r.standard_normal(d_out)
        x, dout = r.standard_normal((n, d_in)), r.standard_normal((n, d_out))
        for bias in (True, False):
            inputs = {"x": x, "dout": dout, "W": W} | ({"b": b} if bias else {})
            yield f"{n}x{d_in}->{d_out}{'' if bias else ' bias=False'}", {"bias": bias}, inputs


def linear_torch(torch, config, inputs):
    W = inputs["W"]
    module = torch.nn.Linear(*W.shape, bias=config["bias"], dtype=torch.float64)
    copy_into(torch, module.weight, W.T)                    # course_lib's W is torch's weight.T
    if config["bias"]:
        copy_into(torch, module.bias, inputs["b"])
    out, dx = forward_backward(torch, module, inputs["x"], inputs["dout"])
    outputs = {"out": out, "dx": dx, "dW": module.weight.grad.T}
    if config["bias"]:
        outputs["db"] = module.bias.grad
    return outputs


def maxout_cases():
    """Maxout has no torch namesake; its equivalent is Linear(in, out * pieces), viewed as
    (N, out, pieces), then the max over the pieces."""
    for n, d_in, d_out, pieces in [(1, 1, 1, 2), (6, 4, 3, 2), (9, 5, 2, 3)]:
        r = np.random.default_rng(100 + n)
        W = r.standard_normal((d_in, d_out, pieces))
        b = r.standard_normal((d_out, pieces))
        x, dout = r.standard_normal((n, d_in)), r.standard_normal((n, d_out))
        yield (f"{n}x{d_in}->{d_out} pieces={pieces}", {"pieces": pieces},
               {"x": x, "dout": dout, "W": W, "b": b})


def maxout_torch(torch, config, inputs):
    W, b = inputs["W"], inputs["b"]
    d_in, d_out, pieces = W.shape
    lin = torch.nn.Linear(d_in, d_out * pieces, dtype=torch.float64)
    copy_into(torch, lin.weight, W.reshape(d_in, -1).T)
    copy_into(torch, lin.bias, b.reshape(-1))
    out, dx = forward_backward(
        torch, lambda x: lin(x).view(len(x), d_out, pieces).max(dim=2).values,
        inputs["x"], inputs["dout"])
    return {"out": out, "dx": dx, "dW": lin.weight.grad.T.reshape(W.shape),
            "db": lin.bias.grad.reshape(b.shape)}


BATCHNORM_BATCHES = [8, 2, 13, 5]     # training steps with batches of different sizes


def batchnorm_cases():
    for momentum in (0.1, 0.3, None):
        for d in (1, 3):
            r = np.random.default_rng(11)
            gamma, beta = r.uniform(0.5, 2.0, d), r.standard_normal(d)
            # each step's batch has its own mean and spread; steps are stacked along axis 0
            xs = [3.0 + (1.0 + step) * r.standard_normal((n, d)) for step, n in enumerate(BATCHNORM_BATCHES)]
            douts = [r.standard_normal((n, d)) for n in BATCHNORM_BATCHES]
            x_eval, dout_eval = 3.0 + r.standard_normal((7, d)), r.standard_normal((7, d))
            config = {"eps": 1e-5, "momentum": momentum, "batch_sizes": BATCHNORM_BATCHES}
            yield (f"momentum={momentum} d={d}", config,
                   {"gamma": gamma, "beta": beta, "x": np.concatenate(xs),
                    "dout": np.concatenate(douts), "x_eval": x_eval, "dout_eval": dout_eval})


def batchnorm_torch(torch, config, inputs):
    """Train steps (gradients accumulate: dgamma/dbeta are running sums, as in course_lib),
    then one eval step after zero_grad. Per-step arrays are stacked along axis 0."""
    d = len(inputs["gamma"])
    bn = torch.nn.BatchNorm1d(d, eps=config["eps"], momentum=config["momentum"], dtype=torch.float64)
    copy_into(torch, bn.weight, inputs["gamma"])
    copy_into(torch, bn.bias, inputs["beta"])
    splits = np.cumsum(config["batch_sizes"])[:-1]
    steps = {k: [] for k in ("out", "dx", "dgamma", "dbeta", "running_mean", "running_var",
                             "num_batches_tracked")}
    for x, dout in zip(np.split(inputs["x"], splits), np.split(inputs["dout"], splits)):
        out, dx = forward_backward(torch, bn, x, dout)
        for key, value in (("out", out), ("dx", dx), ("dgamma", bn.weight.grad),
                           ("dbeta", bn.bias.grad), ("running_mean", bn.running_mean),
                           ("running_var", bn.running_var),
                           ("num_batches_tracked", bn.num_batches_tracked)):
            steps[key].append(as_numpy(value).copy())
    outputs = {k: np.concatenate(v) if k in ("out", "dx") else np.stack(v) for k, v in steps.items()}
    bn.eval()
    bn.zero_grad()
    out, dx = forward_backward(torch, bn, inputs["x_eval"], inputs["dout_eval"])
    outputs |= {"eval_out": out, "eval_dx": dx, "eval_dgamma": bn.weight.grad,
                "eval_dbeta": bn.bias.grad, "eval_running_mean": bn.running_mean,
                "eval_running_var": bn.running_var,
                "eval_num_batches_tracked": bn.num_batches_tracked}
    return outputs


def dropout_input(config):
    """The dropout input, rebuilt from its recipe in config (60 000 values are too many to store)."""
    return np.random.default_rng(config["seed"]).uniform(config["low"], config["high"], config["shape"])


def dropout_cases():
    for p in (0.1, 0.5, 0.8):
        yield (f"p={p}", {"p": p, "seed": 5, "low": 1.0, "high": 2.0, "shape": [300, 200],
                          "torch_seed": 0}, {})


def dropout_torch(torch, config, inputs):
    """Random masks differ between libraries; what must agree is the meaning of p (the drop
    rate), the 1/(1 - p) scaling of survivors, and the identity in eval mode."""
    x = dropout_input(config)
    torch.manual_seed(config["torch_seed"])
    module = torch.nn.Dropout(config["p"])
    out = module(tensor(torch, x)).numpy()
    kept = out != 0
    scale = out[kept] / x[kept]
    eval_out = module.eval()(tensor(torch, x)).numpy()
    return {"drop_fraction": (~kept).mean(), "survivor_scale": [scale.min(), scale.max()],
            "eval_max_abs_change": np.abs(eval_out - x).max()}


def mlp_cases():
    """A whole model: Linear-BatchNorm-GELU-Linear-PReLU-Linear and cross-entropy."""
    r = np.random.default_rng(21)
    sizes = [(5, 8), (8, 6), (6, 3)]
    inputs = {}
    for i, (d_in, d_out) in zip((0, 3, 5), sizes):
        inputs[f"W{i}"] = r.standard_normal((d_in, d_out)) * math.sqrt(2.0 / d_in)
        inputs[f"b{i}"] = 0.1 * r.standard_normal(d_out)
    inputs["alpha4"] = r.uniform(0.0, 0.5, 6)
    inputs["x"], inputs["y"] = r.standard_normal((10, 5)), r.integers(0, 3, 10)
    yield "5-8-6-3 label_smoothing=0.05", {"label_smoothing": 0.05}, inputs


def mlp_torch(torch, config, inputs):
    nn = torch.nn
    model = nn.Sequential(nn.Linear(5, 8), nn.BatchNorm1d(8), nn.GELU(approximate="tanh"),
                          nn.Linear(8, 6), nn.PReLU(6), nn.Linear(6, 3)).double()
    for i in (0, 3, 5):
        copy_into(torch, model[i].weight, inputs[f"W{i}"].T)
        copy_into(torch, model[i].bias, inputs[f"b{i}"])
    copy_into(torch, model[4].weight, inputs["alpha4"])
    x = tensor(torch, inputs["x"], grad=True)
    loss = nn.functional.cross_entropy(model(x), tensor(torch, inputs["y"]),
                                       label_smoothing=config["label_smoothing"])
    loss.backward()
    outputs = {"loss": loss, "dx": x.grad}
    for i in (0, 3, 5):
        outputs[f"dW{i}"], outputs[f"db{i}"] = model[i].weight.grad.T, model[i].bias.grad
    outputs |= {"dgamma1": model[1].weight.grad, "dbeta1": model[1].bias.grad,
                "dalpha4": model[4].weight.grad}
    return outputs


# ---------------------------------------------------------------------------------------------
# losses
# ---------------------------------------------------------------------------------------------

def loss_and_grad(torch, fn, z, target, **kwargs):
    zt = tensor(torch, z, grad=True)
    value = fn(zt, tensor(torch, target), **kwargs)
    value.backward()
    return {"loss": value, "grad": zt.grad}


def cross_entropy_cases():
    for n, k in [(1, 2), (6, 4), (13, 7)]:
        for targets in ("labels", "probabilities"):
            r = np.random.default_rng(n * k)
            z = 3.0 * r.standard_normal((n, k))
            y = r.integers(0, k, n) if targets == "labels" else r.dirichlet(np.ones(k), size=n)
            for smoothing in (0.0, 0.1, 0.35):
                yield (f"{n}x{k} {targets} label_smoothing={smoothing}",
                       {"label_smoothing": smoothing}, {"z": z, "y": y})
    # logits of +-1000: log-sum-exp must not overflow
    yield ("extreme logits label_smoothing=0.1", {"label_smoothing": 0.1},
           {"z": np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0]]), "y": np.array([1, 2])})


def cross_entropy_torch(torch, config, inputs):
    return loss_and_grad(torch, torch.nn.functional.cross_entropy, inputs["z"], inputs["y"],
                         label_smoothing=config["label_smoothing"])


def mse_cases():
    for shape in [(1, 1), (7, 1), (9, 4)]:
        r = np.random.default_rng(shape[0])
        yield shape_id(shape), {}, {"pred": r.standard_normal(shape), "y": r.standard_normal(shape)}


def mse_torch(torch, config, inputs):
    return loss_and_grad(torch, torch.nn.functional.mse_loss, inputs["pred"], inputs["y"])


def bce_with_logits_cases():
    for shape in [(1, 1), (8, 1), (9, 4)]:
        for soft in (False, True):
            r = np.random.default_rng(shape[0] + soft)
            z = 4.0 * r.standard_normal(shape)
            y = r.uniform(0, 1, shape) if soft else r.integers(0, 2, shape).astype(np.float64)
            yield f"{shape_id(shape)} {'soft' if soft else 'hard'} targets", {}, {"z": z, "y": y}
    yield ("extreme logits", {},
           {"z": np.array([[1000.0], [-1000.0], [0.0], [-1000.0], [1000.0], [999.0]]),
            "y": np.array([[1.0], [0.0], [0.5], [1.0], [0.0], [1.0]])})


def bce_with_logits_torch(torch, config, inputs):
    return loss_and_grad(torch, torch.nn.functional.binary_cross_entropy_with_logits,
                         inputs["z"], inputs["y"])


# ---------------------------------------------------------------------------------------------
# initializers: distribution statistics of 150 000 draws (the generators differ, so only the
# distributions can agree), and the gains
# ---------------------------------------------------------------------------------------------

FAN_IN, FAN_OUT = 600, 250          # non-square: a fan_in / fan_out mix-up changes the scale

# variant name (course_lib's) -> (torch.nn.init function, keyword arguments)
INITS = {
    "normal(std=0.02)": ("normal_", {"std": 0.02}),
    "uniform(a=0.3)": ("uniform_", {"a": -0.3, "b": 0.3}),
    "xavier_normal": ("xavier_normal_", {}),
    "xavier_normal(gain=tanh)": ("xavier_normal_", {"gain": 5.0 / 3.0}),
    "xavier_uniform": ("xavier_uniform_", {}),
    "he_normal": ("kaiming_normal_", {"nonlinearity": "relu"}),
    "he_normal(mode=fan_out)": ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "relu"}),
    "he_uniform": ("kaiming_uniform_", {"nonlinearity": "relu"}),
    "he_uniform(gain=leaky_relu 0.2)": ("kaiming_uniform_", {"a": 0.2}),
    "lecun_normal": ("kaiming_normal_", {"nonlinearity": "linear"}),
    "Linear default": ("kaiming_normal_", {"nonlinearity": "relu"}),   # cl.Linear's init="he_normal"
}


def init_cases():
    for variant, (fn, kwargs) in INITS.items():
        yield variant, {"torch": fn, "kwargs": kwargs, "fan_in": FAN_IN, "fan_out": FAN_OUT, "seed": 0}, {}


def init_torch(torch, config, inputs):
    t = torch.empty(config["fan_out"], config["fan_in"], dtype=torch.float64)   # torch: (out, in)
    getattr(torch.nn.init, config["torch"])(t, **config["kwargs"],
                                            generator=torch.Generator().manual_seed(config["seed"]))
    w = t.numpy()
    if config["torch"].endswith("uniform_"):
        # the largest |w| of 150 000 uniform draws sits right at the bound: the support
        return {"std": w.std(), "max_abs": np.abs(w).max()}
    return {"std": w.std()}


GAINS = [("identity", None), ("linear", None), ("sigmoid", None), ("tanh", None), ("relu", None),
         ("leaky_relu", None), ("selu", None)] + [("leaky_relu", s) for s in (0.0, 0.01, 0.2, 1, 3.5)]


def gain_cases():
    for name, param in GAINS:
        variant = name if param is None else f"{name}({param})"
        # torch spells the identity "linear" (its calculate_gain rejects "identity")
        torch_name = "linear" if name == "identity" else name
        yield variant, {"nonlinearity": name, "param": param, "torch_nonlinearity": torch_name}, {}


def gain_torch(torch, config, inputs):
    return {"gain": torch.nn.init.calculate_gain(config["torch_nonlinearity"], config["param"])}


# ---------------------------------------------------------------------------------------------
# optimizers: whole trajectories on a noisy diagonal quadratic
# ---------------------------------------------------------------------------------------------

PARAM_SHAPES = [(2, 2), (2,), (2, 1, 2)]
STEPS = 25
PROBLEM_SEED = 6

# variant name -> (torch.optim class, keyword arguments)
OPTIMIZERS = {
    "SGD": ("SGD", {"lr": 0.1}),
    "SGD momentum": ("SGD", {"lr": 0.05, "momentum": 0.9}),
    "SGD nesterov": ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    "SGD weight_decay": ("SGD", {"lr": 0.1, "weight_decay": 0.05}),
    "SGD momentum weight_decay": ("SGD", {"lr": 0.05, "momentum": 0.5, "weight_decay": 0.1}),
    "AdaGrad defaults": ("Adagrad", {}),
    "AdaGrad": ("Adagrad", {"lr": 0.3, "weight_decay": 0.05}),
    "RMSProp defaults": ("RMSprop", {}),
    "RMSProp alpha": ("RMSprop", {"lr": 0.02, "alpha": 0.9, "eps": 1e-6, "weight_decay": 0.01}),
    "RMSProp momentum": ("RMSprop", {"lr": 0.01, "momentum": 0.9}),
    "Adam defaults": ("Adam", {}),
    "Adam": ("Adam", {"lr": 0.05, "betas": [0.8, 0.99], "eps": 1e-6}),
    "Adam weight_decay": ("Adam", {"lr": 0.05, "weight_decay": 0.1}),
    "AdamW defaults": ("AdamW", {}),
    "AdamW": ("AdamW", {"lr": 0.05, "weight_decay": 0.1}),
}


def quadratic_problem(seed, shapes=PARAM_SHAPES, steps=STEPS):
    """Start points, a diagonal quadratic (curvature, centre) and gradient noise per step."""
    r = np.random.default_rng(seed)
    inputs = {}
    for i, s in enumerate(shapes):
        inputs[f"start{i}"] = r.standard_normal(s)
        inputs[f"curvature{i}"] = r.uniform(0.1, 3.0, s)
        inputs[f"centre{i}"] = r.standard_normal(s)
        inputs[f"noise{i}"] = 0.3 * r.standard_normal((steps, *s))
    return inputs


def quadratic_gradient(t, values, inputs):
    return [inputs[f"curvature{i}"] * (v - inputs[f"centre{i}"]) + inputs[f"noise{i}"][t]
            for i, v in enumerate(values)]


def optimizer_cases():
    for variant, (cls, kwargs) in OPTIMIZERS.items():
        # halfway the rate is halved, as a schedule would: momentum must keep lr outside its buffer
        config = {"class": cls, "kwargs": kwargs, "steps": STEPS, "halve_lr_at": STEPS // 2,
                  "n_params": len(PARAM_SHAPES)}
        yield variant, config, quadratic_problem(PROBLEM_SEED)   # one problem: stored once


def optimizer_torch(torch, config, inputs):
    """The parameters after every step: path{i} has shape (steps, *shape of parameter i)."""
    params = [tensor(torch, inputs[f"start{i}"].copy(), grad=True) for i in range(config["n_params"])]
    opt = getattr(torch.optim, config["class"])(params, **config["kwargs"])
    paths = [[] for _ in params]
    for t in range(config["steps"]):
        if t == config["halve_lr_at"]:
            for group in opt.param_groups:
                group["lr"] *= 0.5
        opt.zero_grad()
        for p, g in zip(params, quadratic_gradient(t, [p.detach().numpy() for p in params], inputs)):
            p.grad = tensor(torch, g)
        opt.step()
        for path, p in zip(paths, params):
            path.append(p.detach().numpy().copy())
    return {f"path{i}": np.stack(path) for i, path in enumerate(paths)}


# ---------------------------------------------------------------------------------------------
# clipping and max-norm
# ---------------------------------------------------------------------------------------------

def grads_for(seed):
    r = np.random.default_rng(seed)
    return {f"grad{i}": r.standard_normal(s) for i, s in enumerate([(5, 4), (4,), (3, 2, 2)])}


def torch_params_with_grads(torch, inputs):
    params = []
    for i in range(len(inputs)):
        p = torch.zeros(inputs[f"grad{i}"].shape, dtype=torch.float64, requires_grad=True)
        p.grad = tensor(torch, inputs[f"grad{i}"].copy())
        params.append(p)
    return params


def clip_grad_norm_cases():
    for max_norm in (0.5, 2.0, 1e3):
        yield f"max_norm={max_norm:g}", {"max_norm": max_norm}, grads_for(0)


def clip_grad_norm_torch(torch, config, inputs):
    params = torch_params_with_grads(torch, inputs)
    total = torch.nn.utils.clip_grad_norm_(params, config["max_norm"])
    return {"total_norm": total} | {f"grad{i}": p.grad for i, p in enumerate(params)}


def clip_grad_value_cases():
    for clip_value in (0.1, 0.7, 10.0):
        yield f"clip_value={clip_value:g}", {"clip_value": clip_value}, grads_for(1)


def clip_grad_value_torch(torch, config, inputs):
    params = torch_params_with_grads(torch, inputs)
    torch.nn.utils.clip_grad_value_(params, config["clip_value"])
    return {f"grad{i}": p.grad for i, p in enumerate(params)}


def max_norm_cases():
    """A bare (6, 9) array, and a model Linear(6, 5) - ReLU - Maxout(5, 3, pieces=2) whose
    weight matrices are projected per column (Maxout: per piece); biases stay."""
    r = np.random.default_rng(2)
    inputs = {"W": r.standard_normal((6, 9)),
              "linear_W": 5.0 * r.standard_normal((6, 5)) * math.sqrt(2.0 / 6),
              "maxout_W": r.standard_normal((5, 3, 2)) * math.sqrt(2.0 / 5)}
    for c in (0.5, 1.5, 100.0):
        yield f"c={c:g}", {"c": c}, inputs


def max_norm_torch(torch, config, inputs):
    c = config["c"]

    def renorm(W):     # one column = one unit's incoming weights = torch's dim=1 slices of W
        cols = W.reshape(W.shape[0], -1)
        return torch.renorm(tensor(torch, cols), p=2, dim=1, maxnorm=c).numpy().reshape(W.shape)

    n_over = int((torch.linalg.norm(tensor(torch, inputs["W"]), dim=0) > c).sum())
    return {"W": renorm(inputs["W"]), "n_over": n_over, "linear_W": renorm(inputs["linear_W"]),
            "maxout_W": renorm(inputs["maxout_W"])}


# ---------------------------------------------------------------------------------------------
# learning-rate schedules: the rate after each of 15 scheduler steps
# ---------------------------------------------------------------------------------------------

SCHEDULES = {
    "StepLR": {"class": "StepLR", "kwargs": {"step_size": 3, "gamma": 0.5}},
    "StepLR gamma 0.1": {"class": "StepLR", "kwargs": {"step_size": 1}},
    "ExponentialLR": {"class": "ExponentialLR", "kwargs": {"gamma": 0.9}},
    # course_lib's CosineWarmupLR(warmup=4, total=12, min_lr=0.01) is torch's LinearLR from
    # 1/warmup for warmup - 1 steps, then CosineAnnealingLR over total - warmup steps; after
    # `total` ours stays at min_lr while torch's cosine rises again, so compare up to `total`
    "CosineWarmupLR": {"class": "CosineWarmupLR", "kwargs": {"warmup": 4, "total": 12, "min_lr": 0.01}},
    # no torch namesake: LambdaLR with the formula checks the stepping convention
    "InverseTimeLR": {"class": "InverseTimeLR", "kwargs": {"decay": 0.5}},
}


def schedule_cases():
    for variant, config in SCHEDULES.items():
        epochs = config["kwargs"]["total"] if config["class"] == "CosineWarmupLR" else 15
        yield variant, config | {"base_lr": 0.3, "epochs": epochs}, {}


def make_torch_schedule(torch, config, opt):
    sched, kw = torch.optim.lr_scheduler, config["kwargs"]
    if config["class"] == "CosineWarmupLR":
        warm = sched.LinearLR(opt, start_factor=1.0 / kw["warmup"], end_factor=1.0,
                              total_iters=kw["warmup"] - 1)
        cosine = sched.CosineAnnealingLR(opt, T_max=kw["total"] - kw["warmup"], eta_min=kw["min_lr"])
        return sched.SequentialLR(opt, [warm, cosine], milestones=[kw["warmup"]])
    if config["class"] == "InverseTimeLR":
        return sched.LambdaLR(opt, lambda t: 1.0 / (1.0 + kw["decay"] * t))
    return getattr(sched, config["class"])(opt, **kw)


def schedule_torch(torch, config, inputs):
    """lr[0] is the rate before any step, lr[t] the rate after t scheduler steps."""
    opt = torch.optim.SGD([torch.zeros(2, dtype=torch.float64, requires_grad=True)], lr=config["base_lr"])
    schedule = make_torch_schedule(torch, config, opt)
    lrs = [opt.param_groups[0]["lr"]]
    for _ in range(config["epochs"]):
        opt.step()             # torch wants optimizer.step() before scheduler.step()
        schedule.step()
        lrs.append(opt.param_groups[0]["lr"])
    return {"lr": lrs}


# ---------------------------------------------------------------------------------------------
# weight averaging: torch.optim.swa_utils.AveragedModel along an SGD run, and update_bn
# ---------------------------------------------------------------------------------------------

# variant name -> the averaging function, its decay, which steps are averaged, the buffers
AVERAGING = {
    "EMA decay=0.9 get_ema_multi_avg_fn": {"avg": "ema_multi", "decay": 0.9},
    "EMA decay=0.9 get_ema_avg_fn": {"avg": "ema", "decay": 0.9},
    "equal weights": {"avg": "equal", "decay": None},
    "EMA decay=0.8 every=2 start=3": {"avg": "ema_multi", "decay": 0.8, "every": 2, "start": 3},
    "EMA decay=0.9 BatchNorm use_buffers": {"avg": "ema_multi", "decay": 0.9, "batchnorm": True,
                                            "use_buffers": True},
    "equal weights BatchNorm": {"avg": "equal", "decay": None, "batchnorm": True},
}
AVERAGING_SIZES = {"n": 24, "d": 4, "h": 6, "k": 3, "batch_size": 6, "epochs": 3}


def averaging_cases():
    z = AVERAGING_SIZES
    r = np.random.default_rng(31)
    inputs = {"W_in": r.standard_normal((z["d"], z["h"])) * math.sqrt(2.0 / z["d"]),
              "b_in": 0.1 * r.standard_normal(z["h"]),
              "gamma": r.uniform(0.5, 1.5, z["h"]), "beta": 0.1 * r.standard_normal(z["h"]),
              "W_out": r.standard_normal((z["h"], z["k"])) * math.sqrt(2.0 / z["h"]),
              "b_out": 0.1 * r.standard_normal(z["k"]),
              "x": r.standard_normal((z["n"], z["d"])), "y": r.integers(0, z["k"], z["n"])}
    for variant, config in AVERAGING.items():
        config = {"every": 1, "start": 0, "batchnorm": False, "use_buffers": False} | config
        yield variant, config | z | {"lr": 0.2, "momentum": 0.9}, inputs


def averaging_torch(torch, config, inputs):
    """SGD (momentum, no shuffling: batch b is rows b*B..(b+1)*B) for a few epochs; after
    optimizer steps start, start + every, ... the AveragedModel is updated. Outputs: the
    averaged parameters (W as (in, out)), n_averaged, the trained model's last weights and,
    with BatchNorm, the averaged model's running statistics before and after update_bn over
    the same batches."""
    nn, swa = torch.nn, torch.optim.swa_utils
    c = config
    bn = c["batchnorm"]
    layers = [nn.Linear(c["d"], c["h"])] + ([nn.BatchNorm1d(c["h"])] if bn else []) + \
        [nn.ReLU(), nn.Linear(c["h"], c["k"])]
    model = nn.Sequential(*layers).double()
    first, last = model[0], model[len(model) - 1]
    copy_into(torch, first.weight, inputs["W_in"].T)
    copy_into(torch, first.bias, inputs["b_in"])
    copy_into(torch, last.weight, inputs["W_out"].T)
    copy_into(torch, last.bias, inputs["b_out"])
    if bn:
        copy_into(torch, model[1].weight, inputs["gamma"])
        copy_into(torch, model[1].bias, inputs["beta"])
    kwargs = {"use_buffers": c["use_buffers"]}
    if c["avg"] == "ema_multi":
        kwargs["multi_avg_fn"] = swa.get_ema_multi_avg_fn(c["decay"])
    elif c["avg"] == "ema":
        kwargs["avg_fn"] = swa.get_ema_avg_fn(c["decay"])
    averaged = swa.AveragedModel(model, **kwargs)
    opt = torch.optim.SGD(model.parameters(), lr=c["lr"], momentum=c["momentum"])
    x, y = tensor(torch, inputs["x"]), tensor(torch, inputs["y"])
    batches = [(x[i:i + c["batch_size"]], y[i:i + c["batch_size"]])
               for i in range(0, c["n"], c["batch_size"])]
    step = 0
    for _ in range(c["epochs"]):
        for xb, yb in batches:
            opt.zero_grad()
            nn.functional.cross_entropy(model(xb), yb).backward()
            opt.step()
            if step >= c["start"] and (step - c["start"]) % c["every"] == 0:
                averaged.update_parameters(model)
            step += 1
    a_first, a_last = averaged.module[0], averaged.module[len(model) - 1]
    outputs = {"avg_W_in": a_first.weight.T, "avg_b_in": a_first.bias,
               "avg_W_out": a_last.weight.T, "avg_b_out": a_last.bias,
               "n_averaged": averaged.n_averaged, "W_in": first.weight.T, "W_out": last.weight.T}
    if bn:
        a_bn = averaged.module[1]
        outputs |= {"avg_gamma": a_bn.weight, "avg_beta": a_bn.bias,
                    "avg_running_mean": a_bn.running_mean.clone(),
                    "avg_running_var": a_bn.running_var.clone(),
                    "avg_num_batches_tracked": a_bn.num_batches_tracked.clone()}
        swa.update_bn([xb for xb, _ in batches], averaged)
        outputs |= {"bn_running_mean": a_bn.running_mean, "bn_running_var": a_bn.running_var,
                    "bn_num_batches_tracked": a_bn.num_batches_tracked}
    return outputs


# ---------------------------------------------------------------------------------------------
# LayerNorm over the feature axis, and nn.Linear's own default initialization
# ---------------------------------------------------------------------------------------------

def layernorm_cases():
    """torch's weight/bias are course_lib's gamma/beta; one forward and one backward pass."""
    for shape, eps in [((1, 5), 1e-5), ((6, 4), 1e-5), ((9, 7), 0.1)]:
        r = np.random.default_rng(40 + sum(shape))
        x = 2.0 * r.standard_normal(shape) + 0.5
        dout = r.standard_normal(shape)
        gamma, beta = r.uniform(0.5, 1.5, shape[1]), r.standard_normal(shape[1])
        for affine in (True, False):
            inputs = {"x": x, "dout": dout} | ({"gamma": gamma, "beta": beta} if affine else {})
            yield (f"{shape_id(shape)} eps={eps}{'' if affine else ' elementwise_affine=False'}",
                   {"eps": eps, "elementwise_affine": affine}, inputs)


def layernorm_torch(torch, config, inputs):
    d = inputs["x"].shape[1]
    ln = torch.nn.LayerNorm(d, eps=config["eps"], elementwise_affine=config["elementwise_affine"],
                            dtype=torch.float64)
    if config["elementwise_affine"]:
        copy_into(torch, ln.weight, inputs["gamma"])
        copy_into(torch, ln.bias, inputs["beta"])
    out, dx = forward_backward(torch, ln, inputs["x"], inputs["dout"])
    outputs = {"out": out, "dx": dx}
    if config["elementwise_affine"]:
        outputs |= {"dgamma": ln.weight.grad, "dbeta": ln.bias.grad}
    return outputs


DECILES = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]


def linear_default_cases():
    """nn.Linear's reset_parameters: weight and bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    Statistics of one seeded draw (the values themselves come from torch's generator)."""
    for fan_in, fan_out in [(600, 250), (3, 20000)]:
        yield f"Linear({fan_in}, {fan_out})", {"fan_in": fan_in, "fan_out": fan_out, "seed": 0}, {}


def linear_default_torch(torch, config, inputs):
    """For weight and bias: mean, std, max |value| and the deciles of value * sqrt(fan_in)
    (U(-1, 1) if the bound is right)."""
    torch.manual_seed(config["seed"])
    layer = torch.nn.Linear(config["fan_in"], config["fan_out"], dtype=torch.float64)
    outputs = {}
    for name, param in (("W", layer.weight), ("b", layer.bias)):
        v = param.detach().numpy().ravel()
        outputs |= {f"{name}_mean": v.mean(), f"{name}_std": v.std(), f"{name}_max_abs": np.abs(v).max(),
                    f"{name}_deciles": np.quantile(v * math.sqrt(config["fan_in"]), DECILES)}
    return outputs


# ---------------------------------------------------------------------------------------------
# the registry: one entry per family (add yours at the end)
# ---------------------------------------------------------------------------------------------

FAMILIES = [
    Family("activation", activation_cases, activation_torch),
    Family("prelu", prelu_cases, prelu_torch),
    Family("prelu_default", prelu_default_cases, prelu_default_torch),
    Family("linear", linear_cases, linear_torch),
    Family("maxout", maxout_cases, maxout_torch),
    Family("batchnorm", batchnorm_cases, batchnorm_torch),
    Family("dropout", dropout_cases, dropout_torch),
    Family("mlp", mlp_cases, mlp_torch),
    Family("cross_entropy", cross_entropy_cases, cross_entropy_torch),
    Family("mse", mse_cases, mse_torch),
    Family("bce_with_logits", bce_with_logits_cases, bce_with_logits_torch),
    Family("init", init_cases, init_torch),
    Family("gain", gain_cases, gain_torch),
    Family("optimizer", optimizer_cases, optimizer_torch),
    Family("clip_grad_norm", clip_grad_norm_cases, clip_grad_norm_torch),
    Family("clip_grad_value", clip_grad_value_cases, clip_grad_value_torch),
    Family("max_norm", max_norm_cases, max_norm_torch),
    Family("schedule", schedule_cases, schedule_torch),
    Family("averaging", averaging_cases, averaging_torch),
    Family("layernorm", layernorm_cases, layernorm_torch),
    Family("linear_default", linear_default_cases, linear_default_torch),
]
FAMILY = {family.name: family for family in FAMILIES}


# ---------------------------------------------------------------------------------------------
# building, saving, loading
# ---------------------------------------------------------------------------------------------

def import_torch():
    import torch
    torch.set_num_threads(1)          # float64 on the CPU, one thread: reproducible sums
    return torch


def family_cases(family):
    """The cases of one family with their inputs, before torch has run (NumPy only)."""
    cases = []
    for variant, config, inputs in family.cases():
        # through JSON and back: the config the tests read is exactly the one torch saw
        config = json.loads(json.dumps(config))
        cases.append(Case(f"{family.name}/{variant}", config,
                          {k: as_numpy(v) for k, v in inputs.items()}))
    return cases


def run_torch(torch, family, case):
    """Fill ``case.outputs`` with what torch computes (on copies of the inputs); returns case."""
    default_dtype = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        outputs = family.torch(torch, case.config, {k: v.copy() for k, v in case.inputs.items()})
    finally:
        torch.set_default_dtype(default_dtype)
    case.outputs = {k: as_numpy(v) for k, v in outputs.items()}
    return case


def build(torch=None, families=FAMILIES):
    """Every case with torch's outputs, in memory: [Case, ...]."""
    torch = torch or import_torch()
    cases = [run_torch(torch, family, case) for family in families for case in family_cases(family)]
    names = [c.name for c in cases]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"make_torch_references: case names must be unique, repeated: {duplicates}")
    return cases


def save(cases, path, torch_version, command=COMMAND):
    """Write the cases into one .npz: a flat float64 vector plus a JSON index."""
    chunks, offsets, index = [], {}, {}
    size = 0
    for case in cases:
        entry = {"config": case.config, "inputs": {}, "outputs": {}}
        for role in ("inputs", "outputs"):
            for name, array in getattr(case, role).items():
                key = (array.dtype.str, array.shape, array.tobytes())
                if key not in offsets:                 # identical arrays are stored once
                    offsets[key] = size
                    chunks.append(array.astype(np.float64).ravel())
                    size += array.size
                entry[role][name] = [offsets[key], list(array.shape), array.dtype.name]
        index[case.name] = entry
    values = np.concatenate(chunks) if chunks else np.zeros(0)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        path, values=values, index=np.array(json.dumps(index, sort_keys=False)),
        torch_version=np.array(torch_version), numpy_version=np.array(np.__version__),
        python_version=np.array(platform.python_version()), command=np.array(command),
        date=np.array(datetime.date.today().isoformat()))
    return values.size


def load(path):
    """(metadata dict, {case name: Case}) from a file written by ``save``."""
    with np.load(path, allow_pickle=False) as f:
        values = f["values"]
        index = json.loads(str(f["index"]))
        meta = {k: str(f[k]) for k in ("torch_version", "numpy_version", "python_version",
                                       "command", "date")}
    cases = {}
    for name, entry in index.items():
        case = Case(name, entry["config"])
        for role in ("inputs", "outputs"):
            for array_name, (offset, shape, dtype) in entry[role].items():
                n = math.prod(shape)
                array = values[offset:offset + n].reshape(shape).astype(dtype)
                getattr(case, role)[array_name] = array
        cases[name] = case
    return meta, cases


def reference_path(torch_version):
    major_minor = ".".join(torch_version.split("+")[0].split(".")[:2])
    return REFERENCE_DIR / f"torch_{major_minor}.npz"


def count_values(cases):
    """(number of output arrays, number of output values) — the parity values a file holds."""
    arrays = sum(len(c.outputs) for c in cases)
    numbers = sum(a.size for c in cases for a in c.outputs.values())
    return arrays, numbers


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--list", action="store_true", help="print the case names, write nothing")
    parser.add_argument("--out", type=Path, help="output file (default tests/references/torch_<X.Y>.npz)")
    args = parser.parse_args(argv)
    if args.list:
        for family in FAMILIES:
            for case in family_cases(family):
                print(case.name)
        return 0
    torch = import_torch()
    cases = build(torch)
    path = args.out or reference_path(torch.__version__)
    argv = sys.argv[1:] if argv is None else argv
    stored = save(cases, path, torch.__version__, " ".join([COMMAND, *argv]))   # the exact command
    arrays, numbers = count_values(cases)
    print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: {len(cases)} cases, "
          f"{arrays} reference arrays holding {numbers} values ({stored} numbers stored with the "
          f"inputs), {path.stat().st_size / 1024:.0f} KB; torch {torch.__version__}, numpy {np.__version__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
