"""How the backend functions take their arguments: Python values become arrays with
TensorFlow's dtypes, two operands meet in one dtype, and the checks of an argument's
kind of dtype, axis and index (the rules in :mod:`numbarnn.backend`)."""
import builtins
import operator

import numpy as np

from ..engine.dtype_policy import as_dtype
from ..engine.variables import Variable
from .config import floatx


# TensorFlow's kinds of dtype, for the argument checks of the backend functions.
_FLOAT = "f"
_INEXACT = "fc"
_SIGNED = "ifc"  # tf.sign, tf.pow: no bool, no unsigned integers
_NUMERIC = "iufc"  # products and scans: no bool
_REAL = "iuf"  # ordering (max, greater, round): no bool, no complex
_INT32 = np.iinfo(np.int32)
_FLOAT32_MAX = float(np.finfo(np.float32).max)


def _a(x):
    return _tensor(x)  # Python values get TensorFlow's dtypes; arrays keep theirs


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


def _common(values):
    """A list of operands in one dtype (``concatenate``, ``stack``).

    Operands of one kind (all float, all integer, all bool) take the dtype of the
    first variable, else of the first array (a float32 state joined with float64
    zeros stays float32, as TensorFlow converts the arrays to the tensor's dtype).
    Operands of mixed kinds are never truncated: integers and bools join the widest
    float among them (``stack([1, 2.5])`` is float32, as TensorFlow converts that
    list), else numpy's promotion decides.
    """
    values = list(values)
    arrays = [_tensor(v) for v in values]
    if not arrays:
        return []
    reference = next((a for v, a in zip(values, arrays) if isinstance(v, Variable)), None)
    if reference is None:
        reference = next((a for v, a in zip(values, arrays) if _has_numpy(v)), None)

    def kind(dtype):
        return "i" if dtype.kind in "iu" else dtype.kind

    kinds = {kind(a.dtype) for a in arrays}
    if len(kinds) == 1:
        dtype = (reference if reference is not None else arrays[0]).dtype
    else:
        floats = [a.dtype for a in arrays if a.dtype.kind in "fc"]
        dtype = (np.result_type(*floats) if floats
                 else np.result_type(*[a.dtype for a in arrays]))
    with np.errstate(all="ignore"):
        return [a if a.dtype == dtype else a.astype(dtype) for a in arrays]


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
