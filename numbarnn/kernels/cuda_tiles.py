"""The register-tiled matrix product of the CUDA engine and the kernel built on it,
:func:`project` (the input projection of a chunk of steps as one GEMM, with input
dropout, bias and the ``go_backwards`` reversal folded into its indexing).
:func:`.cuda_grid.recur_tiled` runs each step of a recurrence as the same product."""
from numba import cuda, uint64

from .cuda_common import SHARED_ALIGN, SIMULATED, _source_step
from .disk_cache import lock_index

# The register-tiled matrix products (`project`, and the steps of `recur_tiled`): a
# block of TILE_EDGE x TILE_EDGE threads computes a TILE_ROWS x TILE_COLS tile of the
# output, each thread a MICRO_ROWS x MICRO_COLS block of it in registers, over
# TILE_DEPTH-deep slices of the inner dimension staged in shared memory. Thread (tx, ty)
# owns the consecutive rows ty * MICRO_ROWS + a and columns tx * MICRO_COLS + c, so
# with the staged slices 16-byte aligned a depth's operands are vector loads: two of 4
# rows and one of 4 columns for 8 x 4 = 32 FMAs (a warp's row loads are broadcasts).
# A 128 x 64 tile splits a 1024 x 1024 step into 128 tiles, about one per H100
# multiprocessor. The simulator runs each thread as a Python thread: small tiles there.
TILE_EDGE = 4 if SIMULATED else 16
MICRO_ROWS = 2 if SIMULATED else 8
MICRO_COLS = 4
TILE_DEPTH = 4 if SIMULATED else 16
TILE_THREADS = TILE_EDGE * TILE_EDGE
TILE_ROWS = TILE_EDGE * MICRO_ROWS
TILE_COLS = TILE_EDGE * MICRO_COLS
# Each thread stages A_LOADS values of the (rows x depth) slice, depths q, q +
# ROW_THREADS, ... of one row (ROW_THREADS threads share a row: a warp's loads are
# pairs of neighbouring words of 16 rows), and W_LOADS of the (depth x columns) slice,
# depths q, q + W_DEPTH_STEP, ... of one column (a warp's loads: 32 neighbouring
# columns). It fetches the next slice into registers while it multiplies the current
# one, so the global latency overlaps the FMAs.
A_LOADS = TILE_DEPTH * TILE_ROWS // TILE_THREADS
ROW_THREADS = TILE_DEPTH // A_LOADS
W_LOADS = TILE_DEPTH * TILE_COLS // TILE_THREADS
W_DEPTH_STEP = TILE_THREADS // TILE_COLS
assert A_LOADS * TILE_THREADS == TILE_DEPTH * TILE_ROWS
assert ROW_THREADS * A_LOADS == TILE_DEPTH
assert W_DEPTH_STEP * TILE_COLS == TILE_THREADS
assert W_LOADS * W_DEPTH_STEP == TILE_DEPTH
assert TILE_DEPTH % 4 == 0  # (_multiply_stage takes four depths per turn)
# The rows slice is stored transposed, a_tile[depth, row]. Its rows are padded by 16
# words (a literal shape for the shared array, so computed here): a row stays 16-byte
# aligned, and the two threads of a pair, storing depths q and q + 1 of one row, hit
# banks 16 apart, so a warp's stores (16 rows x 2 depths) land in 32 different banks.
TILE_ROWS_PADDED = TILE_ROWS + 16


@cuda.jit(device=True)
def _clear(acc):
    for a in range(MICRO_ROWS):
        for c in range(MICRO_COLS):
            acc[a, c] = 0


@cuda.jit(device=True)
def _tile_origin(tile, cols):
    """First row and column of output tile ``tile`` (tiles run along the columns
    first) of a product with ``cols`` columns."""
    per_row = (cols + TILE_COLS - 1) // TILE_COLS
    band = tile // per_row
    return band * TILE_ROWS, (tile - band * per_row) * TILE_COLS


@cuda.jit(device=True)
def _row_slot(tid):
    """``(row in the tile, first depth)`` of the rows-slice values thread ``tid``
    stages: depths ``q, q + ROW_THREADS, ...`` of that row."""
    m = tid // ROW_THREADS
    return m, tid - m * ROW_THREADS


@cuda.jit(device=True)
def _col_slot(tid):
    """``(column in the tile, first depth)`` of the weights-slice values thread
    ``tid`` stages: depths ``q, q + W_DEPTH_STEP, ...`` of that column."""
    q = tid // TILE_COLS
    return tid - q * TILE_COLS, q


@cuda.jit(device=True)
def _fetch_slice(dst, src, scale, use_scale, i0, q, step, depth):
    """``dst[c] = src[i] * scale[i]`` (``scale`` only when ``use_scale``) at ``i = i0 +
    q + c * step``: the thread's values of the slice at depth ``i0``, ``src`` being one
    row of the left operand or one column of the right (any real dtype, any stride).
    In a slice past ``depth`` (the last, when ``depth`` is not a multiple of
    TILE_DEPTH) they are zero from ``depth`` on: the padding of one operand then meets
    zeros of the other, where an inf or NaN read in its place would not."""
    if i0 + TILE_DEPTH <= depth:  # (the same for the whole block: no clamps)
        _fetch_values(dst, src, scale, use_scale, i0 + q, step, depth, False)
    else:
        _fetch_values(dst, src, scale, use_scale, i0 + q, step, depth, True)


@cuda.jit(device=True)
def _fetch_values(dst, src, scale, use_scale, first, step, depth, clamp):
    """:func:`_fetch_slice`'s loads; with ``clamp`` (a constant of the caller) the
    index is clamped into range, so no load has a branch around it."""
    last = uint64(depth - 1)
    for c in range(dst.shape[0]):
        i = uint64(first) + uint64(c) * uint64(step)
        k = min(i, last) if clamp else i
        v = dst.dtype.type(src[k])
        if use_scale:
            v *= scale[k]
        dst[c] = dst.dtype.type(0) if clamp and i > last else v


@cuda.jit(device=True)
def _store_slices(a_tile, a_next, w_tile, w_next, tid):
    """Move the fetched slices from registers to shared memory (the rows slice
    transposed: ``a_tile[depth, row]``)."""
    m, q = _row_slot(tid)
    for c in range(A_LOADS):
        a_tile[uint64(q + c * ROW_THREADS), uint64(m)] = a_next[c]
    j, q = _col_slot(tid)
    for r in range(W_LOADS):
        w_tile[uint64(q + r * W_DEPTH_STEP), uint64(j)] = w_next[r]


@cuda.jit(device=True)
def _multiply_depth(acc, a_tile, w_tile, a_reg, w_reg, q, r0, c0):
    """``acc += outer(a_tile[q, r0:r0 + MICRO_ROWS], w_tile[q, c0:c0 + MICRO_COLS])``
    (unsigned indices: consecutive words, which compile to vector loads)."""
    for a in range(MICRO_ROWS):
        a_reg[a] = a_tile[q, r0 + uint64(a)]
    for c in range(MICRO_COLS):
        w_reg[c] = w_tile[q, c0 + uint64(c)]
    for a in range(MICRO_ROWS):
        for c in range(MICRO_COLS):
            acc[a, c] += a_reg[a] * w_reg[c]


@cuda.jit(device=True)
def _multiply_stage(acc, a_tile, w_tile, a_reg, w_reg, tx, ty):
    """``acc += a_tile[:, my rows].T @ w_tile[:, my columns]`` for one staged slice."""
    r0 = uint64(ty * MICRO_ROWS)
    c0 = uint64(tx * MICRO_COLS)
    one, two, three = uint64(1), uint64(2), uint64(3)
    for q in range(0, TILE_DEPTH, 4):  # four depths per turn, written out (LLVM
        uq = uint64(q)                 # does not unroll a loop of them)
        _multiply_depth(acc, a_tile, w_tile, a_reg, w_reg, uq, r0, c0)
        _multiply_depth(acc, a_tile, w_tile, a_reg, w_reg, uq + one, r0, c0)
        _multiply_depth(acc, a_tile, w_tile, a_reg, w_reg, uq + two, r0, c0)
        _multiply_depth(acc, a_tile, w_tile, a_reg, w_reg, uq + three, r0, c0)


@cuda.jit(device=True)
def _tile_product(acc, a_tile, w_tile, a_next, w_next, a_reg, w_reg, row, drop_row,
                  use_drop, col, depth, tx, ty, tid):
    """``acc`` = the thread's outputs of a tile of ``(rows * drop) @ columns`` with
    inner dimension ``depth``: ``row`` (times ``drop_row`` when ``use_drop``) is the
    row of the left operand this thread stages (see :func:`_row_slot`), ``col`` the
    column of the right operand (see :func:`_col_slot`), each a 1-D view made once per
    tile, so a load is one address step. Each slice is stored to shared memory, then
    the next one is fetched into registers while this one is multiplied, so the global
    latency overlaps the FMAs. Every thread of the block must call it (barriers).
    """
    _clear(acc)
    _, qa = _row_slot(tid)
    _, qw = _col_slot(tid)
    if depth > 0:
        _fetch_slice(a_next, row, drop_row, use_drop, 0, qa, ROW_THREADS, depth)
        _fetch_slice(w_next, col, col, False, 0, qw, W_DEPTH_STEP, depth)
    for i0 in range(0, depth, TILE_DEPTH):
        _store_slices(a_tile, a_next, w_tile, w_next, tid)
        cuda.syncthreads()
        if i0 + TILE_DEPTH < depth:
            _fetch_slice(a_next, row, drop_row, use_drop, i0 + TILE_DEPTH, qa,
                         ROW_THREADS, depth)
            _fetch_slice(w_next, col, col, False, i0 + TILE_DEPTH, qw, W_DEPTH_STEP,
                         depth)
        _multiply_stage(acc, a_tile, w_tile, a_reg, w_reg, tx, ty)
        cuda.syncthreads()  # the next slice (or tile) overwrites the shared slices


@cuda.jit(device=True)
def _tile_slots(tid, row0, col0, rows, cols):
    """The tile's row and column whose values thread ``tid`` stages (see
    :func:`_row_slot`, :func:`_col_slot`), clamped into the ``rows`` x ``cols``
    product: a thread past its edge stages a neighbour's values, which only the
    outputs past the edge (never stored) meet."""
    m, _ = _row_slot(tid)
    j, _ = _col_slot(tid)
    return min(row0 + m, rows - 1), min(col0 + j, cols - 1)


@lock_index
@cuda.jit(cache=not SIMULATED)
def project(x, x_batch_major, reverse, s0, total_steps, steps, units, drop, use_drop,
            kernel, bias, proj):
    """``proj[k, b, :units] = (x[t, b, :] * drop[b, :]) @ kernel + bias`` for the
    chunk's ``steps`` steps.

    ``k`` counts processing steps from sequence step ``s0``; ``t`` is the step in ``x``
    (reversed when ``reverse``). Output rows ``k * B + b`` are tiled along the grid's x
    axis (no 65535 limit), units along its y axis; a block computes one tile (see
    ``TILE_*``). Launch with ``(TILE_EDGE, TILE_EDGE)`` threads.
    """
    a_tile = cuda.shared.array((TILE_DEPTH, TILE_ROWS_PADDED), proj.dtype,
                               alignment=SHARED_ALIGN)
    w_tile = cuda.shared.array((TILE_DEPTH, TILE_COLS), proj.dtype, alignment=SHARED_ALIGN)
    acc = cuda.local.array((MICRO_ROWS, MICRO_COLS), proj.dtype)
    a_reg = cuda.local.array(MICRO_ROWS, proj.dtype)
    w_reg = cuda.local.array(MICRO_COLS, proj.dtype)
    a_next = cuda.local.array(A_LOADS, proj.dtype)
    w_next = cuda.local.array(W_LOADS, proj.dtype)
    batch = proj.shape[1]
    n_rows = steps * batch
    tx = cuda.threadIdx.x
    ty = cuda.threadIdx.y
    tid = ty * TILE_EDGE + tx
    row0 = cuda.blockIdx.x * TILE_ROWS
    col0 = cuda.blockIdx.y * TILE_COLS
    r, j = _tile_slots(tid, row0, col0, n_rows, units)
    k = r // batch
    b = r - k * batch
    ub = uint64(b)
    ut = uint64(_source_step(s0 + k, total_steps, reverse))
    row = x[ub, ut, :] if x_batch_major else x[ut, ub, :]
    drop_row = drop[ub if use_drop else uint64(0), :]
    _tile_product(acc, a_tile, w_tile, a_next, w_next, a_reg, w_reg, row, drop_row,
                  use_drop, kernel[:, uint64(j)], kernel.shape[0], tx, ty, tid)
    for a in range(MICRO_ROWS):
        out_row = row0 + ty * MICRO_ROWS + a
        if out_row < n_rows:
            k = out_row // batch
            b = out_row - k * batch
            for c in range(MICRO_COLS):
                col = col0 + tx * MICRO_COLS + c
                if col < units:
                    proj[k, b, col] = acc[a, c] + bias[col]
