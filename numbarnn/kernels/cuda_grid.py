"""The cooperative recurrence kernels: every step of a chunk in one launch with one grid
barrier per step, the state exchanged between blocks through global memory.

* :func:`recur_grid`: each block owns a slice of the units (its columns of the
  recurrent matrix stay in shared memory) and a tile of batch rows. For recurrent
  matrices too big for one block, while a block's rows are few.
* :func:`recur_tiled`: each step is the register-tiled GEMM of :mod:`.cuda_tiles` of
  the state with the recurrent matrix. For large batches of large units, where a step
  is compute-bound.
"""
from numba import cuda, uint64

from .cuda_common import (GRID_BOUNDS, SHARED_ALIGN, SIMULATED, _activation, _emit, _live,
                          _source_step, _state_index)
from .cuda_dot import (_combine_parts, _dot_slots, _dot_slots_two_rows, _parts_per_output,
                       _slot_layout)
from .disk_cache import lock_index
from .cuda_tiles import (A_LOADS, MICRO_COLS, MICRO_ROWS, TILE_COLS, TILE_DEPTH, TILE_EDGE,
                         TILE_ROWS, TILE_ROWS_PADDED, W_LOADS, _tile_origin, _tile_product,
                         _tile_slots)


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


_grid_row_sets = cuda.jit(device=True)(grid_row_sets)


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


@lock_index
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


@lock_index
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
