"""Compiled time loop around a user's ``@njit`` step function.

The step is a numba dispatcher passed as an argument, so this loop is specialised per
step function in each process (numba cannot cache it across processes).
"""
import numpy as np
from numba import njit
from numba.core.dispatcher import Dispatcher
from numba.core.errors import TypingError

from .plan import time_major_mask
from .scalar_math import CPU_JIT

_JIT = {k: v for k, v in CPU_JIT.items() if k != "cache"}


@njit(**_JIT)
def _store(dst, src):
    """``dst[:] = src``, refusing another length with a fixed message. numba's slice
    assignment would broadcast a length-1 result, and formats its shape error with
    string code that costs seconds of compile in every process (this loop is not
    cached: it is specialised per step function)."""
    if src.shape[0] != dst.shape[0]:
        raise ValueError("The cell's `compiled_step` returned an array of another length "
                         "than at the first step.")
    for j in range(dst.shape[0]):
        dst[j] = src[j]


@njit(**_JIT)
def user_step_forward(step, params, x, mask, state, go_backwards, zero_output_for_mask,
                      out_seq, out_last):
    """Run ``out, new_state = step(x_t, state_row, params)`` over rows and steps.

    x : (T, B, I) time-major; mask : (T, B) bool or (0, B); state : (B, S) updated in
    place; out_seq : (T, B, O) in processing order or (0, B, O); out_last : (B, O).
    The masking rules are those of ``cpu.simple_rnn_stack_forward``.
    """
    steps, batch = x.shape[0], x.shape[1]
    has_mask = mask.shape[0] > 0
    want_seq = out_seq.shape[0] > 0
    for b in range(batch):
        carry = np.zeros(out_last.shape[1], out_last.dtype)
        for k in range(steps):
            t = steps - 1 - k if go_backwards else k
            if has_mask and not mask[t, b]:
                if zero_output_for_mask:
                    carry[:] = 0.0
            else:
                out, new_state = step(x[t, b], state[b], params)
                _store(state[b], new_state)
                _store(carry, out)
            if want_seq:
                _store(out_seq[k, b], carry)
        _store(out_last[b], carry)


def run_user_step(step, params, x, mask, state, go_backwards, zero_output_for_mask,
                  return_sequences, time_major, output_size):
    """Arrange arrays for :func:`user_step_forward` and undo the layout afterwards."""
    if not isinstance(step, Dispatcher):
        # numba would fail typing the loop, with a message that names neither
        raise TypeError("The cell's `compiled_step` must be a numba `@njit` function "
                        "(the compiled loop calls it). Received: "
                        f"{type(step).__name__} {step!r}")
    dtype = x.dtype
    # always a copy: the step gets views of it, and may write to them
    xt = np.array(x if time_major else np.swapaxes(x, 0, 1), order="C", copy=True)
    steps, batch = xt.shape[:2]
    mask_t = time_major_mask(mask, batch, time_major)
    state = np.array(state, dtype=dtype, order="C")
    _check_first_step(step, params, xt, state, output_size)
    out_seq = np.zeros((steps if return_sequences else 0, batch, output_size), dtype)
    out_last = np.zeros((batch, output_size), dtype)
    user_step_forward(step, params, xt, mask_t, state, bool(go_backwards),
                      bool(zero_output_for_mask), out_seq, out_last)
    if return_sequences:
        return (out_seq if time_major else np.swapaxes(out_seq, 0, 1)), state
    return out_last, state


def _check_first_step(step, params, xt, state, output_size):
    """Run the step once on a copy of the first row, and check what it returns: inside
    the compiled loop a wrong shape would broadcast into wrong numbers (or fail in numba
    with a message that names neither the cell nor the step)."""
    if xt.shape[0] == 0 or xt.shape[1] == 0:
        return
    try:
        result = step(xt[0, 0].copy(), state[0].copy(), params)
    except (TypingError, TypeError) as err:
        # numba's message points at the step's line but names neither the cell nor
        # how the loop calls it
        types = ", ".join(type(p).__name__ if not isinstance(p, np.ndarray)
                          else f"{p.dtype}{list(p.shape)}" for p in params)
        raise TypeError("The cell's `compiled_step` cannot be called as the compiled loop "
                        f"calls it, step(x_t, h, params), with x_t {xt.dtype}"
                        f"[{xt.shape[2]}], h {state.dtype}[{state.shape[1]}] and params "
                        f"({types}) (the cell's compiled_params()); the call failed with: "
                        f"{err}") from err
    expected = f"(output ({output_size},), new_state ({state.shape[1]},))"
    if not (isinstance(result, tuple) and len(result) == 2):
        raise ValueError(f"The cell's `compiled_step` must return {expected}. "
                         f"Received: {type(result).__name__} {np.shape(result)}")
    shapes = tuple(np.shape(r) for r in result)
    if shapes != ((output_size,), (state.shape[1],)):
        raise ValueError(f"The cell's `compiled_step` must return {expected}, the "
                         f"cell's output_size and state_size. Received shapes "
                         f"{shapes[0]} and {shapes[1]}.")
