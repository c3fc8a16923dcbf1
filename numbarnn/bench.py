"""Side-by-side forward timings: ``numbarnn bench`` (also ``python -m numbarnn bench``).

Times SimpleRNN forward (float32, inference) with the same weights in numbarnn, a numpy
loop, PyTorch ``nn.RNN`` and tf-keras under ``tf.function`` (the peers that are
installed), checks that every peer's output agrees, and reports the ratio to the best
peer and to the GEMM floor ``2*B*T*(I*U + U*U)`` FLOP at the best float32 GEMM rate
measured in the same run. Each peer runs in its own subprocess, so thread pools of one
library (OpenMP, OpenBLAS) do not slow another down.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

__all__ = ["main", "FULL_SHAPES", "QUICK_SHAPES"]

FULL_SHAPES = [(1, 1000, 64, 64), (32, 100, 64, 128), (64, 200, 128, 256), (256, 50, 256, 256)]
QUICK_SHAPES = [(1, 50, 8, 8), (4, 20, 8, 16)]
PEERS = ["numbarnn", "numpy", "torch", "tf_keras"]
# The deep-learning frameworks the speed targets name (the numpy loop is a baseline).
FRAMEWORKS = ["torch", "tf_keras"]


def _median_ms(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)) * 1e3


def _weights(shape, seed=0):
    batch, steps, features, units = shape
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, steps, features)).astype(np.float32)
    kernel = (rng.standard_normal((features, units)) / np.sqrt(features)).astype(np.float32)
    recurrent = np.linalg.qr(rng.standard_normal((units, units)))[0].astype(np.float32)
    bias = (rng.standard_normal(units) * 0.1).astype(np.float32)
    return x, kernel, recurrent, bias


def _peer_runner(peer, x, k, r, b):
    """Return a zero-argument function computing the last output, or raise ImportError."""
    batch, steps = x.shape[:2]
    if peer == "numbarnn":
        import numbarnn as nr
        layer = nr.SimpleRNN(k.shape[1])
        layer.build(x.shape)
        layer.set_weights([k, r, b])
        return lambda: layer(x)
    if peer == "numpy":
        def run():
            h = np.zeros((batch, k.shape[1]), np.float32)
            for t in range(steps):
                h = np.tanh(x[:, t] @ k + b + h @ r)
            return h
        return run
    if peer == "torch":
        import torch
        torch.set_num_threads(os.cpu_count() or 1)
        rnn = torch.nn.RNN(k.shape[0], k.shape[1], batch_first=True)
        with torch.no_grad():
            rnn.weight_ih_l0.copy_(torch.from_numpy(np.ascontiguousarray(k.T)))
            rnn.weight_hh_l0.copy_(torch.from_numpy(np.ascontiguousarray(r.T)))
            rnn.bias_ih_l0.copy_(torch.from_numpy(b))
            rnn.bias_hh_l0.zero_()
        xt = torch.from_numpy(x)

        def run():
            with torch.no_grad():
                return rnn(xt)[0][:, -1].numpy()
        return run
    if peer == "tf_keras":
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import tensorflow as tf
        import tf_keras as keras
        layer = keras.layers.SimpleRNN(k.shape[1])
        layer(x[:1])
        layer.set_weights([k, r, b])
        fn = tf.function(lambda v: layer(v))
        xt = tf.constant(x)
        return lambda: fn(xt).numpy()
    raise ValueError(f"unknown peer {peer!r}")


# OpenBLAS worker threads spin for a while after they start and after every call (0.1 s
# to 1 s measured here) and take a core from whatever runs then. A peer's first call can
# start them (numba's first compile loads scipy's OpenBLAS; the weights' QR wakes
# numpy's), so every peer is warmed up, then left idle this long, before it is timed.
BLAS_IDLE_S = 1.0


# After the idle wait, each peer runs this long untimed: on a VM, the first few
# milliseconds of work after an idle second run up to 2x slower (measured: the first
# 15 timed calls of (32, 100, 64, 128) took 2.9-3.9 ms, the next 15 2.1 ms).
WARM_S = 0.3


def _keep_running(fn, seconds):
    end = time.perf_counter() + seconds
    fn()
    while time.perf_counter() < end:
        fn()


def _worker(peer, shapes, repeats):
    """Run in a subprocess: time ``peer`` on every shape, print JSON."""
    results = []
    for shape in shapes:
        x, k, r, b = _weights(shape)
        try:
            run = _peer_runner(peer, x, k, r, b)
        except ImportError as err:
            print(json.dumps({"missing": f"{type(err).__name__}: {err}"}))
            return
        out = np.asarray(run())
        time.sleep(BLAS_IDLE_S)
        _keep_running(run, WARM_S)
        ms = _median_ms(run, repeats)
        results.append({"shape": shape, "ms": ms, "checksum": out.astype(np.float64).tolist()})
    print(json.dumps({"results": results}))


def gemm_rate(size=2048, repeats=3):
    """Best float32 GFLOP/s of a numpy ``size``-cubed matmul (the floor's rate)."""
    a = np.random.default_rng(0).random((size, size), dtype=np.float32)
    best = min(_median_ms(lambda: a @ a, 1) for _ in range(repeats))
    return 2 * size ** 3 / (best / 1e3)


def first_call_latency():
    """Seconds for import + first call in a fresh process (on-disk cache as it is)."""
    code = ("import time; t0=time.perf_counter(); import numpy as np, numbarnn as nr; "
            "t1=time.perf_counter(); nr.SimpleRNN(16)(np.zeros((4, 10, 8), 'float32')); "
            "t2=time.perf_counter(); print(t1-t0, t2-t1)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=600)
    if done.returncode != 0:
        return None
    imp, call = (float(v) for v in done.stdout.split())
    return imp, call


def _run_peer(peer, shapes, repeats):
    cmd = [sys.executable, "-m", "numbarnn.bench", "--worker", peer, "--repeats",
           str(repeats), "--shapes-json", json.dumps(shapes)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    lines = [l for l in done.stdout.splitlines() if l.startswith("{")]
    if done.returncode != 0 or not lines:
        return {"missing": (done.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(lines[-1])


def run(shapes, repeats=7, peers=PEERS, gemm_size=2048):
    """Time every peer on every shape; return ``(rows, missing, rate)``."""
    rate = gemm_rate(gemm_size)
    by_peer, missing = {}, {}
    for peer in peers:
        res = _run_peer(peer, shapes, repeats)
        if "missing" in res:
            missing[peer] = res["missing"]
        else:
            by_peer[peer] = {tuple(r["shape"]): r for r in res["results"]}
    rows = []
    for shape in shapes:
        shape = tuple(shape)
        batch, steps, features, units = shape
        ms = {p: by_peer[p][shape]["ms"] for p in by_peer}
        ref = np.asarray(by_peer["numbarnn"][shape]["checksum"]) if "numbarnn" in by_peer \
            else None
        diff = {p: float(np.abs(np.asarray(by_peer[p][shape]["checksum"]) - ref).max())
                for p in by_peer if ref is not None}
        floor = 2 * batch * steps * (features * units + units * units) / rate * 1e3
        rows.append({"shape": shape, "ms": ms, "max_abs_diff": diff, "floor_ms": floor})
    return rows, missing, rate


def _times(ratio):
    """``1.23x``, or ``-`` where there was nothing to compare with."""
    return "-" if np.isnan(ratio) else f"{ratio:.2f}x"


def format_table(rows, missing, rate, latency=None):
    peers = [p for p in PEERS if any(p in r["ms"] for r in rows)]
    head = f"{'(B, T, I, U)':>22} | " + " ".join(f"{p:>10}" for p in peers)
    head += (f" | {'best peer/numbarnn':>18} | {'best framework/numbarnn':>23}"
             f" | {'numbarnn/floor':>14} | max |diff|")
    lines = [f"SimpleRNN forward, float32, ms (median); GEMM floor at {rate / 1e9:.0f} "
             "GFLOP/s measured in this run", head, "-" * len(head)]
    for r in rows:
        ms = r["ms"]
        others = [ms[p] for p in ms if p != "numbarnn"]
        speedup = (min(others) / ms["numbarnn"]) if others and "numbarnn" in ms else float("nan")
        frameworks = [ms[p] for p in FRAMEWORKS if p in ms]
        vs_frameworks = (min(frameworks) / ms["numbarnn"]) if frameworks and "numbarnn" in ms \
            else float("nan")
        ratio = ms.get("numbarnn", float("nan")) / r["floor_ms"]
        diff = max(r["max_abs_diff"].values()) if r["max_abs_diff"] else float("nan")
        cells = " ".join(f"{ms[p]:10.2f}" if p in ms else f"{'-':>10}" for p in peers)
        lines.append(f"{str(r['shape']):>22} | {cells} | {_times(speedup):>18} | "
                     f"{_times(vs_frameworks):>23} | {ratio:14.2f} | {diff:.1e}")
    for peer, why in missing.items():
        lines.append(f"peer {peer}: not measured ({why})")
    if latency:
        lines.append(f"fresh process: import {latency[0]:.2f} s, first call {latency[1]:.2f} s")
    return "\n".join(lines)


def _chart(rows, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib not installed: no chart"
    peers = [p for p in PEERS if any(p in r["ms"] for r in rows)]
    fig, ax = plt.subplots(figsize=(8, 4))
    width = 0.8 / max(1, len(peers))
    for i, peer in enumerate(peers):
        ax.bar([j + i * width for j in range(len(rows))],
               [r["ms"].get(peer, 0) for r in rows], width, label=peer)
    ax.set_xticks([j + 0.4 - width / 2 for j in range(len(rows))])
    ax.set_xticklabels([str(r["shape"]) for r in rows], fontsize=8)
    ax.set_yscale("log")
    ax.set_ylabel("ms (log)")
    ax.set_title("SimpleRNN forward, float32")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return f"chart: {path}"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="numbarnn bench", description=__doc__)
    parser.add_argument("--shapes", choices=["full", "quick"], default="full")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--peers", default=",".join(PEERS))
    parser.add_argument("--output-dir", default=None)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--shapes-json", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        _worker(args.worker, [tuple(s) for s in json.loads(args.shapes_json)], args.repeats)
        return 0
    shapes = FULL_SHAPES if args.shapes == "full" else QUICK_SHAPES
    peers = [p for p in args.peers.split(",") if p]
    unknown = [p for p in peers if p not in PEERS]
    if unknown or not peers:
        parser.error(f"argument --peers: expected a comma-separated list of {PEERS}, "
                     f"received {args.peers!r}")
    if args.repeats < 1:
        parser.error(f"argument --repeats: expected a positive number, received "
                     f"{args.repeats}")
    if args.output_dir:  # before the timings, which would be lost on a bad folder
        try:
            os.makedirs(args.output_dir, exist_ok=True)
            if not os.access(args.output_dir, os.W_OK):
                raise PermissionError("not writable")
        except OSError as err:
            parser.error(f"argument --output-dir: cannot write to {args.output_dir!r} "
                         f"({err.strerror or err})")
    rows, missing, rate = run(shapes, args.repeats, peers,
                              gemm_size=4096 if args.shapes == "full" else 512)
    text = format_table(rows, missing, rate, first_call_latency())
    print(text)
    if args.output_dir:
        with open(os.path.join(args.output_dir, "bench.txt"), "w") as f:
            f.write(text + "\n")
        print(_chart(rows, os.path.join(args.output_dir, "bench.png")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
