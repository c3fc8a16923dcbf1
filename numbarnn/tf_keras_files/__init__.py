"""Read and write the files of tf-keras: ``model.save("m.keras")``,
``model.save("m.h5")``, ``model.save_weights("w.weights.h5")`` and
``model.save_weights("w.h5")``.

Two layouts of weights exist (both in HDF5, read with h5py):

* tf-keras's current one (``.keras`` archives, whose ``model.weights.h5`` member holds
  the weights, and ``.weights.h5`` files): a group per object, reached by attribute
  name from the model (:mod:`.by_structure`);
* the legacy one (other ``.h5`` files): a group per top-level layer, matched by order
  or name (:mod:`.by_order`).

Which one a file holds is read from its contents, not its name; which one is written
follows the name, as in tf-keras (:mod:`.formats`). Nothing is assigned unless every
weight of the file fits (:mod:`.weights`): a failed load leaves the model as it was.
"""
import contextlib
import io
import json
import os
import time
import zipfile

from . import by_order, by_structure
from .formats import (h5py_module, is_h5py_file, legacy_group, open_weights,
                      refuse_unreadable_tf_keras_name, text, tf_keras_file_kind,
                      tf_keras_format_for)

__all__ = ["tf_keras_file_kind", "tf_keras_format_for", "refuse_unreadable_tf_keras_name",
           "is_h5py_file",
           "open_tf_keras_model",
           "load_tf_keras_weights", "load_open_weights", "save_tf_keras_model",
           "save_tf_keras_weights"]


@contextlib.contextmanager
def open_tf_keras_model(path, kind):
    """Open a tf-keras ``.keras`` archive or full-model ``.h5`` file once, for
    ``(config, weight_count, weights)``: the model's config, how many weights the file
    holds (to build the model as it was built when saved), and the open weights, which
    :func:`load_open_weights` then loads into the model."""
    path = path if is_h5py_file(path) else os.fspath(path)
    config = None
    if kind == "keras":
        with zipfile.ZipFile(path) as archive:
            if "config.json" not in archive.namelist():
                raise ValueError(f"{path!r} is a .keras archive without config.json: it "
                                 "holds no model config; use `model.load_weights`.")
            config = json.loads(archive.read("config.json").decode("utf-8"))
    with open_weights(path, kind) as f:
        if config is None:
            if "model_config" not in f.attrs:
                raise ValueError(f"No model config found in the file at {path!r}: it "
                                 "holds weights only; use `model.load_weights`.")
            config = json.loads(text(f.attrs["model_config"]))
        legacy = legacy_group(f)
        count = (by_structure.count_by_path(f) if legacy is None
                 else by_order.count_by_order(legacy))
        yield config, count, f


def load_tf_keras_weights(layer, path, kind, skip_mismatch=False, by_name=False):
    """Set ``layer``'s weights from a tf-keras weights file (either layout) or the
    weights of a ``.keras`` archive. ``by_name`` applies to the legacy layout only; as in
    tf-keras, the current layout ignores it (its weights are found by structure)."""
    with open_weights(path, kind) as f:
        load_open_weights(layer, f, skip_mismatch, by_name)


def load_open_weights(layer, f, skip_mismatch=False, by_name=False):
    """:func:`load_tf_keras_weights` from an open weights file."""
    legacy = legacy_group(f)
    if legacy is None:
        by_structure.load_by_path(layer, f, skip_mismatch=skip_mismatch)
        return
    if skip_mismatch and not by_name:
        raise ValueError("When calling model.load_weights, skip_mismatch can only be "
                         "set to True when by_name is True.")
    by_order.load_by_order(layer, legacy, skip_mismatch=skip_mismatch, by_name=by_name)


def save_tf_keras_weights(layer, file, kind):
    """Write ``layer``'s weights into the open binary ``file`` in tf-keras's
    ``"current"`` (``.weights.h5``) or ``"legacy"`` layout."""
    with h5py_module().File(file, "w") as f:
        if kind == "current":
            by_structure.save_by_path(layer, f)
        else:
            by_order.save_by_order(layer, f)


def _legacy_entry(entry):
    """A model's layer entry as tf-keras's legacy HDF5 config writes it: only
    ``class_name`` (a registered class's ``"package>Name"``) and ``config``; what is
    nested in the config keeps the current form, as there."""
    return {"class_name": entry.get("registered_name") or entry["class_name"],
            "config": entry["config"]}


def save_tf_keras_model(model, file, kind):
    """Write ``model`` (config and weights) into the open binary ``file`` as tf-keras's
    ``model.save`` does: a ``"keras"`` archive or a ``"legacy"`` HDF5 file."""
    from .. import __version__
    from .._registry import plain_config
    from ..engine import serialization
    config = plain_config(serialization.serialize(model))  # numpy scalars as numbers
    if kind == "keras":
        weights = io.BytesIO()
        with h5py_module().File(weights, "w") as f:
            by_structure.save_by_path(model, f)
        metadata = {"keras_version": f"numbarnn {__version__}",
                    "date_saved": time.strftime("%Y-%m-%d@%H:%M:%S")}
        with zipfile.ZipFile(file, "w") as archive:
            archive.writestr("metadata.json", json.dumps(metadata))
            archive.writestr("config.json", json.dumps(config))
            archive.writestr("model.weights.h5", weights.getvalue())
        return
    legacy_config = {"class_name": config["class_name"], "config": dict(
        config["config"], layers=[_legacy_entry(e) for e in config["config"]["layers"]])}
    # an open h5py.File is written into (and left open), as tf-keras does
    opened = (contextlib.nullcontext(file) if is_h5py_file(file)
              else h5py_module().File(file, "w"))
    with opened as f:
        f.attrs["keras_version"] = f"numbarnn {__version__}".encode("utf-8")
        f.attrs["backend"] = b"numbarnn"
        f.attrs["model_config"] = json.dumps(legacy_config).encode("utf-8")
        by_order.save_by_order(model, f.create_group("model_weights"))
