"""Whether the CUDA engine can run here, and why not."""
import os

__all__ = ["cuda_status", "require_cuda", "CudaUnavailable"]


class CudaUnavailable(RuntimeError):
    """Raised when CUDA is requested but cannot run; the message says what to install."""


def cuda_status():
    """Return ``(ok, reason)``: can numba-cuda run kernels here (real GPU or simulator)?"""
    try:
        from numba import cuda
    except Exception as err:  # numba-cuda missing or incompatible with this numpy
        return False, (f"numba's CUDA target cannot be imported ({type(err).__name__}: "
                       f"{err}). Install the CUDA extra: pip install 'numbarnn[cuda]' "
                       "(numba-cuda with a numpy it supports, numpy<2.5).")
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
