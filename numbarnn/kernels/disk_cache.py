"""numba's on-disk cache of compiled kernels, its index updated under a file lock.

numba (0.68, and numba-cuda alike) adds a compiled signature to a function's cache by
reading the index file, adding the entry and writing it back, with no lock between
processes. Two processes that compile different signatures of one kernel at the same
moment (processes started together on a fresh install: an MPI job, a job array,
pytest-xdist) can then leave the index naming one process's data file for the other's
signature, and every later process runs that machine code for the wrong types: an
int64 call of a cached ``x * 2 + 1`` answered 7.0 from the float64 code in a
reproduction. :func:`lock_index` makes a kernel's cache writes take an exclusive
``flock`` on ``<index>.lock`` for the read-modify-write; reads need none (numba
writes each file whole, under a temporary name, then renames it).
"""
import contextlib
import os

try:
    import fcntl
except ImportError:  # Windows: numba's own behaviour, unlocked
    fcntl = None

__all__ = ["lock_index"]

_LOCKED_CLASSES = {}


@contextlib.contextmanager
def _exclusive(path):
    """Hold an exclusive lock on ``path`` (created if missing) for the block; none
    where it cannot be created (a read-only cache folder, where numba's own write fails
    and warns anyway) or the file system has no locks."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError:
        yield
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError:  # a file system without locks (ENOLCK, ENOSYS, EOPNOTSUPP):
            pass         # numba's own behaviour, unlocked, rather than a failed compile
        yield
    finally:
        os.close(fd)  # releases the lock


def _locked_class(cls):
    """``cls`` (numba's or numba-cuda's IndexDataCacheFile) with ``save`` locked."""
    if cls not in _LOCKED_CLASSES:
        def save(self, key, data):
            with _exclusive(self._index_path + ".lock"):
                cls.save(self, key, data)
        _LOCKED_CLASSES[cls] = type(f"Locked{cls.__name__}", (cls,), {"save": save})
    return _LOCKED_CLASSES[cls]


def lock_index(dispatcher):
    """Make a compiled function's on-disk cache save under a file lock.

    Parameters
    ----------
    dispatcher : numba Dispatcher
        An ``@njit`` or ``@cuda.jit`` function.

    Returns
    -------
    The same ``dispatcher``: locked where it has an on-disk cache, as it is where it has
    none (the CUDA simulator) or numba's internals differ from what this expects.
    """
    cache_file = getattr(getattr(dispatcher, "_cache", None), "_cache_file", None)
    if (fcntl is not None and cache_file is not None
            and hasattr(cache_file, "_index_path") and callable(
                getattr(cache_file, "save", None))):
        cache_file.__class__ = _locked_class(type(cache_file))
    return dispatcher
