"""The backend's element-wise maths, activations, comparisons and matrix products."""
import math
import operator

import numpy as np

from ..engine.numerics import ieee_float
from ._convert import (_FLOAT, _INEXACT, _NUMERIC, _REAL, _SIGNED, _a, _axis, _check_kind,
                       _pair, _tensor)
from .config import image_data_format


@ieee_float
def dot(x, y):
    """The product over the last axis of ``x`` and the second-to-last of ``y`` (the
    only one of a 1-D ``y``), as tf-keras's.

    For more than two axes the result has the shape ``x.shape[:-1] + y.shape[:-2] +
    y.shape[-1:]``, as ``np.dot`` (not the batched ``np.matmul``) gives it: shapes
    (2, 3) and (4, 3, 5) give (2, 4, 5).
    """
    x, y = _pair(x, y)
    if (x.ndim <= 2 and y.ndim <= 2) or y.ndim == 1:
        return np.matmul(x, y)
    # y's contracted axis first, then one matrix product (np.matmul: np.dot gives 0
    # for NaN * 0 in some shapes); tf-keras reshapes the same way
    if x.shape[-1] != y.shape[-2]:
        raise ValueError(f"Cannot do dot on inputs with shapes {x.shape} and {y.shape}: "
                         f"the last axis of x ({x.shape[-1]}) and the second-to-last of "
                         f"y ({y.shape[-2]}) differ.")
    # sizes spelled out: -1 cannot be inferred when an axis is empty
    ym = np.moveaxis(y, -2, 0).reshape(y.shape[-2], math.prod(y.shape[:-2]) * y.shape[-1])
    out = np.matmul(x.reshape(math.prod(x.shape[:-1]), x.shape[-1]), ym)
    return out.reshape(x.shape[:-1] + y.shape[:-2] + y.shape[-1:])


@ieee_float
def batch_dot(x, y, axes=None):
    """Dot product of ``x[b]`` and ``y[b]`` for each batch entry ``b``.

    Parameters
    ----------
    x, y : array of rank >= 2, the same batch size (axis 0)
    axes : int or (int, int), optional
        The axis of ``x`` and of ``y`` that are summed over (not 0). Default: the last
        of ``x`` and, for ``y`` of rank > 2, its second-to-last (else its last).

    Returns
    -------
    numpy.ndarray
        ``x``'s other axes then ``y``'s, after the batch axis; ``(batch, 1)`` when both
        are 2-D (as in tf-keras).
    """
    x, y = _pair(x, y)
    if x.ndim < 2 or y.ndim < 2:
        raise ValueError("Cannot do batch_dot on inputs with rank < 2. Received inputs "
                         f"with shapes {x.shape} and {y.shape}.")
    if x.shape[0] != y.shape[0]:
        raise ValueError("Cannot do batch_dot on inputs with different batch sizes. "
                         f"Received inputs with shapes {x.shape} and {y.shape}.")
    if axes is None:
        axes = (x.ndim - 1, y.ndim - 2 if y.ndim > 2 else y.ndim - 1)
    elif isinstance(axes, (int, np.integer)):
        axes = (axes, axes)
    ax_x, ax_y = (operator.index(a) % n for a, n in zip(axes, (x.ndim, y.ndim)))
    if ax_x == 0 or ax_y == 0:
        raise ValueError("Cannot perform batch_dot over axis 0. If your inputs are not "
                         "batched, add a dummy batch dimension to your inputs using "
                         f"K.expand_dims(x, 0). Received axes={axes}")
    if x.shape[ax_x] != y.shape[ax_y]:
        raise ValueError(f"Cannot do batch_dot on inputs with shapes {x.shape} and "
                         f"{y.shape} with axes={axes}. x.shape[{ax_x}] != "
                         f"y.shape[{ax_y}] ({x.shape[ax_x]} != {y.shape[ax_y]}).")
    xm = np.moveaxis(x, ax_x, -1)  # (batch, x-rest..., k)
    ym = np.moveaxis(y, ax_y, 1)  # (batch, k, y-rest...)
    batch, k = x.shape[0], x.shape[ax_x]
    out = np.matmul(xm.reshape(batch, math.prod(xm.shape[1:-1]), k),
                    ym.reshape(batch, k, math.prod(ym.shape[2:])))
    out = out.reshape((batch,) + xm.shape[1:-1] + ym.shape[2:])
    return out[:, None] if out.ndim == 1 else out


def sigmoid(x):
    from ..activations import sigmoid as f
    return f(_check_kind(_a(x), _FLOAT, "sigmoid"))  # tf.sigmoid takes no integers


def hard_sigmoid(x):
    from ..activations import hard_sigmoid as f
    return f(_check_kind(_a(x), _FLOAT, "hard_sigmoid"))


def softmax(x, axis=-1):
    from ..activations import softmax as f
    return f(_check_kind(_a(x), _FLOAT, "softmax"), axis=axis)


def tanh(x):
    return np.tanh(_check_kind(_a(x), _INEXACT, "tanh"))


def relu(x, alpha=0.0, max_value=None, threshold=0.0):
    from ..activations import relu as f
    return f(_a(x), alpha=alpha, max_value=max_value, threshold=threshold)


@ieee_float
def square(x):
    return np.square(_check_kind(_a(x), _NUMERIC, "square"))


@ieee_float
def sqrt(x):
    """``sqrt(max(x, 0))``: negative values give 0, as in tf-keras."""
    x = _check_kind(_a(x), _FLOAT, "sqrt")  # tf-keras: a 0.0 of x's dtype
    return np.sqrt(np.maximum(x, x.dtype.type(0)))


@ieee_float
def exp(x):
    return np.exp(_check_kind(_a(x), _INEXACT, "exp"))  # np.exp(bool) is float16


def abs(x):  # noqa: A001 - Keras name
    return np.abs(_check_kind(_a(x), _NUMERIC, "abs"))


def maximum(x, y):
    return np.maximum(*_pair(x, y))


def minimum(x, y):
    return np.minimum(*_pair(x, y))


def clip(x, min_value, max_value):
    """``x`` clipped to ``[min_value, max_value]``, in ``x``'s dtype, as tf-keras's
    ``clip``: a Python-number ``max_value`` below a Python-number ``min_value`` is
    raised to it; None is no bound; the bounds may be arrays that broadcast.

    Raises
    ------
    TypeError
        For bool ``x``, or integer ``x`` with a bound that is not a whole number
        (tf-keras converts the bounds to ``x``'s dtype; None is an infinite bound).
    """
    x = _check_kind(_a(x), _REAL, "clip")
    if (isinstance(min_value, (int, float)) and isinstance(max_value, (int, float))
            and max_value < min_value):
        max_value = min_value
    lo = -np.inf if min_value is None else min_value
    hi = np.inf if max_value is None else max_value
    if x.dtype.kind in "iu":
        for bound in (lo, hi):
            values = np.asarray(bound)
            if isinstance(bound, (float, int)) or values.ndim:  # Python numbers, arrays
                if not np.all(np.isfinite(values)) or np.any(values != np.trunc(values)):
                    raise TypeError(f"clip: the bounds must be whole numbers for an "
                                    f"integer x of dtype {x.dtype}. Received: "
                                    f"min_value={min_value!r}, max_value={max_value!r}")
        lo, hi = (np.asarray(b).astype(x.dtype) for b in (lo, hi))  # numpy scalars cast
    # tf.clip_by_value's order, max(min(x, hi), lo): where an array bound has lo > hi
    # that gives lo (np.clip would give hi)
    return np.maximum(np.minimum(x, hi), lo).astype(x.dtype, copy=False)


@ieee_float
def log(x):
    """Natural logarithm of a floating-point ``x`` (``log(0)`` is ``-inf``, negative
    values give NaN).

    Raises
    ------
    TypeError
        For integer or bool ``x`` (``log(2)`` too: use ``log(2.0)``).
    """
    return np.log(_check_kind(_tensor(x), _INEXACT, "log"))


@ieee_float
def sin(x):
    """Sine of a floating-point ``x`` (``TypeError`` for integers)."""
    return np.sin(_check_kind(_tensor(x), _INEXACT, "sin"))


@ieee_float
def cos(x):
    """Cosine of a floating-point ``x`` (``TypeError`` for integers)."""
    return np.cos(_check_kind(_tensor(x), _INEXACT, "cos"))


@ieee_float
def pow(x, a):  # noqa: A001 - Keras name
    """``x ** a`` element-wise.

    Parameters
    ----------
    x : array_like
    a : number or array_like
        Takes the dtype of ``x`` (see the conversion rules of
        :mod:`numbarnn.backend`): ``pow(x, 2)`` of a float32 ``x`` is float32; a float
        exponent of an integer ``x`` is a ``TypeError``.

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    ValueError
        For integers to negative integer powers.
    """
    x, a = _pair(x, a)
    return np.power(_check_kind(x, _SIGNED, "pow"), a)


def sign(x):
    """-1, 0 or 1 by the sign of ``x`` (NaN stays NaN), of the dtype of ``x``.

    Raises
    ------
    TypeError
        For bool or unsigned integer ``x``.
    """
    return np.sign(_check_kind(_tensor(x), _SIGNED, "sign"))


def round(x):  # noqa: A001 - Keras name
    """``x`` rounded to the nearest integer, ties to even, in the dtype of ``x``.

    Raises
    ------
    TypeError
        For bool or complex ``x``.
    """
    return np.round(_check_kind(_tensor(x), _REAL, "round"))


def elu(x, alpha=1.0):
    """Exponential linear unit: ``x`` where ``x > 0``, else ``alpha * (exp(x) - 1)``.

    Raises
    ------
    TypeError
        For a non-float ``x``.
    """
    from ..activations import elu as f
    return f(_check_kind(_tensor(x), _FLOAT, "elu"), alpha=alpha)


def softplus(x):
    """``log(1 + exp(x))`` of a floating-point ``x`` (``TypeError`` otherwise)."""
    from ..activations import softplus as f
    return f(_check_kind(_tensor(x), _FLOAT, "softplus"))


def softsign(x):
    """``x / (1 + |x|)`` of a floating-point ``x`` (``TypeError`` otherwise)."""
    from ..activations import softsign as f
    return f(_check_kind(_tensor(x), _FLOAT, "softsign"))


@ieee_float
def l2_normalize(x, axis=None):
    """``x / sqrt(max(sum(x ** 2, axis), 1e-12))`` (``tf.linalg.l2_normalize``).

    Parameters
    ----------
    x : array_like
        Floating-point.
    axis : int or list of int, optional
        The axes of the norm; None: all axes.

    Returns
    -------
    numpy.ndarray
        Of the shape and dtype of ``x``; an all-zero slice stays zero (NaN in
        float16, where 1e-12 underflows to 0, as in TensorFlow).

    Raises
    ------
    TypeError
        For a non-float ``x``.
    """
    x = _tensor(x)
    if x.dtype.kind != "f":
        raise TypeError(f"Cannot convert 1e-12 to EagerTensor of dtype {x.dtype.name} "
                        "(`l2_normalize` takes floating-point arrays).")
    square_sum = np.sum(np.square(x), axis=_axis(axis), keepdims=True, dtype=x.dtype)
    return x * (1 / np.sqrt(np.maximum(square_sum, x.dtype.type(1e-12))))


def bias_add(x, bias, data_format=None):
    """``x`` plus ``bias`` along the channel axis.

    Parameters
    ----------
    x : array_like
        At least 2-D.
    bias : array_like
        1-D, of the length of the channel axis (the last one with
        ``"channels_last"``, axis 1 with ``"channels_first"``); or, for a 3- to 5-D
        ``x``, of ``x.ndim - 1`` axes in ``channels_last`` layout, broadcast over the
        batch (with ``"channels_first"`` it is reshaped, as tf-keras reshapes it, to
        ``(1, bias.shape[-1]) + bias.shape[:-1]``). Takes the dtype of ``x`` (unless
        ``bias`` is a variable and ``x`` is not; see the conversion rules of
        :mod:`numbarnn.backend`).
    data_format : {"channels_last", "channels_first"}, optional
        Defaults to :func:`image_data_format`.

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    ValueError
        For an unknown ``data_format``, a bias of the wrong rank or length, or a
        ``x`` of less than 2 axes.
    """
    if data_format is None:
        data_format = image_data_format()
    if data_format not in {"channels_first", "channels_last"}:
        raise ValueError("Unknown data_format: " + str(data_format))
    x, bias = _pair(x, bias)
    nd = x.ndim
    if bias.ndim != 1 and bias.ndim != nd - 1:
        raise ValueError("Unexpected bias dimensions %d, expect to be 1 or %d dimensions"
                         % (bias.ndim, nd - 1))
    if bias.ndim == 1:
        if nd < 2:
            raise ValueError(f"Input tensor must be at least 2D: {list(x.shape)}")
        channel = 1 if data_format == "channels_first" else nd - 1
        if x.shape[channel] != bias.shape[0]:
            raise ValueError(f"Must provide as many biases as the channel dimension of "
                             f"the input tensor: {list(bias.shape)} vs. {list(x.shape)}")
        return x + bias.reshape((-1,) + (1,) * (nd - 1 - channel))
    if nd in (3, 4, 5):
        if data_format == "channels_first":
            return x + bias.reshape((1, bias.shape[-1]) + bias.shape[:-1])
        return x + bias.reshape((1,) + bias.shape)
    raise ValueError(f"Biases must be 1D: {list(bias.shape)}")


def _comparison(op, doc, kinds="biufc"):
    @ieee_float
    def compare(x, y):
        x, y = _pair(x, y)
        return op(_check_kind(x, kinds, op.__name__), y)
    compare.__doc__ = (f"``{doc}`` element-wise, with broadcasting: a bool array.\n\n"
                       "``y`` takes the dtype of ``x`` (see the conversion rules of "
                       ":mod:`numbarnn.backend`).")
    return compare


equal = _comparison(np.equal, "x == y")
not_equal = _comparison(np.not_equal, "x != y")
greater = _comparison(np.greater, "x > y", _REAL)
greater_equal = _comparison(np.greater_equal, "x >= y", _REAL)
less = _comparison(np.less, "x < y", _REAL)
less_equal = _comparison(np.less_equal, "x <= y", _REAL)
for _name in ("equal", "not_equal", "greater", "greater_equal", "less", "less_equal"):
    globals()[_name].__name__ = globals()[_name].__qualname__ = _name
del _name
