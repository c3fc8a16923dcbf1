"""Backend variables: :func:`variable` and the reads and writes of their values."""
import numpy as np

from ..engine.variables import Variable
from ._convert import _convert
from .config import floatx


def get_value(x):
    """A numpy copy of a variable's (or array's) value."""
    return np.array(x)


def set_value(x, value):
    """Assign ``value``, cast to the variable's dtype, to the variable ``x`` (its shape
    must match), as tf-keras's ``set_value``."""
    x.assign(np.asarray(value, dtype=getattr(x, "true_dtype", x.dtype)))


def batch_get_value(tensors):
    return [get_value(x) for x in tensors]


def batch_set_value(tuples):
    """Assign each ``(variable, value)`` pair."""
    for x, value in tuples:
        set_value(x, value)


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
