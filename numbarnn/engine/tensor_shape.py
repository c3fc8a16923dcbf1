"""``TensorShape``: a shape tuple with tf.TensorShape's common methods."""

__all__ = ["TensorShape"]


class TensorShape(tuple):
    """A shape: a tuple of ints (None for unknown) with ``as_list()``, ``rank`` and
    ``ndims``, as ``tf.TensorShape``. ``build`` receives the input shape as one (so a
    custom layer's ``input_shape.as_list()`` works), and as a ``state_size`` it counts
    as one state, not a nest of sizes."""

    def __new__(cls, dims):
        return super().__new__(cls, tuple(dims))

    def as_list(self):
        return list(self)

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
