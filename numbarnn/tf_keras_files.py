"""Read and write the files of tf-keras: ``model.save("m.keras")``,
``model.save("m.h5")``, ``model.save_weights("w.weights.h5")`` and
``model.save_weights("w.h5")``.

Two layouts of weights exist (both in HDF5, read with h5py):

* tf-keras's current one (``.keras`` archives, whose ``model.weights.h5`` member holds
  the weights, and ``.weights.h5`` files; ``tf_keras/src/saving/saving_lib.py``): a
  group per object, reached by attribute name from the model (``layers/simple_rnn/
  cell/vars/0``), with a layer's own variables under ``vars`` numbered in
  ``_trainable_weights + _non_trainable_weights`` order. A list of layers names each
  item by its class in snake case, numbered from the second (``dense``, ``dense_1``).
* the legacy one (other ``.h5`` files; ``tf_keras/src/saving/legacy/hdf5_format.py``): a
  group per top-level layer with a ``weight_names`` attribute; weights are matched to
  the model's layers by order (or by layer name with ``by_name=True``).

Which one a file holds is read from its contents, not its name; which one is written
follows the name, as in tf-keras. Nothing is assigned unless every weight of the file
fits: a failed load leaves the model as it was.
"""
import io
import json
import os
import time
import warnings
import zipfile

import numpy as np

from ._registry import to_snake_case

__all__ = ["tf_keras_file_kind", "tf_keras_format_for", "load_tf_keras_model",
           "load_tf_keras_weights", "save_tf_keras_model", "save_tf_keras_weights"]

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_KERAS_ARCHIVE_MEMBERS = ("config.json", "model.weights.h5")
_HDF5_ATTRIBUTE_LIMIT = 64512  # bytes; tf-keras splits longer list attributes in chunks


def tf_keras_file_kind(path):
    """``"keras"`` for a tf-keras ``.keras`` archive (a zip with its ``config.json`` or
    ``model.weights.h5``), ``"h5"`` for an HDF5 file, else None (numbarnn's own
    ``.npz`` files among them)."""
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


def _h5py():
    try:
        import h5py
    except ImportError:
        raise ImportError("tf-keras's .keras and .h5 files are read and written with "
                          "h5py (a dependency of numbarnn), which is not installed here: "
                          "`pip install h5py`.") from None
    return h5py


def _text(value):
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _open_weights(path, kind):
    """The open h5py File with the weights of a ``.keras`` archive or an HDF5 file."""
    h5py = _h5py()
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


def _count_saved_weights(f):
    """How many weights an HDF5 file of either layout holds."""
    if "layer_names" in f.attrs or "model_weights" in f:
        group = f if "layer_names" in f.attrs else f["model_weights"]
        names = _attribute_list(group, "layer_names")
        return sum(len(_attribute_list(group[name], "weight_names")) for name in names
                   if name in group)
    count = [0]

    def visit(name, obj):
        if name.rsplit("/", 1)[-1] == "vars" and hasattr(obj, "keys"):
            count[0] += len(obj)

    f.visititems(visit)
    count[0] += len(f["vars"]) if "vars" in f else 0
    return count[0]


def load_tf_keras_model(path, kind, custom_objects=None, safe_mode=True, build=None):
    """A model re-created from a tf-keras ``.keras`` archive or full-model ``.h5`` file,
    with its weights. ``build(model, input_shape, weight_count)``, when given, builds
    the model as it was built when saved."""
    path = os.fspath(path)
    if kind == "keras":
        with zipfile.ZipFile(path) as archive:
            if "config.json" not in archive.namelist():
                raise ValueError(f"{path!r} is a .keras archive without config.json: it "
                                 "holds no model config; use `model.load_weights`.")
            config = json.loads(archive.read("config.json").decode("utf-8"))
    with _open_weights(path, kind) as f:
        if kind != "keras":
            if "model_config" not in f.attrs:
                raise ValueError(f"No model config found in the file at {path!r}: it "
                                 "holds weights only; use `model.load_weights`.")
            config = json.loads(_text(f.attrs["model_config"]))
        model = _model_from_config(config, custom_objects, safe_mode, build,
                                   _count_saved_weights(f))
        if kind == "keras":
            _load_by_path(model, f, skip_mismatch=False)
        else:
            _load_by_order(model, f["model_weights"] if "model_weights" in f else f)
    return model


def _model_from_config(config, custom_objects, safe_mode, build, weight_count):
    from .engine import serialization
    from .engine.base_layer import shape_from_json
    model = serialization.deserialize(config, custom_objects=custom_objects,
                                      safe_mode=safe_mode)
    shape = (config.get("build_config") or {}).get("input_shape")
    shape = shape_from_json(shape) if shape is not None else model._build_input_shape
    if shape is not None:
        if build is not None:
            build(model, shape, weight_count)
        elif not model.built:
            model.build(shape)
    return model


def load_tf_keras_weights(layer, path, kind, skip_mismatch=False, by_name=False):
    """Set ``layer``'s weights from a tf-keras weights file (either layout) or the
    weights of a ``.keras`` archive. ``by_name`` applies to the legacy layout only; as in
    tf-keras, the current layout ignores it (its weights are found by structure)."""
    with _open_weights(path, kind) as f:
        if "layer_names" in f.attrs or "model_weights" in f:  # the legacy layout
            if skip_mismatch and not by_name:
                raise ValueError("When calling model.load_weights, skip_mismatch can only "
                                 "be set to True when by_name is True.")
            group = f if "layer_names" in f.attrs else f["model_weights"]
            _load_by_order(layer, group, skip_mismatch=skip_mismatch, by_name=by_name)
            return
        _load_by_path(layer, f, skip_mismatch=skip_mismatch)


# -- the current layout: a group per object, by attribute path ----------------------------
def _objects_by_path(root):
    """``(path, layer)`` for ``root`` and each layer under it, as tf-keras's
    saving_lib._save_state / _load_state walk them: a layer's children in reverse
    attribute-name order, the first path to reach a layer its only one."""
    from .engine.base_layer import Layer
    visited = set()

    def walk(layer, path):
        if id(layer) in visited:
            return
        visited.add(id(layer))
        yield path, layer
        for attr, child in sorted(layer._saved_children(), key=lambda item: item[0],
                                  reverse=True):
            child_path = f"{path}/{attr}" if path else attr
            if isinstance(child, Layer):
                yield from walk(child, child_path)
                continue
            used = {}
            for item in (child.values() if isinstance(child, dict) else child):
                if not isinstance(item, Layer) or id(item) in visited:
                    continue
                name = to_snake_case(type(item).__name__)
                used[name] = used.get(name, -1) + 1
                yield from walk(item, f"{child_path}/{name}_{used[name]}" if used[name]
                                else f"{child_path}/{name}")

    yield from walk(root, "")


def _own_variables(layer):
    """tf-keras's Layer.save_own_variables order."""
    return list(layer._trainable_weights) + list(layer._non_trainable_weights)


def _vars_path(path):
    return f"{path}/vars" if path else "vars"


def _load_by_path(root, f, skip_mismatch):
    pairs = []
    for path, layer in _objects_by_path(root):
        own = _own_variables(layer)
        group = f[_vars_path(path)] if _vars_path(path) in f else {}
        try:
            if len(group) != len(own):
                hint = ("" if own or root.built else " (the model is not built: call it "
                        "on data, or `build(input_shape)`, before loading weights)")
                raise ValueError(
                    f"Layer '{layer.name}' expected {len(own)} variables, but received "
                    f"{len(group)} variables during loading. Expected: "
                    f"{[v.name for v in own]}{hint}")
            missing = [str(i) for i in range(len(own)) if str(i) not in group]
            if missing:
                raise ValueError(f"Layer '{layer.name}': the file's variables under "
                                 f"{_vars_path(path)!r} are not numbered 0 to "
                                 f"{len(own) - 1} (no {missing}).")
            found = [(v, np.asarray(group[str(i)])) for i, v in enumerate(own)]
            _check_pairs(found)
            pairs += found
        except ValueError as err:
            if not skip_mismatch:
                raise
            warnings.warn(f"Could not load weights in object {layer.name}. Skipping "
                          f"object. Exception encountered: {err}", stacklevel=4)
    _assign_all(pairs)


def _save_by_path(root, f):
    for path, layer in _objects_by_path(root):
        group = f.create_group(_vars_path(path))
        for i, variable in enumerate(_own_variables(layer)):
            group.create_dataset(str(i), data=variable.numpy())


# -- the legacy layout: a group per top-level layer, matched by order or name -------------
def _attribute_list(group, name):
    """tf-keras's load_attributes_from_hdf5_group: a list attribute, possibly stored in
    numbered chunks (``weight_names0``, ``weight_names1``...)."""
    if name in group.attrs:
        return [_text(n) for n in group.attrs[name]]
    data, chunk = [], 0
    while f"{name}{chunk}" in group.attrs:
        data += [_text(n) for n in group.attrs[f"{name}{chunk}"]]
        chunk += 1
    return data


def _saved_values(group):
    return [np.asarray(group[name]) for name in _attribute_list(group, "weight_names")]


def _top_layers(model):
    return list(model.layers) if hasattr(model, "layers") else [model]


def _load_by_order(model, f, skip_mismatch=False, by_name=False):
    if not model.built:
        raise ValueError("Unable to load weights saved in HDF5 format into a model which "
                         "has not created its variables yet. Call the model first (or "
                         "`build(input_shape)`), then load the weights.")
    if by_name:
        return _load_by_name(model, f, skip_mismatch)
    layers = [layer for layer in _top_layers(model) if _legacy_weights(layer)]
    names = [name for name in _attribute_list(f, "layer_names")
             if _attribute_list(f[name], "weight_names")]
    if len(names) != len(layers):
        raise ValueError("Layer count mismatch when loading weights from file. Model "
                         f"expected {len(layers)} layers, found {len(names)} saved layers.")
    pairs = []
    for k, (name, layer) in enumerate(zip(names, layers)):
        expected, values = _legacy_weights(layer), _saved_values(f[name])
        if len(values) != len(expected):
            raise ValueError(
                f"Weight count mismatch for layer #{k} (named {layer.name} in the current "
                f"model, {name} in the save file). Layer expects {len(expected)} "
                f"weight(s). Received {len(values)} saved weight(s)")
        pairs += zip(expected, values)
    pairs += _top_level_pairs(model, f)
    _check_pairs(pairs)
    _assign_all(pairs)


def _top_level_pairs(model, f):
    """The model's own weights (not its layers'), from ``top_level_model_weights``."""
    if "top_level_model_weights" not in f:
        return []
    expected = [] if _top_layers(model) == [model] else _own_variables(model)
    values = _saved_values(f["top_level_model_weights"])
    if len(values) != len(expected):
        raise ValueError("Weight count mismatch for top-level weights when loading weights "
                         f"from file. Model expects {len(expected)} top-level weight(s). "
                         f"Received {len(values)} saved top-level weight(s)")
    return list(zip(expected, values))


def _load_by_name(model, f, skip_mismatch):
    """tf-keras's load_weights_from_hdf5_group_by_name: layers without a saved group of
    their name keep their weights."""
    by_name = {}
    for layer in _top_layers(model):
        by_name.setdefault(layer.name, []).append(layer)
    pairs = []
    for k, name in enumerate(_attribute_list(f, "layer_names")):
        values = _saved_values(f[name])
        for layer in by_name.get(name, []):
            expected = _legacy_weights(layer)
            if len(values) != len(expected):
                if skip_mismatch:
                    warnings.warn(f"Skipping loading of weights for layer #{k} (named "
                                  f"{layer.name}) due to mismatch in number of weights. "
                                  f"Layer expects {len(expected)} weight(s). Received "
                                  f"{len(values)} saved weight(s)", stacklevel=4)
                    continue
                raise ValueError(
                    f"Weight count mismatch for layer #{k} (named {layer.name}). Layer "
                    f"expects {len(expected)} weight(s). Received {len(values)} saved "
                    "weight(s)")
            for variable, value in zip(expected, values):
                if value.shape != variable.shape:
                    if skip_mismatch:
                        warnings.warn(f"Skipping loading weights for layer #{k} (named "
                                      f"{layer.name}) due to mismatch in shape for weight "
                                      f"{variable.name}. Weight expects shape "
                                      f"{variable.shape}. Received saved weight with shape "
                                      f"{value.shape}", stacklevel=4)
                        continue
                    raise ValueError(
                        f"Shape mismatch in layer #{k} (named {layer.name}) for weight "
                        f"{variable.name}. Weight expects shape {variable.shape}. Received "
                        f"saved weight with shape {value.shape}")
                pairs.append((variable, value))
    pairs += _top_level_pairs(model, f)
    _check_pairs(pairs)
    _assign_all(pairs)


def _legacy_weights(layer):
    """tf-keras's hdf5_format._legacy_weights: trainable, then non-trainable."""
    return list(layer.trainable_weights) + list(layer.non_trainable_weights)


# -- assignment --------------------------------------------------------------------------
def _check_pairs(pairs):
    for variable, value in pairs:
        if value.shape != variable.shape:
            raise ValueError(f"Cannot assign value to variable '{variable.name}': Shape "
                             f"mismatch. The variable shape {variable.shape}, and the "
                             f"assigned value shape {value.shape} are incompatible.")
        if value.dtype.kind not in "biuf":
            raise ValueError(f"The file's value for variable {variable.name!r} is not "
                             f"numeric (dtype {value.dtype}).")


def _assign_all(pairs):
    """Assign only once every value has been read and checked: a failed load changes
    nothing."""
    for variable, value in pairs:
        variable.assign(value.astype(variable.dtype, copy=False))


# -- writing ----------------------------------------------------------------------------
def save_tf_keras_weights(layer, file, kind):
    """Write ``layer``'s weights into the open binary ``file`` in tf-keras's
    ``"current"`` (``.weights.h5``) or ``"legacy"`` layout."""
    with _h5py().File(file, "w") as f:
        if kind == "current":
            _save_by_path(layer, f)
        else:
            _save_by_order(layer, f)


def save_tf_keras_model(model, file, kind):
    """Write ``model`` (config and weights) into the open binary ``file`` as tf-keras's
    ``model.save`` does: a ``"keras"`` archive or a ``"legacy"`` HDF5 file."""
    from . import __version__
    from ._registry import plain_config
    from .engine import serialization
    config = plain_config(serialization.serialize(model))  # numpy scalars as numbers
    if kind == "keras":
        weights = io.BytesIO()
        with _h5py().File(weights, "w") as f:
            _save_by_path(model, f)
        metadata = {"keras_version": f"numbarnn {__version__}",
                    "date_saved": time.strftime("%Y-%m-%d@%H:%M:%S")}
        with zipfile.ZipFile(file, "w") as archive:
            archive.writestr("metadata.json", json.dumps(metadata))
            archive.writestr("config.json", json.dumps(config))
            archive.writestr("model.weights.h5", weights.getvalue())
        return
    legacy_config = {"class_name": config["class_name"], "config": config["config"]}
    with _h5py().File(file, "w") as f:
        f.attrs["keras_version"] = f"numbarnn {__version__}".encode("utf-8")
        f.attrs["backend"] = b"numbarnn"
        f.attrs["model_config"] = json.dumps(legacy_config).encode("utf-8")
        _save_by_order(model, f.create_group("model_weights"))


def _save_attribute_list(group, name, data):
    """tf-keras's save_attributes_to_hdf5_group: split in numbered chunks when the
    list is longer than an HDF5 object header holds."""
    array = np.asarray(data)
    chunks = 1
    while any(part.nbytes > _HDF5_ATTRIBUTE_LIMIT for part in np.array_split(array, chunks)):
        chunks += 1
    if chunks == 1:
        group.attrs[name] = data  # the list: h5py stores variable-length strings
        return
    for i, part in enumerate(np.array_split(array, chunks)):
        group.attrs[f"{name}{i}"] = part


def _save_weight_group(group, variables):
    names = [v.name.encode("utf-8") for v in variables]
    _save_attribute_list(group, "weight_names", names)
    for name, variable in zip(names, variables):
        group.create_dataset(name.decode("utf-8"), data=variable.numpy())


def _save_by_order(model, f):
    """tf-keras's save_weights_to_hdf5_group: a group per top-level layer (in name
    order), its weights named in ``weight_names``."""
    from . import __version__
    layers = _top_layers(model)
    _save_attribute_list(f, "layer_names", [layer.name.encode("utf-8") for layer in layers])
    f.attrs["backend"] = b"numbarnn"
    f.attrs["keras_version"] = f"numbarnn {__version__}".encode("utf-8")
    for layer in sorted(layers, key=lambda layer: layer.name):
        _save_weight_group(f.create_group(layer.name), _legacy_weights(layer))
    top = [] if layers == [model] else _own_variables(model)
    _save_weight_group(f.create_group("top_level_model_weights"), top)
