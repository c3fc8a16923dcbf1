"""The kernels' on-disk cache index is updated under a file lock (numba's is not):
two processes saving different signatures of one kernel at once keep both."""
import errno
import threading
import time

import pytest

from numbarnn.kernels import disk_cache

caching = pytest.importorskip("numba.core.caching")
pytestmark = pytest.mark.skipif(disk_cache.fcntl is None, reason="no flock here")


def _cache_file(folder, locked):
    cls = caching.IndexDataCacheFile
    if locked:
        cls = disk_cache._locked_class(cls)
    return cls(cache_path=str(folder), filename_base="kernel", source_stamp=(1.0, 10))


def test_two_writers_at_once_keep_both_signatures(tmp_path):
    """Writer a reads the index, then waits (up to 1 s) for writer b to read it too,
    as two processes compiling at the same moment do. Unlocked, both would find it
    empty and name their data file alike (numba's race); locked, b waits for a's
    write and adds its own entry."""
    a, b = _cache_file(tmp_path, True), _cache_file(tmp_path, True)
    b_has_read = threading.Event()

    def read_then_wait(original):
        def load():
            index = original()
            b_has_read.wait(timeout=1.0)
            return index
        return load

    def read_then_signal(original):
        def load():
            index = original()
            b_has_read.set()
            return index
        return load

    a._load_index = read_then_wait(a._load_index)
    b._load_index = read_then_signal(b._load_index)
    writers = [threading.Thread(target=a.save, args=(("int64",), "code for int64")),
               threading.Thread(target=b.save, args=(("float64",), "code for float64"))]
    writers[0].start()
    deadline = time.monotonic() + 10
    while not (tmp_path / "kernel.nbi.lock").exists():  # a takes the lock before b starts
        assert time.monotonic() < deadline, "the writer took no lock"
        time.sleep(0.001)
    writers[1].start()
    for w in writers:
        w.join(timeout=10)
        assert not w.is_alive()
    reader = _cache_file(tmp_path, False)
    assert reader.load(("int64",)) == "code for int64"
    assert reader.load(("float64",)) == "code for float64"


def test_the_kernels_caches_are_locked():
    from numbarnn.kernels import cpu, matmul
    for kernel in (cpu.simple_rnn_stack_forward, matmul.matmul_acc_panels):
        assert type(kernel._cache._cache_file).__name__ == "LockedIndexDataCacheFile"


def test_a_file_system_without_locks_saves_unlocked(tmp_path, monkeypatch):
    """flock can fail (ENOLCK on a Lustre or NFS mount without locks): the entry is
    saved as numba saves it, rather than the compile failing."""
    def no_locks(fd, operation):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(disk_cache.fcntl, "flock", no_locks)
    cache_file = _cache_file(tmp_path, True)
    cache_file.save(("int64",), "code for int64")
    assert _cache_file(tmp_path, False).load(("int64",)) == "code for int64"
