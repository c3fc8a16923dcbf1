"""The Keras ``Layer`` contract: naming, weights, build-on-first-call, losses, config."""
import functools
import threading
import warnings

import numpy as np

from .. import constraints as constraints_mod
from .. import initializers as initializers_mod
from .. import regularizers as regularizers_mod
from ..backend.config import floatx
from .._registry import CustomObjectScope, to_snake_case
from ..kernels.cuda_support import is_device_array, require_cuda
from .call_args import (accepts, arg_position, init_parameters, input_masks,
                        parameters, plain_arguments, resolve_training)
from .call_context import current_scope, name_scope, scope_stack
from .call_context import state as _call
from .dtype_policy import MIXED, Policy, as_dtype, as_policy, numpy_compute_dtype
from .input_spec import InputSpec, assert_input_compatibility, flatten_leaves
from .keras_mask import mask_of, with_mask
from .keras_tensor import KerasTensor, is_keras_tensor
from .metrics import Mean
from .tensor_shape import TensorShape, as_dimension, is_shape, shape_tuple
from .variables import Variable, swap_autocast_dtype

__all__ = ["Layer", "name_scope", "reset_uids"]

_ALLOWED_LAYER_KWARGS = {"input_dim", "input_shape", "batch_input_shape", "batch_size",
                         "weights", "activity_regularizer", "autocast", "implementation"}
_ALLOWED_WEIGHT_KWARGS = {"autocast", "collections", "experimental_autocast",
                          "caching_device", "getter", "layout",
                          "experimental_enable_variable_lifting", "use_resource",
                          "synchronization", "aggregation", "partitioner"}

_uids = {}  # default layer names: dense, dense_1, ...
_backend_uids = {}  # backend.get_uid's counters (Input's input_1, input_2, ...)
_uid_lock = threading.Lock()
# Reentrant: building a layer may call (and build) its sublayers.
_build_lock = threading.RLock()
_metrics_lock = threading.Lock()


def _unique_name(base):
    with _uid_lock:
        n = _uids.get(base, 0)
        _uids[base] = n + 1
    return base if n == 0 else f"{base}_{n}"


def get_uid(prefix=""):
    """The next number for ``prefix``, from 1 (tf-keras's ``backend.get_uid``: the
    default ``Input`` names ``input_1``, ``input_2``, ...); counted apart from the
    default layer names, as there."""
    with _uid_lock:
        n = _backend_uids.get(prefix, 0) + 1
        _backend_uids[prefix] = n
    return n


def reset_uids():
    """Restart default layer naming (``simple_rnn``, ``simple_rnn_1``, ...) and
    :func:`get_uid`'s counters from zero."""
    with _uid_lock:
        _uids.clear()
        _backend_uids.clear()


def shape_from_json(shape):
    """A shape (a tuple), or a list of them, from the lists JSON gives back."""
    if isinstance(shape, (list, tuple)) and shape and isinstance(shape[0], (list, tuple)):
        return [shape_from_json(s) for s in shape]
    return tuple(shape)


def _weight_penalty(regularizer, variable):
    """The loss a weight regularizer adds: re-evaluated on the current weights."""
    return regularizer(variable.value())


def _is_array_like(x):
    return hasattr(x, "shape") and hasattr(x, "dtype")


def _check_trainable(value):
    # tf-keras: bool() would turn "no" into True
    if not isinstance(value, bool):
        raise TypeError("Expected `trainable` argument to be a boolean, but got: "
                        f"{value}")
    return value


def check_declared_shape(argument, shape):
    """A constructor's ``input_shape`` / ``batch_input_shape`` (or ``input_dim``,
    ``batch_size``, as a 1-tuple) must be non-negative integers or None: tf-keras fails
    later, in its Input layer, on a string or a float, and on a bare int with "'int'
    object is not iterable".

    Raises
    ------
    TypeError
        For a value that is not a list/tuple of integers and None.
    ValueError
        For a negative dimension.
    """
    single = argument in ("input_dim", "input_length", "batch_size")
    dims = shape if isinstance(shape, (list, tuple)) else None
    value = shape[0] if single and dims else shape
    expected = ("a non-negative integer or None" if single
                else "a tuple of non-negative integers or None")
    if dims is None or not all(d is None or (isinstance(d, (int, np.integer))
                                             and not isinstance(d, bool)) for d in dims):
        raise TypeError(f"Argument `{argument}` must be {expected}. "
                        f"Received: {argument}={value!r}")
    if any(d is not None and d < 0 for d in dims):
        raise ValueError(f"Argument `{argument}` must be {expected}. "
                         f"Received: {argument}={value!r}")


def _weight_shape(name, shape):
    """``shape`` of weight ``name`` as a tuple of ints (``None`` is a scalar, a bare
    integer a length, as tf.TensorShape reads them); a float, a string or an unknown
    (None) dimension is a TypeError, as in tf-keras, rather than being truncated."""
    if shape is None:
        return ()
    try:
        dims = shape_tuple(shape)
    except TypeError:
        raise TypeError(f"Argument `shape` of weight {name!r} must be a tuple of "
                        f"integers. Received: shape={shape!r}") from None
    return tuple(as_dimension(d, f"in shape={shape!r} of weight {name!r}") for d in dims)


class Layer:
    """Base class of every numbarnn layer (tf-keras ``Layer``).

    Parameters
    ----------
    trainable : bool
        Whether the layer's weights are trainable; propagates to sublayers.
    name : str, optional
        Unique default derived from the class name (``simple_rnn_cell``, ``simple_rnn_cell_1``).
    dtype : str or Policy, optional
        Dtype policy; ``None`` uses the global policy (float32).
    dynamic : bool
        Accepted for compatibility; numbarnn always runs eagerly.
    **kwargs
        ``input_shape``, ``batch_input_shape``, ``batch_size``, ``input_dim``, ``weights``,
        ``activity_regularizer``, ``autocast``, ``implementation`` (ignored). Anything else
        raises ``TypeError``.
    """

    # Weights built inside the layer are named under its name ("simple_rnn/..."); a
    # model (Sequential) does not add its own, as in tf-keras.
    _scopes_weight_names = True
    # A layer whose call attaches its output mask itself (tf-keras's flag).
    _compute_output_and_mask_jointly = False
    # Only recurrent layers (and models holding one) keep state between calls.
    stateful = False

    def __new__(cls, *args, **kwargs):
        # tf-keras >= 2.13: the constructor arguments, when all are plain values
        # (str, int, float, bool, None, nested in lists, tuples and dicts), are the
        # config of a subclass that does not write its own get_config.
        instance = super().__new__(cls)
        object.__setattr__(instance, "_auto_config", plain_arguments(cls, args, kwargs))
        return instance

    def __init__(self, trainable=True, name=None, dtype=None, dynamic=False, **kwargs):
        for kw in kwargs:
            if kw not in _ALLOWED_LAYER_KWARGS:
                raise TypeError("Keyword argument not understood:", kw)
        # Attribute tracking (see __setattr__): attribute name -> tracked value, and
        # the tracked objects in first-assignment order with their reference counts.
        object.__setattr__(self, "_nr_tracked", {})
        object.__setattr__(self, "_nr_tracked_order", [])
        self._trainable_weights = []
        self._non_trainable_weights = []
        self._callable_losses = []
        self._eager_losses = []
        self._trainable = _check_trainable(trainable)
        self.built = False
        if not isinstance(dynamic, bool):
            raise TypeError("Expected `dynamic` argument to be a boolean, but got: "
                            f"{dynamic}")
        self.dynamic = dynamic
        # tf-keras: a layer that defines its own compute_mask supports masking
        self.supports_masking = type(self).compute_mask is not Layer.compute_mask
        self.input_spec = None
        self._dtype_policy = as_policy(dtype)
        self._autocast = kwargs.get("autocast", True)
        # tf-keras keeps an empty name (only None gets a unique default)
        self._name = (name if name is not None
                      else _unique_name(to_snake_case(type(self).__name__)))
        if not isinstance(self._name, str):
            raise TypeError(f"Expected `name` argument to be a string, but got: {name}")
        self._initial_weights = kwargs.get("weights")
        self.activity_regularizer = regularizers_mod.get(kwargs.get("activity_regularizer"))
        batch_input_shape = kwargs.get("batch_input_shape")
        if batch_input_shape is not None:
            check_declared_shape("batch_input_shape", batch_input_shape)
        elif "input_shape" in kwargs or "input_dim" in kwargs:
            # input_shape wins over input_dim, even when empty: () declares a batch of
            # scalars (tf-keras's (None,)), None is refused
            name = "input_shape" if "input_shape" in kwargs else "input_dim"
            input_shape = (kwargs["input_shape"] if name == "input_shape"
                           else (kwargs["input_dim"],))
            check_declared_shape(name, input_shape)
            check_declared_shape("batch_size", (kwargs.get("batch_size"),))
            batch_input_shape = (kwargs.get("batch_size"),) + tuple(input_shape)
        self._batch_input_shape = (tuple(batch_input_shape)
                                   if batch_input_shape is not None else None)
        self._build_input_shape = None

    @property
    def input_spec(self):
        """``InputSpec`` (or a list of them, or None) every call's inputs must meet."""
        return self._input_spec

    @input_spec.setter
    def input_spec(self, value):
        for spec in flatten_leaves(value):
            if spec is not None and not isinstance(spec, InputSpec):
                raise TypeError("Layer input_spec must be an instance of InputSpec. Got: "
                                f"{spec}")
        object.__setattr__(self, "_input_spec", value)

    # -- attribute tracking ----------------------------------------------------------
    def __setattr__(self, name, value):
        """Track sublayers and Variables set as attributes, as tf-keras does.

        A Layer, or a list, tuple or dict holding layers or Variables (at any depth,
        also when filled after the assignment; a dict's values in key order), is
        tracked in the order it was first set; a Variable set here (alone or in such
        a container) is one of this layer's own weights, and one found later in a
        tracked container is appended to them. An object keeps its place while any
        attribute holds it (re-assigning the same value moves nothing); once none
        does, it is untracked, and a Variable leaves the weights. Private names are
        tracked too. Class attributes (properties) are not, nor the framework's own
        bookkeeping attributes, unless a layer is set in one.
        """
        tracked = self.__dict__.get("_nr_tracked")
        if tracked is None or hasattr(type(self), name):
            object.__setattr__(self, name, value)
            return
        reserved = name in _BOOKKEEPING_NAMES
        track = isinstance(value, (Layer, Variable, list, tuple, dict)) and not (
            reserved and not any(True for _ in _found_in(value, Layer)))
        if track:
            self._add_reference(value)  # first: the same value keeps its place
        # tf-keras: a trainable Variable replaced by a Variable gives it its place
        old = tracked.get(name)
        position = None
        if isinstance(value, Variable) and isinstance(old, Variable) and old.trainable:
            position = next((i for i, w in enumerate(self._trainable_weights)
                             if w is old), None)
        if name in tracked:
            self._drop_reference(tracked.pop(name))
        if track:
            tracked[name] = value
            if not reserved:
                own = self._trainable_weights + self._non_trainable_weights
                for v in _found_in(value, Variable):
                    if not any(v is w for w in own):
                        if v.trainable and position is not None:
                            self._trainable_weights.insert(position, v)
                        else:
                            (self._trainable_weights if v.trainable
                             else self._non_trainable_weights).append(v)
                        own.append(v)
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        tracked = self.__dict__.get("_nr_tracked")
        if tracked is not None and name in tracked:
            self._drop_reference(tracked.pop(name))
        object.__delattr__(self, name)

    def _add_reference(self, value):
        for entry in self._nr_tracked_order:
            if entry[0] is value:
                entry[1] += 1
                return
        self._nr_tracked_order.append([value, 1])

    def _drop_reference(self, value):
        """One attribute less holds ``value``: untracked when none does, and then a
        Variable leaves the weights (tf-keras's reference counting)."""
        for i, entry in enumerate(self._nr_tracked_order):
            if entry[0] is value:
                entry[1] -= 1
                if entry[1] == 0:
                    del self._nr_tracked_order[i]
                    if isinstance(value, Variable):
                        self._trainable_weights = [
                            w for w in self._trainable_weights if w is not value]
                        self._non_trainable_weights = [
                            w for w in self._non_trainable_weights if w is not value]
                return

    def _children(self):
        """The tracked sublayers and container Variables, in tracking order (a snapshot:
        other threads may set attributes meanwhile)."""
        out = []
        for value, _ in list(self._nr_tracked_order):
            if isinstance(value, Layer):
                if value is not self:
                    out.append(value)
            elif isinstance(value, (list, tuple, dict)):
                out += [item for item in _found_in(value, (Layer, Variable))
                        if item is not self]
        return out

    def _sublayers(self):
        """The direct sublayers, in tracking order (repeats possible)."""
        return [child for child in self._children() if isinstance(child, Layer)]

    def _saved_children(self):
        """``(attribute name, layer or container of layers)`` pairs by which tf-keras's
        file format reaches this layer's sublayers (its saving_lib walks ``dir()``; see
        numbarnn.tf_keras_files): the attributes set, and the properties of user
        classes (``@property encoder`` returning ``self._enc``). A built-in class whose
        attribute differs from tf-keras's adds tf-keras's name."""
        children = dict(self._nr_tracked)
        for klass in type(self).__mro__:
            if klass.__module__.split(".")[0] == "numbarnn" or klass is object:
                continue
            for name, member in vars(klass).items():
                if isinstance(member, property) and name not in children:
                    try:
                        children[name] = getattr(self, name)
                    except Exception:  # noqa: BLE001 - tf-keras skips those too
                        continue
        return [(name, value) for name, value in children.items()
                if isinstance(value, (Layer, list, tuple, dict))
                and any(True for _ in _found_in(value, Layer))]

    def _own_weights(self):
        """``(trainable, non_trainable)``: the layer's own Variables, then those found
        in its tracked containers since (tf-keras appends them to its own)."""
        trainable = list(self._trainable_weights)
        frozen = list(self._non_trainable_weights)
        known = trainable + frozen
        for child in self._children():
            if isinstance(child, Variable) and not any(child is w for w in known):
                (trainable if child.trainable else frozen).append(child)
                known.append(child)
        return trainable, frozen

    def _flatten_layers(self, include_self=True):
        """Yield this layer and every nested sublayer once, depth first."""
        seen = set()
        stack = [self]
        while stack:
            layer = stack.pop(0)
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            if layer is not self or include_self:
                yield layer
            stack[0:0] = layer._sublayers()

    # -- naming and dtypes -----------------------------------------------------------
    @property
    def name(self):
        return self._name

    @property
    def dtype_policy(self):
        return self._dtype_policy

    @property
    def dtype(self):
        """The variable dtype (as in tf-keras)."""
        return self._dtype_policy.variable_dtype

    @property
    def compute_dtype(self):
        return self._dtype_policy.compute_dtype

    @property
    def variable_dtype(self):
        return self._dtype_policy.variable_dtype

    # -- trainability and weights ------------------------------------------------------
    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        _check_trainable(value)
        for layer in self._flatten_layers():
            layer._trainable = value

    def add_weight(self, name=None, shape=None, dtype=None, initializer=None,
                   regularizer=None, trainable=None, constraint=None, **kwargs):
        """Create a weight variable and track it (tf-keras ``Layer.add_weight``).

        Returns
        -------
        Variable
        """
        for kw in kwargs:
            if kw not in _ALLOWED_WEIGHT_KWARGS:
                raise TypeError("Unknown keyword argument:", kw)
        # a bare length reaches the initializer as given: tf-keras's zeros / ones /
        # constant take it, the others refuse it (TypeError here)
        given, shape = shape, _weight_shape(name, shape)
        init_shape = given if isinstance(given, (int, np.integer)) else shape
        dtype = as_dtype(dtype or self.variable_dtype or floatx())
        if self._dtype_policy.variable_dtype is None:
            # An "_infer" policy is fixed by the first weight, as in tf-keras.
            self._dtype_policy = Policy(dtype.name)
        if initializer is None:
            if dtype.kind == "f":
                initializer = "glorot_uniform"
            elif dtype.kind in "iub":
                initializer = "zeros"
            else:
                raise ValueError(f"An initializer for variable {name} of type {dtype.name} "
                                 f"is required for layer {self.name}. Received: None.")
        initializer = initializers_mod.get(initializer)
        regularizer = regularizers_mod.get(regularizer)
        constraint = constraints_mod.get(constraint)
        sync = kwargs.get("synchronization")
        if str(getattr(sync, "name", sync)).upper().endswith("ON_READ"):
            # tf-keras: a variable synchronised on read is not trainable
            if trainable:
                raise ValueError("Synchronization value can be set to "
                                 "VariableSynchronization.ON_READ only for non-trainable "
                                 "variables. You have specified trainable=True and "
                                 "synchronization=VariableSynchronization.ON_READ.")
            trainable = False
        trainable = True if trainable is None else bool(trainable)
        value = np.asarray(initializer(init_shape, dtype=dtype), dtype=dtype)
        if value.shape != shape:  # tf.Variable(initial_value, shape=shape) checks it too
            raise ValueError(f"In this `tf.Variable` creation, the initial value's shape "
                             f"({value.shape}) is not compatible with the explicitly "
                             f"supplied `shape` argument ({shape}). (The initializer of "
                             f"weight {name!r} of layer {self.name!r} returned it.)")
        scope = current_scope()
        name = "Variable" if name is None else name  # tf.Variable's default name
        full_name = f"{scope}/{name}:0" if scope else f"{name}:0"
        var = Variable(value, name=full_name, dtype=dtype, trainable=trainable,
                       constraint=constraint)
        policy = self._dtype_policy
        if (kwargs.get("autocast", True) and dtype.kind == "f"
                and policy.compute_dtype != policy.variable_dtype):
            # tf-keras's AutoCastVariable: inside a layer call, arithmetic on it reads
            # it in that layer's compute dtype (mixed_float16: float16)
            var._autocast = True
        (self._trainable_weights if trainable else self._non_trainable_weights).append(var)
        if regularizer is not None:
            # A partial, not a closure: deepcopy and pickle then reach the variable.
            self._callable_losses.append(functools.partial(_weight_penalty, regularizer, var))
        return var

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        out = self._own_weights()[0]
        for layer in self._sublayers():
            out += layer.trainable_weights
        return unique_variables(out)

    @property
    def non_trainable_weights(self):
        if self.trainable:
            out = self._own_weights()[1]
            for layer in self._sublayers():
                out += layer.non_trainable_weights
        else:
            trainable, frozen = self._own_weights()
            out = trainable + frozen
            for layer in self._sublayers():
                out += layer.weights
        return unique_variables(out)

    @property
    def weights(self):
        return self.trainable_weights + self.non_trainable_weights

    @property
    def trainable_variables(self):
        return self.trainable_weights

    @property
    def non_trainable_variables(self):
        return self.non_trainable_weights

    @property
    def variables(self):
        return self.weights

    def get_weights(self):
        """Return the weights as a list of numpy arrays, in ``weights`` order."""
        return [w.numpy() for w in self.weights]

    def set_weights(self, weights):
        """Set the weights from a list of arrays (Keras order and shapes).

        Raises
        ------
        ValueError
            On a wrong count or a wrong shape.
        TypeError
            On a non-numeric array (nothing is assigned then).
        """
        params = self.weights
        weights = list(weights)
        if len(params) != len(weights):
            raise ValueError(
                f'You called `set_weights(weights)` on layer "{self.name}" with a weight '
                f"list of length {len(weights)}, but the layer was expecting "
                f"{len(params)} weights. Provided weights: {str(weights)[:50]}...")
        values = []
        for param, w in zip(params, weights):
            w = np.asarray(w)
            if w.shape != param.shape:
                raise ValueError(f"Layer {self.name} weight shape {param.shape} is not "
                                 f"compatible with provided weight shape {w.shape}.")
            if w.dtype.kind not in "biuf":  # a string would fail in astype, unnamed
                raise TypeError(f"Layer {self.name} weight {param.name} must be set from a "
                                f"numeric array. Received an array of dtype {w.dtype} "
                                f"with shape {w.shape}.")
            values.append(w)
        for param, w in zip(params, values):
            param.assign(w.astype(param.dtype, copy=False))  # cast, as tf-keras does

    def count_params(self):
        """Total number of scalars in the layer's weights."""
        if not self.built:
            raise ValueError(
                f"You tried to call `count_params` on layer {self.name}, but the layer "
                f"isn't built. You can build it manually via: "
                f"`{self.name}.build(batch_input_shape)`.")
        return int(sum(int(np.prod(w.shape)) for w in self.weights))

    # -- losses --------------------------------------------------------------------
    def add_loss(self, losses, **kwargs):
        """Add a loss: a zero-argument callable (evaluated on each read) or a value.

        Values are eager losses, cleared at the start of the next outermost call; as
        in tf-keras, a value may only be added inside a call (a ``ValueError``
        otherwise), and a plain Python number becomes a ``floatx`` array.
        """
        for kw in kwargs:
            if kw != "inputs":
                raise TypeError(f"Unknown keyword argument: {kw}")
        values = []
        for loss in flatten_leaves(losses):
            if loss is None:
                continue
            if callable(loss):
                self._callable_losses.append(loss)
            else:
                values.append(np.asarray(loss) if hasattr(loss, "dtype")
                              else np.asarray(loss, dtype=floatx()))
        if values and not getattr(_call, "in_call", False):
            raise ValueError("Expected a symbolic Tensors or a callable for the loss value. "
                             "Please wrap your loss computation in a zero argument "
                             "`lambda`.")
        self._eager_losses.extend(values)

    @property
    def losses(self):
        """All losses of this layer and its sublayers; callables are re-evaluated."""
        out = []
        for layer in self._flatten_layers():
            out += list(layer._eager_losses)
            for fn in layer._callable_losses:
                value = fn()
                if value is not None:  # a Python number as tf converts it: floatx
                    out.append(np.asarray(value) if hasattr(value, "dtype")
                               else np.asarray(value, dtype=floatx()))
        return out

    def _clear_losses(self):
        for layer in self._flatten_layers():
            if layer._eager_losses:  # (an assignment goes through attribute tracking)
                layer._eager_losses = []

    # -- build and call ------------------------------------------------------------
    def build(self, input_shape):
        """Create the weights; called once, on the first ``__call__``."""
        self._build_input_shape = input_shape
        self.built = True

    def call(self, inputs, *args, **kwargs):
        """The layer's computation; the identity by default."""
        return inputs

    def _floating_compute_dtype(self):
        """The compute dtype as numpy's, where it is a floating one (else None): what
        inputs are cast to and autocast weights read as (tf-keras casts to no other)."""
        dtype = numpy_compute_dtype(self._dtype_policy)
        return dtype if dtype is not None and dtype.kind == "f" else None

    def _cast_inputs(self, inputs, dtype=None):
        """``inputs`` with their floating arrays in ``dtype`` (default: the floating
        compute dtype), as tf-keras's ``_maybe_cast_inputs``."""
        dtype = dtype or self._floating_compute_dtype()
        if not self._autocast or dtype is None:
            return inputs

        def cast(x):
            if is_device_array(x):  # cast on the device by the engine, never copied here
                return x
            if self._casts(x, dtype):
                return np.asarray(x).astype(dtype)
            return x
        return _map_nested(cast, inputs)

    def _casts(self, x, dtype=None):
        """Whether :meth:`_cast_inputs` casts array ``x`` (host or device: a device
        layer path that takes it as it is asks this): floating, of another dtype than
        ``dtype`` (default: the floating compute dtype), the layer autocasting."""
        dtype = dtype or self._floating_compute_dtype()
        return (self._autocast and dtype is not None and _is_array_like(x)
                and np.dtype(x.dtype).kind == "f" and x.dtype != dtype)

    def _weight_scope(self):
        """The name scope of the weights built in this layer's build or call."""
        return self.name if self._scopes_weight_names else None

    def _maybe_build(self, inputs):
        if self.built:
            return
        if self._dtype_policy.name == "_infer":
            first = _first_leaf(inputs)
            self._dtype_policy = Policy(np.dtype(first.dtype).name)
        # A list gives a list of shapes; a (named)tuple input keeps its structure. As
        # in tf-keras, a leaf with no shape (None for an optional input) builds with None.
        shapes = None
        if any(hasattr(x, "shape") for x in flatten_leaves(inputs)):
            shapes = _map_nested(
                lambda x: TensorShape(x.shape) if hasattr(x, "shape") else None, inputs)
        self._build_from_shapes(shapes)

    def _build_from_shapes(self, shapes):
        """``build(shapes)`` under the layer's name scope, then the bookkeeping of a
        first call (build input shape, initial ``weights=``)."""
        with name_scope(self._weight_scope()):
            self.build(shapes)
        Layer.build(self, shapes) if not self.built else None
        self._build_input_shape = shapes
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def _convert_inputs(self, inputs):
        if isinstance(inputs, (list, tuple, dict)):
            return _map_nested(self._convert_inputs, inputs)
        if isinstance(inputs, np.number):
            return np.asarray(inputs)
        if isinstance(inputs, (int, float, bool)):
            # tf.convert_to_tensor's dtypes: int32 (int64 if it does not fit), float32
            from ..backend._convert import _tensor
            return _tensor(inputs)
        if isinstance(inputs, Variable):
            return inputs.value()
        if is_device_array(inputs):
            # CuPy arrays, PyTorch CUDA tensors...: a numba device view, no copy.
            require_cuda()
            from ..kernels.cuda import as_device_array
            return as_device_array(inputs)
        if is_keras_tensor(inputs):
            raise TypeError(
                f"Layer {self.name!r} was called on the symbolic input {inputs!r}: "
                "numbarnn runs layers on arrays and has no functional API. Start a "
                "Sequential with it instead (`Sequential([Input(shape=...), ...])`), or "
                "call the layer on an array.")
        return inputs

    def __call__(self, *args, **kwargs):
        """Check the input spec, build on first use, autocast, then ``call``.

        The inputs are the first argument, or ``call``'s first parameter given by name
        (``layer(x=a, y=b)`` for ``call(self, x=None, y=None)``), as in tf-keras.
        """
        if "_eager_losses" not in self.__dict__:
            raise RuntimeError("You must call `super().__init__()` in the layer "
                               "constructor.")
        inputs, args, kwargs = self._split_inputs(args, kwargs)
        inputs = self._convert_inputs(inputs)
        outermost = not getattr(_call, "in_call", False)
        if outermost:
            self._clear_losses()
        _call.in_call = True
        outer_training = getattr(_call, "training", None)
        try:
            call_fn = self.call
            position = arg_position(call_fn, "mask")
            positional_mask = position is not None and position < len(args)
            explicit_mask = "mask" in kwargs or positional_mask
            previous_mask = args[position] if positional_mask else kwargs.get("mask")
            if not explicit_mask and (self.supports_masking or accepts(call_fn, "mask")):
                # tf-keras: the mask an input carries from the layer that made it
                previous_mask = input_masks(inputs)
                if previous_mask is not None and accepts(call_fn, "mask"):
                    kwargs["mask"] = previous_mask
            if "mask" in kwargs and kwargs["mask"] is None:
                kwargs.pop("mask")
            if "mask" in kwargs and not accepts(call_fn, "mask"):
                # given explicitly to a call without the argument: tf-keras hands it
                # on, and Python refuses it (a carried mask is passed on by
                # compute_mask instead; an explicit None is let through)
                raise TypeError(f"{type(self).__name__}.call() got an unexpected keyword "
                                f"argument 'mask' (layer \"{self.name}\" takes no mask "
                                "in its call; a mask the input carries is passed on by "
                                "its compute_mask).")
            args, kwargs, mode = resolve_training(call_fn, args, kwargs, outer_training)
            _call.training = mode  # for the layers called inside this call
            assert_input_compatibility(self.input_spec, inputs, self.name)
            if not self.built:
                with _build_lock:  # threads making the first call at once build once
                    self._maybe_build(inputs)
            compute = self._floating_compute_dtype()
            inputs = self._cast_inputs(inputs, compute)
            # Layers first built inside the call name their weights under this one
            # (pushed by hand: a context manager costs more than the rest of the
            # bookkeeping of a call).
            scope = self._weight_scope()
            stack = scope_stack() if scope is not None else None
            if stack is not None:
                stack.append(scope)
            outer_cast = swap_autocast_dtype(compute)
            try:
                outputs = call_fn(inputs, *args, **kwargs)
            finally:
                swap_autocast_dtype(outer_cast)
                if stack is not None:
                    stack.pop()
            if self.activity_regularizer is not None:
                # one loss per output array, at any depth (tf.nest.flatten): a cell's
                # (output, [state]) gives two
                for out in flatten_leaves(outputs):
                    out = np.asarray(out)
                    batch = out.shape[0] if out.ndim else 1
                    value = self.activity_regularizer(out)
                    self._eager_losses.append(
                        np.asarray(value / batch if batch else 0.0, dtype=out.dtype))
            if self.supports_masking and not self._compute_output_and_mask_jointly:
                outputs = self._attach_masks(inputs, outputs, previous_mask)
            return outputs
        finally:
            _call.training = outer_training
            if outermost:
                _call.in_call = False

    def _split_inputs(self, args, kwargs):
        """``(inputs, args, kwargs)`` of a call (tf-keras's ``split_out_first_arg``)."""
        if args:
            return args[0], args[1:], kwargs
        params = parameters(self.call)
        first = params[0].name if params else None
        if first is not None and first in kwargs:
            kwargs = dict(kwargs)
            return kwargs.pop(first), args, kwargs
        raise ValueError("The first argument to `Layer.call` must always be passed.")

    def _attach_masks(self, inputs, outputs, previous_mask):
        """``outputs`` carrying ``compute_mask(inputs, previous_mask)`` (tf-keras's
        ``_set_mask_metadata``): numpy outputs become :class:`ArrayWithMask` views."""
        if previous_mask is None and type(self).compute_mask is Layer.compute_mask:
            return outputs  # it passes its input mask on, and there is none
        several = type(outputs) in (list, tuple)
        flat = list(outputs) if several else [outputs]
        if all(mask_of(o) is not None for o in flat):
            return outputs  # call attached them: compute_mask is not called (tf-keras)
        masks = self.compute_mask(inputs, previous_mask)
        if masks is None:
            return outputs
        masks = list(masks) if type(masks) in (list, tuple) else [masks]
        if all(m is None for m in masks):
            return outputs
        flat = [with_mask(o, m) for o, m in zip(flat, masks)] + flat[len(masks):]
        return type(outputs)(flat) if several else flat[0]

    @property
    def input_shape(self):
        """The input shape of this layer in the Sequential model it belongs to (the
        model's input shape taken through the layers before it), as in tf-keras.

        Raises
        ------
        AttributeError
            For a layer only ever called on data itself (tf-keras: "only available for
            Functional and Sequential models").
        """
        shapes = self.__dict__.get("_node_shapes")
        if shapes is None:
            raise AttributeError(
                f'The layer "{self.name}" has never been called and thus has no defined '
                "input shape. Note that the `input_shape` property is only available for "
                "Functional and Sequential models.")
        return shapes[0]

    @property
    def output_shape(self):
        """The output shape of this layer in its Sequential model (see
        :attr:`input_shape`).

        Raises
        ------
        AttributeError
            For a layer only ever called on data itself.
        """
        shapes = self.__dict__.get("_node_shapes")
        if shapes is None:
            raise AttributeError(f'The layer "{self.name}" has never been called and thus '
                                 "has no defined output shape.")
        return shapes[1]

    @property
    def input(self):
        """This layer's input tensor in its Sequential model: a ``KerasTensor`` of
        :attr:`input_shape` (tf-keras ``Layer.input``).

        Raises
        ------
        AttributeError
            For a layer in no built model (tf-keras: not connected).
        """
        return self._node_tensor(0, "input")

    @property
    def output(self):
        """This layer's output tensor in its Sequential model: a ``KerasTensor`` of
        :attr:`output_shape` (tf-keras ``Layer.output``).

        Raises
        ------
        AttributeError
            For a layer in no built model.
        """
        return self._node_tensor(1, "output")

    def _node_tensor(self, index, what):
        shapes = self.__dict__.get("_node_shapes")
        if shapes is None:
            raise AttributeError(f"Layer {self.name} is not connected, no {what} to "
                                 "return (only a layer in a built Sequential model has "
                                 f"one: see `{what}_shape`)")
        dtype = (self.compute_dtype if index
                 else self.__dict__.get("_node_input_dtype", self.dtype)) or "float32"
        return KerasTensor(self, shapes[index], dtype)

    @property
    def updates(self):
        """Always empty, as in tf-keras 2 (which warns that it is deprecated)."""
        warnings.warn("`layer.updates` will be removed in a future version. This "
                      "property should not be used in TensorFlow 2.0, as `updates` are "
                      "applied automatically.", stacklevel=2)
        return []

    @property
    def metrics(self):
        """The ``Mean`` metrics ``add_metric`` added, this layer's and its
        sublayers'."""
        return [m for layer in self._flatten_layers()
                for m in layer.__dict__.get("_added_metrics", ())]

    def add_metric(self, value, name=None, **kwargs):
        """Track the running mean of ``value`` as the metric ``name`` (tf-keras's
        eager ``add_metric``: one ``Mean`` per name, updated at each call; read it
        with ``layer.metrics``).

        Raises
        ------
        TypeError
            For a keyword other than ``aggregation``.
        ValueError
            Without a name, or outside a call (as in tf-keras).
        """
        if any(k != "aggregation" for k in kwargs):
            raise TypeError(f"Unknown keyword arguments: {kwargs.keys()}. Expected "
                            "`aggregation`.")
        if name is None:
            raise ValueError("Please provide a name for your metric like "
                             "`self.add_metric(tf.reduce_sum(inputs), "
                             "name='mean_activation')`")
        if not getattr(_call, "in_call", False):
            raise ValueError("Expected a symbolic Tensor for the metric value, received: "
                             f"{value}")
        if getattr(_call, "probing", False):
            return  # a shape-finding call on zeros (tf-keras traces it: nothing runs)
        with _metrics_lock:  # threads calling the layer at once make one metric
            own = self.__dict__.setdefault("_added_metrics", [])
            metric = next((m for m in own if m.name == name), None)  # this layer's only
            if metric is None:
                metric = Mean(name, dtype=getattr(value, "dtype", None))
                own.append(metric)
        metric.update_state(value)

    def add_update(self, updates):
        """Run each callable in ``updates`` now (tf-keras 2's eager ``add_update``;
        anything else was already computed), unless the layer is frozen
        (``trainable=False``) or the call only finds an output shape, as there."""
        if not self.trainable or getattr(_call, "probing", False):
            return
        for update in flatten_leaves(updates):
            if callable(update):
                update()

    def add_variable(self, *args, **kwargs):
        """Deprecated alias of :meth:`add_weight`, as in tf-keras."""
        warnings.warn("`layer.add_variable` is deprecated and will be removed in a future "
                      "version. Please use the `layer.add_weight()` method instead.",
                      stacklevel=2)
        return self.add_weight(*args, **kwargs)

    @property
    def submodules(self):
        """Every layer inside this one, at any depth (``tf.Module.submodules``)."""
        return tuple(self._flatten_layers(include_self=False))

    def compute_mask(self, inputs, mask=None):
        if not self.supports_masking and mask is not None:
            raise TypeError(f"Layer {self.name} does not support masking, but was passed "
                            f"an input_mask: {mask}")
        return mask

    def compute_output_shape(self, input_shape):
        """The output shape for ``input_shape``, found as tf-keras finds it for a layer
        that does not say: build the layer and call it on zeros of that shape (twice,
        with unknown dimensions as 1 and as 2: an output dimension that differs is
        unknown). The calls leave no losses behind. Each output's shape is a
        :class:`~numbarnn.layers.TensorShape`, as tf-keras returns ``tf.TensorShape``.

        Raises
        ------
        NotImplementedError
            If the layer cannot be called on zeros of that shape.
        """
        def shape_of(x):
            return tuple(np.shape(x))

        if not self.built:  # built for the shape asked, unknown batch and all
            with _build_lock:
                if not self.built:
                    self._build_from_shapes(_map_shapes_nested(input_shape, TensorShape))
        try:
            outputs = self._probe_calls(input_shape, fills=(1, 2))
        except Exception as err:
            raise NotImplementedError(
                f"Could not infer the output shape of {type(self).__name__} by calling it "
                f"on zeros of shape {input_shape} ({type(err).__name__}: {err}); implement "
                "`compute_output_shape` on the layer.") from err
        return _map_nested2(lambda a, b: TensorShape(
            x if x == y else None for x, y in zip(shape_of(a), shape_of(b))),
            outputs[0], outputs[1])

    def _call_output_shape(self, input_shape):
        """The output shape that a call on inputs of ``input_shape`` gives: what
        tf-keras's models take from their symbolic call of the layer (summary,
        ``output_shape``, the next layer's build). That is :meth:`compute_output_shape`
        but for the layers whose method, in tf-keras too, answers otherwise
        (``Embedding`` with an ``input_length``, ``Bidirectional`` with a
        ``backward_layer`` of other units): they override this."""
        return self.compute_output_shape(input_shape)

    def _probe_calls(self, input_shape, fills):
        """The outputs of calls on zeros of ``input_shape`` (its unknown dimensions
        ``fill``, one call per fill), which leave the framework's state as it was: no
        losses, no stateful layer's state, no metric value or update (add_metric /
        add_update skip while probing). tf-keras's symbolic call, for what it finds
        out: the output shape, and the sublayers that build only in ``call``.

        As with tf-keras's trace, Python attributes a ``call`` changes stay changed,
        and a sublayer created inside ``call`` keeps its losses until the next call.
        The states are put back by assignment: not for a layer that another thread
        runs meanwhile (build a shared layer before sharing it)."""
        def zeros(shape, fill):
            return np.zeros(tuple(fill if d is None else d for d in shape),
                            numpy_compute_dtype(self._dtype_policy) or "float32")

        layers = list(self._flatten_layers())
        losses = [list(layer._eager_losses) for layer in layers]
        states = [_state_values(layer) for layer in layers]
        unbuilt = [layer for layer in layers if not layer.built]
        outer_probing = getattr(_call, "probing", False)
        _call.probing = True
        try:
            return [self(_map_shapes_nested(input_shape, lambda s, f=fill: zeros(s, f)),
                         training=False) for fill in fills]
        finally:
            _call.probing = outer_probing
            for layer, saved_losses, saved_states in zip(layers, losses, states):
                layer._eager_losses = saved_losses
                _restore_states(layer, saved_states)
            if is_shape(input_shape) and tuple(input_shape)[:1] == (None,):
                # A sublayer built by the probe saw the filled batch size: its build
                # shape (build_config) gets the unknown batch back, as tf-keras's
                # symbolic call leaves it.
                for layer in unbuilt:
                    built = layer._build_input_shape
                    if layer.built and is_shape(built) and len(tuple(built)):
                        layer._build_input_shape = TensorShape(
                            (None,) + tuple(built)[1:])

    # -- config --------------------------------------------------------------------
    def get_build_config(self):
        """``{"input_shape": ...}``, the shape the layer was built with, or None."""
        if self._build_input_shape is None:
            return None
        return {"input_shape": _plain_shapes(self._build_input_shape)}

    def build_from_config(self, config):
        """Build from a :meth:`get_build_config` dict (its shapes may be JSON lists)."""
        shape = config["input_shape"]
        if shape is not None:
            self._build_from_shapes(shape_from_json(shape))

    def get_config(self):
        """Return the constructor arguments as a JSON-serialisable dict.

        A subclass that does not override ``get_config`` gets the arguments it was
        constructed with, as in tf-keras (when they are plain values: numbers,
        strings, None, and lists, tuples and dicts of them); ``name``, ``trainable``
        and ``dtype`` are left out where its ``__init__`` takes neither them nor
        ``**kwargs`` (spelled so: tf-keras drops them for ``**kw``).

        Raises
        ------
        NotImplementedError
            For such a subclass constructed with other values (a layer, an array).
        """
        config = self._base_config()
        if type(self).get_config is not Layer.get_config:
            return config
        auto = getattr(self, "_auto_config", None)
        if auto is None:
            raise NotImplementedError(
                f"Layer {type(self).__name__} was created by passing non-serializable "
                "argument values in `__init__()`, and therefore the layer must override "
                "`get_config()` in order to be serializable. Please implement "
                "`get_config()`.")
        base_keys = set(config)
        config.update(auto)
        params = init_parameters(type(self)) or ()
        # tf-keras keeps them only for a `**kwargs` spelled so (not `**kw`).
        if not any(p.kind == p.VAR_KEYWORD and p.name == "kwargs" for p in params):
            for key in base_keys - {p.name for p in params}:
                config.pop(key, None)
        return config

    def _base_config(self):
        config = {"name": self.name, "trainable": self.trainable}
        policy = self._dtype_policy
        # tf-keras's policy.serialize: a plain dtype's name, None for "_infer", a
        # Policy config for the mixed ones.
        if policy.name == "_infer":
            config["dtype"] = None
        elif policy.name not in MIXED:
            config["dtype"] = policy.name
        else:
            config["dtype"] = {"module": "keras.mixed_precision", "class_name": "Policy",
                               "config": {"name": policy.name}, "registered_name": None}
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = self._batch_input_shape
        return config

    def save_weights(self, path, overwrite=True, save_format=None, options=None):
        """Write the weights to ``path``, atomically: numbarnn's ``.npz``, or the
        tf-keras format a ``.weights.h5`` / ``.h5`` / ``.keras`` name or
        ``save_format="h5"`` asks for (see :func:`numbarnn.saving.save_weights`)."""
        from ..saving import save_weights
        save_weights(self, path, overwrite=overwrite, save_format=save_format,
                     options=options)

    def load_weights(self, path, skip_mismatch=False, by_name=False, options=None):
        """Load weights written by :meth:`save_weights`, or by tf-keras.

        Parameters
        ----------
        path : str or os.PathLike
            A numbarnn ``.npz`` weights file, or a tf-keras file: ``.weights.h5`` or
            ``.keras`` (weights found by the model's structure), a legacy ``.h5``
            (weights matched to the top-level layers by order). The format is read
            from the contents; tf-keras's need h5py.
        skip_mismatch : bool, default False
            tf-keras files only: skip (with a warning) what does not fit, instead of
            raising.
        by_name : bool, default False
            Legacy ``.h5`` files only: match the top-level layers by name; layers the
            file does not name keep their weights (tf-keras allows ``skip_mismatch``
            with the legacy layout only so).
        options : optional
            TensorFlow's load options: nothing to do here.
        """
        from ..saving import load_weights
        load_weights(self, path, skip_mismatch=skip_mismatch, by_name=by_name,
                     options=options)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Create a layer from its config.

        Parameters
        ----------
        config : dict
            What :meth:`get_config` returned.
        custom_objects : dict, optional
            User activations, initializers, regularizers and constraints the config
            names; they are in scope (:func:`numbarnn.utils.custom_object_scope`) while
            the layer is created.

        Raises
        ------
        TypeError
            Whatever the constructor raised, as tf-keras's base ``from_config`` reports
            it: "Error when deserializing class ..." with the config and the error.
        """
        try:
            return cls._from_plain_config(config, custom_objects)
        except Exception as err:
            raise TypeError(f"Error when deserializing class '{cls.__name__}' using "
                            f"config={config}.\n\nException encountered: {err}") from err

    @classmethod
    def _from_plain_config(cls, config, custom_objects=None):
        """``cls(**config)`` with ``custom_objects`` in scope, errors as they come (the
        ``from_config`` of tf-keras's SimpleRNN, which does not wrap them)."""
        with CustomObjectScope(custom_objects):
            return cls(**config)

    def __repr__(self):
        return f"<{type(self).__module__}.{type(self).__name__} name={self.name}>"


def _map_nested(fn, inputs):
    """``fn`` applied to the leaves of nested lists/tuples/dicts, keeping the
    containers (namedtuples included)."""
    if isinstance(inputs, dict):
        return {key: _map_nested(fn, value) for key, value in inputs.items()}
    if not isinstance(inputs, (list, tuple)):
        return fn(inputs)
    items = [_map_nested(fn, x) for x in inputs]
    if hasattr(inputs, "_fields"):  # namedtuple
        return type(inputs)(*items)
    return type(inputs)(items)


def _plain_shapes(shapes):
    """TensorShapes as plain tuples, in any nest of lists."""
    if isinstance(shapes, list):
        return [_plain_shapes(s) for s in shapes]
    return tuple(shapes) if isinstance(shapes, tuple) else shapes


def _map_shapes_nested(shapes, fn):
    """``fn`` applied to each shape of a shape or a nest of shapes."""
    if isinstance(shapes, (list, tuple)) and shapes and isinstance(
            shapes[0], (list, tuple)):
        return type(shapes)(_map_shapes_nested(s, fn) for s in shapes) if not hasattr(
            shapes, "_fields") else type(shapes)(*(_map_shapes_nested(s, fn) for s in shapes))
    return fn(shapes)


def _state_values(layer):
    """A stateful layer's state values (None when it has none yet), to restore."""
    states = layer.__dict__.get("_states")
    if not isinstance(states, list):
        return states
    return [(v, v.numpy()) if isinstance(v, Variable) else v for v in states]


def _restore_states(layer, saved):
    if "_states" not in layer.__dict__:
        return
    if not isinstance(saved, list):
        # it had no state before (built by these calls): zeros, as a fresh build gives
        if getattr(layer, "stateful", False) and layer.__dict__.get("_states") is not None:
            layer.reset_states()
        return
    for item in saved:
        if isinstance(item, tuple):
            variable, value = item
            if variable.shape == value.shape:
                variable.assign(value)
    object.__setattr__(layer, "_states", [item[0] if isinstance(item, tuple) else item
                                          for item in saved])


def _map_nested2(fn, a, b):
    """``fn`` on the paired leaves of two structures shaped alike."""
    if isinstance(a, dict):
        return {key: _map_nested2(fn, a[key], b[key]) for key in a}
    if isinstance(a, (list, tuple)):
        return type(a)(_map_nested2(fn, x, y) for x, y in zip(a, b)) if not hasattr(
            a, "_fields") else type(a)(*(_map_nested2(fn, x, y) for x, y in zip(a, b)))
    return fn(a, b)


def _first_leaf(inputs):
    """The first array of (possibly nested) inputs (a dict's in sorted key order)."""
    while isinstance(inputs, (list, tuple, dict)) and inputs:
        inputs = inputs[sorted(inputs)[0]] if isinstance(inputs, dict) else inputs[0]
    return inputs


# Bookkeeping attributes of the framework itself: what they hold is not tracked (a
# stateful RNN's ``_states`` Variables are not weights, as in tf-keras), unless a user's
# layer puts a layer in one of these names.
_BOOKKEEPING_NAMES = frozenset({
    "_nr_tracked", "_nr_tracked_order", "_trainable_weights", "_non_trainable_weights",
    "_callable_losses", "_eager_losses", "_states", "_initial_weights", "_auto_config",
    "_packed_cache", "_masks", "_build_input_shape", "_batch_input_shape",
    "_dtype_policy", "_input_spec", "_node_shapes", "_node_input_dtype"})


def _found_in(value, kind, seen=None):
    """The instances of ``kind`` in ``value``: itself, or inside nested lists, tuples
    and dicts (a dict's values in key order, as tf.nest flattens them)."""
    if isinstance(value, kind):
        yield value
        return
    if not isinstance(value, (list, tuple, dict)):
        return
    seen = set() if seen is None else seen
    if id(value) in seen:  # a container that holds itself
        return
    seen.add(id(value))
    if isinstance(value, dict):
        try:
            items = [v for _, v in sorted(value.items(), key=lambda kv: kv[0])]
        except TypeError:  # keys that do not sort: their insertion order
            items = list(value.values())
    else:
        items = value
    for item in items:
        yield from _found_in(item, kind, seen)


def unique_variables(variables):
    """``variables`` without repeats (by identity: comparisons are elementwise)."""
    seen = set()
    out = []
    for v in variables:
        if id(v) not in seen:
            seen.add(id(v))
            out.append(v)
    return out
