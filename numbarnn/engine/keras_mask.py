"""Masks that travel with layer outputs between eager calls (tf-keras's ``_keras_mask``).

In tf-keras, ``SimpleRNN(4)(Masking()(x))`` skips the padded steps: the Masking layer's
output tensor carries its mask in ``_keras_mask``, and the next layer reads it when no
``mask=`` is given. A numpy array cannot take an attribute, so an output with a mask is
returned as an :class:`ArrayWithMask` view of it instead.
"""
import numpy as np

from ..kernels.cuda_support import is_device_array

__all__ = ["ArrayWithMask", "with_mask", "mask_of"]


def _plain(value):
    if isinstance(value, ArrayWithMask):
        return value.view(np.ndarray)
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    return value


class ArrayWithMask(np.ndarray):
    """A numpy array with the ``_keras_mask`` of the layer output it is.

    It is an ``np.ndarray`` in every other respect. As with tf tensors, what is computed
    from it (arithmetic, numpy functions, indexing) is a plain array without the mask:
    only layer calls pass masks on.
    """

    _keras_mask = None

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if "out" in kwargs:
            kwargs["out"] = _plain(kwargs["out"])
        return getattr(ufunc, method)(*_plain(inputs), **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return func(*_plain(args), **{k: _plain(v) for k, v in kwargs.items()})

    def __getitem__(self, item):
        return self.view(np.ndarray)[item]

    def __repr__(self):
        return repr(self.view(np.ndarray))

    def __reduce__(self):  # pickles as the plain array (tf tensors do not keep it)
        return self.view(np.ndarray).__reduce__()


def with_mask(array, mask):
    """``array`` carrying ``mask``: a numpy array as an :class:`ArrayWithMask` view, a
    device array (the layers hand back numba ones) in its ``_keras_mask`` attribute, as
    a tf tensor carries it. Anything else, or a None mask, comes back as it is."""
    if mask is None:
        return array
    if isinstance(array, np.ndarray):
        out = array.view(ArrayWithMask)
        out._keras_mask = mask
        return out
    if is_device_array(array):
        try:
            array._keras_mask = mask
        except AttributeError:  # an array object that takes no attributes
            pass
    return array


def mask_of(value):
    """The mask ``value`` carries, or None."""
    return getattr(value, "_keras_mask", None)
