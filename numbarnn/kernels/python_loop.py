"""The generic time loop for cells written in Python (tf-keras ``backend.rnn``).

Runs any step function ``step(x_t, states) -> (output, new_states)`` with the same
masking, direction and output-carry rules as the fused kernels. Inputs and outputs may
be nested (lists, tuples, namedtuples of arrays); masks apply to every leaf.
"""
import numpy as np

__all__ = ["rnn"]


def _nest():
    # Imported lazily: numbarnn.layers imports this package.
    from ..layers import rnn_utils
    return rnn_utils


def _select(mask_t, new, old):
    """``where(mask, new, old)`` with the [B] mask broadcast over trailing axes."""
    new = np.asarray(new)
    m = mask_t.reshape(mask_t.shape + (1,) * (new.ndim - 1))
    return np.where(m, new, old)


def _time_major_leaves(inputs, time_major):
    """The input leaves as a flat list of ``(T, B, ...)`` arrays."""
    leaves = [np.asarray(x) for x in _nest().flatten(inputs)]
    for i, x in enumerate(leaves):
        if x.ndim < 3:
            raise ValueError(f"Input {i} of the recurrence must have rank >= 3 "
                             f"([batch, time, ...]). Received shape {x.shape}.")
    return leaves if time_major else [np.swapaxes(x, 0, 1) for x in leaves]


def _mask_outputs(m, outputs, prev, zero_output_for_mask):
    """Masked step outputs: the previous (or zero) output where ``m`` is False."""
    if prev is None:
        prev = [np.zeros_like(o) for o in outputs]
    return [_select(m, o, np.zeros_like(o) if zero_output_for_mask else p)
            for o, p in zip(outputs, prev)]


def _stack_outputs(collected, structure, time_major, steps_shape):
    """Stack the per-step output leaves along time and pack them as ``structure``."""
    nest = _nest()
    if not collected:
        outputs = np.zeros((0,) + steps_shape)
        last = None
        return last, (outputs if time_major else np.swapaxes(outputs, 0, 1))
    stacked = [np.stack(leaf) for leaf in zip(*collected)]
    last = [o[-1] for o in stacked]
    if not time_major:
        stacked = [np.swapaxes(o, 0, 1) for o in stacked]
    if nest.is_nested(structure):
        return (nest.pack_sequence_as(structure, last),
                nest.pack_sequence_as(structure, stacked))
    return last[0], stacked[0]


def rnn(step_function, inputs, initial_states, go_backwards=False, mask=None,
        constants=None, unroll=False, input_length=None, time_major=False,
        zero_output_for_mask=False, return_all_outputs=True):
    """Iterate ``step_function`` over the time axis of ``inputs``.

    Parameters
    ----------
    step_function : callable
        ``(x_t, states + constants) -> (output, new_states)``; ``states`` is a flat list.
        ``x_t`` has the structure of ``inputs``; ``output`` may be nested.
    inputs : array or nested structure of arrays, each (B, T, ...)
        ``(T, B, ...)`` if ``time_major``. Lists, tuples and namedtuples are nests.
    initial_states : list of arrays, each (B, ...)
    go_backwards : bool
        Process from the last step to the first; outputs stay in processing order.
    mask : array, (B, T) (or (T, B) if ``time_major``), optional
        Applied to every leaf of the outputs and of the states.
    constants : list of arrays, optional
    unroll, input_length : accepted for signature compatibility; unused.
    time_major : bool
    zero_output_for_mask : bool
        Masked steps output zeros instead of the previous output (the last one too).
    return_all_outputs : bool
        If False, ``outputs`` holds only the last step.

    Returns
    -------
    last_output : array (B, ...), or a nest of them like the step output
    outputs : array (B, T, ...) or (T, B, ...) if ``time_major``, or a nest of them
    new_states : list of arrays
    """
    del unroll, input_length
    nest = _nest()
    nested = nest.is_nested(inputs)
    leaves = _time_major_leaves(inputs, time_major)
    if mask is not None:
        mask = np.asarray(mask).astype(bool)
        if not time_major:
            mask = mask.T
    steps = leaves[0].shape[0]
    order = range(steps - 1, -1, -1) if go_backwards else range(steps)
    constants = list(constants or [])
    states = [np.asarray(s) for s in initial_states]
    prev = None
    structure = None
    collected = []
    for t in order:
        x_t = (nest.pack_sequence_as(inputs, [x[t] for x in leaves]) if nested
               else leaves[0][t])
        output, new_states = step_function(x_t, states + constants)
        if not isinstance(new_states, (list, tuple)):
            new_states = [new_states]
        structure = output
        outputs = [np.asarray(o) for o in nest.flatten(output)]
        if mask is not None:
            outputs = _mask_outputs(mask[t], outputs, prev, zero_output_for_mask)
            new_states = [_select(mask[t], n, s) for n, s in zip(new_states, states)]
        states = [np.asarray(s) for s in new_states]
        prev = outputs
        if return_all_outputs or t == order[-1]:
            collected.append(outputs)
    last, outputs = _stack_outputs(collected, structure, time_major,
                                   leaves[0].shape[1:2])
    return last, outputs, states
