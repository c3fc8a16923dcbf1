"""``Masking``: marks the timesteps whose features all equal a value as padding."""
import numpy as np

from ..engine.base_layer import Layer
from ..engine.keras_mask import with_mask
from ..engine.numerics import ieee_float
from .host_compute import device_in_device_out, device_weights

__all__ = ["Masking"]


def _is_number(value):
    return not isinstance(value, (bool, np.bool_)) and isinstance(
        value, (int, float, np.integer, np.floating))


def _kernel_takes(layer, x, value):
    """Whether the device kernel takes device array ``x`` and the checked mask
    ``value``: ``x`` floating, in the layer's compute dtype (or the layer does not
    autocast), C-contiguous, not empty; one value or one per feature (a value of more
    dimensions broadcasts on the host)."""
    return (np.dtype(x.dtype) in (np.float16, np.float32, np.float64)
            and not layer._casts(x)
            and x.ndim >= 1 and x.size > 0 and x.is_c_contiguous()
            and value.ndim <= 1 and value.size in (1, tuple(x.shape)[-1]))


class Masking(Layer):
    """Mask the timesteps whose features all equal ``mask_value`` (tf-keras
    ``layers.Masking``).

    In a :class:`~numbarnn.Sequential`, the mask reaches the next layers that support
    masking (the recurrent layers skip those steps, keeping their state). The layer's
    own output is its input with the masked timesteps set to zero.

    Parameters
    ----------
    mask_value : float or list of float, default 0.0
        A timestep ``t`` of row ``b`` is masked when ``inputs[b, t, :] == mask_value``
        everywhere (NaN never equals it, so a step with a NaN stays unmasked); a list
        gives one value per feature, as in tf-keras.
    **kwargs
        Base layer arguments (``name``, ``dtype``, ``input_shape``, ...).

    Examples
    --------
    >>> import numpy as np, numbarnn as nr
    >>> x = np.ones((2, 3, 4), "float32"); x[0, 2] = 0.0
    >>> model = nr.Sequential([nr.Masking(0.0), nr.SimpleRNN(5)])
    >>> model(x).shape
    (2, 5)
    """

    _compute_output_and_mask_jointly = True  # call attaches the mask it computes

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        # tf-keras fails at the first call on anything but a number or a per-feature
        # list of numbers (TypeError for a string, ValueError for None); here the
        # constructor says so.
        values = np.asarray(mask_value) if isinstance(
            mask_value, (list, tuple, np.ndarray)) else None
        if not (_is_number(mask_value) or (values is not None and values.size > 0
                                           and values.dtype.kind in "iuf")):
            raise TypeError("Argument `mask_value` must be a number (or a list of one "
                            f"per feature). Received: mask_value={mask_value!r}")
        self.supports_masking = True
        self.mask_value = mask_value

    def _keep(self, inputs):
        """True where a timestep has a feature that differs from ``mask_value``."""
        x = np.asarray(inputs)
        return np.any(x != self._checked_value(x), axis=-1)

    def _checked_value(self, x):
        """``mask_value`` as the comparison with ``x`` (an array, or a device array)
        takes it, after tf-keras's checks of both."""
        shape = tuple(x.shape)
        if np.dtype(x.dtype).kind not in "biuf":
            raise TypeError("Masking expects numeric `inputs`. Received: inputs of dtype "
                            f"{x.dtype}")
        if len(shape) == 0:
            raise ValueError("Masking expects `inputs` with a feature axis (at least 1 "
                             f"dimension). Received: inputs.shape={shape}")
        value = np.asarray(self.mask_value)
        if np.dtype(x.dtype).kind == "f":
            # tf.not_equal converts the value to the inputs' dtype: Masking(0.1) masks
            # float32 steps of 0.1 (in float64, 0.1 != float32(0.1))
            with np.errstate(over="ignore"):
                value = value.astype(x.dtype)
        if value.ndim and value.shape[-1] not in (1, shape[-1]):
            # numpy's (and tf's) broadcasting error would name neither
            raise ValueError(f"Argument `mask_value` of layer \"{self.name}\" has "
                             f"{value.shape[-1]} values (one per feature), but the inputs "
                             f"have {shape[-1]} features. Received: inputs.shape="
                             f"{shape}, mask_value={self.mask_value!r}")
        return value

    def compute_mask(self, inputs, mask=None):
        return self._keep(inputs)

    @device_in_device_out  # (a device array the kernel does not take: a host round trip)
    @ieee_float  # inf * 0 is NaN, as in tf-keras
    def call(self, inputs):
        x = np.asarray(inputs)
        keep = self._keep(x)
        return with_mask(x * keep[..., None].astype(x.dtype), keep)

    def _call_on_device(self, inputs):
        """On the device where the kernel takes ``inputs`` (see ``_kernel_takes``), the
        mask (small) copied to the host for the next layers; else None."""
        from ..kernels.cuda import mask_steps, to_device
        value = self._checked_value(inputs)
        if not _kernel_takes(self, inputs, value):
            return None
        # the value's device copy, kept while it stays the same
        held = device_weights(self, [], lambda: to_device(np.ravel(value)),
                              value.dtype, value.tobytes())
        return with_mask(*mask_steps(inputs, held))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}
