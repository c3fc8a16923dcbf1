"""The RNN layer (tf-keras ``base_rnn.py``): argument handling, states and masking rules
around a time loop that runs in a fused kernel (built-in cells) or a Python loop."""
import numpy as np

from .. import kernels
from ..device import get_device
from ..engine.base_layer import Layer, check_declared_shape
from ..engine.call_context import name_scope
from ..engine.call_args import accepts
from ..engine.input_spec import InputSpec
from ..engine.numerics import ieee_arithmetic
from ..engine.variables import Variable, VersionCache
from ..engine import serialization
from ..kernels.cuda_support import is_device_array, to_host_array
from ..nest import children
from .rnn_utils import (TensorShape, cell_step_function, cell_step_kwargs, flatten,
                        flatten_shapes, is_nested, is_shape, map_shapes, map_structure,
                        initial_cell_state, pack_sequence_as, state_shapes,
                        steps_through_call)

__all__ = ["RNN"]


def standardize_args(inputs, initial_state, constants, num_constants):
    """Split a list input ``[x, *initial_states, *constants]`` like tf-keras; a tuple
    input is a nested input structure and is left whole."""
    if isinstance(inputs, list):
        if initial_state is not None or constants is not None:
            raise ValueError("When passing a list as `inputs`, `initial_state` and "
                             "`constants` must not be given separately.")
        if num_constants:
            constants = inputs[-num_constants:]
            inputs = inputs[:-num_constants]
        if len(inputs) > 1:
            initial_state = inputs[1:]
        inputs = inputs[0]

    def to_list(x):
        if x is None or isinstance(x, list):
            return x
        if isinstance(x, tuple):
            return list(x)
        return [x]
    # An empty initial_state stays a list (see RNN.__call__); empty constants are none
    # given.
    return inputs, to_list(initial_state), to_list(constants) or None


def _unwrap_list_shape(input_shape):
    """The input's shape(s) from a build/output-shape argument: a list of shapes means
    ``[x, *initial_states, *constants]`` and only ``x`` counts."""
    if isinstance(input_shape, list) and input_shape and not is_shape(input_shape):
        return input_shape[0]
    return input_shape


def _is_scalar_nest(x):
    """True for a (nested) list/tuple whose leaves are all plain numbers or bools."""
    leaves = flatten(x)
    return bool(leaves) and all(isinstance(v, (bool, int, float, np.number, np.bool_))
                                for v in leaves)


def _numbers_as_state_arrays(states, state_shapes):
    """``states`` with nested lists of plain numbers made arrays, each at the outermost
    level whose rank is that of a state (``(batch, *state_size)``): ``h.tolist()`` and
    ``[h.tolist()]`` are one state, not one state per number. A list of numbers that
    no level of fits is made one array (whose shape the caller then rejects).
    ``state_shapes`` is a function, called only if there are such lists (a cell may
    know its state size only once built)."""
    if states is None:  # (every call without initial_state: skip the walk)
        return states
    if not any(_is_scalar_nest(leaf) or isinstance(leaf, (int, float))
               for leaf in flatten(states)):
        return states  # arrays (or None) only: the common case
    ranks = {1 + len(shape) for shape in state_shapes()}

    def convert(x):
        if isinstance(x, dict) or not is_nested(x):
            return x
        if _is_scalar_nest(x):
            try:
                array = np.asarray(x)
            except ValueError:  # ragged: look deeper
                array = None
            if array is not None and array.ndim in ranks:
                return array
        items = [convert(v) for v in x]
        return type(x)(*items) if hasattr(x, "_fields") else type(x)(items)

    converted = convert(states)
    if _is_scalar_nest(converted):  # no level has a state's rank
        try:
            return np.asarray(states)
        except ValueError:
            return states
    return converted


def _as_numeric_array(x, argument):
    arr = np.asarray(to_host_array(x))  # device masks and states are small: host copy
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"Argument `{argument}` must be a numeric array. Received an array "
                        f"of dtype {arr.dtype} with shape {arr.shape}.")
    return arr


def _top_level(initial_state):
    """The initial states as tf-keras's ``to_list`` sees them: one entry per top-level
    state."""
    return list(initial_state) if isinstance(initial_state, (list, tuple)) else [
        initial_state]


def _zero_where_masked(output, mask):
    """``output`` (its first two axes those of ``mask``) with zeros where ``mask`` is
    False; a device array is done on the host and handed back on the device."""
    if is_device_array(output):
        from ..kernels.cuda import to_device
        return to_device(_zero_where_masked(np.asarray(to_host_array(output)), mask))
    output = np.array(output)
    output[~np.asarray(mask, bool)] = 0
    return output


def _declares_output_size(cell):
    """Does ``cell`` say its output size (or go without one: state_size stands in)?"""
    try:
        getattr(cell, "output_size", None)
    except NotImplementedError:
        return False
    return True


class RNN(Layer):
    """Base class for recurrent layers (tf-keras ``RNN``).

    Parameters
    ----------
    cell : cell or list of cells
        An object with ``call(inputs, states)`` and ``state_size``; a list is stacked with
        :class:`StackedRNNCells`.
    return_sequences : bool
        Return the whole output sequence (in processing order) instead of the last output.
    return_state : bool
        Also return the final states: ``[output, *states]``.
    go_backwards : bool
        Process the sequence from the last step; the returned sequence is reversed.
    stateful : bool
        Carry the final states of a call into the next one (fixed batch size).
    unroll : bool
        Accepted for compatibility; results are identical either way but in one case,
        where tf-keras's unrolled loop has a bug that is followed here: with
        ``go_backwards``, ``zero_output_for_mask``, ``return_sequences`` and a mask, it
        zeroes the output sequence (which is in processing order) where the mask in
        *input* order is False, and carries the previous output through the masked
        steps before that (its loop path zeroes each masked step). With
        ``zero_output_for_mask``, a mask and no ``return_sequences``, tf-keras 2.21's
        unrolled loop fails (it stacks every step's output into a one-step buffer);
        numbarnn returns the last output, zeros for a row whose last step is masked,
        as its loop path does. As in tf-keras, a
        model built from an input shape whose time dimension is ``None`` (a
        :class:`Sequential` with ``input_shape=(None, features)``) cannot hold an
        unrolled layer: that raises ``ValueError``. A cell that returns more states
        than its ``state_size`` gives, or an array instead of ``(output, states)``, is a
        ``ValueError`` with ``unroll`` too (tf-keras's unrolled loop passes the extra
        states on, or unpacks the array's rows, where its loop path fails).
    time_major : bool
        Inputs (and masks) are ``[time, batch, ...]``.
    zero_output_for_mask : bool (keyword)
        Masked steps output zeros instead of the previous output. As in tf-keras
        (keras-team/tf-keras#252) this also zeroes the last output when the last
        processed step is masked, even with ``return_sequences=False``.
    **kwargs
        Base Layer arguments, plus the legacy ``input_dim`` / ``input_length``.

    Notes
    -----
    A user cell may define ``compiled_step``: an ``@njit`` function
    ``(x_t (I,), h (S,), params) -> (output (O,), new_h (S,))`` on one batch row, where
    ``params`` is the tuple the cell's ``compiled_params()`` returns (default: its
    weights' arrays). With a single ``[batch, S]`` state and no constants, the CPU engine
    then runs it inside a compiled time loop (compiled once per process); its ``call``
    is still used by the Python engine.

    ``inputs`` may be a tuple or namedtuple of arrays ``[batch, time, ...]`` (a list is
    ``[x, *initial_states, *constants]`` instead). The cell then receives the same
    structure at each step, is built with the same structure of step shapes, and may
    return a nested output (e.g. a list with a nested ``output_size``); the layer's output
    keeps that structure, and with ``return_state`` a list output is spread before the
    states, as in tf-keras. Batch size, dtype and mask shape come from the first input;
    masks apply to every output and state leaf. Nested inputs run in the Python loop.

    Built-in cells (:class:`SimpleRNNCell`, stacks of them, :class:`ResidualWrapper`
    around them) run in one fused compiled kernel per call; other cells run in a Python
    loop with the same semantics. States are always ``[batch, ...]``, also when
    ``time_major``. Calls on a stateful layer, and calls in training with dropout, change
    state held by the layer and are not thread-safe; other calls are.

    Before any step runs, the input width is checked against the kernels of built-in
    cells (a cell built earlier for another width raises ``ValueError`` in the InputSpec
    wording), and in the Python loop every step's result is checked: a pair
    ``(output, new_states)`` with one new state per state, each of the state's shape
    ``(batch, *state_size)``, and outputs with the batch axis first.

    The layer computes in a floating dtype only: an integer or bool ``dtype`` raises
    ``TypeError`` (as tf-keras ``Dense`` does). A list of cells is wrapped in a
    :class:`StackedRNNCells` of the default policy, as tf-keras wraps it: with
    ``dtype="float64"`` (and float64 cells) each step's input is then rounded to
    float32, as tf-keras's float32 wrapper casts it; pass
    ``StackedRNNCells(cells, dtype="float64")`` to keep float64 throughout. Under
    ``mixed_float16`` (or ``float16``) floating inputs are rounded to float16 (tf-keras's
    autocast) and the results are float16, as in tf-keras, computed in float32 and
    rounded once (device arrays on the device). tf-keras rounds each
    operation of each step to float16 instead, so the two differ by a few float16
    ulps (about 2e-3 at most for tanh outputs over 30 steps). A cell whose dtype
    differs from the layer's (``RNN(SimpleRNNCell(2), dtype="float64")``), which
    tf-keras refuses in its first product, runs here in the layer's dtype, the cell's
    weights cast to it.
    """

    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, time_major=False, **kwargs):
        if isinstance(cell, (list, tuple)):
            from .stacked_rnn_cells import StackedRNNCells
            # with the default policy, as tf-keras wraps the list (_round_to_cell_dtype)
            cell = StackedRNNCells(cell)
        if "call" not in dir(cell):
            raise ValueError("Argument `cell` should have a `call` method. "
                             f"The RNN was passed: cell={cell}")
        if "state_size" not in dir(cell):
            raise ValueError("The RNN cell should have a `state_size` attribute (tuple of "
                             "integers, one integer per RNN state). "
                             f"Received: cell={cell}")
        self.zero_output_for_mask = bool(kwargs.pop("zero_output_for_mask", False))
        if "input_shape" not in kwargs and ("input_dim" in kwargs
                                            or "input_length" in kwargs):
            input_shape = (kwargs.pop("input_length", None), kwargs.pop("input_dim", None))
            # checked here, so that an error names the argument given
            check_declared_shape("input_length", input_shape[:1])
            check_declared_shape("input_dim", input_shape[1:])
            kwargs["input_shape"] = input_shape
        super().__init__(**kwargs)
        self.cell = cell
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)
        self.time_major = bool(time_major)
        self.supports_masking = True
        self.input_spec = None
        self.state_spec = None
        self.constants_spec = None
        self._states = None
        self._num_constants = 0
        # the packed weights (and their device mirror); a copy of the layer packs its own
        self._packed_cache = VersionCache()

    # -- states ------------------------------------------------------------------
    @property
    def _flat_state_shapes(self):
        return state_shapes(self.cell.state_size)

    @property
    def states(self):
        """The state variables of a stateful layer (``[None]`` per state before they
        exist): :class:`~numbarnn.Variable` objects, as tf-keras's are ``tf.Variable``
        objects, so ``states[0].numpy()`` copies and ``states[0].assign(v)`` sets."""
        flat = ([None] * len(self._flat_state_shapes) if self._states is None
                else list(self._states))
        # Shaped as the cell's state_size (a tuple for stacked cells), as in tf-keras.
        if is_nested(self.cell.state_size) and len(flat) == len(self._flat_state_shapes):
            return pack_sequence_as(self.cell.state_size, flat)
        return flat

    @states.setter
    def states(self, states):
        """Set the state variables: ``None`` (a stateful layer starts from zeros again
        at its next call), or one value per state, each ``(batch, *state_size)``.

        Variables are kept (as tf-keras does); arrays are copied into new variables of
        the layer's variable dtype (an integer array would make an integer state, which
        the next call could not store into).

        Raises
        ------
        TypeError
            If a value is not numeric.
        ValueError
            On a wrong number of states or a wrong shape (nothing is set then).
        """
        if states is None:
            self._states = None
            return
        states = _numbers_as_state_arrays(states, lambda: self._flat_state_shapes)
        flat = flatten(states)
        expected = self._flat_state_shapes
        if len(flat) != len(expected):
            raise ValueError(f"Layer {self.name} expects {len(expected)} states, but it "
                             f"received {len(flat)} state values. States received: "
                             f"{states}")
        batch = self._spec_batch_size()
        values = []
        for i, (value, shape) in enumerate(zip(flat, expected)):
            if not isinstance(value, Variable):
                value = _as_numeric_array(value, "states")
            if tuple(value.shape[1:]) != shape or len(value.shape) != 1 + len(shape) or (
                    batch is not None and value.shape[0] != batch):
                raise ValueError(f"State {i} is incompatible with layer {self.name}: "
                                 f"expected shape={(batch,) + shape} but found "
                                 f"shape={tuple(value.shape)}")
            values.append(value)
        dtype = self.variable_dtype or "float32"
        self._states = [v if isinstance(v, Variable) else self._state_variable(v, dtype)
                        for v in values]

    def _spec_batch_size(self):
        """The batch size a stateful layer was built for (None if unknown)."""
        spec = self.input_spec[0] if self.input_spec else None
        return spec.shape[self._batch_axis()] if spec is not None and spec.shape else None

    def _state_variable(self, value, dtype):
        # tf-keras's backend.variable takes the current name scope, as a Variable does:
        # "simple_rnn/Variable:0" inside a call, "Variable:0" from a build or
        # reset_states outside one.
        return Variable(value, dtype=dtype)

    def _store_states(self, values):
        """Keep a stateful call's final states, in the state variables where they fit."""
        values = [np.asarray(to_host_array(v)) for v in values]
        if self._states is not None and [s.shape for s in self._states] == [
                v.shape for v in values]:
            for variable, value in zip(self._states, values):
                variable.assign(value)
        else:
            self._states = [self._state_variable(v, self.variable_dtype or "float32")
                            for v in values]

    def _batch_axis(self):
        return 1 if self.time_major else 0

    def reset_states(self, states=None):
        """Reset the states of a stateful layer to zeros, or to ``states``.

        Raises
        ------
        AttributeError
            If the layer is not stateful.
        ValueError
            If the batch size is unknown, or ``states`` has a wrong count or shape.
        TypeError
            If a value in ``states`` is not numeric (nothing is assigned then).
        """
        if not self.stateful:
            raise AttributeError("Layer must be stateful.")
        batch = self._spec_batch_size()
        if batch is None:
            raise ValueError(
                "If a RNN is stateful, it needs to know its batch size. Specify the batch "
                "size of your input tensors: \n- If using a Sequential model, specify the "
                "batch size by passing a `batch_input_shape` argument to your first layer."
                "\n- If using the functional API, specify the batch size by passing a "
                "`batch_shape` argument to your Input layer.")
        dtype = self.variable_dtype or "float32"
        if self._states is None:
            init = initial_cell_state(self.cell, batch, dtype)
            self._states = [self._state_variable(s, dtype) for s in flatten(init)]
            return
        if states is None:
            for variable in self._states:
                variable.assign(np.zeros(variable.shape, variable.dtype))
            return
        states = _numbers_as_state_arrays(states,
                                          lambda: [s.shape[1:] for s in self._states])
        flat = flatten(states) if is_nested(states) else [states]
        if len(flat) != len(self._states):
            raise ValueError(f"Layer {self.name} expects {len(self._states)} states, but it "
                             f"received {len(flat)} state values. States received: {states}")
        new = []
        for i, (value, current) in enumerate(zip(flat, self._states)):
            value = _as_numeric_array(value, "states")
            if value.shape != current.shape:
                raise ValueError(f"State {i} is incompatible with layer {self.name}: "
                                 f"expected shape={current.shape} but found "
                                 f"shape={value.shape}")
            new.append(value.astype(current.dtype))
        for variable, value in zip(self._states, new):  # checked all first
            variable.assign(value)

    def get_initial_state(self, inputs):
        """Initial states for ``inputs`` (the cell's ``get_initial_state``, or zeros).

        Raises
        ------
        ValueError
            If ``inputs`` (its first array, for a nest) has no batch and time axes.
        """
        given = inputs
        if is_nested(inputs):
            inputs = flatten(inputs)[0]  # nested inputs: the first one
        inputs = np.asarray(inputs) if not hasattr(inputs, "shape") else inputs
        if len(inputs.shape) < 2:  # a Python list is a nest: its first number
            layout = "[time, batch, ...]" if self.time_major else "[batch, time, ...]"
            raise ValueError(
                f"Argument `inputs` of `get_initial_state` must be an array {layout} (or "
                f"a tuple of them). Received a {type(given).__name__} whose first "
                f"{'leaf' if given is not inputs else 'value'} has shape "
                f"{tuple(inputs.shape)}.")
        batch = inputs.shape[self._batch_axis()]
        dtype = inputs.dtype
        init = initial_cell_state(self.cell, batch, dtype)
        if not is_nested(init):
            init = [init]
        return list(init)

    # -- shapes --------------------------------------------------------------------
    def _output_size(self):
        size = getattr(self.cell, "output_size", None)
        if size is None:
            size = flatten(self.cell.state_size)[0]
        return size

    def compute_output_shape(self, input_shape):
        """Output shape(s) as :class:`~numbarnn.layers.TensorShape` (tf-keras returns
        ``tf.TensorShape``); a nested ``output_size`` gives a flat list of shapes.

        With ``return_state`` the (flattened) state shapes follow the output shape(s).
        """
        input_shape = flatten_shapes(_unwrap_list_shape(input_shape))[0]
        self._check_rank(0, input_shape)
        batch, time = input_shape[0], input_shape[1]
        if self.time_major:
            batch, time = time, batch
        head = (time, batch) if self.time_major else (batch, time)
        # tf.TensorShape in tf-keras: TensorShape here too (a tuple with as_list())
        shapes = [TensorShape((head if self.return_sequences else (batch,)) + out)
                  for out in state_shapes(self._output_size())]
        if self.return_state:
            return shapes + [TensorShape((batch,) + s) for s in self._flat_state_shapes]
        return shapes[0] if len(shapes) == 1 else shapes

    def compute_mask(self, inputs, mask):
        if isinstance(mask, list) and not _is_scalar_nest(mask):
            mask = mask[0] if mask else None
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            # One None per top-level state, as call returns them (a stacked cell's or a
            # nested state's group is one entry), as tf-keras counts self.states.
            return [output_mask] + [None] * len(self.states)
        return output_mask

    # -- build ---------------------------------------------------------------------
    def build(self, input_shape):
        """Build the cell for one step; ``input_shape`` may be a nest of shapes (one per
        input of a tuple/namedtuple input), and the cell then gets the same nest."""
        self._build_input_shape = input_shape
        input_shape = _unwrap_list_shape(input_shape)
        if is_shape(input_shape):
            input_shape = tuple(input_shape)
        for i, shape in enumerate(flatten_shapes(input_shape)):
            self._check_rank(i, shape)
        # one InputSpec per (flattened) input
        self.input_spec = [InputSpec(shape=self._spec_shape(s))
                           for s in flatten_shapes(input_shape)]
        batch_axis = self._batch_axis()
        step_shape = map_shapes(lambda s: (s[batch_axis],) + s[2:], input_shape)
        if isinstance(self.cell, Layer) and not self.cell.built:
            with name_scope(self.cell.name):
                self.cell.build(step_shape)
                self.cell.built = True
        if self.state_spec is not None:
            self._validate_state_spec(self.state_spec)
        self.built = True
        if self.stateful:
            self.reset_states()

    def _check_symbolic_input_shape(self, input_shape):
        """What tf-keras's call on a symbolic input (a model built from an input shape,
        here :meth:`Sequential.build`, after building the layer) finds: ``unroll`` needs
        the time dimension, and the built cells must take the input's width (a
        ResidualWrapper adds its input to its cell's output).

        Raises
        ------
        ValueError
            If ``unroll`` and the time dimension of ``input_shape`` is ``None``, or the
            width does not fit the cells the fused engines would run.
        """
        shape = flatten_shapes(_unwrap_list_shape(input_shape))[0]
        fused = getattr(self.cell, "_fused_levels", None)
        if (fused is not None and getattr(self.cell, "built", False) and len(shape) == 3
                and shape[-1] is not None):
            levels = fused(1, np.dtype(self.dtype or "float32"), False)
            if levels:
                kernels.plan.check_stack(levels, (1, 1, shape[-1]), self.name)
        if self.unroll and len(shape) > 1 and shape[1 - self._batch_axis()] is None:
            raise ValueError(
                "Cannot unroll a RNN if the time dimension is undefined. \n- If using a "
                "Sequential model, specify the time dimension by passing an "
                "`input_shape` or `batch_input_shape` argument to your first layer. If "
                "your first layer is an Embedding, you can also use the `input_length` "
                "argument.\n- If using the functional API, specify the time dimension by "
                "passing a `shape` or `batch_shape` argument to your Input layer.")

    def _check_rank(self, index, shape):
        if len(shape) < 3:
            raise ValueError(f'Input {index} of layer "{self.name}" is incompatible with the '
                             f"layer: expected ndim>=3 ([batch, time, features]), found "
                             f"ndim={len(shape)}. Full shape received: {tuple(shape)}")

    def _spec_shape(self, shape):
        """The InputSpec shape: time free, batch free unless stateful."""
        batch_axis = self._batch_axis()
        spec_shape = [None, None] + list(shape[2:])
        spec_shape[batch_axis] = shape[batch_axis] if self.stateful else None
        return tuple(spec_shape)

    def _validate_state_spec(self, specs):
        expected = self._flat_state_shapes
        shapes = [spec.shape for spec in flatten(specs)]
        if len(shapes) != len(expected) or any(
                tuple(s[1:]) != e for s, e in zip(shapes, expected)):
            size = self.cell.state_size
            sizes = list(size) if is_nested(size) else [size]
            raise ValueError(
                "An `initial_state` was passed that is not compatible with "
                f"`cell.state_size`. Received `state_spec`={specs}; however "
                f"`cell.state_size` is {sizes}")

    # -- call ----------------------------------------------------------------------
    def __call__(self, inputs, initial_state=None, constants=None, **kwargs):
        def shapes():
            return self._flat_state_shapes
        if isinstance(inputs, list):  # [x, *initial_states, *constants]
            inputs = [inputs[0]] + [_numbers_as_state_arrays(s, shapes)
                                    for s in inputs[1:]]
        initial_state = _numbers_as_state_arrays(initial_state, shapes)
        inputs, initial_state, constants = standardize_args(
            inputs, initial_state, constants, self._num_constants)
        if initial_state is not None:
            for i, state in enumerate(flatten(initial_state)):
                if state is None:
                    raise ValueError(
                        f'Layer "{self.name}": `initial_state` entry {i} is None; each '
                        "initial state must be an array of shape (batch, *state_size) "
                        f"(state_size={self.cell.state_size}). Pass `initial_state=None` "
                        "to start from zeros.")
        if initial_state == [] and self.built and constants is None:
            # tf-keras: a built layer's call reads an empty state list as none given
            # (an unbuilt one's build refuses it as a state_spec that does not match,
            # and so does a call with constants)
            initial_state = None
        # A call that fails leaves the layer as it was (tf-keras keeps what a rejected
        # call set: every later call would fail on the first one's state_spec).
        saved = self._num_constants, self.state_spec, self.constants_spec
        if constants is not None:
            self._num_constants = len(constants)
            self.constants_spec = [InputSpec(shape=np.shape(c)) for c in constants]
        if initial_state is not None and not self.built:
            self.state_spec = map_structure(lambda s: InputSpec(shape=np.shape(s)),
                                            initial_state)
        if initial_state is not None:
            kwargs["initial_state"] = initial_state
        if constants is not None:
            kwargs["constants"] = constants
        try:
            return super().__call__(inputs, **kwargs)
        except BaseException:
            self._num_constants, self.state_spec, self.constants_spec = saved
            raise

    def _cast_inputs(self, inputs, dtype=None):
        return inputs  # call() casts, integers included

    def _resolve_initial_state(self, inputs, initial_state, dtype, batch):
        """The call's flat starting states, and their structure: the ``initial_state``
        given (a stateful layer, as tf-keras's, runs from it only while its stored
        states are all zero), the cell's initial states (``get_initial_state``, whose
        structure tf-keras's final states take), or None for a stateful layer's stored
        states."""
        if self.stateful:
            if self._states is None:  # `states = None` was set: from zeros again
                self.reset_states()
            given = False
            if initial_state is not None:
                flat_states = self._states or []
                given = not any(np.count_nonzero(s) for s in flat_states)
                flat = flatten(initial_state) if given else flat_states
            else:
                flat = self._states
            return ([np.asarray(s).astype(dtype, copy=False) for s in flat],
                    _top_level(initial_state) if given else None)
        if initial_state is None:
            initial = self.get_initial_state(inputs)
            return [np.asarray(s) for s in flatten(initial)], initial
        return [_as_numeric_array(s, "initial_state").astype(dtype, copy=False)
                for s in flatten(initial_state)], _top_level(initial_state)

    def _check_states(self, states, batch, initial_state):
        expected = self._flat_state_shapes
        if initial_state is not None:
            # tf-keras counts the states at the top level (len(layer.states)): a nested
            # state_size takes one entry per top-level state, not its flattened leaves.
            given = _top_level(initial_state)
            size = self.cell.state_size
            top = len(children(size)) if is_nested(size) else 1
            if len(given) != top:
                raise ValueError(f"Layer has {top} states but was passed {len(given)} "
                                 f"initial states. Received: initial_state={initial_state}")
        if len(states) != len(expected):
            raise ValueError(f"Layer has {len(expected)} states but was passed "
                             f"{len(states)} initial states. "
                             f"Received: initial_state={initial_state}")
        for i, (s, shape) in enumerate(zip(states, expected)):
            if s.shape != (batch,) + shape:
                raise ValueError(
                    f"An `initial_state` was passed that is not compatible with "
                    f"`cell.state_size`: state {i} has shape {s.shape}, expected "
                    f"{(batch,) + shape} (batch, *state_size). Received `state_spec`="
                    f"{[tuple(x.shape) for x in states]}; however `cell.state_size` is "
                    f"{self.cell.state_size}")

    def _check_mask(self, mask, shape):
        # A list of per-input masks uses the first one (tf-keras); a plain nested list
        # of numbers is one mask.
        if isinstance(mask, (list, tuple)) and not _is_scalar_nest(mask):
            mask = (flatten(mask) or [None])[0]
        if mask is None:
            return None
        try:
            mask = np.asarray(to_host_array(mask))
        except ValueError as err:  # ragged nested lists
            raise ValueError(f"Argument `mask` must be an array of shape {shape[:2]}. "
                             f"Received a value numpy cannot read as one: {err}") from None
        expected = shape[:2]
        if mask.ndim == 3 and mask.shape[2] == 1:  # tf-keras broadcasts it over units
            mask = mask[..., 0]
        if mask.shape != expected:
            layout = "[time, batch]" if self.time_major else "[batch, time]"
            raise ValueError(f"Argument `mask` must have shape {expected} {layout} to match "
                             f"the inputs of shape {shape}. Received: mask.shape="
                             f"{mask.shape}")
        if mask.dtype.kind not in "biuf":
            raise TypeError(f"Argument `mask` must be boolean or numeric. Received dtype "
                            f"{mask.dtype}.")
        return mask.astype(bool)

    def _compute_dtype(self):
        """The dtype the recurrence runs in: float16 runs in float32 (numba has no
        float16 arithmetic) and the outputs are cast back, see :meth:`call`."""
        from ..engine.dtype_policy import check_floating, numpy_compute_dtype
        check_floating(self)
        dtype = numpy_compute_dtype(self.dtype_policy) or np.dtype("float32")
        return np.dtype("float32") if dtype == np.float16 else dtype

    def _prepare_input(self, x, index, dtype):
        """One input array checked (numeric, rank >= 3) and cast to ``dtype`` (host
        arrays only). Returns ``(array, on_device)``."""
        on_device = is_device_array(x)
        x = x if on_device else _as_numeric_array(x, "inputs")
        if on_device and np.dtype(x.dtype).kind not in "biuf":
            raise TypeError(f"Argument `inputs` must be a numeric array. Received a device "
                            f"array of dtype {x.dtype} with shape {x.shape}.")
        self._check_rank(index, x.shape)
        # tf-keras autocasts floating inputs to the compute dtype: under a float16
        # policy they are rounded to float16 (then computed in float32, see call)
        half = (self.compute_dtype == "float16" and np.dtype(x.dtype).kind == "f"
                and np.dtype(x.dtype) != np.float16)
        if half and on_device:
            from ..kernels.cuda import as_device_array, to_device
            if as_device_array(x).is_c_contiguous():  # the projection reads it in place
                from ..kernels.cuda_feedforward import cast
                return cast(as_device_array(x), np.float16), True
        if half:  # on the host (and a strided device view: rare)
            with np.errstate(over="ignore"):  # (to inf, as tf.cast)
                x = np.asarray(to_host_array(x)).astype(np.float16)
            if on_device:
                return to_device(x), True
        if not on_device:
            x = self._round_to_cell_dtype(x.astype(dtype, copy=False))
        elif self._narrow_cell_dtype(np.dtype(x.dtype)) is not None:
            # rare (a float64 list of cells fed float64 device data): rounded on the host
            from ..kernels.cuda import to_device
            x = to_device(self._round_to_cell_dtype(np.asarray(to_host_array(x))))
        return x, on_device

    def _narrow_cell_dtype(self, dtype):
        """The compute dtype of a list of cells (tf-keras's float32 StackedRNNCells)
        where it is a float narrower than ``dtype``, else None."""
        from .stacked_rnn_cells import StackedRNNCells
        if not isinstance(self.cell, StackedRNNCells) or dtype.kind != "f":
            return None
        narrow = self.cell._floating_compute_dtype()
        return narrow if narrow is not None and narrow.itemsize < dtype.itemsize else None

    def _round_to_cell_dtype(self, x):
        """``x`` with the precision of the cell's compute dtype where that is narrower.

        tf-keras calls a Layer cell through its ``__call__``, which casts each step's
        input to the cell's compute dtype. So ``RNN([cells], dtype="float64")``, whose
        list tf-keras wraps in a ``StackedRNNCells`` of the default (float32) policy,
        sees its inputs rounded to float32 at every step, although its cells compute
        in float64: numbarnn rounds them the same way, once for the whole sequence.
        (Other narrower cells fail in tf-keras, on a float32 by float64 product or
        sum; numbarnn runs them without rounding.)
        """
        narrow = self._narrow_cell_dtype(x.dtype)
        if narrow is None:
            return x
        with np.errstate(over="ignore"):  # tf's cast: beyond float32's range is inf
            return self.cell._cast_inputs(x, narrow).astype(x.dtype)  # the cell's own

    def _prepare_inputs(self, inputs, dtype):
        """The inputs (an array, or a tuple/namedtuple nest of them) checked and cast.

        Returns
        -------
        inputs : array or nest of arrays, like ``inputs``
        first : array
            The first flattened input: batch size, time steps and mask shape come from it.
        on_device : bool
            Whether any input is a device array.
        """
        if not is_nested(inputs):
            x, on_device = self._prepare_input(inputs, 0, dtype)
            return x, x, on_device
        leaves = [self._prepare_input(x, i, dtype) for i, x in enumerate(flatten(inputs))]
        first = leaves[0][0]
        for i, (x, _) in enumerate(leaves):
            if tuple(x.shape[:2]) != tuple(first.shape[:2]):
                raise ValueError(
                    f"All nested inputs of layer \"{self.name}\" must share the batch and "
                    f"time axes: input 0 has shape {tuple(first.shape)}, input {i} has "
                    f"shape {tuple(x.shape)}.")
        return (pack_sequence_as(inputs, [x for x, _ in leaves]), first,
                any(d for _, d in leaves))

    def call(self, inputs, mask=None, training=None, initial_state=None, constants=None):
        """Run the recurrence. See the class docstring for the semantics.

        ``inputs`` may be a tuple or namedtuple of arrays ``[batch, time, ...]``: the cell
        then gets the same structure at each step, and the generic Python loop runs it.
        """
        dtype = self._compute_dtype()
        nested = is_nested(inputs)
        x, first, on_device = self._prepare_inputs(inputs, dtype)
        batch = first.shape[self._batch_axis()]
        mask = self._check_mask(mask, first.shape)
        states, structure = self._resolve_initial_state(first, initial_state, dtype,
                                                         batch)
        # a stateful layer running from its stored states ignores `initial_state`
        # unchecked, as tf-keras's (its count too)
        from_given = initial_state is not None and structure is not None
        self._check_states(states, batch, initial_state if from_given else None)
        for layer in ([self.cell] + list(getattr(self.cell, "_flatten_layers",
                                                 lambda: [])())):
            if hasattr(layer, "reset_dropout_mask"):
                layer.reset_dropout_mask()
                layer.reset_recurrent_dropout_mask()
        if constants is not None and not accepts(self.cell.call, "constants",
                                                  var_keyword=False):
            raise ValueError(f"RNN cell {self.cell} does not support constants. "
                             f"Received: constants={constants}")
        if first.shape[1 - self._batch_axis()] == 0:
            raise ValueError(f"Argument `inputs` must have at least one timestep. "
                             f"Received: inputs.shape={first.shape}")
        # nested inputs always run in the generic Python loop
        engine = "python" if nested else "cuda" if on_device else get_device()
        levels = None
        # a cell stepped through its __call__ (input_spec, activity regularizer) runs in
        # the generic loop, which calls it so
        through_call = steps_through_call(self.cell)
        if (engine != "python" and constants is None and not through_call
                and hasattr(self.cell, "_fused_levels")):
            levels = self.cell._fused_levels(batch, dtype, bool(training))
            if levels is not None and len(levels) != len(states):
                levels = None
        # tf-keras's unrolled loop (see the class docstring): carry, then zero by the
        # mask in input order
        unrolled_quirk = (self.unroll and self.go_backwards and self.zero_output_for_mask
                          and self.return_sequences and mask is not None)
        zero_output = self.zero_output_for_mask and not unrolled_quirk
        step = getattr(self.cell, "compiled_step", None)
        # compiled_step has no training argument: a training call of a cell whose call
        # takes one (dropout...) runs the call; nor does it say its output's width: a
        # cell without an output_size (AbstractRNNCell's raises) runs the call too.
        if (levels is None and step is not None and engine == "cpu" and constants is None
                and len(states) == 1 and states[0].ndim == 2
                and not (training and accepts(self.cell.call, "training"))
                and _declares_output_size(self.cell) and not through_call):
            from ..kernels.compiled_step import run_user_step
            params = (self.cell.compiled_params() if hasattr(self.cell, "compiled_params")
                      else tuple(w.value().astype(dtype, copy=False)
                                 for w in getattr(self.cell, "weights", [])))
            if not isinstance(params, (tuple, list)):
                # tuple() of one array would split it into its rows: wrong numbers
                raise TypeError(f"The cell {type(self.cell).__name__}'s compiled_params() "
                                "must return a tuple (or list) of the step's parameters, "
                                f"e.g. `(array,)` for one. Received: {type(params).__name__}")
            output, state = run_user_step(
                step, tuple(params), x, mask, states[0], self.go_backwards,
                zero_output, self.return_sequences, self.time_major,
                state_shapes(self._output_size())[0][0])
            new_states = [state]
        elif levels is not None:
            output, new_states = kernels.run_stack(
                levels, x, mask, states, go_backwards=self.go_backwards,
                zero_output_for_mask=zero_output,
                return_sequences=self.return_sequences, time_major=self.time_major,
                engine=engine, packed=self._packed_weights(levels, dtype, engine),
                dtype=dtype, layer_name=self.name,
                # (a call that neither returns nor keeps its states gets none)
                return_states=bool(self.return_state or self.stateful))
        elif on_device:
            # No CUDA kernel for this cell: run on the host, hand back device arrays.
            from ..kernels.cuda import to_device
            host = map_structure(lambda a: np.asarray(to_host_array(a)).astype(dtype), x)
            output, new_states = self._python_loop(host, mask, training, states, constants,
                                                   zero_output)
            output = map_structure(to_device, output)
            new_states = [to_device(s) for s in new_states]
        else:
            output, new_states = self._python_loop(x, mask, training, states, constants,
                                                   zero_output)
        if unrolled_quirk:
            output = map_structure(lambda o: _zero_where_masked(o, mask), output)
        if self.stateful:
            self._store_states(new_states)
        out_dtype = np.dtype(self.compute_dtype) if self.compute_dtype == "float16" else None
        if out_dtype is not None:  # computed in float32, rounded once (on the device too)
            def round_half(o):
                if on_device:
                    from ..kernels.cuda_feedforward import cast
                    return cast(o, out_dtype)
                return o.astype(out_dtype)
            output = map_structure(round_half, output)
            new_states = [round_half(s) for s in new_states]
        if self.return_state:
            if structure is not None:
                # as tf-keras's backend.rnn: the final states come back in the
                # structure of the initial states the call ran from, given or the
                # cell's own ([[h1], [h2]] gives [h1'], [h2']; a stateful layer's
                # stored states come back in the state_size's)
                packed = pack_sequence_as(structure, new_states)
            elif is_nested(self.cell.state_size):
                packed = pack_sequence_as(self.cell.state_size, new_states)
            else:
                packed = new_states
            # tf-keras `to_list(output) + states`: a list output (nested) is spread
            head = output if isinstance(output, list) else [output]
            return head + list(packed)
        return output

    def _packed_weights(self, levels, dtype, engine):
        from ..kernels import plan
        weights = getattr(self.cell, "_fused_weights", lambda: [])()
        if not weights:  # (nothing to tell one set of weights from another by)
            return plan.pack(levels, dtype)
        # The activations and residual flags are packed too, and may be set after a call.
        return self._packed_cache.get(
            weights, lambda: plan.pack(levels, dtype), np.dtype(dtype), engine,
            tuple((s.activation, bool(s.residual)) for s in levels))

    def _python_loop(self, x, mask, training, states, constants, zero_output_for_mask):
        """Run the cell's ``call`` step by step (:func:`numbarnn.kernels.rnn`); ``x`` may
        be nested, and so may the output (it keeps the structure the cell returns)."""
        cell = self.cell
        call = cell_step_function(cell, layer_call=True)
        kwargs = cell_step_kwargs(cell, training)
        n_constants = len(constants) if constants else 0
        structure = self.cell.state_size

        def step(x_t, flat):
            if n_constants:
                flat, consts = flat[:-n_constants], flat[-n_constants:]
                kwargs["constants"] = consts
            # a tuple, as tf-keras's backend.rnn hands the top-level cell its states
            nested = tuple(pack_sequence_as(structure, flat) if is_nested(structure)
                           else flat)
            return call(x_t, nested, **kwargs)  # kernels.rnn checks what it returns
        name = getattr(cell, "name", None)  # cells need not be Layers
        who = (f'The cell "{name}" ({type(cell).__name__})' if name
               else f"The cell {type(cell).__name__}")
        # Sublayers the cell builds in its first step are named under it, as in
        # tf-keras (which calls the cell's __call__). The steps compute as tf ops do,
        # without numpy's floating-point warnings (a user cell's own numpy too).
        with name_scope(name or None), ieee_arithmetic():
            last, outputs, new_states = kernels.rnn(
                step, x, states, go_backwards=self.go_backwards, mask=mask,
                constants=constants, unroll=self.unroll, time_major=self.time_major,
                zero_output_for_mask=zero_output_for_mask,
                return_all_outputs=self.return_sequences,
                step_name=f'{who} of layer "{self.name}"')
        dtype = flatten(x)[0].dtype

        def cast(a):
            return np.asarray(a).astype(dtype, copy=False)
        output = outputs if self.return_sequences else last
        return map_structure(cast, output), [cast(s) for s in new_states]

    # -- config --------------------------------------------------------------------
    def get_config(self):
        config = {"return_sequences": self.return_sequences,
                  "return_state": self.return_state, "go_backwards": self.go_backwards,
                  "stateful": self.stateful, "unroll": self.unroll,
                  "time_major": self.time_major}
        if self._num_constants:
            config["num_constants"] = self._num_constants
        if self.zero_output_for_mask:
            config["zero_output_for_mask"] = True
        config["cell"] = serialization.serialize(self.cell)
        return {**super().get_config(), **config}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        cell = serialization.deserialize(config.pop("cell"), custom_objects=custom_objects)
        num_constants = config.pop("num_constants", 0)
        layer = cls(cell, **config)
        layer._num_constants = num_constants
        return layer
