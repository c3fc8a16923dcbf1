"""The asv suite must keep working: every benchmark runs once, at its first parameters."""
import importlib.util
import inspect
import os
import pathlib

import pytest

BENCH_DIR = pathlib.Path(__file__).resolve().parent.parent / "asv_benchmarks" / "benchmarks"
MODULES = sorted(p for p in BENCH_DIR.glob("bench_*.py"))


def _load(path):
    spec = importlib.util.spec_from_file_location(f"asv_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cases():
    for path in MODULES:
        module = _load(path)
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != module.__name__:
                continue
            methods = [m for m in dir(cls) if m.startswith(("time_", "peakmem_"))]
            if methods:
                yield pytest.param(cls, methods, id=f"{path.stem}.{name}")


def _first_params(cls):
    params = getattr(cls, "params", None)
    if params is None:
        return ()
    if isinstance(params, tuple):  # one list per parameter
        return tuple(p[0] for p in params)
    return (params[0],)


def test_the_suite_has_benchmarks():
    assert len(list(_cases())) >= 5


@pytest.mark.parametrize("cls, methods", list(_cases()))
def test_benchmark_runs_once(cls, methods):
    if "Cuda" in cls.__name__ and not os.path.exists("/dev/nvidiactl"):
        pytest.skip("CUDA benchmarks time a real GPU (the simulator is far too slow)")
    bench = cls()
    args = _first_params(cls)
    try:
        if hasattr(bench, "setup"):
            bench.setup(*args)
    except NotImplementedError as skip:  # asv's way of skipping
        pytest.skip(str(skip))
    try:
        for method in methods:
            getattr(bench, method)(*args)
    finally:
        if hasattr(bench, "teardown"):
            bench.teardown(*args)
