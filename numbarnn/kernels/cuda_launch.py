"""Kernel launches with less host work than numba-cuda's call path.

``kernel[grid, block, stream, shared](*args)`` took 118-132 us of host time per launch
of recur_block's 23 arguments (numba-cuda 0.30 on an H100 machine, 2000 launches of
no steps), more than a hundred steps of the recurrence; calling the compiled kernel's
own ``launch`` saved nothing, so the time is in preparing the arguments: numba-cuda
types every argument and converts every array to its kernel parameters (meminfo,
parent, size, itemsize, data pointer, shape, strides) at every launch.

Here the compiled kernel is kept per kernel and argument types, and each device
array's type and parameters are kept as long as the array lives (the engine's weight
mirrors and work buffers live for many calls). The parameters are made by numba-cuda's
own ``_prepare_args``, and the launch goes through cuda.core as numba-cuda's does, so
a launch passes exactly what numba-cuda would. These are internals of numba-cuda:
where an argument is not a numba device array, bool or int, :func:`compiled_for`
returns None and the caller launches the usual way.
"""
import weakref

__all__ = ["launch", "compiled_for"]

_ARRAYS = weakref.WeakKeyDictionary()  # device array -> [numba type, parameters]
_COMPILED = {}  # (kernel, argument type key) -> compiled kernel
_CONFIGS = {}  # (grid, block, shared bytes, cooperative) -> cuda.core LaunchConfig
_STATE = {}  # cuda.core's and numba-cuda's pieces used here, once found


def _array_entry(a):
    entry = _ARRAYS.get(a)
    if entry is None:
        entry = [a._numba_type_, None]
        _ARRAYS[a] = entry
    return entry


def _type_key(args):
    """A key that fixes the numba types of ``args``, or None for an argument other
    than a numba device array, a bool or an int."""
    device_array = _cuda_core()["device_array"]
    key = []
    for a in args:
        kind = type(a)
        if kind is bool or kind is int:
            key.append(kind)
        elif isinstance(a, device_array):
            key.append(_array_entry(a)[0])
        else:
            return None
    return tuple(key)


def compiled_for(kernel, args):
    """The compiled overload of ``kernel`` that ``args`` launch, or None when
    :func:`launch` cannot take them."""
    key = _type_key(args)
    if key is None:
        return None
    compiled = _COMPILED.get((kernel, key))
    if compiled is None:
        compiled = kernel._compile_for_args(*args)
        _COMPILED[(kernel, key)] = compiled
    return compiled


def _cuda_core():
    if not _STATE:
        from numba.cuda.cudadrv import driver
        from numba.cuda.cudadrv.devicearray import DeviceNDArrayBase
        from numba.cuda.dispatcher import LaunchConfig, launch
        from numba.cuda._compat import CUDA_CORE_GE_1_0
        _STATE.update(stream=driver._to_core_stream(0), launch=launch,
                      config=LaunchConfig, new_config=CUDA_CORE_GE_1_0,
                      device_array=DeviceNDArrayBase)
    return _STATE


def _config(grid, block, shared_bytes, cooperative):
    key = (grid, block, shared_bytes, cooperative)
    config = _CONFIGS.get(key)
    if config is None:
        core = _cuda_core()
        dims = dict(grid=_dim3(grid), block=_dim3(block), shmem_size=shared_bytes)
        if core["new_config"]:
            config = core["config"](**dims, is_cooperative=cooperative)
        else:
            config = core["config"](**dims, cooperative_launch=cooperative)
        if len(_CONFIGS) >= 4096:  # (one per grid: a process seeing many batch sizes)
            _CONFIGS.clear()
        _CONFIGS[key] = config
    return config


def _dim3(d):
    d = (d,) if isinstance(d, int) else tuple(d)
    return d + (1,) * (3 - len(d))


def launch(compiled, grid, block, shared_bytes, args):
    """Launch ``compiled`` (from :func:`compiled_for`) on the default stream."""
    core = _cuda_core()
    stream = core["stream"]
    params, retr = [], []
    for ty, a in zip(compiled.argument_types, args):
        if type(a) is bool or type(a) is int:
            compiled._prepare_args(ty, a, stream, retr, params)
            continue
        entry = _array_entry(a)
        if entry[1] is None:
            mine = []
            compiled._prepare_args(ty, a, stream, retr, mine)
            entry[1] = tuple(mine)
        params.extend(entry[1])
    core["launch"](stream, _config(grid, block, shared_bytes, compiled.cooperative),
                   compiled._codelibrary.get_cufunc().kernel, *params)
    for writeback in retr:
        writeback()
