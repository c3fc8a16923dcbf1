"""Weight constraints (tf-keras ``constraints``): projections applied after updates.

They return new arrays and never modify their input.
"""
import numpy as np

from ._registry import resolve, serialize_object

__all__ = ["Constraint", "MaxNorm", "NonNeg", "UnitNorm", "MinMaxNorm", "RadialConstraint",
           "get", "serialize", "deserialize"]

_EPS = 1e-7


def _norms(w, axis):
    return np.sqrt(np.sum(np.square(w), axis=axis, keepdims=True))


class Constraint:
    """Base class: ``constraint(w) -> projected w``."""

    def __call__(self, w):
        return np.array(w)

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class MaxNorm(Constraint):
    """Rescale so the norm along ``axis`` is at most ``max_value``."""

    def __init__(self, max_value=2, axis=0):
        self.max_value, self.axis = max_value, axis

    def __call__(self, w):
        w = np.asarray(w)
        norms = _norms(w, self.axis)
        desired = np.clip(norms, 0, self.max_value)
        return w * (desired / (_EPS + norms))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """Zero the negative entries."""

    def __call__(self, w):
        w = np.asarray(w)
        return w * (w >= 0).astype(w.dtype)


class UnitNorm(Constraint):
    """Rescale to unit norm along ``axis``."""

    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        w = np.asarray(w)
        return w / (_EPS + _norms(w, self.axis))

    def get_config(self):
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Keep the norm along ``axis`` within [min_value, max_value], moved at ``rate``."""

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value, self.max_value, self.rate, self.axis = min_value, max_value, rate, axis

    def __call__(self, w):
        w = np.asarray(w)
        norms = _norms(w, self.axis)
        desired = (self.rate * np.clip(norms, self.min_value, self.max_value)
                   + (1 - self.rate) * norms)
        return w * (desired / (_EPS + norms))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value,
                "rate": self.rate, "axis": self.axis}


class RadialConstraint(Constraint):
    """Make each 2-D spatial slice of a 4-D kernel radially symmetric (tf-keras)."""

    def __call__(self, w):
        w = np.asarray(w)
        if w.ndim != 4 or w.shape[0] != w.shape[1]:
            raise ValueError("The weight tensor must have rank 4 with equal (square) "
                             f"spatial dimensions. Received weight shape: {w.shape}")
        h = w.shape[0]
        out = np.empty_like(w)
        center = (h - 1) / 2
        ii, jj = np.meshgrid(np.arange(h), np.arange(h), indexing="ij")
        ring = np.maximum(np.abs(ii - center), np.abs(jj - center))
        start = h // 2
        for r in np.unique(ring):
            # tf-keras copies the value at the ring's position on the centre row
            src = w[int(center) if h % 2 else start, int(round(center + r - 0.5))
                    if h % 2 == 0 else int(center + r)]
            out[ring == r] = src
        return out


_CLASSES = {c.__name__: c for c in (MaxNorm, NonNeg, UnitNorm, MinMaxNorm,
                                    RadialConstraint)}
_ALIASES = {"max_norm": MaxNorm, "non_neg": NonNeg, "unit_norm": UnitNorm,
            "min_max_norm": MinMaxNorm, "radial_constraint": RadialConstraint}
globals().update(_ALIASES)
_BUILTINS = {**_CLASSES, **_ALIASES}


def get(identifier):
    """A constraint from a name, a config dict, an instance or a callable."""
    return resolve(identifier, _BUILTINS, "constraint", "constraints", Constraint)


def serialize(constraint):
    return serialize_object(constraint, "keras.constraints")


def deserialize(config, custom_objects=None):
    """The constraint a name or config dict describes; ``custom_objects`` (and any
    active :func:`numbarnn.utils.custom_object_scope`) may name user ones."""
    return resolve(config, _BUILTINS, "constraint", "constraints", Constraint,
                   custom_objects)
