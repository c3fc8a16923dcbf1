"""Fused ``@njit`` forward kernels for stacks of SimpleRNN-type layers on the CPU.

One call runs a whole stack over the whole sequence for a slice of batch rows (rows are
independent, so :mod:`numbarnn.kernels.run` hands slices to threads). Time is processed
in chunks: per chunk and per layer, the input projection of all the chunk's steps is one
matrix product, then the time loop applies the recurrent product, bias, activation,
mask, residual, dropout masks and direction. Memory is bounded by the chunk, not by the
sequence length (unless the caller asks for the full output sequence).

Both products run in :mod:`numbarnn.kernels.matmul`, our own kernels rather than BLAS
(that module says why). Every layer's kernel and recurrent kernel are packed into
column panels once per set of weights (:func:`pack_stack_panels`, kept by the caller).

Semantics (tf-keras ``backend.rnn``): at a masked step every state is held and the
output is the previous output (or zero with ``zero_output_for_mask``); the output carry
starts at zero. Intermediate layers of a stack skip masked steps entirely: their output
there is never used, because the next layer is masked at the same step.
"""
import numpy as np
from numba import njit

from .disk_cache import lock_index
from .matmul import matmul_acc_panels, pack_panels
from .scalar_math import CPU_JIT, SOFTMAX, activate_row


@lock_index
@njit(**CPU_JIT)
def _copy_vector(dst, src):
    """``dst[:] = src`` for arrays of one length, as a loop: numba's array-to-array slice
    assignment builds a formatted shape-mismatch message, whose string code is about a
    third of a cold compile of this module."""
    for j in range(dst.shape[0]):
        dst[j] = src[j]


@lock_index
@njit(**CPU_JIT)
def _copy_matrix(dst, src):
    """``dst[:, :] = src`` for arrays of one shape (see :func:`_copy_vector`)."""
    for i in range(dst.shape[0]):
        _copy_vector(dst[i], src[i])


@lock_index
@njit(**CPU_JIT)
def _layer_chunk(inp, proj, h, rec, rec_panels, rec_packed, act, residual, use_rdp, rdp,
                 mask, has_mask, is_last, zero_output_for_mask, carry, out, out_row0,
                 hbuf):
    """Run one layer over one chunk of steps (processing order) for a slice of rows.

    inp  : (Tc, nb, I)  layer input (for the residual)
    proj : (Tc, nb, U)  inp @ kernel + bias (input dropout applied); overwritten
    h    : (nb, U)      state, updated in place
    rec  : (U, U)       recurrent kernel, and ``rec_panels, rec_packed`` its panels
    rdp  : (nb, U)      recurrent dropout mask (read when ``use_rdp``)
    mask : (Tc, nb)     bool (read when ``has_mask``)
    out  : (Tc, *, U)   layer output, written at rows ``out_row0 + b``
    carry: (nb, U)      previous output (last layer only)
    hbuf : (nb, U)      scratch for the dropped-out state
    """
    steps, batch, units = proj.shape
    for k in range(steps):
        z = proj[k]
        if use_rdp:
            for b in range(batch):
                for j in range(units):
                    hbuf[b, j] = h[b, j] * rdp[b, j]
            matmul_acc_panels(z, hbuf, rec, rec_panels, rec_packed)
        else:
            matmul_acc_panels(z, h, rec, rec_panels, rec_packed)
        if act == SOFTMAX:
            for b in range(batch):
                if (not has_mask) or mask[k, b]:
                    activate_row(act, z[b])
        else:
            # One call for the whole step: per-row calls cost about as much as the
            # vectorised activation itself at 128 units. Masked rows are activated too,
            # and not used.
            activate_row(act, z.reshape(batch * units))
        for b in range(batch):
            ob = out[k, out_row0 + b]
            if (not has_mask) or mask[k, b]:
                zb = z[b]
                hb = h[b]
                if residual:
                    ib = inp[k, b]
                    for j in range(units):
                        hb[j] = zb[j]
                        ob[j] = zb[j] + ib[j]
                else:
                    for j in range(units):
                        hb[j] = zb[j]
                        ob[j] = zb[j]
            elif not is_last:
                ob[:] = 0.0  # never read: the next layer is masked at this step too
            elif zero_output_for_mask:
                ob[:] = 0.0
            else:
                _copy_vector(ob, carry[b])
            if is_last and has_mask:
                _copy_vector(carry[b], ob)
        if is_last and not has_mask and k == steps - 1:
            for b in range(batch):
                _copy_vector(carry[b], out[k, out_row0 + b])


@lock_index
@njit(**CPU_JIT)
def _level_block(store, rows, u_off, units):
    """Level ``l``'s ``(rows, units)`` block of a per-level store (see ``_split_levels``)."""
    return store[rows * u_off:rows * (u_off + units)].reshape((rows, units))


@lock_index
@njit(**CPU_JIT)
def _split_levels(side_by_side, row0, row1, dims):
    """Rows ``row0:row1`` of a ``(B, sum(U))`` array of per-level columns, copied into one
    contiguous ``(rows, U_l)`` block per level (read with ``_level_block``)."""
    rows = row1 - row0
    store = np.empty(rows * side_by_side.shape[1], side_by_side.dtype)
    if side_by_side.shape[1] == 0:
        return store
    u_off = 0
    for l in range(dims.shape[0]):
        units = dims[l, 1]
        _copy_matrix(_level_block(store, rows, u_off, units),
                     side_by_side[row0:row1, u_off:u_off + units])
        u_off += units
    return store


@lock_index
@njit(**CPU_JIT)
def _pack_matrices(flat, dims, first_dim):
    """Column panels of each level's matrix in ``flat`` (shape ``(dims[l, first_dim],
    dims[l, 1])``) at the same offsets, and the packed column count per level."""
    n_levels = dims.shape[0]
    packed = np.zeros(n_levels, np.int64)
    panels = np.empty_like(flat)
    off = 0
    for l in range(n_levels):
        depth, units = dims[l, first_dim], dims[l, 1]
        size = depth * units
        packed[l] = pack_panels(flat[off:off + size].reshape((depth, units)),
                                panels[off:off + size])
        off += size
    return panels, packed


@lock_index
@njit(**CPU_JIT)
def pack_stack_panels(kernels, recurrents, dims):
    """The column panels (:func:`~numbarnn.kernels.matmul.pack_panels`) of every level's
    kernel and recurrent kernel, as ``(kernel_panels, kernel_packed, recurrent_panels,
    recurrent_packed)`` for :func:`simple_rnn_stack_forward`. Built once per set of
    weights: the caller keeps them with the flat weights."""
    kernel_panels, kernel_packed = _pack_matrices(kernels, dims, 0)
    rec_panels, rec_packed = _pack_matrices(recurrents, dims, 1)
    return kernel_panels, kernel_packed, rec_panels, rec_packed


@lock_index
@njit(nogil=True, **CPU_JIT)
def simple_rnn_stack_forward(x, batch_major, mask, states, kernels, recurrents, biases,
                             kernel_panels, kernel_packed, rec_panels, rec_packed,
                             dims, acts, residuals, in_drop, use_in_drop, rec_drop,
                             use_rec_drop, go_backwards, zero_output_for_mask, out_seq,
                             out_last, chunk, row0, row1):
    """Forward pass of a stack of SimpleRNN layers for batch rows ``row0:row1``.

    Parameters
    ----------
    x : (T, B, I0) C-contiguous float array in input order, or (B, T, I0) when
        ``batch_major`` (read in place: no transposed copy).
    batch_major : bool, the layout of ``x`` and ``out_seq``.
    mask : (T, B) bool array in input order, or shape (0, B) for no mask.
    states : (B, sum(U)) state of every layer side by side; rows ``row0:row1`` are
        updated in place.
    kernels, recurrents, biases : 1-D arrays holding each layer's ``kernel (I, U)``,
        ``recurrent_kernel (U, U)`` and ``bias (U,)`` flattened, one after another.
    kernel_panels, kernel_packed, rec_panels, rec_packed : from
        :func:`pack_stack_panels` on ``kernels, recurrents, dims``.
    dims : (L, 2) int64, ``[input_dim, units]`` per layer.
    acts : (L,) int64 activation codes (see ``scalar_math.ACTIVATION_CODES``).
    residuals : (L,) bool, output = input + cell output.
    in_drop : (B, sum(I)) input dropout masks, or no columns when no level has any;
        ``use_in_drop`` (L,) bool says which apply.
    rec_drop : (B, sum(U)) recurrent dropout masks, or no columns; ``use_rec_drop``
        (L,) bool.
    go_backwards : bool, process the sequence from the last step to the first.
    zero_output_for_mask : bool
    out_seq : (T, B, U_last) output in processing order, (B, T, U_last) when
        ``batch_major`` (written so, rather than transposed after the call: a copy of
        the whole sequence that cost as much as the recurrence at 32 x 100 x 128), or
        an empty array to skip it.
    out_last : (B, U_last) receives the last output (rows ``row0:row1``).
    chunk : int, steps per chunk (bounds the projection buffers).
    row0, row1 : int, the batch rows this call computes. Calls on disjoint row ranges
        touch disjoint memory and run in parallel without the GIL.
    """
    steps = x.shape[1] if batch_major else x.shape[0]
    in_width = x.shape[2]
    batch = row1 - row0
    n_layers = dims.shape[0]
    has_mask = mask.shape[0] > 0
    want_seq = out_seq.size > 0
    dtype = x.dtype
    u_last = dims[n_layers - 1, 1]
    carry = np.zeros((batch, u_last), dtype)
    max_units = 0
    for l in range(n_layers):
        max_units = max(max_units, dims[l, 1])
    chunk = max(1, min(chunk, steps))
    proj_buf = np.empty(chunk * batch * max_units, dtype)
    act_bufs = np.empty((2, chunk * batch * max_units), dtype)
    any_drop = False
    for l in range(n_layers):
        any_drop = any_drop or use_in_drop[l]
    drop_size = chunk * batch * max(dims[0, 0], max_units) if any_drop else 0
    drop_buf = np.empty(drop_size, dtype)
    hbuf = np.empty(batch * max_units, dtype)
    step_mask = np.empty((chunk, batch), np.bool_)
    seq_in = np.empty((chunk, batch, dims[0, 0]), dtype)
    # Each level's state and recurrent dropout mask as contiguous rows, for the products.
    h_store = _split_levels(states, row0, row1, dims)
    rdp_store = _split_levels(rec_drop, row0, row1, dims)

    for k0 in range(0, steps, chunk):
        n = min(chunk, steps - k0)
        # Layer-0 input for processing steps k0..k0+n, in processing order.
        for k in range(n):
            t = steps - 1 - (k0 + k) if go_backwards else k0 + k
            for b in range(batch):
                src = x[row0 + b, t] if batch_major else x[t, row0 + b]
                dst = seq_in[k, b]
                for i in range(in_width):
                    dst[i] = src[i]
            if has_mask:
                _copy_vector(step_mask[k], mask[t, row0:row1])
        inp = seq_in[:n]
        k_off = 0
        r_off = 0
        u_off = 0
        i_off = 0
        for l in range(n_layers):
            in_dim = dims[l, 0]
            units = dims[l, 1]
            kernel = kernels[k_off:k_off + in_dim * units].reshape((in_dim, units))
            rec = recurrents[r_off:r_off + units * units].reshape((units, units))
            bias = biases[u_off:u_off + units]
            flat_in = inp.reshape((n * batch, in_dim))
            if use_in_drop[l]:
                dropped = drop_buf[:n * batch * in_dim].reshape((n, batch, in_dim))
                for k in range(n):
                    for b in range(batch):
                        for i in range(in_dim):
                            dropped[k, b, i] = inp[k, b, i] * in_drop[row0 + b, i_off + i]
                flat_in = dropped.reshape((n * batch, in_dim))
            proj = proj_buf[:n * batch * units].reshape((n * batch, units))
            for r in range(n * batch):
                pr = proj[r]
                for j in range(units):
                    pr[j] = bias[j]
            matmul_acc_panels(proj, flat_in, kernel,
                              kernel_panels[k_off:k_off + in_dim * units], kernel_packed[l])
            is_last = l == n_layers - 1
            if is_last and want_seq and not batch_major:
                out = out_seq[k0:k0 + n]
                out_row0 = row0
            else:
                out = act_bufs[l % 2, :n * batch * units].reshape((n, batch, units))
                out_row0 = 0
            h = _level_block(h_store, batch, u_off, units)
            rdp = _level_block(rdp_store, batch, u_off, units) if use_rec_drop[l] \
                else hbuf[:0].reshape((0, units))
            _layer_chunk(inp, proj.reshape((n, batch, units)), h, rec,
                         rec_panels[r_off:r_off + units * units], rec_packed[l], acts[l],
                         residuals[l], use_rec_drop[l], rdp, step_mask, has_mask,
                         is_last, zero_output_for_mask, carry, out, out_row0,
                         hbuf[:batch * units].reshape((batch, units)))
            if is_last and want_seq and batch_major:  # the chunk, still in cache
                for k in range(n):
                    for b in range(batch):
                        _copy_vector(out_seq[row0 + b, k0 + k], out[k, b])
            inp = out
            k_off += in_dim * units
            r_off += units * units
            u_off += units
            i_off += in_dim
    u_off = 0
    for l in range(n_layers):
        units = dims[l, 1]
        _copy_matrix(states[row0:row1, u_off:u_off + units],
                     _level_block(h_store, batch, u_off, units))
        u_off += units
    _copy_matrix(out_last[row0:row1], carry)
