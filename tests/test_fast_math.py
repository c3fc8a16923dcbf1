"""The vectorised tanh implementations of the CPU kernels against numpy's tanh."""
import numpy as np
import pytest

from numbarnn.kernels.scalar_math import tanh_row_f32, tanh_row_f64


def sample(dtype):
    x = np.concatenate([np.linspace(-25, 25, 200_001), np.logspace(-30, 1.5, 2000),
                        -np.logspace(-30, 1.5, 2000), [0.0, -0.0, 1e-300]])
    return x.astype(dtype)


@pytest.mark.parametrize("fn,dtype,max_rel", [(tanh_row_f32, np.float32, 4e-7),
                                              (tanh_row_f64, np.float64, 6e-16)])
def test_fast_tanh_accuracy(fn, dtype, max_rel):
    x = sample(dtype)
    y = x.copy()
    fn(y)
    ref = np.tanh(x.astype(np.float64))
    rel = np.abs(y - ref) / np.maximum(np.abs(ref), np.finfo(dtype).tiny)
    assert rel.max() <= max_rel
    assert np.array_equal(np.signbit(y[-3:-1]), [False, True])  # tanh(+-0) = +-0
    special = np.array([np.nan, np.inf, -np.inf], dtype)
    fn(special)
    assert np.isnan(special[0]) and special[1] == 1.0 and special[2] == -1.0
