"""What a value is, and reading or printing it: ``eval``, ``is_keras_tensor``,
``is_sparse``, ``to_dense``, ``print_tensor`` (tf-keras ``backend``)."""
import sys

import numpy as np

from ..engine.keras_tensor import is_keras_tensor as symbolic
from ..engine.variables import Variable
from .variables import get_value


def eval(x):  # noqa: A001 - tf-keras's name
    """The value of ``x`` (an array or a variable) as a numpy array."""
    return get_value(x)


def is_sparse(tensor):
    """False: numbarnn has no sparse tensors."""
    del tensor
    return False


def to_dense(tensor):
    """``tensor`` itself (numbarnn's arrays are dense)."""
    return tensor


def is_keras_tensor(x):
    """Whether ``x`` is a symbolic Keras tensor (what :func:`numbarnn.Input`
    returns); False for arrays and variables.

    Raises
    ------
    ValueError
        For anything else, as tf-keras (which takes tensors and variables only).
    """
    if symbolic(x):
        return True
    if isinstance(x, (np.ndarray, np.generic, Variable)):
        return False
    raise ValueError(f"Unexpectedly found an instance of type `{type(x)}`. Expected a "
                     "symbolic tensor instance.")


def print_tensor(x, message="", summarize=3):
    """Print ``message`` and ``x`` to stdout, ``summarize`` leading and trailing
    entries per axis as ``tf.print`` shows them (numpy's number formatting); return
    ``x``."""
    with np.printoptions(threshold=0 if summarize >= 0 else sys.maxsize,
                         edgeitems=max(summarize, 1)):
        text = np.array2string(np.asarray(x), separator=" ")
    print(f"{message} {text}")  # tf.print(message, x): joined by a space
    return x
