"""The CUDA engine: runs a stack of SimpleRNN-type levels with the kernels of
:mod:`numbarnn.kernels.cuda_recurrence`.

Per chunk of time and per level there are exactly two launches: the input projection
of the chunk's steps (one GEMM) and the recurrence over all of them (one persistent
kernel). Which recurrence kernel runs is chosen per level:

* ``recur_block`` (block-local: each block owns batch rows and all units, a step needs
  only block barriers) when the recurrent matrix fits in a block's shared memory next
  to the state tile, for softmax (which needs whole rows), and for matrices too small
  to be worth a grid barrier per step (``recur_block_l2`` then reads the matrix from
  global memory, ``recur_block_global`` the state too where a row is too wide). Where
  a block's outputs fit one round of its threads, without recurrent dropout and not
  for softmax, its lean variants run instead (``recur_block_lean``,
  ``recur_block_l2_lean``: fewer instructions per step);
* ``recur_grid`` (cooperative: each block owns a slice of units and keeps those
  columns of the recurrent matrix in shared memory, one grid barrier per step) for
  larger matrices while a block has few batch rows to walk per step;
* ``recur_tiled`` (cooperative: each step a register-tiled GEMM, one grid barrier per
  step) for larger matrices otherwise: large batches, where a step is compute-bound.

``NUMBARNN_CUDA_RECURRENCE=block``, ``grid`` or ``tiled`` forces one kernel where it
can run (for measurements; softmax always runs on ``recur_block``). Weights are
mirrored to the device once per version of the weights; work buffers are kept per
batch size with the weights, so a call allocates only its results. Nothing here knows
about Layer objects; :func:`run_stack` takes the same
:class:`~numbarnn.kernels.plan.LevelSpec` description as the CPU engine.
"""
import functools
import math
import os
import threading

import numpy as np
from numba import cuda

from . import cuda_launch
from . import cuda_recurrence as kernels
from . import plan
from .cuda_elementwise import MASK_TILE
from .cuda_support import is_device_array, is_numba_device_array
from .scalar_math import ACTIVATION_CODES

__all__ = ["run_stack", "merge_directions", "mask_steps", "as_device_array", "to_host",
           "to_device"]

# Device memory per chunk of the projection buffer, in elements.
CHUNK_ELEMENTS = 1 << 24
# Dynamic shared memory a block may use without opting in to more, and what
# recur_block's plans give a block (its matrix on chip past that did not pay: see
# docs/benchmarks.rst). More than the default is granted per kernel at its first launch
# (:func:`_allow_shared`, up to the device's opt-in limit, 227 KiB on an H100).
DEFAULT_SHARED_BYTES = 48 * 1024
SHARED_BYTES = DEFAULT_SHARED_BYTES
# recur_grid's budget (None: the device's opt-in limit). Its blocks hold weight slices
# for their whole launch, and with all of a block's rows on chip a step reads the
# state once instead of in groups: (64, 1000, 512, 512) ran three groups per step in
# 48 KiB (19.5 ms), one in the opt-in (11.5 ms, H100).
GRID_SHARED_BYTES = None
# Threads per block of recur_block and recur_grid (powers of two). The simulator runs
# each as a Python thread (16 for recur_block: the tests' small layers then run on
# both its lean variants, in one round, and its general kernels, in several). On the
# GPU recur_block's are chosen per plan
# (:func:`_block_threads`) unless BLOCK_THREADS is set; recur_grid takes the most its
# launch bound allows (`python -m numbarnn.gpu_bench --sweep` on an H200: 512 beat 256
# and 128 at every target shape it runs, before hoisting its index arithmetic out of
# the step loop took its registers past 128; 256, the bound, since).
BLOCK_THREADS = 16 if kernels.SIMULATED else None
GRID_THREADS = 4 if kernels.SIMULATED else kernels.GRID_MAX_LAUNCH
# recur_block: two threads per output from 128 to 512 threads (the fastest at the
# target shapes: 128 for one row of 64 units, 512 for 256 units), fewer where the
# blocks would not all be resident at once (REGISTERS per thread: at most the 128 of
# its launch bound, of 65536 per multiprocessor).
BLOCK_MIN_THREADS, BLOCK_MAX_THREADS = 128, kernels.BLOCK_MAX_LAUNCH
BLOCK_REGISTERS = 128
# recur_block's lean variants where they apply (state on chip, one round of threads,
# no recurrent dropout, not softmax); False runs the general kernels everywhere (tests).
BLOCK_LEAN = True
# Launches through numbarnn.kernels.cuda_launch (False: numba-cuda's call path alone).
FAST_LAUNCH = True
# The first projection launched before a call's other device set-up (outputs, states);
# False launches it after them, as before (for timing the two against each other).
PROJECT_FIRST = True
RECURRENCE = os.environ.get("NUMBARNN_CUDA_RECURRENCE", "auto")
if RECURRENCE not in ("auto", "block", "grid", "tiled"):
    raise ValueError("NUMBARNN_CUDA_RECURRENCE must be 'auto', 'block', 'grid' or "
                     f"'tiled'. Received: {RECURRENCE!r}")


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


def _launch(kernel, grid, block, shared_bytes, *args):
    """Launch ``kernel``; every launch goes through here (the compile check in
    :mod:`numbarnn.kernels.cuda_check` records the argument types at this point).
    On a GPU through :mod:`~numbarnn.kernels.cuda_launch` where it can (FAST_LAUNCH)."""
    if kernels.SIMULATED:
        kernel[grid, block, 0, shared_bytes](*args)
        return
    compiled = cuda_launch.compiled_for(kernel, args) if FAST_LAUNCH else None
    if shared_bytes > DEFAULT_SHARED_BYTES:
        _allow_shared(kernel, compiled or kernel._compile_for_args(*args), shared_bytes)
    if compiled is None:
        kernel[grid, block, 0, shared_bytes](*args)
    else:
        cuda_launch.launch(compiled, grid, block, shared_bytes, args)


_SHARED_GRANTED = {}  # id(compiled kernel) -> dynamic shared bytes it may launch with


def _allow_shared(kernel, compiled, shared_bytes):
    """Let ``compiled`` (an overload of ``kernel``) launch with ``shared_bytes`` of
    dynamic shared memory. Past 48 KiB the driver refuses a launch unless the kernel's
    MAX_DYNAMIC_SHARED_SIZE_BYTES attribute was raised; numba-cuda has no API for it,
    so it is set here as numba-cuda sets its own carveout attribute."""
    if _SHARED_GRANTED.get(id(compiled), 0) >= shared_bytes:
        return
    from numba.cuda.cudadrv.driver import binding, driver
    cufunc = compiled._codelibrary.get_cufunc()
    limit = cufunc.device.MAX_SHARED_MEMORY_PER_BLOCK_OPTIN - cufunc.attrs.shared
    if shared_bytes > limit:
        raise ValueError(f"{kernel.py_func.__name__} needs {shared_bytes} bytes of shared "
                         f"memory; this GPU allows {limit}")
    attribute = binding.CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES
    driver.cuKernelSetAttribute(attribute, limit, cufunc.handle, cufunc.device.id)
    _SHARED_GRANTED[id(compiled)] = limit


def _max_resident_blocks():
    """Blocks a cooperative launch may have: one per multiprocessor (every cooperative
    plan fits one block per SM: at most 256 threads, whose registers the launch bound
    keeps within an SM's, and at most the per-block opt-in limit of shared memory,
    which is within an SM's)."""
    if kernels.SIMULATED:
        # Blocks run one after another there, so any number works; eight still give
        # the multi-block paths, where recur_grid's plan (the fewest outputs per
        # block) would otherwise spread a small layer over a block per output.
        return 8
    return cuda.get_current_device().MULTIPROCESSOR_COUNT


def _block_plan(batch, units, itemsize):
    """``(rows per block, threads, shared bytes, recurrent matrix in shared memory,
    state in shared memory)`` of recur_block. On chip, state rows are zero-padded and
    the matrix is laid out in slots (:func:`~.cuda_recurrence.slot_layout`); the
    matrix is held on chip only with the state."""
    rows = max(1, min(batch, 8, 256 // max(1, units)))
    # A power of two: where a block has fewer outputs than threads, several threads
    # split each output's dot product.
    threads = _block_threads(rows * units, math.ceil(batch / rows))
    parts = kernels.parts_per_output(rows * units, threads)
    _, slot_stride, padded = kernels.slot_layout(units, parts)
    partial_bytes = threads * itemsize
    tile_bytes = 2 * rows * padded * itemsize
    rec_bytes = units * parts * slot_stride * itemsize
    state_shared = tile_bytes + partial_bytes <= SHARED_BYTES
    rec_shared = state_shared and tile_bytes + rec_bytes + partial_bytes <= SHARED_BYTES
    if not state_shared:  # rows wider than shared memory stay in global memory
        tile_bytes = 0
    shared = tile_bytes + (rec_bytes if rec_shared else 0) + partial_bytes
    return rows, threads, shared, rec_shared, state_shared


def _block_threads(outputs, blocks):
    """Threads per block of a recur_block launch of ``blocks`` blocks of ``outputs``."""
    if BLOCK_THREADS:
        return BLOCK_THREADS
    threads = BLOCK_MIN_THREADS
    while threads < min(2 * outputs, BLOCK_MAX_THREADS):
        threads *= 2
    while threads > BLOCK_MIN_THREADS and blocks > _max_resident_blocks() * max(
            1, 65536 // (BLOCK_REGISTERS * threads)):
        threads //= 2
    return threads


def _grid_sizes(batch, units, itemsize):
    """``(slice units, group rows, rows per block)`` of recur_grid, or None when the
    slices cannot be held on chip by co-resident blocks.

    A block keeps the weight slots of ``slice_units`` units in shared memory and reads
    its rows of the previous state from global memory (L2) into the rest at every
    step, ``group_rows`` rows at a time. Of the splits of the units into slices and of
    the batch into row tiles (at most one block per multiprocessor), the plan takes
    the fewest outputs per block (a step's critical path), then the fewest groups per
    step (each a round trip to L2 between two block barriers), then the fewest slices
    (every block reads its rows of the whole state: fewer slices read less).
    """
    return _grid_sizes_for(batch, units, _grid_shared_budget() // itemsize,
                           _max_resident_blocks(), GRID_THREADS)


@functools.lru_cache(maxsize=256)  # the plan of every call: computed once per shape
def _grid_sizes_for(batch, units, budget, max_blocks, threads):
    best, best_key = None, None
    for wanted in range(1, min(units, max_blocks) + 1):
        slice_units = math.ceil(units / wanted)
        slices = math.ceil(units / slice_units)  # (can be fewer than wanted)
        tiles = max(1, min(batch, max_blocks // slices))
        rows_per_block = math.ceil(batch / tiles)
        group_rows = _grid_group_rows(units, slice_units, rows_per_block, budget)
        if group_rows:
            key = (rows_per_block * slice_units, math.ceil(rows_per_block / group_rows),
                   slices)
            if best_key is None or key < best_key:
                best, best_key = (slice_units, group_rows, rows_per_block), key
    return best


def _grid_group_rows(units, slice_units, rows, budget):
    """The most rows (up to ``rows``) a group of a recur_grid block with
    ``slice_units`` units can have in ``budget`` elements of shared memory, or 0."""
    group = rows
    while group >= 1:
        need = _grid_shared(units, slice_units, group)
        if need <= budget:
            return group
        # fewer rows by the excess, at this group's padded row (a smaller group has
        # more parts per output, which only widens its weight slots)
        padded = kernels.slot_layout(units, _grid_parts(slice_units, group))[2]
        group -= max(1, math.ceil((need - budget) / padded))
    return 0


def _grid_shared_budget():
    """Dynamic shared memory a recur_grid block may use, in bytes: GRID_SHARED_BYTES,
    or by default the device's opt-in limit (SHARED_BYTES under the simulator)."""
    if GRID_SHARED_BYTES is not None:
        return GRID_SHARED_BYTES
    if kernels.SIMULATED:
        return SHARED_BYTES
    return cuda.get_current_device().MAX_SHARED_MEMORY_PER_BLOCK_OPTIN


def _grid_parts(slice_units, group_rows):
    """Threads per output of recur_grid (as the kernel counts them; an output is a
    unit of a set of rows, see :func:`~.cuda_recurrence.grid_row_sets`)."""
    _, row_sets, _ = kernels.grid_row_sets(group_rows)
    return kernels.parts_per_output(row_sets * slice_units, GRID_THREADS)


def _grid_shared(units, slice_units, group_rows):
    """Shared memory of a recur_grid block, in elements: the weight slots, the padded
    state rows of a group and one partial sum per thread."""
    parts = _grid_parts(slice_units, group_rows)
    _, slot_stride, padded = kernels.slot_layout(units, parts)
    _, _, tile_rows = kernels.grid_row_sets(group_rows)
    return slice_units * parts * slot_stride + tile_rows * padded + GRID_THREADS


def _grid_plan(batch, units, itemsize):
    """``(slice units, group rows, rows per block, grid, shared bytes)`` or None."""
    sizes = _grid_sizes(batch, units, itemsize) if batch else None
    if sizes is None:
        return None
    slice_units, group_rows, rows_per_block = sizes
    grid = (math.ceil(units / slice_units), math.ceil(batch / rows_per_block))
    shared = _grid_shared(units, slice_units, group_rows) * itemsize
    return slice_units, group_rows, rows_per_block, grid, shared


def _tiled_blocks(tiles):
    """Blocks of a recur_tiled launch for ``tiles`` output tiles: all co-resident."""
    return min(tiles, _max_resident_blocks())


def _tiled_plan(batch, units):
    """``(blocks,)`` of recur_tiled: a block per output tile while they are resident."""
    tiles = (math.ceil(batch / kernels.TILE_ROWS)
             * math.ceil(units / kernels.TILE_COLS))
    return (_tiled_blocks(tiles),)


# auto: the cooperative kernels pay a grid barrier per step (about 1.3 us on an H100);
# recur_block with the matrix in global memory re-reads it from L2 in every block at
# every step (about 0.4 us per 64 KiB at ~170 GB/s per SM). A cooperative kernel is
# picked where that read costs more than the barrier. recur_grid while its blocks'
# threads cover their outputs in a few rounds; beyond that (at batch 1024 x 1024 units
# 31 rounds per step, each dot product with 2 shared loads per FMA) recur_tiled, whose
# register tiles do 32 FMAs per 12 shared loads. The limits were first estimated from
# those figures, then set to the crossings measured (`python -m numbarnn.gpu_bench
# --recurrence block grid tiled`, the six target shapes; H100, after recur_grid's plans
# took the opt-in shared memory): recur_block beat recur_grid at 128 units in float32
# (a 64 KiB matrix: 0.65 against 0.74 ms at batch 32), recur_grid won at 256 units
# (256 KiB: 1.33 against 1.72 ms at batch 64 in one round, 1.11 against 1.22 at batch
# 256 in two) and 512, and recur_tiled at batch 1024 x 1024 units (42 against 82 ms).
# Since recur_block_l2_lean loads four groups of weights before using any, it wins at
# 256 units in float32 (a 256 KiB matrix) too; recur_grid from 512 KiB (H200,
# 2026-11-27, recurrence kernel ms, block / grid): float32 (64, 200, 128, 256) 0.68 /
# 0.88, (256, 50, 256, 256) 0.34 / 0.41; 384 units (576 KiB) at batch 16, 64 and 256
# 1.50 / 0.90, 1.53 / 1.11, 1.96 / 0.60; float64 256 units (512 KiB) 1.44 / 1.18 and
# 0.67 / 0.42; (64, 1000, 512, 512) 10.8 / 5.7.
GRID_MIN_MATRIX_BYTES = 512 * 1024
GRID_MAX_ROUNDS = 4


def _recurrence_plans(levels, batch, itemsize):
    """Per level: ("block", plan), ("grid", plan) or ("tiled", plan)."""
    plans = []
    for s in levels:
        block = _block_plan(batch, s.units, itemsize)
        if s.activation == "softmax" or RECURRENCE == "block" or not batch:
            plans.append(("block", block))
            continue
        if RECURRENCE == "tiled":
            plans.append(("tiled", _tiled_plan(batch, s.units)))
            continue
        grid = _grid_plan(batch, s.units, itemsize)
        if RECURRENCE == "grid":
            plans.append(("grid", grid) if grid else ("block", block))
        elif block[3] or s.units ** 2 * itemsize < GRID_MIN_MATRIX_BYTES:
            plans.append(("block", block))
        elif grid and grid[0] * grid[2] <= GRID_MAX_ROUNDS * GRID_THREADS:
            plans.append(("grid", grid))
        else:
            plans.append(("tiled", _tiled_plan(batch, s.units)))
    return plans


def _block_kernel(block_plan, level, recurrent_dropout, mirror, l):
    """``(kernel, recurrent matrix, lean)``: the recur_block kernel for ``block_plan``
    (see :func:`_block_plan`) of level ``l`` and the matrix in its layout (slots on
    chip, interleaved slots in global memory beside a padded state on chip, else
    row-major). The lean variants (BLOCK_LEAN) where the state is on chip, every
    output fits one round of the block's threads (split dot products keep the parts
    within the threads: one round exactly when the outputs are no more than the
    threads), without recurrent dropout and not for softmax."""
    rows, threads, _, rec_shared, state_shared = block_plan
    parts = kernels.parts_per_output(rows * level.units, threads)
    lean = (BLOCK_LEAN and state_shared and not recurrent_dropout
            and level.activation != "softmax" and rows * level.units <= threads)
    if rec_shared:
        kernel = kernels.recur_block_lean if lean else kernels.recur_block
        return kernel, mirror.rec_slots(l, parts), lean
    if state_shared:
        kernel = kernels.recur_block_l2_lean if lean else kernels.recur_block_l2
        return kernel, mirror.rec_spread(l, parts), lean
    return kernels.recur_block_global, mirror.levels[l]["rec_flat"], False


def _slot_weights(columns, parts):
    """The (units, n) matrix ``columns`` in the slot layout of
    :func:`~.cuda_recurrence.slot_layout`, shape (n, parts, slot stride): slot (j, p)
    holds ``columns[i, j]`` for the units ``i = 4 * (p + parts * g) + c`` (g < groups,
    c < 4) that part ``p`` reads, in that order; zero past the last unit."""
    units, n = columns.shape
    groups, slot_stride, padded = kernels.slot_layout(units, parts)
    i = (4 * (np.arange(parts)[:, None, None] + parts * np.arange(groups)[None, :, None])
         + np.arange(4)).reshape(parts, 4 * groups)
    rows = np.zeros((padded, n), columns.dtype)
    rows[:units] = columns
    slots = np.zeros((n, parts, slot_stride), columns.dtype)
    slots[:, :, :4 * groups] = rows[i].transpose(2, 0, 1)
    return slots


class _Mirror:
    """Device copies of a stack's weights (for one dtype) and the work buffers of
    the shapes it ran; kept on the PackedStack, so rebuilt when the weights change."""

    def __init__(self, levels, dtype):
        self.dtype = dtype
        self.lock = threading.Lock()  # calls from several threads share the buffers
        self.levels = []
        for s in levels:
            bias = (np.zeros(s.units, dtype) if s.bias is None
                    else np.asarray(s.bias, dtype))
            rec = np.ascontiguousarray(s.recurrent, dtype)
            rec_dev = cuda.to_device(rec)
            self.levels.append({
                "kernel": cuda.to_device(np.ascontiguousarray(s.kernel, dtype)),
                "rec_host": rec, "rec": rec_dev,  # 2-D (recur_tiled), and flat:
                "rec_flat": rec_dev.reshape(rec.size),
                "bias": cuda.to_device(bias), "rec_cols": {}, "rec_slots": {},
                "rec_spread": {}})
        self.none = cuda.device_array((1, 1), dtype)  # stands in for absent arrays
        self.no_out = cuda.device_array((1, 1, 1), dtype)
        self.no_mask = cuda.device_array((1, 1), np.uint8)
        self.buffers = {}

    def rec_slots(self, l, parts):
        """Level ``l``'s recurrent matrix in recur_block's slot layout for dot
        products split over ``parts`` threads (flat)."""
        level = self.levels[l]
        if parts not in level["rec_slots"]:
            slots = _slot_weights(level["rec_host"], parts)
            level["rec_slots"][parts] = cuda.to_device(slots.reshape(slots.size))
        return level["rec_slots"][parts]

    def rec_spread(self, l, parts):
        """Level ``l``'s recurrent matrix in recur_block's slots, interleaved for
        global memory: value ``e`` of slot ``s`` at ``e * slots + s`` (flat)."""
        level = self.levels[l]
        if parts not in level["rec_spread"]:
            rec = level["rec_host"]
            groups, _, _ = kernels.slot_layout(rec.shape[0], parts)
            slots = _slot_weights(rec, parts)[:, :, :4 * groups]
            spread = np.ascontiguousarray(
                slots.reshape(rec.shape[0] * parts, 4 * groups).T)
            level["rec_spread"][parts] = cuda.to_device(spread.reshape(spread.size))
        return level["rec_spread"][parts]

    def rec_cols(self, l, slice_units, parts):
        """Level ``l``'s recurrent matrix as column slices of ``slice_units`` (the
        last zero-padded), each in the slot layout (recur_grid): row ``x`` is block
        column ``x``'s."""
        level = self.levels[l]
        key = (slice_units, parts)
        if key not in level["rec_cols"]:
            rec = level["rec_host"]
            units = rec.shape[0]
            slices = math.ceil(units / slice_units)
            padded = np.zeros((units, slices * slice_units), self.dtype)
            padded[:, :units] = rec
            slots = _slot_weights(padded, parts)
            level["rec_cols"][key] = cuda.to_device(slots.reshape(slices, -1))
        return level["rec_cols"][key]

    def work(self, levels, batch, chunk):
        """Projection, inter-level sequence, state and carry buffers for ``batch`` rows
        and at least ``chunk`` steps; kept while the batch size stays (a shorter sequence
        reuses them: the kernels take the step count, not the buffers' length)."""
        held = self.buffers
        if held.get("batch") != batch or held["chunk"] < chunk:
            widest = max(s.units for s in levels)
            states = [cuda.device_array((2, batch, s.units), self.dtype) for s in levels]
            held.clear()
            held.update(
                batch=batch, chunk=chunk, states=states,
                flat_states=[h.reshape(h.size) for h in states],
                # The halves as views made once: slicing a device array costs a few
                # dozen microseconds of host time per call.
                halves=[(h[0], h[1]) for h in states],
                proj=cuda.device_array((chunk, batch, widest), self.dtype),
                carry=cuda.device_array((batch, levels[-1].units), self.dtype),
                seq=[cuda.device_array((chunk, batch, widest), self.dtype)
                     for _ in range(2 if len(levels) > 1 else 0)])
        return held


def _mirror(levels, packed, dtype):
    mirror = getattr(packed, "_device_mirror", None)
    if mirror is None or mirror.dtype != dtype:
        mirror = _Mirror(levels, dtype)
        packed._device_mirror = mirror
    return mirror


def _on_device(a, dtype, mirror):
    """``a`` (numpy, device or None) as a device array of ``dtype``."""
    if a is None:
        return mirror.none, False
    if is_device_array(a):
        return as_device_array(a), True
    return cuda.to_device(np.ascontiguousarray(a, dtype)), True


def _load_state(half, state, dtype):
    """Copy a level's initial state into ``half`` (``hbuf[0]``). A numpy state of
    zeros (every call without initial or stateful state) is a device memset, not a
    host-to-device copy."""
    if half.size == 0:  # an empty batch: nothing to copy (and no memory to point at)
        return
    if is_device_array(state):
        state = as_device_array(state)
        if state.dtype == dtype and state.is_c_contiguous():
            half.copy_to_device(state)
            return
        state = state.copy_to_host()
    state = np.asarray(state)
    if not kernels.SIMULATED and not state.any():  # (NaN is truthy)
        from numba.cuda.cudadrv.driver import device_memset
        device_memset(half, 0, half.nbytes)
        return
    half.copy_to_device(np.ascontiguousarray(state, dtype))


def run_stack(levels, x, mask, states, go_backwards=False, zero_output_for_mask=False,
              return_sequences=False, time_major=False, packed=None, dtype=None,
              return_states=True):
    """Run a stack of levels on the GPU.

    Parameters
    ----------
    levels : list of LevelSpec
    x : numpy array or device array, (B, T, I) or (T, B, I) if ``time_major``; any real
        dtype, any strides (read in place).
    mask : bool/0-1 array (numpy or device) matching the first two axes of ``x``, or None.
    states : list of (B, U_l) numpy or device arrays (not modified).
    packed : PackedStack, optional
        Carries the device mirror of the weights and the work buffers between calls.
    dtype : numpy dtype of the computation (default: that of ``x``).
    return_states : bool
        False: the final states are not copied out (an empty list comes back), which
        saves an allocation and a copy per level (a call that neither returns nor
        keeps its states).

    Returns
    -------
    output, states : device arrays, in the same layout rules as the CPU engine.
    """
    dtype = np.dtype(dtype or x.dtype)
    if packed is None:
        packed = plan.pack(levels, dtype)
    mirror = _mirror(levels, packed, dtype)
    with mirror.lock:
        return _run(levels, mirror, x, mask, states, go_backwards, zero_output_for_mask,
                    return_sequences, time_major, dtype, return_states)


ELEMENTWISE_THREADS = 256


def elementwise_blocks(n):
    """Blocks of ELEMENTWISE_THREADS threads covering ``n`` elements (one at least)."""
    return max(1, -(-n // ELEMENTWISE_THREADS))


def merge_directions(y, y_rev, mode, time_axis=None):
    """A bidirectional layer's merged output, on the device.

    Parameters
    ----------
    y, y_rev : numba device arrays of one dtype, C-contiguous
        The forward and backward outputs, (rows, units) or (A, B, units); the backward
        one in processing order.
    mode : {"concat", "sum", "ave", "mul", None}
        As the layer's ``merge_mode``; None gives ``[y, y_rev in input order]``.
    time_axis : {0, 1, None}
        The axis ``y_rev`` runs backwards along (its sequence), None for last outputs.

    Returns
    -------
    A device array (a list of two for ``mode=None``).
    """
    if mode is None:
        return [y, y_rev if time_axis is None else merge_directions(
            y, y_rev, "reversed", time_axis)]
    three = (lambda a: a) if y.ndim == 3 else (lambda a: a.reshape((1,) + a.shape))
    fwd, bwd = three(y), three(y_rev)
    units = fwd.shape[2] + bwd.shape[2] if mode == "concat" else bwd.shape[2]
    out = cuda.device_array(fwd.shape[:2] + (units,), dtype=fwd.dtype)
    reverse_axis = -1 if time_axis is None else time_axis
    blocks = elementwise_blocks(out.size)
    _launch(kernels.merge_directions_kernel, blocks, ELEMENTWISE_THREADS, 0, fwd, bwd, out,
            kernels.MERGE_CODES[mode], reverse_axis)
    return out if y.ndim == 3 else out.reshape(out.shape[1:])


def mask_steps(x, values):
    """``(x with its masked timesteps zeroed, the mask)``: on the device, and the mask
    (True where a feature differs from ``values``) copied to the host, as the
    recurrent layers take it.

    Parameters
    ----------
    x : floating device array, C-contiguous, (..., features)
    values : array of ``x``'s dtype, one value or one per feature: numpy, or a device
        copy (which a caller keeps across calls: no copy per call)

    Returns
    -------
    out : device array
        ``x``'s shape and dtype.
    keep : numpy bool array
        ``x``'s shape without the feature axis.
    """
    x = as_device_array(x)
    shape = tuple(x.shape)  # (the simulator's shapes take no negative index)
    steps, features = math.prod(shape[:-1]), shape[-1]
    rows = x.reshape((steps, features))
    out = cuda.device_array(rows.shape, dtype=rows.dtype)
    keep = cuda.device_array(steps, dtype=np.bool_)
    # A block masks MASK_TILE // features whole rows, one at least (up to MASK_TILE
    # elements, more past that many features), as one run of elements: a warp's
    # accesses are consecutive whatever the feature count. Its threads: a multiple of
    # 32 up to ELEMENTWISE_THREADS, fewer only where the rows hold fewer elements.
    block_rows = max(1, MASK_TILE // max(features, 1))
    elements = min(block_rows, steps) * features
    threads = min(ELEMENTWISE_THREADS, max(32, -(-elements // 32) * 32))
    _launch(kernels.mask_steps_kernel, max(1, -(-steps // block_rows)), threads, 0, rows,
            values.ravel() if is_device_array(values) else to_device(np.ravel(values)),
            out, keep, block_rows)
    return out.reshape(shape), keep.copy_to_host().reshape(shape[:-1])


def _launch_cooperative(kind, plan_, steps, mirror, l, proj, units, common):
    """Launch recur_grid or recur_tiled for a chunk of ``steps`` steps of level ``l``:
    one cooperative launch; one per step in the simulator (its blocks run one after
    another, so a grid barrier cannot work there)."""
    if kind == "grid":
        slice_units, group_rows, rows_per_block, grid, shared = plan_
        kernel, block = kernels.recur_grid, GRID_THREADS
        weights = (mirror.rec_cols(l, slice_units, _grid_parts(slice_units, group_rows)),
                   slice_units)
        tail = (rows_per_block, group_rows)
    else:
        (grid,) = plan_
        kernel, block, shared = kernels.recur_tiled, (kernels.TILE_EDGE,) * 2, 0
        weights, tail = (mirror.levels[l]["rec"],), ()
    per_launch = 1 if kernels.SIMULATED else steps
    for k in range(0, steps, per_launch):
        _launch(kernel, grid, block, shared, proj, k, min(steps, k + per_launch), units,
                *weights, *common, *tail)


def _run(levels, mirror, x, mask, states, go_backwards, zero_output_for_mask,
         return_sequences, time_major, dtype, return_states=True):
    x_dev = as_device_array(x) if is_device_array(x) else cuda.to_device(
        np.ascontiguousarray(x))
    batch_axis = 1 if time_major else 0
    batch, steps = x.shape[batch_axis], x.shape[1 - batch_axis]
    chunk = min(steps, plan.chunk_steps(batch, levels, CHUNK_ELEMENTS))
    work = mirror.work(levels, batch, chunk)
    proj = work["proj"]
    drops = [(_on_device(s.input_dropout, dtype, mirror),
              _on_device(s.recurrent_dropout, dtype, mirror)) for s in levels]

    def project(s0, n, l, level_in):
        """Launch the projection of chunk steps ``s0`` to ``s0 + n`` of level ``l``."""
        s, first = levels[l], l == 0
        in_drop, use_in = drops[l][0]
        weights = mirror.levels[l]
        _launch(kernels.project,
                (math.ceil(n * batch / kernels.TILE_ROWS),
                 math.ceil(s.units / kernels.TILE_COLS)),
                (kernels.TILE_EDGE, kernels.TILE_EDGE), 0,
                level_in, first and not time_major, first and go_backwards,
                s0 if first else 0, steps if first else n, n, s.units, in_drop, use_in,
                weights["kernel"], weights["bias"], proj)

    # An empty batch launches nothing (a grid of zero blocks is a launch error).
    chunks = range(0, steps if batch else 0, chunk)
    # The first projection is launched before the host's remaining set-up (outputs,
    # plans, mask, states), which then overlaps it: until the first launch the GPU
    # waits. A host mask or a nonzero host state is copied last: a copy from pageable
    # host memory waits for the projection to finish.
    early = PROJECT_FIRST and len(chunks) > 0
    if early:
        project(0, min(chunk, steps), 0, x_dev)
    units_last = levels[-1].units
    out_shape = (steps, batch, units_last) if time_major else (batch, steps, units_last)
    out_seq = cuda.device_array(out_shape, dtype) if return_sequences else mirror.no_out
    # The last output, zeroed by the first launch: the result itself without
    # sequences, else a work buffer (kept with the others: one allocation fewer).
    carry = work["carry"] if return_sequences else cuda.device_array(
        (batch, units_last), dtype)
    plans = _recurrence_plans(levels, batch, dtype.itemsize)
    acts = [ACTIVATION_CODES[s.activation] for s in levels]
    mask_dev, has_mask = (mirror.no_mask, False) if mask is None else _on_device(
        mask, np.bool_, mirror)
    if mask_dev.dtype == np.bool_:  # (see cuda_recurrence._mask_at)
        mask_dev = mask_dev.view(np.uint8)
    for (first_half, _), state in zip(work["halves"], states):
        _load_state(first_half, state, dtype)
    for s0 in chunks:
        n = min(chunk, steps - s0)
        level_in = x_dev
        for l, s in enumerate(levels):
            first, last = l == 0, l == len(levels) - 1
            rec_drop, use_rec = drops[l][1]
            if not (early and s0 == 0 and first):
                project(s0, n, l, level_in)
            if last:
                out, want_out = out_seq, return_sequences
            else:
                out, want_out = work["seq"][l % 2], True
            kind, p = plans[l]
            # recur_tiled reads the state buffer 3-D, the others flat (_state_index).
            state_buffer = (work["states"][l] if kind == "tiled"
                            else work["flat_states"][l])
            # The arguments after the recurrent weights, the same for all three.
            common = (rec_drop, use_rec, acts[l], mask_dev, has_mask, not time_major,
                      go_backwards, s0, steps, level_in, first and not time_major, first,
                      bool(s.residual), last, bool(zero_output_for_mask),
                      state_buffer, carry, out, want_out,
                      last and return_sequences and not time_major)
            if kind == "block":
                rows, threads, shared = p[:3]
                kernel, rec, lean = _block_kernel(p, s, use_rec, mirror, l)
                args = common[2:] if lean else common  # (lean: no recurrent dropout)
                _launch(kernel, math.ceil(batch / rows), threads, shared, proj, n,
                        s.units, rec, *args, rows)
            else:
                _launch_cooperative(kind, p, n, mirror, l, proj, s.units, common)
            level_in = out
    new_states = []
    for s, halves in zip(levels, work["halves"] if return_states else ()):
        state = cuda.device_array((batch, s.units), dtype)
        state.copy_to_device(halves[steps % 2])
        new_states.append(state)
    cuda.synchronize()
    output = out_seq if return_sequences else carry
    return output, new_states
