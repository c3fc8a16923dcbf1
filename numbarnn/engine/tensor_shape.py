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

    @property
    def rank(self):
        return len(self)

    ndims = rank

    def __repr__(self):
        return f"TensorShape({list(self)})"
