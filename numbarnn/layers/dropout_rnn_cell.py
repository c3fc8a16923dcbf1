"""Variational dropout masks for cells (tf-keras ``DropoutRNNCellMixin``).

A mask is drawn once per layer call, on the first step, and reused for every step. A
training call with a rate of 1 (or more) raises ``ValueError``, as ``tf.nn.dropout``
does in tf-keras. A mask has its input's dtype when that is floating, else float32
(an integer mask could not hold the ``1/(1-rate)`` scale).
"""
import numpy as np

from ..random_seed import seed_for_unseeded

__all__ = ["DropoutRNNCellMixin"]


def _dropout_mask(rng, shape, rate, dtype):
    """Inverted dropout of a ones tensor: 0 with probability ``rate``, else 1/(1-rate)."""
    keep = rng.random(shape) >= rate
    return (keep / (1.0 - rate)).astype(dtype)


class DropoutRNNCellMixin:
    """Caches an input and a recurrent dropout mask per call.

    Cells using it have ``dropout``, ``recurrent_dropout`` and a ``seed`` attribute.
    """

    def _dropout_rng(self):
        rng = self.__dict__.get("_rng")
        if rng is None:
            seed = getattr(self, "seed", None)
            rng = np.random.default_rng(seed if seed is not None else seed_for_unseeded())
            object.__setattr__(self, "_rng", rng)
        return rng

    def reset_dropout_mask(self):
        """Forget the cached input dropout mask (done at the start of every RNN call)."""
        object.__setattr__(self, "_dropout_mask_cache", None)

    def reset_recurrent_dropout_mask(self):
        """Forget the cached recurrent dropout mask."""
        object.__setattr__(self, "_recurrent_dropout_mask_cache", None)

    def _get_mask(self, argument, inputs, training, count):
        """The cached mask for rate attribute ``argument`` ("dropout" or
        "recurrent_dropout"), drawn on first use in a call."""
        rate = getattr(self, argument)
        if rate == 0:
            return None
        cache = f"_{argument}_mask_cache"
        cached = self.__dict__.get(cache)
        if cached is None:
            shape = np.shape(inputs)
            dtype = np.asarray(inputs).dtype
            if dtype.kind != "f":  # an integer mask would round 1/(1-rate) to 1
                dtype = np.dtype("float32")
            if training and rate >= 1:
                # tf-keras clips the rate to [0, 1], then tf.nn.dropout rejects 1
                raise ValueError(
                    f"Argument `{argument}` of layer \"{getattr(self, 'name', '')}\" "
                    f"must be in the range [0, 1) for a training call (`rate` must be a "
                    f"float in the range [0, 1)). Received: {argument}={rate}")
            if training:
                masks = [_dropout_mask(self._dropout_rng(), shape, rate, dtype)
                         for _ in range(count)]
            else:
                masks = [np.ones(shape, dtype) for _ in range(count)]
            cached = masks if count > 1 else masks[0]
            object.__setattr__(self, cache, cached)
        return cached

    def get_dropout_mask_for_cell(self, inputs, training, count=1):
        """The input dropout mask (``ones`` outside training), or None if dropout == 0."""
        return self._get_mask("dropout", inputs, training, count)

    def get_recurrent_dropout_mask_for_cell(self, inputs, training, count=1):
        """The recurrent dropout mask, shaped like the previous output."""
        return self._get_mask("recurrent_dropout", inputs, training, count)
