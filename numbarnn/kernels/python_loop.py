"""The generic time loop for cells written in Python (tf-keras ``backend.rnn``).

Runs any step function ``step(x_t, states) -> (output, new_states)`` with the same
masking, direction and output-carry rules as the fused kernels.
"""
import numpy as np

__all__ = ["rnn"]


def _select(mask_t, new, old):
    """``where(mask, new, old)`` with the [B] mask broadcast over trailing axes."""
    new = np.asarray(new)
    m = mask_t.reshape(mask_t.shape + (1,) * (new.ndim - 1))
    return np.where(m, new, old)


def rnn(step_function, inputs, initial_states, go_backwards=False, mask=None,
        constants=None, unroll=False, input_length=None, time_major=False,
        zero_output_for_mask=False, return_all_outputs=True):
    """Iterate ``step_function`` over the time axis of ``inputs``.

    Parameters
    ----------
    step_function : callable
        ``(x_t, states + constants) -> (output, new_states)``; ``states`` is a flat list.
    inputs : array, (B, T, ...) or (T, B, ...) if ``time_major``
    initial_states : list of arrays, each (B, ...)
    go_backwards : bool
        Process from the last step to the first; outputs stay in processing order.
    mask : array, (B, T) (or (T, B) if ``time_major``), optional
    constants : list of arrays, optional
    unroll, input_length : accepted for signature compatibility; unused.
    time_major : bool
    zero_output_for_mask : bool
        Masked steps output zeros instead of the previous output (the last one too).
    return_all_outputs : bool
        If False, ``outputs`` holds only the last step.

    Returns
    -------
    last_output : array (B, ...)
    outputs : array (B, T, ...) or (T, B, ...) if ``time_major``
    new_states : list of arrays
    """
    del unroll, input_length
    x = np.asarray(inputs)
    if not time_major:
        x = np.swapaxes(x, 0, 1)
    if mask is not None:
        mask = np.asarray(mask).astype(bool)
        if not time_major:
            mask = mask.T
    steps = x.shape[0]
    order = range(steps - 1, -1, -1) if go_backwards else range(steps)
    constants = list(constants or [])
    states = [np.asarray(s) for s in initial_states]
    prev = None
    collected = []
    for t in order:
        output, new_states = step_function(x[t], states + constants)
        if not isinstance(new_states, (list, tuple)):
            new_states = [new_states]
        output = np.asarray(output)
        if mask is not None:
            m = mask[t]
            if prev is None:
                prev = np.zeros_like(output)
            fill = np.zeros_like(output) if zero_output_for_mask else prev
            output = _select(m, output, fill)
            new_states = [_select(m, n, s) for n, s in zip(new_states, states)]
        states = [np.asarray(s) for s in new_states]
        prev = output
        if return_all_outputs or t == order[-1]:
            collected.append(output)
    outputs = np.stack(collected) if collected else np.zeros((0,) + x.shape[1:2])
    last = outputs[-1] if len(collected) else None
    if not time_major:
        outputs = np.swapaxes(outputs, 0, 1)
    return last, outputs, states
