"""Weight variables: numpy arrays with a name, a trainable flag and a constraint.

A :class:`Variable` behaves like the array it holds wherever numpy is involved
(``np.asarray(v)``, ``x @ v``, ``v + 1``, ufuncs), so custom cells written against
tf.keras (``backend.dot(x, self.kernel) + self.bias``) run unchanged.

As with a ``tf.Variable``, the value changes only through :meth:`Variable.assign` (or a
ufunc's ``out=``): ``np.asarray(v)`` and ``v.numpy()`` are copies, and ``v.value()``,
``v[i]``, ``v.T`` and what numpy functions give back are read-only views. The engines
cache packed copies of the weights keyed on :attr:`Variable.version`, so a write they
could not see would leave them computing with stale weights.
"""
import numpy as np

__all__ = ["Variable"]


def _read_only(array):
    view = array.view()
    view.flags.writeable = False
    return view


def _unwrap(value):
    return value._read_only_view() if isinstance(value, Variable) else value


class Variable:
    """A named, mutable weight array.

    Parameters
    ----------
    initial_value : array_like
        Initial value; copied. (``value=`` is accepted too.)
    name : str
        Full name, e.g. ``"simple_rnn/simple_rnn_cell/kernel:0"``.
    dtype : str or numpy.dtype, optional
        Storage dtype; defaults to the value's dtype.
    trainable : bool
        Whether optimisers would update it.
    constraint : callable, optional
        Projection applied by an optimiser after an update (stored, not applied here).
    """

    __array_priority__ = 100

    def __init__(self, initial_value=None, name="Variable:0", dtype=None, trainable=True,
                 constraint=None, *, value=None):
        if initial_value is None:
            initial_value = value
        if initial_value is None:
            raise ValueError("Argument `initial_value` of Variable must be given.")
        self._value = np.array(initial_value, dtype=dtype, copy=True)
        self.name = name if name is not None else "Variable:0"
        self.trainable = bool(trainable)
        self.constraint = constraint
        self._version = 0

    # -- array protocol -------------------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        """A copy (as ``tf.Variable``), or a read-only view where ``copy=False``."""
        if dtype is not None and np.dtype(dtype) != self._value.dtype:
            return self._value.astype(dtype)
        return self._read_only_view() if copy is False else self._value.copy()

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        inputs = tuple(_unwrap(x) for x in inputs)
        written = []
        if "out" in kwargs:  # np.add(v, 1, out=v) writes the variable: a new version
            written = [x for x in kwargs["out"] if isinstance(x, Variable)]
            kwargs["out"] = tuple(x._value if isinstance(x, Variable) else x
                                  for x in kwargs["out"])
        result = getattr(ufunc, method)(*inputs, **kwargs)
        for variable in written:
            variable._version += 1
        return result

    def __array_function__(self, func, types, args, kwargs):
        args = tuple(_unwrap(a) for a in args)
        kwargs = {k: _unwrap(v) for k, v in kwargs.items()}
        return func(*args, **kwargs)

    # -- the tf.Variable surface ----------------------------------------------------
    @property
    def shape(self):
        return self._value.shape

    @property
    def dtype(self):
        return self._value.dtype

    @property
    def ndim(self):
        return self._value.ndim

    @property
    def size(self):
        return self._value.size

    @property
    def T(self):
        return self._read_only_view().T

    @property
    def version(self):
        """Counter bumped by every assignment (used to refresh device mirrors)."""
        return self._version

    def numpy(self):
        """Return a copy of the value as a numpy array."""
        return self._value.copy()

    def value(self):
        """The value as a read-only view (write with :meth:`assign`)."""
        return self._read_only_view()

    def _read_only_view(self):
        # Made once: the value array is written in place, never replaced.
        view = self.__dict__.get("_view")
        if view is None:
            view = self._view = _read_only(self._value)
        return view

    def __getstate__(self):  # a copy makes its own view of its own value
        state = dict(self.__dict__)
        state.pop("_view", None)
        return state

    def read_value(self):
        """A copy of the value (as :meth:`numpy`)."""
        return self._value.copy()

    def assign(self, value):
        """Set the value in place; the shape must match.

        Raises
        ------
        ValueError
            If ``value`` has another shape.
        """
        value = np.asarray(_unwrap(value))
        if value.shape != self._value.shape:
            raise ValueError(
                f"Cannot assign value of shape {value.shape} to variable "
                f"{self.name!r} of shape {self._value.shape}.")
        self._value[...] = value
        self._version += 1
        return self

    def assign_add(self, delta):
        return self.assign(self._value + np.asarray(_unwrap(delta)))

    def assign_sub(self, delta):
        return self.assign(self._value - np.asarray(_unwrap(delta)))

    def __len__(self):
        return len(self._value)

    def __getitem__(self, item):
        return self._read_only_view()[item]

    def __repr__(self):
        return (f"<numbarnn.Variable '{self.name}' shape={self.shape} "
                f"dtype={self.dtype.name}, numpy=\n{self._value!r}>")

    def __float__(self):
        return float(self._value)

    def __bool__(self):
        return bool(self._value)


def _binary(op):
    def forward(self, other):
        return op(self._value, _unwrap(other))

    def reverse(self, other):
        return op(_unwrap(other), self._value)
    return forward, reverse


for _name, _op in [("add", np.add), ("sub", np.subtract), ("mul", np.multiply),
                   ("truediv", np.true_divide), ("floordiv", np.floor_divide),
                   ("pow", np.power), ("matmul", np.matmul), ("mod", np.mod)]:
    _fwd, _rev = _binary(_op)
    setattr(Variable, f"__{_name}__", _fwd)
    setattr(Variable, f"__r{_name}__", _rev)

# Comparisons are elementwise, as tf.Variable's in TF2 (``v == 0`` is an array); the
# hash stays the object's, so variables still work as dict keys.
for _name, _op in [("lt", np.less), ("le", np.less_equal), ("gt", np.greater),
                   ("ge", np.greater_equal), ("eq", np.equal), ("ne", np.not_equal)]:
    setattr(Variable, f"__{_name}__", _binary(_op)[0])
Variable.__hash__ = object.__hash__

Variable.__neg__ = lambda self: -self._value
Variable.__abs__ = lambda self: np.abs(self._value)
Variable.__pos__ = lambda self: +self._value
