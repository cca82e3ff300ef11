"""Speed benchmark: one training epoch of an MLP with course_lib, plain NumPy and PyTorch.

Checks the budget in shared/DESIGN.md "Performance budgets":
  cl.fit on an MLP is within 1.2x the time of a hand-written NumPy loop doing the same
  arithmetic, and faster than PyTorch on the CPU for the same model and data.

Model 784-512-512-10 with ReLU, float64, batch 128, SGD(lr, momentum=0.9), softmax
cross-entropy, on synthetic data from a seeded np.random.Generator (nothing is downloaded).
All three start from the same weights and see the same batches (the same permutation), so
their final weights must agree; the script checks that before it reports any time.

Each repeat times the three contestants one after the other (interleaved, so a slow moment
of the machine hits all three alike, with a short rest between them so one library's idle
threads do not slow down the next); the table shows the median over the repeats after one
warm-up epoch each. Run it on an otherwise idle machine: the script reports how busy other
processes kept the CPUs, and warns when the times cannot be trusted.

    .venv/bin/python benchmarks/bench_mlp.py            # N = 8192, 7 repeats
    .venv/bin/python benchmarks/bench_mlp.py --quick    # N = 2048, 5 repeats
"""
import argparse
import os
import platform
import statistics
import sys
import time

import numpy as np

import course_lib as cl

try:
    import torch
except ImportError:  # the benchmark still runs course_lib against the NumPy loop
    torch = None

SIZES = (784, 512, 512, 10)
BATCH = 128
LR, MOMENTUM = 0.01, 0.9
LOOP_TARGET, TORCH_TARGET = 1.2, 1.0
PAUSE = 0.5   # seconds of rest before each timed epoch (see main)


def make_data(n, seed=0):
    """N examples of 784 standard-normal features, labels from a random linear teacher."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, SIZES[0]))
    teacher = rng.standard_normal((SIZES[0], SIZES[-1]))
    y = (X @ teacher).argmax(axis=1).astype(np.int64)
    return X, y


def initial_weights(seed=1):
    """[(W, b), ...] with W of shape (fan_in, fan_out): He-normal weights, zero biases."""
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((i, o)) * np.sqrt(2.0 / i), np.zeros(o))
            for i, o in zip(SIZES[:-1], SIZES[1:])]


# --- 1. course_lib --------------------------------------------------------------------------

def course_lib_epoch(weights, X, y, seed):
    layers = []
    for k, (W, b) in enumerate(weights):
        lin = cl.Linear(*W.shape)
        lin.W.data[...] = W
        lin.b.data[...] = b
        layers += [lin, cl.ReLU()] if k < len(weights) - 1 else [lin]
    model = cl.Sequential(*layers)
    opt = cl.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    rng = np.random.default_rng(seed)

    t0 = time.perf_counter()
    hist = cl.fit(model, cl.SoftmaxCrossEntropy(), opt, X, y, epochs=1, batch_size=BATCH,
                  rng=rng, progress=False)
    seconds = time.perf_counter() - t0

    if hist.status != "completed":
        sys.exit(f"course_lib run did not complete: {hist.status} {hist.message}")
    final = [(m.W.data, m.b.data) for m in model.layers if isinstance(m, cl.Linear)]
    return seconds, final, hist.train_loss[-1]


# --- 2. a hand-written NumPy loop, as a student would write it -------------------------------

def numpy_epoch(weights, X, y, seed):
    (W1, b1), (W2, b2), (W3, b3) = [(W.copy(), b.copy()) for W, b in weights]
    params = [W1, b1, W2, b2, W3, b3]
    velocity = [np.zeros_like(p) for p in params]
    rng = np.random.default_rng(seed)

    t0 = time.perf_counter()
    n = len(X)
    order = rng.permutation(n)
    total_loss = 0.0
    for start in range(0, n, BATCH):
        idx = order[start:start + BATCH]
        xb, yb = X[idx], y[idx]
        m = len(idx)
        # forward
        h1 = xb @ W1 + b1
        a1 = np.maximum(h1, 0.0)
        h2 = a1 @ W2 + b2
        a2 = np.maximum(h2, 0.0)
        z = a2 @ W3 + b3
        # stable softmax cross-entropy
        shifted = z - z.max(axis=1, keepdims=True)
        logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        loss = -logp[np.arange(m), yb].mean()
        total_loss += loss * m
        # backward
        dz = np.exp(logp)
        dz[np.arange(m), yb] -= 1.0
        dz /= m
        dW3 = a2.T @ dz
        db3 = dz.sum(axis=0)
        dh2 = (dz @ W3.T) * (h2 > 0)
        dW2 = a1.T @ dh2
        db2 = dh2.sum(axis=0)
        dh1 = (dh2 @ W2.T) * (h1 > 0)
        dW1 = xb.T @ dh1
        db1 = dh1.sum(axis=0)
        # SGD with momentum, PyTorch's form: v = momentum * v + g; w -= lr * v
        for p, g, v in zip(params, [dW1, db1, dW2, db2, dW3, db3], velocity):
            v *= MOMENTUM
            v += g
            p -= LR * v
    seconds = time.perf_counter() - t0

    return seconds, [(W1, b1), (W2, b2), (W3, b3)], total_loss / n


# --- 3. PyTorch on the CPU -------------------------------------------------------------------

def torch_epoch(weights, X, y, seed):
    layers = []
    for k, (W, b) in enumerate(weights):
        lin = torch.nn.Linear(*W.shape, dtype=torch.float64)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(W.T))
            lin.bias.copy_(torch.from_numpy(b))
        layers += [lin, torch.nn.ReLU()] if k < len(weights) - 1 else [lin]
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    loss_fn = torch.nn.CrossEntropyLoss()
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    rng = np.random.default_rng(seed)

    t0 = time.perf_counter()
    n = len(X)
    order = torch.from_numpy(rng.permutation(n))
    total_loss = 0.0
    for start in range(0, n, BATCH):
        idx = order[start:start + BATCH]
        xb, yb = Xt[idx], yt[idx]
        loss = loss_fn(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        total_loss += loss.item() * len(idx)
    seconds = time.perf_counter() - t0

    lins = [m for m in model if isinstance(m, torch.nn.Linear)]
    final = [(m.weight.detach().numpy().T, m.bias.detach().numpy()) for m in lins]
    return seconds, final, total_loss / n


# --- reporting -------------------------------------------------------------------------------

def blas_line():
    """numpy's BLAS library, its kernel and thread count (what the NumPy times depend on)."""
    try:
        from threadpoolctl import threadpool_info
        for info in threadpool_info():
            if info.get("user_api") == "blas" and "numpy" in info.get("filepath", ""):
                return (f"{info['internal_api']} {info['version']} ({info.get('architecture')} "
                        f"kernels), {info['num_threads']} threads")
    except ImportError:
        pass
    blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    threads = os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS") or "default"
    return f"{blas.get('name')} {blas.get('version')}, threads {threads}"


def _cpu_seconds():
    """Busy CPU-seconds of the whole machine so far (Linux /proc/stat), or None."""
    try:
        with open("/proc/stat") as f:
            ticks = [int(v) for v in f.readline().split()[1:]]
    except OSError:
        return None
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")   # minus idle, iowait


def other_load(start_machine, start_self, start_wall):
    """CPUs kept busy by OTHER processes on average since the start (None off Linux)."""
    now = _cpu_seconds()
    if now is None or start_machine is None:
        return None
    others = (now - start_machine) - (time.process_time() - start_self)
    return max(others, 0.0) / (time.perf_counter() - start_wall)


def max_diff(a, b):
    return max(float(np.max(np.abs(p - q))) for pa, pb in zip(a, b) for p, q in zip(pa, pb))


def contestants():
    """name -> epoch function; PyTorch only where it is installed."""
    found = {"course_lib (cl.fit)": course_lib_epoch, "NumPy loop": numpy_epoch}
    if torch is not None:
        found["PyTorch (CPU)"] = torch_epoch
    return found


def measure(n, repeats):
    """Time one epoch of each contestant, interleaved, after one warm-up round.

    Returns a dict: ``times`` {name: [seconds per timed epoch]}, ``median`` {name: seconds},
    ``results`` {name: (final weights, epoch loss)} of the warm-up round, ``diff`` {name: max
    |w - w_course_lib|} and ``busy``: the CPUs other processes kept busy meanwhile (or None).
    Raises RuntimeError when a contestant does not compute what course_lib computes.
    """
    X, y = make_data(n)
    weights = initial_weights()
    runners = contestants()
    times = {name: [] for name in runners}
    start = (_cpu_seconds(), time.process_time(), time.perf_counter())
    results = {}
    for r in range(repeats + 1):            # r = 0 is the warm-up
        for name, epoch in runners.items():
            # OpenBLAS's idle threads spin for ~0.1 s after numpy's last matmul and would
            # take a core from the next contestant (PyTorch ran 15-50% slower right after
            # the NumPy loop): let the previous contestant's threads go to sleep first
            time.sleep(PAUSE)
            seconds, final, loss = epoch(weights, X, y, seed=r)
            if r == 0:
                results[name] = (final, loss)
            else:
                times[name].append(seconds)
    busy = other_load(*start)

    # the same arithmetic: every contestant must end at the same weights
    ref_final, _ = results["course_lib (cl.fit)"]
    diff = {name: max_diff(ref_final, final) for name, (final, _) in results.items()}
    for name, d in diff.items():
        if d > 1e-8:
            raise RuntimeError(f"{name} does not compute what course_lib computes (weights differ by {d:.1e})")
    return {"times": times, "median": {name: statistics.median(ts) for name, ts in times.items()},
            "results": results, "diff": diff, "busy": busy}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="N = 2048 and 5 repeats")
    parser.add_argument("--n", type=int, help="number of examples (default 8192, quick 2048)")
    parser.add_argument("--repeats", type=int, help="timed epochs per contestant (default 7, quick 5)")
    args = parser.parse_args()
    n = args.n or (2048 if args.quick else 8192)
    repeats = args.repeats or (5 if args.quick else 7)

    print(f"MLP {'-'.join(map(str, SIZES))}, ReLU, float64, batch {BATCH}, "
          f"SGD(lr={LR}, momentum={MOMENTUM}), softmax cross-entropy")
    print(f"data: N = {n} synthetic examples ({-(-n // BATCH)} steps per epoch); "
          f"median of {repeats} epochs after a warm-up")
    print(f"python {platform.python_version()}, numpy {np.__version__}, "
          f"course_lib {cl.__version__}, {os.cpu_count()} CPUs")
    print(f"numpy BLAS: {blas_line()}")
    if torch is None:
        print("torch: not installed, skipping the PyTorch comparison")
    else:
        print(f"torch {torch.__version__}: {torch.get_num_threads()} threads, "
              f"BLAS {torch.backends.mkl.is_available() and 'MKL' or 'non-MKL'}")
    print()

    try:
        m = measure(n, repeats)
    except RuntimeError as e:
        sys.exit(str(e))
    for name, (final, loss) in m["results"].items():
        print(f"{name:<20} epoch loss {loss:.6f}, max |w - w_course_lib| = {m['diff'][name]:.1e}")
    print()

    med = m["median"]
    print(f"{'':<20} {'s / epoch':>10} {'min':>8} {'max':>8}")
    for name, ts in m["times"].items():
        print(f"{name:<20} {med[name]:>10.3f} {min(ts):>8.3f} {max(ts):>8.3f}")
    print()

    busy = m["busy"]
    if busy is not None:
        print(f"other processes kept {busy:.2f} of {os.cpu_count()} CPUs busy during the run")
        if busy > 0.2:
            # BLAS threads that wait for a busy CPU slow down far more than the share taken
            print("WARNING: the machine was not idle: times and ratios below are unreliable")
        print()
    c = med["course_lib (cl.fit)"]
    ratio = c / med["NumPy loop"]
    print(f"course_lib / NumPy loop = {ratio:.2f}   target <= {LOOP_TARGET}   "
          f"{'PASS' if ratio <= LOOP_TARGET else 'MISS'}")
    if "PyTorch (CPU)" in med:
        ratio = c / med["PyTorch (CPU)"]
        print(f"course_lib / PyTorch    = {ratio:.2f}   target <  {TORCH_TARGET}   "
              f"{'PASS' if ratio < TORCH_TARGET else 'MISS'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
