"""Command line: ``numbarnn demo | info | bench | run`` (also ``python -m numbarnn``)."""
import argparse
import platform
import sys
import time

import numpy as np

__all__ = ["main"]


def _check_demo(parser, args):
    for name in ("batch", "timesteps", "features", "units", "repeats"):
        value = getattr(args, name)
        if value < 1:
            parser.error(f"argument --{name}: expected a positive number, received {value}")
    if args.seed < 0:  # numpy's own error names no argument
        parser.error(f"argument --seed: expected a non-negative integer, received "
                     f"{args.seed}")


def _demo(args):
    import numbarnn as nr
    rng = np.random.default_rng(args.seed)
    x = rng.standard_normal((args.batch, args.timesteps, args.features)).astype(np.float32)
    lengths = rng.integers(args.timesteps // 2, args.timesteps + 1, size=args.batch)
    mask = np.arange(args.timesteps)[None, :] < lengths[:, None]
    # The weights follow --seed too: the same seed gives the same output.
    def glorot(k):
        return nr.initializers.GlorotUniform(seed=5 * args.seed + k)

    def orthogonal(k):
        return nr.initializers.Orthogonal(seed=5 * args.seed + k)

    model = nr.Sequential([
        nr.SimpleRNN(args.units, return_sequences=True, name="encoder",
                     kernel_initializer=glorot(0), recurrent_initializer=orthogonal(1)),
        nr.SimpleRNN(args.units, name="summary", kernel_initializer=glorot(2),
                     recurrent_initializer=orthogonal(3)),
        nr.Dense(3, activation="softmax", name="readout", kernel_initializer=glorot(4)),
    ], name="demo")
    with nr.device(args.device):
        t0 = time.perf_counter()
        model(x[:1], mask=mask[:1])
        first = time.perf_counter() - t0
        runs = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            probs = model(x, mask=mask)
            runs.append(time.perf_counter() - t0)
    best = min(runs)
    steps = args.batch * args.timesteps
    print(f"numbarnn {nr.__version__} demo on device '{args.device}'")
    print(f"model: SimpleRNN({args.units}, return_sequences) -> SimpleRNN({args.units}) -> "
          f"Dense(3, softmax); {model.count_params()} parameters")
    print(f"input: synthetic batch {x.shape} (batch, time, features), float32, "
          f"right-padded to lengths {lengths.min()}..{lengths.max()} with a mask")
    print(f"first call (compile or cache load + run): {first * 1e3:.1f} ms")
    print(f"forward: best of {args.repeats}: {best * 1e3:.2f} ms = "
          f"{steps / best / 1e6:.2f} M sequence-steps/s")
    print(f"output {probs.shape}, class counts {np.bincount(probs.argmax(1), minlength=3)}")
    return 0


def _info(args):
    import numba

    import numbarnn as nr
    from numbarnn.kernels.cuda_support import cuda_status
    print(f"numbarnn {nr.__version__}")
    print(f"python {platform.python_version()} ({platform.machine()})")
    print(f"numpy {np.__version__}, numba {numba.__version__}")
    try:
        @numba.njit(parallel=True)
        def parallel_sum(x):  # a parallel launch starts the threading layer
            total = 0.0
            for i in numba.prange(x.shape[0]):
                total += x[i]
            return total
        parallel_sum(np.ones(4))
        from numba.np.ufunc import parallel
        print(f"numba threading layer: {parallel.threading_layer()}, "
              f"threads {numba.get_num_threads()}")
    except Exception as err:  # threading layer only known after a parallel launch
        print(f"numba threading layer: unknown ({err.__class__.__name__})")
    ok, reason = cuda_status()
    print(f"cuda: {'available' if ok else 'not available'}: {reason}")
    return 0


def main(argv=None):
    from . import __version__
    parser = argparse.ArgumentParser(prog="numbarnn",
                                     description=(__doc__ or "").replace("``", ""))
    parser.add_argument("--version", action="version", version=f"numbarnn {__version__}")
    sub = parser.add_subparsers(dest="command")
    demo = sub.add_parser("demo", help="run a model on synthetic data and report speed")
    for name, default, what in (
            ("batch", 64, "sequences in the synthetic batch"),
            ("timesteps", 200, "timesteps per sequence"),
            ("features", 32, "features per timestep"),
            ("units", 64, "units of each of the two SimpleRNN layers"),
            ("repeats", 5, "timed calls (the best is reported)"),
            ("seed", 0, "seed of the data and the weights")):
        demo.add_argument(f"--{name}", type=int, default=default,
                          help=f"{what} (default: %(default)s)")
    demo.add_argument("--device", default="cpu", choices=["cpu", "python", "cuda"],
                      help="engine to run on (default: %(default)s)")
    sub.add_parser("info", help="versions, threading layer, CUDA availability")
    sub.add_parser("bench", help="side-by-side timings against installed peers",
                   add_help=False)
    from . import batch_run
    batch_run.add_arguments(sub.add_parser(
        "run", help="run a saved model over a .npy/.npz dataset, in chunks",
        description=(batch_run.__doc__ or "").replace("``", ""),
        formatter_class=argparse.RawDescriptionHelpFormatter))
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["bench"]:
        from .bench import main as bench_main
        return bench_main(argv[1:])
    args, extra = parser.parse_known_args(argv)
    if extra:  # one line, like the run command's own errors
        print(f"numbarnn {args.command or ''}: error: unrecognized arguments: "
              f"{' '.join(extra)}".replace("  ", " "), file=sys.stderr)
        return 2
    command = args.command or "demo"
    if args.command is None:
        args = parser.parse_args(["demo"])
    if command == "run":  # reports its own errors: exit 2 for arguments, 1 for the model
        return batch_run.run(args)
    if command == "demo":
        _check_demo(demo, args)
    try:
        return {"demo": _demo, "info": _info}[command](args)
    except Exception as err:  # one-line errors for users
        print(f"numbarnn {command}: error: {err}", file=sys.stderr)
        return 1
