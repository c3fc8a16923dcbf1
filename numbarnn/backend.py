"""The small set of array functions custom cells use (tf-keras ``backend``), on numpy."""
import numpy as np

from .engine.numerics import ieee_float
from .kernels.python_loop import rnn

__all__ = ["dot", "zeros", "ones", "zeros_like", "ones_like", "sigmoid", "tanh", "relu",
           "concatenate", "stack", "sum", "mean", "square", "sqrt", "exp", "abs",
           "maximum", "minimum", "clip", "reshape", "transpose", "expand_dims", "shape",
           "int_shape", "cast", "floatx", "epsilon", "rnn", "batch_dot", "softmax",
           "hard_sigmoid", "dtype", "get_value", "set_value", "batch_get_value",
           "batch_set_value"]

_FLOATX = ["float32"]


def floatx():
    """The default float dtype name (``"float32"``)."""
    return _FLOATX[0]


def epsilon():
    """The fuzz factor used in numeric expressions (1e-7, as in Keras)."""
    return 1e-7


def _a(x):
    return np.asarray(x)


@ieee_float
def dot(x, y):
    """Matrix product over the last axis of ``x`` and the first (or second-to-last) of ``y``."""
    return np.matmul(_a(x), _a(y))


@ieee_float
def batch_dot(x, y, axes=None):
    x, y = _a(x), _a(y)
    if axes is None:
        axes = (x.ndim - 1, y.ndim - 2 if y.ndim > 2 else 1)
    return np.einsum("bi,bi->b", x, y)[:, None] if x.ndim == y.ndim == 2 else np.matmul(x, y)


def zeros(shape, dtype=None, name=None):
    return np.zeros(shape, dtype or floatx())


def ones(shape, dtype=None, name=None):
    return np.ones(shape, dtype or floatx())


def zeros_like(x, dtype=None, name=None):
    return np.zeros_like(_a(x), dtype=dtype)


def ones_like(x, dtype=None, name=None):
    return np.ones_like(_a(x), dtype=dtype)


def sigmoid(x):
    from .activations import sigmoid as f
    return f(_a(x))


def hard_sigmoid(x):
    from .activations import hard_sigmoid as f
    return f(_a(x))


def softmax(x, axis=-1):
    from .activations import softmax as f
    return f(_a(x), axis=axis)


def tanh(x):
    return np.tanh(_a(x))


def relu(x, alpha=0.0, max_value=None, threshold=0.0):
    from .activations import relu as f
    return f(_a(x), alpha=alpha, max_value=max_value, threshold=threshold)


def concatenate(tensors, axis=-1):
    return np.concatenate([_a(t) for t in tensors], axis=axis)


def stack(x, axis=0):
    return np.stack([_a(t) for t in x], axis=axis)


@ieee_float
def sum(x, axis=None, keepdims=False):  # noqa: A001 - Keras name
    return np.sum(_a(x), axis=axis, keepdims=keepdims)


@ieee_float
def mean(x, axis=None, keepdims=False):
    return np.mean(_a(x), axis=axis, keepdims=keepdims)


@ieee_float
def square(x):
    return np.square(_a(x))


@ieee_float
def sqrt(x):
    return np.sqrt(_a(x))


@ieee_float
def exp(x):
    return np.exp(_a(x))


def abs(x):  # noqa: A001 - Keras name
    return np.abs(_a(x))


def maximum(x, y):
    return np.maximum(_a(x), _a(y))


def minimum(x, y):
    return np.minimum(_a(x), _a(y))


def clip(x, min_value, max_value):
    return np.clip(_a(x), min_value, max_value)


def reshape(x, shape):
    return np.reshape(_a(x), shape)


def transpose(x):
    return np.transpose(_a(x))


def expand_dims(x, axis=-1):
    return np.expand_dims(_a(x), axis)


def shape(x):
    return np.shape(x)


def int_shape(x):
    return tuple(np.shape(x))


def dtype(x):
    return np.asarray(x).dtype.name


def cast(x, dtype):
    return _a(x).astype(dtype)


def get_value(x):
    """A numpy copy of a variable's (or array's) value."""
    return np.array(x)


def set_value(x, value):
    """Assign ``value`` to the variable ``x`` (its shape must match)."""
    x.assign(np.asarray(value))


def batch_get_value(tensors):
    return [get_value(x) for x in tensors]


def batch_set_value(tuples):
    """Assign each ``(variable, value)`` pair."""
    for x, value in tuples:
        set_value(x, value)
