"""The numba-cuda kernels of the CUDA engine (launched by :mod:`numbarnn.kernels.cuda`),
gathered from the modules that define them. Four kernels:

* :func:`project` (:mod:`.cuda_tiles`): the input projection of a chunk of steps as
  one register-tiled GEMM, with input dropout, bias and the ``go_backwards`` reversal
  folded into its indexing;
* :func:`recur_block` (:mod:`.cuda_block`): every step of a chunk in one launch; each
  block owns a tile of batch rows and all units, so a step needs only block barriers.
  For recurrent matrices that fit in shared memory, and for softmax (which needs whole
  rows). Two variants of it read the matrix from global memory: :func:`recur_block_l2`
  (the state still on chip) and :func:`recur_block_global` (rows too wide for shared
  memory). :func:`recur_block_lean` and :func:`recur_block_l2_lean` do the common case
  (every output in one round of threads, no recurrent dropout, not softmax) in fewer
  instructions per step;
* :func:`recur_grid` (:mod:`.cuda_grid`): every step of a chunk in one cooperative
  launch; each block owns a slice of the units (its columns of the recurrent matrix
  stay in shared memory) and a tile of batch rows, and the blocks exchange the state
  through global memory with one grid barrier per step. For recurrent matrices too big
  for one block, while a block's rows are few;
* :func:`recur_tiled` (:mod:`.cuda_grid`): every step of a chunk in one cooperative
  launch; each step is a register-tiled GEMM of the state with the recurrent matrix
  (the tiles of :func:`project`), one grid barrier per step. For large batches of
  large units, where a step is compute-bound.

What they share is in :mod:`.cuda_common` (the semantics of a step: those of
:mod:`numbarnn.kernels.cpu`, tf-keras ``backend.rnn``) and :mod:`.cuda_dot` (the
on-chip layout of the recurrent matrix and its dot products).

The state lives in a double buffer of shape (2, batch, units), ``hbuf``: processing
step ``s`` (counted over the whole sequence) reads half ``s % 2`` and writes the
other, in every recurrence kernel, so chunks and kernels chain. recur_block and
recur_grid take it flat (element ``(p, b, j)`` at ``_state_index(p, b, j, batch,
units)``; a reshape inside a kernel would put the array's descriptor in local memory),
recur_tiled as the 3-D array. On chip, recur_block and recur_grid hold state rows
zero-padded and the recurrent weights in per-thread slots (:func:`slot_layout`), so
the loads of their dot products sit at constant offsets from two pointers;
recur_block_l2 reads the same slots interleaved from global memory (a warp's
neighbouring slots are one contiguous read).

Beside them, the elementwise kernels (:mod:`.cuda_elementwise`):
:func:`merge_directions_kernel` merges a bidirectional layer's two outputs,
:func:`mask_steps_kernel` masks the timesteps whose features all equal a value, and
the feed-forward layers' :func:`activate_kernel`, :func:`relu_family_kernel`,
:func:`prelu_kernel`, :func:`softmax_rows_kernel` and :func:`gather_rows_kernel`
(launched by :mod:`.cuda_feedforward`; Dense's product is :func:`project`), and
:func:`cast_kernel` (float16 results under ``mixed_float16``). All of them are named here, where the
compile check finds them.

Inputs are read in the caller's layout (batch- or time-major, any strides, any real
dtype) and the last level's outputs written in it, so device inputs are never copied.
"""
from .cuda_block import (recur_block, recur_block_global, recur_block_l2,
                         recur_block_l2_lean, recur_block_lean)
from .cuda_common import BLOCK_MAX_LAUNCH, GRID_MAX_LAUNCH, SIMULATED
from .cuda_dot import WARP, parts_per_output, slot_layout
from .cuda_elementwise import (MERGE_CODES, activate_kernel, cast_kernel, gather_rows_kernel,
                                mask_steps_kernel, merge_directions_kernel, prelu_kernel,
                                relu_family_kernel, softmax_rows_kernel)
from .cuda_grid import grid_row_sets, recur_grid, recur_tiled
from .cuda_tiles import TILE_COLS, TILE_EDGE, TILE_ROWS, project

__all__ = ["BLOCK_MAX_LAUNCH", "GRID_MAX_LAUNCH", "MERGE_CODES", "SIMULATED", "TILE_COLS",
           "TILE_EDGE", "TILE_ROWS", "WARP", "activate_kernel", "cast_kernel", "gather_rows_kernel",
           "grid_row_sets", "mask_steps_kernel", "merge_directions_kernel", "parts_per_output",
           "prelu_kernel", "project", "recur_block", "recur_block_global", "recur_block_l2",
           "recur_block_l2_lean", "recur_block_lean", "recur_grid", "recur_tiled",
           "relu_family_kernel", "slot_layout", "softmax_rows_kernel"]
