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
           "recur_grid", "recur_tiled", "merge_directions_kernel", "mask_steps_kernel",
           "activate_kernel", "softmax_rows_kernel", "gather_rows_kernel",
           "relu_family_kernel", "cast_kernel", "prelu_kernel"}


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
    atexit.register(_stop, proc)  # (when deselected)
    return proc


def _stop(proc):
    if proc.poll() is None:
        proc.kill()
    proc.communicate()  # reaps it and closes its pipes


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


def test_instruction_mix_counts_an_nvdisasm_listing():
    """The instruction mix of --sass, on lines as nvdisasm -c prints them (predicated
    instructions, loads of each width, labels and braces that are not instructions)."""
    listing = """
        .text.recur_block_lean:
        /*0000*/                   LDC R1, c[0x0][0x28] ;       /* 0x00000a00ff017b82 */
        /*0010*/                   LDS.128 R24, [R24] ;
        /*0020*/                   LDS.64 R2, [R4+0x8] ;
        /*0030*/               @P0 LDS R5, [R6] ;
        /*0040*/              @!P1 LDS.U8 R7, [R6+0x1] ;
        /*0050*/                   FFMA R77, R24, R60, R77 ;
        /*0060*/                   DFMA R8, R10, R12, R8 ;
        /*0070*/                   LDG.E R60, desc[UR12][R60.64] ;
        /*0080*/                   LD.E R61, desc[UR12][R62.64] ;
        .L_x_69:
        /*0090*/              @!P1 BRA `(.L_x_69) ;
    """
    assert cuda_check.instruction_mix(listing) == {
        "total": 10, "fma": 2, "lds": 2, "lds.64": 1, "lds.128": 1, "ldg": 1}
