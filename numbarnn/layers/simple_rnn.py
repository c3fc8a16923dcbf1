"""SimpleRNNCell and the SimpleRNN layer (tf-keras ``simple_rnn.py``)."""
import logging

import numpy as np

from .. import activations, constraints, initializers, regularizers
from ..engine.base_layer import Layer
from ..engine.dtype_policy import non_floating_dtype, numpy_compute_dtype
from ..engine.input_spec import InputSpec, assert_input_compatibility
from ..engine.numerics import ieee_float
from ..kernels.plan import LevelSpec
from ..kernels.scalar_math import ACTIVATION_CODES
from .dropout_rnn_cell import DropoutRNNCellMixin
from .rnn import RNN
from .rnn_utils import generate_zero_filled_state_for_cell, is_nested

__all__ = ["SimpleRNNCell", "SimpleRNN"]


def _check_units(units):
    """``units`` as an int: a value of another type is a TypeError (tf-keras fails on
    it with one, at the comparison or the build), a number below 1 a ValueError."""
    if isinstance(units, (bool, np.bool_)) and not units:  # tf-keras: False <= 0
        raise ValueError("Received an invalid value for argument `units`, expected a "
                         f"positive integer, got {units!r}.")
    if isinstance(units, bool) or not isinstance(units, (int, np.integer)):
        raise TypeError("Received an invalid value for argument `units`, expected a "
                        f"positive integer, got {units!r} of type {type(units).__name__}.")
    if units <= 0:
        raise ValueError("Received an invalid value for argument `units`, expected a "
                         f"positive integer, got {units!r}.")
    return int(units)


def _check_seed(seed):
    """``seed`` (numbarnn's, for the dropout masks: tf-keras 2.x has none) as None or a
    non-negative int, checked here rather than at the first training call."""
    if seed is None:
        return None
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError("Argument `seed` must be None or a non-negative integer. "
                        f"Received: seed={seed!r}")
    if seed < 0:
        raise ValueError("Argument `seed` must be None or a non-negative integer. "
                         f"Received: seed={seed!r}")
    return int(seed)


def _check_rate(name, value):
    try:
        if isinstance(value, (str, bytes)):  # tf-keras compares it with a float
            raise TypeError
        value = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"Argument `{name}` must be a float in [0, 1]. "
                        f"Received: {name}={value!r}") from None
    if value != value:
        raise ValueError(f"Argument `{name}` must be a float in [0, 1]. Received: nan")
    return min(1.0, max(0.0, value))  # tf-keras clips rather than raising


def _as_float(value, dtype):
    """Integer and boolean step inputs in the weights' dtype (numpy would promote
    int @ float32 to float64)."""
    value = np.asarray(value)
    return value.astype(dtype) if value.dtype.kind in "biu" else value


class SimpleRNNCell(DropoutRNNCellMixin, Layer):
    """Cell for a fully connected RNN: ``h_t = activation(x_t W + b + h_{t-1} U)``.

    Parameters
    ----------
    units : int
        Positive; the size of the output and of the state.
    activation : str or callable, default "tanh"
        ``None`` means linear.
    use_bias : bool, default True
    kernel_initializer, recurrent_initializer, bias_initializer : str, dict or callable
        Defaults ``"glorot_uniform"``, ``"orthogonal"``, ``"zeros"``.
    kernel_regularizer, recurrent_regularizer, bias_regularizer : optional
    kernel_constraint, recurrent_constraint, bias_constraint : optional
    dropout, recurrent_dropout : float
        Fractions of the input / recurrent state to drop in training; one mask per
        call, reused at every step. As in tf-keras the value is clipped to [0, 1] here,
        and a training call with a rate of 1 raises ``ValueError`` (``tf.nn.dropout``
        accepts rates in [0, 1) only); inference calls ignore it. Called directly, the
        cell draws masks only in a training call (tf-keras's caches one at any call,
        so there a training call after an inference call reuses the all-ones mask).
    seed : int, optional
        Seed of the dropout masks.
    **kwargs
        Base ``Layer`` arguments (``name``, ``dtype``, ``trainable``).

    Notes
    -----
    Weights are ``[kernel (I, U), recurrent_kernel (U, U), bias (U,)]``, in the order of
    tf-keras, so ``set_weights(keras_cell.get_weights())`` reproduces a tf-keras cell.
    """

    def __init__(self, units, activation="tanh", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, **kwargs):
        # A TF1-era placement option: no effect here, kept for configs that carry it.
        self._enable_caching_device = kwargs.pop("enable_caching_device", True)
        super().__init__(**kwargs)
        self.units = _check_units(units)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = _check_rate("dropout", dropout)
        self.recurrent_dropout = _check_rate("recurrent_dropout", recurrent_dropout)
        self.seed = _check_seed(seed)
        self.state_size = self.units
        self.output_size = self.units

    def build(self, input_shape):
        dtype = non_floating_dtype(self)
        if dtype is not None:  # tf-keras's weight initializers refuse it with this error
            raise ValueError(f"Expected floating point type, got <dtype: '{dtype}'>. A "
                             f"{type(self).__name__} layer can only be built with a "
                             "floating-point dtype.")
        self._build_input_shape = input_shape
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError("The last dimension of the inputs to `SimpleRNNCell` should be "
                             f"defined. Found None. Full input shape: {input_shape}")
        self.kernel = self.add_weight(
            shape=(input_dim, self.units), name="kernel",
            initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, self.units), name="recurrent_kernel",
            initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer, constraint=self.recurrent_constraint)
        if self.use_bias:
            self.bias = self.add_weight(
                shape=(self.units,), name="bias", initializer=self.bias_initializer,
                regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        else:
            self.bias = None
        self.built = True

    @ieee_float
    def call(self, inputs, states, training=None):
        """One step: ``(inputs (B, I), [h (B, U)]) -> (h_new, [h_new])``.

        Raises
        ------
        ValueError
            If ``inputs`` is not ``(B, I)`` with the kernel's ``I``, or the state is not
            ``(B, units)`` (numpy would broadcast them into a wrong answer).
        IndexError
            If ``states`` is an empty list or tuple (tf-keras's error type).
        """
        if is_nested(states) and len(states) == 0:
            # tf-keras's states[0] raises IndexError: the same type, saying why
            raise IndexError(f'Layer "{self.name}" expects 1 state in `states` (shape '
                             f"(batch, {self.units})), but received an empty "
                             f"{type(states).__name__}.")
        prev = states[0] if is_nested(states) else states
        self._check_step(inputs, prev)
        kernel = self.kernel.value()
        # Cast before drawing the dropout masks: a mask takes its input's dtype, and an
        # integer one would round the 1/(1-rate) scale down to 1.
        inputs, prev = (_as_float(v, kernel.dtype) for v in (inputs, prev))
        # Outside training the masks would be ones: none are drawn (nor cached on the
        # cell, which calls from several threads share).
        dp_mask = self.get_dropout_mask_for_cell(inputs, training) if training else None
        rec_dp_mask = (self.get_recurrent_dropout_mask_for_cell(prev, training)
                       if training else None)
        x = inputs * dp_mask if dp_mask is not None else inputs
        if rec_dp_mask is not None:
            prev = prev * rec_dp_mask
        # The result in the dtype of the call (float16 for a float16 cell called on
        # float16 arrays, as tf-keras gives; the RNN's loop hands float32 steps to a
        # float16 cell, and keeps its state in float32 as the fused kernels do),
        # computed in float32 at least (float16 products would round every term).
        out_dtype = np.result_type(inputs.dtype, prev.dtype,
                                   numpy_compute_dtype(self.dtype_policy) or kernel.dtype)
        work = np.promote_types(np.promote_types(out_dtype, kernel.dtype), np.float32)

        def product(a, weights):
            # np.matmul, not np.dot: numpy's dot of a (B, 1) by (1, 1) product gives 0
            # for NaN times 0 (IEEE, and tf's matmul, give NaN)
            return np.matmul(a.astype(work, copy=False), weights.astype(work, copy=False))

        h = product(x, kernel)
        if self.bias is not None:
            h = h + self.bias.value()
        output = self.activation(h + product(prev, self.recurrent_kernel.value()))
        output = np.asarray(output, dtype=out_dtype)
        return output, ([output] if is_nested(states) else output)

    def _check_step(self, inputs, prev):
        for name, value in (("inputs", inputs), ("states", prev)):
            kind = getattr(value, "dtype", np.asarray(value).dtype).kind
            if kind not in "biuf":
                raise TypeError(f'Layer "{self.name}": argument `{name}` must be numeric. '
                                f"Received dtype {np.asarray(value).dtype}.")
        shape, width = np.shape(inputs), self.kernel.shape[0]
        if len(shape) != 2 or shape[1] != width:  # cheap test first: runs every step
            assert_input_compatibility(InputSpec(ndim=2, axes={-1: width}), inputs,
                                       self.name)
        if np.shape(prev) != (shape[0], self.units):
            raise ValueError(f'State 0 of layer "{self.name}" is incompatible with the '
                             f"layer: expected shape={(shape[0], self.units)} (batch, "
                             f"units), found shape={np.shape(prev)}")

    def get_initial_state(self, inputs=None, batch_size=None, dtype=None):
        """Zeros of shape ``(batch_size, units)``."""
        return generate_zero_filled_state_for_cell(self, inputs, batch_size, dtype)

    def _fused_levels(self, batch_size, dtype, training):
        """Describe this cell for the fused kernels, or None if it cannot be compiled
        (an activation they lack, or a subclass with a ``call`` of its own)."""
        name = activations.name_of(self.activation)
        if name not in ACTIVATION_CODES or type(self).call is not SimpleRNNCell.call:
            return None
        in_mask = rec_mask = None
        if self.dropout > 0 and training:
            in_mask = self.get_dropout_mask_for_cell(
                np.empty((batch_size, self.kernel.shape[0]), dtype), training)
        if self.recurrent_dropout > 0 and training:
            rec_mask = self.get_recurrent_dropout_mask_for_cell(
                np.empty((batch_size, self.units), dtype), training)
        return [LevelSpec(self.kernel.value(), self.recurrent_kernel.value(),
                          None if self.bias is None else self.bias.value(), name,
                          input_dropout=in_mask, recurrent_dropout=rec_mask,
                          name=self.name)]

    def _fused_weights(self):
        return [self.kernel, self.recurrent_kernel] + ([self.bias] if self.bias is not None else [])

    def get_config(self):
        config = {
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "recurrent_regularizer": regularizers.serialize(self.recurrent_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "recurrent_constraint": constraints.serialize(self.recurrent_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
        }
        config.update(_extra_config(self))
        return {**super().get_config(), **config}


def _extra_config(cell):
    """Keys tf-keras writes only when not at their default (``enable_caching_device``),
    and numbarnn's ``seed`` (left out when None, so tf-keras reads the config)."""
    extra = {}
    if cell.seed is not None:
        extra["seed"] = cell.seed
    if cell._enable_caching_device is not True:
        extra["enable_caching_device"] = cell._enable_caching_device
    return extra


_CELL_ARGS = ("activation", "use_bias", "kernel_initializer", "recurrent_initializer",
              "bias_initializer", "kernel_regularizer", "recurrent_regularizer",
              "bias_regularizer", "kernel_constraint", "recurrent_constraint",
              "bias_constraint", "dropout", "recurrent_dropout")


class SimpleRNN(RNN):
    """Fully connected RNN whose output is fed back as input (tf-keras ``SimpleRNN``).

    Parameters
    ----------
    units : int
    activation, use_bias, dropout, recurrent_dropout : see :class:`SimpleRNNCell`
        The cell's arguments (so are the ``*_initializer``, ``*_regularizer`` and
        ``*_constraint`` ones).
    activity_regularizer : optional
        Applied to every output of each call.
    return_sequences, return_state, go_backwards, stateful, unroll : bool
        As for :class:`RNN`.
    seed : int, optional
        Seed of the dropout masks.
    **kwargs
        ``time_major``, ``zero_output_for_mask`` and the base Layer arguments.
    """

    def __init__(self, units, activation="tanh", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, seed=None, **kwargs):
        if "implementation" in kwargs:
            kwargs.pop("implementation")
            # tf-keras logs this (absl logging), it does not warn
            logging.getLogger("numbarnn").warning(
                "The `implementation` argument in `SimpleRNN` has been deprecated. "
                "Please remove it from your layer call.")
        cell_kwargs = ({"enable_caching_device": kwargs.pop("enable_caching_device")}
                       if "enable_caching_device" in kwargs else {})
        cell = SimpleRNNCell(
            units, activation=activation, use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint, dropout=dropout,
            recurrent_dropout=recurrent_dropout, seed=seed, dtype=kwargs.get("dtype"),
            trainable=kwargs.get("trainable", True), name="simple_rnn_cell", **cell_kwargs)
        super().__init__(cell, return_sequences=return_sequences,
                         return_state=return_state, go_backwards=go_backwards,
                         stateful=stateful, unroll=unroll, **kwargs)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.input_spec = [InputSpec(ndim=3)]

    def call(self, inputs, mask=None, training=None, initial_state=None):
        return super().call(inputs, mask=mask, training=training,
                            initial_state=initial_state)

    def get_config(self):
        config = super().get_config()
        del config["cell"]
        cell_config = self.cell.get_config()
        config["units"] = self.cell.units
        for key in _CELL_ARGS:  # in tf-keras's key order
            if key == "kernel_constraint":
                config["activity_regularizer"] = regularizers.serialize(
                    self.activity_regularizer)
            config[key] = cell_config[key]
        config.update(_extra_config(self.cell))
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config.pop("implementation", None)
        # cls(**config), not RNN's, which expects a "cell" entry; constructor errors come
        # through as they are (tf-keras's SimpleRNN.from_config does not wrap them)
        return cls._from_plain_config(config, custom_objects)


def _proxy(attr):
    return property(lambda self: getattr(self.cell, attr))


for _attr in ("units",) + _CELL_ARGS:
    setattr(SimpleRNN, _attr, _proxy(_attr))
