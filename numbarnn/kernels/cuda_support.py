"""Whether the CUDA engine can run here, and why not."""
import os

import numpy as np

__all__ = ["cuda_status", "require_cuda", "CudaUnavailable", "is_device_array",
           "to_host_array"]


class CudaUnavailable(RuntimeError):
    """Raised when CUDA is requested but cannot run; the message says what to install."""


def cuda_status():
    """Return ``(ok, reason)``: can numba-cuda run kernels here (real GPU or simulator)?"""
    install = ("Install the CUDA extra: pip install 'numbarnn[cuda]' (numba-cuda with a "
               "numpy it supports, numpy<2.5).")
    try:
        from numba import cuda
    except Exception as err:  # numba-cuda missing or incompatible with this numpy
        return False, (f"numba's CUDA target cannot be imported ({type(err).__name__}: "
                       f"{err}). {install}")
    if getattr(cuda, "implementation", "NVIDIA") == "Built-in":
        # numba's own deprecated target: numba-cuda is not installed (the engine needs
        # its launch path and its fixes)
        return False, ("numba-cuda is not installed (numba's built-in CUDA target is). "
                       + install)
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        return True, "CUDA simulator (NUMBA_ENABLE_CUDASIM=1)"
    try:
        if not cuda.is_available():
            return False, ("no usable NVIDIA GPU or driver was found (numba.cuda."
                           "is_available() is False); the CPU engine still works.")
        return True, f"GPU: {cuda.get_current_device().name}"
    except Exception as err:
        return False, f"CUDA initialisation failed: {type(err).__name__}: {err}"


def require_cuda():
    ok, reason = cuda_status()
    if not ok:
        raise CudaUnavailable("The 'cuda' device is not available: " + reason)


def is_device_array(x):
    """Is ``x`` an array in CUDA device memory (numba, CuPy, PyTorch CUDA, simulator)?

    Cheap and import-free: it never initialises CUDA.
    """
    if x is None or isinstance(x, (np.ndarray, list, tuple, int, float)):
        return False
    if hasattr(x, "__cuda_array_interface__"):
        return True
    return is_numba_device_array(x)


def to_host_array(x):
    """``x`` itself, or for a device array a host copy of it."""
    if is_device_array(x):
        from .cuda import as_device_array, to_host
        return to_host(as_device_array(x))
    return x


def is_numba_device_array(x):
    """A numba device array (the simulator's stand-ins implement no interface)."""
    return type(x).__name__ in ("FakeCUDAArray", "DeviceNDArray")
