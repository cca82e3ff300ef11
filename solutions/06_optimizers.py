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
# # Exercises 06 · Optimizers
#
# **What you will practise**
#
# 1. SGD with momentum and Nesterov momentum exactly as PyTorch writes them;
# 2. RMSProp;
# 3. Adam, with the bias correction and the step counter right;
# 4. predicting how long Adam's steps are for gradients of different sizes and signs;
# 5. AdamW's decoupled weight decay, as opposed to L2 in the gradient;
# 6. clipping gradients by their global norm, and what per-tensor clipping would change;
# 7. the optimal momentum for a given condition number: predict the convergence rate, then
#    measure it.
#
# Every update rule is a **pure function**: it takes the weights, the gradient and the
# optimizer state, and returns the new weights and the new state, without modifying its
# arguments. The checks run your function over several steps and compare the whole
# trajectory with `course_lib`'s optimizers, which reproduce `torch.optim` step for step.
#
# **Prerequisites.** The lecture [06 · Optimizers](../notebooks/06_optimizers.ipynb), sections 2
# (momentum, its two notations and the quadratic analysis), 3 (Nesterov), 4 (RMSProp), 5 (Adam
# and its two classic errors), 6 (weight decay) and 8 (clipping).
#
# **How the checks work.** Each exercise cell contains the lines `# YOUR CODE HERE` and
# `raise NotImplementedError()`: replace them with your code, run the cell, then run the check
# cell below it. A check calls your function on fixed inputs and prints one line with a ✓, or
# stops with a hint about the most likely mistake and the exact call it made, so that you can
# repeat the call in a new cell. If your own code raises an error, you see that error
# unchanged. A Markdown cell saying "YOUR ANSWER HERE" asks for a short written answer; no
# check reads it.

# %%
import numpy as np
import matplotlib.pyplot as plt
import course_lib as cl
from course_lib import checks

_ = cl.set_seed()          # from COURSE_SEED (default 0), like every random draw below


def ravine_grad(w):
    """Gradient of the ravine f(w) = 0.1 w1**2 + 10 w2**2 (curvatures 0.2 and 20)."""
    return np.array([0.2 * w[0], 20.0 * w[1]])


def ravine_f(w1, w2):
    return 0.1 * w1 ** 2 + 10.0 * w2 ** 2


W_START = np.array([-4.0, 0.6])

# %% [markdown]
# ## Exercise 1 · Momentum, PyTorch's way
#
# **(a)** Write `sgd_momentum_step(w, grad, v, lr, momentum)` returning `(w, v)`:
#
# $$v \leftarrow \mu\, v + g, \qquad w \leftarrow w - \eta\, v ,$$
#
# with $\mu$ = `momentum`, $\eta$ = `lr`, $g$ = `grad`, and `v` starting at zeros. The learning
# rate stays **outside** the velocity. The other notation, $m \leftarrow \mu m + \eta g$,
# $w \leftarrow w - m$, gives the same steps only while `lr` is constant, and the check lowers
# `lr` halfway through. Return new arrays; do not modify `w` or `v` in place.

# %% nbgrader={"grade": false, "grade_id": "sgd_momentum", "locked": false, "schema_version": 3, "solution": true}
def sgd_momentum_step(w, grad, v, lr, momentum):
    """One step of SGD with momentum (torch.optim.SGD). Returns (w, v), shapes of w."""
    ### BEGIN SOLUTION
    v = momentum * v + grad
    return w - lr * v, v
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_sgd_momentum", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_sgd_momentum(sgd_momentum_step)

# %% [markdown]
# **(b)** Nesterov momentum in PyTorch's form, where the stored weights are the look-ahead
# points (lecture, section 3). Write `nesterov_step(w, grad, v, lr, momentum)` returning `(w, v)`:
#
# $$v \leftarrow \mu\, v + g, \qquad w \leftarrow w - \eta\,(g + \mu\, v),$$
#
# with the **updated** $v$ in the step.

# %% nbgrader={"grade": false, "grade_id": "nesterov", "locked": false, "schema_version": 3, "solution": true}
def nesterov_step(w, grad, v, lr, momentum):
    """One step of SGD with Nesterov momentum (torch.optim.SGD, nesterov=True). Returns (w, v)."""
    ### BEGIN SOLUTION
    v = momentum * v + grad
    return w - lr * (grad + momentum * v), v
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_nesterov", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_nesterov(nesterov_step)

# %% [markdown]
# Both against `cl.SGD` on the ravine, 100 steps with a learning rate that drops tenfold at
# step 50:

# %%
lrs = [0.05] * 50 + [0.005] * 50
for name, step, nesterov in (("momentum", sgd_momentum_step, False), ("Nesterov", nesterov_step, True)):
    w, v = W_START.copy(), np.zeros(2)
    p = cl.Parameter(W_START.copy())
    opt = cl.SGD([p], lr=lrs[0], momentum=0.9, nesterov=nesterov)
    gap = 0.0
    for lr in lrs:
        w, v = step(w, ravine_grad(w), v, lr, 0.9)
        opt.lr = lr
        p.grad[...] = ravine_grad(p.data)
        opt.step()
        gap = max(gap, np.abs(w - p.data).max())
    print(f"{name:9s} yours vs cl.SGD over 100 steps: max |difference| {gap:.1e}")

# %% [markdown]
# ## Exercise 2 · RMSProp
#
# Write `rmsprop_step(w, grad, s, lr, rho, eps)` returning `(w, s)`, with `s` starting at
# zeros (PyTorch calls `rho` `alpha`):
#
# $$s \leftarrow \rho\, s + (1-\rho)\, g^2, \qquad w \leftarrow w - \eta\,\frac{g}{\sqrt{s} + \epsilon}$$
#
# element-wise. Two details that the check tests: the new $g^2$ gets the weight $1-\rho$
# (the **old** $s$ keeps $\rho$), and $\epsilon$ is added **after** the square root.

# %% nbgrader={"grade": false, "grade_id": "rmsprop", "locked": false, "schema_version": 3, "solution": true}
def rmsprop_step(w, grad, s, lr, rho, eps):
    """One RMSProp step (torch.optim.RMSprop with alpha=rho). Returns (w, s), shapes of w."""
    ### BEGIN SOLUTION
    s = rho * s + (1 - rho) * grad ** 2
    return w - lr * grad / (np.sqrt(s) + eps), s
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_rmsprop", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_rmsprop(rmsprop_step)

# %% [markdown]
# ## Exercise 3 · Adam
#
# Write `adam_step(w, grad, m, v, t, lr, beta1, beta2, eps)` returning `(w, m, v)`:
#
# $$\begin{aligned}
# m &\leftarrow \beta_1 m + (1-\beta_1)\, g, & v &\leftarrow \beta_2 v + (1-\beta_2)\, g^2,\\
# \hat m &= m/(1-\beta_1^t), & \hat v &= v/(1-\beta_2^t), \qquad
# w \leftarrow w - \eta\,\hat m/(\sqrt{\hat v} + \epsilon).
# \end{aligned}$$
#
# **Which $t$?** `t` is the number of the step being taken: **1 at the first call**, 2 at the
# second, and so on. The caller keeps the counter and increments it *before* each call, as
# PyTorch does, so use `t` as it is:
#
# ```python
# m, v = np.zeros_like(w), np.zeros_like(w)
# for t in range(1, steps + 1):
#     w, m, v = adam_step(w, grad_at(w), m, v, t, lr, beta1, beta2, eps)
# ```
#
# Return the **raw** moments `m` and `v` as the new state (not $\hat m$, $\hat v$), and mind the
# two errors of copied Adam code from the lecture: $v$ uses $\beta_2$, and the step counter.

# %% nbgrader={"grade": false, "grade_id": "adam", "locked": false, "schema_version": 3, "solution": true}
def adam_step(w, grad, m, v, t, lr, beta1, beta2, eps):
    """One Adam step (torch.optim.Adam); t = 1 at the first step. Returns (w, m, v)."""
    ### BEGIN SOLUTION
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad ** 2
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_adam", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_adam(adam_step)

# %% [markdown]
# Your four update rules on the ravine, 150 steps each with $\eta = 0.05$ ($\mu$, $\beta_1$ = 0.9;
# $\rho$, $\beta_2$ = 0.99), next to plain SGD:

# %%
def run_path(step, state_count, lr=0.05, steps=150, **hyper):
    w, state, path = W_START.copy(), [np.zeros(2) for _ in range(state_count)], [W_START.copy()]
    for t in range(1, steps + 1):
        extra = (t,) if step is adam_step else ()
        w, *state = step(w, ravine_grad(w), *state, *extra, lr, **hyper)
        path.append(w)
    return np.array(path)


paths = {"SGD": run_path(lambda w, g, lr: (w - lr * g,), 0),
         "momentum": run_path(sgd_momentum_step, 1, momentum=0.9),
         "Nesterov": run_path(nesterov_step, 1, momentum=0.9),
         "RMSProp": run_path(rmsprop_step, 1, rho=0.99, eps=1e-8),
         "Adam": run_path(adam_step, 2, beta1=0.9, beta2=0.99, eps=1e-8)}

fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
g1, g2 = np.meshgrid(np.linspace(-4.5, 1.0, 200), np.linspace(-0.8, 0.8, 200))
axes[0].contour(g1, g2, ravine_f(g1, g2), levels=np.geomspace(0.01, 10, 12), colors="0.8", linewidths=0.8)
for name, path in paths.items():
    axes[0].plot(path[:, 0], path[:, 1], ".-", ms=2, lw=1, label=name)
    axes[1].semilogy(ravine_f(path[:, 0], path[:, 1]), label=name)
axes[0].set(xlabel="$w_1$", ylabel="$w_2$", title="your optimizers on the ravine, lr = 0.05")
axes[1].set(xlabel="step", ylabel="f(w) (log)", title="loss along the path")
axes[0].legend(fontsize=8, loc="lower left")
fig.tight_layout()
plt.show()
print({name: f"{ravine_f(*path[-1]):.1e}" for name, path in paths.items()}, "(f after 150 steps)")

# %% [markdown]
# ## Exercise 4 · Predict, then measure: how long is an Adam step?
#
# Adam with $\eta = 0.01$, $\beta_1 = 0.9$, $\beta_2 = 0.999$, $\epsilon = 10^{-8}$ is run for
# 2000 steps on a single weight, three times, with the gradient sequence
#
# * constant $g = 0.5$,
# * constant $g = 500$,
# * alternating $+0.5, -0.5, +0.5, \dots$
#
# **Before measuring**, predict the length $|\Delta w|$ of the **2000th** step in each case and
# assign it to `step_constant`, `step_scaled`, `step_alternating`. After 2000 steps the bias
# corrections have done their job: $\hat v$ is the average of $g^2$, and $\hat m$ the
# exponentially weighted average of the gradients. For the alternating case, write $m$ as
# $(1-\beta_1)$ times a geometric series with alternating signs.

# %% nbgrader={"grade": false, "grade_id": "adam_step_prediction", "locked": false, "schema_version": 3, "solution": true}
### BEGIN SOLUTION
lr, beta1 = 0.01, 0.9
step_constant = lr                   # m_hat = g, sqrt(v_hat) = |g|: a step of lr
step_scaled = lr                     # the same: both m_hat and sqrt(v_hat) scale with g
# m = (1 - beta1)(g - beta1 g + beta1^2 g - ...) = (1 - beta1) g / (1 + beta1); sqrt(v_hat) = |g|
step_alternating = lr * (1 - beta1) / (1 + beta1)
### END SOLUTION

# %% [markdown]
# The measurement, with your `adam_step`:

# %%
measured = {}
for name, grad_at in (("constant", lambda k: 0.5), ("scaled", lambda k: 500.0),
                      ("alternating", lambda k: 0.5 * (-1) ** k)):
    w, m, v = np.zeros(1), np.zeros(1), np.zeros(1)
    for t in range(1, 2001):
        w_before = w
        w, m, v = adam_step(w, np.array([grad_at(t - 1)]), m, v, t, 0.01, 0.9, 0.999, 1e-8)
    measured[name] = abs(w - w_before)[0]
for name, pred in (("constant", step_constant), ("scaled", step_scaled), ("alternating", step_alternating)):
    print(f"{name:12s} predicted {float(pred):.6f}, measured {measured[name]:.6f}")

# %% nbgrader={"grade": true, "grade_id": "check_adam_step_prediction", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_adam_step_prediction(step_constant, step_scaled, step_alternating)

# %% [markdown]
# Adam's learning rate is a step **length**: a gradient a thousand times larger gives the same
# step, and a gradient that keeps flipping its sign (a weight that oscillates) gets a step
# almost twenty times shorter, because $m$ averages the signs away while $v$ does not.
#
# ## Exercise 5 · AdamW: decoupled weight decay
#
# Write `adamw_step(w, grad, m, v, t, lr, beta1, beta2, eps, weight_decay)` returning `(w, m, v)`
# as `torch.optim.AdamW` computes it: first shrink the current weights,
#
# $$w \leftarrow w - \eta\,\lambda\, w \qquad (\lambda = \texttt{weight\_decay}),$$
#
# then take the Adam step of exercise 3 with the **raw** gradient (you may call your
# `adam_step`). The tempting alternative, adding $\lambda w$ to the gradient, is L2
# regularization (Adam's own `weight_decay`): its decay is divided by $\sqrt{\hat v}$ like the
# rest of the gradient, so weights with large gradients barely decay.

# %% nbgrader={"grade": false, "grade_id": "adamw", "locked": false, "schema_version": 3, "solution": true}
def adamw_step(w, grad, m, v, t, lr, beta1, beta2, eps, weight_decay):
    """One AdamW step (torch.optim.AdamW); t = 1 at the first step. Returns (w, m, v)."""
    ### BEGIN SOLUTION
    w = w - lr * weight_decay * w
    return adam_step(w, grad, m, v, t, lr, beta1, beta2, eps)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_adamw", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_adamw(adamw_step)

# %% [markdown]
# ## Exercise 6 · Clipping by global norm
#
# Write `clip_grad_norm(grads, max_norm)` for a list `grads` of gradient arrays (one per
# parameter, any shapes). Compute **one** global norm over all of them together,
#
# $$\|g\| = \sqrt{\textstyle\sum_{\text{arrays}} \sum_{\text{entries}} g^2},$$
#
# and if $\|g\| >$ `max_norm`, scale **every** array by the same factor `max_norm / ‖g‖`;
# otherwise leave them unchanged. Return `(clipped, total_norm)`: a list of new arrays (do not
# modify the inputs in place) and the norm **before** clipping, as
# `torch.nn.utils.clip_grad_norm_` returns it (it is what you log to see how often clipping
# acts).

# %% nbgrader={"grade": false, "grade_id": "clip_grad_norm", "locked": false, "schema_version": 3, "solution": true}
def clip_grad_norm(grads, max_norm):
    """Scale all arrays together so that their global L2 norm is at most max_norm."""
    ### BEGIN SOLUTION
    total = float(np.sqrt(sum(np.sum(g ** 2) for g in grads)))
    factor = max_norm / total if total > max_norm else 1.0
    return [g * factor for g in grads], total
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_clip_grad_norm", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_clip_grad_norm(clip_grad_norm)

# %% [markdown]
# A step in which one layer's gradient has exploded: your global clipping next to clipping
# each array separately to the same `max_norm = 1`.

# %%
spike = [np.full((4, 4), 12.5),                     # an exploded weight gradient, norm 50
         np.array([[0.3, -0.2], [0.1, 0.25]]),       # a small weight gradient
         np.array([0.1, -0.15])]                     # a bias gradient


def flat(arrays):
    return np.concatenate([a.ravel() for a in arrays])


def per_tensor(grads, max_norm):
    return [g * min(1.0, max_norm / np.linalg.norm(g)) for g in grads]


g0 = flat(spike)
for name, clipped in (("global norm", clip_grad_norm(spike, 1.0)[0]), ("per tensor", per_tensor(spike, 1.0))):
    c = flat(clipped)
    print(f"{name:12s} total length {np.linalg.norm(c):.3f}, cosine with the gradient "
          f"{g0 @ c / (np.linalg.norm(g0) * np.linalg.norm(c)):.4f}, "
          f"norms per array {[round(float(np.linalg.norm(a)), 4) for a in clipped]}")

# %% [markdown]
# **Question.** (1) Which of the two keeps the direction of the step, and where do you see it
# in the numbers? (2) With $k$ parameter arrays, how long can the per-tensor clipped step be at
# most? (3) In this spike step, what happens to the updates of the two small arrays under each
# scheme, and why is the global version the safer default?

# %% [markdown] nbgrader={"grade": true, "grade_id": "clipping_answer", "locked": false, "points": 1, "schema_version": 3, "solution": true}
# ### BEGIN SOLUTION
# (1) Global clipping: it multiplies every array by the same factor, so the clipped vector is
# a positive multiple of the gradient — cosine exactly 1 and a total length of max_norm.
# Per-tensor clipping shrinks only the exploded array and leaves the others alone, so the
# relative sizes change and the direction turns (cosine below 1).
# (2) Each of the k arrays can keep a norm up to max_norm, so the total can reach
# sqrt(k) · max_norm (here 1.11 instead of 1, with k = 3; with hundreds of arrays much more).
# (3) Under global clipping the small arrays are scaled by the same tiny factor as the spike
# (1/50 here), so this step barely moves them; per-tensor clipping lets them take their full
# step while only the exploded layer is capped. The global version is the safer default
# because it only changes the step length, never its direction: the clipped step is still the
# steepest-descent direction that the gradient chose, just shorter, and its total length is
# bounded by max_norm whatever the number of arrays. Per-tensor clipping mixes a rescaled and
# an unscaled part into a direction that no gradient pointed to.
# ### END SOLUTION

# %% [markdown]
# ## Exercise 7 · Predict, then measure: the optimal momentum for a given κ
#
# On a quadratic $f(w) = \frac12(\lambda_{\min} w_1^2 + \lambda_{\max} w_2^2)$, heavy-ball
# momentum in PyTorch's form acts on each coordinate's pair $(w, v)$ through a $2\times 2$
# matrix whose eigenvalues $z$ solve
#
# $$z^2 - (1 + \beta - \eta\lambda)\, z + \beta = 0 \qquad (\lambda = \lambda_{\min} \text{ or } \lambda_{\max}).$$
#
# The error shrinks per step by the largest $|z|$, the **rate**. Lecture section 2 found the
# best constant setting by making both ends of the spectrum critically damped (a double root
# $z$ at $\lambda_{\min}$ and a double root $-z$ at $\lambda_{\max}$); with
# $\kappa = \lambda_{\max}/\lambda_{\min}$ it is the learning rate
# $\eta^* = 4/(\sqrt{\lambda_{\max}}+\sqrt{\lambda_{\min}})^2$ and the momentum
# $\beta^* = \big((\sqrt\kappa-1)/(\sqrt\kappa+1)\big)^2$.
#
# **(a)** Write `optimal_momentum(lam_min, lam_max)` returning `(lr, beta)` for any curvatures
# $0 < \lambda_{\min} \le \lambda_{\max}$. (Check it on paper first: for $\lambda = 1$ and
# $9$ both numbers are simple fractions.)

# %% nbgrader={"grade": false, "grade_id": "optimal_momentum", "locked": false, "schema_version": 3, "solution": true}
def optimal_momentum(lam_min, lam_max):
    """The (lr, beta) at which heavy-ball momentum converges fastest on a quadratic with
    curvatures lam_min <= lam_max. Returns (lr, beta), two floats."""
    ### BEGIN SOLUTION
    root = np.sqrt(lam_max / lam_min)
    lr = 4.0 / (np.sqrt(lam_max) + np.sqrt(lam_min)) ** 2
    beta = ((root - 1.0) / (root + 1.0)) ** 2
    return float(lr), float(beta)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_optimal_momentum", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_optimal_momentum(optimal_momentum)

# %% [markdown]
# **(b) Predict.** Take the quadratic with curvatures $\lambda_{\min} = 0.05$ and
# $\lambda_{\max} = 20$ ($\kappa = 400$). **Before running anything**, predict the
# convergence rate per step (the factor by which $\|w\|$ shrinks once the start-up is over)
#
# * `rate_gd`: of plain gradient descent at its own best learning rate
#   $2/(\lambda_{\min}+\lambda_{\max})$ (every coordinate is multiplied by $1 - \eta\lambda$
#   per step), and
# * `rate_momentum`: of momentum at your $(\eta^*, \beta^*)$ (what is the size of a double root
#   of the equation above, given that the product of its two roots is $\beta$?).
#
# Then: how many steps does each need to shrink the error by a factor of 10?

# %% nbgrader={"grade": false, "grade_id": "momentum_rate_prediction", "locked": false, "schema_version": 3, "solution": true}
### BEGIN SOLUTION
kappa = 20.0 / 0.05
rate_gd = (kappa - 1) / (kappa + 1)                   # |1 - lr lam| at both ends, lr = 2 / (lam_min + lam_max)
rate_momentum = (np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)   # a double root z with z**2 = beta*
### END SOLUTION

# %% [markdown]
# **Measure.** Both runs use `cl.SGD` on this quadratic from $w = (1, 1)$ for 1,500 steps; the
# measured rate compares the largest $\|w\|$ over the last 50 steps with the largest over the
# 50 steps before the middle of the run (the start-up is left out, and an oscillating run is
# read at its crests).

# %%
lam = np.array([0.05, 20.0])


def measured_rate(lr, beta, steps=1500, window=50):
    p = cl.Parameter(np.ones(2))
    opt = cl.SGD([p], lr=lr, momentum=beta)
    norms = []
    for _ in range(steps):
        p.grad[...] = lam * p.data
        opt.step()
        norms.append(np.linalg.norm(p.data))
    norms = np.array(norms)
    mid = steps // 2
    return (norms[-window:].max() / norms[mid - window:mid].max()) ** (1 / (steps - mid)), norms


lr_star, beta_star = optimal_momentum(*lam)
measured_gd, norms_gd = measured_rate(2 / lam.sum(), 0.0)
measured_mom, norms_mom = measured_rate(lr_star, beta_star)
for name, predicted, measured in (("GD at its best lr", rate_gd, measured_gd),
                                  (f"momentum at lr {lr_star:.4f}, beta {beta_star:.4f}", rate_momentum, measured_mom)):
    print(f"{name:36s} predicted {float(predicted):.5f}, measured {measured:.5f}, "
          f"steps per 10x: {np.log(10) / -np.log(measured):6.1f}")

fig, ax = plt.subplots(figsize=(7, 3.4))
ax.semilogy(norms_gd, label="gradient descent, its best lr")
ax.semilogy(norms_mom, label="momentum at (η*, β*)")
ax.set(xlabel="step", ylabel="‖w‖ (log)", ylim=(1e-30, 10), title="κ = 400: the error per step")
ax.legend(fontsize=9)
ax.grid(alpha=0.3)
plt.show()

# %% nbgrader={"grade": true, "grade_id": "check_momentum_rate_prediction", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_momentum_rate_prediction(rate_gd, rate_momentum)

# %% [markdown]
# Gradient descent needs a number of steps proportional to $\kappa$ (about 460 per factor of
# 10 here), momentum at its optimum one proportional to $\sqrt\kappa$ (about 23): twenty times
# fewer, the square root of 400. The measured momentum rate is slightly above the prediction:
# at the optimum both roots are double, and a double root decays like $t\,z^t$ rather than
# $z^t$, a factor that fades slowly.
#
# ## Wrap-up
#
# * Momentum (PyTorch): $v \leftarrow \mu v + g$, $w \leftarrow w - \eta v$; Nesterov steps along
#   $g + \mu v$. With $\eta$ inside the velocity the steps agree only while $\eta$ is constant.
# * RMSProp: $s \leftarrow \rho s + (1-\rho) g^2$, step $\eta g/(\sqrt s + \epsilon)$.
# * Adam: moments with $\beta_1$ and $\beta_2$, bias correction with $t = 1$ at the first step,
#   $\epsilon$ outside the root, raw moments as the state. Its step is about $\eta$ long
#   whatever the gradient's scale, shorter when the gradient's sign keeps flipping.
# * AdamW shrinks the weights by $\eta\lambda$ outside the adaptive step; L2 in the gradient
#   is not the same for Adam.
# * Clip by one global norm: the length is capped, the direction kept.
# * On a quadratic with condition number $\kappa$, momentum at $\eta^*, \beta^*$ converges at
#   $(\sqrt\kappa-1)/(\sqrt\kappa+1)$ per step, gradient descent at best at
#   $(\kappa-1)/(\kappa+1)$: $\sqrt\kappa$ against $\kappa$ steps.
#
# Next: the lecture [07 · Regularization](../notebooks/07_regularization.ipynb).
