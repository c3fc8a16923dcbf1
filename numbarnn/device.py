"""Where recurrences run: the fused CPU kernels, the generic Python loop, or CUDA."""
import contextlib
import threading

__all__ = ["device", "set_device", "get_device", "ENGINES"]

ENGINES = ("cpu", "python", "cuda")
_state = threading.local()
_default = ["cpu"]


def _check(name):
    if name not in ENGINES:
        raise ValueError(f"Argument `device` must be one of {ENGINES}. Received: {name!r}")
    if name == "cuda":
        from .kernels import cuda_support
        cuda_support.require_cuda()
    return name


def get_device():
    """The engine new calls use: ``"cpu"`` (fused @njit), ``"python"`` (generic loop) or
    ``"cuda"``."""
    return getattr(_state, "name", None) or _default[0]


def set_device(name):
    """Set the default engine for every thread."""
    _default[0] = _check(name)


@contextlib.contextmanager
def device(name):
    """Run the calls inside the block on ``name`` (this thread only)."""
    previous = getattr(_state, "name", None)
    _state.name = _check(name)
    try:
        yield
    finally:
        _state.name = previous
