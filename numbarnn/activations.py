"""Activation functions with tf-keras 2.x definitions, on numpy arrays (dtype kept)."""
import numpy as np

from ._registry import is_user_function, resolve, serialize_function
from .engine.numerics import ieee_float

__all__ = ["tanh", "relu", "sigmoid", "hard_sigmoid", "linear", "elu", "selu", "softplus",
           "softsign", "swish", "silu", "gelu", "exponential", "softmax", "get",
           "serialize", "deserialize", "name_of", "builtin", "mish", "relu6", "leaky_relu",
           "log_softmax"]


def _f(x):
    x = np.asarray(x)
    return x if x.dtype.kind == "f" else x.astype("float32")


@ieee_float
def linear(x):
    """Identity."""
    return _f(x)


@ieee_float
def tanh(x):
    return np.tanh(_f(x))


@ieee_float
def relu(x, alpha=0.0, max_value=None, threshold=0.0):
    """``max(x, 0)``, with a leaky slope ``alpha`` below ``threshold`` and a cap.

    Computed as tf-keras's ``backend.relu``, non-finite values included: NaN stays NaN,
    ``-inf`` gives 0 (and NaN with a non-zero ``threshold``, as in tf-keras). Integer
    input stays integer where tf-keras's does (no ``alpha``, no ``threshold``:
    ``tf.nn.relu`` and ``tf.clip_by_value`` keep the dtype).
    """
    x = np.asarray(x)
    if x.dtype.kind in "iu" and not alpha and not threshold:
        return _integer_relu(x, max_value)
    x = _f(x)
    if alpha and max_value is None and not threshold:
        # tf.nn.leaky_relu: its alpha is a float32 attribute, for float64 x too
        alpha = float(np.float32(alpha))
        return np.where(x > 0, x, alpha * x).astype(x.dtype)
    if threshold:
        out = x * (x > threshold)  # inf * 0 is NaN, as in tf-keras
    else:
        out = np.where(x < 0, 0, x)  # tf.nn.relu
    if max_value is not None:  # tf.clip_by_value: the cap first, then 0 (a cap < 0 gives 0)
        capped = np.minimum(out, max_value)
        out = np.where(capped < 0, 0, capped)  # -0.0 and NaN kept, as there
    if alpha:
        negative = threshold - x
        out = out - alpha * np.where(negative < 0, 0, negative)
    return out.astype(x.dtype)


def _integer_relu(x, max_value):
    out = np.maximum(x, x.dtype.type(0))
    if max_value is None:
        return out
    cap = np.asarray(max_value)
    if cap.ndim or not np.isfinite(cap) or cap != np.trunc(cap):
        # tf-keras makes a tensor of the input's dtype from the cap
        raise TypeError(f"relu: `max_value` must be a whole number for an integer input "
                        f"of dtype {x.dtype}. Received: max_value={max_value!r}")
    cap = int(cap)
    return np.where(out > cap, x.dtype.type(max(cap, 0)), out).astype(x.dtype)


@ieee_float
def sigmoid(x):
    """``1 / (1 + exp(-x))``, computed without overflow."""
    x = _f(x)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype)


@ieee_float
def hard_sigmoid(x):
    """tf-keras 2.x: ``clip(0.2 * x + 0.5, 0, 1)``."""
    x = _f(x)
    return np.clip(0.2 * x + 0.5, 0.0, 1.0).astype(x.dtype)


@ieee_float
def elu(x, alpha=1.0):
    x = _f(x)
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))).astype(x.dtype)


@ieee_float
def selu(x):
    x = _f(x)
    alpha, scale = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
    return (scale * np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))).astype(x.dtype)


@ieee_float
def softplus(x):
    """``log(exp(x) + 1)``, stable for large ``|x|``."""
    x = _f(x)
    return np.logaddexp(0, x).astype(x.dtype)


@ieee_float
def softsign(x):
    x = _f(x)
    return x / (1 + np.abs(x))


@ieee_float
def swish(x):
    """``x * sigmoid(x)``."""
    x = _f(x)
    return (x * sigmoid(x)).astype(x.dtype)


# One function in tf-keras: get("silu") is swish (its __name__ "swish", saved so).
silu = swish


@ieee_float
def gelu(x, approximate=False):
    """Gaussian error linear unit (exact by default, as in tf-keras).

    The exact form is ``0.5 * x * erfc(-x / sqrt(2))`` with scipy's ``erfc``, exact to
    the last bit in float64, where TensorFlow's float64 ``erfc`` is about 4e-9
    relative off (a float64 comparison with tf-keras agrees to about 1e-8, not to
    1e-12)."""
    x = _f(x)
    if approximate:
        c = np.sqrt(2 / np.pi)
        out = 0.5 * x * (1 + np.tanh(c * (x + 0.044715 * x ** 3)))
    else:
        # Imported here: scipy.special takes about a third of numbarnn's import time.
        from scipy.special import erfc
        out = 0.5 * x * erfc(-x / np.sqrt(2))  # tf's form: 1 + erf loses the tail
    return out.astype(x.dtype)


@ieee_float
def exponential(x):
    return np.exp(_f(x))


@ieee_float
def softmax(x, axis=-1):
    x = _f(x)
    if x.ndim <= 1:  # as tf-keras: a 1-D softmax is almost always a missing batch axis
        raise ValueError("Cannot apply softmax to a tensor that is 1D. "
                         f"Received input: shape={x.shape}")
    if x.size == 0:  # nothing to normalise (np.max has no identity)
        return x.copy()
    # A row holding +inf or NaN comes out all NaN (TensorFlow's oneDNN kernel gives
    # NaN at that entry and 0 elsewhere; its plain kernel, NaN throughout). float16
    # is computed in float32 and rounded once, as TensorFlow's kernel does (bit for
    # bit, where float16 steps were up to 9 ulps off).
    w = x.astype(np.promote_types(x.dtype, np.float32), copy=False)
    e = np.exp(w - np.max(w, axis=axis, keepdims=True))
    return (e / np.sum(e, axis=axis, keepdims=True)).astype(x.dtype)


@ieee_float
def mish(x):
    """``x * tanh(softplus(x))``."""
    x = _f(x)
    return (x * np.tanh(softplus(x))).astype(x.dtype)


# tf-keras resolves these names to TensorFlow's tf.nn functions.
@ieee_float
def relu6(x):
    """``min(max(x, 0), 6)`` (tf.nn.relu6)."""
    return relu(x, max_value=6.0)


@ieee_float
def leaky_relu(x, alpha=0.2):
    """``x`` above 0, ``alpha * x`` below (tf.nn.leaky_relu, default slope 0.2)."""
    return relu(x, alpha=alpha)


@ieee_float
def log_softmax(x, axis=-1):
    """``x - log(sum(exp(x)))`` along ``axis``, computed stably (tf.nn.log_softmax)."""
    x = _f(x)
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return (shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))).astype(
        x.dtype)


_BY_NAME = {"linear": linear, "tanh": tanh, "relu": relu, "sigmoid": sigmoid,
            "hard_sigmoid": hard_sigmoid, "elu": elu, "selu": selu, "softplus": softplus,
            "softsign": softsign, "swish": swish, "silu": silu, "gelu": gelu,
            "exponential": exponential, "softmax": softmax, "mish": mish,
            "relu6": relu6, "leaky_relu": leaky_relu, "log_softmax": log_softmax}
_NAME_OF = {fn: name for name, fn in _BY_NAME.items()}
_NAME_OF[swish] = "swish"  # (silu is swish: saved as "swish", as in tf-keras)
# The layers tf-keras's activations.deserialize also takes by class name (its
# keras.layers.activation module): "LeakyReLU" is a LeakyReLU() layer.
_ACTIVATION_LAYERS = ("ReLU", "LeakyReLU", "ELU", "Softmax", "ThresholdedReLU", "PReLU")


def name_of(fn):
    """The registered name of a built-in activation, or None for other callables."""
    try:
        return _NAME_OF.get(fn)
    except TypeError:
        return None


def builtin(name):
    """The built-in activation function called ``name``, or None (the inverse of
    :func:`name_of`)."""
    return _BY_NAME.get(name) if isinstance(name, str) else None


def get(identifier):
    """An activation from a name, a config dict, ``None`` (linear) or a callable.

    Names and dicts are resolved by :func:`deserialize`, so user functions given to
    :func:`numbarnn.utils.custom_object_scope` (or registered) are found too.

    Raises
    ------
    ValueError
        For an unknown name.
    TypeError
        For anything else that is not callable.
    """
    if identifier is None:
        return linear
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise TypeError("Could not interpret activation function identifier: "
                    f"{identifier!r}")


def serialize(activation):
    """The name of a built-in activation ("linear" for None); for a user function,
    tf-keras's ``{"module": "builtins", "class_name": "function", "config": name,
    "registered_name": "function"}`` (a bare name when it is a built-in's)."""
    if activation is None:
        return "linear"
    if isinstance(activation, str):
        raise ValueError(f"Unknown activation function '{activation}' cannot be "
                         "serialized: `serialize` takes the function (for a name, "
                         f"`numbarnn.activations.get({activation!r})`).")
    name = name_of(activation)
    if name is not None:
        return name
    if hasattr(activation, "get_config") and hasattr(activation, "built"):
        # a layer given as the activation: its config, as keras.layers.serialize
        from .engine import serialization
        return serialization.serialize(activation)
    if is_user_function(activation):
        config = serialize_function(activation)
        return config["config"] if config["config"] in _BY_NAME else config
    return getattr(activation, "__name__", repr(activation))


def deserialize(name, custom_objects=None):
    """The activation function ``name`` refers to.

    Parameters
    ----------
    name : str or dict
        A function name, or a config dict: ``{"class_name": "relu", "config": {}}`` or
        the tf-keras >= 2.13 form ``{"class_name": "function", "config": "relu"}``.
    custom_objects : dict, optional
        Extra ``{name: function}`` entries (as do an active
        :func:`numbarnn.utils.custom_object_scope` and registered objects).
    """
    from .layers import activation_layers  # (imports this module)
    # tf-keras also resolves the activation layers' class names (to new layers)
    layers = {n: getattr(activation_layers, n) for n in _ACTIVATION_LAYERS}
    return resolve(name, {**_BY_NAME, **layers}, "activation function", "activations",
                   custom_objects=custom_objects, snake_aliases=False)
