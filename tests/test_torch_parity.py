"""course_lib against live PyTorch on random shapes and hyperparameters (needs torch).

The fixed cases live in tests/references/torch_<X.Y>.npz and are checked everywhere by
tests/test_torch_references.py. Here hypothesis draws other shapes, scales, batch sizes and
hyperparameters, torch computes with the reference script's code
(scripts/make_torch_references.py) and course_lib with its counterpart
(tests/_torch_counterparts.py), at the same tolerances. Every test here is marked ``torch``:
on a machine without torch they are deselected (tests/conftest.py says so in one line).
"""
import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import _torch_counterparts as tc

refs = tc.refs
pytestmark = pytest.mark.torch

seeds = st.integers(0, 2 ** 32 - 1)
sizes = st.integers(1, 24)


def check_live(torch, family, variant, config, inputs):
    """Run one case through torch (the script's code) and course_lib, and compare."""
    case = refs.Case(f"{family}/{variant}", json.loads(json.dumps(config)),
                     {k: refs.as_numpy(v) for k, v in inputs.items()})
    refs.run_torch(torch, refs.FAMILY[family], case)
    tc.compare(case, tc.run(case), f"torch {torch.__version__} (live)")


def draw(seed, shape, scale=1.0, zeros=False):
    x = scale * np.random.default_rng(seed).standard_normal(shape)
    if zeros and x.size > 2:
        x.flat[::5] = 0.0
    return x


# ---------------------------------------------------------------------------------------------
# layers
# ---------------------------------------------------------------------------------------------

@given(variant=st.sampled_from(list(refs.ACTIVATIONS)), n=sizes, d=sizes,
       scale=st.floats(0.1, 10.0), seed=seeds)
def test_activation(torch, variant, n, d, scale, seed):
    cls, kwargs = refs.ACTIVATIONS[variant]
    check_live(torch, "activation", f"{variant} {n}x{d}", {"class": cls, "kwargs": kwargs},
               {"x": draw(seed, (n, d), scale, zeros=True), "dout": draw(seed + 1, (n, d))})


@given(negative_slope=st.floats(0.0, 0.99), alpha=st.floats(0.05, 3.0), n=sizes, d=sizes, seed=seeds)
def test_leaky_relu_and_elu_any_slope(torch, negative_slope, alpha, n, d, seed):
    x, dout = draw(seed, (n, d), 3.0, zeros=True), draw(seed + 1, (n, d))
    check_live(torch, "activation", "LeakyReLU", {"class": "LeakyReLU",
               "kwargs": {"negative_slope": negative_slope}}, {"x": x, "dout": dout})
    check_live(torch, "activation", "ELU", {"class": "ELU", "kwargs": {"alpha": alpha}},
               {"x": x, "dout": dout})


@given(n=sizes, d=sizes, per_feature=st.booleans(), seed=seeds)
def test_prelu(torch, n, d, per_feature, seed):
    n_alpha = d if per_feature else 1
    alpha = np.random.default_rng(seed).uniform(-0.5, 1.0, n_alpha)
    check_live(torch, "prelu", f"{n}x{d}", {"num_parameters": n_alpha},
               {"x": draw(seed, (n, d), 2.0, zeros=True), "dout": draw(seed + 1, (n, d)), "alpha": alpha})


@given(n=st.integers(1, 40), d_in=st.integers(1, 30), d_out=st.integers(1, 15), bias=st.booleans(), seed=seeds)
def test_linear(torch, n, d_in, d_out, bias, seed):
    inputs = {"x": draw(seed, (n, d_in)), "dout": draw(seed + 1, (n, d_out)),
              "W": draw(seed + 2, (d_in, d_out), np.sqrt(2.0 / d_in))}
    if bias:
        inputs["b"] = draw(seed + 3, d_out)
    check_live(torch, "linear", f"{n}x{d_in}->{d_out}", {"bias": bias}, inputs)


@given(n=sizes, d_in=sizes, d_out=st.integers(1, 8), pieces=st.integers(1, 4), seed=seeds)
def test_maxout(torch, n, d_in, d_out, pieces, seed):
    check_live(torch, "maxout", f"{n}x{d_in}->{d_out} pieces={pieces}", {"pieces": pieces},
               {"x": draw(seed, (n, d_in)), "dout": draw(seed + 1, (n, d_out)),
                "W": draw(seed + 2, (d_in, d_out, pieces)), "b": draw(seed + 3, (d_out, pieces))})


@given(d=st.integers(1, 8), batch_sizes=st.lists(st.integers(2, 20), min_size=1, max_size=5),
       n_eval=st.integers(1, 10), momentum=st.sampled_from([0.0, 0.1, 0.5, 1.0, None]),
       eps=st.sampled_from([1e-5, 1e-3]), seed=seeds)
def test_batchnorm_steps(torch, d, batch_sizes, n_eval, momentum, eps, seed):
    r = np.random.default_rng(seed)
    total = sum(batch_sizes)
    inputs = {"gamma": r.uniform(0.5, 2.0, d), "beta": r.standard_normal(d),
              "x": r.uniform(-5, 5, d) + r.uniform(0.2, 4.0, d) * r.standard_normal((total, d)),
              "dout": r.standard_normal((total, d)),
              "x_eval": r.standard_normal((n_eval, d)), "dout_eval": r.standard_normal((n_eval, d))}
    check_live(torch, "batchnorm", f"d={d} batches={batch_sizes}",
               {"eps": eps, "momentum": momentum, "batch_sizes": batch_sizes}, inputs)


# ---------------------------------------------------------------------------------------------
# losses
# ---------------------------------------------------------------------------------------------

@given(n=st.integers(1, 40), k=st.integers(2, 15), smoothing=st.floats(0.0, 1.0),
       probabilities=st.booleans(), scale=st.floats(0.1, 30.0), seed=seeds)
def test_cross_entropy(torch, n, k, smoothing, probabilities, scale, seed):
    r = np.random.default_rng(seed)
    y = r.dirichlet(np.ones(k), size=n) if probabilities else r.integers(0, k, n)
    check_live(torch, "cross_entropy", f"{n}x{k}", {"label_smoothing": smoothing},
               {"z": scale * r.standard_normal((n, k)), "y": y})


@given(n=st.integers(1, 40), d=st.integers(1, 6), seed=seeds)
def test_mse(torch, n, d, seed):
    check_live(torch, "mse", f"{n}x{d}", {}, {"pred": draw(seed, (n, d), 3.0), "y": draw(seed + 1, (n, d))})


@given(n=st.integers(1, 40), d=st.integers(1, 6), soft=st.booleans(), scale=st.floats(0.1, 50.0), seed=seeds)
def test_bce_with_logits(torch, n, d, soft, scale, seed):
    r = np.random.default_rng(seed)
    y = r.uniform(0, 1, (n, d)) if soft else r.integers(0, 2, (n, d)).astype(np.float64)
    check_live(torch, "bce_with_logits", f"{n}x{d}", {}, {"z": scale * r.standard_normal((n, d)), "y": y})


# ---------------------------------------------------------------------------------------------
# optimizers, clipping, schedules
# ---------------------------------------------------------------------------------------------

@st.composite
def optimizer_configs(draw_):
    cls = draw_(st.sampled_from(list(tc.OPTIMIZERS)))
    kwargs = {"lr": draw_(st.floats(5e-3, 0.1)), "weight_decay": draw_(st.sampled_from([0.0, 0.01, 0.1]))}
    if cls == "SGD":
        kwargs["momentum"] = draw_(st.sampled_from([0.0, 0.5, 0.9]))
        kwargs["nesterov"] = kwargs["momentum"] > 0 and draw_(st.booleans())
    elif cls == "RMSprop":
        kwargs |= {"alpha": draw_(st.floats(0.5, 0.999)), "momentum": draw_(st.sampled_from([0.0, 0.9])),
                   "eps": draw_(st.sampled_from([1e-8, 1e-6]))}
    elif cls in ("Adam", "AdamW"):
        kwargs |= {"betas": [draw_(st.floats(0.5, 0.95)), draw_(st.floats(0.9, 0.9999))],
                   "eps": draw_(st.sampled_from([1e-8, 1e-6]))}
    else:
        kwargs["eps"] = draw_(st.sampled_from([1e-10, 1e-6]))
    return cls, kwargs


@given(spec=optimizer_configs(), steps=st.integers(10, 30),
       shapes=st.lists(st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple), min_size=1, max_size=3),
       seed=seeds)
def test_optimizer_trajectory(torch, spec, steps, shapes, seed):
    cls, kwargs = spec
    config = {"class": cls, "kwargs": kwargs, "steps": steps, "halve_lr_at": steps // 2,
              "n_params": len(shapes)}
    check_live(torch, "optimizer", cls, config, refs.quadratic_problem(seed, shapes, steps))


@given(max_norm=st.floats(1e-2, 1e2), scale=st.floats(0.01, 100.0), seed=seeds)
def test_clip_grad_norm(torch, max_norm, scale, seed):
    grads = {k: scale * v for k, v in refs.grads_for(seed).items()}
    check_live(torch, "clip_grad_norm", f"max_norm={max_norm:g}", {"max_norm": max_norm}, grads)


@given(clip_value=st.floats(1e-3, 10.0), seed=seeds)
def test_clip_grad_value(torch, clip_value, seed):
    check_live(torch, "clip_grad_value", f"clip_value={clip_value:g}", {"clip_value": clip_value},
               refs.grads_for(seed))


@given(c=st.floats(0.05, 20.0), seed=seeds)
def test_max_norm(torch, c, seed):
    r = np.random.default_rng(seed)
    inputs = {"W": r.uniform(0.1, 3.0) * r.standard_normal((6, 9)),
              "linear_W": r.uniform(0.1, 5.0) * r.standard_normal((6, 5)),
              "maxout_W": r.uniform(0.1, 5.0) * r.standard_normal((5, 3, 2))}
    check_live(torch, "max_norm", f"c={c:g}", {"c": c}, inputs)


@st.composite
def schedule_configs(draw_):
    cls = draw_(st.sampled_from(list(tc.SCHEDULES)))
    if cls == "StepLR":
        kwargs = {"step_size": draw_(st.integers(1, 6)), "gamma": draw_(st.floats(0.05, 1.0))}
    elif cls == "ExponentialLR":
        kwargs = {"gamma": draw_(st.floats(0.5, 1.0))}
    elif cls == "CosineWarmupLR":
        warmup = draw_(st.integers(2, 6))
        kwargs = {"warmup": warmup, "total": warmup + draw_(st.integers(1, 20)),
                  "min_lr": draw_(st.sampled_from([0.0, 1e-3, 0.05]))}
    else:
        kwargs = {"decay": draw_(st.floats(0.0, 3.0))}
    epochs = kwargs["total"] if cls == "CosineWarmupLR" else 25
    return {"class": cls, "kwargs": kwargs, "base_lr": draw_(st.floats(0.1, 1.0)), "epochs": epochs}


@given(config=schedule_configs())
def test_schedule(torch, config):
    check_live(torch, "schedule", config["class"], config, {})
