"""``to_categorical``: class indices as one-hot rows (tf-keras ``utils.to_categorical``)."""
import numpy as np

__all__ = ["to_categorical"]


def to_categorical(y, num_classes=None, dtype="float32"):
    """Class indices ``y`` as one-hot vectors, on a new last axis.

    Parameters
    ----------
    y : array_like of int
        Class indices in ``[0, num_classes)``; a trailing axis of size 1 is dropped
        (``(N, 1)`` gives ``(N, num_classes)``), as in tf-keras. A negative index
        counts from the end, as numpy (and tf-keras's numpy code) indexes.
    num_classes : int, optional
        ``max(y) + 1`` by default.
    dtype : str or dtype, default "float32"

    Returns
    -------
    numpy.ndarray
        Of shape ``y.shape + (num_classes,)`` (after the trailing-1 drop).

    Raises
    ------
    IndexError
        For an index of ``num_classes`` or more (tf-keras's numpy error).
    """
    y = np.array(y, dtype="int")
    shape = y.shape
    if shape and shape[-1] == 1 and len(shape) > 1:
        shape = tuple(shape[:-1])
    y = y.reshape(-1)
    if not num_classes:
        num_classes = int(np.max(y)) + 1
    categorical = np.zeros((y.shape[0], num_classes), dtype=dtype)
    categorical[np.arange(y.shape[0]), y] = 1
    return np.reshape(categorical, tuple(shape) + (num_classes,))
