"""Activation functions as compiled scalar/row code, shared by the CPU kernels.

Each built-in activation has an integer code; the fused kernels switch on it. The
functions are plain Python decorated with ``njit``; the CUDA module compiles the same
scalar function bodies as device functions.
"""
import math

from numba import njit

# name -> code; the names are those of numbarnn.activations
ACTIVATION_CODES = {
    "linear": 0, "tanh": 1, "relu": 2, "sigmoid": 3, "hard_sigmoid": 4, "elu": 5,
    "selu": 6, "softplus": 7, "softsign": 8, "swish": 9, "silu": 9, "gelu": 10,
    "exponential": 11, "softmax": 12,
}
SOFTMAX = 12

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def scalar_activation(code, x):
    """Apply activation ``code`` to one value (softmax excluded: it needs the row)."""
    if code == 1:
        return math.tanh(x)
    if code == 0:
        return x
    if code == 2:
        return x if x > 0.0 else 0.0 * x
    if code == 3:
        if x >= 0.0:
            return 1.0 / (1.0 + math.exp(-x))
        e = math.exp(x)
        return e / (1.0 + e)
    if code == 4:
        return min(1.0, max(0.0, 0.2 * x + 0.5))
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
        return 0.5 * x * (1.0 + math.erf(x * 0.7071067811865476))
    if code == 11:
        return math.exp(x)
    return x


scalar_activation_cpu = njit(cache=True, inline="always")(scalar_activation)


@njit(cache=True)
def activate_row(code, z):
    """Apply activation ``code`` in place to the 1-D row ``z``."""
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
        for j in range(n):
            z[j] = math.tanh(z[j])
    elif code != 0:
        for j in range(n):
            z[j] = scalar_activation_cpu(code, z[j])
