"""State-size helpers, shape nests, and how a step calls a cell (the nest functions
themselves are in :mod:`numbarnn.nest`, re-exported here)."""
import numpy as np

from ..engine.base_layer import Layer
from ..engine.call_args import cell_call_kwargs
from ..engine.dtype_policy import as_dtype
from ..engine.tensor_shape import TensorShape, as_dimension, is_shape
from ..nest import flatten, is_nested, map_structure, pack_sequence_as, rebuild  # noqa: F401

__all__ = ["TensorShape", "flatten", "pack_sequence_as", "is_nested", "map_structure",
           "is_shape", "flatten_shapes", "map_shapes", "state_shapes", "zero_state",
           "initial_cell_state"]


def _check_shape_nest(structure, argument):
    """A non-shape must be a list/tuple of shapes (or of nests of them); anything else
    (a string, a dict, a float dimension) is a TypeError rather than endless recursion."""
    if not is_nested(structure):
        raise TypeError(f"Argument `{argument}` must be a shape (a tuple of integers or "
                        "None) or a list/tuple of shapes. Received: "
                        f"{argument}={structure!r}")


def flatten_shapes(structure, argument="input_shape"):
    """The shapes in a nested structure of shapes, as a flat list of tuples.

    Raises
    ------
    TypeError
        If a leaf is not a shape; ``argument`` names it in the message.
    """
    if is_shape(structure):
        return [tuple(structure)]
    _check_shape_nest(structure, argument)
    out = []
    for item in structure:
        out += flatten_shapes(item, argument)
    return out


def map_shapes(fn, structure, argument="input_shape"):
    """Apply ``fn`` to every shape (as a tuple) of a nested structure of shapes."""
    if is_shape(structure):
        return fn(tuple(structure))
    _check_shape_nest(structure, argument)
    return rebuild(structure, [map_shapes(fn, s, argument) for s in structure])


def state_shapes(state_size):
    """The per-state shapes (without batch) of a (nested) ``state_size``, flattened.

    Raises
    ------
    TypeError
        For a size that is not an integer (``3.0``, ``"3"``), as tf.TensorShape, and
        for a dict.
    ValueError
        For an unknown (None) or negative size.
    """
    if isinstance(state_size, dict):  # (tf-keras fails converting its keys to shapes)
        raise TypeError("A cell's state_size (and output_size) must be an integer, a "
                        "TensorShape, or a list or tuple of them, not a dict. Received: "
                        f"state_size={state_size!r}")
    out = []
    for s in flatten(state_size):
        if type(s) is int and s >= 0:  # the common case, on every call
            out.append((s,))
        else:
            dims = tuple(s) if isinstance(s, TensorShape) else (s,)
            out.append(tuple(_state_dim(d, state_size) for d in dims))
    return out


def _state_dim(dim, state_size):
    if dim is None:  # tf-keras: "as_list() is not defined on an unknown TensorShape"
        raise ValueError("A cell's state_size (and output_size) must give every size: a "
                         f"state of unknown size (None) cannot start from zeros. "
                         f"Received: state_size={state_size!r}")
    if isinstance(dim, (bool, np.bool_)):
        return int(dim)  # tf.TensorShape([True]) is [1] (a weight's shape refuses it)
    return as_dimension(dim, f"in a cell's state_size (or output_size) {state_size!r}")


def zero_state(state_size, batch_size, dtype):
    """Zeros shaped like ``state_size``, nested the same way (tf-keras's
    ``generate_zero_filled_state``: both ``batch_size`` and ``dtype`` are required)."""
    if batch_size is None or dtype is None:
        raise ValueError("batch_size and dtype cannot be None while constructing initial "
                         f"state. Received: batch_size={batch_size}, dtype={dtype}")
    if isinstance(batch_size, (bool, np.bool_)) or not isinstance(
            batch_size, (int, np.integer)) or batch_size < 0:
        raise ValueError("Argument `batch_size` must be a non-negative integer. "
                         f"Received: batch_size={batch_size!r}")
    dtype = as_dtype(dtype)  # float is float32, as tf.as_dtype reads it
    flat = [np.zeros((batch_size,) + shape, dtype=dtype)
            for shape in state_shapes(state_size)]
    if is_nested(state_size):
        return pack_sequence_as(state_size, flat)
    return flat[0]


def generate_zero_filled_state_for_cell(cell, inputs, batch_size, dtype):
    if inputs is not None:
        batch_size = np.shape(inputs)[0]
        dtype = np.asarray(inputs).dtype
    return zero_state(cell.state_size, batch_size, dtype)


def initial_cell_state(cell, batch_size, dtype, inputs=None):
    """A cell's initial states: its ``get_initial_state``, or zeros of its
    ``state_size`` (tf-keras's ``generate_zero_filled_state_for_cell``).

    Parameters
    ----------
    cell : a cell (Layer or any object with ``state_size``)
    batch_size : int
    dtype : dtype-like
    inputs : array, optional
        Where given, its batch and dtype are the zeros' (as in tf-keras).
    """
    if hasattr(cell, "get_initial_state"):
        return cell.get_initial_state(inputs=inputs, batch_size=batch_size, dtype=dtype)
    return generate_zero_filled_state_for_cell(cell, inputs, batch_size, dtype)


def cell_step_function(cell, layer_call=False):
    """What a step calls: a Layer cell's ``call`` (its ``__call__`` would redo the
    per-call bookkeeping at every step, the cell being built), a callable non-Layer
    cell's ``__call__`` (tf-keras calls ``cell.__call__ if callable(cell)``), else
    its ``call``.

    ``layer_call``: the caller is one that tf-keras runs through the cell's
    ``__call__`` (RNN, StackedRNNCells; the wrappers use ``call``). A Layer cell with an
    ``input_spec`` or an ``activity_regularizer`` is then called so, as those checks
    and losses come from ``__call__``."""
    if isinstance(cell, Layer):
        return cell.__call__ if layer_call and steps_through_call(cell) else cell.call
    return cell if callable(cell) else cell.call


def steps_through_call(cell):
    """True for a Layer cell whose ``__call__`` adds to each step: an ``input_spec``
    check or an activity regularizer's losses (tf-keras's RNN calls a cell's
    ``__call__`` at every step). Such a cell runs in the generic loop."""
    return isinstance(cell, Layer) and (cell.input_spec is not None
                                        or cell.activity_regularizer is not None)


def cell_step_kwargs(cell, training):
    """The ``training`` keyword :func:`cell_step_function`'s step gets, as tf-keras
    passes it: to a cell whose ``call`` names ``training`` (``has_arg``); and to a
    Layer cell whose ``call`` takes ``**kwargs``, which its ``__call__`` hands the
    mode of the call it runs in (the step calls ``call`` itself, so it does that
    here). A non-Layer cell's ``**kwargs`` gets nothing."""
    return cell_call_kwargs(cell.call, training, var_keyword=isinstance(cell, Layer))
