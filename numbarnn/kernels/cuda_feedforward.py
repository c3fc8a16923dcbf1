"""The feed-forward layers' work on the GPU, for device arrays: a dense product with
its activation, an activation alone (built-in, a row softmax, or a parametrised ReLU),
an embedding lookup, a copy, a cast (the recurrent layers' float16 results).

Without these, a model such as ``Sequential([Embedding(...), SimpleRNN(...),
Dense(...)])`` given a device array would copy every feed-forward layer's input to the
host and its output back: for a (64, 1000, 512) float32 sequence that round trip took
130-250 ms on an H200, 20-30x the recurrence's own time.

The dense product is the recurrence engine's input projection
(:func:`~numbarnn.kernels.cuda_tiles.project`, one register-tiled GEMM): a 3-D input is
read in place as a time-major sequence of ``shape[0]`` steps, any other as one step of
all its rows. The arithmetic is float32 or float64 throughout, in the arrays' dtype;
sums run in another order than the host's BLAS, so results agree with the host path to
rounding, not bit for bit. Nothing here knows about Layer objects.
"""
import math

import numpy as np
from numba import cuda

from . import cuda as engine
from .cuda import ELEMENTWISE_THREADS as THREADS, elementwise_blocks as _blocks
from .cuda_common import SIMULATED
from .cuda_elementwise import (RELU_FAMILY_CODES, SOFTMAX_THREADS, activate_kernel,
                                cast_kernel, gather_rows_kernel, prelu_kernel,
                                relu_family_kernel, softmax_rows_kernel)
from .cuda_tiles import TILE_COLS, TILE_EDGE, TILE_ROWS, project
from .scalar_math import ACTIVATION_CODES, SOFTMAX

__all__ = ["DENSE_DTYPES", "LOOKUP_DTYPES", "dense_weights", "dense", "activate",
           "relu_family", "prelu", "embed", "copy", "cast"]

# The compute dtypes these kernels run in; the layers keep their host path for others
# (float16 and bfloat16 compute under the mixed policies).
DENSE_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
# A lookup only copies values: float16 (a mixed policy's compute dtype) as well.
LOOKUP_DTYPES = DENSE_DTYPES + (np.dtype(np.float16),)

LINEAR = ACTIVATION_CODES["linear"]
# softmax_rows_kernel's threads per block (a row's): a warp to SOFTMAX_THREADS on a GPU;
# in the simulator, where each is a Python thread, 2 to 8 (a row still wider than them)
SOFTMAX_MIN_THREADS, SOFTMAX_MAX_THREADS = (2, 8) if SIMULATED else (32, SOFTMAX_THREADS)


def _map(kernel, x, dtype, *args):
    """A new device array of ``x``'s shape in ``dtype``, written by ``kernel(x, out,
    *args)`` over the flat arrays (``x`` C-contiguous), one thread per element."""
    out = cuda.device_array(tuple(x.shape), dtype)
    if out.size:
        engine._launch(kernel, _blocks(out.size), THREADS, 0, x.reshape(x.size),
                       out.reshape(out.size), *args)
    return out


def dense_weights(kernel, bias, dtype):
    """``(kernel, bias, a stand-in for the absent dropout row)`` on the device in
    ``dtype``: bias zeros when None, as the projection always adds one."""
    bias = np.zeros(kernel.shape[1], dtype) if bias is None else bias
    return (cuda.to_device(np.ascontiguousarray(kernel, dtype)),
            cuda.to_device(np.ascontiguousarray(bias, dtype)),
            cuda.device_array((1, 1), dtype))


def dense(x, weights, activation):
    """``activation(x @ kernel + bias)`` on the device.

    Parameters
    ----------
    x : numba device array, (..., features), of the weights' dtype
        Read in place when 3-D (any strides); otherwise C-contiguous.
    weights : tuple
        From :func:`dense_weights`.
    activation : int
        A code of :data:`~numbarnn.kernels.scalar_math.ACTIVATION_CODES` (softmax
        normalises the last axis).

    Returns
    -------
    A new C-contiguous device array, ``x.shape[:-1] + (units,)``.
    """
    kernel, bias, no_drop = weights
    shape = tuple(x.shape)
    units = kernel.shape[1]
    seq = x if x.ndim == 3 else x.reshape((1, math.prod(shape[:-1]), shape[-1]))
    steps, batch = seq.shape[0], seq.shape[1]
    out = cuda.device_array((steps, batch, units), kernel.dtype)
    if out.size:  # (a grid of zero blocks is a launch error)
        engine._launch(project, (math.ceil(steps * batch / TILE_ROWS),
                                 math.ceil(units / TILE_COLS)),
                       (TILE_EDGE, TILE_EDGE), 0, seq, False, False, 0, steps, steps,
                       units, no_drop, False, kernel, bias, out)
    out = out.reshape(shape[:-1] + (units,))
    if activation != LINEAR:
        _activate(out, out, activation)
    return out


def _activate(x, out, activation):
    """``out = activation(x)`` (``out`` may be ``x``: in place); softmax over the last
    axis, a block per row."""
    if out.size == 0:
        return
    if activation == SOFTMAX:
        width = tuple(out.shape)[-1]  # (the simulator's shapes take no negative index)
        rows = (out.size // width, width)
        # the fewest threads (a power of two, a warp at least) that cover the row, up
        # to SOFTMAX_THREADS
        threads = min(SOFTMAX_MAX_THREADS,
                      max(SOFTMAX_MIN_THREADS, 1 << (width - 1).bit_length()))
        engine._launch(softmax_rows_kernel, rows[0], threads, 0, x.reshape(rows),
                       out.reshape(rows))
    else:
        engine._launch(activate_kernel, _blocks(out.size), THREADS, 0, x.reshape(x.size),
                       out.reshape(out.size), activation)


def copy(x):
    """A new device array equal to the C-contiguous device array ``x``."""
    out = cuda.device_array(tuple(x.shape), x.dtype)
    if out.size:
        out.copy_to_device(x)
    return out


def cast(x, dtype):
    """``x`` (a C-contiguous device array) in ``dtype``, as a new device array (``x``
    itself where it has that dtype already)."""
    dtype = np.dtype(dtype)
    return x if x.dtype == dtype else _map(cast_kernel, x, dtype)


def activate(x, activation):
    """``activation(x)`` into a new device array (softmax over the last axis).

    Parameters
    ----------
    x : numba device array, C-contiguous, float32 or float64
    activation : int
        A code of :data:`~numbarnn.kernels.scalar_math.ACTIVATION_CODES`.
    """
    if activation == LINEAR:
        return copy(x)
    out = cuda.device_array(tuple(x.shape), x.dtype)
    _activate(x, out, activation)
    return out


def relu_family(x, kind, alpha=0.0, max_value=None, threshold=0.0):
    """A parametrised ReLU of ``x`` into a new device array.

    Parameters
    ----------
    x : numba device array, C-contiguous, float32 or float64
    kind : {"relu", "elu", "thresholded"}
        See :func:`~numbarnn.kernels.cuda_elementwise.relu_family_kernel`.
    alpha, max_value, threshold : float
        The function's parameters (``max_value`` None: no cap), cast to ``x``'s dtype.
    """
    return _map(relu_family_kernel, x, x.dtype, RELU_FAMILY_CODES[kind], float(alpha),
                max_value is not None, 0.0 if max_value is None else float(max_value),
                float(threshold))


def prelu(x, alpha):
    """PReLU of ``x`` (C-contiguous, float32 or float64) into a new device array, with
    ``alpha`` a device array of the slopes of one batch row (``x.shape[1:]``, shared
    axes spread out) in ``x``'s dtype."""
    return _map(prelu_kernel, x, x.dtype, alpha.reshape(alpha.size))


def embed(indices, table):
    """``table[indices]`` on the device.

    Parameters
    ----------
    indices : numpy integer array
        Checked already: every one in ``[0, len(table))``.
    table : numba device array, (rows, dim)

    Returns
    -------
    A new device array, ``indices.shape + (dim,)``, of the table's dtype.
    """
    dim = table.shape[1]
    out = cuda.device_array((indices.size, dim), table.dtype)
    if out.size:
        # (int64 whatever the indices' type: one compiled signature)
        flat = cuda.to_device(np.ascontiguousarray(indices.reshape(indices.size), np.int64))
        engine._launch(gather_rows_kernel, _blocks(out.size), THREADS, 0, table, flat, out)
    return out.reshape(indices.shape + (dim,))
