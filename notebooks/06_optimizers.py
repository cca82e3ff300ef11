# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,nbgrader,-all
#     formats: ipynb,py:percent
#     notebook_metadata_filter: kernelspec,jupytext,-jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 06 · Optimizers: from gradient descent to Adam
#
# Backpropagation (notebook 03) gives us the gradient. This notebook is about what to *do*
# with it: how big a step to take, in which direction, and how that choice should change
# from parameter to parameter and from step to step. Every optimizer below is a few lines in
# `course_lib/optim.py`, which follows `torch.optim` update for update, so what you learn
# here is how PyTorch actually behaves.
#
# **Learning objectives.** After this notebook you can
#
# 1. explain the trade-off between full-batch gradient descent, mini-batch SGD and
#    single-example SGD (noise of the gradient versus cost of a step), with measurements;
# 2. write momentum in both notations found in the literature, and say when they differ;
# 3. explain why momentum damps oscillation across a ravine and speeds up travel along it,
#    and what Nesterov's look-ahead changes;
# 4. derive the per-parameter step sizes of AdaGrad, RMSProp and Adam, including Adam's bias
#    correction, and spot the two classic mistakes in copied Adam code;
# 5. tell L2 regularization from decoupled weight decay (AdamW);
# 6. use learning-rate schedules and gradient clipping, and rescue an exploding run;
# 7. compare optimizers fairly on real data (each at its own good learning rate).
#
# **Prerequisites.** [00 Foundations](00_foundations.ipynb) (losses, mini-batches, the digits
# data), [03 Backpropagation](03_backpropagation.ipynb) (the gradient-descent update
# $\theta \leftarrow \theta - \eta\,\nabla L$). Notebook 02 (initialization) helps for the
# clipping section.
#
# **Estimated time.** 75–90 minutes.

# %%
import time

import numpy as np
import matplotlib.pyplot as plt
from threadpoolctl import threadpool_limits
import course_lib as cl
from course_lib.widgets import optimizers as race

cl.set_seed(0)
threadpool_limits(1)   # our matrices are small: one BLAS thread is fastest, extra ones only compete

Xtr, ytr, Xval, yval, Xte, yte = cl.data.load_digits()
N = len(Xtr)
loss_fn = cl.SoftmaxCrossEntropy()


def mlp(seed=0):
    """The small digits MLP of this notebook: 64 → 64 (ReLU) → 10, He init, seeded."""
    rng = np.random.default_rng(seed)
    return cl.Sequential(cl.Linear(64, 64, rng=rng), cl.ReLU(), cl.Linear(64, 10, rng=rng))


def full_loss(model):
    """Mean cross-entropy over the whole training set."""
    return loss_fn.forward(model.forward(Xtr), ytr)


print(f"training set: {Xtr.shape}, validation: {Xval.shape}; model: {mlp().num_parameters():,} parameters")

# %% [markdown]
# ## 1. Batch, mini-batch and single-example gradient descent
#
# The training loss is a mean over the $N$ training examples,
# $L(\theta) = \frac1N\sum_i \ell_i(\theta)$, so its gradient is the mean of the $N$
# per-example gradients $g_i$. We have three ways to use it:
#
# * **batch gradient descent** computes the exact mean over all $N$ examples for every step;
# * **mini-batch SGD** estimates it from a random batch of $B$ examples
#   (typically 32–256);
# * **single-example SGD** uses $B = 1$.
#
# All three then apply the same update, $\theta \leftarrow \theta - \eta\, g_B$ (that is
# `cl.SGD(params, lr)`). The batch mean $g_B$ is an *unbiased* estimate of the full gradient
# $g$: on average it points the right way. Its error shrinks with $B$: for a batch drawn
# without replacement,
#
# $$\mathbb E\,\|g_B - g\|^2 = \frac{\sigma^2}{B}\cdot\frac{N-B}{N-1},
# \qquad \sigma^2 = \frac1N \sum_i \|g_i - g\|^2 .$$
#
# So the *noise* falls like $1/B$ (its standard deviation like $1/\sqrt B$), while the
# *arithmetic* per step grows like $B$. Quadrupling the batch buys only half the standard
# error. Let us measure both on the digits MLP at initialization.

# %%
model = mlp()
params = model.parameters()


def batch_grad(idx):
    """The gradient of the mean loss over the examples idx, flattened into one vector."""
    model.zero_grad()
    loss_fn.forward(model.forward(Xtr[idx]), ytr[idx])
    model.backward_params(loss_fn.backward())
    return np.concatenate([p.grad.ravel() for p in params])


g_full = batch_grad(np.arange(N))
sigma2 = np.mean([np.sum((batch_grad([i]) - g_full) ** 2) for i in range(N)])  # exact, over all N

rng = np.random.default_rng(1)
sizes = [1, 4, 16, 64]
noise = {}
for B in sizes:
    draws = [batch_grad(rng.choice(N, size=B, replace=False)) for _ in range(200)]
    noise[B] = np.mean([np.sum((g - g_full) ** 2) for g in draws])
theory = {B: sigma2 / B * (N - B) / (N - 1) for B in sizes}
print(f"‖g‖² = {g_full @ g_full:.4f}, σ² = {sigma2:.4f}")
for B in sizes:
    print(f"B = {B:4d}: measured E‖g_B − g‖² = {noise[B]:.4f}, theory {theory[B]:.4f}, "
          f"ratio {noise[B] / theory[B]:.2f}")
    assert 0.75 < noise[B] / theory[B] < 1.33      # 200 draws: the formula holds within sampling error
assert noise[1] / noise[64] > 40                   # 64× the batch: ~64× less gradient variance

# %% [markdown]
# The cost side: a step's arithmetic grows like $B$, but time per step does not, because
# NumPy (like a GPU) processes a whole batch with one matrix product. Below, the time of one
# training step for three batch sizes (timings vary from machine to machine, so this cell's
# output is not compared when the notebook is tested).

# %% tags=["nbval-ignore-output"]
def step_time(B, repeats=30):
    """Best-of-3 mean wall time of one SGD step with batch size B."""
    opt = cl.SGD(params, lr=0.0)          # lr 0: we time the work, the model does not change
    idx = np.arange(B)
    best = np.inf
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(repeats):
            opt.zero_grad()
            loss_fn.forward(model.forward(Xtr[idx]), ytr[idx])
            model.backward_params(loss_fn.backward())
            opt.step()
        best = min(best, (time.perf_counter() - start) / repeats)
    return best


times = {B: step_time(B) for B in (1, 32, N)}
for B, t in times.items():
    print(f"B = {B:4d}: {1e3 * t:6.3f} ms per step, {1e6 * t / B:8.2f} µs per example")
assert times[1] / 1 > 4 * times[32] / 32   # per example, single-example steps cost several times more

# %% [markdown]
# Now train the same network with plain SGD ($\eta = 0.1$) and three batch sizes, and record
# the loss on the whole training set. Two ways to count progress matter:
#
# * **per example seen** (the real cost when the machine is busy anyway), and
# * **per step** (the cost when a step is cheap, e.g. a GPU that handles a whole batch as
#   fast as one example).

# %%
def run_sgd(batch_size, steps, lr=0.1, seed=0, extra=()):
    """Plain mini-batch SGD on the digits MLP; returns rows (step, full training loss)."""
    model, rng = mlp(), np.random.default_rng(seed)
    opt = cl.SGD(model.parameters(), lr=lr)
    record = set(np.geomspace(1, steps, 30).astype(int)) | set(extra)
    order, pos, curve = rng.permutation(N), 0, [(0, full_loss(model))]
    for step in range(1, steps + 1):
        if pos + batch_size > N:              # a new epoch (the last partial batch is dropped)
            order, pos = rng.permutation(N), 0
        idx = order[pos:pos + batch_size]
        pos += batch_size
        opt.zero_grad()
        loss_fn.forward(model.forward(Xtr[idx]), ytr[idx])
        model.backward_params(loss_fn.backward())
        opt.step()
        if step in record:
            curve.append((step, full_loss(model)))
    return np.array(curve)


def loss_at(curve, step):
    return curve[curve[:, 0] == step, 1][0]


runs = {1: run_sgd(1, 2 * N, extra=[N, 300]),
        32: run_sgd(32, 300, extra=[N // 32]),
        N: run_sgd(N, 300, extra=[1])}

fig, axes = plt.subplots(1, 3, figsize=(15, 3.9))
ax = axes[0]
ax.loglog(sizes, [noise[B] for B in sizes], "o", label="measured (200 batches)")
bs = np.arange(1, 129)
ax.loglog(bs, sigma2 / bs * (N - bs) / (N - 1), "k--", lw=1, label="σ²/B · (N−B)/(N−1)")
ax.set(xlabel="batch size B", ylabel="E‖g_B − g‖²", title="gradient noise falls like 1/B")
ax.legend(fontsize=8)
labels = {1: "B = 1 (single example)", 32: "B = 32 (mini-batch)", N: f"B = {N} (full batch)"}
for B, curve in runs.items():
    steps_, losses = curve[1:, 0], curve[1:, 1]          # from step 1 (log axes)
    axes[1].plot(steps_ * B, losses, "-", label=labels[B])
    axes[2].plot(steps_, losses, "-", label=labels[B])
axes[1].set(xscale="log", xlabel="examples seen (log)", ylabel="training loss (full set)",
            title="per example seen, small batches win")
axes[2].set(xscale="log", xlabel="steps (log)", ylabel="training loss (full set)",
            title="per step, big batches win")
for ax in axes[1:]:
    ax.axhline(np.log(10), color="grey", lw=0.6, ls=":", label="ln 10 (chance level)")
    ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

one_epoch = {1: loss_at(runs[1], N), 32: loss_at(runs[32], N // 32), N: loss_at(runs[N], 1)}
at_300 = {B: loss_at(runs[B], 300) for B in runs}
print("after ~1 epoch of examples:", {B: round(float(v), 3) for B, v in one_epoch.items()})
print("after 300 steps:           ", {B: round(float(v), 3) for B, v in at_300.items()})
assert one_epoch[1] < one_epoch[32] < one_epoch[N]   # same examples: more, noisier steps win
assert max(at_300[N], at_300[32]) < 0.5 * at_300[1]   # same steps: (nearly) exact gradients win
assert abs(at_300[32] / at_300[N] - 1) < 0.25        # ... and B = 32 is already almost exact

# %% [markdown]
# Read the two right panels together. After one pass over the data, single-example SGD has
# taken 1,079 small, noisy steps and is far ahead; full-batch GD has taken **one** step.
# Counted per step, the order flips: exact gradients make the best use of each step, and the
# $B = 1$ curve wanders because each step follows one example's opinion. A batch of 32 is
# already within a few percent of the full batch per step, at 3% of its arithmetic.
#
# Mini-batches are the compromise everyone uses: the noise is already small at $B = 32$, the
# hardware processes the batch almost as fast as one example, and the remaining noise is not
# all bad (it is widely thought to help the iterate leave sharp, narrow minima). The price of
# noise is that SGD with a constant learning rate never settles exactly; it hovers in a
# "noise ball" whose size grows with $\eta$ (section 7 shrinks it with a schedule).
#
# ## 2. Momentum
#
# Plain SGD forgets the past: every step uses only the current gradient. **Momentum** keeps
# a running *velocity* and steps along it. In PyTorch's form (and `cl.SGD(momentum=β)`):
#
# $$v \leftarrow \beta\, v + \nabla L(\theta), \qquad \theta \leftarrow \theta - \eta\, v .$$
#
# Unrolled, $v_t = g_t + \beta g_{t-1} + \beta^2 g_{t-2} + \dots$: a decaying *sum* of past
# gradients. Two cases explain what it does:
#
# * a gradient that keeps the **same sign** (the gentle slope *along* a ravine) adds up to
#   $g/(1-\beta)$: with $\beta = 0.9$ the step becomes 10× longer;
# * a gradient that **flips sign** every step (bouncing *across* a ravine) nearly cancels:
#   $g\,(1 - \beta + \beta^2 - \dots) = g/(1+\beta) \approx 0.53\,g$.
#
# Let us check both numbers on `cl.SGD` itself.

# %%
def last_step(grads, beta=0.9, lr=1.0):
    """Feed a fixed gradient sequence to cl.SGD(momentum=beta); return the last step's length."""
    p = cl.Parameter(np.zeros(1))
    opt = cl.SGD([p], lr=lr, momentum=beta)
    for g in grads:
        before = p.data.copy()
        p.grad[...] = g
        opt.step()
    return float(np.abs(p.data - before)[0])


along = last_step(np.ones(300))                    # constant gradient 1
across = last_step((-1.0) ** np.arange(300))       # gradient +1, -1, +1, ...
print(f"constant gradient:    step = {along:.4f} × lr   (1/(1-β) = {1 / (1 - 0.9):.4f})")
print(f"alternating gradient: step = {across:.4f} × lr   (1/(1+β) = {1 / (1 + 0.9):.4f})")
assert abs(along - 1 / (1 - 0.9)) < 1e-9
assert abs(across - 1 / (1 + 0.9)) < 1e-9

# %% [markdown]
# ### Damping across a ravine, acceleration along it
#
# The 2-D surface $f(w) = 0.1\,w_1^2 + 10\,w_2^2$ is a ravine: its curvature is 0.2 along
# $w_1$ and 20 across ($w_2$), a condition number of 100. Gradient descent is stable only
# for $\eta\lambda < 2$ in every direction, so the steep direction caps the rate at
# $\eta < 0.1$, and at such a rate the shallow direction shrinks by only
# $1 - 0.2\,\eta \approx 0.98$ per step. Momentum is stable up to $\eta\lambda < 2(1+\beta)$,
# so the same rate is safe, and along the ravine its steps grow up to $1/(1-\beta)$ times
# longer.
#
# The runs below use `course_lib` optimizers on a `Parameter` of shape (2,), writing the
# analytic gradient into `.grad` before each `step()`; `race.optimizer_path` is that loop.
# All three use $\eta = 0.09$, close to SGD's limit.

# %%
ravine = race.SURFACES["ravine"]


def path_of(name, lr, surface=ravine, steps=150, beta=0.9):
    return race.optimizer_path(surface.grad, surface.start,
                               lambda ps: race.make_optimizer(name, ps, lr, beta), steps)


def f_along(path, surface=ravine):
    return surface.f(path[:, 0], path[:, 1])


paths_ravine = {"SGD": path_of("SGD", 0.09),
                "momentum β = 0.5": path_of("momentum", 0.09, beta=0.5),
                "momentum β = 0.9": path_of("momentum", 0.09, beta=0.9)}
sgd_hot, momentum_hot = path_of("SGD", 0.11), path_of("momentum", 0.11)

fig, axes = plt.subplots(1, 2, figsize=(13, 4.2))
race.draw_paths("ravine", paths_ravine, ax=axes[0], steps=150, title="ravine, lr = 0.09, 150 steps")
colors = {"SGD": "tab:blue", "momentum β = 0.5": "tab:orange", "momentum β = 0.9": "tab:green"}
for name, path in paths_ravine.items():
    axes[1].semilogy(f_along(path), color=colors[name], label=f"{name}, lr = 0.09")
axes[1].semilogy(f_along(sgd_hot), ":", color="tab:blue", label="SGD, lr = 0.11 (diverges)")
axes[1].semilogy(f_along(momentum_hot), ":", color="tab:green", label="momentum β = 0.9, lr = 0.11")
axes[1].set(xlabel="step", ylabel="f(w) (log)", ylim=(1e-10, 1e4), title="loss along the path")
axes[1].legend(fontsize=8)
fig.tight_layout()
plt.show()

f150 = {name: f_along(path)[-1] for name, path in paths_ravine.items()}
across = {name: np.abs(path[10:20, 1]).max() for name, path in paths_ravine.items()}
print("f after 150 steps:       ", {k: f"{v:.1e}" for k, v in f150.items()})
print("max |w2| in steps 10-20: ", {k: f"{v:.3f}" for k, v in across.items()})
print(f"lr 0.11: SGD stopped after {len(sgd_hot)} points (diverged); "
      f"momentum β = 0.9 reached f = {f_along(momentum_hot)[-1]:.1e}")
assert across["momentum β = 0.5"] < 0.5 * across["SGD"]        # the zig-zag across dies out faster
assert f150["momentum β = 0.5"] < 1e-2 * f150["SGD"]           # and the travel along is much faster
assert f150["momentum β = 0.9"] < 1e-3 * f150["SGD"]
assert race.diverged(sgd_hot, 150)                             # 0.11 × 20 = 2.2 > 2: SGD blows up
assert f_along(momentum_hot)[-1] < 1e-4                        # 2.2 < 2(1 + 0.9): momentum is fine

# %% [markdown]
# SGD (blue) zig-zags across the ravine and then crawls along it. Momentum with $\beta = 0.5$
# (orange) is the textbook picture: the across-ravine zig-zag dies out faster, because
# successive gradients there have opposite signs and cancel in the velocity, while the
# along-ravine steps add up. With $\beta = 0.9$ (green) the acceleration along the ravine is
# larger still, but so is the memory: the velocity also keeps the across-ravine motion for
# longer, and the path overshoots in wide swings before it settles. Both end more than 100×
# lower than SGD. Too much momentum overshoots, too little does not accelerate: $\beta$ is a
# hyperparameter (0.9 is the usual default because on real, noisy problems the averaging
# helps too).
#
# ### Two notations for momentum (and when they are not the same)
#
# Many papers and lecture notes (e.g. Sutskever et al., 2013) put the learning rate *inside*
# the velocity:
#
# $$m \leftarrow \beta\, m + \eta\, \nabla L(\theta), \qquad \theta \leftarrow \theta - m .$$
#
# With a constant $\eta$ this is the PyTorch form with $m = \eta v$: identical trajectories.
# But once $\eta$ changes during training (every schedule in section 7 does that), they
# differ. In PyTorch's form the new rate multiplies the *whole* velocity at once, including
# the history accumulated under the old rate; in the other form the old steps stay in $m$
# and fade out over about $1/(1-\beta)$ steps. Sources that call the two forms simply
# "equivalent" leave out this condition.

# %%
def momentum_lr_outside(grad, w0, lrs, beta=0.9):
    """PyTorch's form: v = beta v + g; w -= lr v. One lr per step; returns the path (T, 2)."""
    w, v, path = np.array(w0, dtype=float), np.zeros(2), []
    for lr in lrs:
        v = beta * v + grad(w)
        w = w - lr * v
        path.append(w)
    return np.array(path)


def momentum_lr_inside(grad, w0, lrs, beta=0.9):
    """The other form: m = beta m + lr g; w -= m."""
    w, m, path = np.array(w0, dtype=float), np.zeros(2), []
    for lr in lrs:
        m = beta * m + lr * grad(w)
        w = w - m
        path.append(w)
    return np.array(path)


constant = [0.05] * 80
dropped = [0.05] * 40 + [0.005] * 40                 # a step decay by 10× at step 40
gap_constant = np.abs(momentum_lr_outside(ravine.grad, ravine.start, constant)
                      - momentum_lr_inside(ravine.grad, ravine.start, constant)).max()
out_drop = momentum_lr_outside(ravine.grad, ravine.start, dropped)
in_drop = momentum_lr_inside(ravine.grad, ravine.start, dropped)
gap_dropped = np.abs(out_drop - in_drop).max()

p = cl.Parameter(np.array(ravine.start))             # cl.SGD with its lr changed mid-run
opt = cl.SGD([p], lr=0.05, momentum=0.9)
cl_path = []
for lr in dropped:
    opt.lr = lr
    p.grad[...] = ravine.grad(p.data)
    opt.step()
    cl_path.append(p.data.copy())
gap_cl = np.abs(np.array(cl_path) - out_drop).max()
print(f"constant lr:   max |difference| between the forms = {gap_constant:.1e}")
print(f"lr drop at 40: max |difference| between the forms = {gap_dropped:.3f}")
print(f"cl.SGD vs the lr-outside form, with the drop:    {gap_cl:.1e}")
assert gap_constant < 1e-12          # identical for a constant learning rate
assert gap_dropped > 1e-2            # different as soon as the rate changes
assert gap_cl < 1e-12                # course_lib (like PyTorch) uses the lr-outside form

fig, ax = plt.subplots(figsize=(7, 3.3))
for path, label in ((out_drop, "v ← βv + ∇,  θ ← θ − ηv   (PyTorch, course_lib)"),
                    (in_drop, "m ← βm + η∇,  θ ← θ − m")):
    steps_len = np.linalg.norm(np.diff(np.vstack([ravine.start, path]), axis=0), axis=1)
    ax.semilogy(np.arange(1, len(path) + 1), steps_len, label=label)
ax.axvline(40.5, color="grey", ls=":", lw=1)
ax.text(41.5, 0.3, "η: 0.05 → 0.005", fontsize=8)
ax.set(xlabel="step", ylabel="step length ‖Δθ‖ (log)", title="the same momentum, two notations, one lr drop")
ax.legend(fontsize=8, loc="lower left")
plt.show()

# %% [markdown]
# ## 3. Nesterov momentum
#
# Classical momentum computes the gradient where we *are*, then adds the velocity. Since the
# velocity will carry us forward anyway, Nesterov's idea is to evaluate the gradient where the
# velocity is about to take us, the **look-ahead point** $\theta - \eta\beta v$:
#
# $$v \leftarrow \beta v + \nabla L(\theta - \eta\beta v), \qquad \theta \leftarrow \theta - \eta v .$$
#
# If the look-ahead point is already climbing up the far wall of the ravine, the gradient
# there pushes back *before* we overshoot, which damps the oscillation further.
#
# Frameworks do not want to evaluate the gradient anywhere but at the stored parameters, so
# PyTorch (and `cl.SGD(nesterov=True)`) rewrite it: store the look-ahead point
# $\phi = \theta - \eta\beta v$ itself. Substituting gives
#
# $$v \leftarrow \beta v + \nabla L(\phi), \qquad \phi \leftarrow \phi - \eta\,(\nabla L(\phi) + \beta v).$$
#
# The two are the same algorithm: the parameters course_lib stores are exactly the look-ahead
# points of the textbook form. We check that numerically.

# %%
def nesterov_textbook(grad, w0, lr, beta, steps):
    """Gradient at the look-ahead point; returns the look-ahead points theta - lr beta v."""
    theta, v, lookahead = np.array(w0, dtype=float), np.zeros(2), []
    for _ in range(steps):
        v = beta * v + grad(theta - lr * beta * v)
        theta = theta - lr * v
        lookahead.append(theta - lr * beta * v)
    return np.array(lookahead)


textbook = nesterov_textbook(ravine.grad, ravine.start, lr=0.05, beta=0.9, steps=150)
library = path_of("Nesterov", 0.05)[1:]
gap_nesterov = np.abs(textbook - library).max()
print(f"max |textbook look-ahead point − cl.SGD(nesterov=True) parameter| over 150 steps: {gap_nesterov:.1e}")
assert gap_nesterov < 1e-12

default = race.race_paths("ravine", lr=0.05)
f_end = race.final_losses("ravine", default)
print(f"ravine, lr 0.05, 150 steps: momentum f = {f_end['momentum']:.1e}, Nesterov f = {f_end['Nesterov']:.1e}")
assert f_end["Nesterov"] < f_end["momentum"]
hot = race.race_paths("ravine", lr=0.08)
print(f"ravine, lr 0.08: momentum ran all 150 steps: {not race.diverged(hot['momentum'], 150)}; "
      f"Nesterov diverged at step {len(hot['Nesterov'])}")
assert race.diverged(hot["Nesterov"], 150) and not race.diverged(hot["momentum"], 150)

# %% [markdown]
# Nesterov usually converges a bit faster, but it is not free: on a quadratic it is stable
# only for $\eta\lambda < 2(1+\beta)/(1+2\beta) \approx 1.36$ (at $\beta = 0.9$), against
# $2(1+\beta) = 3.8$ for classical momentum. At $\eta = 0.08$ the steep direction has
# $\eta\lambda = 1.6$: momentum survives, Nesterov does not.
#
# ## 4. Per-parameter learning rates: AdaGrad and RMSProp
#
# One learning rate for all parameters is a poor fit when gradients differ in scale by orders
# of magnitude (the ravine, or rare input features whose weights seldom get a gradient).
# **AdaGrad** (Duchi et al., 2011) divides each parameter's step by the root of the *sum* of
# its squared gradients so far:
#
# $$s \leftarrow s + g^2, \qquad \theta \leftarrow \theta - \frac{\eta}{\sqrt{s} + \epsilon}\, g
# \qquad \text{(element-wise)}.$$
#
# Parameters with large gradients get small steps and vice versa. But $s$ only grows, so the
# *effective rate* $\eta/(\sqrt s + \epsilon)$ decays forever: with gradients of a typical
# size $\sigma$ it behaves like $\eta/(\sigma\sqrt t)$. That suits convex problems, and
# training a net often stalls long before it is done.
#
# **RMSProp** (Hinton's lecture 6e, 2012) replaces the sum by an exponential moving average,
# so the memory is about $1/(1-\rho)$ steps and the effective rate levels off:
#
# $$s \leftarrow \rho\, s + (1-\rho)\, g^2, \qquad
# \theta \leftarrow \theta - \frac{\eta\, g}{\sqrt{s} + \epsilon} .$$
#
# PyTorch (and `cl.RMSProp`) call $\rho$ **`alpha`** (default 0.99). Below, both optimizers
# see the same stream of noisy gradients for a parameter with two coordinates whose gradients
# differ 100× in scale; we plot the effective rate of each coordinate.

# %%
T, lr = 2000, 0.01
noise_stream = np.random.default_rng(2).standard_normal((T, 2)) * np.array([1.0, 0.01])
rates = {}
for name, make in (("AdaGrad", lambda ps: cl.AdaGrad(ps, lr=lr)),
                   ("RMSProp", lambda ps: cl.RMSProp(ps, lr=lr, alpha=0.99))):
    p = cl.Parameter(np.zeros(2))
    opt = make([p])
    state = opt.sum_sq[0] if name == "AdaGrad" else opt.square_avg[0]
    history = []
    for g in noise_stream:
        p.grad[...] = g
        opt.step()
        history.append(lr / (np.sqrt(state) + opt.eps))
    rates[name] = np.array(history)

t = np.arange(1, T + 1)
fig, ax = plt.subplots(figsize=(8, 3.8))
for name, ls in (("AdaGrad", "-"), ("RMSProp", "--")):
    ax.loglog(t, rates[name][:, 0], ls, color="tab:blue", label=f"{name}, gradient scale 1")
    ax.loglog(t, rates[name][:, 1], ls, color="tab:green", label=f"{name}, gradient scale 0.01")
ax.loglog(t, lr / np.sqrt(t), "k:", lw=1, label="η / √t")
ax.set(xlabel="step t", ylabel="effective rate η / (√s + ε)",
       title="AdaGrad's rate decays forever; RMSProp's levels off")
ax.legend(fontsize=8, ncol=2)
plt.show()

ada, rms = rates["AdaGrad"], rates["RMSProp"]
print(f"AdaGrad rate at t = {T}: {ada[-1, 0]:.2e} (η/√t = {lr / np.sqrt(T):.2e})")
print(f"RMSProp rate, mean of the last 500 steps: {rms[-500:, 0].mean():.2e} (η/σ = {lr:.2e})")
print(f"rate of the small-gradient coordinate / the large one (AdaGrad): {ada[-1, 1] / ada[-1, 0]:.0f}")
assert np.all(np.diff(ada, axis=0) <= 0)                      # AdaGrad's rate never goes up
assert abs(ada[-1, 0] / (lr / np.sqrt(T)) - 1) < 0.1          # ≈ η/(σ√t), σ = 1
assert 0.7 < rms[-500:, 0].mean() / lr < 1.5                  # RMSProp's stays near η/σ
assert 70 < ada[-1, 1] / ada[-1, 0] < 140                     # 100× smaller gradients, ~100× larger rate

p = cl.Parameter(np.array([1.0, -2.0]))                       # one RMSProp step by hand
p.grad[...] = [0.5, -3.0]
s = (1 - 0.99) * p.grad ** 2
by_hand = p.data - 0.01 * p.grad / (np.sqrt(s) + 1e-8)
cl.RMSProp([p], lr=0.01, alpha=0.99).step()
assert np.allclose(p.data, by_hand, rtol=0, atol=1e-15)
print("first RMSProp step:", p.data, "— a step of η/√(1−ρ) = 10η per coordinate (s starts at 0)")

# %% [markdown]
# Notice the last line: $s$ starts at 0, so RMSProp's first steps are $1/\sqrt{1-\rho} = 10$
# times larger than $\eta$. Adam fixes exactly this.
#
# ## 5. Adam
#
# Adam (Kingma & Ba, 2015) combines momentum (an average of gradients) with RMSProp (an
# average of squared gradients), both as exponential moving averages, and corrects their
# start-up bias. With $t$ counted from **1 at the first step**:
#
# $$\begin{aligned}
# m &\leftarrow \beta_1 m + (1-\beta_1)\, g, &
# v &\leftarrow \beta_2 v + (1-\beta_2)\, g^2,\\
# \hat m &= m / (1-\beta_1^t), & \hat v &= v / (1-\beta_2^t),\\
# \theta &\leftarrow \theta - \eta\, \hat m / (\sqrt{\hat v} + \epsilon), &&
# \end{aligned}$$
#
# with defaults $\beta_1 = 0.9$, $\beta_2 = 0.999$, $\epsilon = 10^{-8}$ (and a usual
# $\eta = 10^{-3}$). The step is about $\eta$ per coordinate, whatever the gradient's scale:
# Adam's learning rate is a *distance*, SGD's is a distance per unit of gradient.
#
# **Test vectors.** The numbers below are what `torch.optim.Adam(lr=0.1)` produced for three
# fixed gradients (computed once with PyTorch 2, float64, and pasted here so the notebook
# runs without it). `cl.Adam` must reproduce them.

# %%
w0 = np.array([1.0, -2.0, 0.5])
test_grads = [np.array([0.1, -0.3, 2.0]), np.array([-0.2, 0.4, 1.5]), np.array([0.05, 0.1, -1.0])]
torch_adam = np.array([[0.900000009999999, -1.9000000033333333, 0.4000000005],
                       [0.9366103603884888, -1.9193510436996908, 0.30174249291002414],
                       [0.9502794256602131, -1.9465549500117272, 0.25497129732654344]])

p = cl.Parameter(w0)
opt = cl.Adam([p], lr=0.1)
ours = []
for g in test_grads:
    p.grad[...] = g
    opt.step()
    ours.append(p.data.copy())
gap_torch = np.abs(np.array(ours) - torch_adam).max()
print(f"cl.Adam vs torch.optim.Adam over 3 steps: max |difference| = {gap_torch:.1e}")
assert gap_torch < 1e-12

# %% [markdown]
# ### Why the bias correction matters
#
# $m$ and $v$ start at 0, so early on they are pulled towards 0: after one step
# $m = (1-\beta_1) g = 0.1\,g$ and $v = (1-\beta_2) g^2 = 0.001\,g^2$. A common explanation
# says that without correction the first steps would therefore be *tiny*. Compute it: the
# uncorrected first step is
#
# $$\eta\,\frac{(1-\beta_1)\, g}{\sqrt{(1-\beta_2)\, g^2}} = \eta\,\frac{1-\beta_1}{\sqrt{1-\beta_2}}
# = \eta\cdot\frac{0.1}{0.0316} \approx 3.16\,\eta ,$$
#
# more than 3× **too large**, not tiny. The second moment is even more biased than the first
# (it forgets more slowly), and dividing by a too-small $\sqrt v$ wins. The factor keeps
# growing for a while, since $1-\beta_1^t$ recovers much faster than $1-\beta_2^t$, before it
# decays to 1 over a few thousand steps. The correction makes the very first step exactly
# $\eta\,\mathrm{sign}(g)$. Let us measure the ratio with a constant gradient, and then see
# what the oversized early steps do to a real network at a brisk rate ($\eta = 0.03$).

# %%
class AdamNoCorrection(cl.Adam):
    """Adam without bias correction (for this demonstration only)."""

    def _update(self, i, p):
        b1, b2 = self.betas
        self.m[i] *= b1
        self.m[i] += (1 - b1) * p.grad
        self.v[i] *= b2
        self.v[i] += (1 - b2) * p.grad ** 2
        p.data -= self.lr * self.m[i] / (np.sqrt(self.v[i]) + self.eps)


def step_lengths(make, steps=3000, g=0.7):
    p = cl.Parameter(np.zeros(1))
    opt = make([p])
    out = []
    for _ in range(steps):
        before = p.data.copy()
        p.grad[...] = g
        opt.step()
        out.append(abs(p.data - before)[0])
    return np.array(out)


ratio = step_lengths(lambda ps: AdamNoCorrection(ps, lr=1e-3)) / step_lengths(lambda ps: cl.Adam(ps, lr=1e-3))
predicted = (1 - 0.9) / np.sqrt(1 - 0.999)
print(f"first step, uncorrected / corrected = {ratio[0]:.5f}; (1 − β1)/√(1 − β2) = {predicted:.5f}")
print(f"largest ratio {ratio.max():.2f} at step {ratio.argmax() + 1}; at step 3000: {ratio[-1]:.3f}")
assert abs(ratio[0] / predicted - 1) < 1e-5            # 3.162...: too large, not tiny
assert 6.3 < ratio.max() < 6.8 and 5 <= ratio.argmax() + 1 <= 25
assert ratio[-1] < 1.05                                 # the bias is gone after a few thousand steps

hists = {}
for name, cls in (("Adam", cl.Adam), ("Adam without bias correction", AdamNoCorrection)):
    m = mlp()
    hists[name] = cl.fit(m, loss_fn, cls(m.parameters(), lr=0.03), Xtr, ytr, epochs=1,
                         batch_size=64, rng=1, progress=False)

fig, axes = plt.subplots(1, 2, figsize=(12, 3.6))
axes[0].semilogx(np.arange(1, len(ratio) + 1), ratio)
axes[0].axhline(1, color="grey", lw=0.6)
axes[0].set(xlabel="step t (log)", ylabel="uncorrected step / corrected step",
            title="constant gradient, β1 = 0.9, β2 = 0.999")
for name, h in hists.items():
    axes[1].plot(np.arange(1, 11), h.loss[:10], "o-", label=name)
axes[1].set(xlabel="step", ylabel="mini-batch loss", title="digits MLP, lr = 0.03: the first 10 steps")
axes[1].legend(fontsize=8)
fig.tight_layout()
plt.show()

first10 = {k: max(h.loss[:10]) / h.loss[0] for k, h in hists.items()}
print({k: round(v, 2) for k, v in first10.items()}, "(largest loss in the first 10 steps / initial loss)")
assert first10["Adam"] <= 1.0 + 1e-9                     # corrected: never above the start
assert first10["Adam without bias correction"] > 1.5    # uncorrected: a jump in the first steps

# %% [markdown]
# The corrected optimizer starts at exactly the step size you asked for. Without correction
# the effective rate is several times larger during the first hundreds of steps, just when
# the estimates are least reliable, and here the loss jumps to more than twice its starting
# value. RMSProp, which has no bias correction, shows the same effect at its first step
# (section 4); a learning-rate warm-up (section 7) is one way to protect that phase.
#
# ### Two errors in copied Adam code
#
# 1. **$\beta_1$ in the second moment.** A widely copied pseudocode updates
#    $v \leftarrow \beta_1 v + (1-\beta_1) g^2$. That is a typo, not a variant: $v$ must use
#    $\beta_2$, so that the scale estimate averages over ~1000 steps rather than ~10.
# 2. **When to increment $t$.** The test vectors only match if $t$ is incremented *before*
#    the bias correction, so the first step uses $t = 1$. Using $t$ before incrementing
#    (so $t = 0$ at the first step) divides by $1 - \beta^0 = 0$; starting the counter at 1
#    and incrementing first uses $t = 2$, a slightly wrong first step that is easy to miss.
#
# One reference function with two switches shows the damage, on the same test vectors.

# %%
def adam_reference(w0, grads, lr=0.1, b1=0.9, b2=0.999, eps=1e-8, beta_for_v=None, first_t=1):
    """Adam written out; beta_for_v and first_t reproduce the two popular errors."""
    beta_v = b2 if beta_for_v is None else beta_for_v
    w, m, v, out = np.array(w0, dtype=float), 0.0, 0.0, []
    for k, g in enumerate(grads):
        t = first_t + k
        m = b1 * m + (1 - b1) * g
        v = beta_v * v + (1 - beta_v) * g ** 2
        m_hat, v_hat = m / (1 - b1 ** t), v / (1 - beta_v ** t)
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
        out.append(w)
    return np.array(out)


correct = adam_reference(w0, test_grads)
beta1_typo = adam_reference(w0, test_grads, beta_for_v=0.9)
t_late = adam_reference(w0, test_grads, first_t=2)
with np.errstate(divide="ignore", invalid="ignore"):
    t_zero = adam_reference(w0, test_grads, first_t=0)
for name, result in (("correct (t = 1 at the first step)", correct), ("v updated with β1", beta1_typo),
                     ("t = 2 at the first step", t_late)):
    print(f"{name:34s} max |difference| from cl.Adam: {np.abs(result - np.array(ours)).max():.1e}")
print(f"{'t = 0 at the first step':34s} first step: {t_zero[0]}")
assert np.abs(correct - np.array(ours)).max() < 1e-12
assert np.abs(beta1_typo - np.array(ours)).max() > 1e-4
assert np.abs(t_late - np.array(ours)).max() > 1e-3
assert not np.all(np.isfinite(t_zero))

# %% [markdown]
# The β1 typo even leaves the first step unchanged (every bias-corrected EMA equals $g$ at
# $t = 1$); it shows up from step 2 on, which is why it survives casual testing. Compare
# against a reference over several steps.
#
# ## 6. Weight decay: L2 in the gradient versus decoupled (AdamW)
#
# There are two ways to shrink weights towards zero (notebook 07 covers regularization in
# general):
#
# * **L2 regularization** adds $\frac\lambda2\|\theta\|^2$ to the loss, i.e. $\lambda\theta$
#   to the gradient: `weight_decay=λ` in `cl.SGD` and `cl.Adam` (and in PyTorch);
# * **decoupled weight decay** shrinks the weights directly,
#   $\theta \leftarrow \theta - \eta\lambda\theta$, and then takes the optimizer's step on the
#   raw gradient: `cl.AdamW` (Loshchilov & Hutter, 2019).
#
# For plain SGD the two are the same formula,
# $\theta - \eta(g + \lambda\theta) = (1-\eta\lambda)\theta - \eta g$. For Adam they are not:
# in the L2 form the decay term $\lambda\theta$ goes through the division by
# $\sqrt{\hat v}$, so weights with a large gradient history are hardly decayed and weights
# with small gradients are decayed hard. AdamW decays every weight at the same rate
# $\eta\lambda$. (With momentum, SGD's two forms differ slightly too, since the L2 term then
# enters the velocity.)

# %%
def train_steps(make_opt, steps=20, decoupled=0.0):
    """20 steps on one batch of 64 digits; decoupled > 0 shrinks the weights by hand first."""
    model = mlp()
    opt = make_opt(model.parameters())
    for _ in range(steps):
        opt.zero_grad()
        loss_fn.forward(model.forward(Xtr[:64]), ytr[:64])
        model.backward_params(loss_fn.backward())
        for q in model.parameters():
            q.data *= 1 - opt.lr * decoupled
        opt.step()
    return np.concatenate([q.data.ravel() for q in model.parameters()])


lam = 0.05
sgd_l2 = train_steps(lambda ps: cl.SGD(ps, lr=0.1, weight_decay=lam))
sgd_decoupled = train_steps(lambda ps: cl.SGD(ps, lr=0.1), decoupled=lam)
adam_l2 = train_steps(lambda ps: cl.Adam(ps, lr=0.01, weight_decay=lam))
adamw = train_steps(lambda ps: cl.AdamW(ps, lr=0.01, weight_decay=lam))
gap_sgd = np.abs(sgd_l2 - sgd_decoupled).max()
gap_adam = np.linalg.norm(adam_l2 - adamw) / np.linalg.norm(adamw)
print(f"SGD:  L2 vs decoupled decay, max |difference| = {gap_sgd:.1e}")
print(f"Adam: L2 vs AdamW, relative difference of the weights = {gap_adam:.3f}")
assert gap_sgd < 1e-12      # the same update for SGD
assert gap_adam > 1e-2      # different updates for Adam

# %% [markdown]
# To see *how* they differ, take two weights that both start at 1. One receives large data
# gradients, $\pm 10$ with the sign flipping every step (like the steep direction of a
# ravine: big gradients, no net pull); the other receives none at all. Train with Adam + L2
# ($\lambda = 0.1$) and with AdamW (the same $\lambda$), $\eta = 0.01$, 1,000 steps.

# %%
T = 1000
traces = {}
for name, make in (("Adam + L2", lambda ps: cl.Adam(ps, lr=0.01, weight_decay=0.1)),
                   ("AdamW", lambda ps: cl.AdamW(ps, lr=0.01, weight_decay=0.1))):
    p = cl.Parameter(np.ones(2))
    opt = make([p])
    trace = [p.data.copy()]
    for k in range(T):
        p.grad[...] = [10.0 * (-1) ** k, 0.0]   # the data gradient only; decay is the optimizer's job
        opt.step()
        trace.append(p.data.copy())
    traces[name] = np.array(trace)

fig, ax = plt.subplots(figsize=(8, 3.6))
for name, ls in (("Adam + L2", "-"), ("AdamW", "--")):
    ax.plot(traces[name][:, 0], ls, color="tab:blue", label=f"{name}: weight with large gradients")
    ax.plot(traces[name][:, 1], ls, color="tab:red", label=f"{name}: weight with no gradient")
ax.plot(0.999 ** np.arange(T + 1), "k:", lw=1, label="(1 − ηλ)^t")
ax.set(xlabel="step", ylabel="weight", title="the same λ = 0.1: L2 inside Adam vs decoupled decay")
ax.legend(fontsize=8, ncol=2, loc="lower right", bbox_to_anchor=(1, 0.06))
plt.show()

l2_end, w_end = traces["Adam + L2"][-1], traces["AdamW"][-1]
print(f"Adam + L2: busy weight {l2_end[0]:.3f}, idle weight {l2_end[1]:.3f}")
print(f"AdamW:     busy weight {w_end[0]:.3f}, idle weight {w_end[1]:.3f}  ((1 − ηλ)^T = {0.999 ** T:.3f})")
assert abs(w_end[1] - 0.999 ** T) < 1e-10                   # AdamW: pure exponential decay ...
assert abs(w_end[0] - 0.999 ** T) < 0.02                    # ... at the same rate for both weights
assert abs(l2_end[1]) < 0.05                                # L2: the idle weight is driven to 0,
assert l2_end[0] > 0.8                                      # the busy weight barely decays

# %% [markdown]
# Under L2, Adam normalizes the decay gradient of the idle weight to a full step of about
# $\eta$ per step: it is gone within ~200 steps, *whatever $\lambda$ is* (checked below for
# $\lambda$ = 0.001 and 10), while the busy weight's decay is divided by its large
# $\sqrt{\hat v}$ and it hardly shrinks. AdamW shrinks both by the same factor
# $(1-\eta\lambda)$ per step, which is what "weight decay" was meant to do, and $\lambda$
# keeps its meaning. This is one reason AdamW is the common default for large models.

# %%
def idle_weight(lam, steps=300):
    """A weight with no data gradient under Adam + L2(lam): its trajectory."""
    p = cl.Parameter(np.ones(1))
    opt = cl.Adam([p], lr=0.01, weight_decay=lam)
    out = []
    for _ in range(steps):
        p.grad[...] = 0.0
        opt.step()
        out.append(p.data[0])
    return np.array(out)


small, large = idle_weight(0.001), idle_weight(10.0)
print(f"Adam + L2, idle weight after 100 steps: λ = 0.001 → {small[99]:.4f}, λ = 10 → {large[99]:.4f}")
assert np.abs(small - large).max() < 1e-3     # a 10,000× different λ, the same decay
#
# ## 7. Learning-rate schedules
#
# A rate large enough to make fast progress early is too large to settle at the end (SGD's
# noise ball from section 1). Schedules lower the rate over time. The four in `course_lib`
# (`lr_at(t)` is the formula; call `step()` once per epoch or per iteration):
#
# | schedule | rate at step $t$ |
# |---|---|
# | `StepLR(opt, step_size, gamma)` | $\eta_0\,\gamma^{\lfloor t/\text{step\_size}\rfloor}$ |
# | `ExponentialLR(opt, gamma)` | $\eta_0\,\gamma^t$ |
# | `InverseTimeLR(opt, decay)` | $\eta_0/(1 + \text{decay}\cdot t)$ |
# | `CosineWarmupLR(opt, warmup, total, min_lr)` | linear warm-up to $\eta_0$, then half a cosine down to `min_lr` |
#
# Warm-up (small rates for the first steps) protects the start, when adaptive optimizers'
# statistics are still poor and the loss surface near the initialization can be steep. On
# the right, SGD on a noisy quadratic ($f = \frac12\|w\|^2$ in 10 dimensions, gradient
# noise of scale 1): with a constant rate the loss stalls at the noise floor; every
# schedule goes below it.

# %%
T, base = 1000, 0.1
schedules = {"constant": None,
             "StepLR(300, 0.1)": lambda o: cl.StepLR(o, step_size=300, gamma=0.1),
             "ExponentialLR(0.997)": lambda o: cl.ExponentialLR(o, gamma=0.997),
             "InverseTimeLR(0.01)": lambda o: cl.InverseTimeLR(o, decay=0.01),
             "CosineWarmupLR(50, 1000)": lambda o: cl.CosineWarmupLR(o, warmup=50, total=T)}
noise_q = np.random.default_rng(4).standard_normal((T, 10))
lr_curves, f_curves = {}, {}
for name, make in schedules.items():
    p = cl.Parameter(np.full(10, 3.0))
    opt = cl.SGD([p], lr=base)
    sched = make(opt) if make else None
    lrs, fs = [], []
    for k in range(T):
        lrs.append(opt.lr)
        p.grad[...] = p.data + noise_q[k]       # gradient of ½‖w‖² plus noise
        opt.step()
        if sched:
            sched.step()
        fs.append(0.5 * p.data @ p.data)
    lr_curves[name], f_curves[name] = np.array(lrs), np.array(fs)

fig, axes = plt.subplots(1, 2, figsize=(13, 3.8))
for name in schedules:
    axes[0].plot(lr_curves[name], label=name)
    smooth = np.convolve(f_curves[name], np.ones(25) / 25, mode="valid")
    axes[1].semilogy(np.arange(24, T), smooth, label=name)
axes[0].set(xlabel="step", ylabel="learning rate", title="the schedules (base rate 0.1)")
axes[1].set(xlabel="step", ylabel="f(w), moving average of 25 (log)", title="SGD on a noisy quadratic")
axes[0].legend(fontsize=8)
axes[1].legend(fontsize=8)
fig.tight_layout()
plt.show()

dummy = cl.SGD([cl.Parameter(np.zeros(1))], lr=0.1)
assert cl.StepLR(dummy, 300, 0.1).lr_at(299) == 0.1 and abs(cl.StepLR(dummy, 300, 0.1).lr_at(300) - 0.01) < 1e-15
cos = cl.CosineWarmupLR(cl.SGD([cl.Parameter(np.zeros(1))], lr=0.1), warmup=50, total=1000)
assert abs(cos.lr_at(0) - 0.1 / 50) < 1e-15 and abs(cos.lr_at(49) - 0.1) < 1e-15
assert abs(cos.lr_at(525) - 0.05) < 1e-12 and cos.lr_at(1000) == 0.0
final = {name: f[-100:].mean() for name, f in f_curves.items()}
print({name: round(float(v), 4) for name, v in final.items()}, "(mean f over the last 100 steps)")
assert all(final[name] < 0.3 * final["constant"] for name in schedules if name != "constant")

# %% [markdown]
# ## 8. Gradient clipping
#
# When the loss surface has a cliff (deep nets, recurrent nets, a bad initialization), one
# gradient can be thousands of times larger than usual and a single step throws the weights
# far away. Clipping caps the gradient before the step. Two kinds:
#
# * **by value**, element-wise, $g_i \leftarrow \min(\max(g_i, -c), c)$
#   (`cl.clip_grad_value`): simple, but it changes the *direction* of the step;
# * **by global norm** over all parameters together (`cl.clip_grad_norm`, like
#   `torch.nn.utils.clip_grad_norm_`): if $\|g\| > c$, then $g \leftarrow c\, g/\|g\|$. The
#   direction is kept; only the length is capped.

# %%
def make_grads():
    a, b = cl.Parameter(np.zeros(2)), cl.Parameter(np.zeros(1))   # two parameters, 3 numbers
    a.grad[...] = [3.0, 0.4]
    b.grad[...] = [-1.2]
    return [a, b]


def flat(ps):
    return np.concatenate([q.grad.ravel() for q in ps])


def cosine(u, v):
    return u @ v / (np.linalg.norm(u) * np.linalg.norm(v))


original = flat(make_grads())
by_value = make_grads()
cl.clip_grad_value(by_value, 1.0)
by_norm = make_grads()
total = cl.clip_grad_norm(by_norm, 1.0)
print(f"original      {original},  norm {np.linalg.norm(original):.3f}")
print(f"by value (1)  {flat(by_value)},  norm {np.linalg.norm(flat(by_value)):.3f}, "
      f"cosine with the original {cosine(original, flat(by_value)):.4f}")
print(f"by norm (1)   {flat(by_norm).round(4)},  norm {np.linalg.norm(flat(by_norm)):.6f}, "
      f"cosine with the original {cosine(original, flat(by_norm)):.15f}")
assert abs(total - np.linalg.norm(original)) < 1e-12           # returns the norm before clipping
assert abs(np.linalg.norm(flat(by_norm)) - 1.0) < 1e-6          # length capped at c
assert abs(cosine(original, flat(by_norm)) - 1.0) < 1e-12       # direction kept
assert cosine(original, flat(by_value)) < 0.95                  # direction changed

# %% [markdown]
# **An exploding run rescued.** An 8-layer ReLU net whose weights start 1.4× larger than He
# initialization (notebook 02): activations and gradients grow layer by layer, and the first
# gradients are huge. With SGD + momentum at $\eta = 0.1$ the unclipped run explodes within
# two steps (`fit` stops when the loss exceeds 3× its initial value); with
# `clip_norm=1.0` the very same run trains.

# %%
def deep_net(depth=8, scale=1.4, seed=0):
    rng = np.random.default_rng(seed)
    init = lambda fan_in, fan_out, rng: scale * cl.init.he_normal(fan_in, fan_out, rng=rng)
    layers, width = [], 64
    for _ in range(depth - 1):
        layers += [cl.Linear(width, 64, init=init, rng=rng), cl.ReLU()]
    return cl.Sequential(*layers, cl.Linear(64, 10, init=init, rng=rng))


def first_grad_norm(net):
    net.zero_grad()
    loss_fn.forward(net.forward(Xtr[:64]), ytr[:64])
    net.backward_params(loss_fn.backward())
    return np.sqrt(sum(np.sum(q.grad ** 2) for q in net.parameters()))


g0, g_he = first_grad_norm(deep_net()), first_grad_norm(deep_net(scale=1.0))
print(f"global gradient norm on the first batch: {g0:.1f} (with plain He init: {g_he:.1f})")

clip_runs = {}
for clip in (None, 1.0):
    net = deep_net()
    opt = cl.SGD(net.parameters(), lr=0.1, momentum=0.9)
    clip_runs[clip] = cl.fit(net, loss_fn, opt, Xtr, ytr, epochs=5, batch_size=64, rng=0,
                             val=(Xval, yval), clip_norm=clip, progress=False)
plain, clipped = clip_runs[None], clip_runs[1.0]
print("no clipping:  ", plain.message)
print("clip_norm=1.0:", clipped)

fig, axes = plt.subplots(1, 2, figsize=(12, 3.6))
ax = axes[0]
for vec, label, color in ((original, "g", "k"), (flat(by_value), "clip by value (c = 1)", "tab:red"),
                          (flat(by_norm), "clip by norm (c = 1)", "tab:blue")):
    ax.annotate("", xy=vec[:2], xytext=(0, 0), arrowprops=dict(arrowstyle="->", color=color, lw=2))
    ax.plot([], [], color=color, lw=2, label=label)
ax.set(xlim=(-0.3, 3.3), ylim=(-0.3, 1.0), aspect="equal", xlabel="$g_1$", ylabel="$g_2$",
       title="the gradient (first 2 of its 3 coordinates)")
ax.legend(fontsize=8, loc="upper right")
cl.plots.plot_loss(plain, ax=axes[1], label="no clipping (exploded)", log=True, color="tab:red", marker="o")
cl.plots.plot_loss(clipped, ax=axes[1], label="clip_norm = 1.0", log=True, smooth=10, color="tab:blue")
axes[1].set_title("8-layer ReLU net, 1.4× He init, SGD + momentum, lr 0.1")
fig.tight_layout()
plt.show()

assert g0 > 10 * g_he                                        # a huge first gradient
assert plain.exploded and plain.steps <= 5                   # stopped by fit's explosion guard
assert clipped.status == "completed"
assert clipped.train_loss[-1] < 0.1 * clipped.loss[0] and clipped.val_acc[-1] > 0.85

# %% [markdown]
# Clipping is a safety belt, not a cure: here the real fix is a correct initialization
# (notebook 02) or BatchNorm (notebook 04). But for recurrent nets and large models it is
# standard practice, with $c$ chosen a bit above the typical gradient norm so that it only
# acts on the rare spikes.
#
# ## 9. The optimizers on 2-D surfaces
#
# Three classic test surfaces show the characters of the optimizers. Each panel runs the
# five optimizers for 150 steps with one shared setting, $\eta = 0.05$, $\beta = 0.9$
# (momentum and Adam's $\beta_1$), $\beta_2 = 0.99$ (RMSProp's $\rho$, Adam's $\beta_2$);
# each path is a `course_lib` optimizer stepping a `Parameter` of shape (2,), and
# `cl.plots.plot_optimizer_paths` draws them.
#
# * **Ravine** (the ill-conditioned quadratic): RMSProp and Adam rescale each coordinate and
#   head almost straight for the minimum; momentum swings; SGD crawls.
# * **Rosenbrock's valley**: a curved, flat-bottomed banana. The valley floor is easy to
#   reach and slow to follow; the momentum methods do best here, and the adaptive methods,
#   whose steps are about $\eta$ long, zig-zag down the narrow valley.
# * **Saddle** ($x^2 + (y^2-1)^2/4$, saddle point at the origin, minima at $(0, \pm1)$),
#   starting almost exactly on the ridge ($y_0 = 0.01$): the gradient in the escape
#   direction is tiny, so SGD lingers near the saddle; momentum builds speed; Adam, which
#   normalizes the gradient, escapes almost at once.

# %%
fig, axes = plt.subplots(1, 3, figsize=(17, 4.8))
race_default = {}
for ax, surface in zip(axes, race.SURFACES):
    race_default[surface] = race.race_paths(surface, lr=0.05, beta=0.9, beta2=0.99, steps=150)
    race.draw_paths(surface, race_default[surface], ax=ax, steps=150)
fig.tight_layout()
plt.show()

f_ravine = race.final_losses("ravine", race_default["ravine"])
escape = {k: int(np.argmax(np.abs(p[:, 1]) > 0.5)) for k, p in race_default["saddle"].items()}
dist = {k: float(np.linalg.norm(p[-1] - [1, 1])) for k, p in race_default["rosenbrock"].items()}
print("ravine, final f:          ", {k: f"{v:.1e}" for k, v in f_ravine.items()})
print("saddle, steps to |y| > 0.5:", escape)
print("Rosenbrock, distance to (1, 1):", {k: round(v, 2) for k, v in dist.items()})
assert max(f_ravine["RMSProp"], f_ravine["Adam"], f_ravine["momentum"]) < 1e-3 * f_ravine["SGD"]
assert escape["Adam"] < escape["SGD"] / 5 and escape["momentum"] < escape["SGD"] / 2
assert dist["momentum"] < 0.5 * min(dist["SGD"], dist["Adam"], dist["RMSProp"])

# %% [markdown]
# ## 10. Your turn: the optimizer race
#
# Move the sliders; each move re-runs all five optimizers (150 steps each) and redraws.
#
# * **Learning rate** (log scale): find the rate where SGD starts to diverge on the ravine
#   (≈ 0.1, because the steep curvature is 20), and note that Nesterov goes first (≈ 0.068)
#   and momentum last (≈ 0.19). Adam and RMSProp never diverge here, their step is
#   $\approx\eta$ long, but a large $\eta$ makes them rattle around the minimum.
# * **β**: set it to 0 and momentum/Nesterov become SGD. Push it to 0.99 and watch
#   momentum overshoot in long swings.
# * **β2**: small values make RMSProp and Adam follow the latest gradients closely (jumpier),
#   large values make their step sizes smooth but slow to adapt.
# * **Surface**: no optimizer wins everywhere.

# %%
display(race.optimizer_race())

# %% [markdown]
# ## 11. On real data: the same MLP with each optimizer
#
# A fair comparison gives every optimizer its own good learning rate: rates are not
# comparable across optimizers (SGD's multiplies the gradient, Adam's is a step length). We
# train the digits MLP for 10 epochs (batch 64) with each optimizer over the same log grid
# of rates, then compare each optimizer at its best rate. Runs that explode stop early.

# %%
grid = 10.0 ** np.arange(-3.5, 0.75, 0.5)
makers = {"SGD": lambda ps, lr: cl.SGD(ps, lr),
          "momentum (β = 0.9)": lambda ps, lr: cl.SGD(ps, lr, momentum=0.9),
          "Nesterov (β = 0.9)": lambda ps, lr: cl.SGD(ps, lr, momentum=0.9, nesterov=True),
          "AdaGrad": lambda ps, lr: cl.AdaGrad(ps, lr),
          "RMSProp": lambda ps, lr: cl.RMSProp(ps, lr),
          "Adam": lambda ps, lr: cl.Adam(ps, lr)}
scan, best, val_acc = {}, {}, {}
for name, make in makers.items():
    scan[name], models = [], []
    for lr in grid:
        models.append(mlp())
        scan[name].append(cl.fit(models[-1], loss_fn, make(models[-1].parameters(), lr), Xtr, ytr,
                                 epochs=10, batch_size=64, rng=1, progress=False))
    finals = [h.train_loss[-1] if h.status == "completed" else np.inf for h in scan[name]]
    best[name] = int(np.argmin(finals))
    val_acc[name] = cl.evaluate(models[best[name]], loss_fn, Xval, yval)[1]

fig, axes = plt.subplots(1, 2, figsize=(13, 4))
for name in makers:
    finals = np.array([h.train_loss[-1] if h.status == "completed" else np.nan for h in scan[name]])
    line, = axes[0].loglog(grid, finals, "o-", ms=4, label=name)
    blown = np.isnan(finals)                     # runs that fit stopped as exploded
    axes[0].plot(grid[blown], np.full(blown.sum(), 5.0), "x", ms=7, color=line.get_color())
    h = scan[name][best[name]]
    axes[1].semilogy(np.arange(1, 11), h.train_loss, "o-", ms=3, label=f"{name}, lr = {grid[best[name]]:.2g}")
axes[0].plot([], [], "kx", label="× exploded")
axes[0].set(xlabel="learning rate (log)", ylabel="training loss after 10 epochs",
            title="each optimizer has its own range of good rates")
axes[1].set(xlabel="epoch", ylabel="training loss (log)", title="each at its best rate from the grid")
axes[0].legend(fontsize=8)
axes[1].legend(fontsize=8)
fig.tight_layout()
plt.show()

summary = {name: (grid[best[name]], scan[name][best[name]].train_loss[-1], val_acc[name]) for name in makers}
for name, (lr, loss, acc) in summary.items():
    print(f"{name:20s} best lr {lr:8.4f}: train loss {loss:.4f}, val accuracy {acc:.3f}")
assert all(0 < best[name] < len(grid) - 1 for name in makers)     # no best rate at the grid's edge
sgd_loss = summary["SGD"][1]
assert summary["momentum (β = 0.9)"][1] < 0.6 * sgd_loss
assert summary["Adam"][1] < 0.6 * sgd_loss

# %% [markdown]
# Read the left panel first: each curve is a valley, and the valleys sit at very different
# rates (Adam's around $10^{-2}$, SGD's around 1). Comparing optimizers at one shared rate
# would say more about the rate than about the optimizer. At their best rates, momentum,
# Nesterov and Adam reach a clearly lower training loss than plain SGD in the same 10 epochs;
# AdaGrad and RMSProp land close to SGD on this small problem. The validation accuracies are
# much closer together than the training losses: a faster optimizer is not automatically a
# better-generalizing model (notebook 07). Also note how wide Adam's valley is: part of its
# popularity is that a default rate near $10^{-3}$ to $10^{-2}$ is rarely terrible.
#
# ## Check your understanding
#
# 1. You double the batch size from 64 to 128. By what factor does the variance of the
#    gradient estimate change, and by what factor the arithmetic per step? Why might the
#    wall-clock time per step barely change?
#
# <details><summary>Answer</summary>
#
# The variance halves (slightly more than that with the finite-population factor
# $(N-B)/(N-1)$); the arithmetic doubles. On vectorized hardware a larger batch fills idle
# arithmetic units, so the time per step grows much less than 2× until the machine is
# saturated. That is what we measured in section 1: single examples cost far more per example.
# </details>
#
# 2. A paper writes momentum as $m \leftarrow 0.9\,m + \eta\,g$, $\theta \leftarrow \theta - m$
#    and divides $\eta$ by 10 at epoch 30. You port it to PyTorch with `SGD(momentum=0.9)` and
#    a `StepLR`. Is the training identical? What differs right after epoch 30?
#
# <details><summary>Answer</summary>
#
# Identical up to epoch 30 (constant rate). At the drop, PyTorch's form scales the whole
# velocity by the new rate at once, so the step shrinks 10× immediately; in the paper's form
# the old velocity, which already contains the old rate, decays over about
# $1/(1-0.9) = 10$ steps, so the step shrinks gradually. The runs diverge from there.
# </details>
#
# 3. With $\beta_1 = 0.9$, $\beta_2 = 0.999$, Adam without bias correction: is the first step
#    too small or too large, and by how much? What if only $m$ were corrected?
#
# <details><summary>Answer</summary>
#
# Too large: $(1-\beta_1)/\sqrt{1-\beta_2} \approx 3.16$ times the corrected step $\eta$,
# and the ratio grows to about 6.6 around step 12 before decaying. If only $m$ were corrected,
# the step would be $1/\sqrt{1-\beta_2} \approx 31.6$ times too large at $t = 1$; if only $v$
# were corrected, it would be $1-\beta_1 = 0.1$ times too small. The "tiny steps" story
# describes only the first moment.
# </details>
#
# 4. Why does L2 regularization with Adam decay a weight with large gradients *less* than a
#    weight with small gradients, and what does AdamW do instead?
#
# <details><summary>Answer</summary>
#
# With L2 the decay term $\lambda\theta$ is part of the gradient and so is divided by
# $\sqrt{\hat v}$, which is large for weights with large gradients: their decay is
# scaled down. A weight with no data gradient has its decay term normalized to a full step
# of about $\eta$. AdamW applies $\theta \leftarrow (1-\eta\lambda)\theta$ outside the
# adaptive step, so every weight decays at the same relative rate.
# </details>
#
# 5. Clipping by value with $c = 1$ turns the gradient $(3, 0.4)$ into $(1, 0.4)$. Clipping by
#    norm with $c = 1$ gives what? Which one still points downhill along the original direction?
#
# <details><summary>Answer</summary>
#
# $(3, 0.4)/\|(3, 0.4)\| \approx (0.991, 0.132)$: the same direction, length 1. Clipping by
# value gives $(1, 0.4)$, whose direction has rotated towards the small coordinate.
# Both are still descent directions here (positive dot product with $g$), but only clipping
# by norm keeps the direction that the gradient chose.
# </details>
#
# ## Summary
#
# * **Batch size** trades noise for cost: the gradient variance falls like $1/B$, the
#   arithmetic grows like $B$. Per example seen, small batches learn fastest; per step, large
#   ones do. Mini-batches of 32–256 are the practical middle.
# * **Momentum** ($v \leftarrow \beta v + g$, $\theta \leftarrow \theta - \eta v$) sums
#   gradients: consistent directions are amplified up to $1/(1-\beta)$, oscillating ones
#   damped to $1/(1+\beta)$. The form with $\eta$ inside the velocity is the same only while
#   $\eta$ is constant.
# * **Nesterov** evaluates the gradient at the look-ahead point; PyTorch stores that point as
#   the parameters. Slightly faster, slightly narrower stability range.
# * **AdaGrad** divides by the root of the accumulated squared gradients: per-parameter
#   rates that decay forever. **RMSProp** uses a moving average instead ($\rho$ = PyTorch's
#   `alpha`).
# * **Adam** = momentum + RMSProp + bias correction ($t$ from 1 at the first step; $v$ uses
#   $\beta_2$). Without the correction, early steps are several times *too large*.
# * **AdamW** decouples weight decay from the adaptive step; for plain SGD, L2 and decoupled
#   decay are identical.
# * **Schedules** (step, exponential, 1/t, cosine with warm-up) lower the rate to get below
#   the noise floor; **clipping by global norm** caps the step length without changing its
#   direction and rescues runs with exploding gradients.
# * Compare optimizers each at its own best learning rate; no optimizer wins on every surface.
#
# **Next:** [07 Regularization](07_regularization.ipynb). **Practice:** the exercises for
# this notebook are in [exercises/06_optimizers.ipynb](../exercises/06_optimizers.ipynb).
