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


def dropout_arrays(levels, batch, dtype):
    """Side-by-side dropout masks and their per-level flags.

    Without any dropout of a kind the array has zero columns: the kernels read it only
    for levels whose flag is set, so no buffer of ones is built on every call.
    """
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
