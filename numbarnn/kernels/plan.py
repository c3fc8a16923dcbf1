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
    """Side-by-side dropout masks and their per-level flags."""
    use_in = np.array([s.input_dropout is not None for s in levels], np.bool_)
    use_rec = np.array([s.recurrent_dropout is not None for s in levels], np.bool_)
    in_cols = sum(s.input_dim for s in levels) if use_in.any() else 0
    rec_cols = sum(s.units for s in levels) if use_rec.any() else 0
    in_drop = np.ones((batch, in_cols), dtype)
    rec_drop = np.ones((batch, rec_cols), dtype)
    if in_cols:
        off = 0
        for s in levels:
            if s.input_dropout is not None:
                in_drop[:, off:off + s.input_dim] = s.input_dropout
            off += s.input_dim
    else:
        in_drop = np.ones((batch, sum(s.input_dim for s in levels)), dtype)
    if rec_cols:
        off = 0
        for s in levels:
            if s.recurrent_dropout is not None:
                rec_drop[:, off:off + s.units] = s.recurrent_dropout
            off += s.units
    else:
        rec_drop = np.ones((batch, sum(s.units for s in levels)), dtype)
    return in_drop, use_in, rec_drop, use_rec


def chunk_steps(batch, levels):
    widest = max([levels[0].input_dim] + [s.units for s in levels])
    return max(1, CHUNK_ELEMENTS // max(1, batch * widest))
