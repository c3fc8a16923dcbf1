"""Compile every CUDA kernel for a real GPU architecture without needing a GPU.

The CUDA simulator runs kernels as Python, so it cannot catch what only the real
compiler sees: typing and lowering errors, register spills, shared memory overuse. This
check closes that gap on any machine that has numba-cuda and NVVM (``pip install
'numbarnn[cuda]'`` brings both; no driver or GPU is needed):

1. *record*: a child process runs a matrix of stacks through the CUDA engine under the
   simulator, with :func:`numbarnn.kernels.cuda._launch` replaced by a recorder that
   notes each kernel and the numba types of its arguments, exactly as the engine
   launches them;
2. *compile*: this process compiles each distinct (kernel, signature) to PTX for the
   target compute capability and, when ``ptxas`` is found, to machine code, and reports
   registers, spills and static shared memory per kernel.

Run ``python -m numbarnn.kernels.cuda_check [--cc 9.0] [--ptx DIR] [--sass DIR]``; it
exits non-zero when a kernel fails to compile, spills, or keeps a register array in local
memory. ``--sass`` also disassembles each kernel's machine code (``nvdisasm``: ``pip
install nvidia-cuda-nvdisasm``) and reports its instruction mix, the measure of kernel
changes made without a GPU.
"""
import argparse
import glob
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

__all__ = ["record_signatures", "compile_signatures", "instruction_mix", "main"]


def _encode(value):
    """A JSON-able description of the numba type a launch gives ``value``."""
    import numpy as np
    if isinstance(value, (bool, np.bool_)):
        return ["boolean"]
    if isinstance(value, (int, np.integer)):
        return ["int64"]
    if isinstance(value, (float, np.floating)):
        return ["float64"]
    ary = getattr(value, "_ary", value)  # the simulator's device arrays wrap numpy arrays
    ary = np.asarray(ary)
    if ary.flags.c_contiguous:
        layout = "C"
    elif ary.flags.f_contiguous:
        layout = "F"
    else:
        layout = "A"
    return ["array", ary.dtype.name, ary.ndim, layout]


def _decode(code):
    from numba import types
    if code[0] == "array":
        _, dtype, ndim, layout = code
        return types.Array(getattr(types, "boolean" if dtype == "bool" else dtype), ndim,
                           layout)
    return getattr(types, code[0])


def _representative_calls():
    """Stacks and options that reach every launch path of the engine."""
    import numpy as np
    from numba import cuda
    from . import plan
    from .cuda import run_stack

    rng = np.random.default_rng(0)

    def level(in_dim, units, activation="tanh", residual=False, dropout=False,
              dtype=np.float32):
        return plan.LevelSpec(
            kernel=rng.standard_normal((in_dim, units)).astype(dtype),
            recurrent=rng.standard_normal((units, units)).astype(dtype),
            bias=rng.standard_normal(units).astype(dtype), activation=activation,
            residual=residual,
            input_dropout=np.ones((2, in_dim), dtype) if dropout else None,
            recurrent_dropout=np.ones((2, units), dtype) if dropout else None)

    for dtype in (np.float32, np.float64):
        for time_major in (False, True):
            for masked in (False, True):
                for seqs in (False, True):
                    x = rng.standard_normal((3, 2, 4) if time_major else (2, 3, 4))
                    mask = (rng.random(x.shape[:2]) < 0.7) if masked else None
                    stack = [level(4, 3, dtype=dtype),
                             level(3, 3, "softmax", residual=True, dropout=True,
                                   dtype=dtype)]
                    states = [np.zeros((2, 3), dtype)] * 2
                    yield lambda x=x, mask=mask, stack=stack, states=states, seqs=seqs, \
                        time_major=time_major, dtype=dtype: run_stack(
                            stack, x.astype(dtype), mask, states, go_backwards=True,
                            return_sequences=seqs, time_major=time_major, dtype=dtype)
        # The bidirectional merge: every mode, sequences (either time axis) and last
        # outputs.
        from .cuda import merge_directions
        for shape, time_axis in (((2, 3, 4), 1), ((3, 2, 4), 0), ((2, 4), None)):
            y, y_rev = (cuda.to_device(rng.standard_normal(shape).astype(dtype))
                        for _ in range(2))
            for mode in ("concat", "sum", "ave", "mul", None):
                yield lambda y=y, y_rev=y_rev, mode=mode, time_axis=time_axis: \
                    merge_directions(y, y_rev, mode, time_axis)
        # Masking: one value, and one per feature.
        from .cuda import mask_steps
        x = cuda.to_device(rng.standard_normal((2, 3, 4)).astype(dtype))
        for values in (np.zeros(1, dtype), np.zeros(4, dtype)):
            yield lambda x=x, values=values: mask_steps(x, values)
        # The feed-forward layers' device paths: a dense product of a strided 3-D and
        # a 2-D input with an elementwise activation and a softmax, a lookup, and a
        # parametrised ReLU.
        from . import cuda_feedforward as gpu
        from .scalar_math import ACTIVATION_CODES
        weights = gpu.dense_weights(rng.standard_normal((4, 3)), None, dtype)
        seq = cuda.to_device(rng.standard_normal((2, 6, 4)).astype(dtype))[:, ::2]
        rows = cuda.to_device(rng.standard_normal((5, 4)).astype(dtype))
        for x, act in ((seq, "tanh"), (rows, "softmax")):
            yield lambda x=x, act=act, weights=weights: gpu.dense(
                x, weights, ACTIVATION_CODES[act])
        table = cuda.to_device(rng.standard_normal((6, 3)).astype(dtype))
        yield lambda table=table: gpu.embed(np.array([[0, 5], [2, 2]]), table)
        yield lambda rows=rows: gpu.relu_family(rows, "relu", 0.1, 6.0, 0.5)
        slopes = cuda.to_device(rng.standard_normal(4).astype(dtype))
        yield lambda rows=rows, slopes=slopes: gpu.prelu(rows, slopes)
        # under a float16 policy: results rounded to float16, and float32 or float64
        # inputs of a recurrent layer rounded to it (tf-keras's autocast)
        yield lambda rows=rows: gpu.cast(rows, np.float16)
        if dtype == np.float32:
            # mixed_float16: a float16 device array into the next recurrence,
            # Bidirectional's merge of float16 outputs and Masking of a float16
            # sequence.
            halves = [cuda.to_device(rng.standard_normal((2, 3, 4)).astype(np.float16))
                      for _ in range(2)]
            yield lambda halves=halves: merge_directions(*halves, "ave", 1)
            yield lambda halves=halves: mask_steps(halves[0], np.zeros(4, np.float16))
            # Embedding under mixed_float16: a lookup in a float16 copy of the table.
            half_table = cuda.to_device(rng.standard_normal((6, 3)).astype(np.float16))
            yield lambda half_table=half_table: gpu.embed(np.array([[0, 5]]), half_table)
            # Dense converts other input dtypes as it reads them (float16 from a mixed
            # recurrence, integers, bools)
            for other in (np.float16, np.int32, np.bool_):
                given = cuda.to_device(rng.integers(0, 2, (5, 4)).astype(other))
                yield lambda given=given, weights=weights: gpu.dense(
                    given, weights, ACTIVATION_CODES["linear"])
            half = cuda.to_device(rng.standard_normal((2, 3, 4)).astype(np.float16))
            yield lambda half=half: run_stack(
                [level(4, 3)], half, None, [np.zeros((2, 3), np.float32)],
                dtype=np.float32)
        # A device input of another dtype and strides is read in place.
        x = cuda.to_device(rng.integers(-2, 3, (2, 6, 8)).astype(np.int32))[:, ::2, ::2]
        yield lambda x=x, dtype=dtype: run_stack(
            [level(4, 3, dtype=dtype)], x, None, [np.zeros((2, 3), dtype)], dtype=dtype)


def record_signatures():
    """Run the representative calls under the simulator; the launches' signatures.

    Returns
    -------
    list of [kernel name, [encoded argument types]], without repeats.
    """
    if os.environ.get("NUMBA_ENABLE_CUDASIM") != "1":
        raise RuntimeError("record_signatures runs under NUMBA_ENABLE_CUDASIM=1")
    from . import cuda as engine
    seen = []
    real_launch = engine._launch

    def recorder(kernel, grid, block, shared_bytes, *args):
        entry = [kernel.__name__, [_encode(a) for a in args]]
        if entry not in seen:
            seen.append(entry)
        real_launch(kernel, grid, block, shared_bytes, *args)

    real_plan = engine._block_plan

    def block_plan_with(rec_shared, state_shared):
        # recur_block's variants by where the matrix and the state live: the small
        # representative stacks fit on chip, so the other two are asked for here.
        def plan(batch, units, itemsize):
            rows, threads, shared, _, _ = real_plan(batch, units, itemsize)
            return rows, threads, shared, rec_shared, state_shared
        return plan

    engine._launch = recorder
    saved = engine.RECURRENCE, engine.BLOCK_LEAN
    try:
        # every kernel (softmax: block), recur_block's with and without its lean
        # variants (which take the plain calls where they apply)
        for kind, placement, lean in (
                ("block", (True, True), True), ("block", (False, True), True),
                ("block", (True, True), False), ("block", (False, True), False),
                ("block", (False, False), False), ("grid", None, False),
                ("tiled", None, False)):
            engine.RECURRENCE, engine.BLOCK_LEAN = kind, lean
            engine._block_plan = block_plan_with(*placement) if placement else real_plan
            for call in _representative_calls():
                call()
    finally:
        engine._launch = real_launch
        engine.RECURRENCE, engine.BLOCK_LEAN = saved
        engine._block_plan = real_plan
    return seen


def _ptxas():
    """The ptxas that came with the pip CUDA toolkit, or one on PATH."""
    try:
        import nvidia.cuda_nvcc as nvcc
        path = os.path.join(list(nvcc.__path__)[0], "bin", "ptxas")
        if os.path.exists(path):
            return path
    except ImportError:
        pass
    return shutil.which("ptxas")


def _nvdisasm():
    """nvdisasm from a pip CUDA package (``nvidia-cuda-nvdisasm``), or one on PATH."""
    try:
        import nvidia
        for base in nvidia.__path__:
            for path in sorted(glob.glob(os.path.join(base, "*", "bin", "nvdisasm"))):
                return path
    except ImportError:
        pass
    return shutil.which("nvdisasm")


# An instruction of nvdisasm's listing: its address, an optional predicate, the opcode.
_SASS_INSTRUCTION = re.compile(r"/\*[0-9a-f]{4,}\*/\s+(?:@!?\w+\s+)?([A-Z][A-Z0-9_.]*)")


def instruction_mix(sass):
    """The instruction counts of an ``nvdisasm`` listing: all of them (``total``), the
    multiply-adds (``fma``: FFMA, DFMA), shared-memory loads by width (``lds``: 32 bits
    or less, ``lds.64``, ``lds.128``) and global loads (``ldg``). Static counts (each
    instruction once, wherever it sits), for comparing two versions of a kernel."""
    ops = [(op.split(".")[0], op) for op in _SASS_INSTRUCTION.findall(sass)]

    def width(op):
        return ".128" if ".128" in op else ".64" if ".64" in op else ""
    mix = {"total": len(ops), "fma": sum(base in ("FFMA", "DFMA") for base, _ in ops)}
    for w in ("", ".64", ".128"):
        mix["lds" + w] = sum(base == "LDS" and width(op) == w for base, op in ops)
    mix["ldg"] = sum(base == "LDG" for base, _ in ops)
    return mix


def _target_device(cc):
    """Compile device functions for ``cc`` without a GPU.

    numba-cuda asks the current device for the compute capability when it compiles a
    device function called from a kernel; without a driver there is none. This points
    that question at ``cc`` (internal API: the check is a developer tool).
    """
    import numba.cuda.dispatcher as dispatcher

    class Target:
        compute_capability = cc

    dispatcher.get_current_device = lambda: Target()


def compile_signatures(signatures, cc=(9, 0), ptx_dir=None, sass_dir=None):
    """Compile each recorded signature for ``cc``; one report row per signature.

    With ``ptx_dir``, each signature's PTX is also written there, as
    ``<kernel>-<n>.ptx`` (for reading the generated loops). With ``sass_dir`` (and
    nvdisasm), its machine code as ``<kernel>-<n>.sass``, and the row gets ``mix``
    (:func:`instruction_mix`).

    Returns
    -------
    list of dict with keys kernel, signature, ok, error, compile_s (Python to PTX: the
    cold part of a first call, before the driver's own PTX to machine code step),
    registers, spill_bytes,
    stack_bytes (local memory: register arrays that were not promoted to registers),
    shared_bytes (static shared memory; the last four None when ptxas is not
    available), mix (the instruction mix; None without ``sass_dir`` or nvdisasm).
    """
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        raise RuntimeError("compile_signatures needs the real CUDA target (no simulator)")
    if importlib.util.find_spec("numba_cuda") is None:  # it drives numba-cuda's compiler
        raise RuntimeError("the compile check needs numba-cuda and NVVM: pip install "
                           "'numbarnn[cuda]'")
    from numba import cuda
    from . import cuda_recurrence as engine
    _target_device(cc)
    ptxas = _ptxas()
    rows = []
    for name, codes in signatures:
        args = tuple(_decode(c) for c in codes)
        row = {"kernel": name, "signature": ", ".join(str(a) for a in args), "ok": False,
               "compile_s": None,
               "error": None, "registers": None, "spill_bytes": None,
               "stack_bytes": None, "shared_bytes": None, "mix": None}
        start = time.perf_counter()
        try:
            kernel = getattr(engine, name)
            ptx, _ = cuda.compile_ptx(kernel.py_func, args, cc=cc, launch_bounds=(
                kernel.targetoptions.get("launch_bounds")))
        except Exception as err:  # report every failure, not just the first
            row["error"] = f"{type(err).__name__}: {err}"
            rows.append(row)
            continue
        row["ok"], row["compile_s"] = True, time.perf_counter() - start
        if ptx_dir:
            os.makedirs(ptx_dir, exist_ok=True)
            with open(os.path.join(ptx_dir, f"{name}-{len(rows)}.ptx"), "w") as f:
                f.write(ptx)
        if ptxas:
            sass = os.path.join(sass_dir, f"{name}-{len(rows)}.sass") if sass_dir else None
            row.update(_ptxas_report(ptxas, ptx, cc, sass))
            row["ok"] = row["error"] is None
        rows.append(row)
    return rows


def _ptxas_report(ptxas, ptx, cc, sass_path=None):
    mix = None
    with tempfile.TemporaryDirectory() as tmp:
        src, obj = os.path.join(tmp, "kernel.ptx"), os.path.join(tmp, "kernel.o")
        with open(src, "w") as f:
            f.write(ptx)
        # -c: the grid barrier calls into cudadevrt, linked only at load time.
        proc = subprocess.run(
            [ptxas, f"-arch=sm_{cc[0]}{cc[1]}", "-c", "-v", src, "-o", obj],
            capture_output=True, text=True)
        nvdisasm = _nvdisasm() if sass_path and proc.returncode == 0 else None
        if nvdisasm:
            sass = subprocess.run([nvdisasm, "-c", obj], capture_output=True,
                                  text=True).stdout
            os.makedirs(os.path.dirname(sass_path) or ".", exist_ok=True)
            with open(sass_path, "w") as f:
                f.write(sass)
            mix = instruction_mix(sass)
    text = proc.stdout + proc.stderr
    if proc.returncode != 0:
        return {"error": "ptxas: " + text.strip()}

    def number(pattern):
        found = re.findall(pattern, text)
        return max(int(v) for v in found) if found else 0

    # Static shared memory, from the PTX: ptxas reports none for relocatable (-c) code.
    shared = sum(int(n) for n in re.findall(r"\.shared \.align \d+ \.b8 \w+\[(\d+)\]",
                                              ptx))
    return {"error": None,
            "registers": number(r"Used (\d+) registers"),
            "spill_bytes": number(r"(\d+) bytes spill stores"),
            "stack_bytes": number(r"(\d+) bytes stack frame"),
            "shared_bytes": shared, "mix": mix}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cc", default="9.0", help="compute capability (default 9.0)")
    parser.add_argument("--ptx", metavar="DIR", help="also write each signature's PTX "
                        "to DIR")
    parser.add_argument("--sass", metavar="DIR", help="also write each signature's "
                        "machine code to DIR and print its instruction mix (needs "
                        "nvdisasm: pip install nvidia-cuda-nvdisasm)")
    parser.add_argument("--record", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.record:  # the child: runs under the simulator
        json.dump(record_signatures(), sys.stdout)
        return 0
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    child = subprocess.run([sys.executable, "-m", "numbarnn.kernels.cuda_check",
                            "--record"], capture_output=True, text=True, env=env)
    if child.returncode != 0:
        print(child.stderr, file=sys.stderr)
        return 1
    cc = tuple(int(v) for v in args.cc.split("."))
    rows = compile_signatures(json.loads(child.stdout), cc, args.ptx, args.sass)
    if args.sass and _nvdisasm() is None:
        print("--sass: no nvdisasm found (pip install nvidia-cuda-nvdisasm)",
              file=sys.stderr)
    bad = 0
    for row in rows:
        if row["ok"] and not row["spill_bytes"] and not row["stack_bytes"]:
            print(f"ok    {row['kernel']:<12} {row['compile_s']:4.1f} s  regs "
                  f"{row['registers']} spill "
                  f"{row['spill_bytes']} B stack {row['stack_bytes']} B smem "
                  f"{row['shared_bytes']} B  ({row['signature']})")
            if row.get("mix"):
                print("      instructions: " + ", ".join(
                    f"{key} {count}" for key, count in row["mix"].items()))
        else:
            bad += 1
            print(f"FAIL  {row['kernel']:<12} {row['error'] or 'local memory'}: "
                  f"spill {row['spill_bytes']} B stack {row['stack_bytes']} B  "
                  f"({row['signature']})")
    print(f"{len(rows)} signatures for sm_{cc[0]}{cc[1]}, {bad} failed")
    return 1 if bad or not rows else 0


if __name__ == "__main__":
    sys.exit(main())
