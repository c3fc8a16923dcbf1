"""``KerasTensor``: the symbolic tensor ``Input`` returns. numbarnn runs layers on arrays,
so it only stands for a model's declared input (it starts a Sequential)."""
from .tensor_shape import TensorShape

__all__ = ["KerasTensor", "is_keras_tensor"]


class KerasTensor:
    """The symbolic tensor :func:`~numbarnn.Input` returns: the batch shape (batch axis
    included, None where unknown), dtype and name of a model's input, and the
    :class:`~numbarnn.InputLayer` that declares it (``_keras_history[0]``, as in
    tf-keras)."""

    def __init__(self, layer):
        self._keras_history = (layer, 0, 0)

    @property
    def shape(self):
        return TensorShape(self._keras_history[0]._batch_input_shape or ())

    @property
    def dtype(self):
        return self._keras_history[0].dtype

    @property
    def name(self):
        return self._keras_history[0].name

    def __repr__(self):
        return (f"<KerasTensor: shape={tuple(self.shape)} dtype={self.dtype} (created by "
                f"layer '{self.name}')>")


def is_keras_tensor(x):
    """Whether ``x`` is a symbolic Keras tensor (a :class:`KerasTensor`)."""
    return isinstance(x, KerasTensor)
