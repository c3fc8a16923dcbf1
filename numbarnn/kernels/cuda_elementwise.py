"""Elementwise numba-cuda kernels for the work around the recurrence, so that device
arrays need no round trip through the host: merging a bidirectional layer's two
directions, and masking the timesteps whose features all equal a value (launched by
:func:`numbarnn.kernels.cuda.merge_directions` and
:func:`numbarnn.kernels.cuda.mask_steps`)."""
from numba import cuda

from .cuda_common import SIMULATED
from .disk_cache import lock_index

__all__ = ["merge_directions_kernel", "MERGE_CODES", "mask_steps_kernel"]

# merge mode -> code; "reversed" copies the backward output in input order alone
MERGE_CODES = {"concat": 0, "sum": 1, "ave": 2, "mul": 3, "reversed": 4}


@lock_index
@cuda.jit(cache=not SIMULATED)
def merge_directions_kernel(y, y_rev, out, mode, reverse_axis):
    """One thread per element of ``out``; the arrays are (A, B, units), ``y_rev`` read
    reversed along ``reverse_axis`` (0 or 1; -1: as it is). The arithmetic is numpy's
    on the host: one rounding per operation, ``ave`` halving the rounded sum."""
    i = cuda.grid(1)
    rows, cols, units = out.shape
    if i >= rows * cols * units:
        return
    u = i % units
    b = (i // units) % cols
    a = i // (units * cols)
    ra = rows - 1 - a if reverse_axis == 0 else a
    rb = cols - 1 - b if reverse_axis == 1 else b
    if mode == 0:
        forward_units = y.shape[2]
        if u < forward_units:
            out[a, b, u] = y[a, b, u]
        else:
            out[a, b, u] = y_rev[ra, rb, u - forward_units]
    elif mode == 1:
        out[a, b, u] = y[a, b, u] + y_rev[ra, rb, u]
    elif mode == 2:
        total = y[a, b, u] + y_rev[ra, rb, u]
        out[a, b, u] = total * 0.5
    elif mode == 3:
        out[a, b, u] = y[a, b, u] * y_rev[ra, rb, u]
    else:
        out[a, b, u] = y_rev[ra, rb, u]


@lock_index
@cuda.jit(cache=not SIMULATED)
def mask_steps_kernel(x, values, out, keep):
    """One thread per timestep (row of ``x``, (steps, features)): ``keep[i]`` is whether
    a feature differs from ``values`` (one, or one per feature; NaN differs from
    everything), and ``out[i]`` is ``x[i]`` times it (numpy's ``x * keep``: inf and
    NaN times 0 are NaN, a negative times 0 is -0)."""
    i = cuda.grid(1)
    steps, features = x.shape
    if i >= steps:
        return
    per_feature = values.shape[0] > 1
    kept = False
    for j in range(features):
        if x[i, j] != values[j if per_feature else 0]:
            kept = True
    keep[i] = kept
    factor = 1.0 if kept else 0.0
    for j in range(features):
        out[i, j] = x[i, j] * factor
