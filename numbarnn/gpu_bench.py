"""GPU side-by-side: ``python -m numbarnn.gpu_bench [--quick] [--output-dir DIR]``.

Times SimpleRNN forward (float32, inference, inputs already on the device) in numbarnn's
CUDA engine and, where installed, cuDNN through PyTorch ``nn.RNN`` with TF32 off (the
same weights; outputs compared). Reports milliseconds (median of CUDA-event timings),
microseconds per timestep (the latency-bound floor is one barrier per step) and
TFLOP/s of ``2*B*T*(I*U + U*U)``, and numbarnn's best call beside its median (on
the H100 machines the median of the same code's calls moved up to 3x between runs,
with the host's share of a call). Writes ``gpu_bench.json`` to ``--output-dir``.

``--recurrence auto block grid tiled`` times each choice of recurrence kernel (see
:mod:`numbarnn.kernels.cuda`) where it can run, to measure where each one wins. Each row
also splits one call's time into its kernels (CUDA events around each launch) and the
rest (host work between launches). ``--peers cudnn jax`` picks the peers: cuDNN through
PyTorch, and ``jax.lax.scan`` under ``jit`` (XLA) with matmul precision "highest".

``--launch-cost`` times the host's share of a recurrence launch instead (zero steps,
through the engine's launch path and numba-cuda's) and writes ``gpu_launch_cost.json``.

``--first-call`` times the first call in a fresh process instead (import, CUDA context
and input copy, first and second call), with an empty kernel cache and then with the
cache the first process wrote, and writes ``gpu_first_call.json``.

``--elementwise`` times the device kernels beside the recurrence instead (Bidirectional's
merge of its two directions, Masking's step mask, and the feed-forward layers: Dense
with a tanh and with a softmax, Embedding) against the host round trip each replaced
(copy to the host, numpy, copy back), checks the first two agree bit for bit and the
others to rounding, and writes ``gpu_elementwise.json``.

``--host-profile`` splits a call's time at the small shapes instead: wall time against
the kernels' own (events around each launch), and ``cProfile``'s functions by their
own time per call, the driver calls among them; writes ``gpu_host_profile.json``.

``--sweep`` times the launch parameters instead (threads per block, and shared memory
past the 48 KiB default) for each kernel and shape, and writes ``gpu_sweep.json``: the
measurements behind the constants of :mod:`numbarnn.kernels.cuda`.
"""
import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

__all__ = ["main", "GPU_SHAPES"]

GPU_SHAPES = [(1, 1000, 64, 64), (32, 100, 64, 128), (64, 200, 128, 256),
              (256, 50, 256, 256), (64, 1000, 512, 512), (1024, 100, 1024, 1024)]
QUICK_SHAPES = [(2, 6, 3, 4)]


def _event_times(fn, repeats):
    """CUDA-event milliseconds of ``repeats`` calls of ``fn`` after a warm one."""
    from numba import cuda
    fn()
    cuda.synchronize()
    times = []
    for _ in range(repeats):
        start, stop = cuda.event(), cuda.event()
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop))
    return times


def _layer(shape, x, weights):
    """A built SimpleRNN with ``weights`` and ``x`` on the device."""
    from numba import cuda

    import numbarnn as nr
    layer = nr.SimpleRNN(shape[3])
    layer.build(x.shape)
    layer.set_weights(weights)
    return layer, cuda.to_device(x)


def _numbarnn(shape, x, weights, repeats, recurrence="auto"):
    from .kernels import cuda as engine
    layer, x_dev = _layer(shape, x, weights)
    out = {}

    def run():
        out["h"] = layer(x_dev)
    saved, engine.RECURRENCE = engine.RECURRENCE, recurrence
    try:
        times = _event_times(run, repeats)
    finally:
        engine.RECURRENCE = saved
    return float(np.median(times)), float(np.min(times)), out["h"].copy_to_host()


@contextlib.contextmanager
def _launches_through(wrap):
    """In the body every engine launch goes through ``wrap(launch, kernel, grid,
    block, shared_bytes, *args)``, ``launch`` being the engine's own."""
    from .kernels import cuda as engine
    real = engine._launch
    engine._launch = lambda *launch_args: wrap(real, *launch_args)
    try:
        yield
    finally:
        engine._launch = real


def _kernel_split(layer, x_dev):
    """``{kernel name: GPU ms}`` of one call, from CUDA events around each launch."""
    from numba import cuda
    spans = []

    def timed(launch, kernel, *launch_args):
        start, stop = cuda.event(), cuda.event()
        start.record()
        launch(kernel, *launch_args)
        stop.record()
        spans.append((kernel.py_func.__name__, start, stop))
    with _launches_through(timed):
        layer(x_dev)
    cuda.synchronize()
    split = {}
    for name, start, stop in spans:
        split[name] = split.get(name, 0.0) + start.elapsed_time(stop)
    return split


def _jax(x, weights, repeats):
    """``jax.lax.scan`` SimpleRNN under ``jit``, matmuls at "highest" precision (fp32)."""
    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    import jax
    import jax.numpy as jnp
    if jax.default_backend() != "gpu":
        raise ImportError("JAX has no GPU backend")

    @jax.jit
    def forward(x, k, r, b):
        z = jnp.einsum("bti,iu->tbu", x, k, precision="highest") + b

        def step(h, z_t):
            return jnp.tanh(z_t + jnp.dot(h, r, precision="highest")), None
        h, _ = jax.lax.scan(step, jnp.zeros((x.shape[0], r.shape[0]), x.dtype), z)
        return h
    args = [jax.device_put(a) for a in (x, *weights)]
    forward(*args).block_until_ready()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        h = forward(*args)
        h.block_until_ready()
        times.append((time.perf_counter() - start) * 1e3)
    return float(np.median(times)), np.asarray(h)


def _cudnn(x, weights, repeats):
    import torch
    if not torch.cuda.is_available():
        raise ImportError("PyTorch has no CUDA device")
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    k, r, b = weights
    rnn = torch.nn.RNN(k.shape[0], k.shape[1], batch_first=True).cuda()
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.from_numpy(np.ascontiguousarray(k.T)))
        rnn.weight_hh_l0.copy_(torch.from_numpy(np.ascontiguousarray(r.T)))
        rnn.bias_ih_l0.copy_(torch.from_numpy(b))
        rnn.bias_hh_l0.zero_()
    xt = torch.from_numpy(x).cuda()
    out = {}

    def run():
        with torch.no_grad():
            out["h"] = rnn(xt)[0][:, -1]
    run()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        start = torch.cuda.Event(enable_timing=True)
        stop = torch.cuda.Event(enable_timing=True)
        start.record()
        run()
        stop.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(stop))
    return float(np.median(times)), out["h"].cpu().numpy()


PEERS = {"cudnn": _cudnn, "jax": _jax}


def _problem(shape):
    batch, steps, features, units = shape
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, steps, features)).astype(np.float32)
    weights = [(rng.standard_normal((features, units)) / np.sqrt(features)).astype(
        np.float32), np.linalg.qr(rng.standard_normal((units, units)))[0].astype(
        np.float32), (rng.standard_normal(units) * 0.1).astype(np.float32)]
    return x, weights


def _peer_times(names, x, weights, repeats):
    """``{peer: (ms, last state)}``, or ``{peer: (None, why it is missing)}``."""
    done = {}
    for name in names:
        try:
            done[name] = PEERS[name](x, weights, repeats)
        except Exception as err:  # a missing or broken peer leaves a note, not a crash
            done[name] = (None, f"{type(err).__name__}: {err}")
    return done


# --sweep: threads per block of recur_block / recur_grid, up to their launch bounds.
SWEEP_THREADS = {"block": (128, 256, 512), "grid": (64, 128, 256)}


def _sweep(shapes, repeats, output_dir):
    from numba import cuda

    from .kernels import cuda as engine
    # The simulator's device has no opt-in limit: 48 KiB only there.
    optin = getattr(cuda.get_current_device(), "MAX_SHARED_MEMORY_PER_BLOCK_OPTIN",
                    engine.DEFAULT_SHARED_BYTES)
    saved = (engine.BLOCK_THREADS, engine.GRID_THREADS, engine.SHARED_BYTES,
             engine.GRID_SHARED_BYTES)
    rows = []
    try:
        for shape in shapes:
            x, weights = _problem(shape)
            level = type("Level", (), {"units": shape[3], "activation": "tanh"})
            reference = None
            configs = [(kind, threads, shared) for kind in ("block", "grid")
                       for threads in SWEEP_THREADS[kind]
                       for shared in sorted({engine.DEFAULT_SHARED_BYTES, optin})]
            configs.append(("tiled", 256, engine.DEFAULT_SHARED_BYTES))
            for kind, threads, shared in configs:
                engine.BLOCK_THREADS = engine.GRID_THREADS = threads
                engine.SHARED_BYTES = engine.GRID_SHARED_BYTES = shared
                saved_kind, engine.RECURRENCE = engine.RECURRENCE, kind
                try:
                    plan = engine._recurrence_plans([level], shape[0], 4)[0]
                finally:
                    engine.RECURRENCE = saved_kind
                row = {"shape": list(shape), "recurrence": kind, "threads": threads,
                       "shared_bytes": shared, "plan": repr(plan)}
                try:
                    ms, _, h = _numbarnn(shape, x, weights, repeats, kind)
                    if reference is None:
                        reference = h
                    row.update(ms=ms, us_per_step=ms * 1e3 / shape[1],
                               max_abs_diff=float(np.abs(h - reference).max()))
                except Exception as err:
                    row["error"] = f"{type(err).__name__}: {err}"[:300]
                rows.append(row)
                print(f"{str(tuple(shape)):>24} {kind:>5} {threads:5d} thr "
                      f"{shared // 1024:4d} KiB  " + (
                          f"{row['ms']:8.3f} ms  diff {row['max_abs_diff']:.1e}  "
                          f"{row['plan']}" if "ms" in row else row["error"]), flush=True)
    finally:
        (engine.BLOCK_THREADS, engine.GRID_THREADS, engine.SHARED_BYTES,
         engine.GRID_SHARED_BYTES) = saved
    with open(os.path.join(output_dir, "gpu_sweep.json"), "w") as f:
        json.dump(rows, f, indent=1)


# --launch-cost: shapes whose recurrence runs on recur_block (steps: its second argument).
LAUNCH_COST_SHAPES = [(1, 1000, 64, 64), (32, 100, 64, 128)]


def _launch_cost(shapes, launches, output_dir):
    """Host microseconds per recur_block launch of zero steps (the GPU then finishes
    each launch before the host has the next ready), through the engine's launch path
    and through numba-cuda's (FAST_LAUNCH off), alternated twice."""
    from numba import cuda

    from .kernels import cuda as engine
    rows = []
    saved = engine.FAST_LAUNCH
    try:
        for shape in shapes:
            x, weights = _problem(shape)
            layer, x_dev = _layer(shape, x, weights)
            layer(x_dev)
            seen = []

            def recording(launch, kernel, *rest, seen=seen):
                seen.append((kernel, rest))
                launch(kernel, *rest)
            with _launches_through(recording):
                layer(x_dev)
            for kernel, (grid, block, shared, *args) in seen:
                name = kernel.py_func.__name__
                if not name.startswith("recur_block"):
                    continue
                args[1] = 0  # no steps
                for fast in (True, False, True, False):
                    engine.FAST_LAUNCH = fast
                    cuda.synchronize()
                    start = time.perf_counter()
                    for _ in range(launches):
                        engine._launch(kernel, grid, block, shared, *args)
                    cuda.synchronize()
                    us = (time.perf_counter() - start) / launches * 1e6
                    rows.append({"shape": list(shape), "kernel": name,
                                 "arguments": len(args), "fast_launch": fast,
                                 "us_per_launch": us})
                    print(f"{str(tuple(shape)):>24} {name:>20} {len(args)} args  "
                          f"{'engine' if fast else 'numba-cuda'} path "
                          f"{us:8.1f} us per launch", flush=True)
    finally:
        engine.FAST_LAUNCH = saved
    with open(os.path.join(output_dir, "gpu_launch_cost.json"), "w") as f:
        json.dump(rows, f, indent=1)


# --elementwise: (batch, steps, units) of the sequences merged and masked.
ELEMENTWISE_SHAPES = [(1, 1000, 64), (64, 200, 256), (64, 1000, 512), (1024, 100, 1024)]


def _wall_ms(fn, repeats):
    """Median and best wall-clock milliseconds of ``repeats`` synchronised calls of
    ``fn`` after a warm one (the host round trips are mostly host time, which CUDA
    events on the stream would not see whole)."""
    from numba import cuda
    fn()
    cuda.synchronize()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        cuda.synchronize()
        times.append((time.perf_counter() - start) * 1e3)
    return float(np.median(times)), float(np.min(times))


def _host_merge(y, y_rev, mode):
    """The host round trip :func:`~numbarnn.kernels.cuda.merge_directions` replaced."""
    from numba import cuda
    a, b = y.copy_to_host(), y_rev.copy_to_host()[:, ::-1]
    return cuda.to_device(np.concatenate([a, b], -1) if mode == "concat" else a + b)


def _host_mask(x, value):
    """The host round trip :func:`~numbarnn.kernels.cuda.mask_steps` replaced."""
    from numba import cuda
    a = x.copy_to_host()
    keep = np.any(a != value, axis=-1)
    return cuda.to_device(a * keep[..., None]), keep


def _host_layer(layer, x):
    """A layer's host round trip for a device input: what its device path replaced."""
    from numba import cuda
    return cuda.to_device(np.asarray(layer(x.copy_to_host())))


def _elementwise_cases(y, y_rev, x, value, tokens):
    """``(name, device call, host round trip, bit-identical expected)`` of each
    device path beside the recurrence."""
    from . import Dense, Embedding
    from .kernels import cuda as engine
    cases = [(f"merge {mode}",
              lambda mode=mode: engine.merge_directions(y, y_rev, mode, 1),
              lambda mode=mode: _host_merge(y, y_rev, mode), True)
             for mode in ("concat", "sum")]
    cases.append(("mask", lambda: engine.mask_steps(x, value),
                  lambda: _host_mask(x, value[0]), True))
    units = tuple(y.shape)[-1]
    for name, layer, given in (
            ("dense tanh", Dense(units, activation="tanh"), y),
            ("dense softmax", Dense(units, activation="softmax"), y),
            ("embedding", Embedding(1000, units), tokens)):
        cases.append((name, lambda layer=layer, given=given: layer(given),
                      lambda layer=layer, given=given: _host_layer(layer, given), False))
    return cases


def _elementwise(shapes, repeats, output_dir):
    """The merge (concat, sum), masking and feed-forward device paths against the host
    round trips they replaced, on float32 device arrays; each pair's results compared
    (bit for bit where the arithmetic is the same)."""
    from numba import cuda

    from .kernels.cuda_support import to_host_array

    rng = np.random.default_rng(0)
    rows = []
    for shape in shapes:
        y, y_rev = (cuda.to_device(rng.standard_normal(shape).astype(np.float32))
                    for _ in range(2))
        padded = rng.standard_normal(shape).astype(np.float32)
        padded[:, ::3] = 0.0  # every third step masked
        x = cuda.to_device(padded)
        tokens = cuda.to_device(rng.integers(0, 1000, shape[:2]))
        for name, device, host, exact in _elementwise_cases(
                y, y_rev, x, np.zeros(1, np.float32), tokens):
            # (a host GEMM of the largest shapes takes seconds: fewer of them)
            on_device = _wall_ms(device, repeats)
            round_trip = _wall_ms(host, repeats if exact else max(1, repeats // 5))
            ours, theirs = device(), host()
            pairs = zip(ours, theirs) if isinstance(ours, tuple) else [(ours, theirs)]
            pairs = [(np.asarray(to_host_array(a)), np.asarray(to_host_array(b)))
                     for a, b in pairs]
            same = all(np.array_equal(a, b) for a, b in pairs)
            diff = max(float(np.max(np.abs(a.astype(np.float64) - b), initial=0.0))
                       for a, b in pairs)
            rows.append({"shape": list(shape), "case": name, "device_ms": on_device[0],
                         "device_best_ms": on_device[1], "host_round_trip_ms": round_trip[0],
                         "host_round_trip_best_ms": round_trip[1], "identical": same,
                         "bit_identical_expected": exact, "max_abs_diff": diff})
            print(f"{str(tuple(shape)):>20} {name:>13}  device {on_device[0]:8.3f} ms "
                  f"(best {on_device[1]:.3f})  host round trip {round_trip[0]:8.3f} ms "
                  f"(best {round_trip[1]:.3f})  identical {same}  max diff {diff:.2e}",
                  flush=True)
    with open(os.path.join(output_dir, "gpu_elementwise.json"), "w") as f:
        json.dump(rows, f, indent=1)


# --host-profile: shapes where a call is mostly host work (the target shapes' smallest).
HOST_PROFILE_SHAPES = [(1, 1000, 64, 64), (32, 100, 64, 128)]


def _host_profile(shapes, repeats, output_dir, top=25):
    """Per shape: a synchronised call's wall-clock ms (median of ``repeats`` after a
    warm one) against its kernels' ms (events around each launch), and ``cProfile``'s
    ``top`` functions by their own time over ``repeats`` calls, per call."""
    import cProfile
    import pstats

    rows = []
    for shape in shapes:
        x, weights = _problem(shape)
        layer, x_dev = _layer(shape, x, weights)
        wall = _wall_ms(lambda layer=layer, x_dev=x_dev: layer(x_dev), repeats)
        kernels = _kernel_split(layer, x_dev)
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(repeats):
            layer(x_dev)
        profile.disable()
        stats = pstats.Stats(profile).stats
        functions = sorted(stats.items(), key=lambda item: -item[1][2])[:top]
        listed = [{"function": f"{os.path.basename(path)}:{line}({name})",
                   "calls_per_call": primitive / repeats,
                   "own_us_per_call": own * 1e6 / repeats}
                  for (path, line, name), (primitive, _, own, _, _) in functions]
        row = {"shape": list(shape), "wall_ms": wall[0], "wall_best_ms": wall[1],
               "kernel_ms": kernels, "host_ms": wall[0] - sum(kernels.values()),
               "functions": listed}
        rows.append(row)
        print(f"{str(tuple(shape)):>24}  call {wall[0]:.3f} ms (best {wall[1]:.3f})  "
              f"kernels {sum(kernels.values()):.3f} ms  the rest {row['host_ms']:.3f} ms",
              flush=True)
        for entry in listed:
            print(f"{entry['own_us_per_call']:10.1f} us  {entry['calls_per_call']:6.1f} x  "
                  f"{entry['function']}", flush=True)
    with open(os.path.join(output_dir, "gpu_host_profile.json"), "w") as f:
        json.dump(rows, f, indent=1)


# --first-call: shapes whose recurrence runs on different kernels (recur_block_lean and
# recur_block_l2_lean; recur_grid until 2026-11-27), so each process compiles (or
# loads) another pair of kernels.
FIRST_CALL_SHAPES = [(1, 1000, 64, 64), (64, 200, 128, 256)]
# A fresh process's first call, timed from before its first import: seconds to import
# numbarnn (and numba-cuda), to create the CUDA context and copy the input, and of the
# first and second calls (each synchronises before it returns).
_FIRST_CALL_CHILD = """
import json, time
t0 = time.perf_counter()
import numpy as np
import numbarnn as nr
from numba import cuda
t1 = time.perf_counter()
batch, steps, features, units = {shape}
x = np.random.default_rng(0).standard_normal((batch, steps, features)).astype("float32")
x_dev = cuda.to_device(x)
cuda.synchronize()
t2 = time.perf_counter()
layer = nr.SimpleRNN(units)
layer(x_dev)
t3 = time.perf_counter()
layer(x_dev)
t4 = time.perf_counter()
print(json.dumps(dict(import_s=t1 - t0, context_s=t2 - t1, first_call_s=t3 - t2,
                      second_call_s=t4 - t3)))
"""


def _first_call(shapes, output_dir, timeout=300):
    """Per shape, two fresh processes sharing a new, empty NUMBA_CACHE_DIR: the first
    compiles the kernels it launches and caches them ("cold"), the second loads them
    ("warm")."""
    rows = []
    for shape in shapes:
        with tempfile.TemporaryDirectory(prefix="numbarnn-cache-") as cache:
            env = dict(os.environ, NUMBA_CACHE_DIR=cache)
            for state in ("cold", "warm"):
                proc = subprocess.run(
                    [sys.executable, "-c", _FIRST_CALL_CHILD.format(shape=tuple(shape))],
                    env=env, capture_output=True, text=True, timeout=timeout)
                if proc.returncode != 0:
                    raise RuntimeError(f"the first-call process for {tuple(shape)} "
                                       f"failed:\n{proc.stderr[-3000:]}")
                times = json.loads(proc.stdout.strip().splitlines()[-1])
                rows.append({"shape": list(shape), "cache": state, **times})
                print(f"{str(tuple(shape)):>24} {state} cache  import "
                      f"{times['import_s']:6.2f} s  context and input "
                      f"{times['context_s']:6.2f} s  first call "
                      f"{times['first_call_s']:6.2f} s  second "
                      f"{times['second_call_s'] * 1e3:8.2f} ms", flush=True)
    with open(os.path.join(output_dir, "gpu_first_call.json"), "w") as f:
        json.dump(rows, f, indent=1)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m numbarnn.gpu_bench",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one tiny shape (smoke run)")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--output-dir", default=".")
    parser.add_argument("--recurrence", nargs="+", default=["auto"],
                        choices=["auto", "block", "grid", "tiled"],
                        help="recurrence kernel choices to time (default: auto)")
    parser.add_argument("--peers", nargs="*", default=["cudnn"], choices=sorted(PEERS),
                        help="peers timed beside numbarnn (default: cudnn)")
    parser.add_argument("--sweep", action="store_true",
                        help="time the launch parameters instead (gpu_sweep.json)")
    parser.add_argument("--launch-cost", action="store_true",
                        help="host time per recur_block launch instead, engine path "
                             "and numba-cuda's (gpu_launch_cost.json; --repeats "
                             "launches each, 100 times over)")
    parser.add_argument("--first-call", action="store_true",
                        help="time a fresh process's import and first calls instead, "
                             "with a cold and a warm kernel cache (gpu_first_call.json)")
    parser.add_argument("--elementwise", action="store_true",
                        help="time the merge, masking, Dense and Embedding device paths "
                             "against the host round trips they replaced instead "
                             "(gpu_elementwise.json)")
    parser.add_argument("--host-profile", action="store_true",
                        help="split a call's time at the small shapes into kernels and "
                             "host work, with cProfile's top functions, instead "
                             "(gpu_host_profile.json)")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1. Received: {args.repeats}")
    from .kernels.cuda_support import require_cuda
    require_cuda()
    shapes = QUICK_SHAPES if args.quick else GPU_SHAPES
    if args.sweep:
        _sweep(shapes, args.repeats, args.output_dir)
        return 0
    if args.first_call:
        _first_call(shapes if args.quick else FIRST_CALL_SHAPES, args.output_dir)
        return 0
    if args.elementwise:
        _elementwise([(2, 5, 3)] if args.quick else ELEMENTWISE_SHAPES, args.repeats,
                     args.output_dir)
        return 0
    if args.host_profile:
        _host_profile(shapes if args.quick else HOST_PROFILE_SHAPES, args.repeats,
                      args.output_dir)
        return 0
    if args.launch_cost:
        _launch_cost(shapes if args.quick else LAUNCH_COST_SHAPES, 100 * args.repeats,
                     args.output_dir)
        return 0
    rows = []
    for shape in shapes:
        batch, steps, features, units = shape
        x, weights = _problem(shape)
        flop = 2.0 * batch * steps * (features * units + units * units)
        peers = _peer_times(args.peers, x, weights, args.repeats)
        for recurrence in args.recurrence:
            ms, best, ours = _numbarnn(shape, x, weights, args.repeats, recurrence)
            ms = ms or float("nan")  # the simulator's events measure nothing
            best = best or float("nan")
            row = {"shape": list(shape), "recurrence": recurrence, "numbarnn_ms": ms,
                   "numbarnn_best_ms": best,
                   "us_per_step": ms * 1e3 / steps, "tflops": flop / (ms * 1e-3) / 1e12}
            notes = []
            for name, (peer_ms, theirs) in peers.items():
                row[f"{name}_ms"] = peer_ms
                if peer_ms is None:
                    row[f"{name}_missing"] = theirs
                    notes.append(f"{name}: {theirs[:60]}")
                    continue
                row[f"speedup_vs_{name}"] = peer_ms / ms
                row[f"max_abs_diff_{name}"] = float(np.abs(theirs - ours).max())
                notes.append(f"{name} {peer_ms:.3f} ms ({peer_ms / ms:.2f}x)")
            row["kernel_ms"] = _kernel_split_with(shape, x, weights, recurrence)
            rows.append(row)
            split = " ".join(f"{k} {v:.3f}" for k, v in row["kernel_ms"].items())
            print(f"{str(tuple(shape)):>24} {recurrence:>5}  numbarnn {ms:8.3f} ms "
                  f"(best {best:.3f})  "
                  f"{row['us_per_step']:7.2f} us/step  {row['tflops']:6.2f} TFLOP/s  "
                  f"{'  '.join(notes)}  [{split}]", flush=True)
    with open(os.path.join(args.output_dir, "gpu_bench.json"), "w") as f:
        json.dump(rows, f, indent=1)
    return 0


def _kernel_split_with(shape, x, weights, recurrence):
    """:func:`_kernel_split` of a layer like :func:`_numbarnn`'s, warm."""
    from .kernels import cuda as engine
    layer, x_dev = _layer(shape, x, weights)
    saved, engine.RECURRENCE = engine.RECURRENCE, recurrence
    try:
        layer(x_dev)
        return _kernel_split(layer, x_dev)
    finally:
        engine.RECURRENCE = saved


if __name__ == "__main__":
    raise SystemExit(main())
