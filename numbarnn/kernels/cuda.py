"""Fused numba-cuda kernels for stacks of SimpleRNN-type levels.

The same semantics as :mod:`numbarnn.kernels.cpu` (tf-keras ``backend.rnn``: a masked
step holds every state and repeats the previous output, or zero with
``zero_output_for_mask``; the output carry starts at zero), organised for a GPU:

* time is cut into chunks (bounded device memory for any sequence length); per chunk and
  per level there are exactly two launches: :func:`_project` (the input projection of
  all the chunk's steps as one tiled GEMM, with input dropout, bias and the
  ``go_backwards`` reversal folded into its indexing) and :func:`_recur` (every step of
  the chunk in one launch);
* in :func:`_recur` each block owns a tile of batch rows for the whole chunk, so a step
  needs one block barrier and no grid-wide one: the tile's state is double-buffered in
  shared memory, next to the recurrent matrix when it fits, and the block's threads
  split the ``rows x units`` outputs of a step between them;
* inputs are read in the caller's layout (batch- or time-major, any strides, any real
  dtype) and outputs written in it, so device inputs are never copied or transposed.

Nothing here knows about Layer objects; :func:`run_stack` takes the same
:class:`~numbarnn.kernels.plan.LevelSpec` description as the CPU engine.
"""
import math
import os

import numpy as np
from numba import cuda

from . import plan
from .cuda_support import is_device_array, is_numba_device_array
from .scalar_math import ACTIVATION_CODES, SOFTMAX, scalar_activation

__all__ = ["run_stack", "as_device_array", "to_host", "to_device"]

_SIMULATED = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"
# GEMM tile edge. The simulator runs every thread as a Python thread: keep blocks small.
TILE = 4 if _SIMULATED else 16
# Device memory per chunk of the projection buffer, in elements.
CHUNK_ELEMENTS = 1 << 24

_activation = cuda.jit(device=True)(scalar_activation)


def as_device_array(x):
    """A numba device-array view of ``x`` (no copy)."""
    if is_numba_device_array(x):
        return x
    return cuda.as_cuda_array(x)


def to_host(x):
    """Copy a device array to a numpy array (numpy arrays pass through)."""
    return x if isinstance(x, np.ndarray) else x.copy_to_host()


def to_device(x):
    """Copy a numpy array to the device."""
    return cuda.to_device(np.ascontiguousarray(x))


@cuda.jit(device=True)
def _source_step(k, steps, reverse):
    return steps - 1 - k if reverse else k


@cuda.jit(cache=not _SIMULATED)
def _project(x, x_batch_major, reverse, k0, total_steps, drop, use_drop, kernel, bias,
             proj):
    """``proj[k, b, :] = (x[t, b, :] * drop[b, :]) @ kernel + bias`` for the chunk's steps.

    ``k`` counts processing steps from ``k0``; ``t`` is the step in ``x`` (reversed when
    ``reverse``). Rows ``k * B + b`` run along the grid's x axis (no 65535 limit).
    """
    tile_x = cuda.shared.array((TILE, TILE), proj.dtype)
    tile_k = cuda.shared.array((TILE, TILE), proj.dtype)
    steps, batch, units = proj.shape
    in_dim = kernel.shape[0]
    tx = cuda.threadIdx.x
    ty = cuda.threadIdx.y
    row = cuda.blockIdx.x * TILE + ty
    col = cuda.blockIdx.y * TILE + tx
    k = row // batch
    b = row - k * batch
    t = _source_step(k0 + k, total_steps, reverse)
    acc = proj.dtype.type(0)
    for i0 in range(0, in_dim, TILE):
        i = i0 + tx
        if row < steps * batch and i < in_dim:
            v = proj.dtype.type(x[b, t, i] if x_batch_major else x[t, b, i])
            tile_x[ty, tx] = v * drop[b, i] if use_drop else v
        else:
            tile_x[ty, tx] = 0
        i = i0 + ty
        tile_k[ty, tx] = kernel[i, col] if (i < in_dim and col < units) else 0
        cuda.syncthreads()
        for q in range(TILE):
            acc += tile_x[ty, q] * tile_k[q, tx]
        cuda.syncthreads()
    if row < steps * batch and col < units:
        proj[k, b, col] = acc + bias[col]


@cuda.jit(device=True)
def _live(mask, has_mask, mask_batch_major, b, t):
    if not has_mask:
        return True
    return mask[b, t] != 0 if mask_batch_major else mask[t, b] != 0


@cuda.jit(cache=not _SIMULATED)
def _recur(proj, rec, rec_shared, rdp, use_rdp, act, mask, has_mask, mask_batch_major,
           reverse, k0, total_steps, inp, inp_batch_major, inp_is_source, residual,
           is_last, zero_output_for_mask, h, carry, out, want_out, out_batch_major,
           rows_per_block):
    """All steps of one chunk of one level; a block owns ``rows_per_block`` batch rows.

    Dynamic shared memory holds the block's state twice (read one, write the other,
    alternating per step, so a step needs one barrier) and, when ``rec_shared``, the
    recurrent matrix. ``h`` (global) is read at the start and written at the end.
    ``inp`` is the level's input for the residual: the layer-0 input (source layout,
    reversed when ``reverse``) or the previous level's chunk output (processing order,
    time-major).
    """
    steps, batch, units = proj.shape
    b0 = cuda.blockIdx.x * rows_per_block
    rows = min(rows_per_block, batch - b0)
    work = rows * units
    tid = cuda.threadIdx.x
    nth = cuda.blockDim.x
    shared = cuda.shared.array(0, proj.dtype)
    tile = rows_per_block * units
    weights = shared[2 * tile:2 * tile + units * units] if rec_shared else shared[:0]
    for idx in range(tid, work, nth):
        shared[idx] = h[b0 + idx // units, idx % units]
    if rec_shared:
        for idx in range(tid, units * units, nth):
            weights[idx] = rec[idx // units, idx % units]
    cuda.syncthreads()
    for k in range(steps):
        cur = (k % 2) * tile
        nxt = tile - cur
        t = _source_step(k0 + k, total_steps, reverse)
        for idx in range(tid, work, nth):
            r = idx // units
            j = idx - r * units
            b = b0 + r
            if _live(mask, has_mask, mask_batch_major, b, t):
                z = proj[k, b, j]
                row = cur + r * units
                for i in range(units):
                    hv = shared[row + i] * rdp[b, i] if use_rdp else shared[row + i]
                    z += hv * (weights[i * units + j] if rec_shared else rec[i, j])
                shared[nxt + idx] = z if act == SOFTMAX else _activation(act, z)
            else:
                shared[nxt + idx] = shared[cur + idx]
        if act == SOFTMAX:  # needs the whole row: one thread per row, between barriers
            cuda.syncthreads()
            for r in range(tid, rows, nth):
                if _live(mask, has_mask, mask_batch_major, b0 + r, t):
                    row = nxt + r * units
                    top = shared[row]
                    for j in range(1, units):
                        top = max(top, shared[row + j])
                    total = proj.dtype.type(0)
                    for j in range(units):
                        e = math.exp(shared[row + j] - top)
                        shared[row + j] = e
                        total += e
                    for j in range(units):
                        shared[row + j] = shared[row + j] / total
            cuda.syncthreads()
        for idx in range(tid, work, nth):
            r = idx // units
            j = idx - r * units
            b = b0 + r
            if _live(mask, has_mask, mask_batch_major, b, t):
                o = shared[nxt + idx]
                if residual:
                    if not inp_is_source:
                        o += inp[k, b, j]
                    elif inp_batch_major:
                        o += proj.dtype.type(inp[b, t, j])
                    else:
                        o += proj.dtype.type(inp[t, b, j])
            elif is_last and not zero_output_for_mask:
                o = carry[b, j]
            else:
                o = proj.dtype.type(0)  # intermediate levels: never read (masked below too)
            if is_last:
                carry[b, j] = o
            if want_out:
                if out_batch_major:
                    out[b, k0 + k, j] = o
                elif is_last:
                    out[k0 + k, b, j] = o
                else:
                    out[k, b, j] = o
        cuda.syncthreads()
    last = (steps % 2) * tile
    for idx in range(tid, work, nth):
        h[b0 + idx // units, idx % units] = shared[last + idx]


# Dynamic shared memory a block may use without opting in to more.
SHARED_BYTES = 48 * 1024


def _launch_shape(batch, units):
    """Rows per block and threads per block for :func:`_recur`."""
    rows = max(1, min(batch, 8, 256 // max(1, units)))
    if _SIMULATED:
        return rows, max(1, min(rows * units, 8))
    threads = min(256, 32 * math.ceil(rows * units / 32))
    return rows, threads


def _device_weights(levels, packed, dtype):
    """Device copies of the levels' weights, made once per packed (weights') version."""
    mirror = getattr(packed, "_device_mirror", None)
    if mirror is None or mirror[0] != np.dtype(dtype):
        arrays = []
        for s in levels:
            bias = (np.zeros(s.units, dtype) if s.bias is None
                    else np.asarray(s.bias, dtype))
            arrays.append((cuda.to_device(np.ascontiguousarray(s.kernel, dtype)),
                           cuda.to_device(np.ascontiguousarray(s.recurrent, dtype)),
                           cuda.to_device(np.ascontiguousarray(bias))))
        mirror = (np.dtype(dtype), arrays)
        packed._device_mirror = mirror
    return mirror[1]


def _dropout_on_device(mask, dtype):
    return (cuda.to_device(np.ascontiguousarray(mask, dtype)) if mask is not None
            else cuda.device_array((1, 1), dtype)), mask is not None


def run_stack(levels, x, mask, states, go_backwards=False, zero_output_for_mask=False,
              return_sequences=False, time_major=False, packed=None, dtype=None):
    """Run a stack of levels on the GPU.

    Parameters
    ----------
    levels : list of LevelSpec
    x : numpy array or device array, (B, T, I) or (T, B, I) if ``time_major``; any real
        dtype, any strides (read in place).
    mask : bool/0-1 array (numpy or device) matching the first two axes of ``x``, or None.
    states : list of (B, U_l) numpy or device arrays (not modified).
    packed : PackedStack, optional
        Carries the device mirror of the weights between calls.
    dtype : numpy dtype of the computation (default: that of ``x``).

    Returns
    -------
    output, states : device arrays, in the same layout rules as the CPU engine.
    """
    dtype = np.dtype(dtype or x.dtype)
    x_dev = as_device_array(x) if is_device_array(x) else cuda.to_device(
        np.ascontiguousarray(x))
    batch_axis = 1 if time_major else 0
    batch, steps = x.shape[batch_axis], x.shape[1 - batch_axis]
    if mask is None:
        mask_dev, has_mask = cuda.device_array((1, 1), np.bool_), False
    else:
        mask_dev = as_device_array(mask) if is_device_array(mask) else cuda.to_device(
            np.ascontiguousarray(mask, np.bool_))
        has_mask = True
    if packed is None:
        packed = plan.pack(levels, dtype)
    weights = _device_weights(levels, packed, dtype)
    units_last = levels[-1].units
    out_shape = (steps, batch, units_last) if time_major else (batch, steps, units_last)
    out_seq = cuda.device_array(out_shape if return_sequences else (1, 1, 1), dtype)
    carry = cuda.to_device(np.zeros((batch, units_last), dtype))
    states_dev = [cuda.to_device(np.ascontiguousarray(to_host(state), dtype))
                  for state in states]
    drops = [(_dropout_on_device(s.input_dropout, dtype),
              _dropout_on_device(s.recurrent_dropout, dtype))
             for s in levels]
    widest = max([levels[0].input_dim] + [s.units for s in levels])
    chunk = max(1, min(steps, CHUNK_ELEMENTS // max(1, batch * widest)))
    proj = cuda.device_array((chunk, batch, max(s.units for s in levels)), dtype)
    seq_bufs = [cuda.device_array((chunk, batch, max(s.units for s in levels)), dtype)
                for _ in range(2 if len(levels) > 1 else 0)]
    # An empty batch launches nothing (a grid of zero blocks is a launch error).
    for k0 in range(0, steps if batch else 0, chunk):
        n = min(chunk, steps - k0)
        level_in = x_dev
        for l, s in enumerate(levels):
            kernel, rec, bias = weights[l]
            (in_drop, use_in), (rec_drop, use_rec) = drops[l]
            first, last = l == 0, l == len(levels) - 1
            p = proj[:n, :, :s.units]
            _project[(math.ceil(n * batch / TILE), math.ceil(s.units / TILE)),
                     (TILE, TILE)](
                level_in, first and not time_major, first and go_backwards, k0 if first
                else 0, steps if first else n, in_drop, use_in, kernel, bias, p)
            if last:
                out, want_out = out_seq, return_sequences
            else:
                out, want_out = seq_bufs[l % 2][:n, :, :s.units], True
            rows, threads = _launch_shape(batch, s.units)
            tile_bytes = 2 * rows * s.units * dtype.itemsize
            rec_shared = tile_bytes + s.units ** 2 * dtype.itemsize <= SHARED_BYTES
            shared_bytes = tile_bytes + (s.units ** 2 * dtype.itemsize if rec_shared else 0)
            _recur[math.ceil(batch / rows), threads, 0, shared_bytes](
                p, rec, rec_shared, rec_drop, use_rec, ACTIVATION_CODES[s.activation],
                mask_dev, has_mask, not time_major, go_backwards, k0, steps, level_in,
                first and not time_major, first, bool(s.residual), last,
                bool(zero_output_for_mask), states_dev[l], carry, out, want_out,
                last and return_sequences and not time_major, rows)
            level_in = out
    cuda.synchronize()
    output = out_seq if return_sequences else carry
    return output, states_dev
