"""The array functions custom cells and small layers use (tf-keras ``backend``), on numpy.

The functions take numpy arrays, :class:`numbarnn.Variable` objects, numpy scalars and
Python values (numbers, nested lists) and return numpy arrays (or numpy scalars), with
the results, dtypes and argument checks of ``tf_keras.backend`` 2.x:

* A Python value becomes an array as ``tf.convert_to_tensor`` makes a tensor of it:
  bools give ``bool``, integers ``int32`` (``int64`` when one does not fit), floats
  ``float32`` (never ``floatx()``); arrays, numpy scalars and variables keep their dtype.
* Where two operands meet (:func:`pow`, the comparisons, :func:`switch`,
  :func:`bias_add`), a Python operand takes the dtype of the array operand, and fails
  as TensorFlow fails (``TypeError``) where that would lose its value: a float into an
  integer dtype, a number into ``bool``. Two arrays of different dtypes, which tensors
  refuse, meet as TensorFlow meets a numpy array: the second is cast to the dtype of
  the first (a variable's dtype wins over a plain array's, as a ``tf.Variable``'s
  wins over a numpy array's).
* ``axis=None`` reduces over all axes; a reduction's ``axis`` may be an integer or a
  list or tuple of them.
* Floating-point arithmetic is IEEE and silent, as TensorFlow's: ``log(0)`` is
  ``-inf``, overflow gives ``inf``, with no numpy warning.
* The random functions draw from numpy's generator (``np.random.default_rng``): the
  same ``seed`` gives the same values here, but not TensorFlow's values. As in
  tf-keras, ``seed=None`` draws the seed from numpy's global generator
  (``np.random.randint(10e6)``), so ``np.random.seed`` makes them repeatable.
"""
import builtins
import numbers
import operator

import numpy as np

from .engine.dtype_policy import as_dtype
from .engine.numerics import ieee_float
from .engine.variables import Variable
from .kernels.python_loop import rnn

__all__ = ["dot", "zeros", "ones", "zeros_like", "ones_like", "sigmoid", "tanh", "relu",
           "concatenate", "stack", "sum", "mean", "square", "sqrt", "exp", "abs",
           "maximum", "minimum", "clip", "reshape", "transpose", "expand_dims", "shape",
           "int_shape", "cast", "floatx", "epsilon", "rnn", "batch_dot", "softmax",
           "hard_sigmoid", "dtype", "get_value", "set_value", "batch_get_value",
           "batch_set_value",
           # configuration
           "set_epsilon", "image_data_format", "set_image_data_format", "cast_to_floatx",
           "learning_phase", "clear_session",
           # creation
           "constant", "variable", "eye", "arange", "random_uniform", "random_normal",
           # shapes
           "ndim", "count_params", "squeeze", "flatten", "batch_flatten", "tile",
           "repeat", "repeat_elements", "permute_dimensions", "reverse", "gather",
           # reductions
           "max", "min", "prod", "std", "var", "all", "any", "argmax", "argmin",
           "cumsum", "cumprod",
           # element-wise
           "log", "pow", "sign", "round", "sin", "cos", "elu", "softplus", "softsign",
           "l2_normalize", "bias_add", "equal", "not_equal", "greater", "greater_equal",
           "less", "less_equal",
           # control flow and training
           "switch", "in_train_phase", "in_test_phase", "dropout", "stop_gradient"]

_FLOATX = ["float32"]
_EPSILON = [1e-7]
_IMAGE_DATA_FORMAT = ["channels_last"]


def floatx():
    """The default float dtype name (``"float32"``)."""
    return _FLOATX[0]


def epsilon():
    """The fuzz factor used in numeric expressions (1e-7 unless :func:`set_epsilon`)."""
    return _EPSILON[0]


def _a(x):
    return _tensor(x)  # Python values get TensorFlow's dtypes; arrays keep theirs


@ieee_float
def dot(x, y):
    """Matrix product over the last axis of ``x`` and the first (or second-to-last) of ``y``."""
    return np.matmul(*_pair(x, y))


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
    out = np.matmul(xm.reshape(batch, -1, k), ym.reshape(batch, k, -1))
    out = out.reshape((batch,) + xm.shape[1:-1] + ym.shape[2:])
    return out[:, None] if out.ndim == 1 else out


# dtype arguments are read as tf.as_dtype reads them (as_dtype): float is float32.
def zeros(shape, dtype=None, name=None):
    return np.zeros(shape, as_dtype(dtype or floatx()))


def ones(shape, dtype=None, name=None):
    return np.ones(shape, as_dtype(dtype or floatx()))


def zeros_like(x, dtype=None, name=None):
    return np.zeros_like(_a(x), dtype=None if dtype is None else as_dtype(dtype))


def ones_like(x, dtype=None, name=None):
    return np.ones_like(_a(x), dtype=None if dtype is None else as_dtype(dtype))


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
    """The sum along ``axis``, in ``x``'s dtype (integers wrap, as TensorFlow's)."""
    x = _a(x)
    return np.sum(x, axis=_axis(axis), keepdims=keepdims,
                  dtype=x.dtype if x.dtype.kind in "iu" else None)


@ieee_float
def mean(x, axis=None, keepdims=False):
    return np.mean(_a(x), axis=_axis(axis), keepdims=keepdims)


@ieee_float
def square(x):
    return np.square(_a(x))


@ieee_float
def sqrt(x):
    """``sqrt(max(x, 0))``: negative values give 0, as in tf-keras."""
    x = _a(x)
    return np.sqrt(np.maximum(x, x.dtype.type(0)))


@ieee_float
def exp(x):
    return np.exp(_a(x))


def abs(x):  # noqa: A001 - Keras name
    return np.abs(_a(x))


def maximum(x, y):
    return np.maximum(*_pair(x, y))


def minimum(x, y):
    return np.minimum(*_pair(x, y))


def clip(x, min_value, max_value):
    """``x`` clipped to ``[min_value, max_value]`` (a ``max_value`` below
    ``min_value`` is raised to it, as in tf-keras)."""
    if max_value is not None and min_value is not None and max_value < min_value:
        max_value = min_value
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
    return _a(x).dtype.name


def cast(x, dtype):
    return _a(x).astype(as_dtype(dtype))


def get_value(x):
    """A numpy copy of a variable's (or array's) value."""
    return np.array(x)


def set_value(x, value):
    """Assign ``value``, cast to the variable's dtype, to the variable ``x`` (its shape
    must match), as tf-keras's ``set_value``."""
    x.assign(np.asarray(value, dtype=x.dtype))


def batch_get_value(tensors):
    return [get_value(x) for x in tensors]


def batch_set_value(tuples):
    """Assign each ``(variable, value)`` pair."""
    for x, value in tuples:
        set_value(x, value)


# -- conversions ----------------------------------------------------------------------
# TensorFlow's kinds of dtype, for the argument checks of the functions below.
_FLOAT = "f"
_INEXACT = "fc"
_SIGNED = "ifc"  # tf.sign, tf.pow: no bool, no unsigned integers
_NUMERIC = "iufc"  # products and scans: no bool
_REAL = "iuf"  # ordering (max, greater, round): no bool, no complex

_INT32 = np.iinfo(np.int32)
_FLOAT32_MAX = float(np.finfo(np.float32).max)


def _is_array(x):
    return isinstance(x, (np.ndarray, np.generic, Variable))


def _has_numpy(value):
    """Whether ``value`` is, or nests, numpy data (which keeps its dtype)."""
    if isinstance(value, (list, tuple)):
        return builtins.any(_has_numpy(v) for v in value)
    return _is_array(value)


def _tensor(x, check_range=True):
    """``x`` as an array, with the dtype ``tf.convert_to_tensor`` gives it."""
    if isinstance(x, np.ndarray):
        return x
    if _has_numpy(x):
        return np.asarray(x)
    if x is None:
        raise ValueError("Attempt to convert a value (None) with an unsupported type "
                         "(<class 'NoneType'>) to a Tensor.")
    value = np.asarray(x)
    kind = value.dtype.kind
    if kind == "b":
        return value
    if kind in "iu":
        if value.size and (value.min() < _INT32.min or value.max() > _INT32.max):
            return value.astype(np.int64)
        return value.astype(np.int32)
    if kind == "f":
        big = np.isfinite(value) & (np.abs(value) > _FLOAT32_MAX)
        if check_range and big.any():
            raise ValueError("Can't convert Python sequence with a value out of range for "
                             "a single-precision float.")
        with np.errstate(over="ignore"):  # to an explicit float32: inf, as TensorFlow
            return value.astype(np.float32)
    if kind == "c":
        return value.astype(np.complex128)
    raise TypeError(f"Cannot convert {x!r} to a numeric array.")


def _convert(x, dtype):
    """``tf.convert_to_tensor(x, dtype)``: arrays are cast; a Python value must fit."""
    dtype = as_dtype(dtype)
    if _has_numpy(x):
        value = np.asarray(x)
        if value.dtype == dtype:
            return value
        with np.errstate(all="ignore"):
            return value.astype(dtype)
    value = _tensor(x, check_range=False)
    if not _converts(value.dtype, dtype):
        raise TypeError(f"Cannot convert {x!r} to EagerTensor of dtype {dtype.name}")
    with np.errstate(all="ignore"):
        return value.astype(dtype)


def _converts(source, dtype):
    """Whether TensorFlow converts a Python value of kind ``source`` to ``dtype``: a
    float only to a float (or complex) dtype, a number never to bool, a bool to bool,
    float and (oddly) int32, int64 and uint64 only."""
    kind, to = source.kind, dtype.kind
    if kind == "b":
        return to in "bf" or dtype.name in ("int32", "int64", "uint64")
    if kind in "iu":
        return to != "b"
    if kind == "f":
        return to in "fc"
    return to == "c"


def _pair(x, y):
    """Both operands in one dtype: the first variable's, else the first array's."""
    rank_x = 2 if isinstance(x, Variable) else int(_has_numpy(x))
    rank_y = 2 if isinstance(y, Variable) else int(_has_numpy(y))
    if rank_y > rank_x:
        y = _tensor(y)
        return _convert(x, y.dtype), y
    x = _tensor(x)
    return x, _convert(y, x.dtype)


def _check_kind(x, kinds, name):
    if x.dtype.kind not in kinds:
        raise TypeError(f"`{name}` does not support dtype {x.dtype.name}; it takes "
                        f"{_KIND_NAMES.get(kinds, kinds)} arrays.")
    return x


_KIND_NAMES = {_FLOAT: "floating-point", _INEXACT: "floating-point or complex",
               _SIGNED: "signed integer, floating-point or complex",
               _NUMERIC: "numeric (not bool)", _REAL: "integer or floating-point",
               "biuf": "bool, integer or floating-point"}


def _axis(axis):
    """A reduction's ``axis``: None, an integer, or a list, tuple or array of them."""
    if axis is None:
        return None
    if isinstance(axis, (list, tuple, np.ndarray, Variable)) and np.ndim(axis) > 0:
        return tuple(operator.index(a) for a in np.asarray(axis).tolist())
    return operator.index(axis.item() if isinstance(axis, np.ndarray) else axis)


def _index(value, what):
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"`{what}` must be an integer. Received: {what}={value!r}") from None


def _float_dtype(dtype, name):
    dtype = as_dtype(dtype or floatx())
    if dtype.kind != "f":
        raise TypeError(f"`{name}` draws floating-point values: `dtype` must be float16, "
                        f"float32 or float64. Received: dtype={dtype.name}")
    return dtype


# -- configuration --------------------------------------------------------------------
def set_epsilon(value):
    """Set the fuzz factor :func:`epsilon` returns.

    Parameters
    ----------
    value : float
        The new value.
    """
    _EPSILON[0] = value


def image_data_format():
    """The default image data format: ``"channels_last"`` unless
    :func:`set_image_data_format` set ``"channels_first"``."""
    return _IMAGE_DATA_FORMAT[0]


def set_image_data_format(data_format):
    """Set the default image data format (read by :func:`bias_add`).

    Parameters
    ----------
    data_format : {"channels_last", "channels_first"}

    Raises
    ------
    ValueError
        For any other value.
    """
    accepted = {"channels_last", "channels_first"}
    if data_format not in accepted:
        raise ValueError(f"Unknown `data_format`: {data_format}. "
                         f"Expected one of {accepted}")
    _IMAGE_DATA_FORMAT[0] = str(data_format)


def cast_to_floatx(x):
    """``x`` as an array of the default float dtype (:func:`floatx`)."""
    return np.asarray(x, dtype=floatx())


def clear_session():
    """Restart default layer naming (``dense``, ``dense_1``, ... from zero), as
    tf-keras's ``clear_session`` does; numbarnn holds no graph or session to free."""
    from .engine.base_layer import reset_uids
    reset_uids()


def learning_phase():
    """The global learning phase: 0 (test), as tf-keras's in eager mode.

    numbarnn has no graph-mode learning-phase placeholder and no ``set_learning_phase``
    (deprecated in tf-keras): the training mode of a layer call is its ``training``
    argument, which :func:`in_train_phase` reads first.
    """
    return 0


# -- creation -------------------------------------------------------------------------
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


def variable(value, dtype=None, name=None, constraint=None):
    """A :class:`numbarnn.Variable` holding ``value``.

    Parameters
    ----------
    value : array_like
        Initial value (copied).
    dtype : str or numpy.dtype, optional
        Defaults to :func:`floatx`, whatever the type of ``value``.
    name : str, optional
        The variable is named ``name + ":0"`` (``"Variable:0"`` without a name).
    constraint : callable, optional
        Stored on the variable, for an optimiser.

    Returns
    -------
    numbarnn.Variable

    Notes
    -----
    scipy sparse matrices (``tf.SparseTensor`` in tf-keras) are not supported.
    """
    value = _convert(value, dtype or floatx())
    return Variable(value, name=f"{name}:0" if name else "Variable:0", dtype=value.dtype,
                    constraint=constraint)


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


def _seeded(seed):
    if seed is None:
        seed = np.random.randint(10e6)
    return np.random.default_rng(seed)


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
        Seed of numpy's generator: the values are reproducible but differ from
        TensorFlow's for the same seed.

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
    rng = _seeded(seed)
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
        Seed of numpy's generator: the values are reproducible but differ from
        TensorFlow's for the same seed.

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    TypeError
        For an integer ``dtype``.
    """
    dtype = _float_dtype(dtype, "random_normal")
    mean, stddev = _convert(mean, dtype), _convert(stddev, dtype)
    rng = _seeded(seed)
    draw = np.float32 if dtype == np.float16 else dtype
    return rng.standard_normal(size=shape, dtype=draw).astype(dtype) * stddev + mean


# -- shapes ---------------------------------------------------------------------------
def ndim(x):
    """The number of axes of ``x``, a Python int."""
    return int(np.ndim(x))


def count_params(x):
    """The number of elements of ``x`` (``np.prod`` of its shape, as in tf-keras: a
    numpy int, or the float 1.0 for a scalar)."""
    return np.prod(list(np.shape(x)))


def squeeze(x, axis):
    """``x`` without its axis ``axis``, which must have length 1.

    Parameters
    ----------
    x : array_like
    axis : int

    Returns
    -------
    numpy.ndarray
    """
    return np.squeeze(_tensor(x), axis=_index(axis, "axis"))


def flatten(x):
    """``x`` as a 1-D array (a 0-d ``x`` gives one element)."""
    return np.reshape(_tensor(x), -1)


def batch_flatten(x):
    """``x`` as a 2-D array ``(x.shape[0], prod(x.shape[1:]))``; a 1-D ``x`` gives
    ``(n, 1)`` and a 0-d one ``(1, 1)``."""
    x = _tensor(x)
    cols = int(np.prod(x.shape[1:]))
    rows = x.shape[0] if x.ndim and not cols else (x.size // cols if cols else 1)
    return np.reshape(x, (rows, cols))


def tile(x, n):
    """``x`` repeated ``n[i]`` times along each axis ``i``.

    Parameters
    ----------
    x : array_like
    n : int or list of int
        One count per axis of ``x`` (an int for a 1-D ``x``).

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    ValueError
        If ``n`` has another length than ``x`` has axes, or a negative count.
    """
    x = _tensor(x)
    n = [n] if isinstance(n, (int, np.integer)) else [_index(k, "n") for k in n]
    if len(n) != x.ndim:
        raise ValueError(f"Expected multiples argument to be a vector of length {x.ndim} "
                         f"but got length {len(n)}")
    if builtins.any(k < 0 for k in n):
        raise ValueError(f"Expected multiples >= 0, but got {n}")
    return np.tile(x, n)


def repeat(x, n):
    """A 2-D ``x`` of shape ``(samples, dim)`` repeated into ``(samples, n, dim)``.

    Raises
    ------
    AssertionError
        If ``x`` is not 2-D (as tf-keras's ``assert``).
    """
    x = _tensor(x)
    assert x.ndim == 2
    return np.repeat(x[:, None, :], _index(n, "n"), axis=1)


def repeat_elements(x, rep, axis):
    """Each element of ``x`` repeated ``rep`` times along ``axis``, as ``np.repeat``.

    Parameters
    ----------
    x : array_like
    rep : int
    axis : int

    Returns
    -------
    numpy.ndarray
    """
    return np.repeat(_tensor(x), _index(rep, "rep"), axis=_index(axis, "axis"))


def permute_dimensions(x, pattern):
    """The axes of ``x`` permuted: axis ``i`` of the result is axis ``pattern[i]``.

    Parameters
    ----------
    x : array_like
    pattern : tuple of int, or None
        A permutation of all the axes; None reverses them.

    Returns
    -------
    numpy.ndarray
    """
    return np.transpose(_tensor(x), None if pattern is None else tuple(pattern))


def reverse(x, axes):
    """``x`` reversed along ``axes`` (an int or a list of ints, each at most once)."""
    axes = [axes] if isinstance(axes, (int, np.integer)) else list(axes)
    return np.flip(_tensor(x), axis=tuple(_index(a, "axes") for a in axes))


def gather(reference, indices):
    """The rows ``reference[indices]`` (along the first axis).

    Parameters
    ----------
    reference : array_like
    indices : array_like of int
        Integer indices in ``[0, len(reference))``; negative indices are errors, as
        in TensorFlow.

    Returns
    -------
    numpy.ndarray
        Of shape ``indices.shape + reference.shape[1:]`` and the dtype of
        ``reference``.

    Raises
    ------
    TypeError
        If ``indices`` are not integers.
    IndexError
        If an index is out of range.
    """
    reference, indices = _tensor(reference), _tensor(indices)
    if indices.dtype.kind != "i":
        raise TypeError(f"`indices` must be int16, int32 or int64. Received dtype "
                        f"{indices.dtype.name}")
    if reference.ndim == 0:
        raise ValueError("`reference` must be at least 1-D.")
    n = reference.shape[0]
    if indices.size:
        bad = (indices < 0) | (indices >= n)
        if bad.any():
            where = tuple(int(i) for i in np.argwhere(bad)[0])
            raise IndexError(f"indices{list(where)} = {indices[where]} is not in "
                             f"[0, {n})")
    return np.take(reference, indices, axis=0)


# -- reductions -----------------------------------------------------------------------
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


# -- element-wise ---------------------------------------------------------------------
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
    from .activations import elu as f
    return f(_check_kind(_tensor(x), _FLOAT, "elu"), alpha=alpha)


def softplus(x):
    """``log(1 + exp(x))`` of a floating-point ``x`` (``TypeError`` otherwise)."""
    from .activations import softplus as f
    return f(_check_kind(_tensor(x), _FLOAT, "softplus"))


def softsign(x):
    """``x / (1 + |x|)`` of a floating-point ``x`` (``TypeError`` otherwise)."""
    from .activations import softsign as f
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


# -- control flow and training --------------------------------------------------------
def switch(condition, then_expression, else_expression):
    """``then_expression`` where ``condition``, else ``else_expression``.

    Parameters
    ----------
    condition : array_like
        Cast to bool. A scalar picks one whole expression (only that one is called
        when it is callable, and it is returned as it is). An array selects element by
        element (``np.where``); a 1-D condition broadcasts against the last axis of
        the expressions, a condition of more axes against the leading axes (tiled
        over the remaining ones, as tf-keras does).
    then_expression, else_expression : array_like or callable
        Arrays, or functions of no argument returning one.

    Returns
    -------
    numpy.ndarray or the picked expression

    Raises
    ------
    ValueError
        If ``condition`` has more axes than ``then_expression``, or the shapes do not
        broadcast.
    """
    cond = _tensor(condition)
    if cond.dtype != bool:
        cond = cond.astype(bool)
    if cond.ndim == 0:
        picked = then_expression if cond else else_expression
        return picked() if callable(picked) else picked
    if callable(then_expression):
        then_expression = then_expression()
    if callable(else_expression):
        else_expression = else_expression()
    then_, else_ = _pair(then_expression, else_expression)
    if cond.ndim > then_.ndim:
        raise ValueError("Rank of `condition` should be less than or equal to rank of "
                         "`then_expression` and `else_expression`. ndim(condition)="
                         f"{cond.ndim}, ndim(then_expression)={then_.ndim}")
    if cond.ndim > 1:
        cond_shape = cond.shape + (1,) * (then_.ndim - cond.ndim)
        cond = cond.reshape(cond_shape)
        cond = np.tile(cond, [e if e - c > 0 else 1
                              for c, e in zip(cond_shape, then_.shape)])
    return np.where(cond, then_, else_)


def _call_training():
    from .engine import base_layer
    return getattr(base_layer._scope, "training", None)


def in_train_phase(x, alt, training=None):
    """``x`` in training mode, else ``alt``.

    Parameters
    ----------
    x, alt : array_like or callable
        What to return (a callable is called, the other one is not).
    training : bool, 0/1 or array, optional
        The mode; None: the ``training`` mode of the layer call this runs in (as
        tf-keras's call context), else :func:`learning_phase` (test). An array (bool
        or 0/1, possibly per element) selects with :func:`switch`.

    Returns
    -------
    The picked value.

    Raises
    ------
    TypeError
        If ``training`` is a Python value other than a bool, 0 or 1.
    """
    if training is None:
        training = _call_training()
    if training is None:
        training = learning_phase()
    if _is_array(training):
        return switch(training, x, alt)
    if training is True or (not isinstance(training, str) and training == 1):
        return x() if callable(x) else x
    if training is False or (not isinstance(training, str) and training == 0):
        return alt() if callable(alt) else alt
    raise TypeError("`training` must be a boolean, 0/1 or an array. "
                    f"Received: training={training!r}")


def in_test_phase(x, alt, training=None):
    """``x`` in test (inference) mode, else ``alt`` (see :func:`in_train_phase`)."""
    return in_train_phase(alt, x, training=training)


@ieee_float
def dropout(x, level, noise_shape=None, seed=None):
    """``x`` with entries set to zero with probability ``level``, the others scaled by
    ``1 / (1 - level)`` (``tf.nn.dropout``).

    Parameters
    ----------
    x : array_like
        Floating-point.
    level : float or 0-d array
        In ``[0, 1)``; 0 returns ``x`` unchanged.
    noise_shape : tuple of int, optional
        The shape of the keep/drop draw, broadcast against ``x``; None entries take the
        length of ``x``'s axis.
    seed : int, optional
        Seed of numpy's generator: reproducible, but not TensorFlow's draw.

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    ValueError
        For a non-float ``x``, or a ``level`` outside ``[0, 1)`` or not a scalar.
    """
    is_number = isinstance(level, numbers.Real)
    if is_number and (level < 0 or level >= 1):
        raise ValueError("`rate` must be a scalar tensor or a float in the range [0, 1). "
                         f"Received: rate={level}")
    x = _tensor(x)
    if x.dtype.kind != "f":
        raise ValueError("`x.dtype` must be a floating point tensor as `x` will be "
                         f"scaled. Received: x_dtype={x.dtype.name}")
    if is_number and level == 0:
        return x
    if is_number:
        kept = x * x.dtype.type(1 / (1 - level))
        rate = x.dtype.type(level)
    elif _is_array(level) and np.ndim(level) == 0:
        rate = _convert(level, x.dtype)
        kept = x / (x.dtype.type(1) - rate)
    else:
        raise ValueError(f"`rate` must be a scalar or scalar tensor. Received: "
                         f"rate={level!r}")
    if noise_shape is None:
        noise_shape = x.shape
    else:
        noise_shape = tuple(noise_shape)
        if len(noise_shape) == x.ndim:
            noise_shape = tuple(d if n is None else n for n, d in zip(noise_shape, x.shape))
    keep = _uniform01(_seeded(seed), noise_shape, x.dtype) >= rate
    return np.where(keep, kept, x.dtype.type(0))


def stop_gradient(variables):
    """The value(s) unchanged: numbarnn computes no gradients.

    Parameters
    ----------
    variables : array_like, or list or tuple of them

    Returns
    -------
    numpy.ndarray, or for a list or tuple an iterator over them (``map``, as
    tf-keras returns).
    """
    if isinstance(variables, (list, tuple)):
        return map(_tensor, variables)
    return _tensor(variables)

