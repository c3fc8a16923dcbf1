"""``Input`` and ``InputLayer``: the declared input a Sequential model starts from
(tf-keras ``keras.Input`` / ``keras.layers.InputLayer``).

numbarnn runs layers on arrays, eagerly: it has no functional API, so the symbolic
tensor :func:`Input` returns is only for starting a :class:`~numbarnn.Sequential`
(``Sequential([Input(shape=(T, F)), SimpleRNN(8)])``), and calling a layer on it is an
error that says so.
"""
from ..backend.config import floatx
from ..engine.base_layer import Layer, get_uid
from ..engine.dtype_policy import as_dtype
from ..engine.keras_tensor import KerasTensor
from ..engine.tensor_shape import shape_tuple

__all__ = ["InputLayer", "Input"]


def _as_shape(shape):
    """A declared shape with a bare length read as 1-D, as tf.TensorShape reads it;
    anything else as given, for the base Layer's check of its shape arguments."""
    try:
        return shape_tuple(shape)
    except TypeError:
        return shape  # not a sequence: the check names it


class InputLayer(Layer):
    """The layer that declares a model's input: shape, batch size and dtype.

    In a :class:`~numbarnn.Sequential` it comes first and is not one of
    ``model.layers`` (as in tf-keras); the model is built from its shape as layers are
    added, and its config starts with this layer's entry.

    Parameters
    ----------
    input_shape : tuple of int or None, optional
        The shape of one sample (no batch axis).
    batch_size : int, optional
    dtype : str, optional
        The input's dtype (default ``backend.floatx()``): a Sequential it starts casts
        its data to it.
    name : str, optional
        Default ``input_1``, ``input_2``, ... as in tf-keras.
    batch_input_shape : tuple, optional
        The shape with its batch axis, instead of ``input_shape`` and ``batch_size``.
    sparse, ragged, input_tensor, type_spec, optional
        tf-keras's; only their "none" values are supported (no sparse, ragged or
        symbolic TensorFlow inputs here).

    Raises
    ------
    ValueError
        For both ``input_shape`` and ``batch_input_shape``, or a sparse, ragged or
        tensor input.
    """

    def __init__(self, input_shape=None, batch_size=None, dtype=None, input_tensor=None,
                 sparse=None, name=None, ragged=None, type_spec=None, optional=False,
                 batch_input_shape=None, **kwargs):
        if input_shape is not None and batch_input_shape is not None:
            raise ValueError("Only provide the input_shape OR batch_input_shape argument "
                             "to InputLayer, not both at the same time.")
        for argument, value in [("sparse", sparse), ("ragged", ragged),
                                ("input_tensor", input_tensor), ("type_spec", type_spec),
                                ("optional", optional)]:
            if value not in (None, False):
                raise ValueError(f"Argument `{argument}` of InputLayer is not supported "
                                 "(numbarnn has no sparse, ragged, optional or TensorFlow "
                                 f"tensor inputs). Received: {argument}={value!r}")
        if name is None:
            name = f"input_{get_uid('input')}"
        if batch_input_shape is not None:
            kwargs["batch_input_shape"] = _as_shape(batch_input_shape)
        elif input_shape is not None:
            kwargs.update(input_shape=_as_shape(input_shape), batch_size=batch_size)
        super().__init__(name=name, dtype=as_dtype(dtype or floatx()).name, **kwargs)
        self.built = True
        self._output = KerasTensor(self)

    @property
    def output(self):
        """The symbolic tensor that stands for this layer's input (:func:`Input`)."""
        return self._output

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {"batch_input_shape": self._batch_input_shape, "dtype": self.dtype,
                "sparse": False, "ragged": False, "name": self.name, "optional": False}


def Input(shape=None, batch_size=None, name=None, dtype=None, sparse=None, tensor=None,
          ragged=None, type_spec=None, **kwargs):
    """A model's declared input, to start a :class:`~numbarnn.Sequential` with
    (tf-keras ``keras.Input``).

    Parameters
    ----------
    shape : tuple of int or None
        The shape of one sample, without the batch axis (``(timesteps, features)``
        for a recurrent layer; None where unknown).
    batch_size : int, optional
        A fixed batch size (stateful layers need one).
    name, dtype
        As :class:`InputLayer`'s; a Sequential it starts casts its data to ``dtype``
        (as a tf-keras functional model conforms its inputs).
    **kwargs
        ``batch_shape`` (the shape with its batch axis, instead of ``shape``) or
        ``batch_input_shape``.

    Returns
    -------
    KerasTensor
        Its ``shape`` includes the batch axis.

    Raises
    ------
    ValueError
        Without a shape, or with both ``shape`` and ``batch_shape``.
    """
    batch_shape = kwargs.pop("batch_shape", kwargs.pop("batch_input_shape", None))
    if kwargs:
        raise ValueError(f"Unrecognized keyword arguments: {list(kwargs)}")
    if shape is not None and batch_shape is not None:
        raise ValueError("Only provide the `shape` OR `batch_input_shape` argument to "
                         "Input, not both at the same time.")
    if shape is None and batch_shape is None and tensor is None and type_spec is None:
        raise ValueError("Please provide to Input a `shape` or a `tensor` or a "
                         "`type_spec` argument. Note that `shape` does not include the "
                         "batch dimension.")
    layer = InputLayer(input_shape=shape, batch_size=batch_size, dtype=dtype,
                       input_tensor=tensor, sparse=sparse, name=name, ragged=ragged,
                       type_spec=type_spec, batch_input_shape=batch_shape)
    return layer.output
