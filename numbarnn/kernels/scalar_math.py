"""Activation functions as compiled scalar/row code, shared by the CPU kernels.

Each built-in activation has an integer code; the fused kernels switch on it. The
functions are plain Python decorated with ``njit``; the CUDA module compiles the same
scalar function bodies as device functions.
"""
import math

import numpy as np
from numba import njit

from .disk_cache import lock_index

# name -> code; the names are those of numbarnn.activations
ACTIVATION_CODES = {
    "linear": 0, "tanh": 1, "relu": 2, "sigmoid": 3, "hard_sigmoid": 4, "elu": 5,
    "selu": 6, "softplus": 7, "softsign": 8, "swish": 9, "silu": 9, "gelu": 10,
    "exponential": 11, "softmax": 12,
}
SOFTMAX = 12

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
_EXP_MAX = 709.782712893384  # log of the largest float64


def scalar_activation(code, x):
    """Apply activation ``code`` to one value (softmax excluded: it needs the row)."""
    if code == 1:
        return math.tanh(x)
    if code == 0:
        return x
    if code == 2:  # tf.nn.relu: NaN stays NaN, -inf gives 0
        return 0.0 if x < 0.0 else x
    if code == 3:
        if x >= 0.0:
            return 1.0 / (1.0 + math.exp(-x))
        e = math.exp(x)
        return e / (1.0 + e)
    if code == 4:  # clip(0.2 x + 0.5, 0, 1), NaN kept (as tf's clip)
        y = 0.2 * x + 0.5
        return 0.0 if y < 0.0 else (1.0 if y > 1.0 else y)
    if code == 5:
        return x if x > 0.0 else math.expm1(x)
    if code == 6:
        return _SELU_SCALE * (x if x > 0.0 else _SELU_ALPHA * math.expm1(x))
    if code == 7:
        return max(x, 0.0) + math.log1p(math.exp(-abs(x)))
    if code == 8:
        return x / (1.0 + abs(x))
    if code == 9:
        if x >= 0.0:
            return x / (1.0 + math.exp(-x))
        e = math.exp(x)
        return x * e / (1.0 + e)
    if code == 10:
        # 0.5 x erfc(-x / sqrt 2), as tf: 1 + erf(x / sqrt 2) cancels for x << 0
        return 0.5 * x * math.erfc(-x * 0.7071067811865476)
    if code == 11:
        # past log(DBL_MAX) exp overflows: inf, as in compiled code (Python's math.exp,
        # which the CUDA simulator runs, raises OverflowError there instead)
        return math.inf if x > _EXP_MAX else math.exp(x)
    return x


# error_model="numpy": IEEE division (as numpy) instead of a ZeroDivisionError check per
# division, which would stop LLVM from vectorising the loops.
CPU_JIT = {"cache": True, "error_model": "numpy"}
scalar_activation_cpu = lock_index(njit(inline="always", **CPU_JIT)(scalar_activation))

# float32 tanh as a rational function (the minimax fit Eigen uses for float): max error
# 3.4e-7 relative on [-12, 12] (about 3 ulp), exactly +-1 beyond the clamp, NaN kept.
# It vectorises, where libm's tanh costs 11-15 ns per element.
_F = np.float32
_TANH_CLAMP = _F(7.90531110763549805)
_A1, _A3, _A5, _A7 = _F(4.89352455891786e-03), _F(6.37261928875436e-04), \
    _F(1.48572235717979e-05), _F(5.12229709037114e-08)
_A9, _A11, _A13 = _F(-8.60467152213735e-11), _F(2.00018790482477e-13), \
    _F(-2.76076847742355e-16)
_B0, _B2, _B4, _B6 = _F(4.89352518554385e-03), _F(2.26843463243900e-03), \
    _F(1.18534705686654e-04), _F(1.19825839466702e-06)


@lock_index
@njit(**CPU_JIT)
def tanh_row_f32(z):
    """In-place float32 tanh of a contiguous row (see the constants above)."""
    for j in range(z.shape[0]):
        x = z[j]
        x = _TANH_CLAMP if x > _TANH_CLAMP else x
        x = -_TANH_CLAMP if x < -_TANH_CLAMP else x
        x2 = x * x
        p = x2 * _A13 + _A11
        p = x2 * p + _A9
        p = x2 * p + _A7
        p = x2 * p + _A5
        p = x2 * p + _A3
        p = x2 * p + _A1
        q = x2 * _B6 + _B4
        q = x2 * q + _B2
        q = x2 * q + _B0
        z[j] = x * p / q


# float64 tanh(a) = -expm1(-2a) / (2 + expm1(-2a)), with expm1 from a Cody-Waite range
# reduction (y = -m ln2 + r), a degree-13 Taylor polynomial on |r| <= ln2/2 and a table of
# 2^-m: about 2 ulp, and it vectorises (libm's tanh: 16 ns per element, this: ~2 ns).
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.44269504088896338700e+00
_POW2_NEG = np.array([2.0 ** -m for m in range(64)])
_C2, _C3, _C4, _C5, _C6, _C7, _C8, _C9, _C10, _C11, _C12, _C13 = [
    1.0 / math.factorial(k) for k in range(2, 14)]


@lock_index
@njit(**CPU_JIT)
def tanh_row_f64(z):
    """In-place float64 tanh of a contiguous row (see the comment above)."""
    for j in range(z.shape[0]):
        x = z[j]
        a = abs(x)
        a = 20.0 if a > 20.0 else a  # tanh(20) == 1 in float64
        y = -2.0 * a
        m = int(-y * _INV_LN2 + 0.5)
        m = 0 if m < 0 else (63 if m > 63 else m)  # also keeps NaN's index in range
        r = y + m * _LN2_HI + m * _LN2_LO
        p = _C13
        p = p * r + _C12
        p = p * r + _C11
        p = p * r + _C10
        p = p * r + _C9
        p = p * r + _C8
        p = p * r + _C7
        p = p * r + _C6
        p = p * r + _C5
        p = p * r + _C4
        p = p * r + _C3
        p = p * r + _C2
        scale = _POW2_NEG[m]
        em1 = scale * (r + r * r * p) + (scale - 1.0)
        z[j] = math.copysign(abs(em1 / (2.0 + em1)), x)


@lock_index
@njit(**CPU_JIT)
def activate_row(code, z):
    """Apply activation ``code`` in place to the 1-D row ``z``.

    The frequent activations get a loop each (so each vectorises); the rest share the
    scalar switch.
    """
    n = z.shape[0]
    if code == SOFTMAX:
        top = z[0]
        for j in range(1, n):
            top = max(top, z[j])
        total = 0.0
        for j in range(n):
            z[j] = math.exp(z[j] - top)
            total += z[j]
        for j in range(n):
            z[j] = z[j] / total
    elif code == 1:
        if z.itemsize == 4:
            tanh_row_f32(z)
        else:
            tanh_row_f64(z)
    elif code == 2:
        for j in range(n):
            v = z[j]
            z[j] = 0 if v < 0 else v
    elif code == 3:
        for j in range(n):
            z[j] = 1.0 / (1.0 + math.exp(-z[j]))
    elif code != 0:
        for j in range(n):
            z[j] = scalar_activation_cpu(code, z[j])
