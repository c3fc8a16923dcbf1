"""Floating-point error handling of the layers' numpy arithmetic."""
import functools

import numpy as np

__all__ = ["ieee_float"]


def ieee_float(fn):
    """Run ``fn`` with numpy's floating-point warnings off.

    TensorFlow ops follow IEEE arithmetic silently: overflow gives inf, ``inf - inf``
    and ``0 * inf`` give NaN, with no warning. numpy warns on each (and raises under
    ``np.seterr(all="raise")``), so the same input would warn or fail on the generic
    engine only. The fused kernels never warn.
    """
    @functools.wraps(fn)
    def silent(*args, **kwargs):
        with np.errstate(all="ignore"):
            return fn(*args, **kwargs)
    return silent
