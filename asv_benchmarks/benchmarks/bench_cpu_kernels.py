"""asv benchmarks of the CPU engine's parts: the product kernel and the batch split."""
import ast

import numba
import numpy as np

import numbarnn as nr
from numbarnn.kernels.matmul import matmul_acc, matmul_acc_panels, pack_panels

# (M, K, N) of c += a @ b: per-thread recurrent products of the target shapes (rows of a
# slice x units x units) and a chunk's input projection.
PRODUCTS = [(1, 64, 64), (16, 128, 128), (32, 256, 256), (128, 256, 256), (1024, 64, 128),
            (512, 128, 256)]


class MatmulAcc:
    """The product kernels on one thread (asv reports the time per call): ``panels``,
    the vector-tile form the engine uses from 4 rows on (weights packed beforehand, as
    the engine does once per call), and ``unpacked``, the loop form."""

    params = ([str(p) for p in PRODUCTS], ["panels", "unpacked"])
    param_names = ["(M, K, N)", "form"]

    shapes = PRODUCTS

    def setup(self, shape_name, form):
        m, k, n = self.shapes[[str(p) for p in self.shapes].index(shape_name)]
        rng = np.random.default_rng(0)
        self.a = rng.standard_normal((m, k)).astype(np.float32)
        self.b = (rng.standard_normal((k, n)) / np.sqrt(k)).astype(np.float32)
        self.c = np.zeros((m, n), np.float32)
        self.panels = np.empty(k * n, np.float32)
        self.packed = pack_panels(self.b, self.panels)
        self.time_matmul_acc(shape_name, form)

    def time_matmul_acc(self, shape_name, form):
        if form == "panels":
            matmul_acc_panels(self.c, self.a, self.b, self.panels, self.packed)
        else:
            matmul_acc(self.c, self.a, self.b)


# (M, K, N) of the recurrent product at batch 1-3, where every row runs in the one-row
# tile: one call is 10-600 ns, so each sample times a compiled loop of ROW_CALLS calls.
ROW_PRODUCTS = [(1, 16, 16), (1, 64, 64), (3, 64, 64), (1, 128, 128)]
ROW_CALLS = 1000


# Not cached: this file is imported under other module names by asv
# ("benchmarks.bench_cpu_kernels") and by the test suite, and numba's cache of a function
# records its module's name; a cache written under one name fails to load under the
# other (ModuleNotFoundError). Compiling the two loops takes about a second, in setup.
@numba.njit
def _panels_calls(c, a, b, panels, packed, calls):
    for _ in range(calls):
        matmul_acc_panels(c, a, b, panels, packed)


@numba.njit
def _unpacked_calls(c, a, b, calls):
    for _ in range(calls):
        matmul_acc(c, a, b)


class RowProduct(MatmulAcc):
    """:class:`MatmulAcc` for batches of one to three rows (the one-row tile against the
    loop form), ROW_CALLS calls per sample from compiled code, not Python."""

    params = ([str(p) for p in ROW_PRODUCTS], ["panels", "unpacked"])
    shapes = ROW_PRODUCTS

    def time_matmul_acc(self, shape_name, form):
        if form == "panels":
            _panels_calls(self.c, self.a, self.b, self.panels, self.packed, ROW_CALLS)
        else:
            _unpacked_calls(self.c, self.a, self.b, ROW_CALLS)


class BatchSplit:
    """One layer call on the calling thread against the batch split over threads."""

    params = (["(32, 100, 64, 128)", "(256, 100, 8, 8)"], ["serial", "split"])
    param_names = ["shape (B, T, I, U)", "threads"]
    timeout = 300

    def setup(self, shape_name, mode):
        batch, steps, features, units = ast.literal_eval(shape_name)
        self.x = np.random.default_rng(0).standard_normal(
            (batch, steps, features)).astype(np.float32)
        self.layer = nr.SimpleRNN(units)
        self._count = numba.get_num_threads()
        if mode == "serial":
            numba.set_num_threads(1)  # the user's knob for the batch split
        self.layer(self.x)

    def teardown(self, shape_name, mode):
        numba.set_num_threads(self._count)

    def time_forward(self, shape_name, mode):
        self.layer(self.x)
