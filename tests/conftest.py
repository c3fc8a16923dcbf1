import contextlib
import os
import warnings

import numpy as np
import pytest

# "cpu-threads" is the CPU engine with its size thresholds moved so that even the small
# test cases take the batch-split threaded path.
# "cuda-grid" is the CUDA engine with every level on its cooperative unit-sliced kernel,
# cut small: two unit slices (the second padded when the units are odd), two row tiles,
# rows read two at a time.
# "cuda-tiled" is the CUDA engine with every level on its cooperative tiled-GEMM kernel,
# on two blocks, so that a block walks several output tiles per step where there are.
ENGINES = ["cpu", "cpu-threads", "python", "cuda", "cuda-grid", "cuda-tiled"]

# Without an NVIDIA driver, the CUDA engine's tests run in numba's CUDA simulator (the
# variable must be set before numba is imported); with one they run on the GPU.
if "NUMBA_ENABLE_CUDASIM" not in os.environ and not os.path.exists("/dev/nvidiactl"):
    os.environ["NUMBA_ENABLE_CUDASIM"] = "1"


def _lock_simulator_shared_arrays():
    """numba-cuda's simulator (0.30) runs a block's threads as Python threads; a
    ``cuda.shared.array`` is made by the first thread that reaches its line and found
    by the others in a dict, looked up and stored without a lock. Two threads switched
    between the two each make their own array, and the block's threads then read
    values that were never written to theirs: a kernel test fails now and then on a
    loaded machine (one case in a CI run; with ``sys.setswitchinterval(1e-6)`` a
    kernel of one shared array and two barriers failed 1 run in 20, and most CUDA
    tests of the suite failed now and then). The simulator's own method, with the
    lookup and store under a lock; the array is still keyed by its caller's file and
    line, as there."""
    import sys
    import threading
    try:
        from numba.cuda.simulator import kernelapi
        from numba.np import numpy_support
        from numba.core import types
    except ImportError:  # no numba-cuda: no CUDA tests
        return
    lock = threading.Lock()

    def array(self, shape, dtype, alignment=None):
        if alignment is not None:
            raise RuntimeError("Array alignment is not supported in cudasim")
        dtype = np.dtype(numpy_support.as_dtype(dtype) if isinstance(dtype, types.Type)
                         else dtype)
        if shape == 0:  # dynamic shared memory: one buffer for all
            return np.frombuffer(self._dynshared.data, dtype=dtype,
                                 count=self._dynshared_size // dtype.itemsize)
        caller = sys._getframe(1)
        key = (caller.f_code.co_filename, caller.f_lineno)
        found = self._allocations.get(key)
        if found is None:
            with lock:
                found = self._allocations.setdefault(key, np.empty(shape, dtype))
        return found

    kernelapi.FakeCUDAShared.array = array


if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
    _lock_simulator_shared_arrays()


def cuda_ready():
    """``(ok, reason)``: can the CUDA engine run here (GPU or simulator)?"""
    try:
        from numbarnn.kernels import cuda  # noqa: F401
        from numbarnn.kernels.cuda_support import cuda_status
    except ImportError as err:
        return False, f"CUDA engine not importable: {err}"
    return cuda_status()


def skip_without_cuda():
    """Skip the calling test where the CUDA engine cannot run (GPU or simulator)."""
    ok, reason = cuda_ready()
    if not ok:
        pytest.skip(reason)


@contextlib.contextmanager
def run_on(engine_name):
    """Run the body on ``engine_name`` (one of ENGINES)."""
    import numbarnn
    from numbarnn.kernels import threads
    saved = (threads.MIN_PARALLEL_WORK, threads.MIN_ROWS, threads.ROW_ALIGN,
             threads.thread_count)
    if engine_name == "cpu-threads":  # three slices whenever there are rows for them
        threads.MIN_PARALLEL_WORK, threads.MIN_ROWS, threads.ROW_ALIGN = 0, 1, 1
        threads.thread_count = lambda: 3
    if engine_name.startswith("cuda-"):
        from numbarnn.kernels import cuda
        saved_cuda = (cuda.RECURRENCE, cuda._grid_sizes, cuda._tiled_blocks)
        cuda.RECURRENCE = engine_name.split("-")[1]
        cuda._grid_sizes = lambda batch, units, itemsize: (
            -(-units // 2), min(2, -(-batch // 2)), -(-batch // 2))
        cuda._tiled_blocks = lambda tiles: min(tiles, 2)
    try:
        with numbarnn.device(engine_name.split("-")[0]):
            yield
    finally:
        (threads.MIN_PARALLEL_WORK, threads.MIN_ROWS, threads.ROW_ALIGN,
         threads.thread_count) = saved
        if engine_name.startswith("cuda-"):
            cuda.RECURRENCE, cuda._grid_sizes, cuda._tiled_blocks = saved_cuda


@contextlib.contextmanager
def float_warnings_are_errors(engine_name):
    """numpy's floating-point warnings as errors in the body (tf ops never warn).

    Not for the CUDA engine under the simulator: it runs the kernels' arithmetic as
    Python scalars in threads of its own, which warn where the GPU computes silently.
    """
    simulated = engine_name.startswith("cuda") and os.environ.get(
        "NUMBA_ENABLE_CUDASIM") == "1"
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("ignore" if simulated else "error", RuntimeWarning)
        yield


def _engine_fixture(request):
    if request.param.startswith("cuda"):
        ok, reason = cuda_ready()
        if not ok:
            pytest.skip(reason)
    with run_on(request.param):
        yield request.param


@pytest.fixture(params=ENGINES)
def engine(request):
    """Run the test body on each engine: fused CPU kernels (as they run, and batch-split
    on threads), Python loop, CUDA."""
    yield from _engine_fixture(request)


@pytest.fixture(params=[e for e in ENGINES if e not in ("cuda-grid", "cuda-tiled")])
def layer_engine(request):
    """:func:`engine` without the CUDA engine's cooperative kernels, for layer-level
    behaviour (caches, states, masks between calls): they reach those kernels through
    the same host code as "cuda", so the kernel tests cover them."""
    yield from _engine_fixture(request)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def tolerance(dtype):
    return {"rtol": 2e-5, "atol": 2e-5} if np.dtype(dtype) == np.float32 else {
        "rtol": 1e-10, "atol": 1e-10}


@pytest.fixture(autouse=True)
def _fresh_names():
    from numbarnn.engine import reset_uids
    reset_uids()
    yield


def _kernel_source_hash():
    """numba invalidates a cached function only when its own file changes, not when a
    function it calls (in another file) does: key the test cache on all kernel sources."""
    import hashlib
    folder = os.path.join(os.path.dirname(__file__), "..", "numbarnn", "kernels")
    digest = hashlib.sha1()
    for name in sorted(os.listdir(folder)):
        if name.endswith(".py"):
            with open(os.path.join(folder, name), "rb") as f:
                digest.update(f.read())
    return digest.hexdigest()[:12]


os.environ.setdefault("NUMBA_CACHE_DIR", os.path.join(
    os.path.dirname(__file__), "..", ".numba_cache", _kernel_source_hash()))
# pytest-xdist's workers (setup.cfg's `-n`) each get their own cache: numbarnn's kernels
# save to it under a lock (kernels/disk_cache.py), the tests' own @njit functions do
# not, and numba's index alone can end up naming another process's code.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ["NUMBA_CACHE_DIR"] = os.path.join(os.environ["NUMBA_CACHE_DIR"],
                                                 os.environ["PYTEST_XDIST_WORKER"])
