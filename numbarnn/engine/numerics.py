"""Floating-point error handling of the layers' numpy arithmetic."""
import contextlib
import functools
import threading

import numpy as np

__all__ = ["ieee_float", "ieee_arithmetic"]


def ieee_float(fn):
    """Run ``fn`` with numpy's floating-point warnings off.

    TensorFlow ops follow IEEE arithmetic silently: overflow gives inf, ``inf - inf``
    and ``0 * inf`` give NaN, with no warning. numpy warns on each (and raises under
    ``np.seterr(all="raise")``), so the same input would warn or fail on the generic
    engine only. The fused kernels never warn.

    Inside another such function (an activation inside ``SimpleRNNCell.call``), the
    state is already set and ``fn`` runs as it is: ``np.errstate`` costs microseconds,
    which add up over the steps of the generic loop.
    """
    @functools.wraps(fn)
    def silent(*args, **kwargs):
        if getattr(_state, "silent", False):
            return fn(*args, **kwargs)
        _state.silent = True  # inline, not ieee_arithmetic(): a generator costs more
        try:
            with np.errstate(all="ignore"):
                return fn(*args, **kwargs)
        finally:
            _state.silent = False
    return silent


@contextlib.contextmanager
def ieee_arithmetic():
    """The block computes as TensorFlow does, without floating-point warnings; the
    :func:`ieee_float` functions called inside skip their own setup (the generic time
    loop runs a cell's step in one such block, not one per step)."""
    if getattr(_state, "silent", False):
        yield
        return
    _state.silent = True
    try:
        with np.errstate(all="ignore"):
            yield
    finally:
        _state.silent = False


_state = threading.local()  # per thread, as numpy's error state is
