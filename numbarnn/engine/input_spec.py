"""InputSpec and the Keras input-compatibility check, with tf-keras error texts."""
import numpy as np

from .dtype_policy import as_dtype
from .tensor_shape import as_dimension

__all__ = ["InputSpec", "assert_input_compatibility"]


class InputSpec:
    """Describes the rank, dtype and shape a layer accepts (tf-keras ``InputSpec``).

    Parameters
    ----------
    dtype : str, optional
    shape : tuple of (int or None), optional
        ``None`` entries are wildcards. Sets ``ndim``.
    ndim, max_ndim, min_ndim : int, optional
    axes : dict of {int: int}, optional
        Required sizes of given axes.
    allow_last_axis_squeeze : bool
        Allow a trailing axis of size 1 to be dropped on either side.
    name : str, optional
    optional : bool
    """

    def __init__(self, dtype=None, shape=None, ndim=None, max_ndim=None,
                 min_ndim=None, axes=None, allow_last_axis_squeeze=False,
                 name=None, optional=False):
        self.dtype = as_dtype(dtype).name if dtype is not None else None
        if isinstance(shape, (int, np.integer)):  # tf-keras: a bare int is (int,)
            shape = (shape,)
        # tf-keras: TensorShape(shape).as_list(): numpy ints as ints, a float or a
        # string a TypeError
        self.shape = (tuple(None if d is None else as_dimension(d, f"in shape={shape}")
                            for d in shape) if shape is not None else None)
        self.ndim = len(self.shape) if self.shape is not None else ndim
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.name = name
        self.optional = optional
        self.allow_last_axis_squeeze = allow_last_axis_squeeze
        axes = axes or {}
        try:
            self.axes = {int(k): axes[k] for k in axes}
        except (ValueError, TypeError):
            raise TypeError("Argument `axes` must be a dict with integer keys. "
                            f"Received: axes={axes}") from None
        if self.axes and (self.ndim is not None or self.max_ndim is not None):
            max_dim = (self.ndim if self.ndim else self.max_ndim) - 1
            max_axis = max(self.axes)
            if max_axis > max_dim:
                raise ValueError(f"Axis {max_axis} is greater than the maximum "
                                 f"allowed value: {max_dim}")

    def __repr__(self):
        spec = [(f"dtype={self.dtype}" if self.dtype else ""),
                (f"shape={self.shape}" if self.shape else ""),
                (f"ndim={self.ndim}" if self.ndim else ""),
                (f"max_ndim={self.max_ndim}" if self.max_ndim else ""),
                (f"min_ndim={self.min_ndim}" if self.min_ndim else ""),
                (f"axes={self.axes}" if self.axes else "")]
        return f"InputSpec({', '.join(x for x in spec if x)})"

    def get_config(self):
        return {"dtype": self.dtype, "shape": self.shape, "ndim": self.ndim,
                "max_ndim": self.max_ndim, "min_ndim": self.min_ndim,
                "axes": self.axes}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _shape_of(x):
    shape = getattr(x, "shape", None)
    if shape is None:
        raise TypeError
    return tuple(shape)


def flatten_leaves(inputs):
    """The leaves of nested lists/tuples (namedtuples included), in order; a dict's
    in sorted key order, as tf.nest flattens them."""
    if isinstance(inputs, dict):
        return [leaf for key in sorted(inputs) for leaf in flatten_leaves(inputs[key])]
    if not isinstance(inputs, (list, tuple)):
        return [inputs]
    return [leaf for x in inputs for leaf in flatten_leaves(x)]


def assert_input_compatibility(input_spec, inputs, layer_name):
    """Raise the tf-keras error if ``inputs`` do not match ``input_spec``.

    Parameters
    ----------
    input_spec : InputSpec or list of InputSpec or None
    inputs : array, or a (nested) list/tuple of arrays; compared leaf by leaf
    layer_name : str
    """
    if not input_spec:
        return
    specs = flatten_leaves(input_spec)
    if isinstance(inputs, dict) and all(spec is not None and spec.name for spec in specs):
        # Named specs take a dict's values by name, in the specs' order.
        names = [spec.name for spec in specs]
        missing = [name for name in names if name not in inputs]
        if missing:
            raise ValueError(f'Missing data for input "{missing[0]}". You passed a data '
                             f"dictionary with keys {list(inputs.keys())}. Expected the "
                             f"following keys: {names}")
        inputs = [inputs[name] for name in names]
    flat = flatten_leaves(inputs)
    for x, spec in zip(flat, specs):
        if spec is None or (x is None and spec.optional):
            continue
        if not hasattr(x, "shape"):
            raise TypeError(f"Inputs to a layer should be tensors. Got '{x}' (of type "
                            f"{type(x)}) as input for layer '{layer_name}'.")
    if len(flat) != len(specs):
        raise ValueError(f'Layer "{layer_name}" expects {len(specs)} input(s), but it '
                         f"received {len(flat)} input tensors. Inputs received: {inputs}")
    for i, (x, spec) in enumerate(zip(flat, specs)):
        if spec is None or (x is None and spec.optional):
            continue
        shape = _shape_of(x)
        rank = len(shape)
        head = f'Input {i} of layer "{layer_name}" is incompatible with the layer: '
        if spec.ndim is not None and not spec.allow_last_axis_squeeze:
            if rank != spec.ndim:
                raise ValueError(head + f"expected ndim={spec.ndim}, found ndim={rank}. "
                                 f"Full shape received: {shape}")
        if spec.max_ndim is not None and rank > spec.max_ndim:
            raise ValueError(head + f"expected max_ndim={spec.max_ndim}, found ndim={rank}")
        if spec.min_ndim is not None and rank < spec.min_ndim:
            raise ValueError(head + f"expected min_ndim={spec.min_ndim}, found ndim={rank}. "
                             f"Full shape received: {shape}")
        if spec.dtype is not None and np.dtype(x.dtype).name != spec.dtype:
            raise ValueError(head + f"expected dtype={spec.dtype}, "
                             f"found dtype=<dtype: '{np.dtype(x.dtype).name}'>")  # tf's
        for axis, value in spec.axes.items():
            if value is not None and (axis >= rank or axis < -rank
                                      or shape[axis] not in (value, None)):
                raise ValueError(head + f"expected axis {axis} of input shape to have "
                                 f"value {value}, but received input with shape {shape}")
        if spec.shape is not None:
            want, got = spec.shape, shape
            if spec.allow_last_axis_squeeze:
                if got and got[-1] == 1:
                    got = got[:-1]
                if want and want[-1] == 1:
                    want = want[:-1]
            # Compared axis by axis over the shorter of the two, as tf-keras does: with
            # the squeeze allowed, ranks that differ by more than the axis pass.
            if any(w is not None and g is not None and w != g for w, g in zip(want, got)):
                raise ValueError(head + f"expected shape={spec.shape}, found shape={shape}")
