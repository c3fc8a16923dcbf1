"""What a stack of built-in cells compiles to: plain arrays, no Layer objects.

The layers describe each recurrent level with a :class:`LevelSpec`; :func:`pack` turns a
list of them into the flat arrays the fused kernels take, and :func:`run_cpu` runs them.
"""
from dataclasses import dataclass
from typing import Optional

import numpy as np

from .scalar_math import ACTIVATION_CODES

# Steps per chunk are chosen so a chunk's projection holds about this many elements.
CHUNK_ELEMENTS = 1 << 18


@dataclass
class LevelSpec:
    """One level of a stack: ``out = act(x @ kernel + bias + h @ recurrent)`` (+ x)."""

    kernel: np.ndarray
    recurrent: np.ndarray
    bias: Optional[np.ndarray]
    activation: str
    residual: bool = False
    input_dropout: Optional[np.ndarray] = None      # (B, I) or None
    recurrent_dropout: Optional[np.ndarray] = None  # (B, U) or None
    name: Optional[str] = None  # the cell's, for error messages

    @property
    def input_dim(self):
        return self.kernel.shape[0]

    @property
    def units(self):
        return self.kernel.shape[1]


@dataclass
class PackedStack:
    kernels: np.ndarray
    recurrents: np.ndarray
    biases: np.ndarray
    dims: np.ndarray
    acts: np.ndarray
    residuals: np.ndarray
    # The CPU engine's column panels of the weights (cpu.pack_stack_panels), built on
    # its first use of this pack and kept with it.
    cpu_panels: Optional[tuple] = None


def check_stack(levels, input_shape, layer_name="rnn"):
    """Check that inputs of ``input_shape`` can run through ``levels``.

    The kernels index rows and columns by the widths in ``dims``: an input narrower
    than the first kernel, or a level whose kernel does not take the previous level's
    units, would read out of bounds (a cell built earlier for another width can be put
    in a new layer). Errors are worded like the InputSpec check.

    Parameters
    ----------
    levels : list of LevelSpec
    input_shape : tuple
        ``(B, T, I)`` or ``(T, B, I)``.
    layer_name : str
        The RNN layer, for messages.

    Raises
    ------
    ValueError
        On an empty stack, an input that is not 3-D, or mismatched widths.
    """
    shape = tuple(input_shape)
    head = f'Input 0 of layer "{layer_name}" is incompatible with the layer: '
    if not levels:
        raise ValueError(f'Layer "{layer_name}": a fused stack needs at least one level.')
    if len(shape) != 3:
        raise ValueError(head + f"expected ndim=3, found ndim={len(shape)}. Full shape "
                         f"received: {shape}")
    if shape[-1] != levels[0].input_dim:
        raise ValueError(head + f"expected axis -1 of input shape to have value "
                         f"{levels[0].input_dim}, but received input with shape {shape}")
    for i, level in enumerate(levels):
        if i and level.input_dim != levels[i - 1].units:
            raise ValueError(
                f'Input 0 of layer "{level.name}" (cell {i} of the stack of layer '
                f'"{layer_name}") is incompatible with the layer: expected axis -1 of '
                f"input shape to have value {level.input_dim}, but received input with "
                f"shape (None, {levels[i - 1].units}) (the output of cell {i - 1})")
        _check_level(level)


def _check_level(level):
    """One level's own weights agree with each other (and its residual sum)."""
    units = level.units
    bias_ok = level.bias is None or np.shape(level.bias) == (units,)
    if np.shape(level.recurrent) != (units, units) or not bias_ok:
        raise ValueError(f'Cell "{level.name}": kernel {np.shape(level.kernel)}, recurrent '
                         f"kernel {np.shape(level.recurrent)} and bias "
                         f"{np.shape(level.bias)} do not fit together: expected "
                         f"({level.input_dim}, {units}), ({units}, {units}) and ({units},).")
    if level.residual and level.input_dim != units:
        raise ValueError(f'ResidualWrapper around cell "{level.name}" requires the input '
                         f"feature size to equal the wrapped cell's output size: got input "
                         f"width {level.input_dim} and output size {units}.")


def time_major_mask(mask, batch, time_major):
    """The kernels' mask: booleans (steps, batch), C-contiguous; (0, batch) for none."""
    if mask is None:
        return np.zeros((0, batch), np.bool_)
    return np.ascontiguousarray(mask if time_major else mask.T, dtype=np.bool_)


def pack(levels, dtype):
    """Flatten the weights of ``levels`` into contiguous arrays of ``dtype``."""
    dtype = np.dtype(dtype)
    return PackedStack(
        kernels=np.concatenate([np.asarray(s.kernel, dtype).ravel() for s in levels]),
        recurrents=np.concatenate([np.asarray(s.recurrent, dtype).ravel() for s in levels]),
        biases=np.concatenate([np.zeros(s.units, dtype) if s.bias is None
                               else np.asarray(s.bias, dtype).ravel() for s in levels]),
        dims=np.array([[s.input_dim, s.units] for s in levels], np.int64),
        acts=np.array([ACTIVATION_CODES[s.activation] for s in levels], np.int64),
        residuals=np.array([bool(s.residual) for s in levels], np.bool_),
    )


# dropout_arrays of a stack without dropout, per (level count, dtype), shared by every
# such call (a plain call then builds no arrays: about 10 us of its 180 on the CPU).
# Read only: the kernels never write them, and no caller may.
_NO_DROPOUT = {}


def dropout_arrays(levels, batch, dtype):
    """Side-by-side dropout masks and their per-level flags.

    Without any dropout of a kind the array has zero columns: the kernels read it only
    for levels whose flag is set, so no buffer of ones is built on every call. Without
    any dropout at all, the arrays come from a cache, shared: read only.
    """
    if all(s.input_dropout is None and s.recurrent_dropout is None for s in levels):
        key = (len(levels), np.dtype(dtype))
        held = _NO_DROPOUT.get(key)
        if held is None:
            none, off = np.ones((0, 0), dtype), np.zeros(len(levels), np.bool_)
            held = _NO_DROPOUT[key] = (none, off, none, off)
        return held

    def side_by_side(masks, widths):
        if all(m is None for m in masks):
            return np.ones((batch, 0), dtype)
        out = np.ones((batch, sum(widths)), dtype)
        off = 0
        for m, w in zip(masks, widths):
            if m is not None:
                out[:, off:off + w] = m
            off += w
        return out

    use_in = np.array([s.input_dropout is not None for s in levels], np.bool_)
    use_rec = np.array([s.recurrent_dropout is not None for s in levels], np.bool_)
    in_drop = side_by_side([s.input_dropout for s in levels], [s.input_dim for s in levels])
    rec_drop = side_by_side([s.recurrent_dropout for s in levels], [s.units for s in levels])
    return in_drop, use_in, rec_drop, use_rec


def chunk_steps(batch, levels, elements=CHUNK_ELEMENTS):
    """Steps per chunk so that a chunk of the widest level holds about ``elements``."""
    widest = max([levels[0].input_dim] + [s.units for s in levels])
    return max(1, elements // max(1, batch * widest))
