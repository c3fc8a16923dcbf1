"""Activation functions with tf-keras 2.x definitions, on numpy arrays (dtype kept)."""
import numpy as np
from scipy.special import erf

__all__ = ["tanh", "relu", "sigmoid", "hard_sigmoid", "linear", "elu", "selu", "softplus",
           "softsign", "swish", "silu", "gelu", "exponential", "softmax", "get",
           "serialize", "deserialize", "name_of"]


def _f(x):
    x = np.asarray(x)
    return x if x.dtype.kind == "f" else x.astype("float32")


def linear(x):
    """Identity."""
    return _f(x)


def tanh(x):
    return np.tanh(_f(x))


def relu(x, alpha=0.0, max_value=None, threshold=0.0):
    """``max(x, 0)``, with a leaky slope ``alpha`` below ``threshold`` and a cap."""
    x = _f(x)
    out = np.where(x > threshold, x, alpha * (x - threshold) if alpha else 0.0)
    if max_value is not None:
        out = np.minimum(out, max_value)
    return out.astype(x.dtype)


def sigmoid(x):
    """``1 / (1 + exp(-x))``, computed without overflow."""
    x = _f(x)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype)


def hard_sigmoid(x):
    """tf-keras 2.x: ``clip(0.2 * x + 0.5, 0, 1)``."""
    x = _f(x)
    return np.clip(0.2 * x + 0.5, 0.0, 1.0).astype(x.dtype)


def elu(x, alpha=1.0):
    x = _f(x)
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))).astype(x.dtype)


def selu(x):
    x = _f(x)
    alpha, scale = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
    return (scale * np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))).astype(x.dtype)


def softplus(x):
    """``log(exp(x) + 1)``, stable for large ``|x|``."""
    x = _f(x)
    return np.logaddexp(0, x).astype(x.dtype)


def softsign(x):
    x = _f(x)
    return x / (1 + np.abs(x))


def swish(x):
    """``x * sigmoid(x)``."""
    x = _f(x)
    return (x * sigmoid(x)).astype(x.dtype)


def silu(x):
    """Alias of :func:`swish`."""
    return swish(x)


def gelu(x, approximate=False):
    """Gaussian error linear unit (exact by default, as in tf-keras)."""
    x = _f(x)
    if approximate:
        c = np.sqrt(2 / np.pi)
        out = 0.5 * x * (1 + np.tanh(c * (x + 0.044715 * x ** 3)))
    else:
        out = 0.5 * x * (1 + erf(x / np.sqrt(2)))
    return out.astype(x.dtype)


def exponential(x):
    return np.exp(_f(x))


def softmax(x, axis=-1):
    x = _f(x)
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return (e / np.sum(e, axis=axis, keepdims=True)).astype(x.dtype)


_BY_NAME = {"linear": linear, "tanh": tanh, "relu": relu, "sigmoid": sigmoid,
            "hard_sigmoid": hard_sigmoid, "elu": elu, "selu": selu, "softplus": softplus,
            "softsign": softsign, "swish": swish, "silu": silu, "gelu": gelu,
            "exponential": exponential, "softmax": softmax}
_NAME_OF = {fn: name for name, fn in _BY_NAME.items()}


def name_of(fn):
    """The registered name of a built-in activation, or None for other callables."""
    try:
        return _NAME_OF.get(fn)
    except TypeError:
        return None


def get(identifier):
    """An activation from a name, ``None`` (linear) or a callable."""
    if identifier is None:
        return linear
    if isinstance(identifier, dict):
        identifier = identifier.get("config", identifier.get("class_name"))
    if isinstance(identifier, str):
        if identifier not in _BY_NAME:
            raise ValueError(f"Unknown activation function: '{identifier}'. Expected one of "
                             f"{sorted(_BY_NAME)} or a callable.")
        return _BY_NAME[identifier]
    if callable(identifier):
        return identifier
    raise TypeError("Could not interpret activation function identifier: "
                    f"{identifier!r}")


def serialize(activation):
    """The name of an activation ("linear" for None)."""
    if activation is None:
        return "linear"
    return name_of(activation) or getattr(activation, "__name__", repr(activation))


def deserialize(name, custom_objects=None):
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    return get(name)
