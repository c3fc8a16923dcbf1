"""The generic time loop for cells written in Python (tf-keras ``backend.rnn``).

Runs any step function ``step(x_t, states) -> (output, new_states)`` with the same
masking, direction and output-carry rules as the fused kernels. Inputs and outputs may
be nested (lists, tuples, namedtuples, dicts of arrays), and so may the states; masks
apply to every leaf.
"""
import numbers

import numpy as np

from ..engine.variables import read_only_view
from ..nest import flatten, is_nested, pack_sequence_as

__all__ = ["rnn"]


def _select(mask_t, new, old):
    """``where(mask, new, old)`` with the [B] mask broadcast over trailing axes."""
    new = np.asarray(new)
    m = mask_t.reshape(mask_t.shape + (1,) * (new.ndim - 1))
    return np.where(m, new, old)


def _is_state_nest(state):
    # A list of plain numbers stays one state (an array), as before states could nest.
    return is_nested(state) and not all(
        isinstance(v, (numbers.Number, np.bool_)) for v in flatten(state))


def _time_major_leaves(inputs, time_major):
    """The input leaves as a flat list of read-only ``(T, B, ...)`` views: a cell that
    writes into its step input gets an error, not the caller's array changed (tf-keras
    tensors are immutable)."""
    leaves = [read_only_view(np.asarray(x)) for x in flatten(inputs)]
    for i, x in enumerate(leaves):
        if x.ndim < 3:
            raise ValueError(f"Input {i} of the recurrence must have rank >= 3 "
                             f"([batch, time, ...]). Received shape {x.shape}.")
    return leaves if time_major else [np.swapaxes(x, 0, 1) for x in leaves]


def _check_mask(mask, batch, steps, time_major):
    """``mask`` as a boolean ``(T, B)`` array. A ``(B, T, 1)`` mask (the shape tf-keras's
    docstring gives) counts as ``(B, T)``; a batch of 1 broadcasts, as in ``tf.where``.
    Any other shape is an error here, not an index error or a silently cut mask later."""
    mask = np.asarray(mask)
    received = mask.shape
    if mask.ndim == 3 and mask.shape[2] == 1:
        mask = mask[..., 0]
    if not time_major:
        mask = mask.T
    if mask.ndim != 2 or mask.shape[0] != steps or mask.shape[1] not in (batch, 1):
        expected, layout = (((steps, batch), "(timesteps, batch)") if time_major
                            else ((batch, steps), "(batch, timesteps)"))
        raise ValueError(f"Argument `mask` must have shape {expected} {layout}, or with a "
                         f"trailing axis of size 1, to match the inputs. Received: "
                         f"mask.shape={received}.")
    return mask.astype(bool)


def _length_mask(input_length, batch, steps, go_backwards, time_major):
    """The mask (in input order, laid out as ``rnn``'s ``mask`` argument) that
    tf-keras's while loop computes from per-row lengths at each step."""
    lengths = np.asarray(input_length).reshape(-1)
    if lengths.dtype.kind not in "iuf" or lengths.shape[0] not in (batch, 1):
        raise ValueError(f"Argument `input_length` must hold one length per row "
                         f"({batch}). Received: input_length={input_length!r}")
    step = np.arange(steps)[:, None]  # (T, 1) processing step
    if go_backwards:
        keep = (lengths.max() - 1 - lengths)[None, :] < step
        keep = keep[::-1]  # processing step k reads input step T - 1 - k
    else:
        keep = lengths[None, :] > step
    keep = np.broadcast_to(keep, (steps, batch))
    return keep if time_major else keep.T


def _shape(x):
    return x.shape if type(x) is np.ndarray else np.shape(x)  # the fast path first


def _shape_text(x):
    return "None" if x is None else f"an array of shape {np.shape(x)}"


def _describe(x):
    if isinstance(x, (tuple, list)):
        return f"a {type(x).__name__} of length {len(x)}"
    return _shape_text(x) if x is None or hasattr(x, "shape") else repr(x)[:80]


def _check_step_result(result, states, batch, first_shapes, who):
    """Unpack and check one step's ``(output, new_states)``.

    A wrong result would otherwise be accepted silently (a state of another batch or
    size broadcast by the mask, an extra state returned) or fail far from its cause.
    Only tuple and shape comparisons run at every step; outputs are looked at in detail
    when their shapes differ from the first step's.

    Returns
    -------
    output : the step's output, as returned (possibly nested)
    output_leaves : list of arrays
    new_states : flat list, one per entry of ``states``
    output_shapes : list of tuples, to pass as ``first_shapes`` to later steps
    """
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        # a ValueError, as tf-keras's `output, new_states = cell(...)` unpacking raises
        raise ValueError(f"{who} must return a pair (output, new_states), but returned "
                         f"{_describe(result)}.")
    output, new_states = result
    new_states = flatten(new_states)  # a nest like the initial states, or one
    if len(new_states) != len(states):
        raise ValueError(f"{who} returned {len(new_states)} new state(s), but its "
                         f"`state_size` gives {len(states)}: expected shapes "
                         f"{[s.shape for s in states]} (batch, *state_size). Received "
                         f"shapes {[np.shape(n) for n in new_states]}.")
    for i, (new, old) in enumerate(zip(new_states, states)):
        if new is None or _shape(new) != old.shape:
            raise ValueError(f"{who} returned {_shape_text(new)} as new state {i}, "
                             f"expected shape {old.shape} (batch, *state_size).")
    leaves = flatten(output)
    shapes = [None if o is None else _shape(o) for o in leaves]
    if shapes != first_shapes:
        _check_outputs(leaves, shapes, batch, first_shapes, who)
    return output, [np.asarray(o) for o in leaves], new_states, shapes


def _check_outputs(leaves, shapes, batch, first_shapes, who):
    for i, (leaf, shape) in enumerate(zip(leaves, shapes)):
        if leaf is None or not shape or shape[0] != batch:
            raise ValueError(f"{who} returned {_shape_text(leaf)} as output {i}, "
                             f"expected an array of shape (batch={batch}, ...).")
    if first_shapes is not None:
        raise ValueError(f"{who} returned outputs of shapes {shapes}, but {first_shapes} "
                         "at the first step: the output shape must not change between "
                         "steps.")


def _mask_outputs(m, outputs, prev, zero_output_for_mask):
    """Masked step outputs: the previous (or zero) output where ``m`` is False."""
    if prev is None:
        prev = [np.zeros_like(o) for o in outputs]
    return [_select(m, o, np.zeros_like(o) if zero_output_for_mask else p)
            for o, p in zip(outputs, prev)]


def _stack_outputs(collected, structure, time_major):
    """Stack the per-step output leaves (of one step at least) along time and pack them
    as ``structure``."""
    stacked = [np.stack(leaf) for leaf in zip(*collected)]
    last = [o[-1] for o in stacked]
    if not time_major:
        stacked = [np.swapaxes(o, 0, 1) for o in stacked]
    if is_nested(structure):
        return (pack_sequence_as(structure, last),
                pack_sequence_as(structure, stacked))
    return last[0], stacked[0]


def rnn(step_function, inputs, initial_states, go_backwards=False, mask=None,
        constants=None, unroll=False, input_length=None, time_major=False,
        zero_output_for_mask=False, return_all_outputs=True,
        step_name="The step function"):
    """Iterate ``step_function`` over the time axis of ``inputs``.

    Parameters
    ----------
    step_function : callable
        ``(x_t, states + constants) -> (output, new_states)``; ``states`` is a list
        like ``initial_states``, and ``new_states`` must hold as many arrays (a nest
        of them like ``states``, or a flat list). ``x_t`` has the structure of
        ``inputs``; ``output`` may be nested.
    inputs : array or nested structure of arrays, each (B, T, ...)
        ``(T, B, ...)`` if ``time_major``. Lists, tuples, namedtuples and dicts (leaves
        in sorted-key order, as in ``tf.nest``) are nests.
    initial_states : list of arrays, each (B, ...), or of nests of them
    go_backwards : bool
        Process from the last step to the first; outputs stay in processing order.
    mask : array, (B, T) (or (T, B) if ``time_major``), optional
        Applied to every leaf of the outputs and of the states. A trailing axis of
        size 1, ``(B, T, 1)``, is dropped; a batch of 1 broadcasts.
    constants : list of arrays, optional
    unroll : bool
        The loop is the same either way, except that without ``unroll`` the step is
        first called once more on the first timestep, its result discarded, as
        tf-keras's while-loop path calls it (to learn the output's shape), and where
        tf-keras's unrolled loop has a bug that is followed here (as the RNN layer
        follows it): with
        ``go_backwards``, ``zero_output_for_mask`` and a mask, the unrolled loop
        carries the previous output through masked steps, then zeroes the outputs
        (in processing order) where the mask *in input order* is False; the last
        output is zeroed by the last processed step's mask.
    input_length : int or array (B,), optional
        Per-row lengths, read as tf-keras's while-loop path reads a tensor of them
        (an array or a list stands in for that tensor here; tf-keras ignores a numpy
        array): without a ``mask`` and without ``unroll``, row ``b`` is masked from
        step ``input_length[b]`` on (with ``go_backwards``, processing step ``k`` is
        masked unless ``k > max(input_length) - 1 - input_length[b]``, tf-keras's
        formula). An int (tf-keras's static length) is unused.
    time_major : bool
    zero_output_for_mask : bool
        Masked steps output zeros instead of the previous output (the last one too).
    return_all_outputs : bool
        If False, ``outputs`` holds only the last step.
    step_name : str
        How errors about the step's results name it (the RNN layer names its cell).

    Returns
    -------
    last_output : array (B, ...), or a nest of them like the step output
    outputs : array (B, T, ...) or (T, B, ...) if ``time_major``, or a nest of them
    new_states : tuple of arrays, or of nests of them like ``initial_states``
        A list with ``unroll`` and no mask (tf-keras's unrolled loop returns what the
        step returned, a list in the common case).

    Raises
    ------
    ValueError
        If a step does not return a pair ``(output, new_states)``; if ``inputs`` has
        no timestep (the last output would be undefined); if
        ``mask`` does not have the shape above; if a step returns another number
        of states than it was given, a state of another shape, or an output without
        the batch axis or of a changing shape.
    """
    nested = is_nested(inputs)
    leaves = _time_major_leaves(inputs, time_major)
    steps, batch = leaves[0].shape[:2]
    if mask is None and not unroll and np.ndim(input_length) > 0:
        mask = _length_mask(input_length, batch, steps, go_backwards, time_major)
    if steps == 0:
        # tf-keras runs the step on the first timestep (to learn the output's shape),
        # and fails on none; the last output would be undefined.
        shape = leaves[0].shape if time_major else np.swapaxes(leaves[0], 0, 1).shape
        raise ValueError("Argument `inputs` must have at least one timestep. "
                         f"Received: inputs.shape={shape}")
    if mask is not None:
        mask = _check_mask(mask, batch, steps, time_major)
    order = range(steps - 1, -1, -1) if go_backwards else range(steps)
    # tf-keras's unrolled loop (see unroll above); without go_backwards the two
    # orders agree and so do the loops
    unrolled_quirk = (unroll and go_backwards and zero_output_for_mask
                      and mask is not None and return_all_outputs)
    if unrolled_quirk:
        zero_output_for_mask = False
    constants = [read_only_view(np.asarray(c)) if isinstance(c, np.ndarray) else c
                 for c in constants or []]
    # An initial state may be a nest (``[[h0, c0]]``): as in tf-keras the step gets
    # the states, and returns its new ones, with that structure; the loop (masking,
    # checks) runs on the flat leaves.
    initial_states = [s if _is_state_nest(s) else np.asarray(s) for s in initial_states]
    nested_states = any(is_nested(s) for s in initial_states)

    def as_given(flat):
        return pack_sequence_as(initial_states, flat) if nested_states else flat
    # Copies: a cell may update its states in place or hand back an array it was
    # given (a state, a view of the input); the caller's arrays stay the caller's.
    states = [np.array(s) for s in flatten(initial_states)]
    if not unroll:
        # tf-keras's while-loop path first calls the step on the first timestep (in
        # input order) from the initial states to learn the output's shape and dtype,
        # and discards the result; a step's side effects (add_loss, an activity
        # regularizer, a counter) happen once more, as there.
        x_0 = (pack_sequence_as(inputs, [x[0] for x in leaves]) if nested
               else leaves[0][0])
        step_function(x_0, tuple(as_given([np.array(s) for s in states])) + tuple(constants))
    prev = None
    structure = None
    first_shapes = None
    collected = []
    for t in order:
        x_t = (pack_sequence_as(inputs, [x[t] for x in leaves]) if nested
               else leaves[0][t])
        structure, outputs, new_states, first_shapes = _check_step_result(
            # a tuple, as tf-keras's backend.rnn hands it: tuple(states) + constants
            step_function(x_t, tuple(as_given(states)) + tuple(constants)), states, batch,
            first_shapes, step_name)
        if mask is not None:
            outputs = _mask_outputs(mask[t], outputs, prev, zero_output_for_mask)
            new_states = [_select(mask[t], n, s) for n, s in zip(new_states, states)]
        states = [np.asarray(s) for s in new_states]
        prev = outputs
        if return_all_outputs or t == order[-1]:
            collected.append(outputs)
    if unrolled_quirk:
        last_leaves = [_select(mask[order[-1]], o, np.zeros_like(o)) for o in collected[-1]]
        collected = [[_select(mask[k], o, np.zeros_like(o)) for o in outs]
                     for k, outs in enumerate(collected)]
    last, outputs = _stack_outputs(collected, structure, time_major)
    if unrolled_quirk:
        last = (pack_sequence_as(structure, last_leaves)
                if is_nested(structure) else last_leaves[0])
    final = as_given([np.array(s) for s in states])
    # a tuple, as tf-keras's while loop (and its masked unrolled loop) returns them
    return last, outputs, (list(final) if unroll and mask is None else tuple(final))
