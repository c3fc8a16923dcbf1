"""Entry point of the fused engines: one call runs a stack over a whole sequence."""
import numpy as np

from . import plan, threads
from .cuda_support import is_device_array

__all__ = ["run_stack"]


def run_stack(levels, x, mask, states, go_backwards=False, zero_output_for_mask=False,
              return_sequences=False, time_major=False, engine="cpu", packed=None,
              dtype=None, layer_name="rnn", return_states=True):
    """Run a stack of SimpleRNN-type levels over ``x``.

    Parameters
    ----------
    levels : list of LevelSpec
    x : array (B, T, I) or (T, B, I) if ``time_major``. On the CPU it is already in the
        compute dtype; the CUDA engine also takes device arrays of any real dtype.
    mask : bool array matching the first two axes of ``x``, or None.
    states : list of (B, U_l) arrays, one per level (not modified).
    go_backwards, zero_output_for_mask, return_sequences, time_major : bool
    engine : {"cpu", "cuda"}
    packed : PackedStack, optional
        Pre-packed weights (cached by the caller; the CUDA engine keeps its device copy
        of the weights on it).
    dtype : numpy dtype, optional
        The compute dtype (default: that of ``x``).
    layer_name : str
        Named in the error when ``x`` does not fit the stack.
    return_states : bool
        False when the caller neither returns nor keeps the final states: an empty
        list comes back instead (on the GPU, no allocation and copy per level, and for
        numpy input no copy back per level).

    Returns
    -------
    output : (B, U) last output, or (B, T, U) / (T, B, U) sequence in processing order
    states : list of (B, U_l) final states (empty without ``return_states``)
        numpy arrays, or device arrays when ``x`` is a device array.

    Raises
    ------
    ValueError
        If ``x`` is not 3-D or its widths do not fit the levels (:func:`plan.check_stack`).
    """
    plan.check_stack(levels, x.shape, layer_name)  # before any kernel: they do not check
    dtype = np.dtype(dtype or x.dtype)
    if engine == "cuda":
        return _run_cuda(levels, x, mask, states, go_backwards, zero_output_for_mask,
                         return_sequences, time_major, packed, dtype, return_states)
    xc = np.ascontiguousarray(x)
    steps, batch = (xc.shape[0], xc.shape[1]) if time_major else (xc.shape[1], xc.shape[0])
    mask_t = plan.time_major_mask(mask, batch, time_major)
    if packed is None:
        packed = plan.pack(levels, dtype)
    state_arr = np.ascontiguousarray(np.concatenate(
        [np.asarray(s, dtype) for s in states], axis=1))
    in_drop, use_in, rec_drop, use_rec = plan.dropout_arrays(levels, batch, dtype)
    units = levels[-1].units
    seq_shape = (steps, batch) if time_major else (batch, steps)  # the layout of x
    out_seq = np.empty(seq_shape + (units,) if return_sequences else (0, 0, units), dtype)
    out_last = np.zeros((batch, units), dtype)
    from .cpu import pack_stack_panels, simple_rnn_stack_forward
    if packed.cpu_panels is None:
        packed.cpu_panels = pack_stack_panels(packed.kernels, packed.recurrents,
                                              packed.dims)
    work = batch * steps * sum(threads.step_work(s.input_dim, s.units) for s in levels)
    threads.run_sliced(simple_rnn_stack_forward, (
        xc, not time_major, mask_t, state_arr, packed.kernels, packed.recurrents,
        packed.biases, *packed.cpu_panels, packed.dims, packed.acts, packed.residuals,
        in_drop, use_in, rec_drop, use_rec, bool(go_backwards), bool(zero_output_for_mask),
        out_seq, out_last, plan.chunk_steps(batch, levels)),
        threads.row_slices(batch, work))
    new_states = []
    off = 0
    for s in levels if return_states else ():
        new_states.append(state_arr[:, off:off + s.units].copy())
        off += s.units
    return (out_seq if return_sequences else out_last), new_states


def _run_cuda(levels, x, mask, states, go_backwards, zero_output_for_mask,
              return_sequences, time_major, packed, dtype, return_states):
    """The CUDA engine: numpy in, numpy out; device arrays in, device arrays out."""
    from . import cuda
    output, new_states = cuda.run_stack(
        levels, x, mask, states, go_backwards=go_backwards,
        zero_output_for_mask=zero_output_for_mask, return_sequences=return_sequences,
        time_major=time_major, packed=packed, dtype=dtype, return_states=return_states)
    if is_device_array(x):
        return output, new_states
    return cuda.to_host(output), [cuda.to_host(s) for s in new_states]
