"""Nested structures of states (tf.nest-like) and state-size helpers."""
import numpy as np

__all__ = ["TensorShape", "flatten", "pack_sequence_as", "is_nested", "state_shapes",
           "zero_state"]


class TensorShape(tuple):
    """A shape that counts as one state (``state_size=TensorShape([a, b])``), not a nest."""

    def __new__(cls, dims):
        return super().__new__(cls, tuple(dims))

    def as_list(self):
        return list(self)


def is_nested(x):
    return isinstance(x, (list, tuple)) and not isinstance(x, TensorShape)


def flatten(x):
    """Flatten nested lists/tuples (TensorShape counts as a leaf)."""
    if is_nested(x):
        out = []
        for item in x:
            out += flatten(item)
        return out
    return [x]


def pack_sequence_as(structure, flat):
    """Inverse of :func:`flatten`."""
    flat = list(flat)

    def build(node):
        if is_nested(node):
            items = [build(n) for n in node]
            if hasattr(node, "_fields"):  # namedtuple
                return type(node)(*items)
            return type(node)(items) if isinstance(node, tuple) else items
        return flat.pop(0)
    result = build(structure)
    return result


def state_shapes(state_size):
    """The per-state shapes (without batch) of a (nested) ``state_size``, flattened."""
    out = []
    for s in flatten(state_size):
        if s is None:
            out.append(())
        elif isinstance(s, TensorShape):
            out.append(tuple(s))
        else:
            out.append((int(s),))
    return out


def zero_state(state_size, batch_size, dtype):
    """Zeros shaped like ``state_size``, nested the same way."""
    if batch_size is None and dtype is None:
        raise ValueError("batch_size and dtype cannot be None while constructing initial "
                         f"state. Received: batch_size={batch_size}, dtype={dtype}")
    flat = [np.zeros((batch_size,) + shape, dtype=dtype)
            for shape in state_shapes(state_size)]
    if is_nested(state_size):
        return pack_sequence_as(state_size, flat)
    return flat[0]


def generate_zero_filled_state_for_cell(cell, inputs, batch_size, dtype):
    if inputs is not None:
        batch_size = np.shape(inputs)[0]
        dtype = np.asarray(inputs).dtype
    return zero_state(cell.state_size, batch_size, dtype)
