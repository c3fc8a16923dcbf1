"""``TensorShape``: a shape tuple with tf.TensorShape's common methods; and the
dimension rules tf.TensorShape applies to what it is given."""
import operator

import numpy as np

__all__ = ["TensorShape", "as_dimension", "shape_tuple", "is_shape"]


def shape_tuple(shape):
    """``shape`` as a tuple; a bare length (an int or numpy integer, not a bool) is a
    1-D shape, as ``tf.TensorShape(3)`` reads it."""
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, (bool, np.bool_)):
        return (int(shape),)
    return tuple(shape)


def as_dimension(value, context):
    """``value`` as a dimension, as tf.TensorShape takes one: an int, a numpy integer,
    anything with ``__index__`` (not a bool), non-negative.

    Raises
    ------
    TypeError
        For anything else (a float, a string, None), with tf's message; ``context``
        ends it (e.g. "in shape=(2.5,) of weight 'w'").
    ValueError
        For a negative value.
    """
    if isinstance(value, (bool, np.bool_)) or not hasattr(value, "__index__"):
        raise TypeError(f"Dimension value must be integer or None or have an __index__ "
                        f"method, got value {value!r} with type {type(value)} {context}.")
    value = operator.index(value)
    if value < 0:
        raise ValueError(f"Dimension {value} must be >= 0 {context}.")
    return value


def is_shape(x):
    """True for one shape: a :class:`TensorShape`, or a list/tuple of ints and ``None``
    (not a nest of shapes)."""
    if isinstance(x, TensorShape):
        return True
    return isinstance(x, (list, tuple)) and all(
        d is None or isinstance(d, (int, np.integer)) for d in x)


class TensorShape(tuple):
    """A shape: a tuple of ints (None for unknown) with ``as_list()``, ``rank`` and
    ``ndims``, as ``tf.TensorShape``. ``build`` receives the input shape as one (so a
    custom layer's ``input_shape.as_list()`` works), and as a ``state_size`` it counts
    as one state, not a nest of sizes."""

    def __new__(cls, dims):
        return super().__new__(cls, tuple(dims))

    def as_list(self):
        return list(self)

    # tf.TensorShape equals a list or tuple of the same dimensions
    def __eq__(self, other):
        if isinstance(other, (list, tuple)):
            return tuple(self) == tuple(other)
        return NotImplemented

    def __ne__(self, other):
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = tuple.__hash__

    def __add__(self, other):
        return TensorShape(tuple(self) + tuple(other))

    def __radd__(self, other):
        return TensorShape(tuple(other) + tuple(self))

    @property
    def dims(self):
        """The dimensions, a list (ints and None)."""
        return list(self)

    def with_rank(self, rank):
        """This shape, checked to have ``rank`` dimensions (ValueError otherwise)."""
        if len(self) != rank:
            raise ValueError(f"Shape {self} must have rank {rank}")
        return self

    def with_rank_at_least(self, rank):
        if len(self) < rank:
            raise ValueError(f"Shape {self} must have rank at least {rank}")
        return self

    def with_rank_at_most(self, rank):
        if len(self) > rank:
            raise ValueError(f"Shape {self} must have rank at most {rank}")
        return self

    def is_compatible_with(self, other):
        """Whether ``other`` has this rank and each known dimension agrees."""
        other = tuple(other)
        return len(other) == len(self) and all(
            a is None or b is None or a == b for a, b in zip(self, other))

    def merge_with(self, other):
        """The shape both describe: each unknown dimension taken from the other.

        Raises
        ------
        ValueError
            If the shapes are not compatible (tf.TensorShape's message).
        """
        if not self.is_compatible_with(other):
            raise ValueError(f"Shapes {self} and {TensorShape(other)} are not compatible")
        return TensorShape(a if a is not None else b for a, b in zip(self, tuple(other)))

    def __getitem__(self, item):
        value = super().__getitem__(item)
        return TensorShape(value) if isinstance(item, slice) else value

    def is_fully_defined(self):
        return all(d is not None for d in self)

    def num_elements(self):
        """The product of the dimensions, or None if one is unknown."""
        if not self.is_fully_defined():
            return None
        total = 1
        for d in self:
            total *= d
        return total

    def concatenate(self, other):
        return TensorShape(tuple(self) + tuple(other))

    def __str__(self):
        return str(tuple(self)) if len(self) != 1 else f"({self[0]},)"

    @property
    def rank(self):
        return len(self)

    ndims = rank

    def __repr__(self):
        return f"TensorShape({list(self)})"
