"""``clone_model``: a new model of the same layers, with weights of its own."""
from .engine.keras_tensor import is_keras_tensor
from .layers.input_layer import InputLayer
from .layers.sequential import Sequential

__all__ = ["clone_model"]


def _clone_layer(layer):
    return layer.__class__.from_config(layer.get_config())


def clone_model(model, input_tensors=None, clone_function=None):
    """A new Sequential model of the same layers (tf-keras
    ``keras.models.clone_model``).

    Each layer is rebuilt from its config, so the clone has the same names and
    configuration but weights of its own, freshly initialised (copy them with
    ``clone.set_weights(model.get_weights())``).

    Parameters
    ----------
    model : Sequential
    input_tensors : KerasTensor, optional
        An :func:`~numbarnn.Input` (or a one-item list of one) to start the clone
        with, instead of the model's own input.
    clone_function : callable, optional
        ``layer -> new layer``, called for every layer of ``model.layers`` (default:
        ``layer.__class__.from_config(layer.get_config())``); it may return the layer
        itself to share it.

    Returns
    -------
    Sequential

    Raises
    ------
    ValueError
        If ``model`` is not a Sequential model (numbarnn has no functional or
        subclassed models), or ``input_tensors`` is not one Input.
    """
    if not isinstance(model, Sequential):
        raise ValueError("Expected `model` argument to be a `Model` instance (numbarnn "
                         f"clones Sequential models). Received: model={model!r}")
    if isinstance(input_tensors, (list, tuple)):
        if len(input_tensors) != 1:
            raise ValueError("To clone a `Sequential` model, we expect at most one tensor "
                             f"as part of `input_tensors`. Received: "
                             f"input_tensors={input_tensors}")
        input_tensors = input_tensors[0]
    if input_tensors is not None and not (is_keras_tensor(input_tensors) and isinstance(
            input_tensors._keras_history[0], InputLayer)):
        raise ValueError("Argument `input_tensors` of clone_model must be an `Input` "
                         f"(numbarnn has no functional API). Received: {input_tensors!r}")
    clone = clone_function or _clone_layer
    head = []
    if input_tensors is not None:
        head = [input_tensors]
    elif model._input_layer is not None:
        head = [_clone_layer(model._input_layer)]
    return Sequential(head + [clone(layer) for layer in model.layers], name=model.name)
