"""The dot products of a state row with the recurrent matrix held on chip, for
:mod:`.cuda_block` and :mod:`.cuda_grid`: the slot layout of the weights
(:func:`slot_layout`), its dot products, and the sum of a dot product split over
several threads (:func:`_combine_parts`)."""
from numba import cuda, uint64

from .cuda_common import SIMULATED

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


_parts_per_output = cuda.jit(device=True)(parts_per_output)
_slot_layout = cuda.jit(device=True)(slot_layout)


@cuda.jit(device=True)
def _dot(acc, hs, h_off, w, w_off, w_stride, first, count, step):
    """``acc + sum(hs[h_off + i] * w[w_off + i * w_stride])`` over ``i`` in
    ``range(first, count, step)``.

    recur_block_global's dot product (the state and the row-major matrix both in
    global memory). Four accumulators make four independent FMA chains (one chain
    waits an FMA latency per term). The indices are unsigned: numba adds a
    negative-index wraparound to every signed index, which here cost about 15 integer
    instructions per FMA in the PTX; unsigned, the loop is two loads, one FMA and
    pointer increments.
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
