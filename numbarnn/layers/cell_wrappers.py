"""ResidualWrapper: a cell whose output is ``residual_fn(inputs, cell_output)``."""
import base64
import marshal
import sys
import types
import warnings

import numpy as np

from .._registry import get_registered_object
from ..engine import serialization
from ..engine.numerics import ieee_float
from .abstract_rnn_cell import AbstractRNNCell
from .rnn_utils import cell_step_function, cell_step_kwargs, flatten

__all__ = ["ResidualWrapper"]


def _func_dump(fn):
    # base64 with a newline every 76 characters, as tf-keras's func_dump writes it
    code = base64.encodebytes(marshal.dumps(fn.__code__)).decode("ascii")
    closure = (tuple(c.cell_contents for c in fn.__closure__)
               if fn.__closure__ else None)
    return code, fn.__defaults__, closure


def _func_load(code, defaults=None, closure=None, globs=None):
    if isinstance(code, (tuple, list)):
        code, defaults, closure = code
        if isinstance(defaults, list):
            defaults = tuple(defaults)
    raw = marshal.loads(base64.b64decode(code.encode("ascii")))
    cells = tuple(types.CellType(v) for v in closure) if closure else None
    return types.FunctionType(raw, globs or globals(), name=raw.co_name,
                              argdefs=defaults, closure=cells)


@ieee_float
def _default_residual(inputs, outputs):
    inputs, outputs = np.asarray(inputs), np.asarray(outputs)
    if inputs.shape != outputs.shape:
        raise ValueError(f"ResidualWrapper: the cell input and output shapes must match "
                         f"to be added. Shapes {inputs.shape} and {outputs.shape} are "
                         "incompatible (input features must equal the cell's units, or "
                         "pass a `residual_fn`).")
    return inputs + outputs


class ResidualWrapper(AbstractRNNCell):
    """Add the cell's input to its output; the state is the cell's, untouched.

    Parameters
    ----------
    cell : cell
        The wrapped cell; its weights become the wrapper's.
    residual_fn : callable, optional
        ``(inputs, outputs) -> residual outputs``; default ``inputs + outputs`` with a
        shape check.
    **kwargs
        Base Layer arguments.

    Raises
    ------
    ValueError
        If ``cell`` has no ``call`` or no ``state_size``.
    TypeError
        If ``residual_fn`` is neither None nor callable.

    Notes
    -----
    A dropout cell inside the wrapper (or inside a stack nested in a stack) gets new
    dropout masks at every call of the layer, as a plain cell does. tf-keras's RNN resets
    only the masks of its own cell and of a stack's direct children, so there such a
    cell keeps the masks of its first training call for ever; numbarnn does not copy
    that.

    A Python function as ``residual_fn`` (a ``lambda`` or a ``def``, local ones
    included) is saved as bytecode with its defaults and closure values, as tf-keras
    saves every ``types.LambdaType``; it loads in ``from_config`` and, outside safe
    mode, in ``load_model(path, safe_mode=False)``. Other callables (numpy ufuncs,
    builtins, callable objects) are saved by name and looked up in ``custom_objects``,
    then in the module they came from.
    """

    def __init__(self, cell, residual_fn=None, **kwargs):
        # tf-keras fails later, on an attribute of the bad value (AttributeError at
        # `cell.call`, TypeError at the first step for a non-callable residual_fn).
        for attribute in ("call", "state_size"):
            if attribute not in dir(cell):
                raise ValueError(f"Argument `cell` of ResidualWrapper should be an RNN cell "
                                 f"with a `{attribute}`. Received: cell={cell!r}")
        if residual_fn is not None and not callable(residual_fn):
            raise TypeError("Argument `residual_fn` of ResidualWrapper must be a callable "
                            "(inputs, outputs) -> outputs, or None. Received: "
                            f"residual_fn={residual_fn!r}")
        super().__init__(**kwargs)
        self.cell = cell
        self._residual_fn = residual_fn

    @property
    def wrapped_cell(self):
        return self.cell

    def _saved_children(self):
        # tf-keras's files reach the cell as `wrapped_cell`, which its walk meets first
        return [("wrapped_cell", self.cell)] + super()._saved_children()

    @property
    def state_size(self):
        return self.cell.state_size

    @property
    def output_size(self):
        return getattr(self.cell, "output_size", None) or flatten(self.cell.state_size)[0]

    # get_initial_state is AbstractRNNCell's (zeros of ``state_size``), as in tf-keras,
    # whose wrappers do not forward it: a wrapped cell's own initial state is not used,
    # and a cell without one (a plain Layer) works.

    def zero_state(self, batch_size, dtype):
        """The wrapped cell's ``zero_state`` (tf-keras's wrappers forward it; the
        built-in cells have none, so there it is an AttributeError, as there)."""
        return self.cell.zero_state(batch_size, dtype)

    def build(self, input_shape):
        self._build_input_shape = input_shape
        if hasattr(self.cell, "build") and not getattr(self.cell, "built", True):
            self.cell.build(input_shape)
            self.cell.built = True
        # Like tf-keras, no check of the input width against the cell's output here:
        # a mismatch is an error at the first step (or in the fused engine's plan).
        self.built = True

    def call(self, inputs, state, training=None, **kwargs):
        """One step of the cell, its output combined with ``inputs`` (the argument
        is named ``state``, as in tf-keras's cell wrappers)."""
        kw = cell_step_kwargs(self.cell, training)
        outputs, new_state = cell_step_function(self.cell)(inputs, state, **kw)
        fn = self._residual_fn or _default_residual
        return fn(inputs, outputs), new_state

    def reset_dropout_mask(self):
        if hasattr(self.cell, "reset_dropout_mask"):
            self.cell.reset_dropout_mask()

    def reset_recurrent_dropout_mask(self):
        if hasattr(self.cell, "reset_recurrent_dropout_mask"):
            self.cell.reset_recurrent_dropout_mask()

    def _fused_levels(self, batch_size, dtype, training):
        fused = getattr(self.cell, "_fused_levels", None)
        if (self._residual_fn is not None or fused is None
                or type(self).call is not ResidualWrapper.call):  # a subclass's own step
            return None
        levels = fused(batch_size, dtype, training)
        # A level adds its input once: a wrapped ResidualWrapper (two adds) runs the
        # generic loop.
        if levels is None or len(levels) != 1 or levels[0].residual:
            return None
        levels[0].residual = True
        return levels

    def _fused_weights(self):
        return getattr(self.cell, "_fused_weights", lambda: [])()

    def get_config(self):
        config = {"cell": {"class_name": type(self.cell).__name__,
                           "config": self.cell.get_config()}}
        fn = self._residual_fn
        if fn is not None:
            if isinstance(fn, types.LambdaType):  # any Python function, as tf-keras
                config["residual_fn"] = _func_dump(fn)
                config["residual_fn_type"] = "lambda"
            elif callable(fn):
                config["residual_fn"] = fn.__name__
                config["residual_fn_type"] = "function"
            else:
                raise ValueError(f"Unrecognized function type for input: {type(fn)}")
            config["residual_fn_module"] = fn.__module__
        return {**super().get_config(), **config}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        if "residual_fn" in config:
            module = config.pop("residual_fn_module", None)
            fn_type = config.pop("residual_fn_type", None)
            globs = globals()
            if module in sys.modules:
                globs = vars(sys.modules[module])
            elif module is not None:
                warnings.warn(f"{module} is not loaded, but a layer uses it. "
                              "It may cause errors.", UserWarning, stacklevel=2)
            value = config.pop("residual_fn")
            if fn_type == "function":
                fn = get_registered_object(value, custom_objects, globs)
                if fn is None:
                    raise ValueError(f"Unknown residual_fn: '{value}'. Pass it in "
                                     "`custom_objects`.")
            elif fn_type == "lambda":
                serialization.check_unsafe_allowed("a layer with a Python `lambda` inside it")
                fn = _func_load(value, globs={**globs, **(custom_objects or {})})
            else:
                raise TypeError(f"Unknown function type: {fn_type}")
            config["residual_fn"] = fn
        cell = serialization.deserialize(config.pop("cell"), custom_objects=custom_objects)
        return cls(cell, **config)
