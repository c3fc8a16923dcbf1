"""The backend's reductions and scans over axes."""
import numpy as np

from ..engine.numerics import ieee_float
from ._convert import _INEXACT, _NUMERIC, _REAL, _a, _axis, _check_kind, _index, _tensor
from .config import floatx


@ieee_float
def sum(x, axis=None, keepdims=False):  # noqa: A001 - Keras name
    """The sum along ``axis``, in ``x``'s dtype (integers wrap, as TensorFlow's)."""
    x = _a(x)
    return np.sum(x, axis=_axis(axis), keepdims=keepdims,
                  dtype=x.dtype if x.dtype.kind in "iu" else None)


@ieee_float
def mean(x, axis=None, keepdims=False):
    """The mean along ``axis``, as tf-keras's: bool counts as ``floatx()``, and an
    integer ``x`` keeps its dtype (``tf.reduce_mean``: the sum divided by the count,
    truncated toward zero; the sum of a narrower integer type is taken in 64 bits, as
    TensorFlow's accumulator is wider, so uint8 data does not wrap)."""
    x = _a(x)
    if x.dtype == np.bool_:
        x = x.astype(floatx())
    if x.dtype.kind not in "iu":
        return np.mean(x, axis=_axis(axis), keepdims=keepdims)
    wide = np.uint64 if x.dtype.kind == "u" else np.int64
    total = np.sum(x, axis=_axis(axis), keepdims=keepdims, dtype=wide)
    count = x.size // np.size(total) if x.size else 1  # the elements per mean
    return (np.sign(total) * (np.abs(total) // count)).astype(x.dtype)


def _extreme(fn, x, axis, keepdims, lowest):
    x = _check_kind(_tensor(x), _REAL, "max" if lowest else "min")
    if x.dtype.kind in "iu":
        info = np.iinfo(x.dtype)
        initial = info.min if lowest else info.max
    else:
        initial = -np.inf if lowest else np.inf
    # ``initial``: an empty reduction gives the identity (-inf / the lowest integer),
    # as TensorFlow's, where numpy raises.
    return fn(x, axis=_axis(axis), keepdims=keepdims, initial=initial)


@ieee_float
def max(x, axis=None, keepdims=False):  # noqa: A001 - Keras name
    """The maximum of ``x`` over ``axis``.

    Parameters
    ----------
    x : array_like
    axis : int or list of int, optional
        None: all axes.
    keepdims : bool
        Keep the reduced axes with length 1.

    Returns
    -------
    numpy.ndarray
        Of the dtype of ``x``. NaN propagates; an empty reduction gives ``-inf`` (the
        lowest integer for integers).
    """
    return _extreme(np.max, x, axis, keepdims, lowest=True)


@ieee_float
def min(x, axis=None, keepdims=False):  # noqa: A001 - Keras name
    """The minimum of ``x`` over ``axis`` (see :func:`max`; empty gives ``+inf``)."""
    return _extreme(np.min, x, axis, keepdims, lowest=False)


@ieee_float
def prod(x, axis=None, keepdims=False):
    """The product of ``x`` over ``axis`` (None: all axes), in the dtype of ``x``
    (integers wrap around on overflow, as TensorFlow's)."""
    x = _check_kind(_tensor(x), _NUMERIC, "prod")
    return np.prod(x, axis=_axis(axis), keepdims=keepdims, dtype=x.dtype)


def _moments_input(x, name):
    x = _tensor(x)
    if x.dtype.kind == "b":
        return x.astype(floatx())
    if x.dtype.kind not in _INEXACT:
        raise TypeError(f"Input must be either real or complex. Received integer type "
                        f"{x.dtype.name} (`{name}`).")
    return x


def _mean(x, axis, keepdims):
    # sum / count under ieee_float: an empty reduction is 0 / 0 = NaN, silently
    acc = np.dtype(np.float32) if x.dtype == np.float16 else x.dtype
    total = np.sum(x, axis=axis, keepdims=keepdims, dtype=acc)
    count = x.size // np.size(total) if np.size(total) else 1
    return (total / acc.type(count)).astype(x.dtype)


def _variance(x, axis, keepdims):
    axis = _axis(axis)
    centred = x - _mean(x, axis, True)
    return _mean(np.square(np.abs(centred)).astype(x.real.dtype), axis, keepdims)


@ieee_float
def var(x, axis=None, keepdims=False):
    """The variance of ``x`` over ``axis`` (None: all axes), the mean of the squared
    deviations (divided by ``n``, not ``n - 1``).

    Parameters
    ----------
    x : array_like
        Floating-point (bool is cast to :func:`floatx`).
    axis : int or list of int, optional
    keepdims : bool

    Returns
    -------
    numpy.ndarray
        Of the dtype of ``x``; an empty reduction is NaN.

    Raises
    ------
    TypeError
        For integer ``x``.
    """
    return _variance(_moments_input(x, "var"), axis, keepdims)


@ieee_float
def std(x, axis=None, keepdims=False):
    """The standard deviation of ``x`` over ``axis``: ``sqrt(var(x, axis, keepdims))``
    (see :func:`var`)."""
    return np.sqrt(_variance(_moments_input(x, "std"), axis, keepdims))


def all(x, axis=None, keepdims=False):  # noqa: A001 - Keras name
    """Logical AND of ``x != 0`` over ``axis`` (None: all axes); a bool array."""
    return np.all(_tensor(x).astype(bool), axis=_axis(axis), keepdims=keepdims)


def any(x, axis=None, keepdims=False):  # noqa: A001 - Keras name
    """Logical OR of ``x != 0`` over ``axis`` (None: all axes); a bool array."""
    return np.any(_tensor(x).astype(bool), axis=_axis(axis), keepdims=keepdims)


def _axis_of(x, axis):
    """An int ``axis`` of ``x``, checked as TensorFlow checks it."""
    if isinstance(axis, (list, tuple, float)):
        raise TypeError("axis must be int or Tensor with integer datatype")
    axis = _index(axis, "axis")
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"Expected dimension in the range [{-x.ndim}, {x.ndim}), but got "
                         f"{axis}")
    return axis


def _arg(fn, x, axis, fill):
    x = _check_kind(_tensor(x), "biuf", fn.__name__)
    axis = _axis_of(x, 0 if axis is None else axis)
    if x.dtype.kind == "f":
        nan = np.isnan(x)
        if nan.any():  # TensorFlow's scan never picks a NaN (unless all are NaN)
            x = np.where(nan, fill, x)
    return fn(x, axis=axis).astype(np.int64)


def argmax(x, axis=-1):
    """The index of the largest value along ``axis`` (int64).

    Parameters
    ----------
    x : array_like
    axis : int
        None means 0, as ``tf.argmax``.

    Returns
    -------
    numpy.ndarray of int64
        The first index on ties. NaN are skipped, as TensorFlow's: index 0 where
        all are NaN.
    """
    return _arg(np.argmax, x, axis, -np.inf)


def argmin(x, axis=-1):
    """The index of the smallest value along ``axis`` (int64; see :func:`argmax`)."""
    return _arg(np.argmin, x, axis, np.inf)


def _scan(fn, x, axis, name):
    x = _check_kind(_tensor(x), _NUMERIC, name)
    if axis is None:
        raise ValueError("Attempt to convert a value (None) with an unsupported type "
                         "(<class 'NoneType'>) to a Tensor.")
    return fn(x, axis=_axis_of(x, axis), dtype=x.dtype)


@ieee_float
def cumsum(x, axis=0):
    """The cumulative sum of ``x`` along ``axis`` (an int; not None), in the dtype of
    ``x``."""
    return _scan(np.cumsum, x, axis, "cumsum")


@ieee_float
def cumprod(x, axis=0):
    """The cumulative product of ``x`` along ``axis`` (an int; not None), in the dtype
    of ``x``."""
    return _scan(np.cumprod, x, axis, "cumprod")
