"""``KerasTensor``: the symbolic tensor ``Input`` returns, and the tensors a built
Sequential reports as its inputs and outputs. numbarnn runs layers on arrays, so these
only carry a shape, a dtype and the layer that makes them."""
from .tensor_shape import TensorShape

__all__ = ["KerasTensor", "is_keras_tensor"]


class KerasTensor:
    """A symbolic tensor: the batch shape (batch axis included, None where unknown),
    dtype and name of a tensor in a model, and the layer that makes it
    (``_keras_history[0]``, as in tf-keras). :func:`~numbarnn.Input` returns one for
    its :class:`~numbarnn.InputLayer`; a built Sequential's ``inputs`` / ``outputs``
    and a layer's ``input`` / ``output`` in it are others (their shapes only: numbarnn
    runs layers on arrays, not on these)."""

    def __init__(self, layer, shape=None, dtype=None):
        self._keras_history = (layer, 0, 0)
        self._shape = None if shape is None else TensorShape(shape)
        self._dtype = dtype

    @property
    def shape(self):
        if self._shape is not None:
            return self._shape
        return TensorShape(self._keras_history[0]._batch_input_shape or ())

    @property
    def dtype(self):
        return self._dtype or self._keras_history[0].dtype

    @property
    def name(self):
        return self._keras_history[0].name

    def __repr__(self):
        return (f"<KerasTensor: shape={tuple(self.shape)} dtype={self.dtype} (created by "
                f"layer '{self.name}')>")


def is_keras_tensor(x):
    """Whether ``x`` is a symbolic Keras tensor (a :class:`KerasTensor`)."""
    return isinstance(x, KerasTensor)
