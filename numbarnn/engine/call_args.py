"""How a layer call's arguments are read, as tf-keras reads them: ``call``'s and
``__init__``'s signatures, the training mode, the masks inputs carry, and the
constructor arguments that make an automatic config."""
import functools
import inspect

import numpy as np

from .keras_mask import mask_of

__all__ = ["parameters", "init_parameters", "accepts", "arg_position", "cell_call_kwargs",
           "resolve_training", "check_training", "plain_arguments", "input_masks"]


@functools.lru_cache(maxsize=1024)
def _signature(fn, bound):
    params = tuple(inspect.signature(fn).parameters.values())
    return params[1:] if bound else params


def parameters(fn):
    """``fn``'s parameters (a bound method's without ``self``), or None; cached per
    function: layer calls look at them on every call."""
    func = getattr(fn, "__func__", None)
    try:
        return _signature(func, True) if func is not None else _signature(fn, False)
    except (TypeError, ValueError):  # no signature, or not hashable
        return None


def init_parameters(cls):
    """The parameters of ``cls.__init__`` after ``self``, or None."""
    try:
        return _signature(cls.__init__, True)
    except (TypeError, ValueError):
        return None


def accepts(fn, arg, var_keyword=True):
    """Does ``fn`` take ``arg``: by name, or (``var_keyword``) through ``**kwargs``.
    tf-keras counts ``**kwargs`` for a layer's ``training`` and ``mask`` but not where
    RNN and StackedRNNCells ask a cell about ``constants`` (``has_arg``)."""
    params = parameters(fn)
    if params is None:
        return False
    return any(p.name == arg or (var_keyword and p.kind == p.VAR_KEYWORD)
               for p in params)


def arg_position(fn, arg):
    """The position of ``fn``'s parameter ``arg`` among the arguments after the inputs,
    or None where it cannot be passed by position (keyword-only, or absent): a mask or
    training mode passed by position counts as passed (tf-keras's ``arg_was_passed``)."""
    func = getattr(fn, "__func__", None)
    try:
        return (_position_in(func, True, arg) if func is not None
                else _position_in(fn, False, arg))
    except (TypeError, ValueError):  # no signature, or not hashable
        return None


@functools.lru_cache(maxsize=1024)
def _position_in(fn, bound, arg):
    params = _signature(fn, bound)
    for index, param in enumerate(params):
        if param.name == arg:
            if index and param.kind == param.POSITIONAL_OR_KEYWORD:
                return index - 1
            return None
    return None


def cell_call_kwargs(call_fn, training, var_keyword=True):
    """The ``training`` keyword a cell's ``call`` gets from RNN, StackedRNNCells or a
    wrapper: none where it takes none (``var_keyword``: does ``**kwargs`` count); where
    the mode is None, the default of its ``training`` parameter, as the cell's
    ``__call__`` (which tf-keras runs) sets."""
    if not accepts(call_fn, "training", var_keyword):
        return {}
    if training is None:
        training = _training_parameter(call_fn)[2]
    return {"training": training}


def resolve_training(call_fn, args, kwargs, outer):
    """tf-keras's training mode of a call: ``(args, kwargs, mode)``.

    An explicit ``training`` (not None) wins; else ``outer``, the mode of the layer
    call this one runs inside (a layer called in another's ``call`` inherits
    ``training=True``); else the default of ``call``'s ``training`` parameter. A
    ``training`` that ``call`` does not take is removed and still sets the mode of the
    calls inside.
    """
    takes, position, default = _training_parameter(call_fn)
    if not takes:
        mode = kwargs.pop("training") if "training" in kwargs else outer
        check_training(mode)
        return args, kwargs, mode
    positional = position is not None and 0 <= position < len(args)
    mode = args[position] if positional else kwargs.get("training")
    check_training(mode)
    if mode is None:
        mode = outer if outer is not None else default
        if positional:
            args = args[:position] + (mode,) + args[position + 1:]
        else:
            kwargs["training"] = mode
    return args, kwargs, mode


def _training_parameter(call_fn):
    """``(takes training, its position among the arguments after inputs or None,
    its default)`` for ``call_fn``: looked up once per function."""
    func = getattr(call_fn, "__func__", None)
    try:
        return (_training_in(func, True) if func is not None
                else _training_in(call_fn, False))
    except (TypeError, ValueError):  # no signature, or not hashable
        return False, None, None


@functools.lru_cache(maxsize=1024)
def _training_in(fn, bound):
    params = _signature(fn, bound)
    names = [p.name for p in params]
    if "training" not in names:
        return any(p.kind == p.VAR_KEYWORD for p in params), None, None  # **kwargs
    param = params[names.index("training")]
    position = _position_in(fn, bound, "training")
    return True, position, None if param.default is param.empty else param.default


_PLAIN_TYPES = (str, int, float, bool, type(None))


def _is_plain(value):
    if isinstance(value, (list, tuple)):
        return all(_is_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_plain(v) for k, v in value.items())
    return isinstance(value, _PLAIN_TYPES)


def plain_arguments(cls, args, kwargs):
    """``cls(*args, **kwargs)``'s arguments by name, if all are plain values, else
    None; the keyword arguments first, then the positional ones (tf-keras's order)."""
    params = init_parameters(cls)
    if params is None:
        return None
    named = [p.name for p in params if p.kind == p.POSITIONAL_OR_KEYWORD]
    if len(args) > len(named):  # *args of the constructor: not a config
        return None
    positional = dict(zip(named, args))
    if any(k in positional for k in kwargs):  # __init__ itself raises the TypeError
        return None
    config = {**kwargs, **positional}
    return config if _is_plain(config) else None


def input_masks(inputs):
    """The masks the inputs carry: one, a list (one per input), or None."""
    if type(inputs) in (list, tuple):
        masks = [mask_of(x) for x in inputs]
        return None if all(m is None for m in masks) else masks
    return mask_of(inputs)


def check_training(value):
    """``training`` is None, a bool or 0/1 (a scalar, 0.0 and 1.0 included): anything
    else (a string, an array of flags) would be read by ``bool()`` as something it does
    not mean."""
    if value is None or isinstance(value, (bool, np.bool_)):
        return
    scalar = np.ndim(value) == 0 and np.asarray(value).dtype.kind in "biuf"
    if not scalar or value not in (0, 1):
        raise TypeError("Argument `training` must be a boolean (or None, or 0/1). "
                        f"Received: training={value!r}")
