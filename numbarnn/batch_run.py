"""``numbarnn run MODEL INPUT -o OUTPUT``: run a saved model over a dataset file.

The input is read ``--batch-size`` rows at a time from a memory-mapped ``.npy`` (so a
dataset larger than memory streams through; an ``.npz`` is read whole). The output is
written chunk by chunk into a memory-mapped temporary ``.npy`` next to OUTPUT (for an
``.npz`` OUTPUT, then stored in a temporary archive as its array ``output``), which is
renamed onto OUTPUT only once every row is done: an error, Ctrl-C, SIGTERM or SIGHUP
leaves OUTPUT as it was.
"""
import errno
import importlib
import os
import signal
import sys
import tempfile
import time
import zipfile

import numpy as np

from .engine.dtype_policy import numpy_compute_dtype
from .kernels.cuda_support import to_host_array
from .tf_keras_files import tf_keras_file_kind

__all__ = ["add_arguments", "run", "RunError"]

PROG = "numbarnn run"
_EXTENSIONS = (".npy", ".npz")
DEFAULT_BATCH_SIZE = 256
_NUMERIC = "biuf"  # bool, signed, unsigned, float



class RunError(Exception):
    """A problem with the command line or the files it names (exit status 2).

    Parameters
    ----------
    argument : str
        The argument at fault, as the user typed it (``INPUT``, ``--mask``, ...).
    expected : str
        What the argument should have been.
    received : str
        What it was.
    """

    def __init__(self, argument, expected, received):
        self.argument = argument
        super().__init__(f"argument {argument}: expected {expected}, received {received}")


# -- command line ---------------------------------------------------------------------
def add_arguments(parser):
    """Add the ``run`` arguments to ``parser`` (the ``run`` subparser of the CLI)."""
    parser.add_argument("model", metavar="MODEL",
                        help="model file written by numbarnn.save_model (.npz) or by "
                             "tf-keras's model.save (.keras, .h5)")
    parser.add_argument("input", metavar="INPUT",
                        help="input array (samples, time, features), or token ids "
                             "(samples, time) for a model starting with an Embedding: "
                             ".npy (memory-mapped, streamed) or .npz; float (read in its "
                             "dtype, which the model casts to its own) or int/bool (cast "
                             "to the model's compute dtype, as a call casts them)")
    parser.add_argument("-o", "--output", metavar="OUTPUT", required=True,
                        help="where to write the outputs, in the model's output dtype: "
                             ".npy, or .npz (one array, 'output'); written to a temporary "
                             "file and renamed onto OUTPUT only when complete")
    parser.add_argument("--batch-size", type=int, default=None, metavar="N",
                        help="rows per chunk; one chunk is in memory at a time "
                             f"(default: {DEFAULT_BATCH_SIZE}, or a stateful layer's "
                             "batch size)")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda", "python"],
                        help="engine to run on (default: %(default)s)")
    parser.add_argument("--mask", metavar="PATH",
                        help="mask array (samples, time) of bool or 0/1 ints, .npy "
                             "(streamed) or .npz (read whole); False/0 marks a padded "
                             "timestep the recurrent layers skip")
    parser.add_argument("--mask-value", type=float, metavar="V",
                        help="mask every timestep whose features all equal V (like the "
                             "keras Masking layer); not with --mask")
    parser.add_argument("--return-sequences", action="store_true",
                        help="set return_sequences=True on the model's last recurrent "
                             "layer, so OUTPUT is (samples, time, units) instead of "
                             "(samples, units); layers after it then get 3-D input")
    parser.add_argument("--input-key", metavar="K",
                        help="array to read from an .npz INPUT (default: its only array)")
    parser.add_argument("--import", dest="imports", action="append", default=[],
                        metavar="MODULE",
                        help="import MODULE before loading MODEL (repeatable): a module "
                             "that registers the model's custom layers, cells or "
                             "functions with numbarnn.utils.register_serializable")
    parser.add_argument("--no-progress", action="store_true",
                        help="no progress bar (one is drawn on stderr when tqdm is "
                             "installed and stderr is a terminal)")
    parser.error = _one_line_error  # usage errors as one line, like the file errors
    return parser


def _one_line_error(message):
    print(f"{PROG}: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def run(args):
    """Run ``args.model`` over ``args.input``, write ``args.output``; return the exit code.

    Parameters
    ----------
    args : argparse.Namespace
        As parsed by the arguments of :func:`add_arguments`.

    Returns
    -------
    int
        0 on success, 2 for a bad argument or file, 1 when the model itself fails,
        130 when interrupted, 128 + the signal number for SIGTERM or SIGHUP.
    """
    try:
        with _signals_raise():
            _run(args)
    except RunError as err:
        return _fail(err, 2)
    except _ModelError as err:
        return _fail(err, 1)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; {args.output} was not written", file=sys.stderr)
        return 130
    except _Terminated as err:  # SIGTERM (a batch system's time limit), SIGHUP
        print(f"{PROG}: terminated by signal {err.signum}; {args.output} was not "
              "written", file=sys.stderr)
        return 128 + err.signum
    except Exception as err:  # anything else: still one line, no traceback
        return _fail(f"{type(err).__name__}: {err}", 1)
    return 0


def _fail(err, status):
    message = " ".join(str(err).split())  # keep it on one line
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return status


class _ModelError(Exception):
    """The model raised while running a chunk (exit status 1)."""


class _Terminated(BaseException):
    """SIGTERM or SIGHUP arrived: unwind (removing the partial output), then exit."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


class _signals_raise:
    """While running, SIGTERM and SIGHUP raise :class:`_Terminated` (as SIGINT raises
    KeyboardInterrupt), so the temporary output is removed on the way out."""

    _SIGNALS = [getattr(signal, name) for name in ("SIGTERM", "SIGHUP")
                if hasattr(signal, name)]

    def __enter__(self):
        self._previous = {}
        try:
            for signum in self._SIGNALS:
                self._previous[signum] = signal.signal(signum, self._raise)
        except ValueError:  # not the main thread: leave the handlers alone
            pass
        return self

    @staticmethod
    def _raise(signum, frame):
        raise _Terminated(signum)

    def __exit__(self, *exc):
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)


# -- the run --------------------------------------------------------------------------
def _run(args):
    import numbarnn as nr

    _check_options(args)
    x = _open_array(args.input, "INPUT", args.input_key)
    _check_input(x, args.input)
    _check_mask_value(args, x)
    mask = _open_mask(args, x.shape) if args.mask else None
    _check_output(args)
    _import_modules(args.imports)
    model = _load_model(args.model)
    _check_input_rank(model, x, args)
    _check_mask_reaches_model(model, args)
    _check_input_shape(model, x.shape, args.input)
    if args.batch_size is None:
        args.batch_size = _stateful_batch_size(model) or DEFAULT_BATCH_SIZE
    _check_stateful_batch(model, len(x), args.batch_size)
    if args.return_sequences:
        _set_return_sequences(model)
    with _device(nr, args.device):
        start = time.perf_counter()
        shape, chunks = _stream(model, x, mask, args)
    seconds = time.perf_counter() - start
    shape, dtype = shape
    print(f"{PROG}: {len(x)} samples in {chunks} chunks of up to {args.batch_size}, "
          f"{seconds:.2f} s -> {args.output} {shape} {dtype}", file=sys.stderr)


def _check_options(args):
    if args.batch_size is not None and args.batch_size < 1:
        raise RunError("--batch-size", "a positive number of rows", str(args.batch_size))
    if args.mask is not None and args.mask_value is not None:
        raise RunError("--mask-value", "either --mask or --mask-value, not both",
                       f"--mask {args.mask!r} and --mask-value {args.mask_value}")
    if args.input_key is not None and _extension(args.input) != ".npz":
        raise RunError("--input-key", "an .npz INPUT (a .npy file holds one array)",
                       repr(args.input))
    if args.mask_value is not None and not (
            np.isfinite(args.mask_value)
            and abs(args.mask_value) <= float(np.finfo(np.float32).max)):
        # NaN equals nothing (it would mask no step); integer and bool INPUT is read
        # as float32 (float INPUT in its dtype: _check_mask_value)
        raise RunError("--mask-value", "a number that is finite in float32",
                       str(args.mask_value))


def _check_mask_value(args, x):
    """--mask-value is compared in a float INPUT's own dtype: it must be finite there
    (70000 is inf in float16, and would mask nothing or every inf step)."""
    if args.mask_value is None or x.dtype.kind != "f":
        return
    with np.errstate(over="ignore"):
        value = x.dtype.type(args.mask_value)
    if not np.isfinite(value):
        raise RunError("--mask-value", f"a number that is finite in the INPUT's dtype "
                       f"({x.dtype})", str(args.mask_value))


def _extension(path):
    return os.path.splitext(path)[1].lower()


def _open_array(path, argument, key=None):
    """The array stored at ``path``: memory-mapped for .npy, loaded for .npz."""
    ext = _extension(path)
    if ext not in _EXTENSIONS:
        raise RunError(argument, "a .npy or .npz file", f"{path!r} (extension {ext!r})")
    if not os.path.isfile(path):
        raise RunError(argument, "an existing file", f"{path!r} (no such file)")
    try:
        loaded = np.load(path, mmap_mode="r" if ext == ".npy" else None,
                         allow_pickle=False)
        if ext == ".npy" and not isinstance(loaded, np.ndarray):
            loaded.close()
            raise RunError(argument, "a .npy array file", f"{path!r} (an .npz archive)")
        if ext == ".npy":
            return loaded
        if not hasattr(loaded, "files"):
            raise RunError(argument, "an .npz archive", f"{path!r} (a .npy array file)")
        with loaded as archive:
            return archive[_pick_key(archive.files, key, argument, path)]
    except RunError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as err:
        # object arrays cannot be memory-mapped nor unpickled: same answer for both
        raise RunError(argument, f"a readable numeric {ext} array", f"{path!r} ({err})") from err


def _pick_key(keys, key, argument, path):
    if key is not None:
        if key not in keys:
            raise RunError("--input-key", f"one of the arrays in {path!r}: {keys}",
                           repr(key))
        return key
    if len(keys) != 1:
        if argument != "INPUT":  # --input-key only picks the INPUT array
            raise RunError(argument, "an .npz holding one array",
                           f"{path!r} with arrays {keys}")
        raise RunError("INPUT (or --input-key)",
                       f"an .npz with one array, or --input-key naming one of {keys}",
                       f"{path!r} with {len(keys)} arrays")
    return keys[0]


def _check_input(x, path):
    """What any model needs of INPUT; its rank is checked against the model's first
    layer by :func:`_check_input_rank` (2-D token ids for an Embedding)."""
    if x.ndim not in (2, 3):
        raise RunError("INPUT", "a 3-D array (samples, time, features), or 2-D token "
                       "ids (samples, time) for a model starting with an Embedding",
                       f"{path!r} with shape {x.shape}")
    if x.dtype.kind not in _NUMERIC:
        raise RunError("INPUT", "a numeric (float, int or bool) array",
                       f"{path!r} of dtype {x.dtype}")
    if x.shape[1] == 0:
        raise RunError("INPUT", "at least one timestep", f"{path!r} with shape {x.shape}")


def _open_mask(args, x_shape):
    mask = _open_array(args.mask, "--mask")
    if mask.shape != tuple(x_shape[:2]):
        raise RunError("--mask", f"shape {tuple(x_shape[:2])} (samples, time) to match "
                       f"INPUT {tuple(x_shape)}", f"{args.mask!r} with shape {mask.shape}")
    if mask.dtype.kind not in "biu":
        raise RunError("--mask", "a bool or 0/1 integer array",
                       f"{args.mask!r} of dtype {mask.dtype}")
    if mask.dtype.kind != "b":  # checked before any work, a block of rows at a time
        rows = max(1, (1 << 22) // max(1, mask.shape[1]))
        for lo in range(0, len(mask), rows):
            block = np.asarray(mask[lo:lo + rows])
            bad = ~((block == 0) | (block == 1)).all(axis=1)
            if bad.any():
                first = lo + int(np.argmax(bad))
                raise RunError("--mask", "only 0 and 1 values",
                               f"{args.mask!r} with other values in row {first}")
    return mask


def _check_output(args):
    path = args.output
    ext = _extension(path)
    if ext not in _EXTENSIONS:
        raise RunError("-o/--output", "a path ending in .npy or .npz",
                       f"{path!r} (extension {ext!r})")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise RunError("-o/--output", "a path in an existing folder",
                       f"{path!r} (folder {folder!r} does not exist)")
    if os.path.isdir(path):
        raise RunError("-o/--output", "a file path", f"{path!r} (a folder)")
    if os.path.exists(path) and not os.access(path, os.W_OK):
        # the final rename would replace it regardless of its mode
        raise RunError("-o/--output", "a file this user may overwrite",
                       f"{path!r} (write-protected)")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise RunError("-o/--output", "a path in a folder this user can write to",
                       f"{path!r} (folder {folder!r} is not writable)")
    # the final rename would replace a file this run reads
    for argument, other in (("MODEL", args.model), ("INPUT", args.input),
                            ("--mask", args.mask)):
        if (other is not None and os.path.exists(path) and os.path.exists(other)
                and os.path.samefile(path, other)):
            raise RunError("-o/--output", f"a file other than {argument}", repr(path))


def _find_modules_in_working_directory():
    """Let imports find the working directory's modules, as ``python -m numbarnn``
    does (the console script does not): --import's, and the module a custom class's
    config names."""
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.append(os.getcwd())


def _import_modules(names):
    if names:
        _find_modules_in_working_directory()
    for name in names:
        try:
            importlib.import_module(name)
        except Exception as err:  # noqa: BLE001 - reported as the argument's fault
            raise RunError("--import", "an importable Python module",
                           f"{name!r} ({type(err).__name__}: {err})") from err


def _load_model(path):
    import numbarnn as nr
    if os.path.isdir(path):
        raise RunError("MODEL", "a model file (.npz, .keras or .h5)",
                       f"{path!r} (a folder: a TensorFlow SavedModel? numbarnn reads "
                       "the files of model.save('m.keras') or 'm.h5')")
    if not os.path.isfile(path):
        raise RunError("MODEL", "an existing model file (.npz from numbarnn.save_model, "
                       ".keras or .h5 from tf-keras's model.save)", f"{path!r} (no such file)")
    try:
        open(path, "rb").close()
    except OSError as err:
        raise RunError("MODEL", "a readable model file", f"{path!r} ({err.strerror})") from err
    if not zipfile.is_zipfile(path) and tf_keras_file_kind(path) is None:
        # e.g. the INPUT .npy given first by mistake
        raise RunError("MODEL", "a model file written by numbarnn.save_model (.npz) or "
                       "tf-keras's model.save (.keras, .h5)",
                       f"{path!r} (neither an .npz / .keras archive nor an HDF5 file)")
    _find_modules_in_working_directory()
    try:
        model = nr.load_model(path)
    except OSError as err:  # a truncated or damaged HDF5 file (in a .keras too)
        raise RunError("MODEL", "a readable model file", f"{path!r} ({err})") from err
    except (ValueError, TypeError, KeyError) as err:
        text = str(err)
        custom = any(sign in text for sign in ("custom_objects", "cannot be imported",
                                               "Could not deserialize"))
        hint = (" - a class or function numbarnn does not have: a custom one, give the "
                "module that registers it with --import (a tf-keras layer numbarnn does "
                "not implement, such as LSTM, GRU or Lambda, cannot run here)"
                if custom and "functional" not in text else "")
        raise RunError("MODEL", "a model file written by numbarnn.save_model or tf-keras's "
                       "model.save", f"{path!r} ({type(err).__name__}: {err}){hint}") from err
    if getattr(model, "layers", None) == []:
        raise RunError("MODEL", "a model with at least one layer",
                       f"{path!r} (a {type(model).__name__} with none)")
    if not model.built:  # (a tf-keras model saved before its first call)
        raise RunError("MODEL", "a model saved after it was built (with its weights)",
                       f"{path!r} (saved unbuilt: it holds no weights, so its layers "
                       "would run on fresh random ones)")
    if hasattr(model, "state_size") and not hasattr(model, "return_sequences"):
        raise RunError("MODEL", "a layer or model that takes (samples, time, features)",
                       f"{path!r} (a {type(model).__name__}: a cell runs one step; wrap "
                       "it in numbarnn.RNN before saving)")
    return model


def _takes_tokens(model):
    """Whether the model starts with an Embedding (its INPUT: token ids)."""
    from .layers.embedding import Embedding
    return isinstance(_layers_in_order(model)[0], Embedding)


def _check_input_rank(model, x, args):
    """INPUT as the model's first layer takes it: token ids (samples, time) for an
    Embedding, else (samples, time, features)."""
    if _takes_tokens(model):
        if x.ndim != 2:
            raise RunError("INPUT", "2-D token ids (samples, time): the model starts "
                           "with an Embedding", f"{args.input!r} with shape {x.shape}")
        if args.mask_value is not None:
            raise RunError("--mask-value", "no --mask-value for token ids (the "
                           "Embedding's mask_zero masks id 0)", str(args.mask_value))
    elif x.ndim != 3:
        raise RunError("INPUT", "a 3-D array (samples, time, features)",
                       f"{args.input!r} with shape {x.shape}")


def _check_mask_reaches_model(model, args):
    """Refuse --mask / --mask-value where the model's first layer makes its own mask:
    an Embedding or a Masking layer drops a mask it is given (as in tf-keras), so the
    run would silently ignore it."""
    from .layers.embedding import Embedding
    from .layers.masking import Masking
    first = _layers_in_order(model)[0]
    given = ("--mask", args.mask) if args.mask else ("--mask-value", args.mask_value)
    if given[1] is not None and isinstance(first, (Embedding, Masking)):
        raise RunError(given[0], "a model whose first layer takes a mask (its first "
                       f"layer, {type(first).__name__}, makes its own mask from the input "
                       "and drops a given one)", str(given[1]))


def _check_input_shape(model, x_shape, path):
    """Reject, before any output is written, a feature count the model was built for
    another of, and a timestep count other than a declared one (its ``Input``'s or
    first layer's ``input_shape``: the time axis a call built it with is no
    constraint)."""
    from .layers.sequential import declared_input_shape
    built = getattr(model, "_build_input_shape", None)
    if isinstance(built, list) and built and isinstance(built[0], (list, tuple)):
        built = built[0]
    if (len(x_shape) == 3 and built and built[-1] is not None
            and built[-1] != x_shape[-1]):
        raise RunError("INPUT", f"{built[-1]} features per timestep (the model was built "
                       f"for input shape {tuple(built)})",
                       f"{path!r} with shape {tuple(x_shape)}")
    declared = declared_input_shape(model)
    if declared and len(declared) == len(x_shape):
        steps = declared[0 if _time_major(model) else 1]
        if steps is not None and steps != x_shape[1]:
            raise RunError("INPUT", f"{steps} timesteps (the model declares input shape "
                           f"{tuple(declared)})", f"{path!r} with shape {tuple(x_shape)}")


def _layers_in_order(model):
    """The model's layers, nested models' layers in their place."""
    inner = getattr(model, "layers", None)
    if inner is None:
        return [model]
    return [leaf for layer in inner for leaf in _layers_in_order(layer)]


def _stateful_layers(model):
    """The stateful recurrent layers with the batch size each fixes (None where not
    known yet); a Bidirectional's two layers in its place (they hold the states)."""
    for layer in _layers_in_order(model):
        directions = [getattr(layer, name, None) for name in ("forward_layer",
                                                              "backward_layer")]
        for each in [d for d in directions if d is not None] or [layer]:
            if not getattr(each, "stateful", False):
                continue
            spec = each.input_spec[0] if getattr(each, "input_spec", None) else None
            axis = 1 if getattr(each, "time_major", False) else 0
            yield each, (spec.shape[axis] if spec and spec.shape else None)


def _stateful_batch_size(model):
    """The batch size of the model's first stateful layer that fixes one, or None."""
    return next((batch for _, batch in _stateful_layers(model) if batch), None)


def _check_stateful_batch(model, n_samples, batch_size):
    """A stateful layer carries its state from one chunk to the next, row by row (as
    ``predict(batch_size=...)``): every chunk must have the layer's batch size."""
    for layer, batch in _stateful_layers(model):
        if n_samples == 0:
            raise RunError("INPUT", f"at least one sample for stateful layer "
                           f"{layer.name!r} (its batch size is fixed)", "0 samples")
        if batch is None:
            continue
        if batch_size != batch or n_samples % batch:
            raise RunError(
                "--batch-size", f"the batch size of stateful layer {layer.name!r} "
                f"({batch}), with a sample count divisible by it (the state carries from "
                "one chunk to the next)",
                f"--batch-size {batch_size} for {n_samples} samples")


def _set_return_sequences(model):
    """Make the last layer with a ``return_sequences`` attribute return every step."""
    for layer in reversed(_layers_in_order(model)):
        if hasattr(layer, "return_sequences"):
            layer.return_sequences = True
            for direction in ("forward_layer", "backward_layer"):  # a Bidirectional's
                if hasattr(getattr(layer, direction, None), "return_sequences"):
                    getattr(layer, direction).return_sequences = True
            return layer
    raise RunError("--return-sequences", "a model with a recurrent layer",
                   f"{type(model).__name__} {model.name!r} without one")


def _device(nr, name):
    from .kernels.cuda_support import CudaUnavailable
    try:
        return _entered(nr.device(name))
    except CudaUnavailable as err:
        raise RunError("--device", "a device that can run here", f"{name!r}: {err}") from err


class _entered:
    """A context manager entered now, so that asking for CUDA fails before any work."""

    def __init__(self, context):
        self._context = context
        context.__enter__()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self._context.__exit__(*exc)


def _stream(model, x, mask, args):
    """Run every chunk and write it; return ``(output shape, dtype)`` and the chunk
    count. An empty INPUT gives an empty OUTPUT (the model's output for zero rows)."""
    n, size = len(x), args.batch_size
    writer = (_NpyWriter if _extension(args.output) == ".npy" else _NpzWriter)(
        args.output, n)
    bar = _progress(n, enabled=not args.no_progress)
    # float data in its own dtype (the model casts it to its compute dtype: a float64
    # model gets float64); integers and bools in the first layer's compute dtype, as
    # the model itself casts them (float32 in 16777217 would be 16777216); token ids
    # as they are
    first = _layers_in_order(model)[0]
    if x.dtype.kind == "f" or _takes_tokens(model):
        dtype = x.dtype
    else:
        policy = getattr(first, "dtype_policy", None)
        compute = numpy_compute_dtype(policy) if policy is not None else None
        dtype = compute if compute is not None and compute.kind == "f" \
            else np.dtype(np.float32)
    try:
        chunks = 0
        for lo in range(0, max(n, 1), size):
            hi = min(lo + size, n)
            xs = np.array(x[lo:hi], dtype=dtype)  # a private, writable copy
            ms = _chunk_mask(xs, mask, args, lo, hi)
            writer.write(lo, _call(model, xs, ms, lo, hi))
            chunks += 1 if hi > lo else 0
            bar.update(hi - lo)
        shape = writer.commit()
    except BaseException:
        writer.discard()
        raise
    finally:
        bar.close()
    return shape, chunks


def _chunk_mask(xs, mask, args, lo, hi):
    if args.mask_value is not None:
        return np.any(xs != xs.dtype.type(args.mask_value), axis=-1)
    if mask is None:
        return None
    return np.asarray(mask[lo:hi]).astype(bool)  # values checked by _open_mask


def _time_major(model):
    return any(getattr(layer, "time_major", False) for layer in _layers_in_order(model))


def _call(model, xs, ms, lo, hi):
    """The model's output for rows ``lo..hi-1``, (rows, ...). A time-major model gets
    its chunk as (time, rows, features) and its 3-D output back as (rows, time, ...)."""
    time_major = _time_major(model)
    if time_major:
        xs = np.ascontiguousarray(np.swapaxes(xs, 0, 1))
        ms = None if ms is None else np.ascontiguousarray(ms.T)
    try:
        out = model(xs) if ms is None else model(xs, mask=ms)
    except Exception as err:
        raise _ModelError(f"the model failed on rows {lo}..{hi - 1}: "
                          f"{type(err).__name__}: {err}") from err
    if isinstance(out, (list, tuple)):
        raise _ModelError(f"the model returned {len(out)} arrays (return_state?); "
                          "`numbarnn run` writes a single output")
    out = np.asarray(to_host_array(out))
    if time_major and out.ndim >= 3:
        out = np.swapaxes(out, 0, 1)
    if out.ndim == 0 or len(out) != hi - lo:
        raise _ModelError(f"the model returned shape {out.shape} for rows {lo}..{hi - 1}; "
                          f"`numbarnn run` needs one output row per sample ({hi - lo})")
    return out


# -- outputs --------------------------------------------------------------------------
def _temp_path(path, suffix):
    """A fresh file next to ``path`` (same file system, so the final rename is atomic)."""
    folder, name = os.path.split(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.numbarnn-partial-", suffix=suffix,
                               dir=folder)
    os.close(fd)
    from .saving import NEW_FILE_MODE
    os.chmod(tmp, NEW_FILE_MODE)  # mkstemp's 0600 would hide the results from others
    return tmp


def _reserve(tmp, path):
    """Allocate the whole memory-mapped file now: writing a page of a sparse file on a
    full disk kills the process with SIGBUS instead of raising."""
    if not hasattr(os, "posix_fallocate"):
        return
    fd = os.open(tmp, os.O_RDWR)
    try:
        os.posix_fallocate(fd, 0, os.fstat(fd).st_size)
    except OSError as err:
        if err.errno not in (errno.EOPNOTSUPP, errno.EINVAL):  # not supported there
            raise RunError("-o/--output", "room on its file system for the output",
                           f"{path!r} ({err.strerror})") from err
    finally:
        os.close(fd)


def _remove(path):
    if path is not None and os.path.exists(path):
        os.unlink(path)


class _NpyWriter:
    """Rows written into a memory-mapped temporary .npy, renamed onto ``path`` at the end.

    The file is created on the first chunk, whose shape and dtype give the output's.
    """

    def __init__(self, path, n):
        self.path, self.n = path, n
        self.tmp = self.array = None

    def write(self, lo, out):
        if self.array is None:
            self.tmp = _temp_path(self.path, ".npy")
            shape = (self.n,) + out.shape[1:]
            if self.n == 0:  # nothing to map: the header is the file
                np.save(self.tmp, out)
                self.array = out
                return
            self.array = np.lib.format.open_memmap(self.tmp, mode="w+", dtype=out.dtype,
                                                   shape=shape)
            _reserve(self.tmp, self.path)
        self.array[lo:lo + len(out)] = out

    def _finish(self):
        """Flush and unmap the temporary .npy; its shape and dtype."""
        shape, dtype = self.array.shape, self.array.dtype
        if isinstance(self.array, np.memmap):
            self.array.flush()
        self.array = None  # unmap before the rename
        return shape, dtype

    def commit(self):
        done = self._finish()
        os.replace(self.tmp, self.path)
        self.tmp = None
        return done

    def discard(self):
        self.array = None
        _remove(self.tmp)
        self.tmp = None


class _NpzWriter(_NpyWriter):
    """A temporary .npy as :class:`_NpyWriter` writes it, then stored (not compressed,
    as ``np.savez`` stores) as the array ``output`` of a temporary .npz renamed onto
    ``path``: the rows are never all in memory."""

    def commit(self):
        done = self._finish()
        npy, self.tmp = self.tmp, _temp_path(self.path, ".npz")
        try:  # (discard() removes the archive; the .npy goes whatever happens)
            with zipfile.ZipFile(self.tmp, "w", zipfile.ZIP_STORED,
                                 allowZip64=True) as archive:
                archive.write(npy, arcname="output.npy")
            with open(self.tmp, "rb+") as f:
                os.fsync(f.fileno())
        except OSError as err:
            raise RunError("-o/--output", "room on its file system for the output",
                           f"{self.path!r} ({err.strerror or err})") from err
        finally:
            _remove(npy)
        os.replace(self.tmp, self.path)
        self.tmp = None
        return done


# -- progress -------------------------------------------------------------------------
class _NoProgress:
    def update(self, n):
        pass

    def close(self):
        pass


def _progress(total, enabled):
    """A tqdm bar on stderr when wanted and tqdm is installed; otherwise a no-op."""
    if not enabled:
        return _NoProgress()
    if not getattr(sys.stderr, "isatty", lambda: False)():
        return _NoProgress()  # a batch job's log file: no carriage-return updates
    try:
        from tqdm import tqdm
    except ImportError:
        return _NoProgress()
    return tqdm(total=total, unit="sample", file=sys.stderr, desc=PROG, leave=False)
