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
#    single-example SGD (noise of the gradient versus cost of a step), and why the batch size
#    and the learning rate must be tuned together;
# 2. write momentum in both notations found in the literature, and say when they differ;
# 3. compute the convergence rate of gradient descent and of momentum on a quadratic, and the
#    optimal $\eta^*$ and $\beta^*$ for a condition number $\kappa$;
# 4. derive the per-parameter step sizes of AdaGrad, RMSProp and Adam, including Adam's bias
#    correction, spot the two classic mistakes in copied Adam code, and say when
#    per-coordinate scaling helps (and when it does not: a rotated ravine);
# 5. tell L2 regularization from decoupled weight decay (AdamW);
# 6. use learning-rate schedules, warm-up and gradient clipping, and check how often clipping
#    actually acts;
# 7. compare optimizers fairly on real data (each at its own good learning rate, several
#    seeds), and average the weights of a run instead of keeping the last iterate.
#
# **Prerequisites.** [00 Foundations](00_foundations.ipynb) (losses, mini-batches, the digits
# data, centring the inputs), [03 Backpropagation](03_backpropagation.ipynb) (the
# gradient-descent update $\theta \leftarrow \theta - \eta\,\nabla L$). Notebook 02
# (initialization) helps for the clipping section.
#
# **Estimated time.** 90–120 minutes.
#
# **Seeds.** Every random draw below derives from the environment variable `COURSE_SEED`
# (default 0): the data split, the initial weights, the order of the mini-batches. Each
# experiment on real data runs on the three seeds `cl.seeds(3)` and shows all of them, and the
# asserts must hold on every seed. Start JupyterLab with another `COURSE_SEED` to see other
# draws.

# %%
import time

import numpy as np
import matplotlib.pyplot as plt
from threadpoolctl import threadpool_limits
import course_lib as cl
from course_lib.widgets import optimizers as race
from course_lib.widgets import optimizers_experiments as ox

cl.set_seed()            # the default generator, from COURSE_SEED
threadpool_limits(1)     # our matrices are small: one BLAS thread is fastest, extra ones only compete
SEEDS = cl.seeds(3)      # the seeds of every repeated experiment (0, 1, 2 under COURSE_SEED=0)

# the digits split of notebook 00, inputs centred with the training set's mean image
Xtr, ytr, Xval, yval = ox.digits()
N = len(Xtr)
loss_fn = cl.SoftmaxCrossEntropy()
mlp = ox.mlp             # mlp(seed): 64 → 64 (ReLU) → 10, He init drawn from default_rng(seed)


def full_loss(model):
    """Mean cross-entropy over the whole training set."""
    return loss_fn.forward(model.forward(Xtr), ytr)


print(f"training set: {Xtr.shape}, validation: {Xval.shape}; model: {mlp(SEEDS[0]).num_parameters():,} "
      f"parameters; seeds {SEEDS}")

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
model = mlp(SEEDS[0])
params = model.parameters()


def batch_grad(idx):
    """The gradient of the mean loss over the examples idx, flattened into one vector."""
    model.zero_grad()
    loss_fn.forward(model.forward(Xtr[idx]), ytr[idx])
    model.backward_params(loss_fn.backward())
    return np.concatenate([p.grad.ravel() for p in params])


g_full = batch_grad(np.arange(N))
sigma2 = np.mean([np.sum((batch_grad([i]) - g_full) ** 2) for i in range(N)])  # exact, over all N

rng = cl.make_rng(1)
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

fig, ax = plt.subplots(figsize=(6.4, 3.4))
ax.loglog(sizes, [noise[B] for B in sizes], "o", ms=7, label="measured (200 batches each)")
bs = np.arange(1, 129)
ax.loglog(bs, sigma2 / bs * (N - bs) / (N - 1), "k--", lw=1, label="σ²/B · (N−B)/(N−1)")
ax.set(xlabel="batch size B (log)", ylabel="E‖g_B − g‖² (log)", title="gradient noise falls like 1/B")
ax.legend(fontsize=9)
ax.grid(alpha=0.3)
plt.show()

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
# Now train the network with plain SGD and three batch sizes, and record the loss on the whole
# training set. Two ways to count progress matter:
#
# * **per example seen** (the real cost when the machine is busy anyway), and
# * **per step** (the cost when a step is cheap, e.g. a GPU that handles a whole batch as
#   fast as one example).
#
# A learning rate that is good for one batch size is not good for another: a batch of 32
# averages away most of the noise, so it can take much larger steps. We therefore run each
# batch size over its own grid of rates (the shared rate $\eta = 0.1$ is in every grid) and
# show it at its own best. The budget: $B = 1$ for 2 epochs (2,158 steps), $B = 32$ and the
# full batch for 100 steps; the best rate of each is the one with the lowest mean loss at the
# end of its budget. `ox.batch_size_study` runs it on the three seeds (weights and batch
# order change with the seed).

# %%
study = ox.batch_size_study(SEEDS)
ox.draw_batch_sizes(study)
plt.show()

best_lr = {B: study.best_lr(B) for B in (1, 32, N)}
shared_1ep = {1: study.at(1, 0.1, N), 32: study.at(32, 0.1, N // 32), N: study.at(N, 0.1, 1)}
tuned_2ep = {B: study.at(B, best_lr[B], 2 * N // B) for B in (1, 32)}
shared_2ep = {B: study.at(B, 0.1, 2 * N // B) for B in (1, 32)}
tuned_100 = {B: study.at(B, best_lr[B], 100) for B in (1, 32, N)}


def show(values):
    return ", ".join(f"B = {B}: {v.mean():.3f} ({v.min():.3f}…{v.max():.3f})" for B, v in values.items())


print("each batch size's best rate:", best_lr)
print("after 1 epoch of examples, shared lr 0.1:  ", show(shared_1ep))
print("after 2 epochs of examples, shared lr 0.1: ", show(shared_2ep))
print("after 2 epochs of examples, own best lr:   ", show(tuned_2ep))
print("after 100 steps, own best lr:              ", show(tuned_100))
assert np.all(shared_1ep[1] < shared_1ep[32]) and np.all(shared_1ep[32] < shared_1ep[N])  # shared lr: small B ahead, every seed
assert best_lr[32] >= 10 * best_lr[1]                         # the good rate grows with the batch
assert np.all(shared_2ep[32] > 5 * tuned_2ep[32])             # so the shared rate handicaps B = 32 ...
assert tuned_2ep[32].mean() < 2 * tuned_2ep[1].mean()        # ... at its own rate it keeps up with B = 1 (or beats it)
assert np.all(np.maximum(tuned_100[32], tuned_100[N]) < 0.2 * tuned_100[1])   # per step, big batches win,
assert max(tuned_100[32].mean(), tuned_100[N].mean()) < 0.1 * tuned_100[1].mean()   # by 10× on average

# %% [markdown]
# Read the two panels together, solid lines first (each batch size at its own best rate).
# **Per step** (right), the larger batches win by far: after 100 steps $B = 32$ and the full
# batch are on average more than ten times lower than $B = 1$ (at least five times on every
# seed), because each of their steps follows an
# almost exact gradient. **Per example seen** (left), $B = 32$ at its rate of 3 keeps up with
# $B = 1$ at its rate of 0.1 (on some seeds it is ahead): it takes 32 times fewer steps, each about 30 times longer, for
# the same progress. That is the *linear scaling rule* (Goyal et al., 2017): multiply the
# batch by $k$, multiply the rate by about $k$. It holds only up to a point: the full batch
# cannot take 1,079 times larger steps (its rate is capped by stability near 10; at its best
# rate the loss even rises for the first few steps before it falls), and per example it is far
# behind.
#
# The dashed lines are the same batch sizes at one shared rate, $\eta = 0.1$. There the
# ranking per example is "the smaller the batch, the better" on every seed, but that is a
# statement about the rate: at $\eta = 0.1$, $B = 32$ is more than five times behind its own
# best. **Batch size and learning rate must be tuned together.** The Deep Learning Tuning
# Playbook's advice follows from this: choose the batch size for the hardware (throughput),
# then re-tune the rate (and the schedule) for it.
#
# Mini-batches are the compromise everyone uses: the noise is already small at $B = 32$, the
# hardware processes the batch almost as fast as one example, and the remaining noise is not
# all bad (it is widely thought to help the iterate leave sharp, narrow minima). The price of
# noise is that SGD with a constant learning rate never settles exactly; it hovers in a
# "noise ball" whose size grows with $\eta$ (section 7 shrinks it with a schedule, section 12
# averages it away).
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
# All three use $\eta = 0.09$, close to SGD's limit. (No randomness here: these runs are the
# same on every seed.)

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

fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.6))
race.draw_paths("ravine", paths_ravine, ax=axes[0], steps=150, title="ravine, lr = 0.09, 150 steps",
                legend_loc=None)
colors = {"SGD": "tab:blue", "momentum β = 0.5": "tab:orange", "momentum β = 0.9": "tab:green"}
for name, path in paths_ravine.items():
    axes[1].semilogy(f_along(path), color=colors[name], label=f"{name}, lr 0.09")
axes[1].semilogy(f_along(sgd_hot), ":", color="tab:blue", label="SGD, lr 0.11 (diverges)")
axes[1].semilogy(f_along(momentum_hot), ":", color="tab:green", label="β = 0.9, lr 0.11")
axes[1].set(xlabel="step", ylabel="f(w) (log)", ylim=(1e-10, 1e4), title="loss along the path")
axes[1].legend(fontsize=9, loc="lower left")
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
# along-ravine steps add up. With $\beta = 0.9$ (green) the velocity also keeps the
# across-ravine motion for longer, and the path overshoots in wide swings, yet it ends lower
# still. Both end more than 100× lower than SGD. Is $\beta = 0.9$ "too much" or not? The next
# section answers exactly.
#
# ### How fast? The quadratic analysis
#
# On a quadratic every eigen-direction of the Hessian evolves on its own, so we can compute
# the speed exactly (this is the central result of Goh's "Why Momentum Really Works",
# distill 2017, after Polyak 1964). Take curvatures $\lambda_{\min} \le \lambda \le
# \lambda_{\max}$ and the condition number $\kappa = \lambda_{\max}/\lambda_{\min}$.
#
# **Gradient descent** multiplies the error in direction $\lambda$ by $1 - \eta\lambda$ per
# step, so the error shrinks at the **rate** $\rho_{GD}(\eta) = \max(|1-\eta\lambda_{\min}|,
# |1-\eta\lambda_{\max}|)$ per step. The best rate balances the two ends:
# $\eta = 2/(\lambda_{\min}+\lambda_{\max})$ gives $\rho = (\kappa-1)/(\kappa+1)$, i.e.
# 0.980 for $\kappa = 100$: about 115 steps for every factor of 10.
#
# **Momentum** (PyTorch's form, $v \leftarrow \beta v + \lambda w$, $w \leftarrow w - \eta v$)
# acts on the pair $(w, v)$ of each direction through the matrix
# $\begin{pmatrix} 1-\eta\lambda & -\eta\beta \\ \lambda & \beta \end{pmatrix}$, whose
# eigenvalues solve $z^2 - (1+\beta-\eta\lambda)\,z + \beta = 0$. Their product is $\beta$:
# when they are complex (the iterate oscillates), both have $|z| = \sqrt\beta$, whatever
# $\lambda$ is. The rate is the largest $|z|$ over both ends of the spectrum. Placing both
# $\lambda_{\min}$ and $\lambda_{\max}$ exactly at the edge of the complex region gives the
# optimum
#
# $$\eta^* = \frac{4}{(\sqrt{\lambda_{\max}}+\sqrt{\lambda_{\min}})^2}, \qquad
# \beta^* = \left(\frac{\sqrt\kappa-1}{\sqrt\kappa+1}\right)^2, \qquad
# \rho^* = \sqrt{\beta^*} = \frac{\sqrt\kappa-1}{\sqrt\kappa+1},$$
#
# 0.818 for $\kappa = 100$: about 12 steps per factor of 10. Gradient descent needs a number
# of steps proportional to $\kappa$, momentum one proportional to $\sqrt\kappa$: ten times
# fewer here. `race.momentum_rate` computes the exact rate for any $(\eta, \beta)$; below we
# check it, and the optimum, against the decay measured on runs of `cl.SGD` on the ravine
# ($\lambda = 0.2$ and 20), and against a search over the whole $(\eta, \beta)$ plane.

# %%
lam_min, lam_max = 0.2, 20.0
opt_gd, opt_mom = race.optimal_gd(lam_min, lam_max), race.optimal_momentum(lam_min, lam_max)
settings = {"GD, lr 0.09": (0.09, 0.0), f"GD, its best lr {opt_gd.lr:.3f}": (opt_gd.lr, 0.0),
            "momentum β = 0.5, lr 0.09": (0.09, 0.5), "momentum β = 0.9, lr 0.09": (0.09, 0.9),
            f"momentum at η* = {opt_mom.lr:.3f}, β* = {opt_mom.beta:.3f}": (opt_mom.lr, opt_mom.beta)}
rates = {}
for name, (lr, beta) in settings.items():
    predicted = float(race.momentum_rate(lr, beta, lam_min, lam_max))
    measured = race.measured_rate(race.quadratic_path(lr, beta, lam_min, lam_max, steps=400))
    rates[name] = (predicted, measured)
    print(f"{name:42s} predicted rate {predicted:.4f}, measured {measured:.4f}, "
          f"steps per 10×: {float(race.steps_per_decade(predicted)):5.1f}")
    assert abs(measured / predicted - 1) < 0.01        # the formula predicts the runs within 1 %

x, b, plane = race.rate_map(lam_max / lam_min, n=401)
print(f"best rate on a 401 × 401 grid over (η, β): {plane.min():.4f}; formula ρ* = {opt_mom.rate:.4f}")
assert abs(opt_mom.rate - (np.sqrt(100) - 1) / (np.sqrt(100) + 1)) < 1e-12
assert plane.min() >= opt_mom.rate - 1e-9              # no (η, β) on the grid beats the optimum
assert rates["momentum β = 0.9, lr 0.09"][0] < rates["momentum β = 0.5, lr 0.09"][0]  # 0.9 is faster here

# %% [markdown]
# So $\beta = 0.9$ at $\eta = 0.09$ converges at $\sqrt{0.9} = 0.949$ per step: its
# eigenvalues are complex in both directions (underdamped, hence the swings), and the rate is
# $\sqrt\beta$ whatever the rate $\eta$. $\beta = 0.5$ damps the swings but is slower
# (0.963), because the shallow direction is then overdamped. The optimum $\beta^* \approx
# 0.67$ with $\eta^* \approx 0.165$ (more than SGD's limit of 0.1!) sits at the corner where
# both directions are critically damped.
#
# **Try it.** The widget shows the whole $(\eta, \beta)$ plane for a condition number
# $\kappa$ (with $\lambda_{\max} = 1$), coloured by the number of steps per factor of 10, and
# a run of `cl.SGD` at the point you choose. Predict before you move a slider:
#
# * Where is gradient descent ($\beta = 0$) on this plane, and where does it diverge?
# * Raise $\kappa$ to $10^4$. Where does the optimum move, and how many steps per factor of
#   10 does it need compared with GD's best? (Compare $\sqrt\kappa$ with $\kappa$.)
# * Set $\beta = 0.9$ and slide $\eta$: why does the colour stop changing over a wide range of
#   $\eta$? (Hint: $|z| = \sqrt\beta$.)

# %%
display(race.momentum_explorer())

# %% [markdown]
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

# %% [markdown]
# The step lengths of the two forms around the drop:

# %%
fig, ax = plt.subplots(figsize=(7, 3.4))
for path, label in ((out_drop, "v ← βv + ∇,  θ ← θ − ηv   (PyTorch, course_lib)"),
                    (in_drop, "m ← βm + η∇,  θ ← θ − m")):
    steps_len = np.linalg.norm(np.diff(np.vstack([ravine.start, path]), axis=0), axis=1)
    ax.semilogy(np.arange(1, len(path) + 1), steps_len, label=label)
ax.axvline(40.5, color="grey", ls=":", lw=1)
ax.text(41.5, 0.3, "η: 0.05 → 0.005", fontsize=9)
ax.set(xlabel="step", ylabel="step length ‖Δθ‖ (log)", ylim=(2e-4, 2),
       title="the same momentum, two notations, one lr drop")
ax.legend(fontsize=9, loc="lower left")
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
# The ideal step on a quadratic is Newton's, $\theta \leftarrow \theta - H^{-1}\nabla L$: it
# rescales every eigen-direction by its own curvature and reaches the minimum of the ravine in
# one step, whatever $\kappa$. For a network with $n$ weights the Hessian $H$ has $n^2$
# entries (23 million for our small MLP, $10^{18}$ for a large model), costs $n^3$ to invert,
# changes at every step and is not positive definite near saddles; quasi-Newton methods such
# as L-BFGS approximate it, but they need accurate, full-batch gradients. The methods below
# make the cheapest possible approximation instead: one scale per parameter, a **diagonal**
# preconditioner estimated from the gradients themselves. Section 9 shows what that
# diagonal can and cannot do.
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
noise_stream = cl.make_rng(2).standard_normal((T, 2)) * np.array([1.0, 0.01])
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
ax.set(xlabel="step t (log)", ylabel="effective rate η / (√s + ε) (log)", ylim=(1e-6, 50),
       title="AdaGrad's rate decays forever; RMSProp's levels off")
ax.legend(fontsize=9, ncol=2, loc="lower left")
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
# $\eta = 10^{-3}$). The step per coordinate is **at most about $\eta$** (Kingma & Ba bound it
# by $\eta$ in the common case), whatever the gradient's scale, and smaller when the gradient's
# sign is inconsistent or when it has just shrunk: $\hat m/\sqrt{\hat v}$ is close to $\pm 1$
# only when recent gradients agree in sign and size. Adam's learning rate is a *distance*,
# SGD's is a distance per unit of gradient.
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
# decays to 1 over a few thousand steps. The correction makes the very first step
# $\eta\,\mathrm{sign}(g)$ (up to $\epsilon$). Let us measure the ratio with a constant
# gradient, and then see what the oversized early steps do to the digits MLP at a high rate,
# $\eta = 0.1$, on the three seeds.

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

# %% [markdown]
# On the digits MLP: the first ten mini-batch losses with and without the correction at
# $\eta = 0.1$, on each seed (`ox.start_losses` runs `cl.fit` for them), next to the ratio
# just measured.

# %%
start = {"Adam": ox.start_losses(lambda ps: cl.Adam(ps, lr=0.1), SEEDS),
         "Adam without bias correction": ox.start_losses(lambda ps: AdamNoCorrection(ps, lr=0.1), SEEDS)}

fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.5))
axes[0].semilogx(np.arange(1, len(ratio) + 1), ratio)
axes[0].axhline(1, color="grey", lw=0.6)
axes[0].set(xlabel="step t (log)", ylabel="uncorrected / corrected step",
            title="constant gradient, β1 = 0.9, β2 = 0.999")
for (name, runs), color in zip(start.items(), ("tab:blue", "tab:red")):
    for i, row in enumerate(runs["loss"]):
        axes[1].plot(np.arange(1, 11), row, "o-", ms=3, color=color, alpha=0.8, label=name if i == 0 else None)
axes[1].set(xlabel="step", ylabel="mini-batch loss", title="digits MLP, lr 0.1, one line per seed")
axes[1].legend(fontsize=9)
fig.tight_layout()
plt.show()

for name, runs in start.items():
    print(f"{name:30s} largest loss in the first 10 steps / initial loss: {runs.summary('jump', '.2f')}; "
          f"stopped as exploded on {int(runs['exploded'].sum())} of {len(SEEDS)} seeds")
assert start["Adam"]["jump"].max() < 1.05                          # corrected: no jump on any seed
assert start["Adam without bias correction"]["jump"].min() > 1.5   # uncorrected: a jump on every seed

# %% [markdown]
# The corrected optimizer starts at the step size you asked for. Without correction the
# effective rate is several times larger during the first hundreds of steps, just when the
# estimates are least reliable; at $\eta = 0.1$ the loss jumps on every seed, most often past
# three times its starting value, where `cl.fit` stops the run as exploded. RMSProp, which has
# no bias correction, shows the same effect at its first step (section 4); a learning-rate
# warm-up (section 7) is another way to protect that phase.
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
#   raw gradient: `cl.AdamW`, as `torch.optim.AdamW`.
#
# Two details about AdamW. (1) In Loshchilov & Hutter's paper (2019, Algorithm 2) the decay is
# $\eta_t\lambda\theta$ with $\eta_t$ the *schedule multiplier* only, not multiplied by Adam's
# step size $\alpha$; PyTorch and `cl.AdamW` multiply by the learning rate, so
# $\lambda_{\text{torch}} = \lambda_{\text{paper}}/\alpha$ and the paper's $\lambda$ values
# do not carry over as they are. (2) `cl.AdamW(model.parameters())` decays every parameter,
# the biases (and BatchNorm's $\gamma, \beta$) included, while the usual practice (notebook 07)
# is to leave them out: pass only the weight matrices to a decaying optimizer, or use two
# optimizers.
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
    model = mlp(SEEDS[0])
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

fig, ax = plt.subplots(figsize=(8, 3.8))
for name, ls in (("Adam + L2", "-"), ("AdamW", "--")):
    ax.plot(traces[name][:, 0], ls, color="tab:blue", label=f"{name}: weight with large gradients")
    ax.plot(traces[name][:, 1], ls, color="tab:red", label=f"{name}: weight with no gradient")
ax.plot(0.999 ** np.arange(T + 1), "k:", lw=1, label="(1 − ηλ)^t")
ax.set(xlabel="step", ylabel="weight", ylim=(-0.45, 1.05),
       title="the same λ = 0.1: L2 inside Adam vs decoupled decay")
ax.legend(fontsize=9, ncol=2, loc="lower left")
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

# %% [markdown]
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
# First the noise floor itself: SGD on a noisy quadratic ($f = \frac12\|w\|^2$ in 10
# dimensions, gradient noise of scale 1) with three independent noise streams
# (`cl.make_rng(4)`, `(5)`, `(6)`). With a constant rate the loss stalls at the noise floor;
# every schedule goes below it, on every stream. On this problem the
# warm-up only delays the start (the purple curve starts highest): it has nothing to protect
# here. Its use comes after, on real data.

# %%
T, base = 1000, 0.1
schedules = {"constant": None,
             "StepLR(300, 0.1)": lambda o: cl.StepLR(o, step_size=300, gamma=0.1),
             "ExponentialLR(0.997)": lambda o: cl.ExponentialLR(o, gamma=0.997),
             "InverseTimeLR(0.01)": lambda o: cl.InverseTimeLR(o, decay=0.01),
             "CosineWarmupLR(50, 1000)": lambda o: cl.CosineWarmupLR(o, warmup=50, total=T)}


def run_schedule(make, noise):
    """SGD on ½‖w‖² with the gradient noise ``noise`` (T, 10); returns (rates, f) per step."""
    p = cl.Parameter(np.full(10, 3.0))
    opt = cl.SGD([p], lr=base)
    sched = make(opt) if make else None
    lrs, fs = [], []
    for g_noise in noise:
        lrs.append(opt.lr)
        p.grad[...] = p.data + g_noise          # gradient of ½‖w‖² plus noise
        opt.step()
        if sched:
            sched.step()
        fs.append(0.5 * p.data @ p.data)
    return np.array(lrs), np.array(fs)


noises = [cl.make_rng(4 + i).standard_normal((T, 10)) for i in range(3)]   # three noise streams
runs_q = {name: [run_schedule(make, noise) for noise in noises] for name, make in schedules.items()}

fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.6))
for name, runs in runs_q.items():
    line, = axes[0].plot(runs[0][0], label=name)
    for _, f in runs:                                        # one faint line per noise stream
        axes[1].semilogy(np.arange(24, T), np.convolve(f, np.ones(25) / 25, mode="valid"),
                         color=line.get_color(), lw=0.9, alpha=0.7)
axes[0].set(xlabel="step", ylabel="learning rate", title="the schedules (base rate 0.1)")
axes[1].set(xlabel="step", ylabel="f(w), mean of 25 steps (log)", title="noisy quadratic, 3 noise streams")
fig.legend(*axes[0].get_legend_handles_labels(), loc="lower center", ncol=3, fontsize=9, frameon=False)
fig.tight_layout(rect=(0, 0.13, 1, 1))
plt.show()

dummy = cl.SGD([cl.Parameter(np.zeros(1))], lr=0.1)
assert cl.StepLR(dummy, 300, 0.1).lr_at(299) == 0.1 and abs(cl.StepLR(dummy, 300, 0.1).lr_at(300) - 0.01) < 1e-15
cos = cl.CosineWarmupLR(cl.SGD([cl.Parameter(np.zeros(1))], lr=0.1), warmup=50, total=1000)
assert abs(cos.lr_at(0) - 0.1 / 50) < 1e-15 and abs(cos.lr_at(49) - 0.1) < 1e-15
assert abs(cos.lr_at(525) - 0.05) < 1e-12 and cos.lr_at(1000) == 0.0
final = {name: np.array([f[-100:].mean() for _, f in runs]) for name, runs in runs_q.items()}
for name, v in final.items():
    print(f"{name:26s} mean f over the last 100 steps, per noise stream: {v.round(4)}")
assert all(np.all(final[name] < 0.3 * final["constant"]) for name in schedules if name != "constant")

# %% [markdown]
# ### Warm-up on real data
#
# Warm-up (a rate that grows linearly from almost 0 over the first steps) is meant to protect
# the start: the first gradients of a fresh network can be large and its loss surface steep,
# and an adaptive optimizer's statistics $\hat v$ are still built from a handful of gradients.
# A test where that matters: Adam at a high rate, $\eta = 0.1$, on a deeper MLP (four Linear
# layers, 64 units each, He init) with a cosine decay over 10 epochs, with and without a
# 20-step linear warm-up (`cl.CosineWarmupLR(opt, warmup=20, total=170)`), on the three
# seeds. We watch the first 60 steps (the "jump" is the largest batch loss among them divided
# by the first) and the final validation accuracy.

# %%
warm = ox.warmup_study(SEEDS, warmups=(0, 20))
ox.draw_warmup(warm)
plt.show()

for w, runs in warm.items():
    print(f"{'warm-up ' + str(w) + ' steps' if w else 'no warm-up':17s} jump (largest loss of the first 60 steps / first): "
          f"{runs.summary('jump', '.2f')}; exploded on {int(runs['exploded'].sum())}/{len(SEEDS)} seeds; "
          f"val accuracy {runs.summary('val_acc')}")
print(f"warm-up lowers the jump on {int((warm[20]['jump'] < warm[0]['jump']).sum())}/{len(SEEDS)} seeds")
assert warm[20]["jump"].mean() < warm[0]["jump"].mean()  # warm-up lowers the start-up jump (on average; per seed: printed)
assert warm[0]["jump"].mean() > 1.5                      # without it the loss jumps well above its start
assert warm[20]["jump"].mean() < 1.4 and warm[20]["exploded"].sum() == 0   # with it: a smooth start

# %% [markdown]
# Without warm-up the batch loss rises above its starting value within the first few steps on
# every seed (on average to two to three times it, printed), and it can pass three times its start,
# where `cl.fit` stops the run (its accuracy then counts as chance, 0.1). With 20 steps of
# warm-up the start is smooth and no run explodes. What warm-up does *not* do is make a rate
# that is too high for the rest of training work: at $\eta = 0.2$ the same net with the same
# warm-up ends far below the accuracy it reaches at 0.1 (next cell). Warm-up protects the
# first steps, nothing more; the decay of the cosine schedule handles the end.

# %%
hot = ox.warmup_study(SEEDS, warmups=(20,), lr=0.2)[20]
print(f"lr 0.2, warm-up 20 steps: val accuracy {hot.summary('val_acc')}, "
      f"exploded on {int(hot['exploded'].sum())}/{len(SEEDS)} seeds")
assert hot["val_acc"].max() < warm[20]["val_acc"].min() - 0.03   # warm-up does not rescue a too-high rate

# %% [markdown]
# ## 8. Gradient clipping
#
# When the loss surface has a cliff (deep nets, recurrent nets, a bad initialization, a
# corrupted batch), one gradient can be many times larger than usual and a single step throws
# the weights far away. Clipping caps the gradient before the step. Two kinds:
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

fig, ax = plt.subplots(figsize=(6.4, 2.9))
ax.annotate("", xy=original[:2], xytext=(0, 0),
            arrowprops=dict(arrowstyle="->", color="k", lw=1.2, ls="--"))
ax.plot([], [], "k--", lw=1.2, label="g")
for vec, label, color in ((flat(by_value), "clipped by value (c = 1)", "tab:red"),
                          (flat(by_norm), "clipped by norm (c = 1)", "tab:blue")):
    ax.annotate("", xy=vec[:2], xytext=(0, 0), arrowprops=dict(arrowstyle="->", color=color, lw=2.5))
    ax.plot([], [], color=color, lw=2.5, label=label)
ax.set(xlim=(-0.2, 3.3), ylim=(-0.15, 1.25), aspect="equal", xlabel="$g_1$", ylabel="$g_2$",
       title="the gradient (first 2 of its 3 coordinates)")
ax.legend(fontsize=9, loc="upper left", ncol=3, handlelength=1.5, columnspacing=1.0)
plt.show()

# %% [markdown]
# ### When clipping acts on every step
#
# A classic demonstration: the 8-layer ReLU net of notebook 02 whose weights start 1.4× larger
# than He initialization, so activations and gradients grow layer by layer. With SGD +
# momentum at $\eta = 0.1$ it fails to learn; with `clip_norm=1.0` it trains. It is tempting
# to read that as "clipping rescued the run". Count first how often clipping acted, and
# compare with the unclipped run at a smaller rate (`ox.clip_every_step`, 5 epochs, three
# seeds).

# %%
every = ox.clip_every_step(SEEDS, clip=1.0, lr=0.1, small_lrs=(0.01, 0.03))
for key in ("clipped_share", "median_norm", "val_clipped", "val_plain", "val_lr0.01", "val_lr0.03"):
    print(f"{key:14s} {every.summary(key)}")
print(f"effective rate of the clipped run ≈ lr · c / median ‖g‖ = {0.1 * 1.0 / every['median_norm'].mean():.3f}")
smaller = np.maximum(every["val_lr0.01"], every["val_lr0.03"])   # unclipped, at its better small rate
print(cl.paired(smaller, every["val_clipped"], ("no clip, lr 0.01 or 0.03", "clip, lr 0.1")).summary())
assert every["clipped_share"].min() > 0.9                 # clipping acted on (nearly) every step
assert every["val_plain"].mean() < every["val_clipped"].mean()
assert smaller.mean() > every["val_clipped"].mean() - 0.03   # a smaller rate does the same job

# %% [markdown]
# Clipping acted on more than 90 % of the steps: the median gradient norm is about 3, three
# times $c$. A run clipped on every step is **normalized-gradient SGD**: each step has length
# $\eta c$, i.e. an effective rate of about $\eta c/\|g\| \approx 0.03$. The unclipped run at
# a smaller rate (the better of 0.01 and 0.03 on each seed) reaches about the same accuracy,
# within a few points and on some seeds higher. Here clipping is a smaller learning rate in
# disguise, not a rescue from rare spikes, and the real fix is the initialization (notebook
# 02) or BatchNorm (notebook 04).
#
# ### Clipping a rare spike
#
# What clipping is for: a healthy run that *occasionally* meets a huge gradient. The set-up: a
# well-initialized 4-layer MLP (He init, the centred digits), SGD + momentum at a good rate,
# $\eta = 0.1$, 5 epochs (85 steps). Three steps at random positions (drawn from the seed)
# train on an **outlier batch** instead: 64 images of pure noise (pixels of standard
# deviation 3) with random labels, a stand-in for a corrupted shard or a data-loading bug.
# The threshold is set the way the rule of thumb says: $c$ = twice the median gradient norm
# of a clean run of the same seed. Four runs per seed: clean, with the spikes, with the
# spikes and clipping, and with the spikes at a 3× smaller rate without clipping (the other
# obvious defence).

# %%
spikes = ox.spike_study(SEEDS, lr=0.1, low_lr=0.03)
ox.draw_spikes(spikes)
plt.show()

for name, label in (("clean", "clean"), ("spiky", "spikes"), ("clipped", "spikes + clipping"),
                    ("low_lr", "spikes, lr 0.03")):
    print(f"{label:18s} val accuracy {spikes.val_acc(name).round(3)}")
spike_ratio = [np.median(r["norm"][r["spike"]]) / np.median(r["norm"][~r["spike"]]) for r in spikes.runs["spiky"]]
print(f"outlier batch's gradient norm / median norm, per seed: {np.round(spike_ratio, 0)}")
print(f"clipped: {spikes.clipped_share(True).mean():.0%} of the spike steps, "
      f"{spikes.clipped_share(False).round(3)} of the ordinary steps (per seed); c = {spikes.clip.round(2)}")
assert np.all(spikes.clipped_share(True) == 1.0)       # every spike is clipped ...
assert spikes.clipped_share(False).max() < 0.2          # ... and only a few ordinary steps
assert np.all(spikes.val_acc("spiky") < spikes.val_acc("clean"))    # the spikes do damage, every seed
assert np.all(spikes.val_acc("clipped") > spikes.val_acc("spiky"))
assert spikes.val_acc("clipped").mean() > spikes.val_acc("spiky").mean() + 0.2   # the spikes' damage is undone
assert np.all(spikes.val_acc("clipped") > spikes.val_acc("clean") - 0.04)         # ... to the clean run's level
assert spikes.val_acc("low_lr").mean() < spikes.val_acc("clipped").mean()          # a lower rate is no substitute

# %% [markdown]
# An outlier batch's gradient is tens of times the usual norm (left, and the printed ratios).
# Without clipping, three such steps among 85 throw the weights far enough that the net ends
# below the clean run on every seed, mostly far below; the velocity of momentum carries each bad step on
# for about ten more. With clipping at twice the median norm, all spike steps and only a few
# percent of the ordinary ones are clipped, and the run ends at the clean run's accuracy. A 3×
# smaller rate without clipping is not a substitute: it learns slower *and* still takes the
# spikes, only 3× smaller.
#
# So clipping is a safety belt against rare spikes. Set $c$ from the norms of a healthy run
# (a bit above their typical value), **log how often it acts** (`cl.clip_grad_norm` returns
# the norm before clipping), and if it acts on most steps, it has become a learning-rate
# change: fix the rate or the initialization instead.
#
# ## 9. The optimizers on 2-D surfaces
#
# Four test surfaces show the characters of the optimizers. Each runs the six optimizers for
# 150 steps with one shared setting, $\eta = 0.05$, $\beta = 0.9$ (momentum and Adam's
# $\beta_1$), $\beta_2 = 0.99$ (RMSProp's $\rho$, Adam's $\beta_2$); each path is a
# `course_lib` optimizer stepping a `Parameter` of shape (2,). On the left of each row the
# paths, on the right the loss along them (log scale); `race.draw_surfaces` draws both. These
# runs are deterministic: no seed involved.

# %%
fig, runs = race.draw_surfaces(["ravine", "rotated"])
plt.show()
f_ravine, f_rotated = race.final_losses("ravine", runs["ravine"]), race.final_losses("rotated", runs["rotated"])
print("ravine, final f:           ", {k: f"{v:.1e}" for k, v in f_ravine.items()})
print("rotated ravine, final f:   ", {k: f"{v:.1e}" for k, v in f_rotated.items()})
assert max(f_ravine["RMSProp"], f_ravine["Adam"], f_ravine["momentum"]) < 1e-3 * f_ravine["SGD"]
for name in ("SGD", "momentum", "Nesterov"):          # rotation-invariant: the very same losses
    assert np.allclose(race.losses_along("rotated", runs["rotated"])[name],
                       race.losses_along("ravine", runs["ravine"])[name], rtol=1e-9, atol=1e-300)
assert f_rotated["Adam"] > 1e4 * f_ravine["Adam"] and f_rotated["RMSProp"] > 1e10 * f_ravine["RMSProp"]
assert min(f_rotated["Adam"], f_rotated["RMSProp"]) > 1e4 * f_rotated["momentum"]
assert f_rotated["Adam"] > f_rotated["SGD"]            # rotated, Adam ends behind plain SGD

# %% [markdown]
# * **Ravine, axis-aligned** (top): RMSProp and Adam rescale each coordinate, small steps
#   across the steep $w_2$, large ones along the shallow $w_1$, and head almost straight for
#   the minimum; momentum swings; SGD crawls; AdaGrad's ever-shrinking rate makes it the
#   slowest of all.
# * **The same ravine rotated by 45°** (bottom): the same curvatures, but the valley now runs
#   along the diagonal. SGD, momentum and Nesterov produce *exactly* the same losses as before:
#   their update commutes with a rotation. RMSProp and Adam lose their advantage completely:
#   each coordinate now sees a mixture of the steep and the shallow direction, so both get the
#   same scale, and Adam ends six orders of magnitude behind momentum and even behind plain
#   SGD. **Per-coordinate scaling is a diagonal preconditioner: it helps when the curvature
#   is aligned with the coordinates**, and not otherwise. One of the most important facts
#   about Adam-type methods: how much they gain on a network depends on how nearly
#   axis-aligned its important directions are, not on the condition number alone.

# %%
fig, runs2 = race.draw_surfaces(["rosenbrock", "saddle"])
plt.show()
runs.update(runs2)
lengths = race.step_lengths(runs["rosenbrock"])
print("Rosenbrock, mean step length / η:", {k: round(float(v.mean() / 0.05), 3) for k, v in lengths.items()})
moments = race.adam_moments("rosenbrock", lr=0.05, beta=0.9, beta2=0.99)
for t in (10, 100):
    print(f"Adam at step {t:3d}: |g| = {moments['g'][t - 1].round(3)}, |m̂| = {moments['m_hat'][t - 1].round(3)}, "
          f"√v̂ = {moments['sqrt_v_hat'][t - 1].round(3)}, step/η = m̂/√v̂ = {moments['ratio'][t - 1].round(3)}")
short_memory = race.final_losses("rosenbrock", race.race_paths("rosenbrock", 0.05, 0.9, 0.9))
f_rosen = race.final_losses("rosenbrock", runs["rosenbrock"])
print(f"Rosenbrock, Adam's final f: β2 = 0.99 → {f_rosen['Adam']:.1e}, β2 = 0.9 → {short_memory['Adam']:.1e}")
dist = {k: float(np.linalg.norm(p[-1] - [1, 1])) for k, p in runs["rosenbrock"].items()}
escape = {k: int(np.argmax(np.abs(p[:, 1]) > 0.5)) for k, p in runs["saddle"].items()}
print("Rosenbrock, distance to (1, 1):", {k: round(v, 2) for k, v in dist.items()})
print("saddle, steps to |y| > 0.5:    ", escape)
assert lengths["Adam"].mean() < 0.05 / 3 and lengths["RMSProp"].mean() < 0.05 / 2   # steps ≪ η
assert np.all(moments["sqrt_v_hat"][99] > 5 * moments["g"][99])    # √v̂ remembers larger gradients
assert short_memory["Adam"] < 1e-2 * f_rosen["Adam"]               # a shorter memory fixes it
assert dist["momentum"] < 0.5 * min(dist["SGD"], dist["Adam"], dist["RMSProp"])
assert escape["RMSProp"] == 1 and 8 <= escape["Adam"] <= 14        # 10η at once; ≈ η per step
assert escape["Adam"] < escape["SGD"] / 5 and escape["momentum"] < escape["SGD"] / 2

# %% [markdown]
# * **Rosenbrock's valley**: a curved, flat-bottomed banana. The momentum methods do best. The
#   adaptive methods are *not* fast here, and not because their steps are "about $\eta$ long":
#   they are far shorter, on average about a third of $\eta$ (RMSProp) and a sixth (Adam). The
#   printed moments show why.
#   The step is $\eta\,\hat m/\sqrt{\hat v}$, which acts like a signal-to-noise ratio (Kingma &
#   Ba, §2.1): it is close to 1 only when recent gradients agree in sign and size. During the
#   descent into the valley (step 10) the gradient keeps changing direction, so $\hat m$
#   averages part of it away while $\sqrt{\hat v}$ does not. On the valley floor (step 100)
#   the gradients are about a hundred times smaller than the first ones, but $\sqrt{\hat v}$, an
#   average over about $1/(1-\beta_2) = 100$ steps, still remembers the large early ones, so
#   $\hat m/\sqrt{\hat v} \ll 1$. With $\beta_2 = 0.9$ (a memory of about 10 steps) the same
#   Adam run ends more than 100× lower. And the valley is curved, not axis-aligned:
#   per-coordinate scaling has no diagonal structure to exploit.
# * **Saddle** ($x^2 + (y^2-1)^2/4$, saddle point at the origin, minima at $(0, \pm1)$),
#   starting almost exactly on the ridge ($y_0 = 0.01$): the gradient in the escape direction
#   is tiny, so SGD lingers near the saddle; momentum builds speed. RMSProp escapes in a
#   **single** step: that is its uncorrected first step from section 4, $\eta/\sqrt{1-\rho} =
#   10\eta = 0.5$ in every coordinate whatever the gradient's size, which throws $y$ from 0.01
#   to 0.51. Adam, bias-corrected, takes steps of about $\eta$ per coordinate (a normalized
#   gradient), so it needs about $0.5/\eta = 10$ steps; AdaGrad's shrinking steps need more.
#
# ## 10. Your turn: the optimizer race
#
# Move the sliders; each move re-runs all six optimizers (150 steps each) and redraws.
#
# * **Learning rate** (log scale): find the rate where SGD starts to diverge on the ravine
#   (≈ 0.1, because the steep curvature is 20), and note that Nesterov goes first (≈ 0.068)
#   and momentum last (≈ 0.19). Do the thresholds change on the rotated ravine? (Predict from
#   the stability conditions before you look.) Adam and RMSProp never diverge here, their
#   step is at most about $\eta$ long, but a large $\eta$ makes them rattle around the
#   minimum.
# * **β**: set it to 0 and momentum/Nesterov become SGD. Push it to 0.99 and watch
#   momentum overshoot in long swings (its rate is $\sqrt\beta$: section 2).
# * **β2**: small values make RMSProp and Adam follow the latest gradients closely (jumpier),
#   large values make their step sizes smooth but slow to adapt. On Rosenbrock, compare Adam
#   at β2 = 0.9 and 0.999.
# * **Surface**: switch between the ravine and the rotated ravine at the default setting and
#   watch only Adam and RMSProp. No optimizer wins everywhere.

# %%
display(race.optimizer_race())

# %% [markdown]
# ## 11. On real data: the same MLP with each optimizer
#
# A fair comparison gives every optimizer its own good learning rate: rates are not
# comparable across optimizers (SGD's multiplies the gradient, Adam's is a step length). We
# train the digits MLP (centred inputs) for 10 epochs (batch 64) with each optimizer over the
# same log grid of rates, $10^{-3}$ to $10$ in steps of $\sqrt{10}$, on the three seeds (162
# runs), and compare each optimizer at its best rate (the lowest mean training loss over the
# seeds; a rate counts only if no seed exploded). `ox.optimizer_scan` runs it; the left panel
# plots each curve relative to its own best (loss / best loss against rate / best rate), so
# that the widths of the valleys can be compared directly.

# %%
scan = ox.optimizer_scan(SEEDS)
ox.draw_scan(scan)
plt.show()

print(f"{'':10s} {'best lr':>8s} {'first to explode':>16s} {'train loss at best (per seed)':>30s}  val accuracy")
for name in scan.final:
    b = scan.best(name)
    first = scan.first_exploding(name)
    print(f"{name:10s} {scan.grid[b]:8.3g} {scan.grid[first] if first < len(scan.grid) else float('nan'):16.3g} "
          f"{str(scan.final[name][:, b].round(4)):>30s}  {scan.val_acc[name][:, b].round(3)}")
loss_at_best = {name: scan.final[name][:, scan.best(name)] for name in scan.final}
widths = {name: scan.width(name) for name in scan.final}
print("rates within 3× of the best loss:", widths)
val_best = {name: scan.val_acc[name][:, scan.best(name)].mean() for name in scan.final}
adam_default = scan.final["Adam"][:, 0] / loss_at_best["Adam"]
print(f"Adam at its textbook default lr {scan.grid[0]:g}: final loss / its best = {adam_default.round(0)}")
assert all(0 < scan.best(name) < len(scan.grid) - 1 for name in scan.final)   # no best rate at the grid's edge
assert scan.best("SGD") >= scan.first_exploding("SGD") - 2     # SGD's best: one or two grid steps below the edge
assert np.all(loss_at_best["Adam"] < 0.5 * loss_at_best["SGD"])  # Adam fits fastest, on every seed
assert max(widths.values()) <= 2                               # no optimizer has a much wider valley
assert max(val_best.values()) - min(val_best.values()) < 0.03  # validation accuracies are close
assert adam_default.min() > 30                                 # Adam's default 1e-3 is far from its best here

# %% [markdown]
# Read the left panel first. Every optimizer's curve falls to its best rate and then rises
# steeply or explodes within one or two steps of $\sqrt{10}$. For SGD the best rate sits near
# the edge of stability: usually it is the *last* rate before the first one that diverges,
# and on some course seeds no rate of the grid diverges and the best is one step below the
# grid's top (the rule notebook 08 uses to pick a rate: just below the edge). The valleys are about
# equally narrow: no optimizer has more than two rates of the grid within 3× of its best loss.
# (A popular claim says that Adam's default rate "is rarely terrible"; at the textbook
# $10^{-3}$, 30 times below its best here, its 10-epoch loss is hundreds of times its best, as
# printed.) The rates themselves sit orders of magnitude apart: SGD's near 3, momentum's 3 to
# 10 times lower (momentum lengthens consistent steps by up to $1/(1-\beta) = 10$), Adam's and
# RMSProp's near 0.01–0.03.
#
# At their own best rates the differences are modest on this small, well-conditioned problem
# (centred inputs, notebook 00): Adam's training loss is several times below SGD's on every
# seed, the others lie in the same range, within a factor of a few, and all of them fit the
# training set within 10 epochs. The validation accuracies are much closer together than the
# training losses (within a point or two, comparable to the spread between seeds): a faster
# optimizer is not automatically a better-generalizing model (notebook 07).
#
# ## 12. Averaging the weights instead of keeping the last iterate
#
# With a constant rate, SGD does not settle at a minimum: it bounces around one in the noise
# ball of section 1. Instead of lowering the rate (section 7) we can **average the iterates**
# (Polyak & Juditsky, 1992): the average of points scattered around a minimum lies closer to
# its centre than a typical point. Two common forms, both in `cl.AveragedModel` (as
# `torch.optim.swa_utils.AveragedModel`), a `cl.fit` callback that keeps its own copy of the
# model:
#
# * an **exponential moving average** (EMA) of the weights, $\bar\theta \leftarrow d\,\bar\theta
#   + (1-d)\,\theta$ after every step (here $d = 0.98$, a memory of about 50 steps);
# * an **equal-weight average** of the iterates from some point on (SWA, Izmailov et al.,
#   2018: here every step of the second half of training).
#
# The test: SGD + momentum 0.9 on the digits MLP for 10 epochs at a constant rate of 1.0, about
# three times its best rate from section 11 (a "slightly too high" rate that still trains), and
# at its best rate 0.3 for comparison, on the three seeds. We compare the validation loss of
# the last iterate, of the best epoch (what early stopping would keep), of the EMA and of the
# SWA average, each paired with the last iterate of the same run. (With BatchNorm, call
# `cl.update_bn` on the averaged model first; this MLP has none.)

# %%
avg = ox.averaging_study(SEEDS, lrs=(1.0, 0.3), decay=0.98)
ox.draw_averaging(avg)
plt.show()

for lr, runs in avg.items():
    print(f"lr {lr:g}: val loss last {runs.summary('val_loss_last')}, EMA {runs.summary('val_loss_ema')}, "
          f"SWA {runs.summary('val_loss_swa')}")
    print(f"       val accuracy last {runs.summary('val_acc_last')}, EMA {runs.summary('val_acc_ema')}")
    change = 100 * (runs["val_loss_ema"] / runs["val_loss_last"] - 1)
    print(f"       EMA vs last, val loss change per seed: {change.round(1)} % "
          f"(EMA lower on {int((change < 0).sum())}/{len(change)} seeds)")
gain_hot = (avg[1.0]["val_loss_last"] - avg[1.0]["val_loss_ema"]).mean()
gain_tuned = (avg[0.3]["val_loss_last"] - avg[0.3]["val_loss_ema"]).mean()
assert gain_hot > 0                                     # at a too-high rate the EMA beats the last iterate
assert (avg[1.0]["val_loss_last"] - avg[1.0]["val_loss_swa"]).mean() > -0.005  # SWA: better or level
assert gain_hot > 2 * abs(gain_tuned)                   # the gain is a property of the noisy iterate

# %% [markdown]
# At the too-high rate the last iterate is noisy: its validation loss varies a lot from seed to
# seed, and the EMA of the weights is lower on average (by the percentages printed), the SWA
# average usually too (for COURSE_SEED 17 it only ties); the validation accuracy moves by up to a few points, in either direction. Part
# of that is what early stopping would also recover (the best-epoch points). Whether the
# averaged weights also reach the validation loss of the well-tuned run at 0.3 depends on the
# seeds (for COURSE_SEED 0 they do not, for 11 they do): averaging repairs some of what a
# too-high rate costs, and is no guarantee of more. At the tuned rate the iterate is already close to the
# centre, and averaging changes the validation loss by a few percent, in either direction
# depending on the seed and the split. Honest summary: averaging is cheap insurance for runs
# that end at a constant, high rate (and in large-scale training an EMA of the weights is
# standard for that reason); it is not a substitute for a tuned rate or schedule.
#
# ## Check your understanding
#
# 1. You double the batch size from 64 to 128. By what factor does the variance of the
#    gradient estimate change, and by what factor the arithmetic per step? Why might the
#    wall-clock time per step barely change, and what should you do with the learning rate?
#
# <details><summary>Answer</summary>
#
# The variance halves (slightly more than that with the finite-population factor
# $(N-B)/(N-1)$); the arithmetic doubles. On vectorized hardware a larger batch fills idle
# arithmetic units, so the time per step grows much less than 2× until the machine is
# saturated. That is what we measured in section 1: single examples cost far more per example.
# Re-tune the rate: as section 1 showed, a larger batch can take a larger rate (about 2× by the
# linear scaling rule, as long as that stays below the stability limit).
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
# 3. A quadratic has curvatures between 0.01 and 1. What are gradient descent's best rate and
#    the momentum optimum $(\eta^*, \beta^*)$, and how many steps per factor of 10 does each
#    need?
#
# <details><summary>Answer</summary>
#
# $\kappa = 100$. GD: $\eta = 2/1.01 \approx 1.98$, rate $99/101 \approx 0.980$, about 115
# steps per factor of 10. Momentum: $\eta^* = 4/(1 + 0.1)^2 \approx 3.31$,
# $\beta^* = (9/11)^2 \approx 0.669$, rate $9/11 \approx 0.818$, about 11.5 steps per factor
# of 10. The numbers are those of the ravine scaled by 1/20: rates depend only on $\kappa$
# (and on $\eta\lambda_{\max}$).
# </details>
#
# 4. With $\beta_1 = 0.9$, $\beta_2 = 0.999$, Adam without bias correction: is the first step
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
# 5. Adam beats momentum by orders of magnitude on the axis-aligned ravine and loses by six
#    orders of magnitude on the same ravine rotated by 45°. Why does the rotation not change
#    SGD or momentum at all?
#
# <details><summary>Answer</summary>
#
# Their update is linear in the gradient with a scalar rate: rotating the coordinates rotates
# the gradient, the velocity and the step by the same rotation, so the rotated run is the
# original run rotated, with the same losses. Adam and RMSProp divide each coordinate by its
# own $\sqrt{\hat v}$: a diagonal rescaling, which does not commute with a rotation. Aligned
# with the axes, the diagonal matches the Hessian's eigen-directions (a good preconditioner);
# rotated, both coordinates see the steep curvature and get the same small scale.
# </details>
#
# 6. Why does L2 regularization with Adam decay a weight with large gradients *less* than a
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
# 7. A run clips by norm with $c = 1$ and `clip_grad_norm` reports norms between 3 and 6 on
#    almost every step. Is clipping protecting the run from spikes? What would you change?
#
# <details><summary>Answer</summary>
#
# No: it acts on every step, so every step has length $\eta c$; the run is normalized-gradient
# SGD with an effective rate of about $\eta c/\|g\| \approx \eta/4$. Either lower the rate
# (and raise $c$ to a bit above the typical norm, so that it only catches spikes), or fix the
# cause of the large gradients (initialization, normalization). Section 8 measured exactly
# this case.
# </details>
#
# ## Summary
#
# * **Batch size** trades noise for cost: the gradient variance falls like $1/B$, the
#   arithmetic grows like $B$. Per step, large batches learn fastest; per example, a mini-batch
#   at its own, larger rate keeps up with single examples (the linear scaling rule), up to the
#   stability limit. Tune the batch size and the rate together.
# * **Momentum** ($v \leftarrow \beta v + g$, $\theta \leftarrow \theta - \eta v$) sums
#   gradients: consistent directions are amplified up to $1/(1-\beta)$, oscillating ones
#   damped to $1/(1+\beta)$. The form with $\eta$ inside the velocity is the same only while
#   $\eta$ is constant.
# * **On a quadratic**, GD converges at $(\kappa-1)/(\kappa+1)$ per step at best, momentum at
#   $(\sqrt\kappa-1)/(\sqrt\kappa+1)$ with $\eta^* =
#   4/(\sqrt{\lambda_{\max}}+\sqrt{\lambda_{\min}})^2$ and $\beta^* =
#   ((\sqrt\kappa-1)/(\sqrt\kappa+1))^2$: a number of steps proportional to $\sqrt\kappa$
#   instead of $\kappa$. In the oscillating regime the rate is $\sqrt\beta$.
# * **Nesterov** evaluates the gradient at the look-ahead point; PyTorch stores that point as
#   the parameters. Slightly faster, slightly narrower stability range.
# * **AdaGrad** divides by the root of the accumulated squared gradients: per-parameter
#   rates that decay forever. **RMSProp** uses a moving average instead ($\rho$ = PyTorch's
#   `alpha`).
# * **Adam** = momentum + RMSProp + bias correction ($t$ from 1 at the first step; $v$ uses
#   $\beta_2$). Without the correction, early steps are several times *too large*. Its steps
#   are at most about $\eta$, and much shorter when the gradient's sign or size is
#   inconsistent with its memory (Rosenbrock).
# * Per-coordinate scaling is a **diagonal preconditioner**: a large gain when the curvature is
#   aligned with the coordinates, none (or a loss) when it is not (the rotated ravine).
# * **AdamW** decouples weight decay from the adaptive step; for plain SGD, L2 and decoupled
#   decay are identical.
# * **Schedules** (step, exponential, 1/t, cosine with warm-up) lower the rate to get below
#   the noise floor; **warm-up** protects the first steps of a high rate, not the rest.
#   **Clipping by global norm** caps the step length without changing its direction: a safety
#   belt for rare spikes; when it acts on every step it is a smaller learning rate.
# * Compare optimizers each at its own best learning rate, on several seeds; SGD's best rate
#   is at the edge of stability, and no optimizer wins on every surface.
# * **Averaging the weights** (EMA, SWA) smooths a noisy last iterate at a constant, high rate;
#   at a tuned rate it changes little.
#
# **Next:** [07 Regularization](07_regularization.ipynb). **Practice:** the exercises for
# this notebook are in [exercises/06_optimizers.ipynb](../exercises/06_optimizers.ipynb),
# including one on the optimal momentum for a given condition number (predict, then measure).
