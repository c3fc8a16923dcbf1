"""recur_block and its variants: every step of a chunk in one launch, each block owning
a tile of batch rows and all units, so a step needs only block barriers. For recurrent
matrices that fit in shared memory, and for softmax (which needs whole rows).
:func:`recur_block_l2` reads the matrix from global memory (the state still on chip),
:func:`recur_block_global` also the state (rows too wide for shared memory);
:func:`recur_block_lean` and :func:`recur_block_l2_lean` do the common case (every
output in one round of threads, no recurrent dropout, not softmax) in fewer
instructions per step."""
import math

from numba import cuda, uint64

from .cuda_common import (BLOCK_BOUNDS, SHARED_ALIGN, SIMULATED, TANH, _activation, _emit,
                          _live, _mask_at, _residual_term, _source_step, _state_index)
from .cuda_dot import (_combine_parts, _dot, _dot_slots, _dot_slots_dropped, _dot_spread,
                       _parts_per_output, _slot_layout)
from .disk_cache import lock_index
from .scalar_math import SOFTMAX


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


@lock_index
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


@lock_index
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


@lock_index
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


@lock_index
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


@lock_index
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
