"""Run one compiled kernel over slices of the batch on several threads.

Batch rows of a recurrent layer never interact, so a call splits into independent row
ranges. The kernels release the GIL (``nogil=True``), so plain Python threads run them
in parallel: no OpenMP runtime (which is not fork-safe in GNU's build) and no per-step
synchronisation. The thread count follows numba's (the ``NUMBA_NUM_THREADS``
environment variable, or ``numba.set_num_threads``).
"""
import os
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor

import numba
from numba.np.ufunc import parallel as numba_parallel

from .vector_tile import TILE_ROWS

# Below this much work in a call (see ``step_work``), handing rows to another thread
# (tens of µs) costs more than it saves.
MIN_PARALLEL_WORK = 1 << 21
# Slices are whole blocks of the kernels' row blocking, and at least this many rows.
ROW_ALIGN = TILE_ROWS
MIN_ROWS = 8
# Slices per thread: a thread that starts late (waking one can take a millisecond on a
# busy machine) leaves its share to the others instead of finishing last.
SLICES_PER_THREAD = 2

_lock = threading.Lock()
_pool = None
_pool_owner = None  # (pid, workers): a forked child must not use its parent's threads


def _submit(fn, count):
    """Submit ``fn`` ``count`` times to the process's pool, grown to ``count`` threads
    where it is smaller. Under the lock: a pool is replaced (and shut down) only between
    two callers' submissions, never between another caller's lookup and submit."""
    global _pool, _pool_owner
    with _lock:
        pid = os.getpid()
        if _pool_owner is None or _pool_owner[0] != pid or _pool_owner[1] < count:
            previous = _pool if _pool_owner and _pool_owner[0] == pid else None
            _pool = ThreadPoolExecutor(max_workers=count, thread_name_prefix="numbarnn")
            _pool_owner = (pid, count)
            if previous is not None:
                previous.shutdown(wait=False)  # work already queued there still runs
        return [_pool.submit(fn) for _ in range(count)]


def thread_count():
    """Threads a call may use: ``numba.get_num_threads()``.

    Until something has started numba's threading layer (``numba.set_num_threads`` or a
    ``parallel=True`` function does), its configured count is read instead: starting
    the layer costs about 40 ms and an idle OpenMP thread, for a number we already know.
    """
    if getattr(numba_parallel, "_is_initialized", True):
        return numba.get_num_threads()
    return numba.config.NUMBA_NUM_THREADS


def step_work(input_dim, units):
    """Work of one row through one step of a level, in multiply-add equivalents: the two
    products plus the activation, mask and copies per unit and the loop overhead per row
    (about 32 and 200 multiply-adds' time, measured on the CPU kernels)."""
    return units * (input_dim + units + 32) + 200


def row_slices(batch, work):
    """Row ranges ``[(row0, row1), ...]`` to compute in parallel (one range: serial).

    ``work``: the call's total ``batch * steps * step_work(...)`` over its levels.
    """
    threads = thread_count()
    if threads < 2 or work < MIN_PARALLEL_WORK or batch < 2:
        return [(0, batch)]
    parts = max(1, min(threads * SLICES_PER_THREAD, batch // MIN_ROWS))
    per = -(-batch // parts)
    per = -(-per // ROW_ALIGN) * ROW_ALIGN
    slices = [(r, min(batch, r + per)) for r in range(0, batch, per)]
    if len(slices) > 1 and slices[-1][1] - slices[-1][0] < MIN_ROWS:
        slices[-2:] = [(slices[-2][0], batch)]  # no runt slice from the alignment
    return slices


def run_sliced(kernel, args, slices):
    """Call ``kernel(*args, row0, row1)`` for every slice, on up to ``thread_count()``
    threads (the caller's included) that each take the next slice not yet started.
    Errors from any slice are raised here."""
    if len(slices) == 1:
        kernel(*args, *slices[0])
        return
    pending = deque(slices)

    def drain():
        while True:
            try:
                row0, row1 = pending.popleft()  # atomic: no two threads get a slice
            except IndexError:
                return
            kernel(*args, row0, row1)

    helpers = min(thread_count(), len(slices)) - 1
    futures = _submit(drain, helpers) if helpers else []
    try:
        drain()
    finally:
        for f in futures:
            f.result()
