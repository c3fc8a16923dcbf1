"""Weight constraints (tf-keras ``constraints``): projections applied after updates.

They return new arrays and never modify their input.
"""
import numpy as np

from ._registry import resolve, serialize_object

__all__ = ["Constraint", "MaxNorm", "NonNeg", "UnitNorm", "MinMaxNorm", "RadialConstraint",
           "get", "serialize", "deserialize"]

_EPS = 1e-7


def _norms(w, axis):
    # tf-keras documents axis=[0, 1, 2] for convolution kernels: a list is a tuple here
    axis = tuple(axis) if isinstance(axis, list) else axis
    return np.sqrt(np.sum(np.square(w), axis=axis, keepdims=True))


def _clip(x, low, high):
    """tf-keras's ``backend.clip``: a ``high`` below ``low`` is raised to it."""
    return np.clip(x, low, max(high, low))


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
        desired = _clip(norms, 0, self.max_value)
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
        desired = (self.rate * _clip(norms, self.min_value, self.max_value)
                   + (1 - self.rate) * norms)
        return w * (desired / (_EPS + norms))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value,
                "rate": self.rate, "axis": self.axis}


class RadialConstraint(Constraint):
    """Make each 2-D spatial slice of a 4-D kernel ``(rows, cols, in, out)`` the same
    along each ring around its centre, as tf-keras computes it.

    tf-keras's rings are not the kernel's own centre values: with ``s = rows // 2``, the
    middle (one value for odd sizes, a 2 x 2 block for even ones) takes ``w[s-1, s-1]``
    and the ring ``i`` further out takes ``w[s+i, s+i]`` (for odd sizes, the first ring
    is ``i = 0``; for even ones ``i = 1``). This follows that, quirk included; a 1 x 1
    kernel is an error there and here.
    """

    def __call__(self, w):
        w = np.asarray(w)
        if w.ndim != 4 or w.shape[0] != w.shape[1] or w.shape[0] < 2:
            raise ValueError("The weight tensor must have rank 4 with equal (square) "
                             "spatial dimensions of at least 2. Received weight shape: "
                             f"{w.shape}")
        size = w.shape[0]
        start = size // 2
        odd = size % 2
        # ring[r, c]: how many pads out from the middle block (r, c) lies
        edge = np.minimum(np.arange(size), np.arange(size)[::-1])
        depth = np.minimum.outer(edge, edge)
        ring = (start - 1 + odd) - depth  # 0 for the middle value or block
        source = np.where(ring == 0, start - 1, start + ring - odd)
        return w[source, source].copy()


_CLASSES = {c.__name__: c for c in (MaxNorm, NonNeg, UnitNorm, MinMaxNorm,
                                    RadialConstraint)}
_ALIASES = {"max_norm": MaxNorm, "non_neg": NonNeg, "unit_norm": UnitNorm,
            "min_max_norm": MinMaxNorm, "radial_constraint": RadialConstraint,
            # legacy names tf-keras still reads
            "maxnorm": MaxNorm, "nonneg": NonNeg, "unitnorm": UnitNorm}
globals().update(_ALIASES)
_BUILTINS = {**_CLASSES, **_ALIASES, "Constraint": Constraint}


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
