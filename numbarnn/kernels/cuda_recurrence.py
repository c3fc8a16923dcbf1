"""The numba-cuda kernels of the CUDA engine (launched by :mod:`numbarnn.kernels.cuda`).

The semantics are those of :mod:`numbarnn.kernels.cpu` (tf-keras ``backend.rnn``): a
masked step holds every state and repeats the previous output, or zero with
``zero_output_for_mask``; the output carry starts at zero. Three kernels:

* :func:`project`: the input projection of a chunk of steps as one register-tiled
  GEMM, with input dropout, bias and the ``go_backwards`` reversal folded into its
  indexing;
* :func:`recur_block`: every step of a chunk in one launch; each block owns a tile of
  batch rows and all units, so a step needs only block barriers. For recurrent
  matrices that fit in shared memory, for softmax (which needs whole rows), and
  wherever :func:`recur_grid` is not chosen (the matrix is then read from global
  memory);
* :func:`recur_grid`: every step of a chunk in one cooperative launch; each block owns
  a slice of the units (its columns of the recurrent matrix stay in shared memory) and
  a tile of batch rows, and the blocks exchange the state through global memory with
  one grid barrier per step. For recurrent matrices too big for one block.

The state lives in a double buffer of shape (2, batch, units), passed flat as ``hbuf``
(element ``(p, b, j)`` at ``_state_index(p, b, j, batch, units)``; a reshape inside a
kernel would put the array's descriptor in local memory): processing step ``s``
(counted over the whole sequence) reads half ``s % 2`` and writes the other, in both
recurrence kernels, so chunks and kernels chain.

Inputs are read in the caller's layout (batch- or time-major, any strides, any real
dtype) and the last level's outputs written in it, so device inputs are never copied.
"""
import math
import os

from numba import cuda, uint64

from .scalar_math import SOFTMAX, scalar_activation

SIMULATED = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"
# Tiling of `project`: P_EDGE x P_EDGE threads per block, each computing P_MICRO x
# P_MICRO outputs; P_DEPTH input features per shared-memory stage. The simulator runs
# each thread as a Python thread: small blocks there.
P_EDGE = 4 if SIMULATED else 16
P_MICRO = 2 if SIMULATED else 4
P_BLOCK = P_EDGE * P_MICRO
P_PADDED = P_BLOCK + 1  # shared arrays need a literal shape: computed here, not inline
P_DEPTH = 4 if SIMULATED else 16

_activation = cuda.jit(device=True)(scalar_activation)


@cuda.jit(device=True)
def _source_step(s, steps, reverse):
    """The time index in the input of processing step ``s``."""
    return steps - 1 - s if reverse else s


@cuda.jit(device=True)
def _live(mask, has_mask, mask_batch_major, b, t):
    if not has_mask:
        return True
    return mask[b, t] != 0 if mask_batch_major else mask[t, b] != 0


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


@cuda.jit(device=True)
def _parts_per_output(outputs, threads):
    """Threads per output when a block has ``threads`` (a power of two) for
    ``outputs`` dot products: the largest power of two that leaves none idle."""
    parts = 1
    while parts * 2 * outputs <= threads:
        parts *= 2
    return parts


@cuda.jit(device=True)
def _combine_parts(z, partial, tid, part, parts):
    """Thread ``tid`` computed part ``part`` of a dot product split over ``parts``
    neighbouring threads; part 0 gets the sum. Every thread of the block must call it
    (it holds block barriers); ``partial`` is one shared slot per thread."""
    if parts > 1:
        cuda.syncthreads()  # the previous round's reads of `partial` are done
        partial[tid] = z
        cuda.syncthreads()
        if part == 0:
            for q in range(1, parts):
                z += partial[tid + q]
    return z


@cuda.jit(device=True)
def _emit(o, live, b, j, k, s, t, inp, inp_batch_major, inp_is_source, residual,
          is_last, zero_output_for_mask, carry, out, want_out, out_batch_major):
    """Write the output of unit ``j`` of row ``b`` at chunk step ``k`` (sequence step
    ``s``, input time ``t``): ``o`` is the new state when ``live``."""
    if live:
        if residual:
            if not inp_is_source:
                o += inp[k, b, j]
            elif inp_batch_major:
                o += carry.dtype.type(inp[b, t, j])
            else:
                o += carry.dtype.type(inp[t, b, j])
    elif is_last and not zero_output_for_mask:
        o = carry[b, j]
    else:
        o = carry.dtype.type(0)  # intermediate levels: never read (masked below too)
    if is_last:
        carry[b, j] = o
    if want_out:
        if out_batch_major:
            out[b, s, j] = o
        elif is_last:
            out[s, b, j] = o
        else:
            out[k, b, j] = o


@cuda.jit(cache=not SIMULATED)
def project(x, x_batch_major, reverse, s0, total_steps, steps, units, drop, use_drop,
            kernel, bias, proj):
    """``proj[k, b, :units] = (x[t, b, :] * drop[b, :]) @ kernel + bias`` for the
    chunk's ``steps`` steps.

    ``k`` counts processing steps from sequence step ``s0``; ``t`` is the step in ``x``
    (reversed when ``reverse``). Output rows ``k * B + b`` run along the grid's x axis
    (no 65535 limit), units along its y axis.

    Register-tiled GEMM: a block computes a ``P_BLOCK x P_BLOCK`` tile of the output,
    each thread a ``P_MICRO x P_MICRO`` sub-tile held in registers, over slices of
    ``P_DEPTH`` input features staged in shared memory. Per feature a thread loads
    ``2 * P_MICRO`` values from shared memory for ``P_MICRO ** 2`` FMAs (a one-output
    thread loads two per FMA). A thread's rows and columns are strided by the block
    edge, so a warp reads consecutive shared words and writes consecutive columns.
    """
    # x tile stored transposed, padded by one column: consecutive features of one row
    # (the coalesced global read) land in different banks.
    a_tile = cuda.shared.array((P_DEPTH, P_PADDED), proj.dtype)
    b_tile = cuda.shared.array((P_DEPTH, P_BLOCK), proj.dtype)
    acc = cuda.local.array((P_MICRO, P_MICRO), proj.dtype)
    a_reg = cuda.local.array(P_MICRO, proj.dtype)
    b_reg = cuda.local.array(P_MICRO, proj.dtype)
    batch = proj.shape[1]
    in_dim = kernel.shape[0]
    n_rows = steps * batch
    tx = cuda.threadIdx.x
    ty = cuda.threadIdx.y
    tid = ty * P_EDGE + tx
    row0 = cuda.blockIdx.x * P_BLOCK
    col0 = cuda.blockIdx.y * P_BLOCK
    for a in range(P_MICRO):
        for c in range(P_MICRO):
            acc[a, c] = 0
    for i0 in range(0, in_dim, P_DEPTH):
        for e in range(tid, P_DEPTH * P_BLOCK, P_EDGE * P_EDGE):
            m = e // P_DEPTH  # x: consecutive threads read consecutive features
            q = e - m * P_DEPTH
            row = row0 + m
            i = i0 + q
            v = proj.dtype.type(0)
            if row < n_rows and i < in_dim:
                k = row // batch
                b = row - k * batch
                t = _source_step(s0 + k, total_steps, reverse)
                v = proj.dtype.type(x[b, t, i] if x_batch_major else x[t, b, i])
                if use_drop:
                    v *= drop[b, i]
            a_tile[q, m] = v
            q = e // P_BLOCK  # kernel: consecutive threads read consecutive units
            n = e - q * P_BLOCK
            i = i0 + q
            col = col0 + n
            b_tile[q, n] = kernel[i, col] if (i < in_dim and col < units) else 0
        cuda.syncthreads()
        for q in range(P_DEPTH):
            for a in range(P_MICRO):
                a_reg[a] = a_tile[q, ty + a * P_EDGE]
            for c in range(P_MICRO):
                b_reg[c] = b_tile[q, tx + c * P_EDGE]
            for a in range(P_MICRO):
                for c in range(P_MICRO):
                    acc[a, c] += a_reg[a] * b_reg[c]
        cuda.syncthreads()
    for a in range(P_MICRO):
        row = row0 + ty + a * P_EDGE
        if row < n_rows:
            k = row // batch
            b = row - k * batch
            for c in range(P_MICRO):
                col = col0 + tx + c * P_EDGE
                if col < units:
                    proj[k, b, col] = acc[a, c] + bias[col]


@cuda.jit(cache=not SIMULATED)
def recur_block(proj, steps, units, rec, rec_shared, state_shared, rdp, use_rdp, act, mask, has_mask, mask_batch_major, reverse, s0, total_steps, inp,
                inp_batch_major, inp_is_source, residual, is_last, zero_output_for_mask,
                hbuf, carry, out, want_out, out_batch_major, rows_per_block):
    """All steps of one chunk of one level; a block owns ``rows_per_block`` batch rows.

    The block's state is double-buffered (read one half, write the other, alternating
    per step, so a step needs one barrier): in dynamic shared memory when
    ``state_shared``, else in place in ``hbuf`` (rows too wide for shared memory).
    Shared memory also holds the recurrent matrix when ``rec_shared`` (``rec`` is flat,
    row-major), then one partial sum per thread. When the block has more threads than
    outputs, a power of two of them (the block size must be a power of two) split
    each dot product. ``inp`` is the level's input for the residual: the layer-0 input
    (source layout, reversed when ``reverse``) or the previous level's chunk output
    (processing order, time-major).
    """
    batch = proj.shape[1]
    b0 = cuda.blockIdx.x * rows_per_block
    rows = min(rows_per_block, batch - b0)
    work = rows * units
    tid = cuda.threadIdx.x
    nth = cuda.blockDim.x
    shared = cuda.shared.array(0, proj.dtype)
    tile = rows_per_block * units if state_shared else 0
    w_size = units * units if rec_shared else 0
    weights = shared[2 * tile:2 * tile + w_size] if rec_shared else rec
    partial = shared[2 * tile + w_size:2 * tile + w_size + nth]
    # state element (r, j) of half p is states[p_base + r * units + j]
    states = shared if state_shared else hbuf
    # Threads per output: when the block has more threads than outputs, they split
    # each dot product (a shorter chain per step) and add the parts in shared memory.
    parts = _parts_per_output(work, nth)
    for idx in range(tid, work, nth):
        if state_shared:
            shared[idx] = hbuf[_state_index(s0 % 2, b0, idx, batch, units)]
        if is_last and s0 == 0:
            carry[b0 + idx // units, idx % units] = 0
    if rec_shared:
        for idx in range(tid, units * units, nth):
            weights[idx] = rec[idx]
    cuda.syncthreads()
    for k in range(steps):
        s = s0 + k
        if state_shared:
            cur = (k % 2) * tile
            nxt = tile - cur
        else:
            cur = _state_index(s % 2, b0, 0, batch, units)
            nxt = _state_index((s + 1) % 2, b0, 0, batch, units)
        t = _source_step(s, total_steps, reverse)
        for base in range(0, work * parts, nth):
            slot = base + tid
            idx = slot // parts  # this thread's output, and its part of the dot product
            part = slot - idx * parts
            valid = idx < work
            r = idx // units
            j = idx - r * units
            b = b0 + r
            # The global loads are issued before the dot product, which runs whether
            # or not the step is masked, so their latency overlaps it.
            live = False
            p = proj.dtype.type(0)
            if valid and part == 0:
                live = _live(mask, has_mask, mask_batch_major, b, t)
                p = proj[k, b, j]
            z = proj.dtype.type(0)
            if valid:
                if use_rdp:
                    row = cur + r * units
                    for i in range(part, units, parts):
                        z += states[row + i] * rdp[b, i] * weights[i * units + j]
                else:
                    z = _dot(z, states, cur + r * units, weights, j, units, part, units,
                             parts)
            z = _combine_parts(z, partial, tid, part, parts)
            if valid and part == 0:
                if live:
                    z += p
                    states[nxt + idx] = z if act == SOFTMAX else _activation(act, z)
                else:
                    states[nxt + idx] = states[cur + idx]
        if parts > 1:  # below, output idx is read by thread idx, not the one that wrote it
            cuda.syncthreads()
        if act == SOFTMAX:  # needs the whole row: one thread per row, between barriers
            cuda.syncthreads()
            for r in range(tid, rows, nth):
                if _live(mask, has_mask, mask_batch_major, b0 + r, t):
                    row = nxt + r * units
                    top = states[row]
                    for j in range(1, units):
                        top = max(top, states[row + j])
                    total = proj.dtype.type(0)
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
            _emit(states[nxt + idx], _live(mask, has_mask, mask_batch_major, b, t), b, j,
                  k, s, t, inp, inp_batch_major, inp_is_source, residual, is_last,
                  zero_output_for_mask, carry, out, want_out, out_batch_major)
        cuda.syncthreads()
    if state_shared:
        last = (steps % 2) * tile
        out_half = (s0 + steps) % 2
        for idx in range(tid, work, nth):
            hbuf[_state_index(out_half, b0, idx, batch, units)] = shared[last + idx]


@cuda.jit(cache=not SIMULATED)
def recur_grid(proj, k_begin, k_end, units, rec_cols, slice_units, rdp, use_rdp, act,
               mask, has_mask, mask_batch_major, reverse, s0, total_steps, inp,
               inp_batch_major, inp_is_source, residual, is_last, zero_output_for_mask,
               hbuf, carry, out, want_out, out_batch_major, rows_per_block, group_rows):
    """Chunk steps ``k_begin`` to ``k_end`` of one level, the units split over blocks.

    Block ``(x, y)`` owns units ``x * slice_units ...`` and batch rows
    ``y * rows_per_block ...``; ``rec_cols[x]`` holds the (units, slice_units) columns
    of block column ``x`` (row-major, flat; zero-padded past the last unit), which the
    block keeps in shared memory for all its steps. Per step the block reads its rows
    of the previous state from ``hbuf`` (flat, see the module docstring),
    ``group_rows`` rows at a time, computes its outputs and writes them to the other
    half; a grid barrier separates
    the steps. When more than one thread per output is free,
    the threads split each dot product and add the parts in shared memory (threads per
    output: a power of two dividing the block size, which must be a power of two).

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
    shared = cuda.shared.array(0, proj.dtype)
    w_size = units * slice_units
    weights = shared[:w_size]
    h_tile = shared[w_size:w_size + group_rows * units]
    partial = shared[w_size + group_rows * units:w_size + group_rows * units + nth]
    own = rec_cols[cuda.blockIdx.x]
    for idx in range(tid, w_size, nth):
        weights[idx] = own[idx]
    if is_last and s0 + k_begin == 0:
        for idx in range(tid, rows * cols, nth):
            carry[b0 + idx // cols, j0 + idx % cols] = 0
    outputs = group_rows * cols
    parts = _parts_per_output(outputs, nth)
    grid = cuda.cg.this_grid()
    for k in range(k_begin, k_end):
        s = s0 + k
        prev, nxt = s % 2, 1 - s % 2
        t = _source_step(s, total_steps, reverse)
        for g0 in range(0, rows, group_rows):
            g_rows = min(group_rows, rows - g0)
            cuda.syncthreads()  # the previous group's (or step's) reads of h_tile are done
            for idx in range(tid, g_rows * units, nth):
                r = idx // units
                i = idx - r * units
                b = b0 + g0 + r
                h = hbuf[_state_index(prev, b, i, batch, units)]
                h_tile[idx] = h * rdp[b, i] if use_rdp else h
            cuda.syncthreads()
            for base in range(0, g_rows * cols * parts, nth):
                slot = base + tid
                o = slot // parts
                part = slot - o * parts
                r = o // cols
                c = o - r * cols
                b = b0 + g0 + r
                z = proj.dtype.type(0)
                valid = o < g_rows * cols
                j = j0 + c
                live = False
                p = z
                if valid and part == 0:  # loads issued before the dot: latency overlaps
                    live = _live(mask, has_mask, mask_batch_major, b, t)
                    p = proj[k, b, j]
                if valid:
                    z = _dot(z, h_tile, r * units, weights, c, slice_units, part, units,
                             parts)
                z = _combine_parts(z, partial, tid, part, parts)
                if part == 0 and valid:
                    if live:
                        h = _activation(act, z + p)
                    else:
                        h = hbuf[_state_index(prev, b, j, batch, units)]
                    hbuf[_state_index(nxt, b, j, batch, units)] = h
                    _emit(h, live, b, j, k, s, t, inp, inp_batch_major, inp_is_source,
                          residual, is_last, zero_output_for_mask, carry, out, want_out,
                          out_batch_major)
        if k + 1 < k_end:
            grid.sync()
