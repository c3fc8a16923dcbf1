"""GPU side-by-side: ``python -m numbarnn.gpu_bench [--quick] [--output-dir DIR]``.

Times SimpleRNN forward (float32, inference, inputs already on the device) in numbarnn's
CUDA engine and, where installed, cuDNN through PyTorch ``nn.RNN`` with TF32 off (the
same weights; outputs compared). Reports milliseconds (median of CUDA-event timings),
microseconds per timestep (the latency-bound floor is one barrier per step) and
TFLOP/s of ``2*B*T*(I*U + U*U)``. Writes ``gpu_bench.json`` to ``--output-dir``.

``--recurrence auto block grid tiled`` times each choice of recurrence kernel (see
:mod:`numbarnn.kernels.cuda`) where it can run, to measure where each one wins.
"""
import argparse
import json
import os

import numpy as np

__all__ = ["main", "GPU_SHAPES"]

GPU_SHAPES = [(1, 1000, 64, 64), (32, 100, 64, 128), (64, 200, 128, 256),
              (256, 50, 256, 256), (64, 1000, 512, 512), (1024, 100, 1024, 1024)]
QUICK_SHAPES = [(2, 6, 3, 4)]


def _event_ms(fn, repeats):
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
    return float(np.median(times))


def _numbarnn(shape, x, weights, repeats, recurrence="auto"):
    from numba import cuda

    import numbarnn as nr
    from .kernels import cuda as engine
    layer = nr.SimpleRNN(shape[3])
    layer.build(x.shape)
    layer.set_weights(weights)
    x_dev = cuda.to_device(x)
    out = {}

    def run():
        out["h"] = layer(x_dev)
    saved, engine.RECURRENCE = engine.RECURRENCE, recurrence
    try:
        ms = _event_ms(run, repeats)
    finally:
        engine.RECURRENCE = saved
    return ms, out["h"].copy_to_host()


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


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m numbarnn.gpu_bench",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one tiny shape (smoke run)")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--output-dir", default=".")
    parser.add_argument("--recurrence", nargs="+", default=["auto"],
                        choices=["auto", "block", "grid", "tiled"],
                        help="recurrence kernel choices to time (default: auto)")
    args = parser.parse_args(argv)
    from .kernels.cuda_support import require_cuda
    require_cuda()
    rows = []
    for shape in (QUICK_SHAPES if args.quick else GPU_SHAPES):
        batch, steps, features, units = shape
        rng = np.random.default_rng(0)
        x = rng.standard_normal((batch, steps, features)).astype(np.float32)
        weights = [(rng.standard_normal((features, units)) / np.sqrt(features)).astype(
            np.float32), np.linalg.qr(rng.standard_normal((units, units)))[0].astype(
            np.float32), (rng.standard_normal(units) * 0.1).astype(np.float32)]
        flop = 2.0 * batch * steps * (features * units + units * units)
        try:
            peer_ms, theirs = _cudnn(x, weights, args.repeats)
        except ImportError as err:
            peer_ms, theirs, missing = None, None, str(err)
        for recurrence in args.recurrence:
            ms, ours = _numbarnn(shape, x, weights, args.repeats, recurrence)
            ms = ms or float("nan")  # the simulator's events measure nothing
            row = {"shape": list(shape), "recurrence": recurrence, "numbarnn_ms": ms,
                   "us_per_step": ms * 1e3 / steps, "tflops": flop / (ms * 1e-3) / 1e12,
                   "cudnn_fp32_ms": peer_ms}
            if peer_ms:
                row["speedup_vs_cudnn"] = peer_ms / ms
                row["max_abs_diff"] = float(np.abs(theirs - ours).max())
            else:
                row["cudnn_missing"] = missing
            rows.append(row)
            peer = (f"cuDNN {peer_ms:.3f} ms ({row['speedup_vs_cudnn']:.2f}x)" if peer_ms
                    else "cuDNN: not installed")
            print(f"{str(tuple(shape)):>24} {recurrence:>5}  numbarnn {ms:8.3f} ms  "
                  f"{row['us_per_step']:7.2f} us/step  {row['tflops']:6.2f} TFLOP/s  "
                  f"{peer}", flush=True)
    with open(os.path.join(args.output_dir, "gpu_bench.json"), "w") as f:
        json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
