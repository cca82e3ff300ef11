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
# # Training neural networks — start here
#
# Welcome! This course teaches how to make neural networks **train**: how to initialize them,
# which activations to pick, how gradients flow backwards, what BatchNorm and dropout really do,
# how optimizers differ, how to regularize, and how to babysit a run until it works. Every claim
# is checked by code you can run, every figure comes from a real experiment on this machine, and
# nothing needs a GPU or an internet connection.
#
# The course is a set of **lecture notebooks** (`notebooks/`) that explain and demonstrate, and a
# matching set of **exercise notebooks** (`exercises/`) where you implement the pieces yourself and
# get instant feedback. Both use one small library, `course_lib`, whose objects look like their
# PyTorch namesakes — minus autograd: every layer writes its own backward pass, and you will too.
#
# This page shows the three things you will do all the time: run cells, move a slider, and call a
# check. It takes about five minutes.
#
# **This is your own copy.** `make lab` opened the course from `work/`, a folder of your own:
# `work/notebooks/` holds the lecture notebooks and `work/exercises/` the exercise notebooks.
# Edit, run and save them freely — JupyterLab saves every two minutes and on **Ctrl + S** — since
# an update of the course (`git pull`) never touches `work/`. When a lecture notebook of the
# course has changed, `make lab` tells you, and `make refresh NB=05_dropout` (or
# `NB=exercises/05_dropout`) replaces your copy by the new one, keeping yours beside it.

# %% [markdown]
# ## 1. Run cells
#
# Click into the cell below and press **Shift + Enter**: it runs and moves to the next cell.
# (**Run → Run All Cells** runs a whole notebook; **Kernel → Restart Kernel and Run All Cells**
# starts from a clean slate, which is the first thing to try when something looks odd.)

# %%
import numpy as np
import matplotlib.pyplot as plt
import course_lib as cl

cl.set_seed()   # every notebook starts by seeding: the same numbers on every run
print("course_lib", cl.__version__, "is ready; course seed", cl.course_seed())

# %% [markdown]
# Every lecture notebook begins like that. The seed comes from the environment variable
# `COURSE_SEED` (0 unless you set it, e.g. `COURSE_SEED=7 make lab`): every random number of
# the course — weights, data splits, dropout masks — derives from it, so re-running a whole
# notebook on another seed shows which of its conclusions are robust. `cl` holds the layers,
# losses, optimizers and training loop; `cl.data`, `cl.plots`, `cl.diagnostics` hold data sets,
# figures and the per-layer statistics we use to look inside a network. A first look:

# %%
model = cl.Sequential(cl.Linear(64, 32), cl.ReLU(), cl.Linear(32, 10))
model

# %%
digits = cl.data.load_digits()        # real 8x8 handwritten digits, shipped with scikit-learn
print(digits)
logits = model.forward(digits.X_train)
loss = cl.SoftmaxCrossEntropy().forward(logits, digits.y_train)
spread = logits.var(axis=1).mean()    # how much the 10 scores of one example differ
print(f"loss of an untrained 10-class classifier: {loss:.3f}   (ln 10 = {np.log(10):.3f}; "
      f"excess {loss - np.log(10):.3f}, half the logits' variance {spread / 2:.3f})")
assert model.num_parameters() == 64 * 32 + 32 + 32 * 10 + 10
assert abs(loss - np.log(10)) < 0.5
assert abs(loss - np.log(10) - spread / 2) < 0.1   # random scores add about half their variance

# %% [markdown]
# The `assert` lines are part of the course: whenever a notebook claims a number, it checks it,
# so the notebooks double as tests of the science. (Why is the untrained loss close to
# $\ln 10 \approx 2.303$, and a little above it by about half the variance of the random
# scores? Notebook 00 explains — and notebook 08 turns it into your first sanity check before
# any training run.)

# %% [markdown]
# ## 2. Move a slider
#
# Most notebooks have a live widget: sliders and menus that re-run an experiment as you move
# them. Drag the **weight** slider (or click it and use the arrow keys) and watch one sigmoid unit
# get steeper or flatter; the **bias** slider shifts it. The weight slider is on a log scale,
# like every slider for a learning rate or an init scale in this course.

# %%
from course_lib.widgets import welcome

display(welcome.unit_explorer())

# %% [markdown]
# *If you see no slider here but a static picture or some text, the notebook is being viewed
# without a running kernel — open it in JupyterLab with `make lab` and run the cell.*

# %% [markdown]
# ## 3. Call a check
#
# In the exercise notebooks you write a function between the lines `### BEGIN SOLUTION` and
# `### END SOLUTION` (in your copy that part says `raise NotImplementedError`), then run the
# check cell below it. A check runs your function on fixed inputs and either prints one line with
# a ✓, or stops with a **hint** aimed at the most likely mistake. Try it: the function below
# should return the mean squared error $\frac{1}{n}\sum_i (\hat y_i - y_i)^2$.

# %%
from course_lib import checks


def mse(y_hat, y):
    return np.mean((y_hat - y) ** 2)


checks.check_mse(mse)

# %% [markdown]
# Here is what a hint looks like. This version forgot to divide by $n$ (a *sum* instead of a
# *mean*); the check says so, without giving the answer away:

# %%
def mse_with_a_bug(y_hat, y):
    return np.sum((y_hat - y) ** 2)


try:
    checks.check_mse(mse_with_a_bug)
except AssertionError as failure:
    print(failure)

# %% [markdown]
# In an exercise notebook you would not wrap the check in `try`: the check stops with a red box
# that says which check failed, gives the advice first, and then, after "to reproduce:", the
# exact call it made, which you can paste into a new cell to see what your function returns.
# Fix the function, re-run its cell, then re-run the check. A check run before you replaced
# `raise NotImplementedError()` says, in one line, that the exercise is not done yet.
#
# If your own code raises an error (a typo, a shape mismatch), the check lets that error through
# unchanged, so the traceback points at your line, not at the checker.

# %% [markdown]
# ## The course map
#
# Work through the lecture notebooks in order; after each one, do its exercise notebook.
#
# | # | lecture | what you will be able to do | exercises |
# |---|---|---|---|
# | 00 | [Foundations](00_foundations.ipynb) | write an MLP as affine maps + activations; pick the output and loss for a target; compute softmax stably; split and preprocess data without leaking | [00](../exercises/00_foundations.ipynb) |
# | 01 | [Activation functions](01_activations.ipynb) | explain saturation, zero-centring and dead ReLUs; choose an activation and test the choice | [01](../exercises/01_activations.ipynb) |
# | 02 | [Initialization](02_initialization.ipynb) | derive Xavier and He initialization from variance propagation; diagnose vanishing/exploding activations | [02](../exercises/02_initialization.ipynb) |
# | 03 | [Backpropagation](03_backpropagation.ipynb) | derive and implement backward passes; gradient-check them and hunt down a bug | [03](../exercises/03_backpropagation.ipynb) |
# | 04 | [Batch normalization](04_batch_normalization.ipynb) | implement BatchNorm with running statistics; measure what it buys | [04](../exercises/04_batch_normalization.ipynb) |
# | 05 | [Dropout](05_dropout.ipynb) | implement inverted dropout; read a train/validation gap | [05](../exercises/05_dropout.ipynb) |
# | 06 | [Optimizers](06_optimizers.ipynb) | implement momentum, RMSProp and Adam exactly as PyTorch does; use schedules and clipping | [06](../exercises/06_optimizers.ipynb) |
# | 07 | [Regularization](07_regularization.ipynb) | use L2/L1, max-norm, early stopping, label smoothing and ensembles, and tell which helps | [07](../exercises/07_regularization.ipynb) |
# | 08 | [Training in practice](08_training_in_practice.ipynb) | run the sanity checks, scan the learning rate, read the diagnostics, search hyperparameters | [08](../exercises/08_training_in_practice.ipynb) |
#
# Each lecture lists its learning objectives, prerequisites and an estimated time at the top,
# and ends with "Check your understanding" questions (answers folded away) and a summary.

# %% [markdown]
# ## Getting help
#
# - **A hint did not help?** Re-read the exercise text, print the intermediate arrays and their
#   shapes (`x.shape` catches half of all bugs), and compare with the lecture notebook's version.
# - **Something behaves strangely?** *Kernel → Restart Kernel and Run All Cells*. Cells run out of
#   order are the most common source of confusion.
# - **Reading the library helps.** Every `course_lib` object says in its docstring which notebook
#   introduces it: `cl.Linear?` in a cell shows it, and the files in `course_lib/` are short
#   enough to read top to bottom.
# - **Found a mistake in the course?** Tell your instructor, or whoever gave you the course,
#   with the notebook, the cell and what you expected.
#
# Ready? Open [00 Foundations](00_foundations.ipynb).
