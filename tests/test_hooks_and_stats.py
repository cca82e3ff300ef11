"""Forward hooks (Module.register_forward_hook), diagnostics.ActivationStats and its plots,
diagnostics.dead_units, and the memory held by the forward caches (diagnostics.cache_memory).
"""
import numpy as np
import pytest

import course_lib as cl


def tiny_net(r):
    return cl.Sequential(cl.Linear(4, 6, rng=r), cl.ReLU(), cl.Linear(6, 5, rng=r), cl.Tanh(),
                         cl.Linear(5, 3, rng=r))


# ---------------------------------------------------------------------------------------------
# forward hooks
# ---------------------------------------------------------------------------------------------

def test_hook_sees_module_input_and_output(rng):
    layer = cl.Linear(4, 3, rng=rng)
    seen = []
    layer.register_forward_hook(lambda m, inp, out: seen.append((m, inp, out)))
    x = rng.standard_normal((5, 4))
    out = layer(x)
    assert len(seen) == 1
    m, inp, hooked_out = seen[0]
    assert m is layer
    # as in PyTorch, input is the tuple of positional arguments
    assert isinstance(inp, tuple) and len(inp) == 1 and inp[0] is x
    assert hooked_out is out
    np.testing.assert_array_equal(out, x @ layer.W.data + layer.b.data)


def test_forward_called_directly_skips_hooks(rng):
    layer = cl.ReLU()
    calls = []
    layer.register_forward_hook(lambda m, i, o: calls.append(1))
    layer.forward(rng.standard_normal((2, 3)))
    assert calls == []
    layer(rng.standard_normal((2, 3)))
    assert calls == [1]


def test_hooks_run_in_registration_order_and_chain_replacements(rng):
    layer = cl.ReLU()
    order = []

    def first(m, inp, out):
        order.append("first")
        return out + 1.0             # replaces the output

    def second(m, inp, out):
        order.append("second")
        assert np.all(out >= 1.0)    # sees the replaced output
        return None                  # None keeps it

    def third(m, inp, out):
        order.append("third")
        return 2.0 * out

    for fn in (first, second, third):
        layer.register_forward_hook(fn)
    x = rng.standard_normal((3, 4))
    out = layer(x)
    assert order == ["first", "second", "third"]
    np.testing.assert_allclose(out, 2.0 * (np.maximum(x, 0) + 1.0))


def test_handles_remove_in_any_order(rng):
    layer = cl.Tanh()
    calls = []
    handles = [layer.register_forward_hook(lambda m, i, o, k=k: calls.append(k)) for k in range(4)]
    x = rng.standard_normal((2, 2))
    layer(x)
    assert calls == [0, 1, 2, 3]
    handles[2].remove()
    handles[0].remove()
    calls.clear()
    layer(x)
    assert calls == [1, 3]
    handles[0].remove()              # a second remove is harmless
    handles[3].remove()
    handles[1].remove()
    calls.clear()
    layer(x)
    assert calls == []
    assert "removed" in repr(handles[1])


def test_handle_as_context_manager(rng):
    layer = cl.ReLU()
    calls = []
    with layer.register_forward_hook(lambda m, i, o: calls.append(1)):
        layer(rng.standard_normal((2, 2)))
    layer(rng.standard_normal((2, 2)))
    assert calls == [1]


def test_register_rejects_non_callable():
    with pytest.raises(TypeError, match="register_forward_hook expects a callable"):
        cl.ReLU().register_forward_hook("not a function")


def test_hooks_fire_inside_sequential_and_on_sequential_itself(rng):
    model = tiny_net(rng)
    fired = []
    for i, layer in enumerate(model.layers):
        layer.register_forward_hook(lambda m, inp, out, i=i: fired.append(i))
    model.register_forward_hook(lambda m, inp, out: fired.append("model"))
    x = rng.standard_normal((7, 4))
    model(x)
    # every layer in order, then the container itself (its forward has returned by then)
    assert fired == [0, 1, 2, 3, 4, "model"]
    fired.clear()
    model.forward(x)                 # the container's forward: its layers are still called
    assert fired == [0, 1, 2, 3, 4]


def test_output_replacement_inside_sequential_changes_what_the_next_layer_sees(rng):
    model = tiny_net(rng)
    x = rng.standard_normal((7, 4))
    model[1].register_forward_hook(lambda m, inp, out: np.zeros_like(out))   # kill layer 1
    out = model(x)
    # with layer 1's output zero, the rest of the net sees only its biases
    h = np.zeros((7, 6)) @ model[2].W.data + model[2].b.data
    expected = np.tanh(h) @ model[4].W.data + model[4].b.data
    np.testing.assert_allclose(out, expected)


def test_no_hooks_leaves_results_unchanged(rng):
    model = tiny_net(rng)
    x = rng.standard_normal((7, 4))
    by_hand = x
    for layer in model.layers:
        by_hand = layer.forward(by_hand)
    np.testing.assert_array_equal(model(x), by_hand)
    np.testing.assert_array_equal(model.forward(x), by_hand)
    # the hook dict is not a parameter, buffer or child
    model[0].register_forward_hook(lambda *a: None).remove()
    assert [n for n, _ in model.named_parameters()] == ["0.W", "0.b", "2.W", "2.b", "4.W", "4.b"]
    assert set(model.state_dict()) == {"0.W", "0.b", "2.W", "2.b", "4.W", "4.b"}


def test_hooks_fire_inside_fit_in_train_and_eval_passes(rng):
    X = rng.standard_normal((40, 4))
    y = rng.integers(0, 3, 40)
    model = tiny_net(np.random.default_rng(0))
    modes = []
    model[3].register_forward_hook(lambda m, inp, out: modes.append(m.training))
    cl.fit(model, cl.SoftmaxCrossEntropy(), cl.SGD(model.parameters(), lr=0.1), X, y, epochs=2,
           batch_size=10, val=(X[:8], y[:8]), progress=False, rng=0)
    # 4 training steps per epoch in training mode, then one validation pass in eval mode
    assert modes == ([True] * 4 + [False]) * 2


# ---------------------------------------------------------------------------------------------
# ActivationStats
# ---------------------------------------------------------------------------------------------

def by_hand(model, x):
    """Every layer's output, computed without hooks."""
    outs, h = [], x
    for layer in model.layers:
        h = layer.forward(h)
        outs.append(h)
    return outs


def test_default_layers_are_the_nonlinear_ones(rng):
    model = cl.Sequential(cl.Linear(4, 6, rng=rng), cl.ReLU(), cl.Dropout(0.2), cl.Linear(6, 5, rng=rng),
                          cl.BatchNorm1d(5), cl.Tanh(), cl.Linear(5, 3, rng=rng))
    stats = cl.diagnostics.ActivationStats(model)
    assert stats.layers == [1, 5]
    assert stats.names == {1: "1: ReLU()", 5: "5: Tanh()"}
    chosen = cl.diagnostics.ActivationStats(model, layers=[model[0], 4])
    assert chosen.layers == [0, 4]


def test_values_match_a_hand_computation(rng):
    model = tiny_net(np.random.default_rng(0))
    stats = cl.diagnostics.ActivationStats(model, layers=[0, 1, 3], bins=8,
                                           range={0: (-2.0, 2.0), 1: (0.0, 2.0)})
    xs = [rng.standard_normal((9, 4)) for _ in range(3)]
    for x in xs:
        model(x)
        stats.step()
    np.testing.assert_array_equal(stats.steps, [0, 1, 2])
    for k, x in enumerate(xs):
        outs = by_hand(model, x)
        for i in (0, 1, 3):
            out = outs[i]
            assert stats.mean[i][k] == pytest.approx(out.mean(), rel=1e-12, abs=1e-14)
            assert stats.std[i][k] == pytest.approx(out.std(), rel=1e-10)
            lo, hi = stats.ranges[i]
            ref, edges = np.histogram(out, bins=8, range=(lo, hi))
            np.testing.assert_array_equal(stats.hist[i][k], ref)
            np.testing.assert_allclose(stats.edges[i], edges)
            assert stats.outside[i][k] == pytest.approx(1 - ref.sum() / out.size)
        # saturated and dead as the diagnostics functions define them
        assert stats.dead[1][k] == cl.diagnostics.dead_fraction(model[1], outs[1])
        assert stats.saturated[3][k] == cl.diagnostics.saturated_fraction(model[3], outs[3])
        assert np.isnan(stats.dead[3][k]) and np.isnan(stats.saturated[1][k])
        assert np.isnan(stats.dead[0][k])            # a Linear layer is neither
    assert stats.ranges[3] == (-1.0, 1.0)            # tanh's own range by default
    assert stats.hist[3].shape == (3, 8) and stats.mean[3].shape == (3,)


def test_histogram_edge_cases_match_numpy(rng):
    # values exactly on the range ends (a saturated tanh gives exactly 1.0), below and above it
    model = cl.Sequential(cl.Tanh())
    stats = cl.diagnostics.ActivationStats(model, bins=10)
    x = np.array([[-40.0, -1.0, 0.0, 0.5, 40.0, 3.0]])
    out = model(x)
    stats.step()
    assert out.max() == 1.0 and out.min() == -1.0
    ref, _ = np.histogram(out, bins=10, range=(-1.0, 1.0))
    np.testing.assert_array_equal(stats.hist[0][0], ref)
    assert stats.outside[0][0] == 0.0
    relu = cl.Sequential(cl.ReLU())
    stats = cl.diagnostics.ActivationStats(relu, bins=6, range=(0.0, 3.0))
    relu(np.array([[-1.0, 0.0, 2.99, 3.0, 3.01, 7.0]]))
    stats.step()
    np.testing.assert_array_equal(stats.hist[0][0], [2, 0, 0, 0, 0, 2])
    assert stats.outside[0][0] == pytest.approx(2 / 6)


def fit_with(model, stats, X, y, lr=0.1, epochs=2, batch_size=10, val=True):
    return cl.fit(model, cl.SoftmaxCrossEntropy(), cl.SGD(model.parameters(), lr=lr), X, y,
                  epochs=epochs, batch_size=batch_size, val=(X[:8], y[:8]) if val else None,
                  shuffle=False, progress=False, callbacks=[stats])


def test_inside_fit_records_the_training_forward_passes_only(rng):
    X, y = rng.standard_normal((40, 4)), rng.integers(0, 3, 40)
    model = tiny_net(np.random.default_rng(0))
    stats = cl.diagnostics.ActivationStats(model)
    # lr = 0: the weights do not move, so step k saw batch k % 4 through the initial weights
    fit_with(model, stats, X, y, lr=0.0, epochs=3)
    np.testing.assert_array_equal(stats.steps, np.arange(12))     # no validation pass recorded
    for k in range(12):
        outs = by_hand(model, X[10 * (k % 4): 10 * (k % 4) + 10])
        assert stats.mean[1][k] == pytest.approx(outs[1].mean(), rel=1e-12)
        assert stats.std[3][k] == pytest.approx(outs[3].std(), rel=1e-10)


def test_every_and_steps_continue_over_fits(rng):
    X, y = rng.standard_normal((40, 4)), rng.integers(0, 3, 40)
    model = tiny_net(np.random.default_rng(0))
    stats = cl.diagnostics.ActivationStats(model, every=3)
    fit_with(model, stats, X, y, epochs=2)          # steps 0..7
    np.testing.assert_array_equal(stats.steps, [0, 3, 6])
    fit_with(model, stats, X, y, epochs=1)          # steps 8..11 of the same object
    np.testing.assert_array_equal(stats.steps, [0, 3, 6, 9])
    assert len(stats) == 4 and stats.hist[1].shape == (4, stats.bins)


def test_forward_passes_outside_a_step_are_not_recorded(rng):
    X, y = rng.standard_normal((40, 4)), rng.integers(0, 3, 40)
    model = tiny_net(np.random.default_rng(0))
    stats = cl.diagnostics.ActivationStats(model)
    model(100.0 * X)                                # before training: dropped at on_train_begin
    model.eval()
    fit_with(model, stats, X, y, lr=0.0, epochs=1, val=False)
    outs = by_hand(model, X[:10])
    assert stats.mean[1][0] == pytest.approx(outs[1].mean(), rel=1e-12)
    model.eval()(X)                                 # eval-mode passes are never recorded
    stats.step()
    assert len(stats) == 4


def test_exploded_run_keeps_only_completed_steps(rng):
    X, y = rng.standard_normal((40, 4)), rng.integers(0, 3, 40)
    model = tiny_net(np.random.default_rng(0))
    stats = cl.diagnostics.ActivationStats(model)
    hist = fit_with(model, stats, 3 * X, y, lr=50.0, epochs=5)
    assert hist.status == "exploded"
    assert len(stats) == hist.steps - 1             # the exploding step never ended
    assert np.all(np.isfinite(stats.mean[1]))


def test_remove_drops_the_hooks_and_keeps_the_records(rng):
    X, y = rng.standard_normal((40, 4)), rng.integers(0, 3, 40)
    model = tiny_net(np.random.default_rng(0))
    with cl.diagnostics.ActivationStats(model) as stats:
        fit_with(model, stats, X, y, epochs=1)
    assert len(stats) == 4
    assert all(not layer._forward_hooks for layer in model.layers)
    fit_with(model, stats, X, y, epochs=1)
    assert len(stats) == 4
    stats.remove()                                  # twice is harmless


def test_two_stats_on_one_model_and_wrong_model(rng):
    X, y = rng.standard_normal((40, 4)), rng.integers(0, 3, 40)
    model = tiny_net(np.random.default_rng(0))
    a = cl.diagnostics.ActivationStats(model)
    b = cl.diagnostics.ActivationStats(model, every=2)
    cl.fit(model, cl.SoftmaxCrossEntropy(), cl.SGD(model.parameters(), lr=0.1), X, y, epochs=1,
           batch_size=10, progress=False, callbacks=[a, b], rng=0)
    assert len(a) == 4 and len(b) == 2
    np.testing.assert_array_equal(a.mean[1][[0, 2]], b.mean[1])
    with pytest.raises(ValueError, match="another model"):
        fit_with(tiny_net(rng), a, X, y)


def test_dead_fraction_on_a_planted_dead_unit(rng):
    model = cl.Sequential(cl.Linear(3, 5, rng=0), cl.ReLU(), cl.Linear(5, 2, rng=0))
    model[0].b.data[2] = -1e3                       # unit 2 can never fire: dead
    # unit 4 fires only when feature 0 is large: alive on the whole set, silent on most batches
    model[0].W.data[:, 4] = [10.0, 0.0, 0.0]
    model[0].b.data[4] = -50.0
    X = rng.uniform(-1, 1, (64, 3))
    X[37, 0] = 9.0                                  # the one example that wakes unit 4
    stats = cl.diagnostics.ActivationStats(model)
    for start in range(0, 64, 16):
        model(X[start:start + 16])
        stats.step()
    # per batch: unit 2 is always dead; unit 4 too, except in the batch holding example 37
    np.testing.assert_allclose(stats.dead[1], [2 / 5, 2 / 5, 1 / 5, 2 / 5])
    # on the whole set only unit 2 is dead
    masks = cl.diagnostics.dead_units(model, X, batch_size=16)
    np.testing.assert_array_equal(masks[1], [False, False, True, False, False])
    assert stats.dead_on(X) == {1: pytest.approx(1 / 5)}
    assert model.training                           # the mode is restored


def test_bad_arguments(rng):
    model = tiny_net(rng)
    with pytest.raises(ValueError, match="every must be a positive integer"):
        cl.diagnostics.ActivationStats(model, every=0)
    with pytest.raises(ValueError, match="bins must be a positive integer"):
        cl.diagnostics.ActivationStats(model, bins=0)
    with pytest.raises(ValueError, match="lo < hi"):
        cl.diagnostics.ActivationStats(model, range=(1.0, 1.0))
    with pytest.raises(ValueError, match=r"range must be \(lo, hi\)"):
        cl.diagnostics.ActivationStats(model, range=3.0)
    with pytest.raises(ValueError, match="indices into model.layers"):
        cl.diagnostics.ActivationStats(model, layers=[7])
    with pytest.raises(ValueError, match="not one of the model's layers"):
        cl.diagnostics.ActivationStats(model, layers=[cl.ReLU()])
    with pytest.raises(ValueError, match="watched once"):
        cl.diagnostics.ActivationStats(model, layers=[1, 1])
    with pytest.raises(ValueError, match="no layer to watch"):
        cl.diagnostics.ActivationStats(cl.Sequential(cl.Linear(2, 2)))
    with pytest.raises(TypeError, match="Sequential"):
        cl.diagnostics.ActivationStats(cl.ReLU())


def test_repr_and_empty_results(rng):
    model = tiny_net(rng)
    stats = cl.diagnostics.ActivationStats(model)
    assert "0 recorded steps" in repr(stats)
    assert stats.mean[1].shape == (0,) and stats.hist[1].shape == (0, stats.bins)
    model(rng.standard_normal((5, 4)))
    stats.step()
    assert "1: ReLU()" in repr(stats) and "dead %" in repr(stats)


# ---------------------------------------------------------------------------------------------
# plots of ActivationStats
# ---------------------------------------------------------------------------------------------

@pytest.fixture
def recorded(rng):
    X, y = rng.standard_normal((40, 4)), rng.integers(0, 3, 40)
    model = tiny_net(np.random.default_rng(0))
    stats = cl.diagnostics.ActivationStats(model)
    fit_with(model, stats, X, y, epochs=3)
    return stats


def test_plots_draw_what_was_recorded(recorded):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    axes = cl.plots.plot_activation_stats(recorded)
    assert len(axes) == 2 and len(axes[0].lines) == 2 + 1          # 2 layers + the zero line
    np.testing.assert_array_equal(axes[1].lines[0].get_ydata(), recorded.std[1])
    assert axes[1].get_yscale() == "log"
    axes = cl.plots.plot_colorful_dimension(recorded)
    assert len(axes) == 2
    img = axes[0].images[0].get_array()
    np.testing.assert_allclose(img, np.log1p(recorded.hist[1].T))
    assert axes[1].images[0].get_extent()[2:] == [-1.0, 1.0]      # tanh's range on y
    ax = cl.plots.plot_dead_saturated(recorded)
    labels = [line.get_label() for line in ax.lines]
    assert labels == ["1 dead", "3 saturated"]
    ax = cl.plots.plot_dead_saturated(recorded, which="dead")
    np.testing.assert_allclose(ax.lines[0].get_ydata(), 100 * recorded.dead[1])
    plt.close("all")


def test_plots_reject_what_they_cannot_draw(recorded, rng):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    with pytest.raises(ValueError, match="not recorded"):
        cl.plots.plot_activation_stats(recorded, layers=[0])
    with pytest.raises(ValueError, match="no recorded step"):
        cl.plots.plot_colorful_dimension(cl.diagnostics.ActivationStats(tiny_net(rng)))
    with pytest.raises(ValueError, match="has a saturated reading"):
        cl.plots.plot_dead_saturated(recorded, layers=[1], which="saturated")
    with pytest.raises(ValueError, match="which must be"):
        cl.plots.plot_dead_saturated(recorded, which="alive")
    plt.close("all")


# ---------------------------------------------------------------------------------------------
# the memory held by the forward caches
# ---------------------------------------------------------------------------------------------

def test_cache_memory_by_hand(rng):
    model = cl.Sequential(cl.Linear(4, 5, rng=0), cl.ReLU(), cl.Linear(5, 3, rng=0))
    mem = cl.diagnostics.cache_memory(model, rng.standard_normal((7, 4)))
    # Linear 0 keeps its input (7x4 float64), ReLU only its output (7x5: its backward reads
    # nothing else); Linear 2's input IS the ReLU's output array, counted once
    assert mem.total == 8 * (7 * 4 + 7 * 5) == 504
    assert mem.per_example == 72
    assert [(e["layer"], e["attr"], e["nbytes"], e["new"]) for e in mem.entries] == [
        ("0", "x", 224, 224), ("1", "out", 280, 280), ("2", "x", 280, 0)]
    assert mem.entries[2]["shared_with"] == "1.out"
    assert mem.by_layer() == {"0": 224, "1": 280, "2": 0}
    assert mem.parameter_bytes == 8 * (4 * 5 + 5 + 5 * 3 + 3)
    assert "504 bytes" in repr(mem)


def test_cache_memory_with_batchnorm_dropout_and_modes(rng):
    model = cl.Sequential(cl.Linear(4, 5, rng=0), cl.BatchNorm1d(5), cl.ReLU(),
                          cl.Dropout(0.5, rng=0), cl.Linear(5, 3, rng=0))
    X = rng.standard_normal((7, 4))
    train = cl.diagnostics.cache_memory(model, X)
    # x 224; BN x_hat 280 + inv_std 40 (running stats are buffers, not caches); ReLU out
    # 280; Dropout mask 280 (float64); Linear 4's x is the dropout output, a new array: 280
    assert train.total == 224 + 280 + 40 + 280 + 280 + 280 == 1384
    assert model.training
    model.eval()
    test = cl.diagnostics.cache_memory(model, X, training=False)
    # eval: no mask, and Dropout passes its input through, so Linear 4's x is ReLU's out
    assert test.total == 224 + 280 + 40 + 280 == 824
    assert not model.training
    # without X: the caches as they are now (the last pass)
    assert cl.diagnostics.cache_memory(model).total == 824


@pytest.mark.parametrize("n", [1, 16, 64])
def test_cache_memory_grows_linearly_with_the_batch_and_layernorm(n, rng):
    model = cl.Sequential(cl.Linear(8, 16, rng=0), cl.LayerNorm(16), cl.Tanh(), cl.Linear(16, 4, rng=0))
    mem = cl.diagnostics.cache_memory(model, rng.standard_normal((n, 8)))
    # x (n, 8); LayerNorm x_hat (n, 16) and inv_std (n, 1); Tanh x (n, 16); Linear 3 x: tanh's
    # output, a fresh array (n, 16)
    assert mem.total == 8 * n * (8 + 16 + 1 + 16 + 16)


def test_cache_memory_counts_a_view_of_the_input_once_and_only_its_rows(rng):
    big = rng.standard_normal((1000, 4))
    model = cl.Sequential(cl.Linear(4, 2, rng=0), cl.Linear(2, 2, rng=0))
    mem = cl.diagnostics.cache_memory(model, big[:10])       # a view: 10 rows, not 1000
    assert mem.total == 8 * (10 * 4 + 10 * 2)
    with pytest.raises(TypeError, match="expects a Module"):
        cl.diagnostics.cache_memory("model")


def test_sigmoid_saturation_matches_diagnostics(rng):
    model = cl.Sequential(cl.Linear(3, 8, rng=0), cl.Sigmoid())
    stats = cl.diagnostics.ActivationStats(model)
    x = 4.0 * rng.standard_normal((20, 3))
    out = model(x)
    stats.step()
    expected = cl.diagnostics.saturated_fraction(model[1], out)
    assert 0 < expected < 1
    assert stats.saturated[1][0] == expected
    assert stats.ranges[1] == (0.0, 1.0)
