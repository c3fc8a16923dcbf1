"""constants=, list inputs [x, *states, *constants], multi-state cells, and StackedRNNCells."""
import numpy as np
import pytest

import numbarnn as nr
from cells import UnitsCell


class CellWithConstants(UnitsCell):
    def build(self, input_shape):
        self.kernel = self.add_weight("kernel", (input_shape[-1], self.units),
                                      initializer="ones")
        self.constant_kernel = self.add_weight("constant_kernel", (3, self.units),
                                               initializer="ones")

    def get_config(self):
        return {**super().get_config(), "units": self.units}

    def call(self, inputs, states, constants):
        out = inputs @ self.kernel + constants[0] @ self.constant_kernel + states[0]
        return out, [out]


def test_constants_reach_every_step(rng):
    x = rng.standard_normal((2, 4, 5)).astype("float32")
    c = rng.standard_normal((2, 3)).astype("float32")
    layer = nr.RNN(CellWithConstants(2), return_sequences=True)
    seq = layer(x, constants=c)
    h = np.zeros((2, 2))
    for t in range(4):
        h = x[:, t].sum(1, keepdims=True) + c.sum(1, keepdims=True) + h
        np.testing.assert_allclose(seq[:, t], h, rtol=1e-5)
    assert layer.get_config()["num_constants"] == 1
    # the flat list form [x, initial_state, constants]
    h0 = np.ones((2, 2), "float32")
    a = layer([x, h0, c])
    b = layer(x, initial_state=h0, constants=c)
    np.testing.assert_allclose(a, b)
    np.testing.assert_allclose(a[:, 0], seq[:, 0] + 1, rtol=1e-5)
    again = nr.RNN.from_config(layer.get_config(),
                               custom_objects={"CellWithConstants": CellWithConstants})
    assert again._num_constants == 1


def test_stacked_state_sizes_and_initial_state(rng):
    stack = nr.StackedRNNCells([nr.SimpleRNNCell(3), nr.SimpleRNNCell(2)])
    assert stack.state_size == (3, 2) and stack.output_size == 2
    init = stack.get_initial_state(batch_size=4, dtype="float32")
    assert [s.shape for s in init] == [(4, 3), (4, 2)]
    layer = nr.RNN(stack, return_state=True)
    assert layer.compute_output_shape((None, 5, 7)) == [(None, 2), (None, 3), (None, 2)]
    x = rng.standard_normal((4, 5, 7)).astype("float32")
    out, s1, s2 = layer(x)
    assert out.shape == (4, 2) and s1.shape == (4, 3)
    np.testing.assert_array_equal(out, s2)
    assert nr.RNN(nr.SimpleRNNCell(2), return_sequences=True,
                  time_major=True).compute_output_shape((7, None, 3)) == (7, None, 2)


def test_empty_stack_returns_its_inputs(engine):
    """tf-keras 2.21: ``RNN([])`` / ``RNN(StackedRNNCells([]))`` pass each step's input
    through (no states), with the usual masking and go_backwards rules. The expected
    values below were recorded from tf-keras."""
    x = np.arange(24, dtype="float32").reshape(2, 3, 4)
    mask = np.array([[1, 0, 1], [1, 1, 0]], bool)
    seq, = nr.RNN([], return_sequences=True, return_state=True)(x)
    np.testing.assert_array_equal(seq, x)
    np.testing.assert_array_equal(
        nr.RNN(nr.StackedRNNCells([]), return_sequences=True)(x, mask=mask),
        [[x[0, 0], x[0, 0], x[0, 2]], [x[1, 0], x[1, 1], x[1, 1]]])
    np.testing.assert_array_equal(nr.RNN([])(x, mask=mask), [x[0, 2], x[1, 1]])
    np.testing.assert_array_equal(nr.RNN([], go_backwards=True)(x), x[:, 0])
    layer = nr.RNN([])
    with pytest.raises(ValueError, match="output_size` is known only once it is built"):
        layer.compute_output_shape((2, 3, 4))
    layer(x)
    assert layer.compute_output_shape((None, 3, 4)) == (None, 4) and layer.weights == []
    assert nr.RNN.from_config(layer.get_config()).cell.cells == []


class HistoryCell(nr.Layer):
    """Keeps its last two inputs as two states, adding tuples of states (as cells
    written against tf-keras may: its RNN hands the cell a tuple)."""
    state_size = [2, 2]
    output_size = 2

    def call(self, inputs, states):
        return inputs, states[1:] + (inputs,)


def test_a_cell_gets_its_states_as_a_tuple(rng):
    x = rng.standard_normal((3, 4, 2)).astype("float32")
    out, older, newer = nr.RNN(HistoryCell(), return_state=True)(x)
    np.testing.assert_array_equal(out, x[:, -1])
    np.testing.assert_array_equal(older, x[:, -2])
    np.testing.assert_array_equal(newer, x[:, -1])


class ModeCell(UnitsCell):
    """Records the training mode it is called with; declares ``training=True``."""
    def build(self, input_shape):
        self.seen = []

    def call(self, inputs, states, training=True):
        self.seen.append(training)
        return states[0], [states[0]]


@pytest.mark.parametrize("wrap", ["rnn", "stack", "residual"])
def test_a_cells_training_default_applies_when_the_call_gives_none(rng, wrap):
    """tf-keras runs the cell's __call__, which turns training=None into the default
    of the cell's own ``training`` parameter; an explicit mode still wins."""
    cell = ModeCell(2)
    outer = {"rnn": cell, "stack": [cell],
             "residual": nr.ResidualWrapper(cell)}[wrap]
    layer = nr.RNN(outer)
    x = rng.standard_normal((2, 3, 2)).astype("float32")
    layer(x)
    assert cell.seen and set(cell.seen) == {True}
    cell.seen.clear()
    layer(x, training=False)
    assert set(cell.seen) == {False}


class KwargsCell(UnitsCell):
    def build(self, input_shape):
        self.got = set()

    def call(self, inputs, states, **kwargs):
        self.got.update(kwargs)
        return states[0], [states[0]]


def test_kwargs_do_not_make_a_cell_take_constants(rng):
    """As tf-keras's has_arg: ``**kwargs`` does not count for ``constants``."""
    x = rng.standard_normal((2, 3, 2)).astype("float32")
    c = rng.standard_normal((2, 3)).astype("float32")
    with pytest.raises(ValueError, match="does not support constants"):
        nr.RNN(KwargsCell(2))(x, constants=c)
    cell = KwargsCell(2)
    nr.RNN([cell])(x, constants=c)  # a stack passes constants only to cells that take them
    assert "constants" not in cell.got


class CallableCell:
    """A plain (non-Layer) callable cell whose __call__ is what runs, as in tf-keras."""
    state_size = 2
    output_size = 2

    def call(self, inputs, states):
        raise AssertionError("RNN calls a callable cell through __call__")

    def __call__(self, inputs, states):
        return inputs * 2.0, [states[0] + inputs]


@pytest.mark.parametrize("stacked", [False, True])
def test_a_callable_cell_runs_through_its_dunder_call(rng, stacked):
    x = rng.standard_normal((2, 3, 2)).astype("float32")
    cell = CallableCell()
    out, state = nr.RNN([cell] if stacked else cell, return_state=True)(x)
    np.testing.assert_allclose(out, 2 * x[:, -1], rtol=1e-6)
    np.testing.assert_allclose(state, x.sum(1), rtol=1e-5)


def test_a_cell_without_get_config_is_a_type_error():
    with pytest.raises(TypeError, match="get_config"):
        nr.layers.serialize(CallableCell())
