"""Who owns which array, cached weights that must not go stale, copies, and calls from
several threads: tf-keras's variables and tensors make all of these hold by design."""
import concurrent.futures
import copy
import pickle
import threading

import numpy as np
import pytest

import numbarnn as nr
from numbarnn.kernels import threads
from conftest import run_on


@pytest.fixture
def x(rng):
    return rng.standard_normal((3, 5, 4)).astype(np.float32)


def on_python(layer, x, **kwargs):
    with nr.device("python"):
        return layer(x, **kwargs)


# -- weights: written only through assign, so the engines' caches see every change ----
def test_arrays_from_a_variable_cannot_change_it_behind_the_engines_back(layer_engine, x):
    layer = nr.SimpleRNN(5)
    before = layer(x)
    kernel = layer.cell.kernel
    copied = np.asarray(kernel)  # a copy, as np.asarray(tf.Variable)
    copied += 1.0
    np.testing.assert_array_equal(layer(x), before)
    for view in (kernel.value(), kernel[0], kernel[:, :2], kernel.T,
                 np.reshape(kernel, -1), np.transpose(kernel)):
        with pytest.raises(ValueError, match="read-only"):
            view[...] = 0.0
    with pytest.raises(ValueError, match="read-only"):
        np.copyto(kernel, 0.0)
    np.testing.assert_array_equal(layer(x), before)


def test_a_ufunc_writing_into_a_variable_refreshes_the_engines(layer_engine, x):
    layer = nr.SimpleRNN(5)
    layer(x)
    np.add(layer.cell.kernel, 1.0, out=layer.cell.kernel)
    got = layer(x)
    np.testing.assert_allclose(got, on_python(layer, x), rtol=1e-5, atol=1e-6)


def test_activation_and_residual_changes_after_a_call_are_used(layer_engine, x):
    layer = nr.SimpleRNN(4)
    tanh_out = layer(x)
    layer.cell.activation = nr.activations.get("relu")
    relu_out = layer(x)
    cell = nr.SimpleRNNCell(4)
    rnn = nr.RNN(nr.ResidualWrapper(cell))
    plain = nr.RNN(cell)(x)
    rnn(x)
    cell.activation = nr.activations.get("sigmoid")
    residual_sigmoid = rnn(x)
    assert not np.allclose(tanh_out, relu_out) and (relu_out >= 0).all()
    np.testing.assert_allclose(relu_out, on_python(layer, x), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(residual_sigmoid, on_python(rnn, x), rtol=1e-5, atol=1e-6)
    assert not np.allclose(plain + x[:, -1], residual_sigmoid)


def test_subclasses_with_their_own_step_are_not_replaced_by_the_fused_kernels(layer_engine, x):
    class Doubling(nr.SimpleRNNCell):
        def call(self, inputs, states, training=None):
            output, new = super().call(inputs, states, training=training)
            return 2.0 * output, new

    class Halving(nr.ResidualWrapper):
        def call(self, inputs, states, training=None, **kwargs):
            output, new = super().call(inputs, states, training=training, **kwargs)
            return 0.5 * output, new

    doubled = nr.RNN(Doubling(4), return_sequences=True)
    got = doubled(x)
    plain = nr.RNN(nr.SimpleRNNCell(4), return_sequences=True)
    plain(x)
    plain.set_weights(doubled.get_weights())
    halved = nr.RNN(Halving(nr.SimpleRNNCell(4)))
    half = halved(x)
    np.testing.assert_allclose(got[:, 0], 2 * plain(x)[:, 0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got, on_python(doubled, x), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(half, on_python(halved, x), rtol=1e-5, atol=1e-6)


# -- states ----------------------------------------------------------------------------
def test_stateful_states_are_variables_updated_in_place(layer_engine, x):
    layer = nr.SimpleRNN(5, stateful=True, batch_input_shape=(3, 5, 4))
    layer(x)
    held = layer.states  # a reference kept across calls sees the new states
    first = held[0].numpy()
    first[...] = 100.0  # a copy
    layer(x)
    after = held[0].numpy()
    layer.reset_states()
    expected = layer(x)  # from zeros
    layer.reset_states()
    layer.states[0].assign(np.zeros((3, 5)))
    np.testing.assert_array_equal(layer(x), expected)
    assert isinstance(held[0], nr.Variable) and held[0] is layer.states[0]
    h = np.zeros((3, 5), np.float32)
    layer.states = [h]
    h[...] = 7.0  # the setter copied it
    layer.reset_states(states=[np.zeros((3, 5))])
    again = layer(x)
    assert np.abs(after).max() < 1.0  # not 100: the state did not alias the copy
    np.testing.assert_array_equal(again, expected)
    assert bool(np.all(layer.states[0] == layer.states[0].numpy()))
    np.testing.assert_array_equal(nr.backend.get_value(layer.states[0]),
                                  layer.states[0].numpy())


def test_states_a_custom_cell_hands_back_are_not_the_callers_arrays(layer_engine, x):
    class Carry(nr.Layer):
        state_size, output_size = 3, 4

        def call(self, inputs, states):
            states[0][...] += 1.0  # in place, on the array the loop gave it
            return inputs * 2.0, states

    h0 = np.zeros((3, 3), np.float32)
    out, h = nr.RNN(Carry(), return_state=True)(x, initial_state=h0)
    assert not np.shares_memory(h, h0) and not h0.any()
    np.testing.assert_array_equal(h, np.full((3, 3), 5.0))
    np.testing.assert_array_equal(out, 2 * x[:, -1])


# -- copies --------------------------------------------------------------------------
@pytest.mark.parametrize("engine_name", ["cpu", "cuda"])
def test_deepcopy_and_pickle_give_independent_layers(engine_name, x):
    with run_on(engine_name):
        model = nr.Sequential([nr.Masking(), nr.SimpleRNN(4, kernel_regularizer="l2",
                                                           return_sequences=True),
                               nr.SimpleRNN(3)])
        want = model(x)
        for clone in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
            np.testing.assert_array_equal(clone(x), want)
            clone.set_weights([np.ones_like(w) for w in clone.get_weights()])
            kernel = clone.layers[1].cell.kernel
            assert float(clone.losses[0]) == pytest.approx(0.01 * kernel.size)
            assert not np.allclose(clone(x), want)
            np.testing.assert_array_equal(model(x), want)
    unbuilt = copy.deepcopy(nr.Sequential([nr.SimpleRNN(2)]))
    assert unbuilt(x).shape == (3, 2)


# -- threads ------------------------------------------------------------------------
def test_inference_calls_from_threads_with_dropout_cells(rng):
    """Outside training, no dropout mask is drawn or cached on the shared cell."""
    layer = nr.SimpleRNN(6, dropout=0.2, recurrent_dropout=0.3)
    inputs = [rng.standard_normal((b, 4, 3)).astype(np.float32) for b in (2, 3, 5, 7) * 6]
    want = [on_python(layer, v) for v in inputs]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda v: on_python(layer, v, training=False), inputs))
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
    assert layer.cell._dropout_mask_cache is None


def test_first_calls_from_threads_build_the_layer_once(x):
    layer = nr.SimpleRNN(8)
    start = threading.Barrier(4)

    def first_call():
        start.wait()
        return layer(x)

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        outputs = list(pool.map(lambda _: first_call(), range(4)))
    assert len(layer.weights) == 3
    for out in outputs[1:]:
        np.testing.assert_array_equal(out, outputs[0])


def test_the_thread_pool_grows_without_failing_calls_in_flight(monkeypatch, rng):
    """A larger batch grows the pool while other calls submit to it."""
    monkeypatch.setattr(threads, "_pool", None)
    monkeypatch.setattr(threads, "_pool_owner", None)
    monkeypatch.setattr(threads, "thread_count", lambda: 8)
    monkeypatch.setattr(threads, "MIN_PARALLEL_WORK", 0)
    layer = nr.SimpleRNN(4)
    inputs = [rng.standard_normal((b, 3, 2)).astype(np.float32) for b in (16, 64) * 8]
    with nr.device("cpu"):
        want = [layer(v) for v in inputs]
        for _ in range(5):
            threads._pool_owner = None  # each round grows a pool again
            with concurrent.futures.ThreadPoolExecutor(4) as pool:
                got = list(pool.map(layer, inputs))
            for g, w in zip(got, want):
                np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-7)


def test_states_are_shaped_as_the_cells_state_size(x):
    """tf-keras: ``layer.states`` packs the state variables as ``cell.state_size`` (a
    tuple for stacked cells, ``(None, None)`` before they exist)."""
    layer = nr.RNN([nr.SimpleRNNCell(3), nr.SimpleRNNCell(2)], stateful=True)
    assert nr.RNN([nr.SimpleRNNCell(3), nr.SimpleRNNCell(2)]).states == (None, None)
    layer(x)
    first, second = layer.states
    assert type(layer.states) is tuple and first.shape == (3, 3) and second.shape == (3, 2)
    assert type(nr.SimpleRNN(2).states) is list
