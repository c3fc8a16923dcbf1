"""Weights and model files, written atomically (temp file + rename): numbarnn's
``.npz`` archives, or tf-keras's formats (numbarnn.tf_keras_files) by the file name.

A model file holds the JSON config (``__config__``), a format version
(``__numbarnn_format__``) and the weights ``w0, w1, ...`` in ``layer.weights`` order. A
weights file holds only the version and the weights.

As tf-keras's ``keras.saving``, this module also holds the registration and
serialization helpers of :mod:`numbarnn.utils` (``register_keras_serializable``...).
"""
import json
import os
import tempfile
import warnings
import zipfile

import numpy as np

from ._registry import (custom_object_scope, deserialize_keras_object,  # noqa: F401
                        get_custom_objects, get_registered_name, get_registered_object,
                        plain_config, serialize_keras_object)
from .engine import serialization
from .engine.serialization import register_keras_serializable  # noqa: F401
from .engine.base_layer import shape_from_json
from .tf_keras_files import (is_h5py_file, load_open_weights, load_tf_keras_weights,
                             open_tf_keras_model, refuse_unreadable_tf_keras_name,
                             save_tf_keras_model,
                             save_tf_keras_weights, tf_keras_file_kind,
                             tf_keras_format_for)

__all__ = ["save_model", "load_model", "save_weights", "load_weights", "model_from_json",
           "FORMAT_VERSION", "register_keras_serializable", "get_registered_name",
           "get_registered_object", "custom_object_scope", "get_custom_objects",
           "serialize_keras_object", "deserialize_keras_object"]

FORMAT_VERSION = 1


def _file_mode():
    """The mode a new file gets from open() under this process's umask (mkstemp's
    files are 0600)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


NEW_FILE_MODE = _file_mode()  # read once, at import: os.umask is process-wide


def _atomic_write(path, write):
    """Call ``write(file)`` on a new temporary file beside ``path`` (opened ``w+b``:
    h5py reads back what it writes), then rename it to ``path``."""
    path = os.fspath(path)
    if not path or os.path.isdir(path):
        raise ValueError(f"Argument `path` must name a file. Received: path={path!r}")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"Cannot save to {path!r}: folder {folder!r} does not exist.")
    fd, tmp = tempfile.mkstemp(prefix=".numbarnn-", suffix=".tmp", dir=folder)
    try:
        os.chmod(tmp, NEW_FILE_MODE)
        with os.fdopen(fd, "w+b") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _atomic_savez(path, arrays):
    _atomic_write(path, lambda f: np.savez(f, **arrays))


def _load_npz(path):
    """The arrays of an ``.npz`` archive; np.load returns a bare array for ``.npy``."""
    data = np.load(path, allow_pickle=False)
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise ValueError("it holds a single array (.npy), not an .npz archive")
    with data:
        return {k: data[k] for k in data.files}


_TF_ONLY_FORMATS = ("numbarnn reads tf-keras's .keras, .h5 and .weights.h5 files: save "
                    "it in one of those in tf-keras (model.save('m.keras'), "
                    "model.save_weights('w.weights.h5')).")


def _read(path, kind):
    path = os.fspath(path)
    if os.path.isdir(path):  # tf-keras's default for a name without extension
        raise ValueError(f"{path!r} is a folder (a TensorFlow SavedModel?), not a "
                         f"numbarnn {kind} file. {_TF_ONLY_FORMATS}")
    if not os.path.exists(path) and os.path.exists(f"{path}.index"):
        raise ValueError(f"{path!r} names a TensorFlow checkpoint ({path}.index, "
                         f"{path}.data-*), not a numbarnn {kind} file. "
                         f"{_TF_ONLY_FORMATS}")
    if not os.path.exists(path):
        raise FileNotFoundError(f"No numbarnn {kind} file at {path!r}.")
    try:
        arrays = _load_npz(path)
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError) as err:
        raise ValueError(f"{path!r} is not a readable numbarnn {kind} file (truncated, "
                         f"corrupted or another format): {err}") from None
    if "__numbarnn_format__" not in arrays:
        raise ValueError(f"{path!r} is not a numbarnn {kind} file: it has no "
                         "'__numbarnn_format__' entry.")
    version = arrays["__numbarnn_format__"]
    if version.shape != () or version.dtype.kind not in "iu":
        raise ValueError(f"{path!r} is not a readable numbarnn {kind} file (truncated, "
                         f"corrupted or another format): its '__numbarnn_format__' entry "
                         f"is {version!r}, not an integer version.")
    version = int(version)
    if version > FORMAT_VERSION:
        raise ValueError(f"{path!r} was written by a newer numbarnn (file format {version}; "
                         f"this version reads up to {FORMAT_VERSION}). Upgrade numbarnn.")
    return arrays


def _weights_dict(layer):
    return {f"w{i}": w for i, w in enumerate(layer.get_weights())}


def _weights_list(arrays, path, kind):
    """The arrays ``w0, w1, ...`` of a file: numbered without a gap, or the file is
    damaged (an entry lost or added)."""
    keys = [k for k in arrays if k.startswith("w") and k[1:].isdigit()]
    names = [f"w{i}" for i in range(len(keys))]
    if set(keys) != set(names):
        raise ValueError(f"{os.fspath(path)!r} is not a readable numbarnn {kind} file "
                         f"(truncated, corrupted or another format): its weight entries "
                         f"are {sorted(keys, key=lambda k: (len(k), k))}, not w0 to "
                         f"w{len(keys) - 1}.")
    return [arrays[name] for name in names]


def _check_overwrite(path, overwrite):
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{os.fspath(path)!r} exists and `overwrite=False` (tf-keras "
                              "asks on the terminal; numbarnn does not write it).")


def save_weights(layer, path, overwrite=True, save_format=None, options=None):
    """Write ``layer.get_weights()`` to ``path``, atomically: as tf-keras does for a
    name ending in ``.weights.h5`` (its current layout), ``.h5``, ``.hdf5`` or
    ``.keras``, or for ``save_format="h5"`` (its legacy layout), so that tf-keras loads
    them; else as numbarnn's ``.npz``. ``options`` (TensorFlow's) does nothing here.

    Raises
    ------
    FileExistsError
        With ``overwrite=False`` when ``path`` exists.
    ValueError
        For an unbuilt layer in the legacy layout (which names the weights), and for
        ``save_format="tf"`` or another that is not one of tf-keras's spellings of h5
        (see :func:`numbarnn.tf_keras_files.tf_keras_format_for`).
    """
    kind = tf_keras_format_for(path, "weights", save_format)
    _check_overwrite(path, overwrite)
    if kind is not None:
        if kind == "legacy" and not layer.built:
            raise ValueError(f"Weights for model '{layer.name}' have not yet been created. "
                             "Weights are created when the model is first called on "
                             "inputs or `build()` is called with an `input_shape`.")
        _atomic_write(path, lambda f: save_tf_keras_weights(layer, f, kind))
        return
    _atomic_savez(path, {"__numbarnn_format__": np.array(FORMAT_VERSION),
                         **_weights_dict(layer)})


def load_weights(layer, path, skip_mismatch=False, by_name=False, options=None):
    """Set ``layer``'s weights from a file written by :func:`save_weights`, or by
    tf-keras (``.weights.h5``, ``.keras`` or legacy ``.h5``; see
    :meth:`numbarnn.layers.Layer.load_weights`). ``options`` (TensorFlow's) does
    nothing here."""
    kind = tf_keras_file_kind(path)
    if kind is not None:
        load_tf_keras_weights(layer, path, kind, skip_mismatch=skip_mismatch,
                              by_name=by_name)
        return
    refuse_unreadable_tf_keras_name(path)
    for name, value in (("skip_mismatch", skip_mismatch), ("by_name", by_name)):
        if value:
            raise ValueError(f"Argument `{name}=True` applies to tf-keras's .h5 / .keras "
                             f"files only; {os.fspath(path)!r} is not one (numbarnn's "
                             "weights files hold every weight of the layer, in order).")
    layer.set_weights(_weights_list(_read(path, "weights"), path, "weights"))


_TF_ONLY_SAVE_ARGUMENTS = ("include_optimizer", "signatures", "options", "save_traces")


def save_model(model, path, overwrite=True, save_format=None, **kwargs):
    """Write a layer or model (config and weights) to ``path``, atomically: as
    tf-keras's ``model.save`` does for a name ending in ``.keras``, ``.h5`` or
    ``.hdf5`` (or ``save_format="keras"`` / ``"h5"``), so that tf-keras loads it; else
    as numbarnn's ``.npz``.

    Parameters
    ----------
    model : Layer
    path : str or os.PathLike
    overwrite : bool, default True
        False: refuse (``FileExistsError``) to replace an existing file.
    save_format : {None, "keras", "h5"}
        Also tf-keras's other spellings (``"hdf5"``, ``"keras_v3"``, any case); ``"tf"``
        is refused: numbarnn writes no SavedModel.
    **kwargs
        tf-keras's ``include_optimizer``, ``signatures``, ``options``, ``save_traces``:
        taken and unused (numbarnn has no optimizer and writes no SavedModel).

    Raises
    ------
    ValueError
        For a model not built yet, except in a ``.keras`` archive: there, as tf-keras,
        a ``UserWarning`` and the config alone (the model loads unbuilt).
    """
    unknown = sorted(set(kwargs) - set(_TF_ONLY_SAVE_ARGUMENTS))
    if unknown:
        raise TypeError(f"save_model() got unexpected keyword argument(s) {unknown}.")
    h5py_file = is_h5py_file(path)  # an open h5py.File: legacy HDF5, as tf-keras
    kind = "legacy" if h5py_file else tf_keras_format_for(path, "model", save_format)
    if not h5py_file:
        _check_overwrite(path, overwrite)
    if not model.built and kind == "keras":
        # as tf-keras: the config, and no weights yet (it loads unbuilt)
        warnings.warn("You are saving a model that has not yet been built. It might not "
                      "contain any weights yet. Consider building the model first by "
                      "calling it on some data.", UserWarning, stacklevel=2)
    elif not model.built and kind == "legacy":
        raise ValueError(f"Weights for model '{model.name}' have not yet been created. "
                         "Weights are created when the model is first called on inputs "
                         "or `build()` is called with an `input_shape`.")
    elif not model.built:
        raise ValueError(f"Cannot save {model.name}: it is not built. Call it on data or "
                         "`build(input_shape)` first.")
    if model.built and model.weights and model._build_input_shape is None:
        raise ValueError(f"Cannot save {model.name}: the input shape it was built with is "
                         "unknown (its `build` did not call `super().build(input_shape)`). "
                         "Call it on data once, or call `super().build` in `build`.")
    if h5py_file:
        save_tf_keras_model(model, path, kind)
        return
    if kind is not None:
        _atomic_write(path, lambda f: save_tf_keras_model(model, f, kind))
        return
    config = {"class_name": type(model).__name__,
              "config": plain_config(model.get_config()),
              "build_input_shape": _jsonable(model._build_input_shape)}
    blob = np.frombuffer(json.dumps(config).encode("utf-8"), dtype=np.uint8)
    _atomic_savez(path, {"__numbarnn_format__": np.array(FORMAT_VERSION),
                         "__config__": blob, **_weights_dict(model)})


def load_model(path, custom_objects=None, compile=True, safe_mode=True, options=None):
    """Re-create a layer or model saved by :func:`save_model`, with its weights; or a
    model tf-keras saved with ``model.save`` (``.keras`` or ``.h5``).

    Parameters
    ----------
    path : str or os.PathLike
    custom_objects : dict, optional
        Name -> object mapping for the user classes and functions the config names.
    compile : bool, default True
        tf-keras's (whether to restore the training setup): numbarnn has none, so it
        does nothing.
    safe_mode : bool, default True
        Refuse to run Python bytecode stored in the file (a ``lambda``
        ``residual_fn``), as tf-keras does; pass False only for files you trust.
    options : optional
        TensorFlow's load options: nothing to do here.
    """
    kind = tf_keras_file_kind(path)
    if kind is not None:
        with open_tf_keras_model(path, kind) as (config, count, weights):
            model = _revive(config, (config.get("build_config") or {}).get("input_shape"),
                            count, custom_objects, safe_mode)
            load_open_weights(model, weights)
        return model
    refuse_unreadable_tf_keras_name(path)
    arrays = _read(path, "model")
    if "__config__" not in arrays:
        raise ValueError(f"{os.fspath(path)!r} holds weights only, not a model: use "
                         "`layer.load_weights`.")
    try:
        config = json.loads(arrays["__config__"].tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{os.fspath(path)!r} has a corrupted model config: {err}") from None
    weights = _weights_list(arrays, path, "model")
    model = _revive(config, config.get("build_input_shape"), len(weights),
                    custom_objects, safe_mode)
    model.set_weights(weights)
    return model


def _revive(config, shape, weight_count, custom_objects, safe_mode):
    """The model of a saved config, built as it was when saved: from ``shape`` (JSON,
    or None for the shape the config itself declares, if any)."""
    model = serialization.deserialize(config, custom_objects=custom_objects,
                                      safe_mode=safe_mode)
    shape = shape_from_json(shape) if shape is not None else model._build_input_shape
    if shape is not None:
        _build(model, shape, weight_count)
    return model


def model_from_json(json_string, custom_objects=None):
    """A model with new weights from a JSON config string, as written by
    ``Sequential.to_json`` here or in tf-keras (``keras.models.model_from_json``); it is
    built when the config gives its input shape, else on its first call."""
    try:
        config = json.loads(json_string)
    except (TypeError, json.JSONDecodeError) as err:
        raise ValueError(f"Argument `json_string` must be a JSON model config. {err}") \
            from None
    return serialization.deserialize(config, custom_objects=custom_objects)


def _build(model, shape, weight_count):
    """Build ``model`` as it was built when saved: from its build input shape (no call,
    so bare cells build too), then, for a model whose later layers build only on
    their first call, by calling it on zeros."""
    model._build_from_shapes(shape)
    if len(model.weights) < weight_count:
        model._probe_calls(shape, fills=(1,))
    if getattr(model, "stateful", False) or (hasattr(model, "reset_states")
                                             and hasattr(model, "layers")):
        model.reset_states()


def _jsonable(shape):
    if shape is None:
        return None
    if isinstance(shape, list):
        return [_jsonable(s) for s in shape]
    return [None if d is None else int(d) for d in shape]
