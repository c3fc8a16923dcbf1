"""The numba-cuda kernel that merges a bidirectional layer's two directions on the
device (launched by :func:`numbarnn.kernels.cuda.merge_directions`), so that device
outputs need no round trip through the host."""
from numba import cuda

from .cuda_common import SIMULATED
from .disk_cache import lock_index

__all__ = ["merge_directions", "MERGE_CODES"]

# merge mode -> code; "reversed" copies the backward output in input order alone
MERGE_CODES = {"concat": 0, "sum": 1, "ave": 2, "mul": 3, "reversed": 4}


@lock_index
@cuda.jit(cache=not SIMULATED)
def merge_directions(y, y_rev, out, mode, reverse_axis):
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
