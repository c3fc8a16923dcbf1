"""Numeric vectors from the Keras test suites (reference §7.4), on every engine."""
import numpy as np
import pytest

import numbarnn as nr
from cells import UnitsCell
from numbarnn import initializers


def keras_simple_rnn(units=4, **kwargs):
    return nr.SimpleRNN(units, kernel_initializer=initializers.Constant(0.01),
                        recurrent_initializer=initializers.Constant(0.02),
                        bias_initializer=initializers.Constant(0.03), **kwargs)


@pytest.mark.parametrize("unroll", [False, True])
def test_correctness(engine, unroll):
    x = np.arange(24).reshape(2, 3, 4).astype("float32")
    out = keras_simple_rnn(unroll=unroll)(x)
    np.testing.assert_allclose(out, [[0.405432] * 4, [0.73605347] * 4], rtol=1e-5)
    out = keras_simple_rnn(unroll=unroll, go_backwards=True)(x)
    np.testing.assert_allclose(out, [[0.11144729] * 4, [0.5528889] * 4], rtol=1e-5)


def test_statefulness(engine):
    x = np.arange(24).reshape(2, 3, 4).astype("float32")
    layer = keras_simple_rnn(stateful=True)
    layer(x)
    out = layer(x)
    np.testing.assert_allclose(out, [[0.40559256] * 4, [0.7361247] * 4], rtol=1e-5)
    layer.reset_states()
    layer(x)
    np.testing.assert_allclose(layer(x), out, rtol=1e-6)


def test_pass_initial_state(engine):
    x = np.arange(24).reshape(2, 4, 3).astype("float32")
    h0 = np.arange(8).reshape(2, 4).astype("float32")
    out = keras_simple_rnn()(x, initial_state=h0)
    np.testing.assert_allclose(out, [[0.33621645] * 4, [0.6262637] * 4], rtol=1e-5)
    out = keras_simple_rnn(go_backwards=True)(x, initial_state=h0)
    np.testing.assert_allclose(out, [[0.07344437] * 4, [0.43043602] * 4], rtol=1e-5)


def test_masking(engine):
    x = np.arange(24).reshape(2, 4, 3).astype("float32")
    mask = np.array([[True, True, False, True], [True, False, False, True]])
    out = keras_simple_rnn(unroll=True)(x, mask=mask)
    np.testing.assert_allclose(out, [[0.32951632] * 4, [0.61799484] * 4], rtol=1e-5)
    seq = keras_simple_rnn(2, return_sequences=True)(x, mask=mask)
    np.testing.assert_allclose(seq[..., 0], [[0.0599281, 0.15122814, 0.15122814, 0.32394567],
                                             [0.3969304, 0.3969304, 0.3969304, 0.608085]],
                               rtol=1e-5)
    seq = keras_simple_rnn(2, return_sequences=True, zero_output_for_mask=True)(x, mask=mask)
    np.testing.assert_allclose(seq[..., 0], [[0.0599281, 0.15122814, 0.0, 0.32394567],
                                             [0.3969304, 0.0, 0.0, 0.608085]], rtol=1e-5)
    out = keras_simple_rnn(go_backwards=True)(x, mask=mask)
    np.testing.assert_allclose(out, [[0.07376196] * 4, [0.43645123] * 4], rtol=1e-5)


class OneStateCell(UnitsCell):
    """Keras 3 rnn_test cell: out = x @ 1 + h @ 1."""

    def build(self, input_shape):
        self.kernel = self.add_weight("kernel", (input_shape[-1], self.units),
                                      initializer="ones")
        self.recurrent_kernel = self.add_weight("recurrent_kernel", (self.units, self.units),
                                                initializer="ones")

    def call(self, inputs, states):
        out = nr.backend.dot(inputs, self.kernel) + nr.backend.dot(states[0],
                                                                   self.recurrent_kernel)
        return out, [out]


class TwoStatesCell(OneStateCell):
    @property
    def state_size(self):
        return [self.units, self.units]

    def call(self, inputs, states):
        o1 = inputs @ self.kernel + states[0] @ self.recurrent_kernel
        o2 = inputs @ self.kernel + states[0] @ self.recurrent_kernel
        return o1 + o2, [o1, o2]


def test_custom_cells_forward():
    x = np.ones((1, 2, 3), "float32")
    layer = nr.RNN(OneStateCell(2), return_sequences=True, return_state=True)
    seq, state = layer(x)
    np.testing.assert_allclose(seq, [[[3, 3], [9, 9]]])
    np.testing.assert_allclose(state, [[9, 9]])
    seq, s1, s2 = nr.RNN(TwoStatesCell(2), return_sequences=True, return_state=True)(x)
    np.testing.assert_allclose(seq, [[[6, 6], [18, 18]]])
    np.testing.assert_allclose(s1, [[9, 9]])
    np.testing.assert_allclose(s2, [[9, 9]])


def test_custom_cell_initial_state_stateful_and_go_backwards():
    x = np.ones((2, 3, 2), "float32")
    out = nr.RNN(OneStateCell(2))(x, initial_state=np.ones((2, 2), "float32"))
    np.testing.assert_allclose(out, [[22, 22], [22, 22]])
    out = nr.RNN(TwoStatesCell(2))(x, initial_state=[np.ones((2, 2), "float32")] * 2)
    np.testing.assert_allclose(out, [[44, 44], [44, 44]])
    layer = nr.RNN(OneStateCell(2), stateful=True)
    layer(np.ones((2, 3, 2), "float32"))  # state after call 1: 2, 6, 14
    # call 2 continues from 14: 2 + 2*14 = 30, 2 + 2*30 = 62, 2 + 2*62 = 126
    np.testing.assert_allclose(layer(np.ones((2, 3, 2), "float32")), [[126, 126]] * 2)
    x = np.arange(24).reshape(2, 3, 4).astype("float32")
    out = nr.RNN(OneStateCell(2), go_backwards=True)(x)
    np.testing.assert_allclose(out, [[202, 202], [538, 538]])


def test_custom_cell_masking():
    x = np.arange(24).reshape(2, 4, 3).astype("float32")
    mask = np.array([[True, True, True, False], [True, True, False, False]])
    seq = nr.RNN(OneStateCell(2), return_sequences=True)(x, mask=mask)
    np.testing.assert_allclose(seq[..., 0], [[3, 18, 57, 57], [39, 126, 126, 126]])


def test_stacked_custom_cells():
    x = np.arange(24).reshape(2, 3, 4).astype("float32")
    layer = nr.RNN([OneStateCell(3), OneStateCell(2)], return_sequences=True,
                   return_state=True)
    seq, s1, s2 = layer(x)
    np.testing.assert_allclose(seq[..., 0], [[18, 156, 786], [162, 1020, 4386]])
    np.testing.assert_allclose(s1, [[158] * 3, [782] * 3])
    np.testing.assert_allclose(s2, [[786] * 2, [4386] * 2])
    seq = nr.RNN([TwoStatesCell(3), TwoStatesCell(2)])(x)
    np.testing.assert_allclose(seq, [[3144] * 2, [17544] * 2])


def test_custom_cell_mixed_with_builtin_in_stack(engine, rng):
    """A Python cell stacked with a SimpleRNNCell falls back to the generic loop."""
    x = rng.standard_normal((2, 3, 4)).astype("float32")
    simple = nr.SimpleRNNCell(3, kernel_initializer="ones", recurrent_initializer="zeros",
                              activation="linear")
    out = nr.RNN([simple, OneStateCell(2)])(x)
    h = x.sum(-1, keepdims=True).repeat(3, -1)      # linear cell with zero recurrence
    s = np.zeros((2, 2))
    for t in range(3):
        s = h[:, t] @ np.ones((3, 2)) + s @ np.ones((2, 2))
    np.testing.assert_allclose(out, s, rtol=1e-5)
