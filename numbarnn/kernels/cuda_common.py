"""What the CUDA engine's numba-cuda kernels share: whether they run in numba-cuda's
simulator, their launch bounds and shared-memory alignment, and the semantics of a step
that every recurrence kernel applies the same way (the input time of a step, the mask,
where a state lives in the double buffer, the output and its residual).

The semantics are those of :mod:`numbarnn.kernels.cpu` (tf-keras ``backend.rnn``): a
masked step holds every state and repeats the previous output, or zero with
``zero_output_for_mask``; the output carry starts at zero.
"""
import os

from numba import cuda, uint64

from .scalar_math import ACTIVATION_CODES, scalar_activation

SIMULATED = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"
# The shared arrays' alignment in bytes, for vector loads (the simulator takes none).
SHARED_ALIGN = None if SIMULATED else 16

# The most threads recur_block and recur_grid are launched with on a GPU: compiled
# with these launch bounds, a thread's registers stay within what a block of that many
# needs to launch at all (65536 per multiprocessor: 128 per thread at 512 threads).
# Without them recur_block took 130-134 registers in float64 and recur_grid 184, and
# blocks of 512 threads failed to launch. (The simulator's jit takes no bounds.)
BLOCK_MAX_LAUNCH = 512
GRID_MAX_LAUNCH = 256
# The second bound (at least one block per multiprocessor) lets ptxas take all the
# registers the first allows: with the first alone, CUDA 13's ptxas compiling a whole
# program (not relocatable code, which the compile check builds) held the lean
# recur_block variants to 64 registers and spilled 12-16 bytes, and recur_block_global
# to 64 with 66 bytes spilled.
BLOCK_BOUNDS = {} if SIMULATED else {"launch_bounds": (BLOCK_MAX_LAUNCH, 1)}
GRID_BOUNDS = {} if SIMULATED else {"launch_bounds": (GRID_MAX_LAUNCH, 1)}

_activation = cuda.jit(device=True)(scalar_activation)
TANH = ACTIVATION_CODES["tanh"]


# Array indices in the step loops are made unsigned (uint64(...), the same bits; every
# index there is non-negative): numba adds a negative-index wraparound to each signed
# index of each axis, three 64-bit instructions apiece in the PTX.


@cuda.jit(device=True)
def _source_step(s, steps, reverse):
    """The time index in the input of processing step ``s``."""
    return steps - 1 - s if reverse else s


@cuda.jit(device=True)
def _live(mask, has_mask, mask_batch_major, b, t):
    if not has_mask:
        return True
    ub, ut = uint64(b), uint64(t)
    return mask[ub, ut] != 0 if mask_batch_major else mask[ut, ub] != 0


@cuda.jit(device=True)
def _mask_at(mask, mask_batch_major, b, t):
    """``mask[b, t]`` (``mask[t, b]`` when time-major) with the indices clamped into
    the mask's shape: a load with no branch around it, valid for the placeholder mask
    of a call without one (whose value the caller then ignores). The value, not
    ``!= 0``: a comparison here would wait for the load (a boolean mask reaches the
    kernels viewed as uint8, since loading a bool compares it at once)."""
    ub, ut = uint64(b), uint64(t)
    last0, last1 = uint64(mask.shape[0] - 1), uint64(mask.shape[1] - 1)
    i0 = ub if mask_batch_major else ut
    i1 = ut if mask_batch_major else ub
    return mask[min(i0, last0), min(i1, last1)]


@cuda.jit(device=True)
def _state_index(half, b, j, batch, units):
    """Where state ``(b, j)`` of half ``half`` lives in the flat double buffer."""
    return (half * batch + b) * units + j


@cuda.jit(device=True)
def _residual_term(inp, inp_batch_major, inp_is_source, b, j, k, t, like):
    """The residual input of unit ``j`` of row ``b`` at chunk step ``k`` (input time
    ``t``), in the dtype of the array ``like``."""
    ub, uj, uk, ut = uint64(b), uint64(j), uint64(k), uint64(t)
    if not inp_is_source:
        return like.dtype.type(inp[uk, ub, uj])
    if inp_batch_major:
        return like.dtype.type(inp[ub, ut, uj])
    return like.dtype.type(inp[ut, ub, uj])


@cuda.jit(device=True)
def _emit(o, live, b, j, k, s, t, inp, inp_batch_major, inp_is_source, residual,
          is_last, zero_output_for_mask, carry, out, want_out, out_batch_major):
    """Write the output of unit ``j`` of row ``b`` at chunk step ``k`` (sequence step
    ``s``, input time ``t``): ``o`` is the new state when ``live``."""
    ub, uj, uk, us = uint64(b), uint64(j), uint64(k), uint64(s)
    if live:
        if residual:
            o += _residual_term(inp, inp_batch_major, inp_is_source, b, j, k, t, carry)
    elif is_last and not zero_output_for_mask:
        o = carry[ub, uj]
    else:
        o = carry.dtype.type(0)  # intermediate levels: never read (masked below too)
    if is_last:
        carry[ub, uj] = o
    if want_out:
        if out_batch_major:
            out[ub, us, uj] = o
        elif is_last:
            out[us, ub, uj] = o
        else:
            out[uk, ub, uj] = o
