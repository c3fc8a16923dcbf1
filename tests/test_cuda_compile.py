"""Every CUDA kernel, with the argument types the engine really launches it with,
compiles for a real GPU (sm_90) without spilling: no GPU needed, only numba-cuda and
NVVM (the ``cuda`` extra). The simulator cannot catch typing or lowering errors of the
CUDA target; this can."""
import atexit
import os
import subprocess
import sys

import numpy as np
import pytest

from numbarnn.kernels import cuda_check

KERNELS = {"project", "recur_block", "recur_block_l2", "recur_block_global",
           "recur_block_lean", "recur_block_l2_lean",
           "recur_grid", "recur_tiled"}


def _real_target_env():
    env = dict(os.environ)
    env.pop("NUMBA_ENABLE_CUDASIM", None)
    return env


def _nvvm_available():
    # numba-cuda, not the CUDA target numba itself once shipped (deprecated, and the
    # check drives numba-cuda's compiler).
    probe = ("import numba_cuda\nfrom numba import cuda, float32\n"
             "cuda.compile_ptx(lambda a: None, (float32[:],), cc=(9, 0))\n")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          env=_real_target_env())
    return proc.returncode == 0, proc.stderr.strip().splitlines()[-1:] or ""


NVVM, WHY = _nvvm_available()


def _start_compile_check():
    if not NVVM:
        return None
    proc = subprocess.Popen([sys.executable, "-m", "numbarnn.kernels.cuda_check", "--cc",
                             "9.0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=_real_target_env())
    atexit.register(lambda: proc.poll() is None and proc.kill())  # (when deselected)
    return proc


# Started when this module is collected: the check (about 140 s of compiling, on one
# core) then runs beside the rest of the suite instead of after it.
_COMPILE_CHECK = _start_compile_check()


@pytest.mark.skipif(not NVVM, reason=f"numba-cuda with NVVM is not installed: {WHY}")
def test_every_launched_kernel_compiles_for_sm90_without_spills():
    stdout, stderr = _COMPILE_CHECK.communicate(timeout=900)
    assert _COMPILE_CHECK.returncode == 0, stdout + stderr
    lines = [ln for ln in stdout.splitlines() if ln.startswith(("ok", "FAIL"))]
    assert lines and all(ln.startswith("ok") for ln in lines)
    assert {ln.split()[1] for ln in lines} == KERNELS
    # Stable signatures: the matrix of options (dtype x layout x mask x stack x
    # direction x kernel) reaches few specialisations, so a process compiles few.
    assert len(lines) <= 4 * len(KERNELS)


def test_argument_types_are_encoded_as_numba_sees_them():
    from numba import types
    a = np.zeros((3, 4), np.float32)
    assert cuda_check._encode(a) == ["array", "float32", 2, "C"]
    assert cuda_check._encode(a.T) == ["array", "float32", 2, "F"]
    assert cuda_check._encode(a[:, ::2]) == ["array", "float32", 2, "A"]
    assert cuda_check._encode(True) == ["boolean"]
    assert cuda_check._encode(np.int64(3)) == ["int64"]
    assert cuda_check._decode(["array", "bool", 2, "C"]) == types.Array(types.boolean, 2,
                                                                        "C")
    assert cuda_check._decode(["int64"]) == types.int64
