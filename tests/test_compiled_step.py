"""A user cell with a compiled step runs in the compiled loop with the same semantics."""
import numpy as np
import pytest
from numba import njit

import numbarnn as nr
from cells import UnitsCell


@njit
def leaky_step(x_t, h, params):
    kernel, decay = params
    new_h = decay[0] * h + np.tanh(x_t @ kernel)
    return new_h, new_h


class LeakyCell(UnitsCell):
    """h_t = decay * h_{t-1} + tanh(x_t W): the same maths in `call` and `compiled_step`."""

    compiled_step = staticmethod(leaky_step)

    def __init__(self, units, decay=0.5, **kwargs):
        super().__init__(units, **kwargs)
        self.decay = decay

    def build(self, input_shape):
        self.kernel = self.add_weight("kernel", (input_shape[-1], self.units))

    def compiled_params(self):
        return (self.kernel.value(), np.array([self.decay], self.kernel.dtype))

    def call(self, inputs, states):
        h = self.decay * states[0] + np.tanh(nr.backend.dot(inputs, self.kernel))
        return h, [h]


@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("zofm", [False, True])
def test_compiled_step_matches_python_loop(rng, go_backwards, zofm):
    layer = nr.RNN(LeakyCell(3), return_sequences=True, return_state=True,
                   go_backwards=go_backwards, zero_output_for_mask=zofm)
    x = rng.standard_normal((4, 6, 2)).astype("float32")
    mask = rng.random((4, 6)) > 0.3
    h0 = rng.standard_normal((4, 3)).astype("float32")
    with nr.device("cpu"):
        seq, h = layer(x, mask=mask, initial_state=h0)
    with nr.device("python"):
        ref_seq, ref_h = layer(x, mask=mask, initial_state=h0)
    np.testing.assert_allclose(seq, ref_seq, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h, ref_h, rtol=1e-5, atol=1e-6)
    # and against a hand loop
    k = layer.cell.kernel.numpy()
    hh = h0.astype(np.float64).copy()
    prev = np.zeros((4, 3))
    order = range(5, -1, -1) if go_backwards else range(6)
    for i, t in enumerate(order):
        new = 0.5 * hh + np.tanh(x[:, t] @ k)
        m = mask[:, t, None]
        hh = np.where(m, new, hh)
        prev = np.where(m, new, 0.0 if zofm else prev)
        np.testing.assert_allclose(seq[:, i], prev, rtol=1e-5, atol=1e-6)


def test_compiled_step_does_not_use_the_python_loop(rng, monkeypatch):
    import numbarnn.kernels as kernels

    def forbidden(*args, **kwargs):
        raise AssertionError("the generic Python loop ran")
    layer = nr.RNN(LeakyCell(2))
    x = rng.standard_normal((2, 3, 2)).astype("float32")
    layer(x)
    monkeypatch.setattr(kernels, "rnn", forbidden)
    with nr.device("cpu"):
        layer(x)
    with nr.device("python"), pytest.raises(AssertionError, match="generic Python loop"):
        layer(x)


@njit
def short_output_step(x_t, h, params):
    new_h = 0.5 * h + np.tanh(x_t @ params[0])
    return new_h[:1], new_h


@njit
def state_only_step(x_t, h, params):
    return 0.5 * h + np.tanh(x_t @ params[0])


@pytest.mark.parametrize("step,match", [
    (short_output_step, r"Received shapes \(1,\) and \(3,\)"),
    (state_only_step, r"must return \(output \(3,\), new_state \(3,\)\). Received: ndarray"),
])
def test_a_compiled_step_returning_wrong_shapes_is_an_error(rng, step, match):
    cell = LeakyCell(3)
    cell.compiled_step = step
    with nr.device("cpu"), pytest.raises(ValueError, match=match):
        nr.RNN(cell)(rng.standard_normal((2, 4, 2)).astype("float32"))


@njit
def shrinking_step(x_t, h, params):
    new_h = 0.5 * h + np.tanh(x_t @ params[0])
    # a full-length output at the first step only (x_t[0] is 0 there, 1 later)
    return (new_h if x_t[0] < 0.5 else new_h[:1]), new_h


def test_a_compiled_step_whose_output_length_changes_later_is_an_error():
    cell = LeakyCell(3)
    cell.compiled_step = shrinking_step
    x = np.ones((2, 4, 2), "float32")
    x[:, 0] = 0.0
    with nr.device("cpu"), pytest.raises(ValueError, match="another length than at the "
                                                             "first step"):
        nr.RNN(cell)(x)


@njit
def scribbling_step(x_t, h, params):
    x_t[:] = 99.0
    new_h = 0.5 * h + np.tanh(x_t @ params[0])
    return new_h, new_h


@pytest.mark.parametrize("time_major", [False, True])
def test_a_step_that_writes_its_input_leaves_the_callers_array(rng, time_major):
    cell = LeakyCell(3)
    cell.compiled_step = scribbling_step
    x = rng.standard_normal((4, 2, 2)).astype("float32")
    before = x.copy()
    with nr.device("cpu"):
        nr.RNN(cell, time_major=time_major)(x)
    np.testing.assert_array_equal(x, before)


class DropoutLeakyCell(nr.layers.DropoutRNNCellMixin, LeakyCell):
    def __init__(self, units, dropout=0.0, **kwargs):
        super().__init__(units, **kwargs)
        self.dropout = dropout
        self.recurrent_dropout = 0.0

    def call(self, inputs, states, training=None):
        mask = self.get_dropout_mask_for_cell(inputs, training)
        if mask is not None:
            inputs = inputs * mask
        return super().call(inputs, states)


def test_training_calls_of_a_cell_whose_call_takes_training_run_the_call(rng):
    layer = nr.RNN(DropoutLeakyCell(3, dropout=0.5), return_sequences=True)
    x = rng.standard_normal((8, 5, 4)).astype("float32")
    with nr.device("cpu"):
        inference = layer(x)
        training = layer(x, training=True)
    with nr.device("python"):
        np.testing.assert_allclose(layer(x), inference, rtol=1e-5, atol=1e-6)
    assert not np.allclose(training, inference)  # dropout applied
    # the input mask drops inputs and scales the others by 2
    layer.cell.reset_dropout_mask()
    mask = layer.cell.get_dropout_mask_for_cell(x[:, 0], True)
    assert set(np.unique(mask)) <= {0.0, 2.0}


@njit
def _two_argument_step(x_t, h):
    return h, h


class _TwoArgumentCell(LeakyCell):
    compiled_step = staticmethod(_two_argument_step)


def test_a_step_the_loop_cannot_call_names_how_the_loop_calls_it(rng):
    x = rng.standard_normal((2, 3, 2)).astype("float32")
    with nr.device("cpu"), pytest.raises(TypeError, match=r"`compiled_step` cannot be "
                                         r"called as the compiled loop calls it, "
                                         r"step\(x_t, h, params\), with x_t float32\[2\], "
                                         r"h float32\[3\] and params \(float32\[2, 3\], "
                                         r"float32\[1\]\).*too many arguments"):
        nr.RNN(_TwoArgumentCell(3))(x)
