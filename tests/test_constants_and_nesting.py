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
