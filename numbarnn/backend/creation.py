"""Arrays made from nothing or from a value: constants, ranges, identities and random
values."""
import builtins
import operator
import threading
import warnings

import numpy as np

from ..engine.dtype_policy import as_dtype
from ..engine.numerics import ieee_float
from ._convert import _a, _convert, _float_dtype, _index, _tensor
from .config import floatx
from .variables import variable


# dtype arguments are read as tf.as_dtype reads them (as_dtype): float is float32.
def zeros(shape, dtype=None, name=None):
    """Zeros of ``shape``: a :class:`numbarnn.Variable` (tf-keras returns a variable
    when no dimension is 0), else an array. ``dtype`` defaults to :func:`floatx`."""
    return _filled(np.zeros(shape, as_dtype(dtype or floatx())), name)


def ones(shape, dtype=None, name=None):
    """Ones of ``shape``, a :class:`numbarnn.Variable` as :func:`zeros` returns."""
    return _filled(np.ones(shape, as_dtype(dtype or floatx())), name)


def _filled(values, name):
    return variable(values, values.dtype, name) if builtins.all(values.shape) else values


def zeros_like(x, dtype=None, name=None):
    return np.zeros_like(_a(x), dtype=None if dtype is None else as_dtype(dtype))


def ones_like(x, dtype=None, name=None):
    return np.ones_like(_a(x), dtype=None if dtype is None else as_dtype(dtype))


def constant(value, dtype=None, shape=None, name=None):
    """A constant array (``tf.constant``).

    Parameters
    ----------
    value : array_like
        A number, nested list or array.
    dtype : str or numpy.dtype, optional
        Defaults to :func:`floatx` (whatever the type of ``value``). A Python float
        does not convert to an integer dtype (``TypeError``); arrays are cast.
    shape : tuple of int, optional
        A scalar (or one-element list) ``value`` fills it; a ``value`` with as many
        elements is reshaped to it.
    name : str, optional
        Unused.

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    TypeError
        If ``value`` does not convert to ``dtype`` or has another number of elements
        than ``shape``.
    ValueError
        If ``value`` is None, or a one-element array of more than one axis is to
        fill ``shape``.
    """
    out = _convert(value, dtype or floatx())
    if shape is None:
        return np.array(out)
    shape = tuple(_index(d, "shape") for d in np.ravel(shape))
    if out.shape == shape:
        return np.array(out)
    size = int(np.prod(shape))
    if out.size == size:
        return np.array(out.reshape(shape))
    if out.size == 1:
        if out.ndim > 1:
            raise ValueError(f"value must represent a scalar, got shape {list(out.shape)}")
        return np.full(shape, out.reshape(()), dtype=out.dtype)
    raise TypeError(f"Eager execution of tf.constant with unsupported shape. Value has "
                    f"{out.size} elements, but got `shape` {shape} with {size} elements).")


def eye(size, dtype=None, name=None):
    """A ``size`` x ``size`` identity matrix, as a :class:`numbarnn.Variable`.

    Parameters
    ----------
    size : int
    dtype : str or numpy.dtype, optional
        Defaults to :func:`floatx`.
    name : str, optional
        See :func:`variable`.

    Returns
    -------
    numbarnn.Variable
    """
    size = _index(size, "size")
    if size < 0:
        raise ValueError(f"Dimension {size} must be >= 0")
    dtype = as_dtype(dtype or floatx())
    return variable(np.eye(size, dtype=dtype), dtype, name)


def arange(start, stop=None, step=1, dtype="int32"):
    """A 1-D array ``start, start + step, ...`` up to ``stop`` excluded (``tf.range``).

    Parameters
    ----------
    start : number
        With ``stop`` None, the stop (and the start is 0); a negative one gives an
        empty array.
    stop : number, optional
    step : number
        Not 0; positive needs ``start <= stop``, negative ``start >= stop``.
    dtype : str or numpy.dtype
        The result is cast to it unless it is ``"int32"``, the default: then the dtype
        follows the arguments, as in tf-keras (``int32`` for Python integers,
        ``int64`` where they do not fit, ``float32`` for Python floats), so
        ``arange(0, 1, 0.25)`` is float32.

    Returns
    -------
    numpy.ndarray
        Element ``i`` is ``start + i * step`` computed in the result dtype.

    Raises
    ------
    ValueError
        If ``step`` is 0 or points away from ``stop``.
    """
    if stop is None and start < 0:
        start = 0
    if stop is None:
        start, stop = 0, start
    args = [_tensor(v) for v in (start, stop, step)]
    hierarchy = [np.dtype(t) for t in ("int32", "int64", "float16", "float32", "float64")]
    ranks = [hierarchy.index(a.dtype) if a.dtype in hierarchy else len(hierarchy)
             for a in args]
    kind = (hierarchy[builtins.max(ranks)] if builtins.max(ranks) < len(hierarchy)
            else np.result_type(*args))
    start, stop, step = (a.astype(kind).reshape(()) for a in args)
    if step == 0:
        raise ValueError(f"Requires delta != 0: {step}")
    if step > 0 and start > stop:
        raise ValueError(f"Requires start <= limit when delta > 0: {start}/{stop}")
    if step < 0 and start < stop:
        raise ValueError(f"Requires start >= limit when delta < 0: {start}/{stop}")
    with np.errstate(all="ignore"):
        if kind.kind in "iu":
            size = (np.abs(stop - start) + np.abs(step) - 1) // np.abs(step)
        else:
            size = np.ceil(np.abs((stop - start) / step))
        result = start + np.arange(int(size), dtype=kind) * step
    if dtype != "int32":
        result = result.astype(as_dtype(dtype))
    return result


# Calls so far per (op, seed): as a seeded TensorFlow op in eager mode (its kernel
# keeps a counter), the calls of one op with one seed draw a sequence (A1, A2, ...), the
# same sequence in every process, and not the same values each time; clear_session
# starts them again (tf-keras's clears the kernel cache).
_SEED_CALLS = {}
_SEED_LOCK = threading.Lock()


def _seeded(seed, op):
    """The generator of one call of random ``op`` with ``seed`` (None: one drawn from
    numpy's global generator, as tf-keras draws it)."""
    if seed is None:
        return np.random.default_rng(np.random.randint(10e6))
    seed = operator.index(seed) % 2 ** 64
    with _SEED_LOCK:
        calls = _SEED_CALLS.get((op, seed), 0)
        _SEED_CALLS[(op, seed)] = calls + 1
    return np.random.default_rng([seed, calls, _OPS.index(op)])


_OPS = ("random_uniform", "random_normal", "truncated_normal", "dropout")


def reset_seed_sequences():
    """Start every op seed's sequence again (what :func:`clear_session` does)."""
    with _SEED_LOCK:
        _SEED_CALLS.clear()


_RANDOM_DTYPES = ("float16", "float32", "float64", "int32", "int64")


def _uniform01(rng, shape, dtype):
    """Uniform [0, 1) values of ``dtype`` (float16 on its 1024-step grid, never 1.0)."""
    if dtype == np.float16:
        return (rng.integers(0, 1024, size=shape) / 1024).astype(np.float16)
    return rng.random(size=shape, dtype=dtype)


@ieee_float
def random_uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Uniform random values in ``[minval, maxval)``.

    Parameters
    ----------
    shape : tuple of int
    minval, maxval : number
        For an integer ``dtype`` both must be integers, with ``minval < maxval``.
    dtype : str or numpy.dtype, optional
        float16, float32, float64 (default :func:`floatx`), int32 or int64.
    seed : int, optional
        An op seed: the calls with one seed draw a reproducible sequence, new values
        at each call (as a seeded TensorFlow op's), though not TensorFlow's values.

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    ValueError
        For another ``dtype``, or integer bounds with ``minval >= maxval``.
    TypeError
        For float bounds with an integer ``dtype`` (the default bounds included).
    """
    dtype = as_dtype(dtype or floatx())
    if dtype.name not in _RANDOM_DTYPES:
        raise ValueError(f"Argument `dtype` got invalid value {dtype.name}. Accepted "
                         f"dtypes are {_RANDOM_DTYPES}.")
    low, high = _convert(minval, dtype), _convert(maxval, dtype)
    rng = _seeded(seed, "random_uniform")
    if dtype.kind == "i":
        if np.ndim(low) or np.ndim(high):
            raise ValueError("Integer `minval` and `maxval` must be scalars.")
        if low >= high:
            raise ValueError(f"Need minval < maxval, got {low} >= {high}")
        return rng.integers(low, high, size=shape, dtype=dtype)
    return _uniform01(rng, shape, dtype) * (high - low) + low


@ieee_float
def random_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Normal random values, ``mean + stddev * N(0, 1)``.

    Parameters
    ----------
    shape : tuple of int
    mean, stddev : float
    dtype : str or numpy.dtype, optional
        float16, float32 or float64; defaults to :func:`floatx`.
    seed : int, optional
        An op seed: the calls with one seed draw a reproducible sequence, new values
        at each call (as a seeded TensorFlow op's), though not TensorFlow's values.

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    TypeError
        For an integer ``dtype``.
    """
    return _normal(shape, mean, stddev, dtype, seed, "random_normal")


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """:func:`random_normal` with each value beyond two standard deviations from
    ``mean`` drawn again (``tf.random.truncated_normal``): the same arguments, result
    and errors."""
    return _normal(shape, mean, stddev, dtype, seed, "truncated_normal")


def _normal(shape, mean, stddev, dtype, seed, op):
    """The draw of :func:`random_normal` (``op``) or :func:`truncated_normal`."""
    dtype = _float_dtype(dtype, op)
    mean, stddev = _convert(mean, dtype), _convert(stddev, dtype)
    rng = _seeded(seed, op)
    if op == "truncated_normal":
        from ..initializers import draw_truncated_normal
        return draw_truncated_normal(rng, mean, stddev, shape).astype(dtype)
    draw = np.float32 if dtype == np.float16 else dtype
    return rng.standard_normal(size=shape, dtype=draw).astype(dtype) * stddev + mean


def random_bernoulli(shape, p=0.0, dtype=None, seed=None):
    """1 with probability ``p``, else 0 (tf-keras: a uniform draw ``<= p``).

    Parameters
    ----------
    shape : tuple of int
    p : float
    dtype : str or numpy.dtype, optional
        A float dtype; defaults to :func:`floatx`.
    seed : int, optional
        See :func:`random_uniform`.

    Returns
    -------
    numpy.ndarray
    """
    dtype = _float_dtype(dtype, "random_bernoulli")
    return (random_uniform(shape, dtype=dtype, seed=seed) <= p).astype(dtype)


def random_binomial(shape, p=0.0, dtype=None, seed=None):
    """:func:`random_bernoulli`, under its deprecated tf-keras name (it warns)."""
    warnings.warn("`tf.keras.backend.random_binomial` is deprecated, and will be removed "
                  "in a future version.Please use `tf.keras.backend.random_bernoulli` "
                  "instead.", stacklevel=2)
    return random_bernoulli(shape, p, dtype, seed)


def random_uniform_variable(shape, low, high, dtype=None, name=None, seed=None):
    """A variable of :func:`random_uniform` values in ``[low, high)`` (tf-keras's;
    ``seed=None`` takes one from numpy's global generator, as there)."""
    return variable(random_uniform(shape, low, high, dtype or floatx(), seed),
                    dtype=dtype, name=name)


def random_normal_variable(shape, mean, scale, dtype=None, name=None, seed=None):
    """A variable of :func:`random_normal` values (tf-keras's; ``seed=None`` takes
    one from numpy's global generator, as there)."""
    return variable(random_normal(shape, mean, scale, dtype or floatx(), seed),
                    dtype=dtype, name=name)
