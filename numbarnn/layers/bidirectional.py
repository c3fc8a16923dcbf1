"""Bidirectional (tf-keras ``layers/rnn/bidirectional.py``): a recurrent layer run over the
sequence in both directions, the two results merged."""
import copy

import numpy as np

from .. import backend
from ..engine import serialization
from ..engine.base_layer import Layer
from ..engine.call_context import name_scope
from ..engine.call_args import accepts
from ..engine.input_spec import InputSpec
from ..kernels.cuda_support import is_device_array, to_host_array
from .rnn import standardize_args
from .rnn_utils import TensorShape, map_structure

__all__ = ["Bidirectional"]

MERGE_MODES = ("sum", "mul", "ave", "concat", None)


def _copy_from_config(layer, go_backwards=False):
    """A new layer built from ``layer``'s config (no weights, no state), its direction
    flipped for ``go_backwards``; the classes of its cells are handed in as
    ``custom_objects``, as tf-keras does, so that a user cell needs no registration."""
    config = layer.get_config()
    if go_backwards:
        if "go_backwards" not in config:  # tf-keras's KeyError, saying why
            raise KeyError(f"'go_backwards': Bidirectional wraps a recurrent layer (with "
                           f"a `go_backwards` option, such as SimpleRNN or RNN). Received: "
                           f"layer={layer}")
        config["go_backwards"] = not config["go_backwards"]
    if not accepts(type(layer).from_config, "custom_objects", var_keyword=False):
        return type(layer).from_config(config)
    custom_objects = {}
    cell = getattr(layer, "cell", None)
    if cell is not None:
        custom_objects[type(cell).__name__] = type(cell)
        for inner in getattr(cell, "cells", []):  # StackedRNNCells
            custom_objects[type(inner).__name__] = type(inner)
    return type(layer).from_config(config, custom_objects=custom_objects)


def _merge(mode, y, y_rev):
    """The two directions' outputs combined as ``merge_mode`` says (a pair for None)."""
    if mode == "concat":
        return backend.concatenate([y, y_rev])
    if mode == "sum":
        return y + y_rev
    if mode == "ave":
        return (y + y_rev) / 2
    if mode == "mul":
        return y * y_rev
    return [y, y_rev]


def _device_pair(mode, y, y_rev):
    """The directions' outputs as numba device arrays where the device merge takes
    them (one floating dtype, C-contiguous, of two or three dimensions, of one shape but
    the units for ``"concat"``), else None: they merge on the host (whose errors name a
    shape mismatch)."""
    if not (is_device_array(y) and is_device_array(y_rev)):
        return None
    from ..kernels.cuda import as_device_array
    y, y_rev = as_device_array(y), as_device_array(y_rev)
    same = y.shape[:-1] == y_rev.shape[:-1] if mode == "concat" else y.shape == y_rev.shape
    ok = (same and y.dtype == y_rev.dtype and y.dtype in (np.float16, np.float32, np.float64)
          and y.ndim in (2, 3)
          and y.is_c_contiguous() and y_rev.is_c_contiguous())
    return (y, y_rev) if ok else None


class Bidirectional(Layer):
    """Run a recurrent layer forwards and backwards over the sequence and merge the two
    outputs (tf-keras ``Bidirectional``).

    Parameters
    ----------
    layer : Layer
        The recurrent layer (:class:`SimpleRNN`, :class:`RNN`, or a Layer with
        ``go_backwards``, ``return_sequences``, ``return_state`` and ``stateful``
        attributes and a ``get_config`` / ``from_config``). It is not run itself: the
        forward layer is a copy made from its config, named ``forward_<name>``.
    merge_mode : {"concat", "sum", "mul", "ave", None}
        How the forward and backward outputs combine; ``None`` returns both,
        ``[forward, backward]``.
    weights : list of arrays, optional
        Accepted and, as in tf-keras, not applied: tf-keras stores the first half on
        the forward layer and the second on the backward one as ``initial_weights``,
        an attribute nothing reads. Call :meth:`set_weights` once built instead.
    backward_layer : Layer, optional
        The layer that runs backwards (its ``go_backwards`` must differ from
        ``layer``'s, and ``stateful``, ``return_sequences`` and ``return_state`` must
        match). It is used itself and renamed ``backward_<name>``, as in tf-keras. By
        default, a copy of ``layer`` with ``go_backwards`` flipped, named
        ``backward_<name>``.
    **kwargs
        Base Layer arguments (``name``, ``dtype``, ``trainable``, ``input_shape``...).

    Raises
    ------
    ValueError
        If ``layer`` or ``backward_layer`` is not a Layer, ``merge_mode`` is not one of
        the modes, or the two layers do not match (same ``go_backwards``, or another
        ``stateful``, ``return_sequences`` or ``return_state``).

    Notes
    -----
    Call arguments are the wrapped layer's: ``training``, ``mask``,
    ``initial_state`` (forward states first, then backward ones: the list is split in
    halves), ``constants`` (given to both layers). With ``return_sequences`` the
    backward output is reversed along time (axis 1, or 0 with ``time_major``) before
    merging, so that both are in input order; with ``return_state`` the result is
    ``[output, *forward_states, *backward_states]`` (``[forward, backward, *states]``
    for ``merge_mode=None``).

    As in tf-keras: both layers output zeros at masked steps when they return
    sequences (``zero_output_for_mask`` is set to ``return_sequences`` on each); the
    layer's dtype policy is its own (default: the global one), not the wrapped layer's,
    so ``Bidirectional(SimpleRNN(4, dtype="float64"))`` rounds its inputs to float32
    first; ``trainable`` defaults to the wrapped layer's; ``get_config()["layer"]`` is
    the config of the layer given (its name without ``forward_``), and
    ``"backward_layer"`` the given backward layer's config as it was before it was
    renamed.

    Unlike tf-keras, whose eager call refuses numpy arrays as ``initial_state``
    (it wants tensors there), numpy states are taken, like tf tensors.

    Examples
    --------
    >>> import numpy as np
    >>> import numbarnn as nr
    >>> x = np.ones((2, 5, 3), "float32")
    >>> layer = nr.Bidirectional(nr.SimpleRNN(4, return_sequences=True, name="rnn"),
    ...                          name="bi")
    >>> layer(x).shape
    (2, 5, 8)
    >>> layer.weights[0].name
    'bi/forward_rnn/simple_rnn_cell/kernel:0'
    """

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None,
                 **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError("Please initialize `Bidirectional` layer with a "
                             f"`tf.keras.layers.Layer` instance. Received: {layer}")
        if backward_layer is not None and not isinstance(backward_layer, Layer):
            raise ValueError("`backward_layer` need to be a `tf.keras.layers.Layer` "
                             f"instance. Received: {backward_layer}")
        if merge_mode not in MERGE_MODES:
            raise ValueError(f"Invalid merge mode. Received: {merge_mode}. Merge mode "
                             'should be one of {"sum", "mul", "ave", "concat", None}')
        super().__init__(**kwargs)
        # Not tracked (its weights are not this layer's): the two copies run instead.
        object.__setattr__(self, "layer", layer)
        # From the config, so that the copy carries no weights or state of `layer`.
        self.forward_layer = _copy_from_config(layer)
        if backward_layer is None:
            self.backward_layer = _copy_from_config(layer, go_backwards=True)
        else:
            self.backward_layer = backward_layer
            # its config before the renaming below, which is what tf-keras saves
            self._backward_layer_config = serialization.serialize(backward_layer)
        self.forward_layer._name = "forward_" + self.forward_layer.name
        self.backward_layer._name = "backward_" + self.backward_layer.name
        self._verify_layer_config()
        for direction in (self.forward_layer, self.backward_layer):
            if getattr(direction, "zero_output_for_mask", None) is not None:
                direction.zero_output_for_mask = direction.return_sequences
        self.merge_mode = merge_mode
        if weights:
            half = len(weights) // 2
            self.forward_layer.initial_weights = weights[:half]
            self.backward_layer.initial_weights = weights[half:]
        self.stateful = layer.stateful
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.supports_masking = True
        self._trainable = kwargs.get("trainable", layer.trainable)  # not propagated
        self._num_constants = 0
        self.input_spec = layer.input_spec

    def _saved_children(self):
        # tf-keras's files reach the wrapped layer (never built: no variables) as
        # `layer`, first, then the two that run
        return [("layer", self.layer)] + super()._saved_children()

    def _verify_layer_config(self):
        forward, backward = self.forward_layer, self.backward_layer
        if forward.go_backwards == backward.go_backwards:
            raise ValueError("Forward layer and backward layer should have different "
                             "`go_backwards` value.forward_layer.go_backwards = "
                             f"{forward.go_backwards},backward_layer.go_backwards = "
                             f"{backward.go_backwards}")
        for attribute in ("stateful", "return_sequences", "return_state"):
            forward_value = getattr(forward, attribute)
            backward_value = getattr(backward, attribute)
            if forward_value != backward_value:
                raise ValueError(
                    "Forward layer and backward layer are expected to have the same "
                    f'value for attribute "{attribute}", got "{forward_value}" for '
                    f'forward layer and "{backward_value}" for backward layer')

    # -- shapes and masks ----------------------------------------------------------
    def compute_output_shape(self, input_shape):
        """The merged output's shape (a list of shapes with ``return_state`` or
        ``merge_mode=None``), as tf-keras's method gives it: from the forward layer's
        shape alone, its units doubled for ``"concat"`` and its state shapes repeated
        for the backward layer, also for a ``backward_layer`` of other units. (A model
        takes the call's shape, forward units + backward units: see
        ``_call_output_shape``.)"""
        forward, states = self._split_states(
            self.forward_layer.compute_output_shape(input_shape))
        forward = TensorShape(forward)
        states = [TensorShape(s) for s in states]
        return self._merged_shapes(forward, TensorShape(forward), states,
                                   [TensorShape(s) for s in states])

    def _call_output_shape(self, input_shape):
        """The shape of the call's merged output: each layer's own shapes, so a
        ``backward_layer`` of other units adds its own units for ``"concat"`` (and for
        the other merge modes needs the forward layer's units, as tf-keras's model
        building does)."""
        forward, forward_states = self._split_states(
            self.forward_layer._call_output_shape(input_shape))
        backward, backward_states = self._split_states(
            self.backward_layer._call_output_shape(input_shape))
        if (self.merge_mode not in ("concat", None)
                and None not in (forward[-1], backward[-1])
                and forward[-1] != backward[-1]):
            raise ValueError(f"Dimensions must be equal, but are {forward[-1]} and "
                             f"{backward[-1]}: merge_mode=\"{self.merge_mode}\" of "
                             f"layer \"{self.name}\" combines the forward and backward "
                             "outputs element by element, so both layers need the same "
                             "units.")
        return self._merged_shapes(forward, backward, forward_states, backward_states)

    def _split_states(self, shape):
        """A direction's output shape and its state shapes (none without
        ``return_state``)."""
        if self.return_state:
            return shape[0], list(shape[1:])
        return shape, []

    def _merged_shapes(self, forward, backward, forward_states, backward_states):
        """The merged output's shape from the two directions' output and state shapes."""
        if self.merge_mode == "concat":
            units = (None if forward[-1] is None or backward[-1] is None
                     else forward[-1] + backward[-1])
            output_shape = TensorShape(tuple(forward)[:-1] + (units,))
        elif self.merge_mode is None:
            output_shape = [forward, backward]
        else:
            output_shape = forward
        if not self.return_state:
            return output_shape
        head = output_shape if self.merge_mode is None else [output_shape]
        return head + forward_states + backward_states

    def compute_mask(self, inputs, mask):
        if isinstance(mask, list):
            mask = mask[0]
        if self.return_sequences:
            output_mask = mask if self.merge_mode else [mask, mask]
        else:
            output_mask = None if self.merge_mode else [None, None]
        if not self.return_state:
            return output_mask
        state_mask = [None for _ in self.forward_layer.states] * 2
        head = output_mask if isinstance(output_mask, list) else [output_mask]
        return head + state_mask

    # -- build and call ------------------------------------------------------------
    def build(self, input_shape):
        for direction in (self.forward_layer, self.backward_layer):
            with name_scope(direction.name):
                direction.build(input_shape)
            direction.built = True
        self._build_input_shape = input_shape
        self.built = True

    def _check_symbolic_input_shape(self, input_shape):
        """The checks of tf-keras's call on a symbolic input, for each direction (see
        :meth:`RNN._check_symbolic_input_shape`)."""
        for direction in (self.forward_layer, self.backward_layer):
            check = getattr(direction, "_check_symbolic_input_shape", None)
            if check is not None:
                check(input_shape)

    def __call__(self, inputs, initial_state=None, constants=None, **kwargs):
        inputs, initial_state, constants = standardize_args(
            inputs, initial_state, constants, self._num_constants)
        if initial_state is None and constants is None:
            return super().__call__(inputs, **kwargs)
        # A call that fails leaves the layers as they were (see RNN.__call__).
        directions = (self.forward_layer, self.backward_layer)
        saved = (self._num_constants, [(d.__dict__.get("state_spec"),
                                         d.__dict__.get("_num_constants"))
                                        for d in directions])
        try:
            if initial_state is not None:
                if len(initial_state) % 2 > 0:
                    raise ValueError(
                        "When passing `initial_state` to a Bidirectional RNN, the state "
                        "should be a list containing the states of the underlying RNNs. "
                        f"Received: {initial_state}")
                kwargs["initial_state"] = initial_state
                # checked against the state sizes when the layers build
                specs = map_structure(lambda s: InputSpec(shape=np.shape(s)),
                                      initial_state)
                half = len(initial_state) // 2
                self.forward_layer.state_spec = specs[:half]
                self.backward_layer.state_spec = specs[half:]
            if constants is not None:
                kwargs["constants"] = constants
                self._num_constants = len(constants)
                for direction in directions:
                    direction._num_constants = self._num_constants
            return super().__call__(inputs, **kwargs)
        except BaseException:
            self._num_constants = saved[0]
            for direction, (spec, count) in zip(directions, saved[1]):
                direction.state_spec = spec
                if count is not None:
                    direction._num_constants = count
            raise

    def call(self, inputs, training=None, mask=None, initial_state=None, constants=None):
        """Run both layers on ``inputs`` and merge their outputs."""
        kwargs = {}
        # what the wrapped layer's call takes, as tf-keras asks it (has_arg)
        for name, value in (("training", training), ("mask", mask),
                            ("constants", constants)):
            if accepts(self.layer.call, name):
                kwargs[name] = value
        if accepts(self.layer.call, "initial_state"):
            forward_state = backward_state = None
            if initial_state is not None:
                half = len(initial_state) // 2
                forward_state, backward_state = initial_state[:half], initial_state[half:]
            y = self.forward_layer(inputs, initial_state=forward_state, **kwargs)
            y_rev = self.backward_layer(inputs, initial_state=backward_state, **kwargs)
        else:
            y = self.forward_layer(inputs, **kwargs)
            y_rev = self.backward_layer(inputs, **kwargs)
        states = []
        if self.return_state:
            states = list(y[1:]) + list(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        # the backward sequence comes in processing order: back to input order
        time_axis = ((0 if getattr(self.forward_layer, "time_major", False) else 1)
                     if self.return_sequences else None)
        pair = _device_pair(self.merge_mode, y, y_rev)
        if pair is not None:
            from ..kernels.cuda import merge_directions
            output = merge_directions(*pair, self.merge_mode, time_axis)
        else:
            on_device = is_device_array(y)
            if on_device:  # (other dtypes or layouts) merged on the host, handed back
                y, y_rev = np.asarray(to_host_array(y)), np.asarray(to_host_array(y_rev))
            if time_axis is not None:
                y_rev = backend.reverse(y_rev, time_axis)
            output = _merge(self.merge_mode, y, y_rev)
            if on_device:
                from ..kernels.cuda import to_device
                output = map_structure(to_device, output)
        if not self.return_state:
            return output
        head = output if self.merge_mode is None else [output]
        return head + states

    @property
    def constraints(self):
        """The wrapped layers' ``constraints`` mappings merged (tf-keras's property):
        empty for the recurrent layers, which have none."""
        merged = {}
        if hasattr(self.forward_layer, "constraints"):
            merged.update(self.forward_layer.constraints)
            merged.update(self.backward_layer.constraints)
        return merged

    def reset_states(self, states=None):
        """Reset both layers' states to zeros, or to ``states`` (the forward layer's
        first, then the backward layer's: split in halves).

        Raises
        ------
        AttributeError
            If the layer is not stateful.
        ValueError
            If ``states`` is not a list or tuple, or from the layers' own checks.
        """
        if not self.stateful:
            raise AttributeError("Layer must be stateful.")
        if states is None:
            self.forward_layer.reset_states()
            self.backward_layer.reset_states()
            return
        if not isinstance(states, (list, tuple)):
            raise ValueError("Unrecognized value for `states`. Expected `states` to be "
                             f"list or tuple. Received: {states}")
        half = len(states) // 2
        self.forward_layer.reset_states(states[:half])
        self.backward_layer.reset_states(states[half:])

    # -- config --------------------------------------------------------------------
    def get_config(self):
        config = {**super().get_config(), "layer": serialization.serialize(self.layer),
                  "merge_mode": self.merge_mode}
        if self._num_constants:
            config["num_constants"] = self._num_constants
        if hasattr(self, "_backward_layer_config"):
            config["backward_layer"] = self._backward_layer_config
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """The layer a :meth:`get_config` dict (numbarnn's or tf-keras's) describes;
        constructor errors come through as they are, as tf-keras's."""
        config = copy.deepcopy(config)
        num_constants = config.pop("num_constants", 0)
        config["layer"] = serialization.deserialize(config["layer"],
                                                    custom_objects=custom_objects)
        backward_config = config.pop("backward_layer", None)
        if backward_config is not None:
            config["backward_layer"] = serialization.deserialize(
                backward_config, custom_objects=custom_objects)
        layer = cls._from_plain_config(config, custom_objects)
        layer._num_constants = num_constants
        return layer
