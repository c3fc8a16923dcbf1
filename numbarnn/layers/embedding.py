"""``Embedding``: integer indices to rows of a learned table, with the zero-index mask."""
import numpy as np

from .. import constraints, initializers, regularizers
from ..engine.base_layer import Layer
from ..engine.dtype_policy import check_floating, numpy_compute_dtype
from ..engine.keras_mask import with_mask
from ..engine.tensor_shape import TensorShape
from ..kernels.cuda_support import to_host_array
from .host_compute import device_in_device_out, device_weights

__all__ = ["Embedding"]


def _check_size(name, value):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"Argument `{name}` of Embedding must be a positive integer. "
                        f"Received: {name}={value!r}")
    return int(value)


def _rounded(values, dtype):
    """``values`` in ``dtype`` (themselves where they have it)."""
    with np.errstate(over="ignore"):  # (to inf, silently, as tf.cast)
        return np.asarray(values, dtype)


class Embedding(Layer):
    """Turn integer indices into dense vectors: row ``i`` of ``embeddings`` for index
    ``i`` (tf-keras ``layers.Embedding``).

    Parameters
    ----------
    input_dim : int
        Size of the vocabulary: indices run from 0 to ``input_dim - 1``.
    output_dim : int
        Length of each vector.
    embeddings_initializer : str, dict or callable, default "uniform"
        tf-keras's ``RandomUniform(-0.05, 0.05)``.
    embeddings_regularizer, activity_regularizer, embeddings_constraint : optional
    mask_zero : bool, default False
        Index 0 is padding: the output carries a mask that is False there, which the
        recurrent layers after it use to skip those steps (so the vocabulary's real
        entries start at 1).
    input_length : int or tuple, optional
        The sequence length, when fixed: it completes the output shape (and, as in
        tf-keras, the layer's declared input shape ``(input_length,)``; without it
        ``(None,)``, so a ``Sequential`` it starts is built at once).
    sparse : bool, default False
        Only False: numbarnn has no sparse arrays.
    **kwargs
        Base layer arguments (``name``, ``dtype``, ``input_shape``...).

    Notes
    -----
    Floating-point (and boolean) indices are cast to integers, truncating, as tf-keras
    casts them to int32. An index outside ``[0, input_dim)`` raises ``ValueError``
    (tf-keras's CPU kernel's InvalidArgumentError, with the same text). Under a mixed
    precision policy the table stays float32 and the output is cast to the compute
    dtype, as tf-keras does.

    Device-array indices give a device array: the lookup runs on the GPU, from a
    device copy of the table in the compute dtype (made again when the table changes;
    under a mixed policy the float32 table rounded to float16 once, as the host rounds
    the rows it looks up); the indices are checked on a host copy first (the same
    errors). A bfloat16 compute dtype looks up on the host and copies the result over.

    Examples
    --------
    >>> import numpy as np, numbarnn as nr
    >>> model = nr.Sequential([nr.Embedding(1000, 16, mask_zero=True), nr.SimpleRNN(8)])
    >>> tokens = np.array([[12, 7, 0, 0], [3, 9, 41, 5]])   # 0: padding
    >>> model(tokens).shape
    (2, 8)
    """

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform",
                 embeddings_regularizer=None, activity_regularizer=None,
                 embeddings_constraint=None, mask_zero=False, input_length=None,
                 sparse=False, **kwargs):
        if "input_shape" not in kwargs:  # tf-keras's: a Sequential it starts is built
            if input_length:
                kwargs["input_shape"] = (tuple(input_length) if isinstance(
                    input_length, (list, tuple)) else (input_length,))
            else:
                kwargs["input_shape"] = (None,)
        input_dim = _check_size("input_dim", input_dim)
        output_dim = _check_size("output_dim", output_dim)
        if input_dim <= 0 or output_dim <= 0:
            raise ValueError("Both `input_dim` and `output_dim` should be positive, "
                             f"Received input_dim = {input_dim} and output_dim = "
                             f"{output_dim}")
        if sparse:
            raise ValueError("Argument `sparse=True` of Embedding makes sparse outputs "
                             "for sparse inputs; numbarnn has no sparse arrays. Pass "
                             "`sparse=False`.")
        # tf-keras's: indices are not cast to the compute dtype (float16 would round
        # 4097 to 4096)
        kwargs["autocast"] = False
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.input_dim = input_dim
        self.output_dim = output_dim
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = mask_zero
        self.supports_masking = mask_zero
        self.input_length = input_length
        self.sparse = False

    def build(self, input_shape=None):
        check_floating(self)
        self._build_input_shape = input_shape
        self.embeddings = self.add_weight(
            "embeddings", shape=(self.input_dim, self.output_dim),
            initializer=self.embeddings_initializer,
            regularizer=self.embeddings_regularizer,
            constraint=self.embeddings_constraint, autocast=False)
        self.built = True

    def _indices(self, inputs):
        x = np.asarray(inputs)
        if self.mask_zero:  # tf.not_equal(bool inputs, 0) fails
            self._check_mask_input(x)
        if x.dtype.kind in "fb":  # tf-keras casts them to int32
            with np.errstate(invalid="ignore"):  # NaN / inf: out of range below
                x = x.astype(np.int32)
        elif x.dtype.kind not in "iu":
            raise TypeError(f'Layer "{self.name}" expects integer indices. Received '
                            f"inputs of dtype {x.dtype}.")
        outside = (x < 0) | (x >= self.input_dim)
        if outside.any():
            where = tuple(int(i) for i in np.argwhere(outside)[0])
            raise ValueError(f"indices[{','.join(map(str, where))}] = {x[where]} is not "
                             f"in [0, {self.input_dim}) (layer \"{self.name}\", "
                             f"input_dim={self.input_dim})")
        return x

    def _check_mask_input(self, x):
        if x.dtype.kind not in "iuf":  # bool: tf.not_equal(bool, 0) fails; str, object
            raise TypeError(f'Layer "{self.name}" with mask_zero=True expects integer '
                            "indices (0 marks padding). Received inputs of dtype "
                            f"{x.dtype}.")

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        x = np.asarray(inputs)
        self._check_mask_input(x)
        return x != 0  # of the values given, as tf.not_equal (a float 0.5 is not padding)

    @device_in_device_out
    def call(self, inputs):
        out = self.embeddings.value()[self._indices(inputs)]
        return _rounded(out, numpy_compute_dtype(self.dtype_policy) or np.dtype("float32"))

    def _call_on_device(self, inputs):
        from ..kernels import cuda_feedforward as gpu
        from ..kernels.cuda import to_device
        dtype = numpy_compute_dtype(self.dtype_policy) or np.dtype("float32")
        if dtype not in gpu.LOOKUP_DTYPES:
            return None
        given = np.asarray(to_host_array(inputs))
        indices = self._indices(given)
        # (in the compute dtype: under a mixed policy each value rounded once, as the
        # host rounds the looked-up rows)
        table = device_weights(self, [self.embeddings], lambda: to_device(
            _rounded(self.embeddings.value(), dtype)), dtype)
        out = gpu.embed(indices, table)
        # the mask from this host copy, attached (compute_mask is then not called: the
        # ids are copied to the host once)
        return with_mask(out, self.compute_mask(given)) if self.mask_zero else out

    def _call_output_shape(self, input_shape):
        # the lookup's shape: tf-keras's models take it from the call, which reads no
        # input_length (Embedding(5, input_shape=(6,)) builds and runs on 6 steps)
        return TensorShape(tuple(input_shape) + (self.output_dim,))

    def compute_output_shape(self, input_shape):
        """The output shape, as tf-keras's method: ``input_length`` (where known) must
        fit ``input_shape`` and fills its unknown lengths.

        Raises
        ------
        ValueError
            If ``input_length`` does not fit ``input_shape``.
        """
        input_shape = tuple(input_shape)
        if self.input_length is None:
            return TensorShape(input_shape + (self.output_dim,))
        lengths = (list(self.input_length) if isinstance(self.input_length, (list, tuple))
                   else [self.input_length])
        if len(lengths) != len(input_shape) - 1:
            raise ValueError(f'"input_length" is {self.input_length}, but received input '
                             f"has shape {input_shape}")
        for i, (declared, given) in enumerate(zip(lengths, input_shape[1:])):
            if declared is not None and given is not None and declared != given:
                raise ValueError(f'"input_length" is {self.input_length}, but received '
                                 f"input has shape {input_shape}")
            if declared is None:
                lengths[i] = given
        return TensorShape((input_shape[0],) + tuple(lengths) + (self.output_dim,))

    def get_config(self):
        return {**super().get_config(),
                "input_dim": self.input_dim, "output_dim": self.output_dim,
                "embeddings_initializer": initializers.serialize(
                    self.embeddings_initializer),
                "embeddings_regularizer": regularizers.serialize(
                    self.embeddings_regularizer),
                "activity_regularizer": regularizers.serialize(self.activity_regularizer),
                "embeddings_constraint": constraints.serialize(self.embeddings_constraint),
                "mask_zero": self.mask_zero, "input_length": self.input_length}
