"""conftest's fix of numba-cuda's simulator: a block's shared arrays, made by the first
of its threads to reach their line, are one per line and block even when the threads
switch between the lookup and the store (see ``conftest._lock_simulator_shared_arrays``).
"""
import os
import sys

import numpy as np
import pytest

if os.environ.get("NUMBA_ENABLE_CUDASIM") != "1":
    pytest.skip("the simulator's (a GPU runs the kernels itself)", allow_module_level=True)
cuda = pytest.importorskip("numba.cuda")


@cuda.jit
def _neighbours(out, steps):
    first = cuda.shared.array(64, np.float64)
    second = cuda.shared.array(64, np.float64)
    t = cuda.threadIdx.x
    total = 0.0
    for step in range(steps):
        first[t] = t + step
        second[t] = -1.0
        cuda.syncthreads()
        total += first[(t + 1) % 64] + second[(t + 2) % 64]
        cuda.syncthreads()
    out[t] = total


def test_a_block_has_one_shared_array_per_line_under_thread_switches():
    """With a thread switch every microsecond, a block's 64 threads share each of its
    two shared arrays, and the two stay apart (unfixed, about 1 run in 20 went wrong)."""
    t = np.arange(64)
    expected = 3 * ((t + 1) % 64) + (0 + 1 + 2) - 3.0
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for _ in range(40):
            out = np.zeros(64)
            _neighbours[1, 64](out, 3)
            np.testing.assert_array_equal(out, expected)
    finally:
        sys.setswitchinterval(interval)
