"""The numba-cuda kernels of the CUDA engine (launched by :mod:`numbarnn.kernels.cuda`).

The semantics are those of :mod:`numbarnn.kernels.cpu` (tf-keras ``backend.rnn``): a
masked step holds every state and repeats the previous output, or zero with
``zero_output_for_mask``; the output carry starts at zero. Four kernels:

* :func:`project`: the input projection of a chunk of steps as one register-tiled
  GEMM, with input dropout, bias and the ``go_backwards`` reversal folded into its
  indexing;
* :func:`recur_block`: every step of a chunk in one launch; each block owns a tile of
  batch rows and all units, so a step needs only block barriers. For recurrent
  matrices that fit in shared memory, and for softmax (which needs whole rows). Two
  variants of it read the matrix from global memory: :func:`recur_block_l2` (the
  state still on chip) and :func:`recur_block_global` (rows too wide for shared
  memory). :func:`recur_block_lean` and :func:`recur_block_l2_lean` do the common
  case (every output in one round of threads, no recurrent dropout, not softmax) in
  fewer instructions per step;
* :func:`recur_grid`: every step of a chunk in one cooperative launch; each block owns
  a slice of the units (its columns of the recurrent matrix stay in shared memory) and
  a tile of batch rows, and the blocks exchange the state through global memory with
  one grid barrier per step. For recurrent matrices too big for one block, while a
  block's rows are few;
* :func:`recur_tiled`: every step of a chunk in one cooperative launch; each step is a
  register-tiled GEMM of the state with the recurrent matrix (the tiles of
  :func:`project`), one grid barrier per step. For large batches of large units,
  where a step is compute-bound.

The state lives in a double buffer of shape (2, batch, units), ``hbuf``: processing
step ``s`` (counted over the whole sequence) reads half ``s % 2`` and writes the
other, in every recurrence kernel, so chunks and kernels chain. recur_block and
recur_grid take it flat (element ``(p, b, j)`` at ``_state_index(p, b, j, batch,
units)``; a reshape inside a kernel would put the array's descriptor in local memory),
recur_tiled as the 3-D array. On chip, recur_block and recur_grid hold state rows
zero-padded and the recurrent weights in per-thread slots (:func:`slot_layout`), so
the loads of their dot products sit at constant offsets from two pointers;
recur_block_l2 reads the same slots interleaved from global memory (a warp's
neighbouring slots are one contiguous read).

Inputs are read in the caller's layout (batch- or time-major, any strides, any real
dtype) and the last level's outputs written in it, so device inputs are never copied.
"""
import math
import os

from numba import cuda, uint64

from .scalar_math import ACTIVATION_CODES, SOFTMAX, scalar_activation

SIMULATED = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"
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
# The shared arrays' alignment in bytes, for vector loads (the simulator takes none).
SHARED_ALIGN = None if SIMULATED else 16

# The most threads recur_block and recur_grid are launched with on a GPU: compiled
# with these launch bounds, a thread's registers stay within what a block of that many
# needs to launch at all (65536 per multiprocessor: 128 per thread at 512 threads).
# Without them recur_block took 130-134 registers in float64 and recur_grid 184, and
# blocks of 512 threads failed to launch. (The simulator's jit takes no bounds.)
BLOCK_MAX_LAUNCH = 512
GRID_MAX_LAUNCH = 256
# The second bound (at least one block per multiprocessor) lets ptxas take all the
# registers the first allows: with the first alone, CUDA 13's ptxas compiling a whole
# program (not relocatable code, which the compile check builds) held the lean
# recur_block variants to 64 registers and spilled 12-16 bytes, and recur_block_global
# to 64 with 66 bytes spilled.
BLOCK_BOUNDS = {} if SIMULATED else {"launch_bounds": (BLOCK_MAX_LAUNCH, 1)}
GRID_BOUNDS = {} if SIMULATED else {"launch_bounds": (GRID_MAX_LAUNCH, 1)}

_activation = cuda.jit(device=True)(scalar_activation)
TANH = ACTIVATION_CODES["tanh"]


@cuda.jit(device=True)
def _source_step(s, steps, reverse):
    """The time index in the input of processing step ``s``."""
    return steps - 1 - s if reverse else s


@cuda.jit(device=True)
def _live(mask, has_mask, mask_batch_major, b, t):
    if not has_mask:
        return True
    ub, ut = uint64(b), uint64(t)
    return mask[ub, ut] != 0 if mask_batch_major else mask[ut, ub] != 0


@cuda.jit(device=True)
def _mask_at(mask, mask_batch_major, b, t):
    """``mask[b, t]`` (``mask[t, b]`` when time-major) with the indices clamped into
    the mask's shape: a load with no branch around it, valid for the placeholder mask
    of a call without one (whose value the caller then ignores). The value, not
    ``!= 0``: a comparison here would wait for the load (a boolean mask reaches the
    kernels viewed as uint8, since loading a bool compares it at once)."""
    ub, ut = uint64(b), uint64(t)
    last0, last1 = uint64(mask.shape[0] - 1), uint64(mask.shape[1] - 1)
    i0 = ub if mask_batch_major else ut
    i1 = ut if mask_batch_major else ub
    return mask[min(i0, last0), min(i1, last1)]


@cuda.jit(device=True)
def _dot(acc, hs, h_off, w, w_off, w_stride, first, count, step):
    """``acc + sum(hs[h_off + i] * w[w_off + i * w_stride])`` over ``i`` in
    ``range(first, count, step)``.

    The hot loop of both recurrence kernels. Four accumulators make four independent
    FMA chains (one chain waits an FMA latency per term). The indices are unsigned:
    numba adds a negative-index wraparound to every signed index, which here cost
    about 15 integer instructions per FMA in the PTX; unsigned, the loop is two
    loads, one FMA and pointer increments.
    """
    zero = hs.dtype.type(0)
    a1, a2, a3 = zero, zero, zero
    hp, wp, ws = uint64(h_off), uint64(w_off), uint64(w_stride)
    i, n, s1 = uint64(first), uint64(count), uint64(step)
    s2 = s1 + s1
    s3 = s2 + s1
    s4 = s2 + s2
    while i + s3 < n:
        acc += hs[hp + i] * w[wp + i * ws]
        a1 += hs[hp + i + s1] * w[wp + (i + s1) * ws]
        a2 += hs[hp + i + s2] * w[wp + (i + s2) * ws]
        a3 += hs[hp + i + s3] * w[wp + (i + s3) * ws]
        i += s4
    while i < n:
        acc += hs[hp + i] * w[wp + i * ws]
        i += s1
    return (acc + a1) + (a2 + a3)


@cuda.jit(device=True)
def _state_index(half, b, j, batch, units):
    """Where state ``(b, j)`` of half ``half`` lives in the flat double buffer."""
    return (half * batch + b) * units + j


# The parts of a split dot product are added with warp shuffles on the GPU (no block
# barrier, no shared memory); the simulator has no shuffles, so there they go through
# one shared slot per thread between two block barriers.
USE_SHUFFLES = not SIMULATED
WARP = 32
FULL_MASK = 0xFFFFFFFF


def parts_per_output(outputs, threads):
    """Threads per output when a block has ``threads`` (a power of two) for
    ``outputs`` dot products: the largest power of two up to a warp that leaves none
    idle (a warp holds whole groups: the shuffles stay inside it). Plain Python, for
    the host's plans; the kernels compile the same function."""
    parts = 1
    while parts * 2 * outputs <= threads and parts < WARP:
        parts *= 2
    return parts


def slot_layout(units, parts):
    """``(groups, slot stride, padded row)`` of recur_block's on-chip layout for
    ``units`` units, each dot product split over ``parts`` threads.

    A state row is split into groups of 4 consecutive elements; part ``p`` of a dot
    product takes groups ``p, p + parts, ...`` (``groups`` of them). The row is
    zero-padded to ``padded row`` elements so that every part reads whole groups. The
    thread computing part ``p`` of unit ``j`` finds its weights, in the order it reads
    the state, contiguous in slot ``j * parts + p``: a state load and a weight load then
    sit at constant offsets from two pointers (no index arithmetic per FMA). Slots are
    ``4 * groups + 2`` apart, so each starts on a pair of values: with the shared array
    16-byte aligned, a group of state values is one vector load and a pair of weights
    another (:func:`_dot_slots`). Half the stride is odd, so the slots of consecutive
    threads start in different banks: the 16 pairs (8 bytes each) that half a warp
    loads in float32, or the 8 (16 bytes each) a quarter warp loads in float64, fill
    the 32 banks once. Plain Python, for the host (which lays the weights out) and the
    kernel alike.
    """
    groups = ((units + 3) // 4 + parts - 1) // parts
    return groups, 4 * groups + 2, 4 * parts * groups


def grid_row_sets(group_rows):
    """``(rows per thread, row sets, tile rows)`` of a recur_grid group of
    ``group_rows`` batch rows. With more than one row, a thread computes a unit of two
    rows, loading each weight once for both (half the shared-memory reads per
    multiply-add, which bound recur_grid's step); the group's rows are then taken in
    ``row sets`` pairs, and its tile holds an even number of rows (the last thread of
    an odd group computes, and does not emit, a row past it). Plain Python, for the
    host's plans and the kernel alike."""
    per_thread = 2 if group_rows > 1 else 1
    sets = (group_rows + per_thread - 1) // per_thread
    return per_thread, sets, sets * per_thread


_parts_per_output = cuda.jit(device=True)(parts_per_output)
_slot_layout = cuda.jit(device=True)(slot_layout)
_grid_row_sets = cuda.jit(device=True)(grid_row_sets)


@cuda.jit(device=True)
def _group_fma(a0, a1, a2, a3, sh, h, w0, w1, w2, w3):
    """The four accumulators of a dot product (four independent FMA chains) plus one
    group's products: the state values ``sh[h:h + 4]`` (``h`` a multiple of 4, see
    :func:`_dot_slots`) times the weights ``w0 .. w3``."""
    one, two, three = uint64(1), uint64(2), uint64(3)
    return (a0 + sh[h] * w0, a1 + sh[h + one] * w1, a2 + sh[h + two] * w2,
            a3 + sh[h + three] * w3)


@cuda.jit(device=True)
def _dot_slots(acc, sh, h_group, h_step, w_pair, groups):
    """``acc`` plus one part of a dot product on the on-chip layout (see
    :func:`slot_layout`): ``groups`` groups of 4 state values, the first at
    ``sh[4 * h_group]`` and each next ``h_step`` groups further, against the weights
    from ``sh[2 * w_pair]`` on (contiguous). ``sh`` is the kernel's shared array
    itself, so the loads compile to shared-memory loads at constant offsets from two
    pointers. The offsets count groups (4 values) and pairs: an index that is visibly
    a multiple of 4 (2) in a 16-byte aligned array lets the compiler load a group of
    float32 state values as one vector load (two in float64) and a pair of weights as
    one, instead of a load per value. Four accumulators (four independent FMA chains);
    two groups per turn in float32, one in float64, whose loads take twice the
    registers (two a turn held recur_block's general kernel past its 128)."""
    zero = sh.dtype.type(0)
    a1, a2, a3 = zero, zero, zero
    hg, wq, hs = uint64(h_group), uint64(w_pair), uint64(h_step)
    one, two, three, four = uint64(1), uint64(2), uint64(3), uint64(4)
    doubled = groups // 2 if sh.itemsize < 8 else 0  # turns of two groups
    # (a range() counter costs three instructions more per turn than the compare)
    w_end = wq + four * uint64(doubled)  # two groups: 8 weights, 4 pairs
    while wq < w_end:
        w = wq * two
        acc, a1, a2, a3 = _group_fma(acc, a1, a2, a3, sh, hg * four, sh[w],
                                     sh[w + one], sh[w + two], sh[w + three])
        w += four
        acc, a1, a2, a3 = _group_fma(acc, a1, a2, a3, sh, (hg + hs) * four, sh[w],
                                     sh[w + one], sh[w + two], sh[w + three])
        hg += hs + hs
        wq += four
    w_end += two * uint64(groups - 2 * doubled)  # the rest, a group a turn
    while wq < w_end:
        w = wq * two
        acc, a1, a2, a3 = _group_fma(acc, a1, a2, a3, sh, hg * four, sh[w],
                                     sh[w + one], sh[w + two], sh[w + three])
        hg += hs
        wq += two
    return (acc + a1) + (a2 + a3)


@cuda.jit(device=True)
def _dot_slots_two_rows(sh, h_group, h_other, h_step, w_pair, groups):
    """:func:`_dot_slots` (from zero) of two state rows against the same weights, the
    second row's groups at ``h_other`` on: each weight is loaded once for both. A group
    per turn, four accumulators per row."""
    zero = sh.dtype.type(0)
    a0, a1, a2, a3 = zero, zero, zero, zero
    b0, b1, b2, b3 = zero, zero, zero, zero
    hg, hh, wq, hs = uint64(h_group), uint64(h_other), uint64(w_pair), uint64(h_step)
    one, two, three, four = uint64(1), uint64(2), uint64(3), uint64(4)
    w_end = wq + two * uint64(groups)
    while wq < w_end:
        w = wq * two
        w_a, w_b, w_c, w_d = sh[w], sh[w + one], sh[w + two], sh[w + three]
        a0, a1, a2, a3 = _group_fma(a0, a1, a2, a3, sh, hg * four, w_a, w_b, w_c, w_d)
        b0, b1, b2, b3 = _group_fma(b0, b1, b2, b3, sh, hh * four, w_a, w_b, w_c, w_d)
        hg += hs
        hh += hs
        wq += two
    return (a0 + a1) + (a2 + a3), (b0 + b1) + (b2 + b3)


@cuda.jit(device=True)
def _dot_spread(acc, sh, h_group, h_step, w, w_off, w_step, groups, pipelined):
    """:func:`_dot_slots` with the weights in global memory, slots interleaved: value
    ``e`` of slot ``s`` at ``w[s + e * w_step]`` (``w_step`` slots in all), so the 32
    threads of a warp, reading 32 neighbouring slots, read one contiguous line. The
    state's offsets count groups, as in :func:`_dot_slots`.

    With ``pipelined`` (a constant of the caller), in float32, four groups per turn,
    their 16 weights loaded before any is used: a turn then waits one L2 round trip,
    where a group per turn waits one per group (the warp stalls at the first
    multiply-add on a load, and the next turn's loads issue after it; at (32, 100, 64,
    128) that was 16 round trips per step: at about 270 cycles each, an estimated 2.3
    of the 2.9 us a step took). The lean kernel takes it; the 16 registers more spill
    in recur_block_l2's general kernel, and in float64."""
    zero = sh.dtype.type(0)
    a1, a2, a3 = zero, zero, zero
    hg, wp, hs, ws = uint64(h_group), uint64(w_off), uint64(h_step), uint64(w_step)
    four = uint64(4)
    h_end = hg + hs * uint64(groups)
    quads = groups // 4 if pipelined and sh.itemsize < 8 else 0
    h_quads = hg + hs * uint64(4 * quads)
    while hg < h_quads:
        v = (w[wp], w[wp + ws], w[wp + uint64(2) * ws], w[wp + uint64(3) * ws],
             w[wp + uint64(4) * ws], w[wp + uint64(5) * ws], w[wp + uint64(6) * ws],
             w[wp + uint64(7) * ws], w[wp + uint64(8) * ws], w[wp + uint64(9) * ws],
             w[wp + uint64(10) * ws], w[wp + uint64(11) * ws], w[wp + uint64(12) * ws],
             w[wp + uint64(13) * ws], w[wp + uint64(14) * ws], w[wp + uint64(15) * ws])
        for q in range(4):  # (unrolled: constant trip count, tuple indexed by it)
            acc, a1, a2, a3 = _group_fma(acc, a1, a2, a3, sh, (hg + uint64(q) * hs) * four,
                                         v[4 * q], v[4 * q + 1], v[4 * q + 2],
                                         v[4 * q + 3])
        hg += four * hs
        wp += uint64(16) * ws
    while hg < h_end:  # (a while loop: not unrolled, fewer registers)
        acc, a1, a2, a3 = _group_fma(acc, a1, a2, a3, sh, hg * four, w[wp], w[wp + ws],
                                     w[wp + uint64(2) * ws], w[wp + uint64(3) * ws])
        wp += four * ws
        hg += hs
    return (acc + a1) + (a2 + a3)


@cuda.jit(device=True)
def _dot_slots_dropped(acc, sh, h_off, h_step, w, w_off, w_step, groups, rdp, b, first,
                       units):
    """One part of a dot product on the slot layout with the state times the recurrent
    dropout mask ``rdp[b]``: value ``e`` of the part's slot at ``w[w_off + e *
    w_step]`` (contiguous slots: ``w_step`` 1; interleaved: the slot count); ``first``
    is the unit of the part's first state value (``4 * part``)."""
    hp, wp, hs, ws = uint64(h_off), uint64(w_off), uint64(h_step), uint64(w_step)
    i, n, ub = uint64(first), uint64(units), uint64(b)
    for _ in range(groups):
        for c in range(4):
            uc = uint64(c)
            if i + uc < n:  # the padding's weights are zero; rdp ends at units
                acc += sh[hp + uc] * rdp[ub, i + uc] * w[wp + uc * ws]
        hp += hs
        wp += ws + ws + ws + ws
        i += hs
    return acc


@cuda.jit(device=True)
def _combine_parts(z, partial, tid, part, parts):
    """Thread ``tid`` computed part ``part`` of a dot product split over ``parts``
    neighbouring threads (a power of two, at most a warp, groups aligned to it); part
    0 gets the sum. Every thread of the block must call it (warp shuffles on the GPU,
    block barriers in the simulator); ``partial`` is one shared slot per thread."""
    if parts > 1:
        if USE_SHUFFLES and cuda.blockDim.x >= WARP:  # every lane of the warp exists
            offset = parts >> 1
            while offset > 0:
                z += cuda.shfl_down_sync(FULL_MASK, z, offset)
                offset >>= 1
        else:
            cuda.syncthreads()  # the previous round's reads of `partial` are done
            partial[tid] = z
            cuda.syncthreads()
            if part == 0:
                for q in range(1, parts):
                    z += partial[tid + q]
    return z


# Array indices in the step loops are made unsigned (uint64(...), the same bits; every
# index there is non-negative): numba adds a negative-index wraparound to each signed
# index of each axis, three 64-bit instructions apiece in the PTX.


@cuda.jit(device=True)
def _residual_term(inp, inp_batch_major, inp_is_source, b, j, k, t, like):
    """The residual input of unit ``j`` of row ``b`` at chunk step ``k`` (input time
    ``t``), in the dtype of the array ``like``."""
    ub, uj, uk, ut = uint64(b), uint64(j), uint64(k), uint64(t)
    if not inp_is_source:
        return like.dtype.type(inp[uk, ub, uj])
    if inp_batch_major:
        return like.dtype.type(inp[ub, ut, uj])
    return like.dtype.type(inp[ut, ub, uj])


@cuda.jit(device=True)
def _emit(o, live, b, j, k, s, t, inp, inp_batch_major, inp_is_source, residual,
          is_last, zero_output_for_mask, carry, out, want_out, out_batch_major):
    """Write the output of unit ``j`` of row ``b`` at chunk step ``k`` (sequence step
    ``s``, input time ``t``): ``o`` is the new state when ``live``."""
    ub, uj, uk, us = uint64(b), uint64(j), uint64(k), uint64(s)
    if live:
        if residual:
            o += _residual_term(inp, inp_batch_major, inp_is_source, b, j, k, t, carry)
    elif is_last and not zero_output_for_mask:
        o = carry[ub, uj]
    else:
        o = carry.dtype.type(0)  # intermediate levels: never read (masked below too)
    if is_last:
        carry[ub, uj] = o
    if want_out:
        if out_batch_major:
            out[ub, us, uj] = o
        elif is_last:
            out[us, ub, uj] = o
        else:
            out[uk, ub, uj] = o


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


@cuda.jit(device=True)
def _block_layout(proj, units, rows_per_block, rec_shared, state_shared):
    """Where a recur_block block works: ``(batch, first row b0, its rows, parts per
    output, groups, slot stride, padded row, state row stride, tile, weights size)``.

    Threads per output (``parts``): when the block has more threads than outputs, they
    split each dot product (a shorter chain per step) and add the parts
    (_combine_parts). Counted for a full block, so every block (the last may have
    fewer rows) reads the one slot layout of the weights. State ``(r, j)`` of a half
    is ``stride`` apart per row (padded on chip, ``units`` in place in hbuf); a half is
    ``tile`` long on chip (0 when the state stays in hbuf); the weights on chip take
    ``w_size`` (0 when they stay in global memory).
    """
    batch = proj.shape[1]
    b0 = cuda.blockIdx.x * rows_per_block
    rows = min(rows_per_block, batch - b0)
    parts = _parts_per_output(rows_per_block * units, cuda.blockDim.x)
    groups, slot_stride, padded = _slot_layout(units, parts)
    stride = padded if state_shared else units
    tile = rows_per_block * stride if state_shared else 0
    w_size = units * parts * slot_stride if rec_shared else 0
    return batch, b0, rows, parts, groups, slot_stride, padded, stride, tile, w_size


@cuda.jit(device=True)
def _block_chunk(proj, steps, units, rec, rec_shared, state_shared, rdp, use_rdp, act,
                 mask, has_mask, mask_batch_major, reverse, s0, total_steps, inp,
                 inp_batch_major, inp_is_source, residual, is_last, zero_output_for_mask,
                 hbuf, carry, out, want_out, out_batch_major, rows_per_block):
    """All steps of one chunk of one level; a block owns ``rows_per_block`` batch rows.
    The body of the three recur_block kernels, which pass ``rec_shared`` and
    ``state_shared`` as constants: each compiles only its own paths (one kernel with
    all of them needed more than the 128 registers a 512-thread block allows).

    The block's state is double-buffered (read one half, write the other, alternating
    per step, so a step needs one barrier): in dynamic shared memory when
    ``state_shared`` (rows zero-padded as :func:`slot_layout` says), else in place in
    ``hbuf`` (rows too wide for shared memory). ``rec`` is the recurrent matrix: when
    ``rec_shared`` (which needs ``state_shared``) in the slot layout of
    :func:`slot_layout`, copied to shared memory; else, with the state on chip, those
    slots interleaved (see :func:`_dot_spread`), read from global memory; else flat
    row-major, read from global memory. Shared memory ends with one partial sum per
    thread (for :func:`_combine_parts` where it cannot shuffle). When the block has
    more threads than outputs, a power of two of them (the block size must be a power
    of two) split each dot product; the thread holding part 0 of an output writes and
    emits it, at every step the same thread, so emitting needs no barrier. ``inp`` is
    the level's input for the residual: the layer-0 input (source layout, reversed
    when ``reverse``) or the previous level's chunk output (processing order,
    time-major).
    """
    tid = cuda.threadIdx.x
    nth = cuda.blockDim.x
    batch, b0, rows, parts, groups, slot_stride, padded, stride, tile, w_size = (
        _block_layout(proj, units, rows_per_block, rec_shared, state_shared))
    work = rows * units
    shared = cuda.shared.array(0, proj.dtype, alignment=SHARED_ALIGN)
    partial = shared[2 * tile + w_size:2 * tile + w_size + nth]
    states = shared if state_shared else hbuf
    zero = proj.dtype.type(0)
    if state_shared:
        _fill_block(shared, hbuf, rec, tile, w_size, stride, rows, units, b0, batch, s0,
                    tid, nth)
    if is_last and s0 == 0:
        for idx in range(tid, work, nth):
            carry[b0 + idx // units, idx % units] = 0
    cuda.syncthreads()
    # Where every output fits in one round of the block's threads (the common case)
    # a thread keeps its output for the whole chunk and loads the next step's
    # projection and mask while this step runs, so their latency is off the step's
    # critical path; otherwise each round loads its own.
    single_round = work * parts <= nth
    my_idx = tid // parts
    my_part = tid - my_idx * parts
    my_r = my_idx // units
    my_j = my_idx - my_r * units
    # The prefetch is unconditional, by every thread at every step, from indices
    # clamped into range (a thread without an output, or past the last step, loads a
    # value it never uses): a load under a branch ends in a register copy at the
    # branch's join, which waits for the load there and so undid the prefetch (ncu:
    # 28% of recur_block's time at (1, 1000, 64, 64) on that one copy). Unbranched,
    # the copy is gone, but as many stall samples moved to the step's next branch
    # (open; see docs/benchmarks.rst).
    pf_b = uint64(min(b0 + my_r, batch - 1))
    pf_j = uint64(min(my_j, units - 1))
    p_next = zero
    m_next = mask.dtype.type(0)
    if steps > 0:
        p_next = proj[0, pf_b, pf_j]
        m_next = _mask_at(mask, mask_batch_major, pf_b,
                          _source_step(s0, total_steps, reverse))
    for k in range(steps):
        p_here, m_here = p_next, m_next
        k_next = min(k + 1, steps - 1)
        p_next = proj[uint64(k_next), pf_b, pf_j]
        m_next = _mask_at(mask, mask_batch_major, pf_b,
                          _source_step(s0 + k_next, total_steps, reverse))
        s = s0 + k
        if state_shared:
            cur = (k % 2) * tile
            nxt = tile - cur
        else:
            cur = _state_index(s % 2, b0, 0, batch, units)
            nxt = _state_index((s + 1) % 2, b0, 0, batch, units)
        t = _source_step(s, total_steps, reverse)
        base = 0
        while base < work * parts:  # rounds (a range with a variable step divides)
            if single_round:  # the same output at every step: divided once, above
                idx, part, r, j = my_idx, my_part, my_r, my_j
            else:
                slot = base + tid
                idx = slot // parts  # this thread's output, and its part of the dot
                part = slot - idx * parts
                r = idx // units
                j = idx - r * units
            valid = idx < work
            b = b0 + r
            # The global loads are issued before the dot product, which runs whether
            # or not the step is masked, so their latency overlaps it.
            live = False
            p = zero
            if valid and part == 0:
                if single_round:
                    live, p = m_here != 0 or not has_mask, p_here
                else:
                    live = _live(mask, has_mask, mask_batch_major, b, t)
                    p = proj[uint64(k), uint64(b), uint64(j)]
            z = zero
            row = cur + r * stride
            if valid:
                # (each call names `shared` or `rec` itself: a pointer chosen at run
                # time between them would make every load a generic one)
                slot = j * parts + part
                if rec_shared:
                    w_off = 2 * tile + slot * slot_stride
                    if use_rdp:
                        z = _dot_slots_dropped(z, shared, row + 4 * part, 4 * parts,
                                               shared, w_off, 1, groups, rdp, b,
                                               4 * part, units)
                    else:  # (offsets in groups and pairs: see _dot_slots)
                        z = _dot_slots(z, shared, row // 4 + part, parts, w_off // 2,
                                       groups)
                elif state_shared:  # the weights' slots interleaved in global memory
                    if use_rdp:
                        z = _dot_slots_dropped(z, shared, row + 4 * part, 4 * parts,
                                               rec, slot, units * parts, groups, rdp,
                                               b, 4 * part, units)
                    else:
                        z = _dot_spread(z, shared, row // 4 + part, parts, rec, slot,
                                        units * parts, groups, False)
                elif use_rdp:  # unpadded rows in global memory: row-major weights
                    ub, uj, un = uint64(b), uint64(j), uint64(units)
                    for i in range(part, units, parts):
                        ui = uint64(i)
                        z += hbuf[uint64(row) + ui] * rdp[ub, ui] * rec[ui * un + uj]
                else:
                    z = _dot(z, hbuf, row, rec, j, units, part, units, parts)
            z = _combine_parts(z, partial, tid, part, parts)
            if valid and part == 0:
                # a masked step holds the state
                here, there = uint64(row + j), uint64(nxt + r * stride + j)
                h = shared[here] if state_shared else hbuf[here]
                if live:
                    z += p
                    # (the activation's branches are typed float64: back to the
                    # state's type here, so the output code runs in it)
                    h = z if act == SOFTMAX else proj.dtype.type(_activation(act, z))
                if state_shared:
                    shared[there] = h
                else:
                    hbuf[there] = h
                # This thread owns output idx at every step: it emits it here (and
                # only it reads and writes its carry), no barrier needed first.
                if act != SOFTMAX:
                    _emit(h, live, b, j, k, s, t, inp, inp_batch_major, inp_is_source,
                          residual, is_last, zero_output_for_mask, carry, out, want_out,
                          out_batch_major)
            base += nth
        if act == SOFTMAX:  # needs the whole row: one thread per row, between barriers
            cuda.syncthreads()
            for r in range(tid, rows, nth):
                if _live(mask, has_mask, mask_batch_major, b0 + r, t):
                    row = nxt + r * stride
                    top = states[row]
                    for j in range(1, units):
                        top = max(top, states[row + j])
                    total = zero
                    for j in range(units):
                        e = math.exp(states[row + j] - top)
                        states[row + j] = e
                        total += e
                    for j in range(units):
                        states[row + j] = states[row + j] / total
            cuda.syncthreads()
            for idx in range(tid, work, nth):
                r = idx // units
                j = idx - r * units
                b = b0 + r
                _emit(states[nxt + r * stride + j],
                      _live(mask, has_mask, mask_batch_major, b, t), b, j, k, s, t, inp,
                      inp_batch_major, inp_is_source, residual, is_last,
                      zero_output_for_mask, carry, out, want_out, out_batch_major)
        cuda.syncthreads()  # the step's state is complete before the next reads it
    if state_shared:
        _drain_block(shared, hbuf, (steps % 2) * tile, stride, rows, units, b0, batch,
                     s0 + steps, tid, nth)


@cuda.jit(device=True)
def _fill_block(shared, hbuf, rec, tile, w_size, stride, rows, units, b0, batch, s0, tid,
                nth):
    """recur_block's on-chip buffers at the start of a chunk: the block's ``rows`` state
    rows (from half ``s0 % 2`` of ``hbuf``) in the first half of the double buffer,
    both halves ``tile`` long with rows ``stride`` apart and their padding zero (it
    meets zero weights), then ``w_size`` weights copied from ``rec``."""
    for pos in range(tid, 2 * tile, nth):
        r = pos // stride
        j = pos - r * stride
        v = shared.dtype.type(0)
        if r < rows and j < units:  # the first half
            v = hbuf[uint64(_state_index(s0 % 2, b0 + r, j, batch, units))]
        shared[pos] = v
    for idx in range(tid, w_size, nth):
        shared[2 * tile + idx] = rec[idx]


@cuda.jit(device=True)
def _drain_block(shared, hbuf, last, stride, rows, units, b0, batch, s_end, tid, nth):
    """Copy the block's state rows from the on-chip half at ``last`` to half ``s_end %
    2`` of ``hbuf`` at the end of a chunk."""
    for idx in range(tid, rows * units, nth):
        r = idx // units
        j = idx - r * units
        hbuf[uint64(_state_index(s_end % 2, b0 + r, j, batch, units))] = shared[
            last + r * stride + j]


@cuda.jit(device=True)
def _block_chunk_lean(proj, steps, units, rec, rec_shared, act, mask, has_mask,
                      mask_batch_major, reverse, s0, total_steps, inp, inp_batch_major,
                      inp_is_source, residual, is_last, zero_output_for_mask, hbuf, carry,
                      out, want_out, out_batch_major, rows_per_block):
    """:func:`_block_chunk` for the common case, with less work per step: the state on
    chip, every output in one round of the block's threads, no recurrent dropout, not
    softmax (the engine launches it only then; the arguments are those of
    recur_block, less the dropout's).

    With one warp per scheduler a step's time is about its instruction count times an
    instruction's latency (ncu, (1, 1000, 64, 64): a warp issued once per 5.2 cycles,
    444 instructions per step, of which the dot product is about 100). Here each thread
    works out its output, its addresses and their clamps once per chunk; the output
    carry stays in a register for the chunk (written back at its end); the state
    buffers alternate by a subtraction; a float32 tanh stays float32 (the generic
    activation switch returns float64).
    """
    tid = cuda.threadIdx.x
    nth = cuda.blockDim.x
    batch, b0, rows, parts, groups, slot_stride, padded, _, tile, w_size = (
        _block_layout(proj, units, rows_per_block, rec_shared, True))
    shared = cuda.shared.array(0, proj.dtype, alignment=SHARED_ALIGN)
    partial = shared[2 * tile + w_size:2 * tile + w_size + nth]
    _fill_block(shared, hbuf, rec, tile, w_size, padded, rows, units, b0, batch, s0, tid,
                nth)
    idx = tid // parts
    part = tid - idx * parts
    r = idx // units
    j = idx - r * units
    valid = idx < rows * units
    owner = valid and part == 0
    # Clamped into range: a thread without an output loads (and ignores) a neighbour's.
    ub = uint64(b0 + min(r, rows - 1))
    uj = uint64(min(j, units - 1))
    h_off = r * padded + 4 * part  # this part's first state value, in either half
    own = r * padded + j  # this output's state, in either half
    slot = j * parts + part
    w_pair = (2 * tile + slot * slot_stride) // 2
    zero = proj.dtype.type(0)
    c = zero  # the output carry (the last output) of this thread's output
    if owner and is_last and s0 > 0:
        c = carry[ub, uj]
    # The thread's projections, mask values and outputs over time as 1-D views, so a
    # step's address is one multiply-add (3-D indexing with the layout flags and
    # clamps per step took about 65 instructions at the top of each step). Without a
    # mask (or outputs) the placeholder's one value is read (written) at every step.
    p_row = proj[:, ub, uj]
    m_b = ub if has_mask else uint64(0)
    m_row = mask[m_b, :] if mask_batch_major else mask[:, m_b]
    t_first, t_dir = s0, 1
    if reverse:
        t_first, t_dir = total_steps - 1 - s0, -1
    if not has_mask:
        t_first, t_dir = 0, 0
    o_b = ub if want_out else uint64(0)  # (else the (1, 1, 1) placeholder)
    o_j = uj if want_out else uint64(0)
    o_row = out[o_b, :, o_j] if out_batch_major else out[:, o_b, o_j]
    o_first = s0 if out_batch_major or is_last else 0
    cuda.syncthreads()
    # The next step's projection and mask are loaded a step ahead, unconditionally
    # (see _block_chunk).
    p_next = zero
    m_next = mask.dtype.type(0)
    if steps > 0:
        p_next = p_row[0]
        m_next = m_row[uint64(t_first)]
    cur = 0
    for k in range(steps):
        p_here, m_here = p_next, m_next
        k_next = min(k + 1, steps - 1)
        p_next = p_row[uint64(k_next)]
        m_next = m_row[uint64(t_first + t_dir * k_next)]
        nxt = tile - cur
        z = zero
        if valid:
            # (offsets in groups and pairs: see _dot_slots)
            if rec_shared:
                z = _dot_slots(z, shared, (cur + h_off) // 4, parts, w_pair, groups)
            else:
                z = _dot_spread(z, shared, (cur + h_off) // 4, parts, rec, slot,
                                units * parts, groups, True)
        z = _combine_parts(z, partial, tid, part, parts)
        if owner:
            live = m_here != 0 or not has_mask
            h = shared[uint64(cur + own)]
            o = zero  # intermediate levels' masked outputs: never read
            if live:
                z += p_here
                if act == TANH:
                    h = math.tanh(z)
                else:
                    h = proj.dtype.type(_activation(act, z))
                o = h
                if residual:
                    o += _residual_term(inp, inp_batch_major, inp_is_source, ub, uj, k,
                                        _source_step(s0 + k, total_steps, reverse),
                                        carry)
            elif is_last and not zero_output_for_mask:
                o = c
            shared[uint64(nxt + own)] = h
            c = o
            if want_out:
                o_row[uint64(o_first + k)] = o
        cur = nxt
        cuda.syncthreads()  # the step's state is complete before the next reads it
    if owner and is_last:
        carry[ub, uj] = c
    _drain_block(shared, hbuf, cur, padded, rows, units, b0, batch, s0 + steps, tid, nth)


# recur_block, by where the recurrent matrix and the state live (the engine's plan picks
# one; see _block_chunk for the arguments).


@cuda.jit(cache=not SIMULATED, **BLOCK_BOUNDS)
def recur_block(proj, steps, units, rec, rdp, use_rdp, act, mask, has_mask,
                mask_batch_major, reverse, s0, total_steps, inp, inp_batch_major,
                inp_is_source, residual, is_last, zero_output_for_mask, hbuf, carry, out,
                want_out, out_batch_major, rows_per_block):
    """:func:`_block_chunk` with the matrix (slots) and the state in shared memory."""
    _block_chunk(proj, steps, units, rec, True, True, rdp, use_rdp, act, mask, has_mask,
                 mask_batch_major, reverse, s0, total_steps, inp, inp_batch_major,
                 inp_is_source, residual, is_last, zero_output_for_mask, hbuf, carry,
                 out, want_out, out_batch_major, rows_per_block)


@cuda.jit(cache=not SIMULATED, **BLOCK_BOUNDS)
def recur_block_l2(proj, steps, units, rec, rdp, use_rdp, act, mask, has_mask,
                   mask_batch_major, reverse, s0, total_steps, inp, inp_batch_major,
                   inp_is_source, residual, is_last, zero_output_for_mask, hbuf, carry,
                   out, want_out, out_batch_major, rows_per_block):
    """:func:`_block_chunk` with the state in shared memory and the matrix (slots
    interleaved) read from global memory (L2)."""
    _block_chunk(proj, steps, units, rec, False, True, rdp, use_rdp, act, mask,
                 has_mask, mask_batch_major, reverse, s0, total_steps, inp,
                 inp_batch_major, inp_is_source, residual, is_last, zero_output_for_mask,
                 hbuf, carry, out, want_out, out_batch_major, rows_per_block)


@cuda.jit(cache=not SIMULATED, **BLOCK_BOUNDS)
def recur_block_global(proj, steps, units, rec, rdp, use_rdp, act, mask, has_mask,
                       mask_batch_major, reverse, s0, total_steps, inp, inp_batch_major,
                       inp_is_source, residual, is_last, zero_output_for_mask, hbuf,
                       carry, out, want_out, out_batch_major, rows_per_block):
    """:func:`_block_chunk` with rows too wide for shared memory: the state in place in
    ``hbuf`` and the matrix row-major, both in global memory."""
    _block_chunk(proj, steps, units, rec, False, False, rdp, use_rdp, act, mask,
                 has_mask, mask_batch_major, reverse, s0, total_steps, inp,
                 inp_batch_major, inp_is_source, residual, is_last, zero_output_for_mask,
                 hbuf, carry, out, want_out, out_batch_major, rows_per_block)


# recur_block's lean variants (see _block_chunk_lean): recur_block's arguments, less
# the recurrent dropout's two.


@cuda.jit(cache=not SIMULATED, **BLOCK_BOUNDS)
def recur_block_lean(proj, steps, units, rec, act, mask, has_mask, mask_batch_major,
                     reverse, s0, total_steps, inp, inp_batch_major, inp_is_source,
                     residual, is_last, zero_output_for_mask, hbuf, carry, out, want_out,
                     out_batch_major, rows_per_block):
    """:func:`_block_chunk_lean` with the matrix (slots) in shared memory."""
    _block_chunk_lean(proj, steps, units, rec, True, act, mask, has_mask,
                      mask_batch_major, reverse, s0, total_steps, inp, inp_batch_major,
                      inp_is_source, residual, is_last, zero_output_for_mask, hbuf, carry,
                      out, want_out, out_batch_major, rows_per_block)


@cuda.jit(cache=not SIMULATED, **BLOCK_BOUNDS)
def recur_block_l2_lean(proj, steps, units, rec, act, mask, has_mask, mask_batch_major,
                        reverse, s0, total_steps, inp, inp_batch_major, inp_is_source,
                        residual, is_last, zero_output_for_mask, hbuf, carry, out,
                        want_out, out_batch_major, rows_per_block):
    """:func:`_block_chunk_lean` with the matrix (slots interleaved) read from global
    memory (L2)."""
    _block_chunk_lean(proj, steps, units, rec, False, act, mask, has_mask,
                      mask_batch_major, reverse, s0, total_steps, inp, inp_batch_major,
                      inp_is_source, residual, is_last, zero_output_for_mask, hbuf, carry,
                      out, want_out, out_batch_major, rows_per_block)


@cuda.jit(device=True)
def _put_state(shared, padded, r, i, h, rdp, use_rdp, b, units, row_step, col_step):
    """Store state value ``h`` of row ``r`` (batch row ``b + r``), unit ``i`` of a
    recur_grid group in its padded shared row (times the recurrent dropout mask when
    ``use_rdp``); return the next element's ``(r, i)``, ``(row_step, col_step)``
    further on."""
    if use_rdp:
        h *= rdp[uint64(b + r), uint64(i)]
    shared[uint64(r * padded + i)] = h
    r += row_step
    i += col_step
    if i >= units:
        i -= units
        r += 1
    return r, i


@cuda.jit(device=True)
def _grid_output(z, live, p, b, j, k, s, t, prev, nxt, batch, units, act, hbuf, inp,
                 inp_batch_major, inp_is_source, residual, is_last, zero_output_for_mask,
                 carry, out, want_out, out_batch_major):
    """recur_grid's unit ``j`` of row ``b`` at chunk step ``k``, from its dot product
    ``z`` and projection ``p``: the new state (held from half ``prev`` where masked)
    into half ``nxt`` of ``hbuf``, and the output."""
    if live:
        h = hbuf.dtype.type(_activation(act, z + p))
    else:
        h = hbuf[uint64(_state_index(prev, b, j, batch, units))]
    hbuf[uint64(_state_index(nxt, b, j, batch, units))] = h
    _emit(h, live, b, j, k, s, t, inp, inp_batch_major, inp_is_source, residual, is_last,
          zero_output_for_mask, carry, out, want_out, out_batch_major)


@cuda.jit(cache=not SIMULATED, **GRID_BOUNDS)
def recur_grid(proj, k_begin, k_end, units, rec_cols, slice_units, rdp, use_rdp, act,
               mask, has_mask, mask_batch_major, reverse, s0, total_steps, inp,
               inp_batch_major, inp_is_source, residual, is_last, zero_output_for_mask,
               hbuf, carry, out, want_out, out_batch_major, rows_per_block, group_rows):
    """Chunk steps ``k_begin`` to ``k_end`` of one level, the units split over blocks.

    Block ``(x, y)`` owns units ``x * slice_units ...`` and batch rows
    ``y * rows_per_block ...``; ``rec_cols[x]`` holds the (units, slice_units) columns
    of block column ``x`` in the slot layout of :func:`slot_layout` (flat; zero past
    the last unit), which the block keeps in shared memory for all its steps. Per step
    the block reads its rows of the previous state from ``hbuf`` (flat, see the module
    docstring) ``group_rows`` rows at a time into shared memory (rows zero-padded as
    the slot layout needs), computes its outputs and writes them to the other half; a
    grid barrier separates the steps. A thread computes a unit of two rows of a group
    (of one row when a group has one; see :func:`grid_row_sets`). When more than one
    thread per output is free, the threads split each dot product and add the parts
    with warp shuffles (threads per output: a power of two dividing the block size,
    which must be a power of two; counted for a full slice, so every block column
    shares the layout).

    The launch must be cooperative when it covers more than one step; with one step
    per launch (the simulator, which runs blocks one after another) it is not.
    """
    batch = proj.shape[1]
    j0 = cuda.blockIdx.x * slice_units
    cols = min(slice_units, units - j0)
    b0 = cuda.blockIdx.y * rows_per_block
    rows = min(rows_per_block, batch - b0)
    tid = cuda.threadIdx.x
    nth = cuda.blockDim.x
    shared = cuda.shared.array(0, proj.dtype, alignment=SHARED_ALIGN)
    per_thread, row_sets, tile_rows = _grid_row_sets(group_rows)
    parts = _parts_per_output(row_sets * slice_units, nth)
    groups, slot_stride, padded = _slot_layout(units, parts)
    # shared: tile_rows padded state rows, then the weight slots (both starting on a
    # group of 4 values: see _dot_slots), then the partials
    tile_size = tile_rows * padded
    w_size = slice_units * parts * slot_stride
    partial = shared[tile_size + w_size:tile_size + w_size + nth]
    own = rec_cols[cuda.blockIdx.x]
    for idx in range(tid, tile_size, nth):  # the padding stays zero
        shared[idx] = 0
    for idx in range(tid, w_size, nth):
        shared[tile_size + idx] = own[idx]
    if is_last and s0 + k_begin == 0:
        for idx in range(tid, rows * cols, nth):
            carry[b0 + idx // cols, j0 + idx % cols] = 0
    outputs = row_sets * cols  # (a unit of a row set: per_thread rows)
    # The divisions of the index arithmetic, done once per launch rather than per step
    # (each a few dozen instructions): this thread's output (and part) when one round
    # of the block's threads covers a group, and its first element of a group's state.
    single_round = outputs * parts <= nth
    my_o = tid // parts
    my_part = tid - my_o * parts
    my_r = my_o // cols
    my_c = my_o - my_r * cols
    first_row = tid // units
    first_col = tid - first_row * units
    row_step = nth // units
    col_step = nth - row_step * units
    grid = cuda.cg.this_grid()
    for k in range(k_begin, k_end):
        s = s0 + k
        prev, nxt = s % 2, 1 - s % 2
        t = _source_step(s, total_steps, reverse)
        for g0 in range(0, rows, group_rows):
            g_rows = min(group_rows, rows - g0)
            cuda.syncthreads()  # the previous group's (or step's) reads of h_tile are done
            # Element e = r * units + i of the group (its rows are contiguous in
            # hbuf), walked by nth: the row and column advance by (row_step,
            # col_step) per turn, no division per element. Eight loads are issued
            # before their stores: one load and store at a time, each store waited a
            # round trip to L2 (ncu: 15% of recur_grid's time at (64, 1000, 512,
            # 512) on it).
            r, i = first_row, first_col
            src_begin = uint64(_state_index(prev, b0 + g0, 0, batch, units))
            src = src_begin + uint64(tid)
            src_end = src_begin + uint64(g_rows * units)
            step = uint64(nth)  # (uint64 times an int64 literal would be a float)
            s2, s3, s4 = step + step, step + step + step, uint64(4) * step
            s5, s6, s7 = s4 + step, s4 + s2, s4 + s3
            b = b0 + g0
            while src + s7 < src_end:
                loaded = (hbuf[src], hbuf[src + step], hbuf[src + s2], hbuf[src + s3],
                          hbuf[src + s4], hbuf[src + s5], hbuf[src + s6], hbuf[src + s7])
                for h in loaded:
                    r, i = _put_state(shared, padded, r, i, h, rdp, use_rdp, b, units,
                                      row_step, col_step)
                src += s4 + s4
            while src < src_end:
                r, i = _put_state(shared, padded, r, i, hbuf[src], rdp, use_rdp, b, units,
                                  row_step, col_step)
                src += step
            cuda.syncthreads()
            base = 0
            g_sets = (g_rows + per_thread - 1) // per_thread
            while base < g_sets * cols * parts:  # rounds (see recur_block)
                if single_round:  # the same output at every group and step
                    o, part, r, c = my_o, my_part, my_r, my_c
                else:
                    slot = base + tid
                    o = slot // parts
                    part = slot - o * parts
                    r = o // cols
                    c = o - r * cols
                r *= per_thread  # the set's first row in the group
                b = b0 + g0 + r
                valid = o < g_sets * cols
                second = valid and per_thread == 2 and r + 1 < g_rows
                j = j0 + c
                z = proj.dtype.type(0)
                z_second = z
                live = live_second = False
                p = p_second = z
                if valid and part == 0:  # loads issued before the dot: latency overlaps
                    live = _live(mask, has_mask, mask_batch_major, b, t)
                    p = proj[uint64(k), uint64(b), uint64(j)]
                    if second:
                        live_second = _live(mask, has_mask, mask_batch_major, b + 1, t)
                        p_second = proj[uint64(k), uint64(b + 1), uint64(j)]
                if valid:
                    h_group = r * (padded // 4) + part
                    w_pair = (tile_size + (c * parts + part) * slot_stride) // 2
                    if per_thread == 2:
                        z, z_second = _dot_slots_two_rows(shared, h_group,
                                                          h_group + padded // 4, parts,
                                                          w_pair, groups)
                    else:
                        z = _dot_slots(z, shared, h_group, parts, w_pair, groups)
                z = _combine_parts(z, partial, tid, part, parts)
                if per_thread == 2:  # (every thread: shuffles)
                    z_second = _combine_parts(z_second, partial, tid, part, parts)
                if part == 0 and valid:
                    _grid_output(z, live, p, b, j, k, s, t, prev, nxt, batch, units, act,
                                 hbuf, inp, inp_batch_major, inp_is_source, residual,
                                 is_last, zero_output_for_mask, carry, out, want_out,
                                 out_batch_major)
                    if second:
                        _grid_output(z_second, live_second, p_second, b + 1, j, k, s, t,
                                     prev, nxt, batch, units, act, hbuf, inp,
                                     inp_batch_major, inp_is_source, residual, is_last,
                                     zero_output_for_mask, carry, out, want_out,
                                     out_batch_major)
                base += nth
        if k + 1 < k_end:
            grid.sync()


@cuda.jit(cache=not SIMULATED)
def recur_tiled(proj, k_begin, k_end, units, rec, rdp, use_rdp, act, mask, has_mask,
                mask_batch_major, reverse, s0, total_steps, inp, inp_batch_major,
                inp_is_source, residual, is_last, zero_output_for_mask, hbuf, carry,
                out, want_out, out_batch_major):
    """Chunk steps ``k_begin`` to ``k_end`` of one level, each step a tiled GEMM.

    Step ``s`` computes ``(hbuf[s % 2] * rdp) @ rec`` (``rec`` is (units, units)) in
    output tiles of ``TILE_ROWS`` batch rows x ``TILE_COLS`` units, exactly as
    :func:`project` does, then adds the projection, applies the activation and the
    mask and writes half ``1 - s % 2`` of ``hbuf``. Blocks take the tiles in turn
    (block ``x`` owns tiles ``x``, ``x + gridDim.x``, ...; the same at every step, so
    a thread always writes the same outputs and reads back its own ``carry``); a grid
    barrier separates the steps. The recurrent matrix is read from global memory (L2)
    at every step: a block reuses each value it loads ``TILE_ROWS`` times.

    Unlike the other recurrence kernels it takes the state buffer as the 3-D
    ``(2, batch, units)`` array: the product's rows are 1-D views of its previous half
    (:func:`_tile_product`, shared with :func:`project`).

    Launch with ``(TILE_EDGE, TILE_EDGE)`` threads; cooperatively when the launch
    covers more than one step (one step per launch in the simulator).
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
    tx = cuda.threadIdx.x
    ty = cuda.threadIdx.y
    tid = ty * TILE_EDGE + tx
    tiles = (((batch + TILE_ROWS - 1) // TILE_ROWS)
             * ((units + TILE_COLS - 1) // TILE_COLS))
    if is_last and s0 + k_begin == 0:
        for tile in range(cuda.blockIdx.x, tiles, cuda.gridDim.x):
            row0, col0 = _tile_origin(tile, units)
            for a in range(MICRO_ROWS):
                b = row0 + ty * MICRO_ROWS + a
                for c in range(MICRO_COLS):
                    j = col0 + tx * MICRO_COLS + c
                    if b < batch and j < units:
                        carry[b, j] = 0
    grid = cuda.cg.this_grid()
    for k in range(k_begin, k_end):
        s = s0 + k
        prev, nxt = s % 2, 1 - s % 2
        t = _source_step(s, total_steps, reverse)
        for tile in range(cuda.blockIdx.x, tiles, cuda.gridDim.x):
            row0, col0 = _tile_origin(tile, units)
            b, j = _tile_slots(tid, row0, col0, batch, units)
            ub = uint64(b)
            _tile_product(acc, a_tile, w_tile, a_next, w_next, a_reg, w_reg,
                          hbuf[uint64(prev), ub, :], rdp[ub if use_rdp else uint64(0), :],
                          use_rdp, rec[:, uint64(j)], units, tx, ty, tid)
            # Two passes over the thread's outputs. The first, small enough to be
            # unrolled, keeps `acc` in registers (indexed by loop counters that are
            # not constants, a register array goes to local memory): it parks the
            # sums (or the held state of masked rows) in the new half of hbuf. The
            # second reads them back (the thread's own words: L1 hits), applies the
            # activation and emits the outputs.
            for a in range(MICRO_ROWS):
                b = row0 + ty * MICRO_ROWS + a
                if b < batch:
                    live = _live(mask, has_mask, mask_batch_major, b, t)
                    for c in range(MICRO_COLS):
                        j = col0 + tx * MICRO_COLS + c
                        if j < units:
                            hbuf[nxt, b, j] = (acc[a, c] + proj[k, b, j] if live
                                               else hbuf[prev, b, j])
            for a in range(MICRO_ROWS):
                b = row0 + ty * MICRO_ROWS + a
                if b < batch:
                    live = _live(mask, has_mask, mask_batch_major, b, t)
                    for c in range(MICRO_COLS):
                        j = col0 + tx * MICRO_COLS + c
                        if j < units:
                            h = hbuf[nxt, b, j]
                            if live:
                                h = _activation(act, h)
                                hbuf[nxt, b, j] = h
                            _emit(h, live, b, j, k, s, t, inp, inp_batch_major,
                                  inp_is_source, residual, is_last, zero_output_for_mask,
                                  carry, out, want_out, out_batch_major)
        if k + 1 < k_end:
            grid.sync()
