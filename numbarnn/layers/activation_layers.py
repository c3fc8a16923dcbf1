"""Activation layers (tf-keras ``layers.Activation``, ``ReLU``, ``LeakyReLU``, ``ELU``,
``Softmax``, ``ThresholdedReLU``, ``PReLU``): an elementwise function as a layer of its
own, or given as another layer's ``activation`` (``Dense(8, activation=LeakyReLU(0.1))``,
which tf-keras saves as that layer's config). They pass masks on; only ``PReLU`` has a
weight (its learned slopes).

A device array of the compute dtype (float32 or float64), C-contiguous, is computed
on the GPU by every one of them (``Activation`` with a built-in function, ``Softmax``
over the last axis without a mask, ``PReLU`` where its slopes fit the input's shape);
other inputs run on a host copy. Either way a
device array comes back (see :mod:`numbarnn.layers.host_compute`).
"""
import numpy as np

from .. import activations, backend, constraints, initializers, regularizers
from ..engine.base_layer import Layer
from ..engine.dtype_policy import check_floating, numpy_compute_dtype
from ..engine.input_spec import InputSpec
from ..engine.numerics import ieee_float
from ..kernels.scalar_math import ACTIVATION_CODES, SOFTMAX
from .host_compute import device_in_device_out, device_weights

__all__ = ["Activation", "ReLU", "LeakyReLU", "ELU", "Softmax", "ThresholdedReLU",
           "PReLU"]


def _floatx(value):
    """``value`` as tf-keras's ``backend.cast_to_floatx`` keeps it: a float32 scalar
    (so 0.1 reads back as 0.10000000149011612, as in tf-keras's configs)."""
    return np.asarray(value, dtype=backend.floatx())[()]


def _floating(inputs, layer):
    """``inputs`` as an array, refused unless floating (TensorFlow refuses to mix an
    integer input with the layer's float parameters, where numpy would truncate)."""
    x = np.asarray(inputs)
    if x.dtype.kind != "f":
        raise TypeError(f'Layer "{layer.name}" ({type(layer).__name__}) expects floating '
                        f"inputs. Received inputs of dtype {x.dtype}.")
    return x


class _ElementwiseLayer(Layer):
    """A layer that applies a function elementwise: its output has the input's shape,
    and the input's mask passes through."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def compute_output_shape(self, input_shape):
        return input_shape

    def _kernels_take(self, inputs):
        """Whether the elementwise kernels take the device input: of the floating
        compute dtype (the host path would cast it first), float32 or float64 (numba
        has no float16 arithmetic), C-contiguous."""
        from ..kernels.cuda_feedforward import DENSE_DTYPES
        return (inputs.dtype == self._floating_compute_dtype()
                and inputs.dtype in DENSE_DTYPES and inputs.is_c_contiguous())

    def _activate_on_device(self, inputs, code):
        """Activation ``code`` of a device input, on the GPU; None (the host path)
        without a code, for an input the kernels do not take, or for a softmax of fewer
        than two axes (the host path's error)."""
        from ..kernels import cuda_feedforward as gpu
        if (code is None or not self._kernels_take(inputs)
                or (code == SOFTMAX and inputs.ndim < 2)):
            return None
        return gpu.activate(inputs, code)

    def _relu_on_device(self, inputs, kind, **params):
        """A parametrised ReLU of a device input on the GPU, where the kernels take it
        and no parameter is of a wider dtype than it (numpy would compute in that
        one); else None (the host path)."""
        from ..kernels import cuda_feedforward as gpu
        widest = max(np.asarray(p).dtype.itemsize for p in params.values()
                     if p is not None)
        if not self._kernels_take(inputs) or widest > inputs.dtype.itemsize:
            return None
        return gpu.relu_family(inputs, kind, **params)


class Activation(_ElementwiseLayer):
    """Apply an activation function (tf-keras ``layers.Activation``).

    Parameters
    ----------
    activation : str, dict or callable
        As a layer's ``activation`` argument (see :func:`numbarnn.activations.get`).
    **kwargs
        Base layer arguments.
    """

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    @device_in_device_out
    def call(self, inputs):
        return self.activation(inputs)

    def _call_on_device(self, inputs):
        # a built-in function on the GPU (see _activate_on_device); a layer or a
        # function of the user's on the host
        name = None if isinstance(self.activation, Layer) else activations.name_of(
            self.activation)
        return self._activate_on_device(inputs, ACTIVATION_CODES.get(name))

    def get_config(self):
        return {**super().get_config(),
                "activation": activations.serialize(self.activation)}


class ReLU(_ElementwiseLayer):
    """Rectified linear unit with a cap, a threshold and a slope below it (tf-keras
    ``layers.ReLU``): ``max_value`` if ``x >= max_value``, ``x`` if ``threshold <= x <
    max_value``, else ``negative_slope * (x - threshold)``.

    Parameters
    ----------
    max_value : float, optional
        Non-negative; None for no cap.
    negative_slope : float, default 0
        Non-negative.
    threshold : float, default 0
        Non-negative.

    Raises
    ------
    ValueError
        For a negative (or None) ``negative_slope`` or ``threshold``, or a negative
        ``max_value`` (tf-keras's messages).
    """

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        if max_value is not None and max_value < 0.0:
            raise ValueError("max_value of a ReLU layer cannot be a negative value. "
                             f"Received: {max_value}")
        if negative_slope is None or negative_slope < 0.0:
            raise ValueError("negative_slope of a ReLU layer cannot be a negative value. "
                             f"Received: {negative_slope}")
        if threshold is None or threshold < 0.0:
            raise ValueError("threshold of a ReLU layer cannot be a negative value. "
                             f"Received: {threshold}")
        self.max_value = None if max_value is None else _floatx(max_value)
        self.negative_slope = _floatx(negative_slope)
        self.threshold = _floatx(threshold)

    @device_in_device_out
    def call(self, inputs):
        return backend.relu(inputs, alpha=self.negative_slope, max_value=self.max_value,
                            threshold=self.threshold)

    def _call_on_device(self, inputs):
        return self._relu_on_device(inputs, "relu", alpha=self.negative_slope,
                                    max_value=self.max_value, threshold=self.threshold)

    def get_config(self):
        return {**super().get_config(),
                "max_value": None if self.max_value is None else float(self.max_value),
                "negative_slope": float(self.negative_slope),
                "threshold": float(self.threshold)}


class LeakyReLU(_ElementwiseLayer):
    """``x`` above 0, ``alpha * x`` below (tf-keras ``layers.LeakyReLU``; its default
    slope is 0.3, where the ``"leaky_relu"`` function's is 0.2).

    Raises
    ------
    ValueError
        If ``alpha`` is None.
    """

    def __init__(self, alpha=0.3, **kwargs):
        super().__init__(**kwargs)
        if alpha is None:
            raise ValueError("The alpha value of a Leaky ReLU layer cannot be None, "
                             f"Expecting a float. Received: {alpha}")
        self.alpha = _floatx(alpha)

    @device_in_device_out
    def call(self, inputs):
        return backend.relu(inputs, alpha=self.alpha)

    def _call_on_device(self, inputs):
        return self._relu_on_device(inputs, "relu", alpha=self.alpha)

    def get_config(self):
        return {**super().get_config(), "alpha": float(self.alpha)}


class ELU(_ElementwiseLayer):
    """Exponential linear unit, ``alpha * (exp(x) - 1)`` below 0 (tf-keras
    ``layers.ELU``).

    Raises
    ------
    ValueError
        If ``alpha`` is None.
    """

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        if alpha is None:
            raise ValueError("Alpha of an ELU layer cannot be None, expecting a float. "
                             f"Received: {alpha}")
        self.alpha = _floatx(alpha)

    @device_in_device_out
    def call(self, inputs):
        return backend.elu(inputs, self.alpha)

    def _call_on_device(self, inputs):
        return self._relu_on_device(inputs, "elu", alpha=self.alpha)

    def get_config(self):
        return {**super().get_config(), "alpha": float(self.alpha)}


class ThresholdedReLU(_ElementwiseLayer):
    """``x`` where ``x > theta``, else 0 (tf-keras ``layers.ThresholdedReLU``).

    Raises
    ------
    ValueError
        If ``theta`` is None or negative.
    """

    def __init__(self, theta=1.0, **kwargs):
        super().__init__(**kwargs)
        if theta is None:
            raise ValueError("Theta of a Thresholded ReLU layer cannot be None, expecting "
                             f"a float. Received: {theta}")
        if theta < 0:
            raise ValueError("The theta value of a Thresholded ReLU layer should be >=0. "
                             f"Received: {theta}")
        self.theta = _floatx(theta)

    @device_in_device_out
    @ieee_float  # inf * 0 is NaN, as in TensorFlow
    def call(self, inputs):
        x = _floating(inputs, self)
        dtype = numpy_compute_dtype(self.dtype_policy) or x.dtype
        return x * (x > self.theta).astype(dtype)

    def _call_on_device(self, inputs):
        return self._relu_on_device(inputs, "thresholded", threshold=self.theta)

    def get_config(self):
        return {**super().get_config(), "theta": float(self.theta)}


def _large_negative(dtype):
    """What a masked entry gets before the softmax: tf-keras's ``-1e9``, or half of
    float16's lowest (-1e9 is not a float16)."""
    return np.finfo(np.float16).min / 2 if np.dtype(dtype) == np.float16 else -1e9


class Softmax(_ElementwiseLayer):
    """Softmax along ``axis`` (tf-keras ``layers.Softmax``); a ``mask`` (True where
    kept) sends the masked entries to about zero.

    Parameters
    ----------
    axis : int or tuple of int, default -1
        The axis (or axes) normalised over.
    robust_masking : bool, default False
        Masked entries are set to a large negative number instead of having one
        added (which can overflow), as tf-keras's flag.
    """

    def __init__(self, axis=-1, robust_masking=False, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis
        self.robust_masking = robust_masking

    @device_in_device_out
    @ieee_float
    def call(self, inputs, mask=None):
        x = np.asarray(inputs)
        if mask is not None:
            mask = np.asarray(mask)
            try:
                np.broadcast_shapes(mask.shape, x.shape)
            except ValueError:  # (tf: InvalidArgumentError from the addition)
                raise ValueError(
                    f'Layer "{self.name}": argument `mask` must broadcast against the '
                    f"inputs (numpy's rules, aligned at the last axis; a (batch, time) "
                    f"mask from Masking or mask_zero fits (batch, time) scores, not a "
                    f"feature axis). Received: mask.shape={mask.shape}, "
                    f"inputs.shape={x.shape}") from None
            negative = x.dtype.type(_large_negative(x.dtype))
            if self.robust_masking:
                keep = mask if mask.dtype == np.bool_ else mask > 0.5
                x = np.where(keep, x, negative)
            else:
                x = x + (1.0 - mask.astype(x.dtype)) * negative
        axis = self.axis
        if isinstance(axis, (tuple, list)):
            if len(axis) > 1:  # exp(x - logsumexp(x)) over several axes
                axes = tuple(axis)
                top = np.max(x, axis=axes, keepdims=True)
                # tf.reduce_logsumexp: a non-finite maximum shifts by 0 (an inf entry
                # is NaN, not its whole group)
                top = np.where(np.isfinite(top), top, 0).astype(x.dtype)
                log_sum = top + np.log(np.sum(np.exp(x - top), axis=axes, keepdims=True))
                return np.exp(x - log_sum).astype(x.dtype)
            axis = axis[0]
        return backend.softmax(x, axis=axis)

    def _call_on_device(self, inputs, mask=None):
        # over the last axis without a mask on the GPU; other cases on the host
        axis = self.axis
        if isinstance(axis, (tuple, list)):
            axis = axis[0] if len(axis) == 1 else None
        if mask is not None or axis not in (-1, inputs.ndim - 1):
            return None
        return self._activate_on_device(inputs, SOFTMAX)

    def get_config(self):
        config = {**super().get_config(), "axis": self.axis}
        if self.robust_masking:
            config["robust_masking"] = True
        return config


class PReLU(_ElementwiseLayer):
    """Parametric ReLU (tf-keras ``layers.PReLU``): ``x`` above 0, ``alpha * x`` below,
    with ``alpha`` a learned weight of the input's shape but the batch axis (one per
    feature and timestep), or shared along ``shared_axes``.

    Parameters
    ----------
    alpha_initializer, alpha_regularizer, alpha_constraint : optional
        Of the ``alpha`` weight (zeros by default: a plain ReLU).
    shared_axes : int or list of int, optional
        The input axes (1 is the first after the batch) along which one slope is
        shared: ``shared_axes=[1]`` on ``(batch, time, features)`` learns one slope
        per feature for every timestep.
    """

    def __init__(self, alpha_initializer="zeros", alpha_regularizer=None,
                 alpha_constraint=None, shared_axes=None, **kwargs):
        super().__init__(**kwargs)
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        if shared_axes is None:
            self.shared_axes = None
        elif not isinstance(shared_axes, (list, tuple)):
            self.shared_axes = [shared_axes]
        else:
            self.shared_axes = list(shared_axes)

    def build(self, input_shape):
        check_floating(self)
        input_shape = tuple(input_shape)
        param_shape = list(input_shape[1:])
        for axis in self.shared_axes or []:
            if not 1 <= axis < len(input_shape):
                raise ValueError(f"Argument `shared_axes` of layer \"{self.name}\" must "
                                 f"name axes 1..{len(input_shape) - 1} of the inputs. "
                                 f"Received: shared_axes={self.shared_axes}, input "
                                 f"shape {input_shape}")
            param_shape[axis - 1] = 1
        if None in param_shape:
            raise ValueError(f"Layer \"{self.name}\" (PReLU) learns one slope per "
                             "entry of the input's non-batch axes, so they must be known "
                             f"(or shared with `shared_axes`). Received input shape "
                             f"{input_shape}")
        self.alpha = self.add_weight("alpha", shape=tuple(param_shape),
                                     initializer=self.alpha_initializer,
                                     regularizer=self.alpha_regularizer,
                                     constraint=self.alpha_constraint)
        # tf-keras pins the input's unshared axes only when some axes are shared
        axes = ({i: input_shape[i] for i in range(1, len(input_shape))
                 if i not in self.shared_axes} if self.shared_axes else {})
        self.input_spec = InputSpec(ndim=len(input_shape), axes=axes)
        self.built = True

    @device_in_device_out
    @ieee_float  # -alpha * relu(-x): 0 * inf is NaN, as in TensorFlow
    def call(self, inputs):
        x = _floating(inputs, self)
        alpha = self.alpha.value().astype(x.dtype, copy=False)
        return backend.relu(x) - alpha * backend.relu(-x)

    def _call_on_device(self, inputs):
        # the slopes spread over one batch row's shape, copied once per version and
        # input shape
        from ..kernels import cuda_feedforward as gpu
        from ..kernels.cuda import to_device
        if not self._kernels_take(inputs):
            return None
        row = tuple(inputs.shape)[1:]
        try:
            fits = np.broadcast_shapes(self.alpha.shape, row) == row
        except ValueError:  # (the host path raises numpy's error)
            fits = False
        if not fits:  # the host broadcasts the input up to the slopes' shape
            return None
        alpha = device_weights(self, [self.alpha], lambda: to_device(
            np.broadcast_to(self.alpha.value().astype(inputs.dtype), row)),
            np.dtype(inputs.dtype), row)
        return gpu.prelu(inputs, alpha)

    def get_config(self):
        return {**super().get_config(),
                "alpha_initializer": initializers.serialize(self.alpha_initializer),
                "alpha_regularizer": regularizers.serialize(self.alpha_regularizer),
                "alpha_constraint": constraints.serialize(self.alpha_constraint),
                "shared_axes": self.shared_axes}
