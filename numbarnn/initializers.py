"""Weight initializers with the tf-keras 2.x maths (``tf_keras/initializers``).

As in tf-keras, an instance is stateless: calling it twice returns the same values
(an unseeded instance draws its seed once, at construction). String identifiers create a
fresh instance each time, so two layers get different weights.
"""
import math
import warnings

import numpy as np

from ._registry import resolve, serialize_object
from .backend.config import floatx
from .engine.dtype_policy import as_dtype
from .engine.tensor_shape import shape_tuple
from .random_seed import seed_for_unseeded

__all__ = ["Initializer", "Zeros", "Ones", "Constant", "RandomNormal", "RandomUniform",
           "TruncatedNormal", "VarianceScaling", "GlorotUniform", "GlorotNormal",
           "HeNormal", "HeUniform", "LecunNormal", "LecunUniform", "Orthogonal", "Identity",
           "get", "serialize", "deserialize"]


def _float_dtype(dtype):
    dtype = as_dtype(dtype or floatx())  # float is float32, as tf.as_dtype reads it
    if dtype.kind != "f":
        raise ValueError(f"Expected floating point type, got {dtype.name}.")
    return dtype


def _numeric_dtype(dtype):
    dtype = as_dtype(dtype or floatx())
    if dtype.kind not in "biufc":
        raise ValueError(f"Expected numeric or boolean dtype, got {dtype.name}.")
    return dtype


def _fans(shape):
    shape = tuple(shape)
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = int(np.prod(shape[:-2]))
    return shape[-2] * receptive, shape[-1] * receptive


_PARTITION_SHAPE, _PARTITION_OFFSET, _LAYOUT = "partition_shape", "partition_offset", "layout"
_ALLOWED_CALL_KWARGS = [_PARTITION_SHAPE, _PARTITION_OFFSET, _LAYOUT]


def _call_shape(initializer, shape, kwargs, partitions=True):
    """The shape a call fills, and the partition offset (or None), from its keywords as
    tf-keras reads them: ``partition_shape`` replaces ``shape`` (the caller fills one
    partition of a larger variable; fans are those of the partition, as in tf-keras).

    Raises
    ------
    TypeError
        For a keyword tf-keras does not allow.
    ValueError
        For partition arguments to an initializer that has none (Orthogonal,
        Identity), or a DTensor ``layout`` (numbarnn has none).
    """
    unknown = [k for k in kwargs if k not in _ALLOWED_CALL_KWARGS]
    if unknown:
        raise TypeError(f"Unknown keyword arguments: {unknown}. Allowed keyword "
                        f"arguments: {_ALLOWED_CALL_KWARGS}.")
    if not partitions and (_PARTITION_SHAPE in kwargs or _PARTITION_OFFSET in kwargs):
        raise ValueError(f"{type(initializer).__name__} initializer doesn't support "
                         "partition-related arguments.")
    if kwargs.get(_LAYOUT) is not None:
        raise ValueError("Argument `layout` (a DTensor layout) is not supported: numbarnn "
                         f"has no DTensor. Received: layout={kwargs[_LAYOUT]!r}")
    shape = kwargs.get(_PARTITION_SHAPE, shape)
    name = type(initializer).__name__
    if shape is None and initializer._no_shape_error is not None:
        raise initializer._no_shape_error(
            f"{name} initializer: argument `shape` must be a tuple of integers. "
            "Received: shape=None")
    if isinstance(shape, (int, np.integer)) and not initializer._takes_a_length:
        raise TypeError(f"{name} initializer needs a shape tuple, not a bare length. "
                        f"Received: shape={shape!r}")
    return shape, kwargs.get(_PARTITION_OFFSET)


class Initializer:
    """Base class: ``initializer(shape, dtype, **kwargs) -> array``.

    The keywords are tf-keras's: ``partition_shape`` (fill that shape, one partition
    of the variable) and ``partition_offset`` (where it lies: seeded random
    initializers give each offset its own values), and ``layout`` (None only).
    """

    # How a call takes shape=None and a bare length, as tf-keras's: tf.constant(None)
    # fails with a ValueError (the fan-based initializers' len(None) with a TypeError;
    # Constant's tf.constant(value, shape=None) is the value); tf.zeros(3) takes a
    # length, the others fail on len() or on a scalar shape tensor.
    _no_shape_error = ValueError
    _takes_a_length = False

    def __call__(self, shape, dtype=None, **kwargs):
        raise NotImplementedError

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config.pop("dtype", None)
        return cls(**config)


class _Seeded(Initializer):
    def __init__(self, seed=None):
        self.seed = seed
        if seed is None:  # set_random_seed's, else fresh entropy
            seed = seed_for_unseeded()
        self._seed = (seed if seed is not None
                      else int(np.random.SeedSequence().entropy % 2**63))

    def _rng(self, partition_offset=None):
        """The generator of one call: the same draw every call, as tf-keras's stateless
        one; an unseeded instance warns from its second call, as tf-keras's does. A
        partition offset gives its own draw (tf-keras's ``nonce = hash(offset)``), and
        no warning: each partition of a variable calls the initializer."""
        if partition_offset is None:
            self._warn_reuse()
        if not isinstance(self._seed, (int, np.integer)) or isinstance(self._seed, bool):
            raise ValueError(f"{type(self).__name__} initializer: argument `seed` must be "
                             f"an integer. Received: seed={self._seed!r}")
        seed = int(self._seed) % 2**64  # numpy takes no negative seed; tf-keras does
        if partition_offset:
            return np.random.default_rng([seed, hash(tuple(partition_offset)) % 2**64])
        return np.random.default_rng(seed)

    def _warn_reuse(self):
        if getattr(self, "_used", False):
            if self.seed is None:
                warnings.warn(
                    f"The initializer {type(self).__name__} is unseeded and being called "
                    "multiple times, which will return identical values each time (even "
                    "if the initializer is unseeded). Please update your code to provide "
                    "a seed to the initializer, or avoid using the same initializer "
                    "instance more than once.", stacklevel=4)
        else:
            self._used = True

    def get_config(self):
        return {"seed": self.seed}


class Zeros(Initializer):
    """All zeros."""

    _takes_a_length = True

    def __call__(self, shape, dtype=None, **kwargs):
        shape, _ = _call_shape(self, shape, kwargs)
        return np.zeros(shape, _numeric_dtype(dtype))


class Ones(Initializer):
    """All ones."""

    _takes_a_length = True

    def __call__(self, shape, dtype=None, **kwargs):
        shape, _ = _call_shape(self, shape, kwargs)
        return np.ones(shape, _numeric_dtype(dtype))


class Constant(Initializer):
    """All ``value``; or, as ``tf.constant(value, shape=shape)`` in tf-keras, an
    array-like ``value`` with as many elements as ``shape`` reshaped to it."""

    _no_shape_error = None
    _takes_a_length = True

    def __init__(self, value=0):
        self.value = value

    def __call__(self, shape, dtype=None, **kwargs):
        """The initial value of ``shape``.

        Raises
        ------
        TypeError
            If ``value`` has neither one element nor as many as ``shape`` (tf-keras's
            eager ``tf.constant`` raises a TypeError there too); if a Python ``value``
            does not fit ``dtype``'s kind (a float for an integer dtype, anything but
            a bool for bool), or a complex one a real dtype, as ``tf.constant``.
        """
        shape, _ = _call_shape(self, shape, kwargs)
        if self.value is None:  # numpy would read None as nan
            raise ValueError("Constant initializer: argument `value` must be a number or "
                             "an array-like of numbers. Received: value=None")
        dtype = as_dtype(dtype or floatx())
        value = np.asarray(self.value)
        # tf.constant's rules: a numpy value is cast (floats truncated); a Python value
        # must fit the dtype's kind (no float to int, only bools to bool), and no
        # complex number becomes a real one
        python_value = not isinstance(self.value, (np.ndarray, np.generic))
        if value.dtype.kind == "c" and dtype.kind != "c" or python_value and (
                dtype.kind in "iu" and value.dtype.kind in "fc"
                or dtype.kind == "b" and value.dtype.kind != "b"):
            raise TypeError(f"Cannot convert {self.value!r} to EagerTensor of dtype "
                            f"{dtype.name}")
        value = value.astype(dtype)
        if shape is None:
            return value.copy()  # tf.constant(value, shape=None): the value's own shape
        shape = shape_tuple(shape)  # tf.constant(value, shape=3) takes a bare length
        size = math.prod(shape)
        if value.size == 1:
            return np.full(shape, value.reshape(()))
        if value.size == size:
            return value.reshape(shape).copy()
        raise TypeError(f"Constant initializer: `value` has {value.size} elements (shape "
                        f"{value.shape}), but the requested shape {shape} has {size}; it "
                        "must have one element, or one per element of the shape.")

    def get_config(self):
        return {"value": self.value}


class RandomNormal(_Seeded):
    """Normal(mean, stddev)."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def __call__(self, shape, dtype=None, **kwargs):
        shape, offset = _call_shape(self, shape, kwargs)
        dtype = _float_dtype(dtype)
        # tf's formula (numpy's normal() refuses a negative stddev; tf flips the sign)
        normal = self._rng(offset).standard_normal(shape)
        return (self.mean + self.stddev * normal).astype(dtype)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomUniform(_Seeded):
    """Uniform(minval, maxval)."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        super().__init__(seed)
        self.minval, self.maxval = minval, maxval

    def __call__(self, shape, dtype=None, **kwargs):
        shape, offset = _call_shape(self, shape, kwargs)
        dtype = as_dtype(dtype or floatx())
        rng = self._rng(offset)
        if dtype.kind in "iu" and dtype not in (np.int32, np.int64):
            raise ValueError(f"Argument `dtype` got invalid value {dtype.name}: "
                             "RandomUniform makes floats, int32 or int64 (tf.random."
                             "uniform's integer dtypes).")
        if dtype.kind in "iu":
            if self.minval >= self.maxval:
                raise ValueError(f"RandomUniform: for the integer dtype {dtype.name}, "
                                 f"minval must be below maxval. Received: minval="
                                 f"{self.minval}, maxval={self.maxval}")
            bounds = (self.minval, self.maxval)
            if any(float(b) != int(b) for b in bounds):
                # tf.random.uniform makes tensors of the dtype from the bounds
                raise TypeError(f"RandomUniform: the bounds must be whole numbers for the "
                                f"integer dtype {dtype.name}. Received: minval="
                                f"{self.minval}, maxval={self.maxval}")
            return rng.integers(int(self.minval), int(self.maxval), shape).astype(dtype)
        dtype = _float_dtype(dtype)
        # tf's formula: minval > maxval is no error there (numpy's uniform() refuses it)
        return (self.minval + (self.maxval - self.minval) * rng.random(shape)).astype(dtype)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


def draw_truncated_normal(rng, mean, std, shape):
    """Normal(mean, std) values from ``rng``, each beyond two standard deviations drawn
    again (``tf.random.truncated_normal``); float64."""
    out = rng.normal(0.0, 1.0, shape)
    bad = np.abs(out) > 2.0
    while bad.any():
        out[bad] = rng.normal(0.0, 1.0, int(bad.sum()))
        bad = np.abs(out) > 2.0
    return mean + std * out


class TruncatedNormal(_Seeded):
    """Normal(mean, stddev) redrawn beyond two standard deviations."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def __call__(self, shape, dtype=None, **kwargs):
        shape, offset = _call_shape(self, shape, kwargs)
        dtype = _float_dtype(dtype)
        return draw_truncated_normal(self._rng(offset), self.mean, self.stddev,
                                     shape).astype(dtype)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class VarianceScaling(_Seeded):
    """Scale the variance to ``scale / fan`` (fan_in, fan_out or their mean)."""

    _no_shape_error = TypeError

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        if scale <= 0.0:
            raise ValueError("Argument `scale` must be positive float. "
                             f"Received: scale={scale}")
        if mode not in {"fan_in", "fan_out", "fan_avg"}:
            raise ValueError("Argument `mode` should be one of ('fan_in', 'fan_out', "
                             f"'fan_avg'). Received: mode={mode}")
        distribution = distribution.lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        if distribution not in {"uniform", "truncated_normal", "untruncated_normal"}:
            raise ValueError("Argument `distribution` should be one of ('uniform', "
                             "'truncated_normal', 'untruncated_normal'). "
                             f"Received: distribution={distribution}")
        super().__init__(seed)
        self.scale, self.mode, self.distribution = scale, mode, distribution

    def __call__(self, shape, dtype=None, **kwargs):
        shape, offset = _call_shape(self, shape, kwargs)
        dtype = _float_dtype(dtype)
        fan_in, fan_out = _fans(shape)
        fan = {"fan_in": fan_in, "fan_out": fan_out,
               "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        scale = self.scale / max(1.0, fan)
        rng = self._rng(offset)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * scale)
            values = rng.uniform(-limit, limit, shape)
        elif self.distribution == "truncated_normal":
            values = draw_truncated_normal(rng, 0.0, math.sqrt(scale) / 0.87962566103423978,
                                           shape)
        else:
            values = rng.normal(0.0, math.sqrt(scale), shape)
        return values.astype(dtype)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                "seed": self.seed}


def _fixed(name, scale, mode, distribution, doc):
    def __init__(self, seed=None):
        VarianceScaling.__init__(self, scale, mode, distribution, seed)

    def get_config(self):
        return {"seed": self.seed}
    return type(name, (VarianceScaling,), {"__init__": __init__, "get_config": get_config,
                                           "__doc__": doc})


GlorotUniform = _fixed("GlorotUniform", 1.0, "fan_avg", "uniform",
                       "Uniform within sqrt(6 / (fan_in + fan_out)).")
GlorotNormal = _fixed("GlorotNormal", 1.0, "fan_avg", "truncated_normal",
                      "Truncated normal, std sqrt(2 / (fan_in + fan_out)).")
HeNormal = _fixed("HeNormal", 2.0, "fan_in", "truncated_normal",
                  "Truncated normal, std sqrt(2 / fan_in).")
HeUniform = _fixed("HeUniform", 2.0, "fan_in", "uniform", "Uniform within sqrt(6 / fan_in).")
LecunNormal = _fixed("LecunNormal", 1.0, "fan_in", "truncated_normal",
                     "Truncated normal, std sqrt(1 / fan_in).")
LecunUniform = _fixed("LecunUniform", 1.0, "fan_in", "uniform",
                      "Uniform within sqrt(3 / fan_in).")


class Orthogonal(_Seeded):
    """A random orthogonal matrix (QR of a Gaussian, sign-corrected), times ``gain``."""

    _no_shape_error = TypeError

    def __init__(self, gain=1.0, seed=None):
        super().__init__(seed)
        self.gain = gain

    def __call__(self, shape, dtype=None, **kwargs):
        _call_shape(self, shape, kwargs, partitions=False)
        dtype = _float_dtype(dtype)
        shape = tuple(shape)
        if len(shape) < 2:
            raise ValueError("The tensor to initialize must be at least two-dimensional. "
                             f"Received: shape={shape} of rank {len(shape)}.")
        rows, cols = int(np.prod(shape[:-1])), shape[-1]
        a = self._rng().normal(0.0, 1.0, (max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q = q * np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return (self.gain * q.reshape(shape)).astype(dtype)

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


class Identity(Initializer):
    """``gain`` times the identity matrix (2-D only)."""

    _no_shape_error = TypeError

    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None, **kwargs):
        _call_shape(self, shape, kwargs, partitions=False)
        dtype = _float_dtype(dtype)
        if len(shape) != 2:
            raise ValueError("Identity matrix initializer can only be used for 2D matrices. "
                             f"Received: shape={tuple(shape)} of rank {len(shape)}.")
        return (self.gain * np.eye(*shape)).astype(dtype)

    def get_config(self):
        return {"gain": self.gain}


_CLASSES = {c.__name__: c for c in (Zeros, Ones, Constant, RandomNormal, RandomUniform,
                                    TruncatedNormal, VarianceScaling, GlorotUniform,
                                    GlorotNormal, HeNormal, HeUniform, LecunNormal,
                                    LecunUniform, Orthogonal, Identity)}
_ALIASES = {"zeros": Zeros, "ones": Ones, "constant": Constant,
            "random_normal": RandomNormal, "random_uniform": RandomUniform,
            "truncated_normal": TruncatedNormal, "variance_scaling": VarianceScaling,
            "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal,
            "he_normal": HeNormal, "he_uniform": HeUniform, "lecun_normal": LecunNormal,
            "lecun_uniform": LecunUniform, "orthogonal": Orthogonal, "identity": Identity,
            "uniform": RandomUniform, "normal": RandomNormal}
globals().update(_ALIASES)
_ALIASES.update(one=Ones, zero=Zeros)  # tf-keras reads these in configs too
# tf-keras still reads its TF2-era class names in old configs ("GlorotUniformV2"...)
_ALIASES.update({f"{name}V2": cls for name, cls in {**_CLASSES, **_ALIASES}.items()})
_BUILTINS = {**_CLASSES, **_ALIASES, "Initializer": Initializer}


def get(identifier):
    """An initializer from a name, a config dict, an instance, a class (instantiated
    with its defaults, as in tf-keras) or a callable."""
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    return resolve(identifier, _BUILTINS, "initializer", "initializers", Initializer)


def serialize(initializer):
    """The tf-keras >= 2.13 dict form."""
    return serialize_object(initializer, "keras.initializers")


def deserialize(config, custom_objects=None):
    """The initializer a name or config dict describes; ``custom_objects`` (and any
    active :func:`numbarnn.utils.custom_object_scope`) may name user ones."""
    return resolve(config, _BUILTINS, "initializer", "initializers", Initializer,
                   custom_objects)
