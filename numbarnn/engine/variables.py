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
import itertools
import re
import threading

import numpy as np

from .call_context import current_scope
from .dtype_policy import as_dtype
from .tensor_shape import TensorShape

__all__ = ["Variable", "VersionCache", "swap_autocast_dtype"]

_AUTOCAST = threading.local()
# Versions come from one process-wide count, so that no two values of any two variables
# share one: a cache keyed on (id(variable), version) cannot mistake a new variable
# that reuses a freed one's id for it.
_VERSIONS = itertools.count(1)


def swap_autocast_dtype(dtype):
    """Make arithmetic on an autocast Variable (one a mixed-precision layer created, see
    ``Layer.add_weight``) read it as ``dtype`` (None: as it is) in this thread, as
    tf-keras's ``enable_auto_cast_variables`` around a layer's ``call``; returns the
    dtype before, to restore."""
    previous = getattr(_AUTOCAST, "dtype", None)
    _AUTOCAST.dtype = dtype
    return previous

_FULL_NAME = re.compile(r".*:\d+$")  # already "scope/name:0"


def read_only_view(array):
    """A view of ``array`` that cannot be written through."""
    view = array.view()
    view.flags.writeable = False
    return view


def _unwrap(value):
    """``value`` with every Variable in it (itself, or inside lists and tuples, as
    ``np.concatenate([v, x])`` gets them) a read-only view of its array."""
    if isinstance(value, Variable):
        return value._operand()
    if (type(value) in (list, tuple)
            and any(isinstance(v, (Variable, list, tuple)) for v in value)):
        return type(value)(_unwrap(v) for v in value)
    return value


def _tf_dtype(value):
    """The dtype TensorFlow gives a Python value (numpy values keep theirs)."""
    if isinstance(value, (np.ndarray, np.generic, Variable)) or hasattr(value, "dtype"):
        return None
    kind = np.asarray(value).dtype
    if kind == np.float64:
        return np.float32
    if kind == np.int64 and np.all(np.abs(np.asarray(value)) < 2 ** 31):
        return np.int32
    return None


def _check_no_truncation(value, dtype):
    """A float into an integer (or bool) variable, or a complex value into a real one:
    TensorFlow refuses them rather than truncate 1.7 to 1 or drop an imaginary part."""
    kind = np.asarray(_unwrap(value)).dtype.kind
    if (dtype.kind in "biu" and kind in "fc") or (dtype.kind == "f" and kind == "c"):
        raise TypeError(f"Cannot convert {value!r} to EagerTensor of dtype {dtype.name}")


def _full_name(name):
    if name is not None and _FULL_NAME.match(name):
        return name
    scope = current_scope()  # of the layer being built
    name = "Variable" if name is None else name
    return f"{scope}/{name}:0" if scope else f"{name}:0"


class Variable:
    """A named, mutable weight array.

    Parameters
    ----------
    initial_value : array_like
        Initial value; copied. (``value=`` is accepted too.)
    name : str, optional
        As for ``tf.Variable``: ``"scale"`` becomes ``"scale:0"`` under the current
        name scope (``"my_layer/scale:0"`` inside a layer's ``build``); default
        ``"Variable"``. A name that already ends in ``:0`` is kept as is.
    dtype : str or numpy.dtype, optional
        Storage dtype; defaults to the value's: numpy arrays and scalars keep theirs,
        Python floats are float32 and Python ints int32, as in TensorFlow.
    trainable : bool
        Whether optimisers would update it.
    constraint : callable, optional
        Projection applied by an optimiser after an update (stored, not applied here).
    """

    __array_priority__ = 100

    def __init__(self, initial_value=None, name=None, dtype=None, trainable=True,
                 constraint=None, *, value=None):
        if initial_value is None:
            initial_value = value
        if initial_value is None:
            raise ValueError("Argument `initial_value` of Variable must be given.")
        if constraint is not None and not callable(constraint):
            raise ValueError("Argument `constraint` must be None or a callable. Got a "
                             f"{type(constraint)}: {constraint}")
        if dtype is not None:
            dtype = as_dtype(dtype)  # float is float32, as in tf.Variable
            _check_no_truncation(initial_value, dtype)
        self._value = np.array(_unwrap(initial_value), dtype=dtype or _tf_dtype(
            initial_value), copy=True)
        self.name = _full_name(name)
        self.trainable = bool(trainable)
        self.constraint = constraint
        self._version = next(_VERSIONS)

    # -- array protocol -------------------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        """A copy (as ``tf.Variable``), or a read-only view where ``copy=False``; an
        autocast variable inside a mixed-precision layer's call reads as the compute
        dtype."""
        if dtype is None:
            cast = self._autocast_dtype()
            if cast is not None:
                return self._value.astype(cast)
        if dtype is not None and np.dtype(dtype) != self._value.dtype:
            return self._value.astype(dtype)
        return self._read_only_view() if copy is False else self._value.copy()

    _autocast = False  # set by Layer.add_weight under a mixed-precision policy

    def _autocast_dtype(self):
        """The dtype arithmetic reads this variable as, where that is another dtype."""
        if not self._autocast:
            return None
        dtype = getattr(_AUTOCAST, "dtype", None)
        return dtype if dtype is not None and dtype != self._value.dtype else None

    def _operand(self):
        """The value as numpy arithmetic gets it: a read-only view, or in an autocast
        scope a copy in the compute dtype."""
        cast = self._autocast_dtype()
        return self._read_only_view() if cast is None else self._value.astype(cast)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        inputs = tuple(_unwrap(x) for x in inputs)
        written = []
        if "out" in kwargs:  # np.add(v, 1, out=v) writes the variable: a new version
            written = [x for x in kwargs["out"] if isinstance(x, Variable)]
            kwargs["out"] = tuple(x._value if isinstance(x, Variable) else x
                                  for x in kwargs["out"])
        result = getattr(ufunc, method)(*inputs, **kwargs)
        for variable in written:
            variable._version = next(_VERSIONS)
        return result

    def __array_function__(self, func, types, args, kwargs):
        args = tuple(_unwrap(a) for a in args)
        kwargs = {k: _unwrap(v) for k, v in kwargs.items()}
        return func(*args, **kwargs)

    # -- the tf.Variable surface ----------------------------------------------------
    @property
    def shape(self):
        """The value's shape, a :class:`~numbarnn.layers.TensorShape` (a tuple with
        tf.TensorShape's ``as_list()`` and ``rank``); made once, as the value array is
        never replaced (a cell's step checks it at every timestep)."""
        shape = self.__dict__.get("_shape")
        if shape is None:
            shape = self._shape = TensorShape(self._value.shape)
        return shape

    @property
    def dtype(self):
        """The value's dtype; inside a mixed-precision layer's call, an autocast
        variable's compute dtype (float16), as tf-keras's ``AutoCastVariable``
        reports it (:attr:`true_dtype` is the stored one)."""
        if not self._autocast:  # (the common case, read on hot paths)
            return self._value.dtype
        cast = self._autocast_dtype()
        return self._value.dtype if cast is None else np.dtype(cast)

    @property
    def true_dtype(self):
        """The dtype of the stored value (float32 for a mixed-precision layer's)."""
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
        """Changes with every assignment (a number no other value of any variable had:
        the engines key their packed and device copies of weights on it)."""
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
            view = self._view = read_only_view(self._value)
        return view

    def __getstate__(self):  # a copy makes its own view of its own value
        state = dict(self.__dict__)
        state.pop("_view", None)
        return state

    def __setstate__(self, state):
        # a copy (deepcopy, pickle, another process) takes a version of its own
        self.__dict__.update(state)
        self._version = next(_VERSIONS)

    def read_value(self):
        """A copy of the value (as :meth:`numpy`); inside a mixed-precision layer's
        call, an autocast variable's in the compute dtype (tf-keras's
        ``AutoCastVariable.read_value``). :meth:`value` stays uncast: the built-in
        layers compute with the float32 weights."""
        cast = self._autocast_dtype()
        return self._value.copy() if cast is None else self._value.astype(cast)

    def get_shape(self):
        return self.shape

    def assign(self, value, use_locking=None, name=None, read_value=True):
        """Set the value in place; the shape must match. Returns the variable, or None
        with ``read_value=False`` (tf.Variable's signature; ``use_locking`` and
        ``name`` do nothing here).

        Raises
        ------
        ValueError
            If ``value`` has another shape.
        """
        _check_no_truncation(value, self._value.dtype)
        value = np.asarray(_unwrap(value))
        if value.shape != self._value.shape:
            raise ValueError(
                f"Cannot assign value of shape {value.shape} to variable "
                f"{self.name!r} of shape {self._value.shape}.")
        self._value[...] = value
        self._version = next(_VERSIONS)
        return self if read_value else None

    def assign_add(self, delta, use_locking=None, name=None, read_value=True):
        return self.assign(self._value + np.asarray(_unwrap(delta)), read_value=read_value)

    def assign_sub(self, delta, use_locking=None, name=None, read_value=True):
        return self.assign(self._value - np.asarray(_unwrap(delta)), read_value=read_value)

    def _in_place(self, *args):
        # Python would rebind the name to a new array and leave the variable as it
        # was (a silently lost update); tf.Variable refuses too.
        raise RuntimeError("`variable += value` with `Variable`s is not supported. Use "
                           "`variable.assign_add(value)` to modify the variable, or "
                           "`out = variable + value` if you need to get a new output "
                           "array.")

    __iadd__ = __isub__ = __imul__ = __itruediv__ = __ifloordiv__ = __ipow__ = _in_place
    __imatmul__ = __imod__ = _in_place

    def __len__(self):
        return len(self._value)

    def __getitem__(self, item):
        return self._operand()[item]

    def __repr__(self):
        # tf.Variable's: a scalar as a number, a line break only before a
        # multi-line array
        text = repr(self._value.item()) if self._value.ndim == 0 else repr(self._value)
        if "\n" in text:
            text = "\n" + text
        return (f"<numbarnn.Variable '{self.name}' shape={self.shape} "
                f"dtype={self._value.dtype.name}, numpy={text}>")

    def __float__(self):
        return float(self._value)

    def __int__(self):
        return int(self._value)

    def __bool__(self):
        return bool(self._value)


def _binary(op):
    def forward(self, other):
        return op(self._operand(), _unwrap(other))

    def reverse(self, other):
        return op(_unwrap(other), self._operand())
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

Variable.__neg__ = lambda self: -self._operand()
Variable.__abs__ = lambda self: np.abs(self._operand())
Variable.__pos__ = lambda self: +self._operand()


class VersionCache:
    """One value made from some variables (packed or device copies of weights), made
    again when one of them is assigned (a new :attr:`Variable.version`) or the rest of
    its key changes. The engines keep one per layer. A copied or pickled layer gets an
    empty one: what it holds (device memory, a lock) is not copied with it."""

    def __init__(self):
        self._held = (None, None)  # (key, value): one assignment, so that a call in
        # another thread never pairs a key with the value of another version

    @property
    def value(self):
        """The value last made (None before the first)."""
        return self._held[1]

    def get(self, variables, make, *key):
        """``make()``, made once per version of ``variables`` and value of ``key``."""
        full = (tuple((id(v), v.version) for v in variables), key)
        held_key, value = self._held
        if full != held_key:
            value = make()
            self._held = (full, value)
        return value

    def __reduce__(self):
        return (VersionCache, ())
