"""``pad_sequences``: a list of variable-length sequences as one padded batch
(tf-keras ``keras.utils.pad_sequences``), for a ``Masking`` layer or a mask."""
import numpy as np

__all__ = ["pad_sequences"]


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre",
                  truncating="pre", value=0.0):
    """Pad (or cut) each sequence to ``maxlen`` steps, as tf-keras does.

    Parameters
    ----------
    sequences : list of sequences
        Each a list or array of steps; a step may be a number or an array (every
        sequence's steps of the shape of the first non-empty one's).
    maxlen : int, optional
        Default: the longest sequence's length.
    dtype : str or numpy.dtype, default "int32"
        As in tf-keras, the default is an integer type: pass ``"float32"`` for
        float features.
    padding, truncating : {"pre", "post"}
        Where padding goes, and which end of a longer sequence is cut.
    value : float, default 0.0
        The padding value (``Masking(mask_value=value)`` then masks those steps).

    Returns
    -------
    numpy.ndarray
        ``(len(sequences), maxlen, *step_shape)``.

    Raises
    ------
    ValueError
        For a ``sequences`` that is not a list of sequences, a ``padding`` or
        ``truncating`` other than "pre" / "post", a step of another shape, or a
        string ``value`` with a non-string ``dtype``.

    Examples
    --------
    >>> import numbarnn as nr
    >>> nr.utils.pad_sequences([[1], [2, 3], [4, 5, 6]], padding="post")
    array([[1, 0, 0],
           [2, 3, 0],
           [4, 5, 6]], dtype=int32)
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError("`sequences` must be iterable.")
    for name, where in (("Padding", padding), ("Truncating", truncating)):
        if where not in ("pre", "post"):
            raise ValueError(f'{name} type "{where}" not understood')
    lengths, step_shape = [], None
    for s in sequences:
        try:
            lengths.append(len(s))
        except TypeError:
            raise ValueError("`sequences` must be a list of iterables. Found "
                             f"non-iterable: {s}") from None
        if step_shape is None and len(s):
            step_shape = np.asarray(s).shape[1:]
    step_shape = step_shape or ()
    if maxlen is None:
        if not lengths:
            raise ValueError("`sequences` is empty and no `maxlen` was given: the padded "
                             "length is unknown.")
        maxlen = max(lengths)
    # tf-keras's `dtype != object`: `object` and np.dtype("O") hold strings (the
    # string "object" and np.object_ do not pass there either)
    holds_objects = dtype is object or (isinstance(dtype, np.dtype) and dtype.kind == "O")
    if isinstance(value, str) and not holds_objects and not np.issubdtype(dtype, np.str_):
        raise ValueError(f"`dtype` {dtype} is not compatible with `value`'s type: "
                         f"{type(value)}\nYou should set `dtype=object` for variable "
                         "length strings.")
    out = np.full((len(sequences), maxlen) + step_shape, value, dtype=dtype)
    for i, s in enumerate(sequences):
        if not len(s) or not maxlen:
            continue
        kept = np.asarray(s[-maxlen:] if truncating == "pre" else s[:maxlen], dtype=dtype)
        if kept.shape[1:] != step_shape:
            raise ValueError(f"Shape of sample {kept.shape[1:]} of sequence at position "
                             f"{i} is different from expected shape {step_shape}")
        if padding == "post":
            out[i, :len(kept)] = kept
        else:
            out[i, maxlen - len(kept):] = kept
    return out
