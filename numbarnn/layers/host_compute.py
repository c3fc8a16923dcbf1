"""Layers that compute on the host (Dense, Embedding, Dropout, the activation layers,
and Masking for inputs its device kernel does not take), given device arrays.

A device array in gives a device array out, as the recurrent layers do, so that a model
such as ``Sequential([Masking(), SimpleRNN(64), Dense(3)])`` keeps its data on the GPU
between layers and its recurrence runs there. These layers have no CUDA kernel: their
input is copied to the host, computed there, and the result copied back (their work is
one elementwise pass, one lookup or one product, small next to the recurrence).
Masking and Bidirectional's merge have device kernels
(:mod:`numbarnn.kernels.cuda_elementwise`).
"""
import functools

import numpy as np

from ..engine.keras_mask import mask_of, with_mask
from ..kernels.cuda_support import is_device_array, to_host_array

__all__ = ["device_in_device_out"]


def device_in_device_out(call):
    """Wrap a layer's ``call(self, inputs, ...)`` so that a device-array ``inputs``
    runs on a host copy (cast to the compute dtype as the layer casts host inputs) and
    the result, with the mask it carries (a host array, which the recurrent layers
    take as it is), comes back as a numba device array."""
    @functools.wraps(call)
    def wrapper(self, inputs, *args, **kwargs):
        if not is_device_array(inputs):
            return call(self, inputs, *args, **kwargs)
        from ..kernels.cuda import to_device
        out = call(self, self._cast_inputs(to_host_array(inputs)), *args, **kwargs)
        return with_mask(to_device(np.asarray(out).view(np.ndarray)), mask_of(out))
    return wrapper
