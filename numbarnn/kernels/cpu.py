"""Fused ``@njit`` forward kernels for stacks of SimpleRNN-type layers on the CPU.

One call runs a whole stack over the whole sequence. Time is processed in chunks: per
chunk and per layer, the input projection of all the chunk's steps is one BLAS GEMM,
then the compiled time loop applies the recurrent product, bias, activation, mask,
residual, dropout masks and direction. Memory is bounded by the chunk, not by the
sequence length (unless the caller asks for the full output sequence).

Semantics (tf-keras ``backend.rnn``): at a masked step every state is held and the
output is the previous output (or zero with ``zero_output_for_mask``); the output carry
starts at zero. Intermediate layers of a stack skip masked steps entirely: their output
there is never used, because the next layer is masked at the same step.
"""
import numpy as np
from numba import njit

from .scalar_math import CPU_JIT, activate_row

# Per-step recurrent products smaller than this (B*U*U multiply-adds) run as compiled
# loops; larger ones call BLAS, whose per-call overhead is then amortised.
SMALL_PRODUCT = 1 << 16


@njit(**CPU_JIT)
def _recurrent_step_small(z, h, rec, use_rdp, rdp, mask_row, has_mask):
    """z[b] += (h[b] * rdp[b]) @ rec for unmasked rows, as AXPYs over contiguous rows."""
    batch, units = z.shape
    for b in range(batch):
        if has_mask and not mask_row[b]:
            continue
        zb = z[b]
        hb = h[b]
        for i in range(units):
            hi = hb[i] * rdp[b, i] if use_rdp else hb[i]
            if hi != 0.0:
                ri = rec[i]
                for j in range(units):
                    zb[j] += hi * ri[j]
            elif hi != hi:  # NaN state: propagate as BLAS would
                for j in range(units):
                    zb[j] += hi * rec[i, j]


@njit(**CPU_JIT)
def _layer_chunk(inp, proj, h, rec, bias, act, residual, use_rdp, rdp, mask,
                 has_mask, is_last, zero_output_for_mask, carry, out, hbuf, zbuf):
    """Run one layer over one chunk of steps (processing order).

    inp  : (Tc, B, I)  layer input (for the residual)
    proj : (Tc, B, U)  inp @ kernel (dropout applied), bias not yet added; overwritten
    h    : (B, U)      state, updated in place
    out  : (Tc, B, U)  layer output, written
    carry: (B, U)      previous output (last layer only)
    """
    steps, batch, units = proj.shape
    small = batch * units * units < SMALL_PRODUCT
    for k in range(steps):
        z = proj[k]
        mask_row = mask[k] if has_mask else mask[0]
        if small:
            for b in range(batch):
                zb = z[b]
                for j in range(units):
                    zb[j] += bias[j]
            _recurrent_step_small(z, h, rec, use_rdp, rdp, mask_row, has_mask)
        else:
            if use_rdp:
                for b in range(batch):
                    for j in range(units):
                        hbuf[b, j] = h[b, j] * rdp[b, j]
                np.dot(hbuf, rec, zbuf)
            else:
                np.dot(h, rec, zbuf)
            for b in range(batch):
                zb = z[b]
                rb = zbuf[b]
                for j in range(units):
                    zb[j] += bias[j] + rb[j]
        for b in range(batch):
            ob = out[k, b]
            if (not has_mask) or mask_row[b]:
                zb = z[b]
                activate_row(act, zb)
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
                ob[:] = carry[b]
            if is_last and has_mask:
                carry[b] = ob
        if is_last and not has_mask and k == steps - 1:
            carry[:] = out[k]


@njit(**CPU_JIT)
def simple_rnn_stack_forward(x, mask, states, kernels, recurrents, biases, dims, acts,
                             residuals, in_drop, use_in_drop, rec_drop, use_rec_drop,
                             go_backwards, zero_output_for_mask, out_seq, out_last,
                             chunk):
    """Forward pass of a stack of SimpleRNN layers over a time-major sequence.

    Parameters
    ----------
    x : (T, B, I0) C-contiguous float array, time-major, in input order.
    mask : (T, B) bool array in input order, or shape (0, B) for no mask.
    states : (B, sum(U)) state of every layer side by side; updated in place.
    kernels, recurrents, biases : 1-D arrays holding each layer's ``kernel (I, U)``,
        ``recurrent_kernel (U, U)`` and ``bias (U,)`` flattened, one after another.
    dims : (L, 2) int64, ``[input_dim, units]`` per layer.
    acts : (L,) int64 activation codes (see ``scalar_math.ACTIVATION_CODES``).
    residuals : (L,) bool, output = input + cell output.
    in_drop : (B, sum(I)) input dropout masks, or (B, 0) when no level has any;
        ``use_in_drop`` (L,) bool says which apply.
    rec_drop : (B, sum(U)) recurrent dropout masks, or (B, 0); ``use_rec_drop`` (L,) bool.
    go_backwards : bool, process the sequence from the last step to the first.
    zero_output_for_mask : bool
    out_seq : (T, B, U_last) output in processing order, or (0, B, U_last) to skip it.
    out_last : (B, U_last) receives the last output.
    chunk : int, steps per chunk (bounds the projection buffers).
    """
    steps, batch, _ = x.shape
    n_layers = dims.shape[0]
    has_mask = mask.shape[0] > 0
    want_seq = out_seq.shape[0] > 0
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
    zbuf = np.empty(batch * max_units, dtype)
    step_mask = np.empty((chunk, batch), np.bool_)
    seq_in = np.empty((chunk, batch, dims[0, 0]), dtype)

    for k0 in range(0, steps, chunk):
        n = min(chunk, steps - k0)
        # Layer-0 input for processing steps k0..k0+n, in processing order.
        for k in range(n):
            t = steps - 1 - (k0 + k) if go_backwards else k0 + k
            seq_in[k] = x[t]
            if has_mask:
                step_mask[k] = mask[t]
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
                            dropped[k, b, i] = inp[k, b, i] * in_drop[b, i_off + i]
                flat_in = dropped.reshape((n * batch, in_dim))
            proj = proj_buf[:n * batch * units].reshape((n * batch, units))
            np.dot(flat_in, kernel, proj)
            is_last = l == n_layers - 1
            if is_last and want_seq:
                out = out_seq[k0:k0 + n]
            else:
                out = act_bufs[l % 2, :n * batch * units].reshape((n, batch, units))
            h = states[:, u_off:u_off + units]
            h_work = np.ascontiguousarray(h)
            _layer_chunk(inp, proj.reshape((n, batch, units)), h_work, rec, bias,
                         acts[l], residuals[l], use_rec_drop[l],
                         rec_drop[:, u_off:u_off + units], step_mask, has_mask,
                         is_last, zero_output_for_mask, carry, out,
                         hbuf[:batch * units].reshape((batch, units)),
                         zbuf[:batch * units].reshape((batch, units)))
            states[:, u_off:u_off + units] = h_work
            inp = out
            k_off += in_dim * units
            r_off += units * units
            u_off += units
            i_off += in_dim
    out_last[:] = carry
