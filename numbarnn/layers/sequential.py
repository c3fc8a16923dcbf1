"""Sequential: a linear stack of layers with weights, config and a summary."""
import threading
import warnings

import numpy as np

from ..engine.base_layer import Layer, unique_variables
from ..engine.call_args import accepts
from ..engine.input_spec import InputSpec, assert_input_compatibility, flatten_leaves
from ..engine.keras_mask import mask_of, with_mask
from ..engine.keras_tensor import KerasTensor, is_keras_tensor
from ..engine import serialization
from ..kernels.cuda_support import is_device_array
from .input_layer import InputLayer
from .rnn_utils import TensorShape, is_shape, map_structure
from .summary import print_summary

__all__ = ["Sequential"]


def _as_shape(input_shape):
    """``input_shape`` as a tuple; a string, a dict or a nest is a clear TypeError."""
    if not is_shape(input_shape):
        raise TypeError("Argument `input_shape` of a Sequential model must be one shape "
                        "(a tuple of integers or None). Received: "
                        f"input_shape={input_shape!r}")
    return tuple(input_shape)


_SINGLE_OUTPUT = ("All layers in a Sequential model should have a single output tensor. "
                  "For multi-output layers, use the functional API.")


class _SymbolicInput:
    """What an InputSpec check, or relaxing a model's input shape, needs of a
    symbolic input: its shape (None where unknown) and dtype."""

    def __init__(self, shape, dtype):
        self.shape, self.dtype = tuple(shape), dtype


def declared_input_shape(layer):
    """The batch input shape ``layer`` declares (tf-keras's
    ``get_input_shape_and_dtype``): a Sequential's is its InputLayer's, else its first
    layer's."""
    while isinstance(layer, Sequential):
        if layer._input_layer is not None:
            return layer._input_layer._batch_input_shape
        if not layer._stack:
            return None
        layer = layer._stack[0]
    return getattr(layer, "_batch_input_shape", None)


def _is_inferred_input_entry(entry, following):
    """Whether a config entry is the InputLayer tf-keras (and :meth:`get_config`) write
    for a model that no Input started: named ``<first layer>_input``."""
    if not (isinstance(entry, dict) and entry.get("class_name") == "InputLayer"):
        return False
    if not following:  # a model of an Input alone: that Input
        return False
    first = following[0].get("config", {}).get("name") if isinstance(
        following[0], dict) else None
    return first is None or entry.get("config", {}).get("name") == f"{first}_input"


def _as_declared_dtype(inputs, dtype):
    """Data cast to the dtype an Input declared, as tf-keras's functional model
    conforms each input to its Input (``Input(dtype="int32")`` truncates floats).

    Raises
    ------
    TypeError
        For a device array of another dtype (cast it on the device first).
    """
    def cast(x):
        if not hasattr(x, "dtype") or np.dtype(x.dtype) == dtype:
            return x
        if is_device_array(x):
            raise TypeError(f"The model's Input declares dtype {dtype}, but received a "
                            f"device array of dtype {np.dtype(x.dtype)}: cast it on the "
                            "device first (numbarnn casts host arrays only).")
        return np.asarray(x).astype(dtype)

    return map_structure(cast, inputs)


def _single_input(x):
    """tf-keras unpacks a one-element list or tuple of arrays given to a model (its
    call, ``predict``): the structure of a single-input model."""
    if isinstance(x, (list, tuple)) and len(x) == 1 and hasattr(x[0], "shape"):
        return x[0]
    return x


def _unpack_x(data):
    """``x`` of ``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``, a list taken as
    a tuple (tf-keras's ``unpack_x_y_sample_weight``)."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data
    if not 1 <= len(data) <= 3:
        raise ValueError("Data is expected to be in format `x`, `(x,)`, `(x, y)`, or "
                         f"`(x, y, sample_weight)`, found: {data}")
    return data[0]


def _batches_of(x):
    """The items of ``x`` when it is an iterable of batches (a generator, an iterator,
    a ``keras.utils.Sequence``-like object), each ``x`` or a tuple ``(x, y...)`` as
    :meth:`Sequential.predict_step` takes it; None for an array or a list/tuple of
    arrays."""
    if isinstance(x, (np.ndarray, list, tuple, str, bytes, dict)) or hasattr(
            x, "__array__") or hasattr(x, "__cuda_array_interface__") or hasattr(
            x, "shape"):
        return None
    if hasattr(x, "__next__"):
        items = x
    elif hasattr(x, "__len__") and hasattr(x, "__getitem__"):
        items = (x[i] for i in range(len(x)))
    else:
        return None
    return items


def _probe_builds(layer, shape):
    """Whether a call on zeros of ``shape`` builds ``layer``'s sublayers as tf-keras's
    symbolic call would: where every dimension but the batch is known (a sublayer's
    weights may depend on any of them), or, for a recurrent layer, every feature
    dimension (its cells, and their activation layers, see one step: no time axis)."""
    dims = tuple(shape)
    if None not in dims[1:]:
        return True
    recurrent = hasattr(layer, "cell") or hasattr(layer, "forward_layer")
    return recurrent and len(dims) >= 3 and None not in dims[2:]


class Sequential(Layer):
    """A plain stack of layers, each feeding the next (tf-keras ``Sequential``).

    Parameters
    ----------
    layers : list of Layer, optional
    name : str, optional
    """

    _scopes_weight_names = False
    _compute_output_and_mask_jointly = True  # call attaches its last layer's mask

    def __init__(self, layers=None, name=None):
        # tf-keras: "" is the default name; no other keyword (a layer's input_shape,
        # trainable, dtype belong to its layers); a model does not autocast its inputs
        # (each layer casts its own: a float64 model must not see float32 data), only
        # a declared Input's dtype casts them (see call)
        super().__init__(name=name or None, autocast=False)
        self.supports_masking = True  # its output mask is its last layer's
        self._masks = threading.local()  # the output mask of this thread's last call
        self._stack = []
        self._input_layer = None  # an InputLayer (Input) added first, as in tf-keras
        if layers is not None and not isinstance(layers, (list, tuple)):
            layers = [layers]  # one layer, as tf-keras takes it
        for layer in layers or []:
            self.add(layer)

    # copy.deepcopy and pickle: a thread-local cannot be copied; the copy starts fresh.
    def __getstate__(self):
        state = dict(self.__dict__)
        del state["_masks"]
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._masks = threading.local()

    @property
    def layers(self):
        return list(self._stack)

    def _saved_children(self):
        # tf-keras's files reach the layers as `layers`; its InputLayer is not one
        return [("layers", self.layers)] + [
            (name, value) for name, value in super()._saved_children()
            if name not in ("_stack", "_input_layer")]

    def get_layer(self, name=None, index=None):
        """The layer called ``name``, or the one at ``index`` (tf-keras
        ``Model.get_layer``).

        Raises
        ------
        ValueError
            For both or neither argument, an unknown name, or an index out of range.
        """
        if index is not None and name is not None:
            raise ValueError("Provide only a layer name or a layer index. Received: "
                             f"index={index}, name={name}.")
        if index is not None:
            if len(self._stack) <= index:
                raise ValueError(f"Was asked to retrieve layer at index {index} but model "
                                 f"only has {len(self._stack)} layers.")
            return self._stack[index]
        if name is not None:
            for layer in self._stack:
                if layer.name == name:
                    return layer
            raise ValueError(f"No such layer: {name}. Existing layers are: "
                             f"{[layer.name for layer in self._stack]}.")
        raise ValueError("Provide either a layer name or layer index at `get_layer`.")

    def save(self, filepath, overwrite=True, save_format=None, **kwargs):
        """Write the model (config and weights), as tf-keras's ``Model.save``: a
        ``.keras`` archive or legacy ``.h5`` file that tf-keras loads, chosen by the
        name or ``save_format`` (``"keras"`` or ``"h5"``); other names get numbarnn's
        ``.npz`` format. See :func:`numbarnn.saving.save_model` for the arguments and
        errors.
        """
        from ..saving import save_model
        save_model(self, filepath, overwrite=overwrite, save_format=save_format, **kwargs)

    def to_json(self, **kwargs):
        """The model's config as a JSON string, in tf-keras's ``Model.to_json`` layout
        (read back by :func:`numbarnn.saving.model_from_json`, or by tf-keras's
        ``keras.models.model_from_json``); ``kwargs`` go to ``json.dumps``."""
        import json

        from .._registry import plain_config
        return json.dumps({"class_name": type(self).__name__,
                           "config": plain_config(self.get_config()),
                           "backend": "numbarnn"}, **kwargs)

    @property
    def weights(self):
        """Layer by layer, each layer's in its own order, as a tf-keras model's: a
        frozen layer keeps its place (``set_weights`` of a tf-keras model's
        ``get_weights`` lines up).

        Raises
        ------
        ValueError
            Before the model is built (as in tf-keras).
        """
        self._check_weights_created()
        return unique_variables([w for layer in self._stack for w in layer.weights])

    @property
    def trainable_weights(self):
        """As the base Layer's; raises before the model is built (as in tf-keras)."""
        self._check_weights_created()
        return super().trainable_weights

    @property
    def non_trainable_weights(self):
        """As the base Layer's; raises before the model is built (as in tf-keras)."""
        self._check_weights_created()
        return super().non_trainable_weights

    def _check_weights_created(self):
        """tf-keras's error for a model's weight lists before it is built (an empty
        model's too, until it is called)."""
        if not self.built:
            raise ValueError(
                f"Weights for model '{self.name}' have not yet been created. Weights are "
                "created when the model is first called on inputs or `build()` is "
                "called with an `input_shape`.")

    @property
    def stateful(self):
        """Whether a layer of the model is stateful."""
        return any(getattr(layer, "stateful", False) for layer in self._stack)

    def add(self, layer):
        """Append a layer; with a known input shape, build it on the model's output.

        ``layer`` may also be :func:`~numbarnn.Input`'s tensor (or an
        :class:`~numbarnn.InputLayer`), first: it declares the model's input
        shape and dtype and is not one of ``model.layers``.

        Raises
        ------
        TypeError
            If ``layer`` is not a Layer.
        ValueError
            On a duplicate name, an Input after the first layer, or from the layer's
            build; the layer is then not added. The same layer instance added twice is
            a duplicate name too: tf-keras 2.x takes it and then keeps it once in
            ``model.layers`` and in the call, silently.
        """
        if is_keras_tensor(layer):
            if not isinstance(layer._keras_history[0], InputLayer):
                raise TypeError(
                    f"The added layer must be an instance of class Layer or an Input. "
                    f"Received the symbolic tensor {layer!r}: numbarnn has no functional "
                    "API; add the layers themselves.")
            layer = layer._keras_history[0]  # Input(...)'s tensor stands for its InputLayer
        if isinstance(layer, InputLayer):
            self._add_input_layer(layer)
            return
        if not isinstance(layer, Layer):
            raise TypeError("The added layer must be an instance of class Layer. "
                            f"Received: layer={layer} of type {type(layer)}.")
        if self._input_layer is not None and layer.name == self._input_layer.name:
            raise ValueError(f'The name "{layer.name}" is used 2 times in the model. All '
                             "layer names should be unique.")
        if any(layer.name == l.name for l in self._stack):
            raise ValueError(f'All layers added to a Sequential model should have unique '
                             f'names. Name "{layer.name}" is already the name of a layer '
                             "in this model. Update the `name` argument to pass a unique "
                             "name.")
        was_built = self.built
        self._stack.append(layer)
        self.built = False
        # tf-keras builds the model as layers are added once the first layer knows its
        # input shape (so `set_weights` works before a call); a layer that cannot
        # compute its output shape is built on the first call instead.
        known = declared_input_shape(self)
        if known is None and len(self._stack) > 1:
            known = self._build_input_shape  # of an earlier build or call
        if known is not None:
            try:
                self.build(known)
            except Exception:
                # as in tf-keras, a layer that fails on the model's output is not
                # added: the model keeps working with its other layers
                self._stack.pop()
                self.built = was_built
                raise
        self._set_input_spec()

    def _add_input_layer(self, layer):
        if self._stack or self._input_layer is not None:
            raise ValueError("An Input (InputLayer) can only be the first entry of a "
                             f"Sequential model, once. Received: {layer.name!r} after "
                             f"{[l.name for l in self._stack] or [self._input_layer.name]}")
        self._input_layer = layer
        self._set_input_spec()
        if layer._batch_input_shape is not None:  # tf-keras: built, its output the input
            self._build_input_shape = TensorShape(layer._batch_input_shape)
            self.built = True

    def _symbolic_dtype(self):
        """The dtype of the model's input, as its InputLayer would have it."""
        if self._input_layer is not None:
            return self._input_layer.dtype
        return (getattr(self, "_input_dtype", None)
                or (self._stack[0].dtype if self._stack else None) or "float32")

    def _set_input_spec(self):
        """The first layer's declared input shape (batch left free), checked on every
        call as tf-keras's Input layer does."""
        known = declared_input_shape(self)
        self.input_spec = (None if known is None else [InputSpec(
            shape=(None,) + tuple(known[1:]), allow_last_axis_squeeze=True)])

    def _maybe_build(self, inputs):
        if self._input_layer is None and len(flatten_leaves(inputs)) > 1:
            # tf-keras's model without an Input, given several arrays, builds no
            # network of shapes: it calls its layers in turn, the first on all of them
            # (an RNN takes [x, *initial_states]; Dense's input spec refuses two), and
            # each builds itself
            return
        super()._maybe_build(inputs)

    def pop(self):
        """Remove the last layer. Returns None, as tf-keras 2.x's does (Keras 3
        returns the layer).

        Raises
        ------
        TypeError
            If the model has no layers (as in tf-keras).
        """
        if not self._stack:
            raise TypeError("There are no layers in the model.")
        self._stack.pop()
        if not self._stack:  # tf-keras: an empty model is unbuilt, its shape forgotten
            self.built = False
            self._build_input_shape = None
        self._set_input_spec()

    def build(self, input_shape=None):
        """Build every layer from ``input_shape``, each from its predecessor's output
        shape (``None`` dimensions stay unknown: a layer whose feature axis is
        ``None`` raises its own ``ValueError``, as in tf-keras)."""
        if input_shape is None:
            input_shape = declared_input_shape(self)
            if input_shape is None:
                raise ValueError("You must provide an `input_shape` argument.")
        shape = _as_shape(input_shape)
        # the layers see the first layer's declared shape (its batch free), as the
        # model tf-keras builds from it; tf-keras's build then ignores the argument, so
        # the model's input shape (and config) stays the declared one
        declared = declared_input_shape(self)
        if declared is not None and len(declared) == len(shape):
            shape = _as_shape(declared)
        self._build_input_shape = shape
        if self._pass_shapes(tuple(shape), build=True):
            self.built = True

    def _pass_shapes(self, shape, build=False):
        """Take ``shape`` through the layers (``build``: building each, with the checks
        of tf-keras's symbolic call), and give each layer the input and output shape
        tf-keras's ``layer.input_shape`` and ``layer.output_shape`` report for a layer
        of a Sequential model (and the dtype its ``layer.input`` has). False where a
        layer cannot say its output shape: the later layers build on the first call,
        which builds the model."""
        dtype = self._symbolic_dtype()
        for layer in self._stack:
            if build:
                if is_shape(shape):  # the input spec check of tf-keras's symbolic call
                    assert_input_compatibility(
                        layer.input_spec, _SymbolicInput(shape, self._symbolic_dtype()),
                        layer.name)
                if not layer.built:  # (a TensorShape, as a layer called directly gets)
                    layer._build_from_shapes(TensorShape(shape) if is_shape(shape)
                                             else shape)
                if (is_shape(shape) and _probe_builds(layer, shape)
                        and any(not sub.built
                                for sub in layer._flatten_layers(include_self=False))):
                    # tf-keras builds a model by calling each layer on a symbolic
                    # input, which builds the sublayers a layer builds in `call`.
                    try:
                        layer._probe_calls(shape, fills=(1,))
                    except Exception:  # noqa: BLE001 - they build on the first call
                        pass
                # what tf-keras's call on a symbolic input finds (after the build, as
                # there): an unrolled RNN without a time dimension, mismatched widths
                check = getattr(layer, "_check_symbolic_input_shape", None)
                if check is not None:
                    check(shape)
            try:
                out = layer._call_output_shape(shape)
            except NotImplementedError:
                return False
            if not is_shape(out):
                raise ValueError(_SINGLE_OUTPUT)
            layer._node_shapes = (tuple(shape), tuple(out))
            layer._node_input_dtype = dtype
            shape = tuple(out)
            dtype = getattr(layer, "compute_dtype", None) or dtype
        return True

    def __call__(self, inputs, *args, **kwargs):
        # model([x]) and model({"<input name>": x}) are model(x), as in tf-keras
        inputs = _single_input(self._from_input_dict(inputs))
        if not self.built and self._input_layer is None and hasattr(inputs, "dtype"):
            self._input_dtype = np.dtype(inputs.dtype).name  # its inferred Input's dtype
        outputs = super().__call__(inputs, *args, **kwargs)
        self._masks.last = (inputs, self._masks.__dict__.pop("pending", None))
        self._relax_input_shape(inputs)
        return outputs

    def _from_input_dict(self, x):
        """The array of a dict ``x`` keyed by the model's input name (tf-keras warns
        about other keys and ignores them); anything else as it is."""
        names = self.input_names if isinstance(x, dict) and self.built else None
        if not names:
            return x
        if names[0] not in x:
            raise ValueError(f'Missing data for input "{names[0]}". You passed a data '
                             f"dictionary with keys {list(x)}. Expected the following "
                             f"keys: {names}")
        others = [key for key in x if key != names[0]]
        if others:
            warnings.warn(f"Input dict contained keys {others} which did not match any "
                          "model input. They will be ignored by the model.", UserWarning,
                          stacklevel=3)
        return x[names[0]]

    def _relax_input_shape(self, inputs):
        """tf-keras: a model whose first layer declares no input shape keeps the shape
        it was built or first called with, each dimension that a later call changes
        becoming unknown (``(2, 5, 3)`` then ``(3, 5, 3)`` gives ``(None, 5, 3)``)."""
        known = self._build_input_shape
        shape = getattr(inputs, "shape", None)
        if (not self._stack or declared_input_shape(self) is not None
                or not is_shape(known) or shape is None or len(shape) != len(known)):
            return
        relaxed = tuple(k if k == d else None for k, d in zip(known, shape))
        if relaxed != tuple(known):
            self._build_input_shape = TensorShape(relaxed)
            try:  # the layers' shapes for input_shape/output_shape; the call succeeded
                self._pass_shapes(relaxed)
            except Exception:  # a layer that cannot say its shape for None dimensions
                pass

    @property
    def input_shape(self):
        """The model's input shape (tf-keras ``Model.input_shape``): the declared one,
        or the one it was built with, each dimension its calls differ in ``None``.

        Raises
        ------
        AttributeError
            Before the model is built.
        """
        shape = self._build_input_shape if self.built else None
        if not is_shape(shape):
            # (no final full stop: Python may append ". Did you mean ...")
            raise AttributeError(f"The model {self.name!r} has not been built, so it has "
                                 "no input shape yet: give its first layer an "
                                 "`input_shape`, call `build()` or call it on data")
        return tuple(shape)

    @property
    def inputs(self):
        """The model's input as a one-item list of
        ``KerasTensor`` (shape and dtype; its Input's own
        tensor where an Input starts the model), or None before the model is built
        (tf-keras ``Model.inputs``)."""
        if not self.built or not is_shape(self._build_input_shape):
            return None
        if self._input_layer is not None:
            return [self._input_layer._output]
        # tf-keras names the InputLayer it infers "<first layer>_input"; one per
        # shape, so that model.inputs[0] is model.inputs[0]
        key = (tuple(self._build_input_shape), self._symbolic_dtype(),
               f"{self._stack[0].name}_input")
        cached = self.__dict__.get("_inferred_input")
        if cached is None or cached[0] != key:
            inferred = InputLayer(batch_input_shape=key[0], dtype=key[1], name=key[2])
            cached = self._inferred_input = (key, inferred._output)
        return [cached[1]]

    @property
    def outputs(self):
        """The model's output as a one-item list of
        ``KerasTensor`` (the shape of :attr:`output_shape`, the
        last layer's dtype), or None before the model is built (tf-keras
        ``Model.outputs``)."""
        inputs = self.inputs
        if inputs is None:
            return None
        if not self._stack:
            return inputs
        last = self._stack[-1]
        return [KerasTensor(last, self.output_shape,
                            getattr(last, "compute_dtype", None) or inputs[0].dtype)]

    @property
    def input(self):
        """The model's one input tensor (``inputs[0]``).

        Raises
        ------
        AttributeError
            Before the model is built (tf-keras: not connected).
        """
        return self._only("inputs", "input")

    @property
    def output(self):
        """The model's one output tensor (``outputs[0]``).

        Raises
        ------
        AttributeError
            Before the model is built (tf-keras: not connected).
        """
        return self._only("outputs", "output")

    @property
    def input_names(self):
        """The name of the model's input, in a list (tf-keras ``Model.input_names``),
        or None before the model is built."""
        inputs = self.inputs
        return None if inputs is None else [inputs[0].name]

    @property
    def output_names(self):
        """The name of the model's output (its last layer's), in a list, or None
        before the model is built."""
        outputs = self.outputs
        return None if outputs is None else [outputs[0].name]

    def _only(self, attr, what):
        tensors = getattr(self, attr)
        if tensors is None:
            raise AttributeError(f"Layer {self.name} is not connected, no {what} to "
                                 "return: the model is not built yet (give its first "
                                 "layer an `input_shape`, start it with an `Input`, call "
                                 "`build()` or call it on data)")
        return tensors[0]

    @property
    def output_shape(self):
        """The model's output shape for :attr:`input_shape` (tf-keras
        ``Model.output_shape``), a tuple.

        Raises
        ------
        AttributeError
            Before the model is built.
        """
        return tuple(self._call_output_shape(self.input_shape))

    def call(self, inputs, training=None, mask=None):
        x = inputs
        if self._input_layer is not None:
            x = _as_declared_dtype(x, self._input_layer.dtype)
        for layer in self._stack:
            kwargs = {}
            if accepts(layer.call, "training"):
                kwargs["training"] = training
            if mask is not None and accepts(layer.call, "mask"):
                kwargs["mask"] = mask
            out = layer(x, **kwargs)
            if isinstance(out, (list, tuple)):
                raise ValueError(_SINGLE_OUTPUT + f" Layer {layer.name} returned "
                                 f"{len(out)} outputs.")
            if ("_node_shapes" not in layer.__dict__ and hasattr(x, "shape")
                    and hasattr(out, "shape")):
                # a layer after one that could not say its output shape: the shapes
                # of this call, for layer.input_shape / output_shape
                layer._node_shapes = (tuple(x.shape), tuple(out.shape))
            # tf-keras: a layer that supports masking passes on its compute_mask (a
            # Masking layer makes one); any other layer drops the mask.
            if not getattr(layer, "supports_masking", False):
                mask = None
            elif layer._compute_output_and_mask_jointly and mask_of(out) is not None:
                mask = mask_of(out)  # the mask its call made (Masking, a Sequential)
            else:
                mask = layer.compute_mask(x, mask)
            x = out
        if x is inputs and isinstance(x, np.ndarray):
            x = x.copy()  # no layer ran (an Input alone): not the caller's own array
        self._masks.pending = mask
        return with_mask(x, mask)

    def compute_mask(self, inputs, mask=None):
        """The mask of the model's output for ``inputs``: its last layer's (None when a
        layer drops it). Known from the call just made on ``inputs`` in this thread (as
        a model inside a Sequential is used), else computed by running the model."""
        last = getattr(self._masks, "last", None)
        if last is not None and last[0] is inputs:
            return last[1]
        self(inputs, mask=mask)
        return self._masks.last[1]

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None,
                max_queue_size=10, workers=1, use_multiprocessing=False):
        """Run the model over ``x`` in inference mode, ``batch_size`` rows at a time,
        and join the batches' outputs (a plain ``numpy.ndarray``).

        The signature is tf-keras ``Model.predict``'s; ``verbose``, ``callbacks``,
        ``workers`` and ``use_multiprocessing`` are accepted and ignored (there is no
        progress bar or input pipeline here).

        Parameters
        ----------
        x : array, or an iterable of batches
            An array, or a list / tuple holding the one input array, as tf-keras takes
            it; or a generator (any iterator) or ``keras.utils.Sequence``-like object
            (``__len__`` and ``__getitem__``) whose items are batches ``x`` or tuples
            ``(x, ...)``: one step each.
        batch_size : int, optional
            Positive; 32 by default, as tf-keras's. The batches are tf-keras's: a
            stateful model carries its states from one to the next, and a
            ``time_major`` model is cut along its first axis, as tf-keras cuts it.
            Where no layer can tell (built-in layers only, none stateful or
            ``time_major``) the whole of ``x`` runs at once, which gives the same
            numbers faster. Ignored for an iterable of batches, as tf-keras does.
        steps : int, optional
            Run only the first ``steps`` batches; ``None`` or -1 runs all of ``x``.
        max_queue_size : int, default 10
            Checked as tf-keras checks it (positive), else unused.

        Raises
        ------
        ValueError
            If ``batch_size``, ``steps`` or ``max_queue_size`` is not positive.
        TypeError
            If ``batch_size`` or ``steps`` is not an integer.
        """
        del verbose, callbacks, workers, use_multiprocessing
        if batch_size is not None:
            if isinstance(batch_size, (bool, np.bool_)) or not isinstance(
                    batch_size, (int, np.integer)):
                raise TypeError("Argument `batch_size` must be a positive integer. "
                                f"Received: batch_size={batch_size!r}")
            if batch_size <= 0:
                raise ValueError("Expected batch_size to be positive. Received is "
                                 f"{batch_size}.")
        if max_queue_size is not None and max_queue_size <= 0:
            raise ValueError("Expected max_queue_size to be positive. Received is "
                             f"{max_queue_size}.")
        if steps is not None and steps != -1:
            if isinstance(steps, (bool, np.bool_)) or not isinstance(steps, (int, np.integer)):
                raise TypeError("Argument `steps` must be a positive integer, None or -1. "
                                f"Received: steps={steps!r}")
            if steps <= 0:
                raise ValueError("steps_per_epoch must be positive, None or -1. Received "
                                 f"{steps}. See `Model.fit`.")
        else:
            steps = None
        batches = _batches_of(x)
        if batches is not None:  # batch_size does not apply: each item is a batch
            parts = []
            for batch in batches:
                if steps is not None and len(parts) == steps:
                    break
                parts.append(np.asarray(self.predict_step(batch)))
                rank = np.ndim(_single_input(self._from_input_dict(_unpack_x(batch))))
            if not parts:
                raise ValueError("Expected input data to be non-empty.")
            # tf-keras traces its predict function for batches of any shape
            self._relax_input_shape(_SymbolicInput((None,) * rank, None))
            return np.concatenate(parts)
        x = np.asarray(_single_input(self._from_input_dict(x)))
        if x.ndim == 0:
            raise ValueError("Argument `x` of `predict` must have a batch axis. Received "
                             f"a scalar: x={x!r}")
        if len(x) == 0:
            raise ValueError("Expected input data to be non-empty.")
        size = batch_size or 32
        if steps is not None:
            x = x[:steps * size]
        if size >= len(x) or (batch_size is None and self._rows_independent()):
            out = np.asarray(self.predict_step(x))
        else:
            out = np.concatenate([np.asarray(self.predict_step(x[i:i + size]))
                                  for i in range(0, len(x), size)])
        # tf-keras traces its predict function for batches of any size: a model built
        # by a call reports an unknown batch after it
        self._relax_input_shape(_SymbolicInput((None,) + x.shape[1:], None))
        return out

    def _rows_independent(self):
        """Whether the model's output for a row depends on that row alone, so that
        any cut of ``x`` into batches gives the same numbers: built-in layers only
        (a user layer may mix rows), none stateful or ``time_major``, no Softmax over
        the batch axis."""
        for layer in self._flatten_layers(include_self=False):
            axis = getattr(layer, "axis", None)
            axes = axis if isinstance(axis, (list, tuple)) else [axis]
            if (not type(layer).__module__.startswith("numbarnn.")
                    or getattr(layer, "stateful", False)
                    or getattr(layer, "time_major", False)
                    or 0 in axes):
                return False
        return True

    def predict_step(self, data):
        """One batch of :meth:`predict`: the model's output for ``data``'s inputs in
        inference mode (tf-keras ``Model.predict_step``, which a subclass overrides to
        change what ``predict`` computes per batch).

        Parameters
        ----------
        data : array, or tuple
            A batch as :meth:`predict` hands it on: ``x``, or an item ``(x,)``, ``(x,
            y)`` or ``(x, y, sample_weight)`` of an iterable of batches (a list is
            taken as a tuple, as tf-keras's ``unpack_x_y_sample_weight``).

        Raises
        ------
        ValueError
            For a tuple of another length.
        """
        return self(_unpack_x(data), training=False)

    def predict_on_batch(self, x):
        """The model's output for one batch ``x``, in inference mode, through
        :meth:`predict_step` (tf-keras ``Model.predict_on_batch``, which hands it
        ``(x,)``: a list ``x`` stays whole, ``[x, h0]`` an RNN's initial state)."""
        return self.predict_step((x,))

    def compile(self, optimizer="rmsprop", loss=None, metrics=None, **kwargs):
        """Accepted and does nothing: numbarnn has no training, so there is nothing to
        configure (code written for tf-keras that compiles before ``predict`` runs).
        :meth:`fit` and the other training methods raise ``NotImplementedError``."""

    def _no_training(self, name):
        raise NotImplementedError(
            f"`{name}` trains or evaluates a model: numbarnn runs inference only (no "
            "gradients or optimizers). Train in tf-keras, save the model "
            "(`model.save('model.keras')`) and load it here with "
            "`numbarnn.load_model('model.keras')`; then use `predict` or call the model.")

    def fit(self, *args, **kwargs):
        """Not available: see :meth:`compile`."""
        self._no_training("fit")

    def evaluate(self, *args, **kwargs):
        """Not available: see :meth:`compile`."""
        self._no_training("evaluate")

    def train_on_batch(self, *args, **kwargs):
        """Not available: see :meth:`compile`."""
        self._no_training("train_on_batch")

    def test_on_batch(self, *args, **kwargs):
        """Not available: see :meth:`compile`."""
        self._no_training("test_on_batch")

    def reset_states(self):
        """Reset the states of the stateful layers, nested models' included."""
        for layer in self._stack:
            if getattr(layer, "stateful", False) and hasattr(layer, "reset_states"):
                layer.reset_states()

    def compute_output_shape(self, input_shape):
        """The output shape for ``input_shape``, from each layer's
        ``compute_output_shape`` in turn, as tf-keras's method finds it (a
        :attr:`output_shape` is the call's, which can differ: see
        ``Layer._call_output_shape``)."""
        return self._shape_through(input_shape, "compute_output_shape")

    def _call_output_shape(self, input_shape):
        return self._shape_through(input_shape, "_call_output_shape")

    def _shape_through(self, input_shape, method):
        shape = _as_shape(input_shape)
        for layer in self._stack:
            out = getattr(layer, method)(shape)
            shape = tuple(out[0]) if isinstance(out, list) else tuple(out)
        return TensorShape(shape)  # tf-keras returns a tf.TensorShape

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None):
        """Print a table of the layers, output shapes and parameter counts.

        The layout is tf-keras's: ``line_length`` (65 by default) and ``positions``
        (fractions or columns) place the columns, ``print_fn`` (``print`` by default)
        takes each line, ``show_trainable`` adds one column, ``expand_nested`` lists
        the layers of nested models and ``layer_range`` (two name patterns) picks the
        rows.

        Raises
        ------
        ValueError
            Before the model is built (as in tf-keras); for ``positions`` that do not
            increase (tf-keras loops forever on them).
        """
        if not self.built:
            raise ValueError("This model has not yet been built. Build the model first "
                             "by calling `build()` or by calling the model on a batch of "
                             "data.")
        print_summary(self, self._output_shapes(), line_length, positions, print_fn,
                      expand_nested, show_trainable, layer_range)

    def _output_shapes(self):
        """Each layer's output shape (by id), from the shape the model was built with;
        a nested model's layers' too."""
        shapes = {}

        def walk(layers, shape):
            for layer in layers:
                try:
                    out = layer._call_output_shape(shape)
                except Exception:  # noqa: BLE001 - shown as unknown, as tf-keras does
                    out = None
                if isinstance(layer, Sequential):
                    walk(layer.layers, shape)
                if out is None:
                    shapes[id(layer)] = "?"
                    shape = None
                    continue
                shapes[id(layer)] = (str([tuple(o) for o in out]) if isinstance(out, list)
                                     else str(tuple(out)))
                shape = tuple(out[0]) if isinstance(out, list) else tuple(out)
        shape = self._build_input_shape
        walk(self._stack, shape[0] if isinstance(shape, list) else shape)
        return shapes

    def get_config(self):
        """``name`` and ``layers``; a built model's layers start with the
        ``InputLayer`` entry tf-keras writes (its input shape, and the dtype of the
        first layer or of the data the model was first called on)."""
        layers = [serialization.serialize(l) for l in self._stack]
        shape = self._build_input_shape if self.built and self._stack else None
        if self._input_layer is not None:
            layers.insert(0, serialization.serialize(self._input_layer))
        elif is_shape(shape):
            dtype = self._symbolic_dtype()
            layers.insert(0, {
                "module": "keras.layers", "class_name": "InputLayer",
                "config": {"batch_input_shape": tuple(shape), "dtype": dtype,
                           "sparse": False, "ragged": False,
                           "name": f"{self._stack[0].name}_input", "optional": False},
                "registered_name": None})
        return {"name": self.name, "layers": layers}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """The model a config describes; tf-keras configs are read too: their leading
        ``InputLayer`` entry builds the model for its ``batch_input_shape``. A list of
        layer configs (the config of Keras 2.2 and older, which tf-keras reads) is one
        too."""
        if isinstance(config, list):
            config = {"layers": config}
        elif not isinstance(config, dict):
            raise TypeError("A Sequential config must be a dict (or a list of layer "
                            f"configs). Received: {type(config).__name__} {config!r}")
        entries = config.get("layers", [])
        if not isinstance(entries, (list, tuple)):
            raise ValueError("A Sequential config's 'layers' must be a list of layer "
                             f"configs. Received: {type(entries).__name__} {entries!r}")
        # An InputLayer entry that an Input declared comes back as that InputLayer. The
        # one tf-keras writes for a model without (named after the first layer, from
        # the shape it was built or first called with) builds the model for its
        # shape, its dtype kept; unlike tf-keras's, the loaded model does not then
        # refuse other shapes (a time-major model's batch is its second axis).
        layers, input_shape, input_dtype = [], None, None
        for i, c in enumerate(entries):
            if _is_inferred_input_entry(c, entries[i + 1:i + 2]):
                input_shape = c.get("config", {}).get("batch_input_shape")
                input_dtype = c.get("config", {}).get("dtype")
                continue
            layers.append(serialization.deserialize(c, custom_objects=custom_objects))
        model = cls(layers, name=config.get("name"))
        if input_dtype is not None:
            model._input_dtype = input_dtype
        if input_shape is not None and layers:
            model.build(tuple(input_shape))
        return model
