"""Weight regularizers (tf-keras ``regularizers``): ``l1 * sum|x| + l2 * sum x^2``."""
import numpy as np

from ._registry import resolve, serialize_object
from .backend import floatx
from .engine.numerics import ieee_float

__all__ = ["Regularizer", "L1", "L2", "L1L2", "OrthogonalRegularizer", "l1", "l2", "l1_l2",
           "orthogonal_regularizer", "get", "serialize", "deserialize"]


def _factor(name, value, default=0.0):
    """A penalty factor as tf-keras checks it: any real number, negative ones too (as
    there), not a string, an infinity or NaN; None gives the default."""
    if value is None:
        value = default
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = None
    if number is None or isinstance(value, (str, bytes)):
        raise ValueError(f"Value {value!r} is not a valid regularization penalty number, "
                         f"expected an int or float value. Received: {name}={value!r}")
    if not np.isfinite(number):
        raise ValueError(f"Value {value} is not a valid regularization penalty number, "
                         f"an infinite number or NaN are not valid values. "
                         f"Received: {name}={value}")
    value = number
    # tf-keras keeps the factor in floatx (cast_to_floatx): 0.01 is stored, computed
    # with and saved as 0.009999999776482582.
    return float(np.asarray(value, dtype=floatx()))


def _legacy_l(kwargs, value):
    """The factor of L1/L2, which also take it as ``l`` (older Keras); any other keyword
    is an error, as in tf-keras (``L1(l2=0.5)`` must not be silently ignored)."""
    value = kwargs.pop("l", value)
    if kwargs:
        raise TypeError(f"Argument(s) not recognized: {kwargs}")
    return value


class Regularizer:
    """Base class: ``regularizer(weights) -> scalar penalty``."""

    def __call__(self, x):
        return 0.0

    def get_config(self):
        """The constructor arguments; a subclass must say them (tf-keras raises too)."""
        raise NotImplementedError(f"{self} does not implement get_config()")

    @classmethod
    def from_config(cls, config):
        return cls(**config)


@ieee_float
def _penalty(x, l1, l2):
    """``l1 * sum(|x|) + l2 * sum(x**2)``, in ``x``'s float dtype (float32 otherwise)."""
    x = np.asarray(x)
    total = 0.0
    if l1:
        total += l1 * np.sum(np.abs(x))
    if l2:
        total += l2 * np.sum(np.square(x))
    return np.asarray(total, dtype=x.dtype if x.dtype.kind == "f" else "float32")


class L1L2(Regularizer):
    """``l1 * sum(|x|) + l2 * sum(x**2)``."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _factor("l1", l1)
        self.l2 = _factor("l2", l2)

    def __call__(self, x):
        return _penalty(x, self.l1, self.l2)

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


# L1 and L2 are not L1L2s, and have only their own factor, as in tf-keras (whose
# regularizers_test reads `l2` wherever the regularizer has one).
class L1(Regularizer):
    """``l1 * sum(|x|)``."""

    def __init__(self, l1=0.01, **kwargs):
        self.l1 = _factor("l1", _legacy_l(kwargs, l1), 0.01)

    def __call__(self, x):
        return _penalty(x, self.l1, 0.0)

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    """``l2 * sum(x**2)``."""

    def __init__(self, l2=0.01, **kwargs):
        self.l2 = _factor("l2", _legacy_l(kwargs, l2), 0.01)

    def __call__(self, x):
        return _penalty(x, 0.0, self.l2)

    def get_config(self):
        return {"l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """``factor`` times the mean absolute dot product between distinct L2-normalised
    rows (``mode="rows"``) or columns (``mode="columns"``) of a 2-d weight.

    Parameters
    ----------
    factor : float, default 0.01
    mode : {"rows", "columns"}, default "rows"
    """

    def __init__(self, factor=0.01, mode="rows"):
        if factor is None:  # tf-keras refuses it here (L1, L2, L1L2 take it as 0)
            raise ValueError("Value None is not a valid regularization penalty number, "
                             "expected an int or float value. Received: factor=None")
        self.factor = _factor("factor", factor, 0.01)
        if mode not in {"rows", "columns"}:
            raise ValueError("Invalid value for argument `mode`. Expected one of "
                             f'{{"rows", "columns"}}. Received: mode={mode}')
        self.mode = mode

    @ieee_float
    def __call__(self, x):
        x = np.asarray(x)
        if x.ndim != 2:
            raise ValueError("Inputs to OrthogonalRegularizer must have rank 2. Received: "
                             f"inputs.shape == {x.shape}")
        dtype = x.dtype if x.dtype.kind == "f" else np.dtype("float32")
        vectors = (x if self.mode == "rows" else x.T).astype(dtype)
        # tf.math.l2_normalize: x / sqrt(max(sum(x**2), 1e-12))
        norms = np.sqrt(np.maximum(np.sum(vectors * vectors, axis=1, keepdims=True),
                                   dtype.type(1e-12)))
        unit = vectors / norms
        product = unit @ unit.T
        size = product.shape[0]
        off_diagonal = np.abs(product) * (1 - np.eye(size, dtype=dtype))
        pairs = size * (size - 1.0) / 2.0
        return np.asarray(self.factor * 0.5 * np.sum(off_diagonal) / pairs, dtype=dtype)

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


l1 = L1
l2 = L2
orthogonal_regularizer = OrthogonalRegularizer


def l1_l2(l1=0.01, l2=0.01):  # noqa: F811 - Keras signature
    """An :class:`L1L2` with both factors (default 0.01, as in Keras)."""
    return L1L2(l1=l1, l2=l2)


_CLASSES = {"L1": L1, "L2": L2, "L1L2": L1L2,
            "OrthogonalRegularizer": OrthogonalRegularizer}
_ALIASES = {"l1": L1, "l2": L2, "l1_l2": l1_l2,
            "orthogonal_regularizer": OrthogonalRegularizer}
_BUILTINS = {**_CLASSES, **_ALIASES, "Regularizer": Regularizer}


def get(identifier):
    """A regularizer from a name, a config dict, an instance or a callable."""
    return deserialize(identifier) if isinstance(identifier, (str, dict)) else resolve(
        identifier, _BUILTINS, "regularizer", "regularizers", Regularizer)


def serialize(regularizer):
    return serialize_object(regularizer, "keras.regularizers")


def deserialize(config, custom_objects=None):
    """The regularizer a name or config dict describes; ``custom_objects`` (and any
    active :func:`numbarnn.utils.custom_object_scope`) may name user ones.

    The name ``"l1_l2"`` gives ``L1L2(l1=0.01, l2=0.01)`` (the function's defaults,
    as in tf-keras), not the function itself.
    """
    if isinstance(config, str) and config == "l1_l2":
        return l1_l2()
    if isinstance(config, dict) and config.get("class_name") == "l1_l2":
        # the function's config is its arguments: tf-keras builds L1L2 from them
        return l1_l2(**(config.get("config") or {}))
    return resolve(config, _BUILTINS, "regularizer", "regularizers", Regularizer,
                   custom_objects)
