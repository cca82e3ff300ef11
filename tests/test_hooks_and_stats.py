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
