"""Train many small ReLU MLPs of the same shape at once, as ``cl.fit`` trains each one alone.

The experiments of notebook 07 repeat one short training run dozens of times: over seeds,
regularization strengths and learning rates. Each run is small (a few hundred examples), so
Python's per-step overhead costs more than the arithmetic. ``train_stacked`` stacks M
networks along a new first axis, weights (M, fan_in, fan_out), and takes one optimizer step
of all of them with a handful of batched matrix products. Each network keeps everything that
makes it an independent run: its own initial weights (copied from a ``cl.Sequential``), its
own shuffling generator, its own dropout generator, its own learning rate, penalty,
max-norm radius and label smoothing. The arithmetic is that of ``cl.fit`` with
``cl.SGD(momentum=...)``, ``cl.L1``/``cl.L2``/``cl.ElasticNet``, ``max_norm=`` and
``cl.SoftmaxCrossEntropy(label_smoothing=...)``, drawn from the generators in the same order,
so a stacked run equals the same run through ``cl.fit`` up to rounding
(tests/test_widgets_regularization.py checks it).

Supported networks: ``Linear, ReLU, [Dropout], ..., Linear`` (what
``regularization.make_mlp`` builds). Evaluation after every epoch is in eval mode (no dropout).
"""
from dataclasses import dataclass

import numpy as np

from ..activations import ReLU
from ..dropout import Dropout
from ..layers import Linear


@dataclass
class StackedRuns:
    """What ``train_stacked`` measured, model m along axis 0 of every array.

    Per epoch (M, epochs), all in eval mode: ``val_loss`` (cross-entropy against the hard
    labels, without smoothing), ``val_acc``; ``train_loss``/``train_acc`` on the training data
    with the labels it was trained on (None unless ``train_curves``); ``max_col_norm`` (largest
    incoming-weight norm of any unit, all layers) and ``max_logit`` (largest |logit| on the
    validation set). ``snapshots`` (M, k, N_val, K): validation probabilities after each of the
    last k epochs (the last one is the final model). Early stopping with ``patience`` on the
    validation loss, as ``cl.EarlyStopping`` would do it: ``best_epoch`` (M,) is the 0-based
    epoch whose weights it would restore, ``stop_epoch`` (M,) the number of epochs it would have
    run (= epochs if it never stops); ``best_val_probs`` (M, N_val, K) the restored model's
    validation probabilities. ``weights``/``biases``: final parameters per layer, (M, in, out)
    and (M, out); ``best_weights``/``best_biases``: the restored ones. ``test`` (if a test set
    was given): dict with "final_acc", "final_loss", "best_acc", "best_loss", each (M,).
    ``final_train_loss``/``final_train_acc`` (M,): the final model on the training data.
    """

    val_loss: np.ndarray
    val_acc: np.ndarray
    train_loss: np.ndarray
    train_acc: np.ndarray
    max_col_norm: np.ndarray
    max_logit: np.ndarray
    snapshots: np.ndarray
    best_epoch: np.ndarray
    stop_epoch: np.ndarray
    best_val_probs: np.ndarray
    weights: list
    biases: list
    best_weights: list
    best_biases: list
    test: dict
    final_train_loss: np.ndarray
    final_train_acc: np.ndarray


def _per_model(value, m, name, default=0.0):
    v = np.full(m, default, dtype=np.float64) if value is None else \
        np.broadcast_to(np.asarray(value, dtype=np.float64), (m,)).copy()
    if not np.all(np.isfinite(v) | (name == "max_norm")):
        raise ValueError(f"train_stacked: {name} must be finite, got {value!r}")
    return v


def _structure(net):
    """(linears, dropout p per hidden layer, the dropout generator) of Linear-ReLU-[Dropout] nets."""
    linears, ps, rng = [], [], None
    layers = list(net.layers)
    i = 0
    while i < len(layers):
        lin = layers[i]
        if not isinstance(lin, Linear):
            raise TypeError(f"train_stacked: expected Linear at position {i} of {net!r}, got "
                            f"{type(lin).__name__}")
        linears.append(lin)
        i += 1
        if i == len(layers):
            break
        if not isinstance(layers[i], ReLU):
            raise TypeError(f"train_stacked: expected ReLU after Linear at position {i} of {net!r}")
        i += 1
        p = 0.0
        if i < len(layers) and isinstance(layers[i], Dropout):
            p, r = layers[i].p, layers[i].rng
            if rng is not None and r is not rng:
                raise ValueError("train_stacked: all Dropout layers of one network must share "
                                 "one generator (as make_mlp builds them)")
            rng = r
            i += 1
        ps.append(p)
    return linears, ps, rng


def _log_softmax(z):
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _eval_logits(X, weights, biases):
    """Logits of all models on the same inputs X (N, D) -> (M, N, K). In-place adds and ReLUs:
    at these sizes allocating the intermediate arrays costs as much as the products."""
    a = np.matmul(X, weights[0])                       # X broadcast against every W: (M, N, H)
    a += biases[0][:, None, :]
    for W, b in zip(weights[1:], biases[1:]):
        np.maximum(a, 0.0, out=a)
        a = a @ W
        a += b[:, None, :]
    return a


def _nll_acc(logits, y):
    logp = _log_softmax(logits)
    n = len(y)
    picked = logp[:, np.arange(n), y]
    return -picked.mean(axis=1), (logits.argmax(axis=2) == y).mean(axis=1), logp


def train_stacked(nets, X, y, *, epochs, batch_size, lr, momentum, orders, val, l1=0.0, l2=0.0,
                  max_norm=None, label_smoothing=0.0, test=None, train_curves=True, snapshots=10,
                  patience=5, dtype=np.float64):
    """Train the networks ``nets`` (cl.Sequential of Linear-ReLU-[Dropout]-...-Linear, all of
    the same widths) side by side with SGD + momentum on (X, y); returns a StackedRuns.

    Per model m (scalars apply to all): ``lr``, ``l1``, ``l2`` (penalties on the weight
    matrices, not the biases), ``max_norm`` (radius c, None or inf for no constraint),
    ``label_smoothing``; ``orders[m]``: the generator that shuffles its epochs (one permutation
    per epoch, as ``cl.fit(rng=...)``). Dropout masks come from each network's own Dropout
    generator. ``val`` = (X_val, y_val) is evaluated after every epoch; ``test`` = (X_test,
    y_test) only at the end, for the final and the early-stopped weights. ``dtype``: the
    arithmetic; float64 (the course's default) reproduces cl.fit to rounding, float32 (what
    deep-learning frameworks train in) is several times faster and gives other rounding, so
    runs agree with float64 ones statistically, not digit for digit.
    Shapes: X (N, D), y (N,) integer labels.
    """
    nets = list(nets)
    m = len(nets)
    if m == 0:
        raise ValueError("train_stacked: got no networks")
    if len(orders) != m:
        raise ValueError(f"train_stacked: need one shuffling generator per network, got "
                         f"{len(orders)} for {m} networks")
    structs = [_structure(net) for net in nets]
    shapes = [tuple(lin.W.data.shape for lin in s[0]) for s in structs]
    if len(set(shapes)) != 1:
        raise ValueError(f"train_stacked: all networks must have the same layer shapes, got "
                         f"{sorted(set(shapes))}")
    n_layers = len(shapes[0])
    weights = [np.stack([s[0][l].W.data for s in structs]).astype(dtype) for l in range(n_layers)]
    biases = [np.stack([s[0][l].b.data for s in structs]).astype(dtype) for l in range(n_layers)]
    drop = np.array([s[1] for s in structs]) if n_layers > 1 else np.zeros((m, 0))   # (M, hidden)
    drop_rngs = [s[2] for s in structs]
    lr, l1, l2 = _per_model(lr, m, "lr"), _per_model(l1, m, "l1"), _per_model(l2, m, "l2")
    alpha = _per_model(label_smoothing, m, "label_smoothing")
    c = _per_model(max_norm, m, "max_norm", default=np.inf)
    c[np.isnan(c)] = np.inf
    X, y = np.asarray(X, dtype=dtype), np.asarray(y, dtype=np.int64)
    Xv, yv = np.asarray(val[0], dtype=dtype), np.asarray(val[1], dtype=np.int64)
    n, k = len(X), weights[-1].shape[2]
    vel_w = [None] * n_layers
    vel_b = [None] * n_layers
    lr_, lr_b = lr.astype(dtype)[:, None, None], lr.astype(dtype)[:, None]
    momentum = dtype(momentum)
    # penalties, max-norm and dropout touch only the networks that use them
    pen_idx = np.flatnonzero((l1 > 0) | (l2 > 0))
    l1_, l2_ = l1[pen_idx].astype(dtype)[:, None, None], l2[pen_idx].astype(dtype)[:, None, None]
    mn_idx = np.flatnonzero(np.isfinite(c))
    c_mn = c[mn_idx][:, None]
    drop_idx = [np.flatnonzero(drop[:, l] > 0) for l in range(drop.shape[1])]
    eye = np.eye(k, dtype=dtype)
    keep = (1.0 - alpha).astype(dtype)[:, None, None]
    spread = (alpha / k).astype(dtype)[:, None, None]

    hist = {key: np.zeros((m, epochs)) for key in ("val_loss", "val_acc", "max_col_norm", "max_logit")}
    if train_curves:
        hist["train_loss"], hist["train_acc"] = np.zeros((m, epochs)), np.zeros((m, epochs))
    n_snap = min(snapshots, epochs)
    snaps = np.zeros((m, n_snap, len(yv), k))
    best_loss = np.full(m, np.inf)
    best_epoch = np.zeros(m, dtype=np.int64)
    stop_epoch = np.full(m, epochs, dtype=np.int64)
    wait = np.zeros(m, dtype=np.int64)
    stopped = np.zeros(m, dtype=bool)
    best_probs = np.zeros((m, len(yv), k))         # probabilities are kept in float64
    best_w = [w.copy() for w in weights]
    best_b = [b.copy() for b in biases]

    for epoch in range(epochs):
        perms = np.stack([g.permutation(n) for g in orders])          # (M, N)
        for start in range(0, n, batch_size):
            idx = perms[:, start:start + batch_size]                  # (M, B)
            bsz = idx.shape[1]
            h = X[idx]                                                # (M, B, D)
            yb = y[idx]
            inputs, pre, masks = [], [], []
            for l in range(n_layers - 1):
                inputs.append(h)
                h = h @ weights[l]
                h += biases[l][:, None, :]
                np.maximum(h, 0.0, out=h)                     # ReLU in place; h > 0 iff the input was
                mask = None
                idx_d = drop_idx[l]
                if idx_d.size:
                    mask = np.empty((idx_d.size,) + h.shape[1:], dtype=dtype)
                    for i, j in enumerate(idx_d):
                        p = drop[j, l]
                        mask[i] = (drop_rngs[j].random(h.shape[1:]) >= p) / dtype(1.0 - p) if p < 1 else 0.0
                    h[idx_d] *= mask          # where a mask is 0 the gradient is 0 anyway
                pre.append(h > 0)
                masks.append(mask)
            inputs.append(h)
            z = h @ weights[-1]                                       # (M, B, K)
            z += biases[-1][:, None, :]
            dz = (np.exp(_log_softmax(z)) - (keep * eye[yb] + spread)) / dtype(bsz)
            for l in range(n_layers - 1, -1, -1):
                gW = inputs[l].transpose(0, 2, 1) @ dz
                gb = dz.sum(axis=1)
                if l > 0:
                    dz = dz @ weights[l].transpose(0, 2, 1)
                    if masks[l - 1] is not None:
                        dz[drop_idx[l - 1]] *= masks[l - 1]
                    dz *= pre[l - 1]
                W = weights[l]
                if pen_idx.size:
                    Wp = W[pen_idx]
                    gW[pen_idx] += l1_ * np.sign(Wp) + l2_ * Wp      # ElasticNet's gradient
                if vel_w[l] is None:
                    vel_w[l], vel_b[l] = gW.copy(), gb.copy()
                else:
                    vel_w[l] *= momentum
                    vel_w[l] += gW
                    vel_b[l] *= momentum
                    vel_b[l] += gb
                W -= lr_ * vel_w[l]
                biases[l] -= lr_b * vel_b[l]
            if mn_idx.size:
                for W in weights:
                    Wc = W[mn_idx]
                    norms = np.sqrt((Wc * Wc).sum(axis=1))              # (M_c, out)
                    over = norms > c_mn
                    if over.any():
                        scale = np.where(over, c_mn / (norms + 1e-7), 1.0).astype(dtype)
                        W[mn_idx] = Wc * scale[:, None, :]
        # ---- evaluation after the epoch (eval mode: no dropout)
        zv = _eval_logits(Xv, weights, biases).astype(np.float64)     # scores in float64
        vl, va, logp = _nll_acc(zv, yv)
        hist["val_loss"][:, epoch], hist["val_acc"][:, epoch] = vl, va
        hist["max_logit"][:, epoch] = np.abs(zv).max(axis=(1, 2))
        hist["max_col_norm"][:, epoch] = np.max([np.sqrt((W * W).sum(axis=1)).max(axis=1)
                                                 for W in weights], axis=0)
        if train_curves:
            tl, ta, _ = _nll_acc(_eval_logits(X, weights, biases).astype(np.float64), y)
            hist["train_loss"][:, epoch], hist["train_acc"][:, epoch] = tl, ta
        probs = np.exp(logp)
        j = epoch - (epochs - n_snap)
        if j >= 0:
            snaps[:, j] = probs
        improved = (vl < best_loss) & ~stopped
        if improved.any():
            best_loss[improved], best_epoch[improved] = vl[improved], epoch
            best_probs[improved] = probs[improved]
            for l in range(n_layers):
                best_w[l][improved] = weights[l][improved]
                best_b[l][improved] = biases[l][improved]
        worse = ~improved & ~stopped
        wait[improved] = 0
        wait[worse] += 1
        newly = worse & (wait >= patience)
        stop_epoch[newly] = epoch + 1
        stopped |= newly

    final_tl, final_ta, _ = _nll_acc(_eval_logits(X, weights, biases).astype(np.float64), y)
    test_out = {}
    if test is not None:
        Xt, yt = np.asarray(test[0], dtype=dtype), np.asarray(test[1], dtype=np.int64)
        for name, (ws, bs) in (("final", (weights, biases)), ("best", (best_w, best_b))):
            loss, acc, _ = _nll_acc(_eval_logits(Xt, ws, bs).astype(np.float64), yt)
            test_out[f"{name}_loss"], test_out[f"{name}_acc"] = loss, acc
    return StackedRuns(hist["val_loss"], hist["val_acc"], hist.get("train_loss"), hist.get("train_acc"),
                       hist["max_col_norm"], hist["max_logit"], snaps, best_epoch, stop_epoch,
                       best_probs, weights, biases, best_w, best_b, test_out, final_tl, final_ta)
