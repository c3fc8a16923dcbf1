"""Dense: ``activation(x @ kernel + bias)`` on the last axis."""
import math

import numpy as np

from .. import activations, constraints, initializers, regularizers
from ..engine.base_layer import Layer
from ..engine.dtype_policy import check_floating, numpy_compute_dtype
from ..engine.input_spec import InputSpec
from ..engine.numerics import ieee_float
from ..engine.tensor_shape import TensorShape
from ..kernels.scalar_math import ACTIVATION_CODES
from .host_compute import device_in_device_out, device_weights

__all__ = ["Dense"]


def _check_units(units):
    """tf-keras Dense: ``int(units)`` (so ``"4"``, ``4.0`` and ``2.5`` are accepted, as
    2.5 -> 2 there), at least 0."""
    try:
        value = int(units)
    except (TypeError, ValueError):
        raise TypeError("Received an invalid value for `units`, expected a positive "
                        f"integer. Received: units={units!r}") from None
    if value < 0:
        raise ValueError("Received an invalid value for `units`, expected a positive "
                         f"integer. Received: units={units!r}")
    return value


class Dense(Layer):
    """Densely connected layer (tf-keras ``Dense``).

    Parameters
    ----------
    units : int
    activation : str or callable, optional
    use_bias : bool
    kernel_initializer, bias_initializer : str, dict or callable, optional
    kernel_regularizer, bias_regularizer, activity_regularizer : optional
    kernel_constraint, bias_constraint : optional

    Notes
    -----
    In float16 (the ``mixed_float16`` policy) the steps round as tf-keras's do: the
    kernel read as float16, the product (accumulated in float32) rounded to float16, the
    bias added in float16, the activation applied to those values (softmax computed in
    float32 and rounded once, as TensorFlow's kernel).

    A numba device array (or any ``__cuda_array_interface__`` array) is computed on the
    GPU, one GEMM and, unless linear, one activation pass, where the compute dtype is
    float32 or float64 (an input of another real dtype, such as a mixed-precision
    layer's float16 output, is converted as it is read), the activation is a built-in
    function, and the input is 3-D (read in place, any strides) or C-contiguous;
    otherwise on a host copy. Either way the result is a device array.
    """

    def __init__(self, units, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.units = _check_units(units)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(min_ndim=2)
        self.supports_masking = True

    def build(self, input_shape):
        check_floating(self)
        self._build_input_shape = input_shape
        last = input_shape[-1] if input_shape else None  # None: a shape of unknown rank
        if last is None:
            raise ValueError("The last dimension of the inputs to a Dense layer should be "
                             f"defined. Found None. Full input shape received: {input_shape}")
        self.input_spec = InputSpec(min_ndim=2, axes={-1: last})
        self.kernel = self.add_weight("kernel", shape=(last, self.units),
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.bias = (self.add_weight("bias", shape=(self.units,),
                                     initializer=self.bias_initializer,
                                     regularizer=self.bias_regularizer,
                                     constraint=self.bias_constraint)
                     if self.use_bias else None)
        self.built = True

    @device_in_device_out
    @ieee_float
    def call(self, inputs):
        x = np.asarray(inputs)
        if x.dtype.kind not in "biuf":
            raise TypeError(f'Layer "{self.name}": argument `inputs` must be a numeric '
                            f"array. Received an array of dtype {x.dtype}.")
        # tf-keras's Dense casts its input to the compute dtype itself (autocast=False
        # too); integers and bools as well
        compute = numpy_compute_dtype(self.dtype_policy) or np.dtype("float32")
        if x.dtype != compute:
            x = x.astype(compute)
        # The result has the input's (compute) dtype, as in tf-keras. In float16 (the
        # mixed_float16 policy) each step rounds as tf-keras's: the weights read as
        # float16 (their autocast, as AutoCastVariables), the product accumulated in
        # float32 and rounded, the float16 bias added (rounded), the activation of
        # those values.
        work = np.promote_types(x.dtype, np.float32)
        # One GEMM of all the rows: numpy's matmul of a 3-D by a 2-D array runs one
        # product per leading index, 2-3x slower at (64, 200, 128) x 256.
        lead = x.shape[:-1]
        rows = x.reshape((math.prod(lead), x.shape[-1])) if x.ndim > 2 else x
        out = np.matmul(rows.astype(work, copy=False),
                        self.kernel._operand().astype(work, copy=False))
        out = out.reshape(lead + (self.units,)).astype(x.dtype, copy=False)
        if self.bias is not None:
            out = out + self.bias._operand()
        if isinstance(self.activation, Layer):
            # an activation layer keeps its own dtype policy, as in tf-keras: it gets
            # the product in the input's dtype and answers in its compute dtype
            return self.activation(out)
        return np.asarray(self.activation(out), dtype=x.dtype)

    def _call_on_device(self, inputs):
        """The device path (see the class notes), or None where it does not apply."""
        from ..kernels import cuda_feedforward as gpu
        compute = numpy_compute_dtype(self.dtype_policy) or np.dtype("float32")
        code = (None if isinstance(self.activation, Layer)
                else ACTIVATION_CODES.get(activations.name_of(self.activation)))
        # (an input of another real dtype is converted as the projection reads it: one
        # rounding per value, as the host's cast to the compute dtype)
        if (code is None or compute not in gpu.DENSE_DTYPES
                or np.dtype(inputs.dtype).kind not in "biuf"
                or not (inputs.ndim == 3 or inputs.is_c_contiguous())):
            return None
        variables = [self.kernel] + ([self.bias] if self.bias is not None else [])
        weights = device_weights(self, variables, lambda: gpu.dense_weights(
            self.kernel.value(), None if self.bias is None else self.bias.value(),
            compute), compute)
        return gpu.dense(inputs, weights, code)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) < 2:
            raise ValueError(f"Shape {input_shape} must have rank at least 2")
        if input_shape[-1] is None:
            raise ValueError("The last dimension of the input shape of a Dense layer "
                             "should be defined. Found None. Received: "
                             f"input_shape={input_shape}")
        return TensorShape(input_shape[:-1] + (self.units,))  # as tf-keras's

    def get_config(self):
        return {**super().get_config(),
                "units": self.units, "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "activity_regularizer": regularizers.serialize(self.activity_regularizer),
                "kernel_constraint": constraints.serialize(self.kernel_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint)}
