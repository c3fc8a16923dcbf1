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
