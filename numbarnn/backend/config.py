"""The backend's configuration: the default float dtype, the fuzz factor, the image
data format and the learning phase."""
import numpy as np

_FLOATX = ["float32"]
_EPSILON = [1e-7]
_IMAGE_DATA_FORMAT = ["channels_last"]


def floatx():
    """The default float dtype name (``"float32"``)."""
    return _FLOATX[0]


def set_floatx(value):
    """Set the default float dtype: of the backend's functions, of the weights, and of
    the layers made while no global policy is set (:func:`numbarnn.set_global_policy`),
    as in tf-keras.

    Parameters
    ----------
    value : {"float16", "float32", "float64"}

    Raises
    ------
    ValueError
        For any other value ("bfloat16" too: numpy has no bfloat16).
    """
    accepted = {"float16", "float32", "float64"}
    if value not in accepted:
        raise ValueError(f"Unknown `floatx` value: {value}. Expected one of {accepted}")
    _FLOATX[0] = str(value)


def epsilon():
    """The fuzz factor used in numeric expressions (1e-7 unless :func:`set_epsilon`)."""
    return _EPSILON[0]


def set_epsilon(value):
    """Set the fuzz factor :func:`epsilon` returns.

    Parameters
    ----------
    value : float
        The new value.
    """
    _EPSILON[0] = value


def image_data_format():
    """The default image data format: ``"channels_last"`` unless
    :func:`set_image_data_format` set ``"channels_first"``."""
    return _IMAGE_DATA_FORMAT[0]


def set_image_data_format(data_format):
    """Set the default image data format (read by :func:`bias_add`).

    Parameters
    ----------
    data_format : {"channels_last", "channels_first"}

    Raises
    ------
    ValueError
        For any other value.
    """
    accepted = {"channels_last", "channels_first"}
    if data_format not in accepted:
        raise ValueError(f"Unknown `data_format`: {data_format}. "
                         f"Expected one of {accepted}")
    _IMAGE_DATA_FORMAT[0] = str(data_format)


def cast_to_floatx(x):
    """``x`` as an array of the default float dtype (:func:`floatx`)."""
    return np.asarray(x, dtype=floatx())


def clear_session():
    """Restart default layer naming (``dense``, ``dense_1``, ... from zero) and the
    sequences of the seeded random functions, as tf-keras's ``clear_session`` does
    (it clears TensorFlow's kernel cache); numbarnn holds no graph or session to
    free."""
    from ..engine.base_layer import reset_uids
    from .creation import reset_seed_sequences
    reset_uids()
    reset_seed_sequences()


def get_uid(prefix=""):
    """The next number for ``prefix``, from 1, restarted by :func:`clear_session`
    (tf-keras's; the default ``Input`` names ``input_1``, ``input_2``, ... use it)."""
    from ..engine.base_layer import get_uid as next_uid  # (the engine imports this module)
    return next_uid(prefix)


def learning_phase():
    """The global learning phase: 0 (test), as tf-keras's in eager mode.

    numbarnn has no graph-mode learning-phase placeholder and no ``set_learning_phase``
    (deprecated in tf-keras): the training mode of a layer call is its ``training``
    argument, which :func:`in_train_phase` reads first.
    """
    return 0
