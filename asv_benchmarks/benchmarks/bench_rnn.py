"""asv benchmarks of the SimpleRNN forward pass (float32 inference unless named)."""
import subprocess
import sys

import numpy as np

import numbarnn as nr

SHAPES = [(1, 1000, 64, 64), (32, 100, 64, 128), (64, 200, 128, 256), (256, 50, 256, 256)]
SHAPE_NAMES = [str(s) for s in SHAPES]
GPU_SHAPES = SHAPES + [(64, 1000, 512, 512), (1024, 100, 1024, 1024)]


def _inputs(shape, dtype="float32"):
    batch, steps, features, _ = shape
    rng = np.random.default_rng(0)
    return rng.standard_normal((batch, steps, features)).astype(dtype)


class Forward:
    """The plain layer and its variants, over the four target shapes."""

    params = (SHAPE_NAMES, ["plain", "masked", "stacked", "residual", "float64",
                            "sequences", "bidirectional"])
    param_names = ["shape (B, T, I, U)", "variant"]
    timeout = 300

    def setup(self, shape_name, variant):
        shape = SHAPES[SHAPE_NAMES.index(shape_name)]
        batch, steps, features, units = shape
        self.kwargs = {}
        if variant == "float64":
            self.layer = nr.SimpleRNN(units, dtype="float64")
            self.x = _inputs(shape, "float64")
        elif variant == "stacked":
            self.layer = nr.RNN([nr.SimpleRNNCell(units), nr.SimpleRNNCell(units)])
            self.x = _inputs(shape)
        elif variant == "bidirectional":  # two directions, merged by concatenation
            self.layer = nr.Bidirectional(nr.SimpleRNN(units))
            self.x = _inputs(shape)
        elif variant == "residual":
            self.layer = nr.RNN(nr.ResidualWrapper(nr.SimpleRNNCell(units)))
            self.x = _inputs((batch, steps, units, units))
        else:
            self.layer = nr.SimpleRNN(units, return_sequences=variant == "sequences")
            self.x = _inputs(shape)
            if variant == "masked":
                self.kwargs["mask"] = np.random.default_rng(1).random((batch, steps)) > 0.2
        self.layer(self.x, **self.kwargs)  # compile / load the cache outside the timing

    def time_forward(self, shape_name, variant):
        self.layer(self.x, **self.kwargs)

    def peakmem_forward(self, shape_name, variant):
        self.layer(self.x, **self.kwargs)


class FirstCall:
    """Import plus first call in a fresh process (with the on-disk cache as it is)."""

    timeout = 600
    code = ("import numpy as np, numbarnn as nr; "
            "nr.SimpleRNN(16)(np.zeros((4, 10, 8), 'float32'))")

    def setup(self):
        subprocess.run([sys.executable, "-c", self.code], check=True)  # warm the cache

    def time_first_call(self):
        subprocess.run([sys.executable, "-c", self.code], check=True)


class CudaFirstCall(FirstCall):
    """:class:`FirstCall` on the GPU (CUDA context creation included); skipped where no
    GPU is usable."""

    code = ("import numpy as np, numbarnn as nr\n"
            "with nr.device('cuda'):\n"
            "    nr.SimpleRNN(16)(np.zeros((4, 10, 8), 'float32'))")

    def setup(self):
        from numbarnn.kernels.cuda_support import cuda_status
        ok, _ = cuda_status()
        if not ok:
            raise NotImplementedError("no usable CUDA device")
        super().setup()


class CudaForward:
    """The CUDA engine at the six GPU target shapes, input already on the device, with
    each recurrence kernel choice; skipped where no GPU is usable."""

    params = ([str(s) for s in GPU_SHAPES], ["auto", "block", "grid", "tiled"])
    param_names = ["shape (B, T, I, U)", "recurrence"]
    timeout = 300

    def setup(self, shape_name, recurrence):
        from numbarnn.kernels.cuda_support import cuda_status
        ok, _ = cuda_status()
        if not ok:
            raise NotImplementedError("no usable CUDA device")
        from numba import cuda
        from numbarnn.kernels import cuda as engine
        self.engine, self.saved = engine, engine.RECURRENCE
        engine.RECURRENCE = recurrence
        shape = GPU_SHAPES[[str(s) for s in GPU_SHAPES].index(shape_name)]
        self.layer = nr.SimpleRNN(shape[3])
        self.x = cuda.to_device(_inputs(shape))
        self.layer(self.x)  # compiles, mirrors the weights, allocates the work buffers

    def teardown(self, shape_name, recurrence):
        self.engine.RECURRENCE = self.saved

    def time_forward(self, shape_name, recurrence):
        self.layer(self.x)  # synchronises before it returns


class DenseForward:
    """``Dense(units, tanh)`` over a sequence of the target shapes (the layer after a
    recurrence that returns sequences), on the CPU."""

    params = (SHAPE_NAMES,)
    param_names = ["shape (B, T, I, U)"]

    def setup(self, shape_name):
        shape = SHAPES[SHAPE_NAMES.index(shape_name)]
        self.layer = nr.Dense(shape[3], activation="tanh")
        self.x = _inputs(shape)
        self.layer(self.x)

    def time_forward(self, shape_name):
        self.layer(self.x)


class CudaTokenModel:
    """``Embedding -> SimpleRNN(return_sequences) -> Dense(16, softmax)`` on device
    token ids (a vocabulary of 1000; the shape's I is the embedding width): every layer
    on the GPU. Skipped where no GPU is usable."""

    params = ([str(s) for s in GPU_SHAPES[:5]],)
    param_names = ["shape (B, T, I, U)"]
    timeout = 300

    def setup(self, shape_name):
        from numbarnn.kernels.cuda_support import cuda_status
        ok, _ = cuda_status()
        if not ok:
            raise NotImplementedError("no usable CUDA device")
        from numba import cuda
        batch, steps, features, units = GPU_SHAPES[[str(s) for s in GPU_SHAPES].index(
            shape_name)]
        self.model = nr.Sequential([nr.Embedding(1000, features),
                                    nr.SimpleRNN(units, return_sequences=True),
                                    nr.Dense(16, activation="softmax")])
        tokens = np.random.default_rng(0).integers(0, 1000, (batch, steps))
        self.x = cuda.to_device(tokens)
        self.synchronize = cuda.synchronize
        self.model(self.x)

    def time_forward(self, shape_name):
        self.model(self.x)
        self.synchronize()  # (the Dense's kernels are launched after the recurrence's sync)
