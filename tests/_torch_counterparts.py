"""course_lib's side of the PyTorch parity cases (scripts/make_torch_references.py has torch's).

For every family of cases in the reference file, COUNTERPARTS holds the course_lib function
that computes the same outputs from the case's config and inputs, and the tolerances of the
comparison. tests/test_torch_references.py runs them against the committed file (no torch
needed); tests/test_torch_parity.py runs them against live torch on random shapes.

To add a family: write ``def <family>(case) -> {output name: array}`` below and register it
in COUNTERPARTS with its tolerances; see the script's docstring for the torch side.
"""
import importlib.util
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import course_lib as cl

ROOT = Path(__file__).resolve().parents[1]


def _load_script():
    name = "make_torch_references"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


refs = _load_script()

DEFAULT = (1e-10, 1e-12)          # (rtol, atol) unless a family says otherwise
EXACT = (0.0, 0.0)


@dataclass
class Counterpart:
    run: callable                  # (case) -> {output name: array}
    tolerances: object = None      # {output name or "*": (rtol, atol)}, or (case, name) -> (rtol, atol)

    def tolerance(self, case, name):
        if callable(self.tolerances):
            return self.tolerances(case, name)
        table = self.tolerances or {}
        return table.get(name, table.get("*", DEFAULT))


def reference_label(meta):
    """'torch 2.13 reference' from the file's metadata."""
    return f"torch {'.'.join(meta['torch_version'].split('+')[0].split('.')[:2])} reference"


def compare(case, ours, source):
    """Assert course_lib's outputs equal the reference's, naming the case and the array."""
    counterpart = COUNTERPARTS[case.family]
    assert set(ours) == set(case.outputs), (
        f"course_lib vs {source}: {case.name}: course_lib computed {sorted(ours)}, the reference "
        f"holds {sorted(case.outputs)} (update the counterpart in tests/_torch_counterparts.py)")
    for name, expected in case.outputs.items():
        got = np.asarray(ours[name], dtype=np.float64)
        expected = np.asarray(expected, dtype=np.float64)
        assert got.shape == expected.shape, (
            f"course_lib vs {source}: {case.name} {name}, shape {got.shape} vs {expected.shape}")
        rtol, atol = counterpart.tolerance(case, name)
        diff = float(np.max(np.abs(got - expected), initial=0.0))
        assert np.allclose(got, expected, rtol=rtol, atol=atol), (
            f"course_lib vs {source}: {case.name} {name}, max abs diff {diff:.3e} "
            f"(rtol {rtol:g}, atol {atol:g})")


# ---------------------------------------------------------------------------------------------
# layers
# ---------------------------------------------------------------------------------------------

# torch.nn class -> course_lib layer from torch's keyword arguments
ACTIVATIONS = {
    "ReLU": lambda kw: cl.ReLU(),
    "LeakyReLU": lambda kw: cl.LeakyReLU(kw.get("negative_slope", 0.01)),
    "ELU": lambda kw: cl.ELU(kw.get("alpha", 1.0)),
    "Sigmoid": lambda kw: cl.Sigmoid(),
    "Tanh": lambda kw: cl.Tanh(),
    "GELU": lambda kw: cl.GELU() if kw == {"approximate": "tanh"} else None,  # only the tanh form
    "SiLU": lambda kw: cl.SiLU(),
}


def activation(case):
    layer = ACTIVATIONS[case.config["class"]](case.config["kwargs"])
    assert layer is not None, f"{case.name}: course_lib has no counterpart for {case.config}"
    out = layer.forward(case.inputs["x"])
    return {"out": out, "dx": layer.backward(case.inputs["dout"])}


def prelu(case):
    layer = cl.PReLU(case.config["num_parameters"])
    layer.alpha.data[:] = case.inputs["alpha"]
    out = layer.forward(case.inputs["x"])
    dx = layer.backward(case.inputs["dout"])
    return {"out": out, "dx": dx, "dalpha": layer.alpha.grad}


def prelu_default(case):
    return {"alpha": cl.PReLU(case.config["num_parameters"]).alpha.data}


def linear(case):
    W = case.inputs["W"]
    layer = cl.Linear(*W.shape, bias=case.config["bias"], rng=0)
    layer.W.data[...] = W
    if case.config["bias"]:
        layer.b.data[...] = case.inputs["b"]
    out = layer.forward(case.inputs["x"])
    outputs = {"out": out, "dx": layer.backward(case.inputs["dout"]), "dW": layer.W.grad}
    if case.config["bias"]:
        outputs["db"] = layer.b.grad
    return outputs


def maxout(case):
    W = case.inputs["W"]
    layer = cl.Maxout(W.shape[0], W.shape[1], pieces=case.config["pieces"], rng=0)
    layer.W.data[...] = W
    layer.b.data[...] = case.inputs["b"]
    out = layer.forward(case.inputs["x"])
    return {"out": out, "dx": layer.backward(case.inputs["dout"]), "dW": layer.W.grad,
            "db": layer.b.grad}


def batchnorm(case):
    c, inputs = case.config, case.inputs
    bn = cl.BatchNorm1d(len(inputs["gamma"]), eps=c["eps"], momentum=c["momentum"])
    bn.gamma.data[:], bn.beta.data[:] = inputs["gamma"], inputs["beta"]
    splits = np.cumsum(c["batch_sizes"])[:-1]
    steps = {k: [] for k in ("out", "dx", "dgamma", "dbeta", "running_mean", "running_var",
                             "num_batches_tracked")}
    # gradients accumulate over the training steps on both sides (running sums)
    for x, dout in zip(np.split(inputs["x"], splits), np.split(inputs["dout"], splits)):
        out = bn.forward(x)
        dx = bn.backward(dout)
        for key, value in (("out", out), ("dx", dx), ("dgamma", bn.gamma.grad), ("dbeta", bn.beta.grad),
                           ("running_mean", bn.running_mean), ("running_var", bn.running_var),
                           ("num_batches_tracked", bn.num_batches_tracked)):
            steps[key].append(np.array(value, dtype=np.float64))
    outputs = {k: np.concatenate(v) if k in ("out", "dx") else np.stack(v) for k, v in steps.items()}
    bn.eval()
    bn.zero_grad()
    out = bn.forward(inputs["x_eval"])
    dx = bn.backward(inputs["dout_eval"])
    # eval mode must not touch the running statistics: they are compared after it too
    outputs |= {"eval_out": out, "eval_dx": dx, "eval_dgamma": bn.gamma.grad,
                "eval_dbeta": bn.beta.grad, "eval_running_mean": bn.running_mean,
                "eval_running_var": bn.running_var,
                "eval_num_batches_tracked": bn.num_batches_tracked}
    return outputs


def dropout(case):
    p = case.config["p"]
    x = refs.dropout_input(case.config)
    layer = cl.Dropout(p, rng=0)
    out = layer.forward(x)
    kept = out != 0
    # p is the DROP probability (inverted dropout): the fraction dropped and the mean preserved
    assert abs((~kept).mean() - p) < 0.01, f"{case.name}: course_lib drops {(~kept).mean():.3f}, p={p}"
    assert abs(out.mean() / x.mean() - 1.0) < 0.02, f"{case.name}: course_lib's dropout moves the mean"
    scale = out[kept] / x[kept]
    return {"drop_fraction": (~kept).mean(), "survivor_scale": [scale.min(), scale.max()],
            "eval_max_abs_change": np.abs(layer.eval().forward(x) - x).max()}


def mlp(case):
    inputs = case.inputs
    model = cl.Sequential(cl.Linear(5, 8, rng=0), cl.BatchNorm1d(8), cl.GELU(),
                          cl.Linear(8, 6, rng=0), cl.PReLU(6), cl.Linear(6, 3, rng=0))
    for i in (0, 3, 5):
        model[i].W.data[...] = inputs[f"W{i}"]
        model[i].b.data[...] = inputs[f"b{i}"]
    model[4].alpha.data[...] = inputs["alpha4"]
    loss = cl.SoftmaxCrossEntropy(label_smoothing=case.config["label_smoothing"])
    value = loss.forward(model.forward(inputs["x"]), inputs["y"])
    outputs = {"loss": value, "dx": model.backward(loss.backward())}
    for i in (0, 3, 5):
        outputs[f"dW{i}"], outputs[f"db{i}"] = model[i].W.grad, model[i].b.grad
    outputs |= {"dgamma1": model[1].gamma.grad, "dbeta1": model[1].beta.grad,
                "dalpha4": model[4].alpha.grad}
    return outputs


# ---------------------------------------------------------------------------------------------
# losses
# ---------------------------------------------------------------------------------------------

def _loss(loss, pred, target):
    value = loss.forward(pred, target)
    return {"loss": value, "grad": loss.backward()}


def cross_entropy(case):
    return _loss(cl.SoftmaxCrossEntropy(label_smoothing=case.config["label_smoothing"]),
                 case.inputs["z"], case.inputs["y"])


def mse(case):
    return _loss(cl.MSELoss(), case.inputs["pred"], case.inputs["y"])


def bce_with_logits(case):
    return _loss(cl.BCEWithLogits(), case.inputs["z"], case.inputs["y"])


# ---------------------------------------------------------------------------------------------
# initializers
# ---------------------------------------------------------------------------------------------

# variant name -> course_lib's call with (fan_in, fan_out, rng)
INITS = {
    "normal(std=0.02)": lambda i, o, r: cl.init.normal(i, o, r, std=0.02),
    "uniform(a=0.3)": lambda i, o, r: cl.init.uniform(i, o, r, a=0.3),
    "xavier_normal": lambda i, o, r: cl.init.xavier_normal(i, o, r),
    "xavier_normal(gain=tanh)": lambda i, o, r: cl.init.xavier_normal(i, o, r, gain=cl.init.gain("tanh")),
    "xavier_uniform": lambda i, o, r: cl.init.xavier_uniform(i, o, r),
    "he_normal": lambda i, o, r: cl.init.he_normal(i, o, r),
    "he_normal(mode=fan_out)": lambda i, o, r: cl.init.he_normal(i, o, r, mode="fan_out"),
    "he_uniform": lambda i, o, r: cl.init.he_uniform(i, o, r),
    "he_uniform(gain=leaky_relu 0.2)": lambda i, o, r: cl.init.he_uniform(i, o, r, gain=cl.init.gain("leaky_relu", 0.2)),
    "lecun_normal": lambda i, o, r: cl.init.lecun_normal(i, o, r),
    "Linear default": lambda i, o, r: cl.Linear(i, o, rng=r).W.data,
}


def init(case):
    c = case.config
    w = INITS[case.variant](c["fan_in"], c["fan_out"], np.random.default_rng(c["seed"]))
    assert w.shape == (c["fan_in"], c["fan_out"]) and w.dtype == np.float64, (
        f"{case.name}: course_lib gives {w.shape} {w.dtype}, expected ({c['fan_in']}, {c['fan_out']}) float64")
    # a zero-mean distribution: the sample mean of n draws lies within 6 std / sqrt(n) of 0
    assert abs(w.mean()) < 6 * w.std() / math.sqrt(w.size), f"{case.name}: mean {w.mean():.2e}"
    outputs = {"std": w.std()}
    if "max_abs" in case.outputs:
        outputs["max_abs"] = np.abs(w).max()
    return outputs


def _init_tolerance(case, name):
    if name == "std":
        # the sample std of n draws has relative spread <= 1/sqrt(2n); allow ~6 sigma
        return 6.0 / math.sqrt(case.config["fan_in"] * case.config["fan_out"]), 0.0
    return 1e-3, 0.0               # max_abs: the same support


def gain(case):
    return {"gain": cl.init.gain(case.config["nonlinearity"], case.config["param"])}


# ---------------------------------------------------------------------------------------------
# optimizers, clipping, schedules
# ---------------------------------------------------------------------------------------------

# torch.optim class -> course_lib optimizer (the keyword arguments have the same names)
OPTIMIZERS = {"SGD": cl.SGD, "Adagrad": cl.AdaGrad, "RMSprop": cl.RMSProp, "Adam": cl.Adam,
              "AdamW": cl.AdamW}


def optimizer(case):
    c, inputs = case.config, case.inputs
    params = [cl.Parameter(inputs[f"start{i}"].copy()) for i in range(c["n_params"])]
    kwargs = dict(c["kwargs"])
    if "betas" in kwargs:
        kwargs["betas"] = tuple(kwargs["betas"])
    opt = OPTIMIZERS[c["class"]](params, **kwargs)
    paths = [[] for _ in params]
    for t in range(c["steps"]):
        if t == c["halve_lr_at"]:
            opt.lr *= 0.5        # as a schedule would: momentum must keep lr outside the buffer
        opt.zero_grad()
        for p, g in zip(params, refs.quadratic_gradient(t, [p.data for p in params], inputs)):
            p.grad += g
        opt.step()
        for path, p in zip(paths, params):
            path.append(p.data.copy())
    moved = max(float(np.abs(path[-1] - inputs[f"start{i}"]).max()) for i, path in enumerate(paths))
    assert moved > 1e-3, f"{case.name}: the parameters barely moved, the comparison would be empty"
    return {f"path{i}": np.stack(path) for i, path in enumerate(paths)}


def _params_with_grads(inputs):
    params = []
    for i in range(len(inputs)):
        p = cl.Parameter(np.zeros(inputs[f"grad{i}"].shape))
        p.grad[...] = inputs[f"grad{i}"]
        params.append(p)
    return params


def clip_grad_norm(case):
    max_norm = case.config["max_norm"]
    params = _params_with_grads(case.inputs)
    total = cl.clip_grad_norm(params, max_norm)
    after = math.sqrt(sum(float((p.grad ** 2).sum()) for p in params))
    assert after <= max_norm * (1 + 1e-12) and (total > max_norm) == (after < total), (
        f"{case.name}: norm {total:.4g} before and {after:.4g} after clipping")
    return {"total_norm": total} | {f"grad{i}": p.grad for i, p in enumerate(params)}


def clip_grad_value(case):
    params = _params_with_grads(case.inputs)
    cl.clip_grad_value(params, case.config["clip_value"])
    return {f"grad{i}": p.grad for i, p in enumerate(params)}


def max_norm(case):
    c = case.config["c"]
    W = case.inputs["W"].copy()
    n_over = cl.max_norm(W, c)
    # a Module: each weight matrix projected by column, biases untouched; Maxout per piece
    model = cl.Sequential(cl.Linear(6, 5, rng=0), cl.ReLU(), cl.Maxout(5, 3, pieces=2, rng=1))
    model[0].W.data[...] = case.inputs["linear_W"]
    model[2].W.data[...] = case.inputs["maxout_W"]
    model[0].b.data[:] = 10.0
    cl.max_norm(model, c)
    assert np.all(model[0].b.data == 10.0), f"{case.name}: max_norm changed a bias"
    return {"W": W, "n_over": n_over, "linear_W": model[0].W.data, "maxout_W": model[2].W.data}


# torch scheduler (as the script names it) -> course_lib schedule from torch's keyword arguments
SCHEDULES = {
    "StepLR": lambda opt, kw: cl.StepLR(opt, kw["step_size"], kw.get("gamma", 0.1)),
    "ExponentialLR": lambda opt, kw: cl.ExponentialLR(opt, kw["gamma"]),
    "CosineWarmupLR": lambda opt, kw: cl.CosineWarmupLR(opt, kw["warmup"], kw["total"], kw["min_lr"]),
    "InverseTimeLR": lambda opt, kw: cl.InverseTimeLR(opt, kw["decay"]),
}


def schedule(case):
    c = case.config
    opt = cl.SGD([cl.Parameter(np.zeros(2))], lr=c["base_lr"])
    sched = SCHEDULES[c["class"]](opt, c["kwargs"])
    lrs = [opt.lr]
    for _ in range(c["epochs"]):
        opt.step()
        returned = sched.step()
        assert returned == opt.lr, f"{case.name}: step() returned {returned!r}, lr is {opt.lr!r}"
        lrs.append(opt.lr)
    return {"lr": lrs}


# ---------------------------------------------------------------------------------------------
# weight averaging
# ---------------------------------------------------------------------------------------------

def averaging(case):
    c, inputs = case.config, case.inputs
    middle = [cl.BatchNorm1d(c["h"])] if c["batchnorm"] else []
    model = cl.Sequential(cl.Linear(c["d"], c["h"], rng=0), *middle, cl.ReLU(),
                          cl.Linear(c["h"], c["k"], rng=0))
    first, last = model[0], model[len(model) - 1]
    first.W.data[...], first.b.data[...] = inputs["W_in"], inputs["b_in"]
    last.W.data[...], last.b.data[...] = inputs["W_out"], inputs["b_out"]
    if c["batchnorm"]:
        model[1].gamma.data[...], model[1].beta.data[...] = inputs["gamma"], inputs["beta"]
    averaged = cl.AveragedModel(model, decay=c["decay"], use_buffers=c["use_buffers"],
                                every=c["every"], start=c["start"])
    # fit without shuffling takes the batches in the order torch's loop does
    hist = cl.fit(model, cl.SoftmaxCrossEntropy(),
                  cl.SGD(model.parameters(), lr=c["lr"], momentum=c["momentum"]),
                  inputs["x"], inputs["y"], epochs=c["epochs"], batch_size=c["batch_size"],
                  shuffle=False, callbacks=[averaged], progress=False)
    assert hist.status == "completed", f"{case.name}: the run stopped: {hist.message}"
    a_first, a_last = averaged.module[0], averaged.module[len(model) - 1]
    outputs = {"avg_W_in": a_first.W.data, "avg_b_in": a_first.b.data,
               "avg_W_out": a_last.W.data, "avg_b_out": a_last.b.data,
               "n_averaged": averaged.n_averaged, "W_in": first.W.data, "W_out": last.W.data}
    if c["batchnorm"]:
        a_bn = averaged.module[1]
        outputs |= {"avg_gamma": a_bn.gamma.data, "avg_beta": a_bn.beta.data,
                    "avg_running_mean": a_bn.running_mean.copy(),
                    "avg_running_var": a_bn.running_var.copy(),
                    "avg_num_batches_tracked": a_bn.num_batches_tracked}
        cl.update_bn(inputs["x"], averaged, batch_size=c["batch_size"])
        outputs |= {"bn_running_mean": a_bn.running_mean, "bn_running_var": a_bn.running_var,
                    "bn_num_batches_tracked": a_bn.num_batches_tracked}
    return outputs


# ---------------------------------------------------------------------------------------------
# LayerNorm, and nn.Linear's default initialization (cl.Linear(init="torch_default"))
# ---------------------------------------------------------------------------------------------

def layernorm(case):
    c, inputs = case.config, case.inputs
    ln = cl.LayerNorm(inputs["x"].shape[1], eps=c["eps"], elementwise_affine=c["elementwise_affine"])
    if c["elementwise_affine"]:
        ln.gamma.data[:], ln.beta.data[:] = inputs["gamma"], inputs["beta"]
    out = ln.forward(inputs["x"])
    outputs = {"out": out, "dx": ln.backward(inputs["dout"])}
    if c["elementwise_affine"]:
        outputs |= {"dgamma": ln.gamma.grad, "dbeta": ln.beta.grad}
    return outputs


def linear_default(case):
    c = case.config
    layer = cl.Linear(c["fan_in"], c["fan_out"], init="torch_default", rng=c["seed"])
    outputs = {}
    for name, v in (("W", layer.W.data.ravel()), ("b", layer.b.data)):
        outputs |= {f"{name}_mean": v.mean(), f"{name}_std": v.std(), f"{name}_max_abs": np.abs(v).max(),
                    f"{name}_deciles": np.quantile(v * math.sqrt(c["fan_in"]), refs.DECILES)}
    return outputs


def _linear_default_tolerance(case, name):
    """Two independent samples of n uniforms on [-a, a], a = 1/sqrt(fan_in); ~6 sigma of the
    difference between their statistics (the draws are seeded, so this never flakes)."""
    fan_in, fan_out = case.config["fan_in"], case.config["fan_out"]
    n = fan_in * fan_out if name.startswith("W") else fan_out
    a = 1.0 / math.sqrt(fan_in)
    if name.endswith("_mean"):
        return 0.0, 6 * math.sqrt(2 / n) * a / math.sqrt(3)
    if name.endswith("_std"):
        return 6 * math.sqrt(2 / n) * math.sqrt(0.2), 0.0      # sd(sample std)/std = sqrt(0.2/n)
    if name.endswith("_max_abs"):
        return 12.0 / n, 0.0      # the gap to the bound of the largest of n is ~ a * Exp(n / 2)
    return 0.0, 6 * math.sqrt(2 / n)                          # deciles of U(-1, 1): se <= 1/sqrt(n)


# ---------------------------------------------------------------------------------------------
# the registry: family name (as in the script's FAMILIES) -> course_lib counterpart
# ---------------------------------------------------------------------------------------------

COUNTERPARTS = {
    "activation": Counterpart(activation),
    "prelu": Counterpart(prelu),
    "prelu_default": Counterpart(prelu_default),
    "linear": Counterpart(linear),
    "maxout": Counterpart(maxout),
    "batchnorm": Counterpart(batchnorm, {"dx": (1e-10, 1e-11), "num_batches_tracked": EXACT,
                                         "eval_num_batches_tracked": EXACT}),
    "dropout": Counterpart(dropout, {"drop_fraction": (0.0, 0.015), "survivor_scale": (1e-12, 0.0),
                                     "eval_max_abs_change": EXACT}),
    "mlp": Counterpart(mlp, {"loss": DEFAULT, "*": (1e-10, 1e-11)}),
    "cross_entropy": Counterpart(cross_entropy),
    "mse": Counterpart(mse),
    "bce_with_logits": Counterpart(bce_with_logits),
    "init": Counterpart(init, _init_tolerance),
    "gain": Counterpart(gain, {"*": (1e-15, 0.0)}),
    "optimizer": Counterpart(optimizer, {"*": (0.0, 1e-10)}),
    "clip_grad_norm": Counterpart(clip_grad_norm),
    "clip_grad_value": Counterpart(clip_grad_value, {"*": EXACT}),
    "max_norm": Counterpart(max_norm, {"n_over": EXACT}),
    "schedule": Counterpart(schedule, {"*": (1e-12, 0.0)}),
    "averaging": Counterpart(averaging, {"n_averaged": EXACT, "avg_num_batches_tracked": EXACT,
                                         "bn_num_batches_tracked": EXACT}),
    "layernorm": Counterpart(layernorm, {"dx": (1e-10, 1e-12)}),
    "linear_default": Counterpart(linear_default, _linear_default_tolerance),
}


def run(case):
    """course_lib's outputs for a case, found by the case's family."""
    if case.family not in COUNTERPARTS:
        raise KeyError(f"no course_lib counterpart for the family {case.family!r} of {case.name!r}: "
                       f"add one to COUNTERPARTS in tests/_torch_counterparts.py")
    return COUNTERPARTS[case.family].run(case)
