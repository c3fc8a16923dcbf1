"""``Dropout``: zero a random fraction of the inputs in training, scale the rest."""
import numbers

import numpy as np

from ..engine.base_layer import Layer
from ..random_seed import seed_for_unseeded
from .host_compute import device_in_device_out

__all__ = ["Dropout"]


def _seed_sequence(seed):
    """The generator's seed for a Dropout ``seed``: any finite real number, as tf-keras
    takes negative and float seeds, each distinct seed its own draws (a non-negative
    integer as numpy reads it; a negative one or a fraction in a ``SeedSequence`` of
    its own kind, so that none collides with an integer); None stays None (fresh
    entropy)."""
    if seed is None:
        return None
    if (isinstance(seed, numbers.Real) and not isinstance(seed, numbers.Integral)
            and np.isfinite(seed)):
        if seed != int(seed):  # a fraction: its bits
            return np.random.SeedSequence(int(np.float64(seed).view(np.uint64)),
                                          spawn_key=(1,))
        seed = int(seed)  # 2.0 draws as 2
    if isinstance(seed, numbers.Integral):
        seed = int(seed)
        return seed if seed >= 0 else np.random.SeedSequence(-seed, spawn_key=(2,))
    raise ValueError("Argument `seed` of Dropout must be None or a finite real number. "
                     f"Received: seed={seed!r}")


class Dropout(Layer):
    """Set inputs to zero with probability ``rate`` in a training call, scaling the
    others by ``1 / (1 - rate)``; pass them unchanged otherwise (tf-keras
    ``layers.Dropout``).

    Parameters
    ----------
    rate : float
        In ``[0, 1]`` (checked here when a number; a training call needs it below 1,
        as ``tf.nn.dropout``).
    noise_shape : tuple of int, optional
        The shape of the keep/drop draw, broadcast over the inputs; a None entry takes
        the inputs' length on that axis (``(None, 1, features)`` drops the same
        features at every timestep).
    seed : int or float, optional
        Seeds this layer's own generator: the same sequence of masks from call to
        call in every run (not tf-keras's numbers: TensorFlow's generator differs;
        and two layers given one seed draw the same masks, where tf-keras's differ).
        Any real number, as tf-keras takes (negative and float seeds too); kept as
        given in the config.
    **kwargs
        Base layer arguments.

    Notes
    -----
    Without ``training=True`` (given, or inherited from the model's call) the layer is
    the identity, as tf-keras's in inference. A mask passes through unchanged.
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(rate, (int, float)) and not 0 <= rate <= 1:
            raise ValueError(f"Invalid value {rate} received for `rate`, expected a value "
                             "between 0 and 1.")
        self.rate = rate
        self.noise_shape = noise_shape
        self.seed = seed
        self.supports_masking = True
        self._rng = np.random.default_rng(_seed_sequence(
            seed if seed is not None else seed_for_unseeded()))

    def _draw_shape(self, shape):
        if self.noise_shape is None:
            return shape
        noise = tuple(self.noise_shape)
        if len(noise) != len(shape):
            raise ValueError(f"Argument `noise_shape` of layer \"{self.name}\" has "
                             f"{len(noise)} axes, but the inputs have {len(shape)}. "
                             f"Received: noise_shape={self.noise_shape}, inputs.shape="
                             f"{shape}")
        return tuple(given if want is None else want for want, given in zip(noise, shape))

    def _call_on_device(self, inputs, training=None):
        # outside training a copy on the GPU (where the host path would not cast the
        # input to the compute dtype first); a training call on the host
        rate_zero = isinstance(self.rate, numbers.Real) and self.rate == 0
        if ((training and not rate_zero) or self._casts(inputs)
                or not inputs.is_c_contiguous()):
            return None
        from ..kernels.cuda_feedforward import copy
        return copy(inputs)

    @device_in_device_out
    def call(self, inputs, training=None):
        x = np.asarray(inputs)
        if (isinstance(self.rate, numbers.Real) and self.rate == 0) or not training:
            return x.copy()  # tf.identity: writing into the output leaves the input
        rate = self.rate
        if not isinstance(rate, numbers.Real) or isinstance(rate, bool):
            raise ValueError("`rate` must be a scalar or scalar tensor, a float in the "
                             f"range [0, 1). Received: rate={rate!r}")
        if not 0 <= rate < 1:
            raise ValueError("`rate` must be a scalar tensor or a float in the range "
                             f"[0, 1). Received: rate={rate}")
        if x.dtype.kind != "f":
            raise ValueError("`x.dtype` must be a floating point tensor as `x` will be "
                             f"scaled. Received: x_dtype={x.dtype.name}")
        keep = self._rng.random(self._draw_shape(x.shape)) >= rate
        try:
            return np.where(keep, x * x.dtype.type(1 / (1 - rate)), x.dtype.type(0))
        except ValueError:
            raise ValueError(f"Argument `noise_shape` of layer \"{self.name}\" must "
                             f"broadcast to the inputs' shape {x.shape} (each entry equal "
                             f"or 1). Received: noise_shape={self.noise_shape}") from None

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "noise_shape": self.noise_shape,
                "seed": self.seed}
