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

    def setup(self, shape_name, form):
        m, k, n = PRODUCTS[[str(p) for p in PRODUCTS].index(shape_name)]
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
