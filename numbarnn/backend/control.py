"""The backend's control flow (switch, the training phases) and dropout."""
import numbers

import numpy as np

from ..engine.numerics import ieee_float
from ._convert import _convert, _is_array, _pair, _tensor
from .config import learning_phase
from .creation import _seeded, _uniform01


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
    from ..engine.call_context import current_training
    return current_training()


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
        An op seed, as :func:`random_uniform`'s: a reproducible sequence of draws.

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
    keep = _uniform01(_seeded(seed, "dropout"), noise_shape, x.dtype) >= rate
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
