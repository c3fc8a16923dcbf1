"""The backend functions that change or report an array's shape, axes and dtype."""
import builtins

import numpy as np

from ..engine.dtype_policy import as_dtype
from ..engine.keras_tensor import is_keras_tensor
from ._convert import _a, _common, _index, _tensor


def concatenate(tensors, axis=-1):
    """The ``tensors`` joined along ``axis``; a negative axis counts from the end modulo
    the rank, as tf-keras's (``axis %= rank``: -3 of rank-2 arrays is axis 1). Mixed
    dtypes take the first variable's, else the first array's (as TensorFlow converts
    the list), not numpy's promotion."""
    arrays = _common(tensors)
    if axis < 0 and arrays and arrays[0].ndim:
        axis %= arrays[0].ndim
    return np.concatenate(arrays, axis=axis)


def stack(x, axis=0):
    """The arrays of ``x`` stacked on a new ``axis``, in one dtype as
    :func:`concatenate` chooses it."""
    return np.stack(_common(x), axis=axis)


def reshape(x, shape):
    return np.reshape(_a(x), shape)


def transpose(x):
    return np.transpose(_a(x))


def expand_dims(x, axis=-1):
    return np.expand_dims(_a(x), axis)


def _shape(x):
    """The shape of an array (or of nested lists of numbers, or a number); anything
    else (None, a function) is the AttributeError tf-keras's ``x.shape`` raises, not
    numpy's shape ``()`` of an object scalar."""
    if hasattr(x, "shape"):
        return tuple(x.shape)
    if isinstance(x, (list, tuple, bool, int, float, complex, np.generic)):
        return np.shape(x)
    raise AttributeError(f"'{type(x).__name__}' object has no attribute 'shape'")


def shape(x):
    """The shape of ``x`` as an int32 array (``tf.shape`` gives a tensor: ``shape(x) *
    2`` doubles each dimension); :func:`int_shape` gives a tuple."""
    return np.asarray(_shape(x), dtype=np.int32)


def int_shape(x):
    return tuple(_shape(x))


def dtype(x):
    """The name of ``x``'s dtype (an :func:`~numbarnn.Input`'s tensor's too)."""
    if is_keras_tensor(x):
        return np.dtype(x.dtype).name
    return _a(x).dtype.name


def cast(x, dtype):
    """``x`` as ``dtype``.

    Raises
    ------
    TypeError
        If ``dtype`` is None or not a dtype (TensorFlow's message).
    """
    if dtype is None:  # numpy would read None as float64
        raise TypeError("Cannot convert the argument `type_value`: None to a TensorFlow "
                        "DType.")
    return _a(x).astype(as_dtype(dtype))


def ndim(x):
    """The number of axes of ``x``, a Python int."""
    return len(_shape(x))


def count_params(x):
    """The number of elements of ``x`` (``np.prod`` of its shape, as in tf-keras: a
    numpy int, or the float 1.0 for a scalar)."""
    return np.prod(list(_shape(x)))


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
