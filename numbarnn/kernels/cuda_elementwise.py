"""Elementwise numba-cuda kernels for the work around the recurrence, so that device
arrays need no round trip through the host: merging a bidirectional layer's two
directions, masking the timesteps whose features all equal a value (launched by
:func:`numbarnn.kernels.cuda.merge_directions` and
:func:`numbarnn.kernels.cuda.mask_steps`), and the feed-forward layers' activations
(built-in and the parametrised ReLUs), row softmax and embedding lookup (launched by
:mod:`numbarnn.kernels.cuda_feedforward`)."""
import math

from numba import cuda, float32, uint64

from .cuda_common import SIMULATED, _activation
from .disk_cache import lock_index

__all__ = ["merge_directions_kernel", "MERGE_CODES", "mask_steps_kernel", "activate_kernel",
           "softmax_rows_kernel", "SOFTMAX_THREADS", "gather_rows_kernel",
           "RELU_FAMILY_CODES", "cast_kernel", "prelu_kernel",
           "relu_family_kernel"]

# merge mode -> code; "reversed" copies the backward output in input order alone
MERGE_CODES = {"concat": 0, "sum": 1, "ave": 2, "mul": 3, "reversed": 4}


@cuda.jit(device=True)
def _wide(v):
    """``v`` in float32 at least: float16 widened (exactly), float32 and float64 as
    they are. Arithmetic on float16 values runs on the widened ones and rounds once,
    when stored, as numpy's float16 arithmetic does (a float32 result of one operation
    on float16 values rounds to the correctly rounded float16 one); numba-cuda's own
    float16 operators are calls whose arguments go through local memory."""
    return v * float32(1.0)


@lock_index
@cuda.jit(cache=not SIMULATED)
def merge_directions_kernel(y, y_rev, out, mode, reverse_axis):
    """One thread per element of ``out``; the arrays are (A, B, units), ``y_rev`` read
    reversed along ``reverse_axis`` (0 or 1; -1: as it is). The arithmetic is numpy's
    on the host: one rounding per operation (float16 too, see :func:`_wide`), ``ave``
    halving the rounded sum."""
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
        out[a, b, u] = _wide(y[a, b, u]) + _wide(y_rev[ra, rb, u])
    elif mode == 2:
        # the sum rounded to out's dtype (in a register), then halved
        out[a, b, u] = out.dtype.type(_wide(y[a, b, u]) + _wide(y_rev[ra, rb, u])) * 0.5
    elif mode == 3:
        out[a, b, u] = _wide(y[a, b, u]) * _wide(y_rev[ra, rb, u])
    else:
        out[a, b, u] = y_rev[ra, rb, u]


# The most timesteps a block of mask_steps_kernel masks (its shared flags), and the
# elements it aims at: MASK_TILE // features rows, at least one (up to four elements a
# thread of 256 for up to 1024 features; one row, more a thread, past that).
MASK_TILE = 1024
# Elements a thread of mask_steps_kernel loads at once: independent loads in flight.
MASK_UNROLL = 4


@cuda.jit(device=True)
def _next_element(r, j, step_rows, step_features, width):
    """(row, feature) of the element ``step_rows * width + step_features`` after
    ``(r, j)`` in a row-major run of rows ``width`` wide (``step_features < width``)."""
    r, j = r + step_rows, j + step_features
    if j >= width:
        r, j = r + 1, j - width
    return r, j


@lock_index
@cuda.jit(cache=not SIMULATED)
def mask_steps_kernel(x, values, out, keep, block_rows):
    """Mask the timesteps (rows of ``x``, (steps, features)): ``keep[i]`` is whether a
    feature of row ``i`` differs from ``values`` (one, or one per feature; NaN differs
    from everything), and ``out[i]`` is ``x[i]`` where it does and ``x[i] * 0`` where
    not (numpy's ``x * keep``: inf and NaN times 0 are NaN, a negative times 0 is -0).

    Block ``b`` masks rows ``b * block_rows`` on (``block_rows`` at most
    ``MASK_TILE``) as one run of elements: consecutive threads take consecutive
    elements, so a warp's loads and stores are coalesced at any feature count. A first
    pass marks the rows with a differing feature in shared memory; after a barrier a
    second writes ``out``, reading ``x`` again (the block's few KiB, from cache).
    """
    flags = cuda.shared.array(MASK_TILE, keep.dtype)
    held = cuda.local.array(MASK_UNROLL, x.dtype)
    steps, features = x.shape
    t, threads = cuda.threadIdx.x, cuda.blockDim.x
    first = cuda.blockIdx.x * block_rows
    rows = min(block_rows, steps - first)
    for r in range(t, rows, threads):
        flags[r] = False
    cuda.syncthreads()
    # This thread's first element (row, feature) and the step to its next, ``threads``
    # on: the loops add instead of dividing (64-bit) per element.
    width = max(features, 1)
    end = rows if features > 0 else 0
    per_feature = values.shape[0] > 1
    step_rows, step_features = threads // width, threads % width
    for second in range(2):
        if second:
            cuda.syncthreads()
        r, j = t // width, t % width
        while r < end:
            r0, j0 = r, j
            for k in range(MASK_UNROLL):  # the loads first, all in flight together
                if r < end:  # (indices unsigned: numba wraps signed ones around)
                    held[k] = x[uint64(first + r), uint64(j)]
                r, j = _next_element(r, j, step_rows, step_features, width)
            r, j = r0, j0  # the same elements again
            for k in range(MASK_UNROLL):
                if r < end:
                    ur, v = uint64(r), held[k]
                    if second:
                        # a kept row as it is (its bits, NaN payloads too: the GPU's
                        # multiply gives its own NaN; two stores, as one expression
                        # would take float16 through float32, whose conversion back
                        # makes every NaN 0x7fff); a masked one times 0 in x's dtype
                        if flags[ur]:
                            out[uint64(first) + ur, uint64(j)] = v
                        else:
                            out[uint64(first) + ur, uint64(j)] = _wide(v) * False
                    elif _wide(v) != values[uint64(j if per_feature else 0)]:
                        flags[ur] = True
                r, j = _next_element(r, j, step_rows, step_features, width)
    for r in range(t, rows, threads):
        keep[first + r] = flags[r]


# The feed-forward layers' device paths (launched by numbarnn.kernels.cuda_feedforward).

@lock_index
@cuda.jit(cache=not SIMULATED)
def activate_kernel(x, out, code):
    """``out[i] = activation(x[i])`` (flat arrays; ``out`` may be ``x``), one thread
    per element; ``code`` as :data:`~numbarnn.kernels.scalar_math.ACTIVATION_CODES`
    (not softmax), the same scalar function the recurrence kernels apply."""
    i = cuda.grid(1)
    if i < out.shape[0]:
        # (the activation's branches are typed float64: back to the array's type)
        out[i] = out.dtype.type(_activation(code, x[i]))


# The most threads a block of softmax_rows_kernel has (its shared reduction arrays).
SOFTMAX_THREADS = 256


@cuda.jit(device=True)
def _max_nan(a, b):
    """The larger of two values, NaN if either is (as ``np.max`` propagates it)."""
    return b if (b > a or b != b) else a


@lock_index
@cuda.jit(cache=not SIMULATED)
def softmax_rows_kernel(x, out):
    """Each row of ``out`` (rows, n) the softmax of that of ``x``, ``exp(x - max) /
    sum`` (``out`` may be ``x``): one block per row, its threads striding over the row
    (a warp's accesses consecutive, a wide row shared by the block), the maximum and
    the sum reduced in shared memory. Launch with a power of two threads, at most
    ``SOFTMAX_THREADS``. A row holding NaN comes out all NaN, as the host's ``np.max``
    propagates it (``max()`` would skip it)."""
    partial = cuda.shared.array(SOFTMAX_THREADS, out.dtype)
    r = cuda.blockIdx.x
    t, threads = cuda.threadIdx.x, cuda.blockDim.x
    n = out.shape[1]
    top = x[r, 0]
    for j in range(t, n, threads):
        top = _max_nan(top, x[r, j])
    partial[t] = top
    cuda.syncthreads()
    half = threads // 2
    while half > 0:
        if t < half:
            partial[t] = _max_nan(partial[t], partial[t + half])
        cuda.syncthreads()
        half //= 2
    top = partial[0]
    cuda.syncthreads()  # (every thread has read the maximum before the sums reuse it)
    total = out.dtype.type(0.0)
    for j in range(t, n, threads):
        e = math.exp(x[r, j] - top)
        out[r, j] = e
        total += e
    partial[t] = total
    cuda.syncthreads()
    half = threads // 2
    while half > 0:
        if t < half:
            partial[t] += partial[t + half]
        cuda.syncthreads()
        half //= 2
    total = partial[0]
    for j in range(t, n, threads):
        out[r, j] = out[r, j] / total


@lock_index
@cuda.jit(cache=not SIMULATED)
def gather_rows_kernel(table, indices, out):
    """``out[r, :] = table[indices[r], :]``, one thread per element of ``out`` (rows,
    dim), so that a warp's stores are consecutive. The indices are checked before the
    launch (an index outside the table is an error there, not a read here)."""
    i = cuda.grid(1)
    rows, dim = out.shape
    if i < rows * dim:
        r = i // dim
        out[r, i - r * dim] = table[indices[r], i - r * dim]


# relu_family_kernel's functions (the activation layers' parametrised ones)
RELU_FAMILY_CODES = {"relu": 0, "elu": 1, "thresholded": 2}


@lock_index
@cuda.jit(cache=not SIMULATED)
def relu_family_kernel(x, out, kind, alpha, has_max, max_value, threshold):
    """``out[i] = f(x[i])`` (flat arrays of one dtype), one thread per element, for
    the parametrised ReLUs, step by step as the host's numpy computes them in x's
    dtype (the parameters are cast to it, as numpy does with float32 ones):

    * ``relu`` (``activations.relu``: ReLU, LeakyReLU): ``alpha`` alone is the leaky
      form; else the ReLU (above ``threshold``, times 1 or 0), capped at
      ``max_value``, less ``alpha`` times how far below ``threshold``;
    * ``elu``: ``x`` above 0, else ``alpha * expm1(min(x, 0))``;
    * ``thresholded``: ``x * (x > threshold)``.

    NaN stays NaN (and inf times 0 is NaN) wherever numpy's does.
    """
    i = cuda.grid(1)
    if i >= x.shape[0]:
        return
    cast = out.dtype.type
    zero = cast(0.0)
    v = x[i]
    if kind == 1:
        low = v if (v <= zero or v != v) else zero  # np.minimum(x, 0): NaN kept
        out[i] = v if v > zero else cast(alpha) * cast(math.expm1(low))
        return
    if kind == 2:
        out[i] = v * (cast(1.0) if v > cast(threshold) else zero)
        return
    a = cast(alpha)
    if alpha != 0.0 and not has_max and threshold == 0.0:
        out[i] = v if v > zero else a * v
        return
    t = cast(threshold)
    if threshold != 0.0:
        r = v * (cast(1.0) if v > t else zero)
    else:
        r = zero if v < zero else v
    if has_max:
        m = cast(max_value)
        capped = r if (r <= m or r != r) else m  # np.minimum: NaN kept
        r = zero if capped < zero else capped
    if alpha != 0.0:
        below = t - v
        r = r - a * (zero if below < zero else below)
    out[i] = r


@lock_index
@cuda.jit(cache=not SIMULATED)
def cast_kernel(src, dst):
    """``dst[i] = src[i]`` in ``dst``'s dtype (flat arrays), one thread per element:
    float32 or float64 to float16 rounds to nearest even once (``cvt.rn``), as numpy's
    ``astype``."""
    i = cuda.grid(1)
    if i < dst.shape[0]:
        dst[i] = src[i]


@lock_index
@cuda.jit(cache=not SIMULATED)
def prelu_kernel(x, out, alpha):
    """``out[i] = relu(x[i]) - alpha[i % len(alpha)] * relu(-x[i])`` (flat arrays of one
    dtype; ``alpha`` the slopes of one batch row), one thread per element, as the host
    computes PReLU: -0 stays -0 and NaN NaN."""
    i = cuda.grid(1)
    if i >= x.shape[0]:
        return
    zero = out.dtype.type(0.0)
    v = x[i]
    w = -v
    above = zero if v < zero else v
    below = zero if w < zero else w
    out[i] = above - alpha[i % alpha.shape[0]] * below
