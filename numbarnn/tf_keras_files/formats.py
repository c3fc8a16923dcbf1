"""Which tf-keras file a path holds (by its contents) or gets (by its name and
``save_format``), and opening its weights with h5py."""
import contextlib
import io
import os
import sys
import zipfile

__all__ = ["tf_keras_file_kind", "refuse_unreadable_tf_keras_name", "tf_keras_format_for",
           "h5py_module", "text", "open_weights", "legacy_group", "is_h5py_file"]

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_KERAS_ARCHIVE_MEMBERS = ("config.json", "model.weights.h5")


def is_h5py_file(path):
    """Whether ``path`` is an open ``h5py.File``, which tf-keras's ``load_model`` and
    ``model.save`` take for a legacy HDF5 model."""
    h5py = sys.modules.get("h5py")  # imported by whoever opened it
    return h5py is not None and isinstance(path, h5py.File)


def tf_keras_file_kind(path):
    """``"keras"`` for a tf-keras ``.keras`` archive (a zip with its ``config.json`` or
    ``model.weights.h5``), ``"h5"`` for an HDF5 file or an open ``h5py.File``, else
    None (numbarnn's own ``.npz`` files among them)."""
    if is_h5py_file(path):
        return "h5"
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except (OSError, TypeError, ValueError):
        return None
    if head == _HDF5_SIGNATURE:
        return "h5"
    if head[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, OSError):
            return None
        if names & set(_KERAS_ARCHIVE_MEMBERS):
            return "keras"
    return None


def refuse_unreadable_tf_keras_name(path):
    """Refuse a file named as tf-keras names its files that is neither a zip archive
    nor an HDF5 file: truncated or damaged, not one of numbarnn's.

    Raises
    ------
    OSError
        For such a file (tf-keras's error class); nothing for any other path.
    """
    name = os.fspath(path)
    if (isinstance(name, str) and name.endswith((".keras", ".h5", ".hdf5"))
            and os.path.isfile(name) and not zipfile.is_zipfile(name)):
        raise OSError(f"{name!r} is not a readable tf-keras file (truncated or damaged): "
                      "it is neither a .keras zip archive nor an HDF5 file.")


def tf_keras_format_for(path, what, save_format=None):
    """The tf-keras format tf-keras's ``save_weights`` (``what="weights"``) or
    ``model.save`` (``what="model"``) writes for this name and ``save_format``: for
    weights ``"current"`` (``.weights.h5``, whatever ``save_format``) or ``"legacy"``
    (``.h5``, ``.hdf5``, ``.keras``, or ``save_format`` ``"h5"`` / ``"hdf5"`` /
    ``"keras"``); for a model ``"keras"`` (``.keras``, or ``save_format`` ``"keras"`` /
    ``"keras_v3"``) or ``"legacy"`` (``.h5``, ``.hdf5``, or ``"h5"`` / ``"hdf5"``).
    ``save_format`` is read as tf-keras reads it (case and spaces ignored). None where
    tf-keras would write TensorFlow's own format (a SavedModel or checkpoint), for
    which numbarnn writes its ``.npz``.

    Raises
    ------
    ValueError
        For ``save_format="tf"`` / ``"tensorflow"`` (numbarnn writes no TensorFlow
        format), another unknown ``save_format``, or a model ``save_format="keras"``
        without a ``.keras`` name.
    """
    name = os.fspath(path)
    if isinstance(name, bytes):
        name = name.decode()
    if what == "weights" and name.endswith(".weights.h5"):
        return "current"
    fmt = None if save_format is None else str(save_format).lower().strip()
    fmt = {"hdf5": "h5", "keras_v3": "keras"}.get(fmt, fmt)
    if what == "weights" and fmt == "keras":  # tf-keras writes those weights as h5
        fmt = "h5"
    if fmt not in (None, "h5", "keras"):
        known = "'h5'" if what == "weights" else "'keras' or 'h5'"
        raise ValueError(f"Unknown `save_format` argument. Expected one of {known} "
                         "(numbarnn writes no TensorFlow SavedModel or checkpoint: leave "
                         f"it None for numbarnn's .npz). Received: save_format="
                         f"{save_format!r}")
    if what == "model" and (fmt == "keras" or (fmt is None and name.endswith(".keras"))):
        if not name.endswith(".keras"):
            raise ValueError("Invalid `filepath` argument: expected a `.keras` extension. "
                             f"Received: filepath={name}")
        return "keras"
    if fmt == "h5" or name.endswith((".h5", ".hdf5", ".keras")):
        return "legacy"
    return None


def h5py_module():
    try:
        import h5py
    except ImportError:
        raise ImportError("tf-keras's .keras and .h5 files are read and written with "
                          "h5py (a dependency of numbarnn), which is not installed here: "
                          "`pip install h5py`.") from None
    return h5py


def text(value):
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def open_weights(path, kind):
    """The open h5py File with the weights of a ``.keras`` archive or an HDF5 file (an
    open ``h5py.File`` given is used as it is, and left open)."""
    if is_h5py_file(path):
        return contextlib.nullcontext(path)
    h5py = h5py_module()
    path = os.fspath(path)
    if kind == "keras":
        with zipfile.ZipFile(path) as archive:
            if "model.weights.h5" not in archive.namelist():
                raise ValueError(f"{path!r} is a .keras archive without weights: Expected "
                                 "a model.weights.h5 or model.weights.npz file.")
            try:
                data = archive.read("model.weights.h5")
            except zipfile.BadZipFile as err:  # tf-keras's error class
                raise zipfile.BadZipFile(f"{path!r}: {err}") from None
        file = io.BytesIO(data)
    else:
        file = path
    try:
        return h5py.File(file, "r")
    except OSError as err:  # tf-keras's error class, with the file named
        raise OSError(f"{path!r} is not a readable tf-keras file (truncated or damaged): "
                      f"{err}") from None


def legacy_group(f):
    """The group of an HDF5 file holding the legacy layout's ``layer_names`` (the file,
    or its ``model_weights`` group), or None for tf-keras's current layout."""
    if "layer_names" in f.attrs:
        return f
    return f["model_weights"] if "model_weights" in f else None
