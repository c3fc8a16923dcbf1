"""``Mean``: the metric ``Layer.add_metric`` keeps per name (tf-keras's eager
``add_metric`` wraps each value in a ``keras.metrics.Mean``)."""
import threading

import numpy as np

__all__ = ["Mean"]

_UPDATE_LOCK = threading.Lock()  # calls from several threads add up (two += each)


class Mean:
    """The running mean of every value it is given (all their elements, or weighted
    by ``sample_weight``), as ``keras.metrics.Mean``.

    Parameters
    ----------
    name : str
    dtype : str or numpy.dtype, optional
        The dtype of :meth:`result` (default float32).
    """

    def __init__(self, name="mean", dtype=None):
        self.name = name
        self.dtype = np.dtype(dtype or "float32")
        self.reset_state()

    def update_state(self, values, sample_weight=None):
        values = np.asarray(values, dtype=np.float64)
        if sample_weight is None:
            total, count = float(values.sum()), values.size
        else:
            weight = np.broadcast_to(np.asarray(sample_weight, np.float64), values.shape)
            total, count = float((values * weight).sum()), float(weight.sum())
        with _UPDATE_LOCK:
            self._total += total
            self._count += count

    def result(self):
        """The mean so far; 0 before any value (tf's ``divide_no_nan``)."""
        return np.asarray(self._total / self._count if self._count else 0.0, self.dtype)

    def reset_state(self):
        self._total, self._count = 0.0, 0

    def __call__(self, values, sample_weight=None):
        self.update_state(values, sample_weight)
        return self.result()

    def __repr__(self):
        return f"<numbarnn Mean metric {self.name!r}: {float(self.result())}>"
