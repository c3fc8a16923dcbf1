"""Device arrays through the feed-forward layers (Dense, Embedding, Dropout, the
activation layers, and Masking): a device array in gives a device array out, as the
recurrent layers do, so that a model such as ``Sequential([Masking(), SimpleRNN(64),
Dense(3)])`` keeps its data on the GPU between layers and its recurrence runs there.

A layer computes a device input on the GPU where its ``_call_on_device`` can
(:mod:`numbarnn.kernels.cuda_feedforward`; Masking's and Bidirectional's merge kernels
are :mod:`numbarnn.kernels.cuda_elementwise`'s); otherwise (another dtype, a layout or
option those kernels do not take, a training call of Dropout) its input is copied to
the host, computed there, and the result copied back.
"""
import functools

import numpy as np

from ..engine.keras_mask import mask_of, with_mask
from ..engine.variables import VersionCache
from ..kernels.cuda_support import is_device_array, to_host_array

__all__ = ["device_in_device_out", "device_weights"]


def device_in_device_out(call):
    """Wrap a layer's ``call(self, inputs, ...)`` so that a device-array ``inputs``
    runs on the device where the layer's ``_call_on_device(inputs, ...)`` returns a
    result (not None); else on a host copy (cast to the compute dtype as the layer
    casts host inputs), the result, with the mask it carries (a host array, which the
    recurrent layers take as it is), coming back as a numba device array."""
    @functools.wraps(call)
    def wrapper(self, inputs, *args, **kwargs):
        if not is_device_array(inputs):
            return call(self, inputs, *args, **kwargs)
        from ..kernels.cuda import as_device_array
        inputs = as_device_array(inputs)  # (a CuPy array given to ``call`` itself)
        on_device = getattr(self, "_call_on_device", None)
        out = None if on_device is None else on_device(inputs, *args, **kwargs)
        if out is not None:
            return out
        from ..kernels.cuda import to_device
        out = call(self, self._cast_inputs(to_host_array(inputs)), *args, **kwargs)
        return with_mask(to_device(np.asarray(out).view(np.ndarray)), mask_of(out))
    return wrapper


def device_weights(layer, variables, make, *key):
    """``make()``'s device copies of ``variables``, kept on ``layer`` until one of
    them (or ``key``: the dtype, an input shape) changes (a
    :class:`~numbarnn.engine.variables.VersionCache`, as the recurrent layers keep
    their packed weights)."""
    held = layer.__dict__.get("_device_weights")
    if held is None:
        held = layer.__dict__["_device_weights"] = VersionCache()
    return held.get(variables, make, *key)
