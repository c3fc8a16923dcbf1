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
    # an empty initial_state with constants is refused even by a built layer (tf-keras)
    with pytest.raises(ValueError, match="Layer has 1 states but was passed 0 initial"):
        layer(x, initial_state=[], constants=c)


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


class _TwoStateCell(nr.Layer):
    """state_size [u, u]: out = x @ ones + a / 2 + b / 4, new states [out, a]."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = [units, units]
        self.output_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight(name="k", shape=(input_shape[-1], self.units),
                                      initializer="ones")

    def call(self, inputs, states):
        a, b = states
        out = inputs @ self.kernel.numpy() + a * 0.5 + b * 0.25
        return out, [out, a]


def test_initial_state_counts_top_level_states_and_shapes_the_returned_states():
    """tf-keras 2.21: ``len(initial_state)`` must equal ``len(layer.states)`` (one entry
    per top-level state of the cell, so 2 for a stack of two two-state cells, whatever
    the number of leaves), and with ``return_state`` the final states come back in the
    structure of the initial states given (backend.rnn packs them so). Values recorded
    from tf-keras."""
    x = np.arange(24, dtype="float32").reshape(2, 3, 4) / 24
    h = [np.full((2, 3), 0.1, "float32"), np.full((2, 3), 0.2, "float32"),
         np.full((2, 2), 0.3, "float32"), np.full((2, 2), 0.4, "float32")]
    layer = nr.RNN([_TwoStateCell(3), _TwoStateCell(2)], return_state=True)
    with pytest.raises(ValueError, match="Layer has 2 states but was passed 4 initial "
                                         "states"):
        layer(x, initial_state=h)
    out, s1, s2 = layer(x, initial_state=((h[0], h[1]), (h[2], h[3])))
    assert type(s1) is tuple and type(s2) is tuple
    np.testing.assert_allclose(out, [[9.05, 9.05], [28.550001, 28.550001]], rtol=1e-6)
    np.testing.assert_allclose(s1[0][:, 0], [2.2291667, 6.2291665], rtol=1e-6)
    np.testing.assert_allclose(s1[1][:, 0], [1.1166667, 4.116667], rtol=1e-6)
    np.testing.assert_array_equal(s2[0], out)
    np.testing.assert_allclose(s2[1][:, 0], [4.075, 16.075], rtol=1e-6)
    # SimpleRNN cells stacked: [[h1], [h2]] gives [h1'], [h2'] back
    stack = nr.RNN([nr.SimpleRNNCell(3), nr.SimpleRNNCell(2)], return_state=True)
    o, n1, n2 = stack(x, initial_state=[[h[0]], [h[2]]])
    assert isinstance(n1, list) and len(n1) == 1 and n1[0].shape == (2, 3)
    assert isinstance(n2, list) and n2[0].shape == (2, 2)
    flat = stack(x, initial_state=[h[0], h[2]])
    np.testing.assert_array_equal(flat[1], n1[0])
    np.testing.assert_array_equal(flat[2], n2[0])
    with pytest.raises(ValueError, match="Layer has 2 states but was passed 1 initial"):
        stack(x, initial_state=[[h[0], h[2]]])


def test_stateful_layer_returns_states_in_the_structure_it_ran_from():
    """tf-keras 2.21, stateful with a nested ``initial_state``: while the stored states
    are all zero (first call, after reset_states) the call runs from the initial state
    and returns the final states in its structure; once they are not, it runs from the
    stored states and returns them flat."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 2)).astype("float32")
    h = [rng.standard_normal((2, 3)).astype("float32"),
         rng.standard_normal((2, 4)).astype("float32")]
    stateful = nr.RNN([nr.SimpleRNNCell(3), nr.SimpleRNNCell(4)], return_state=True,
                      stateful=True)
    stateful.build((2, 3, 2))
    plain = nr.RNN([nr.SimpleRNNCell(3), nr.SimpleRNNCell(4)], return_state=True)
    plain.build((2, 3, 2))
    plain.set_weights(stateful.get_weights())
    given = [[h[0]], [h[1]]]
    out, s1, s2 = stateful(x, initial_state=given)
    assert isinstance(s1, list) and isinstance(s2, list)  # nested, as given
    want = plain(x, initial_state=given)
    np.testing.assert_allclose(out, want[0], rtol=1e-6)
    np.testing.assert_allclose(s1[0], want[1][0], rtol=1e-6)
    out, s1, s2 = stateful(x, initial_state=given)  # from the stored states: flat
    assert s1.shape == (2, 3) and s2.shape == (2, 4)
    want = plain(x, initial_state=[want[1][0], want[2][0]])
    np.testing.assert_allclose(out, want[0], rtol=1e-6)
    np.testing.assert_allclose(s2, want[2], rtol=1e-6)
    stateful.reset_states()
    _, s1, _ = stateful(x, initial_state=given)
    assert isinstance(s1, list)
