"""tf-keras's legacy layout (other ``.h5`` files;
``tf_keras/src/saving/legacy/hdf5_format.py``): a group per top-level layer whose
``weight_names`` attribute lists its weights, matched to the model's layers by order (or
by layer name with ``by_name=True``), and the model's own weights in
``top_level_model_weights``."""
import warnings

import numpy as np

from .formats import text
from .weights import assign_all, check_pairs, own_variables

__all__ = ["attribute_list", "save_attribute_list", "load_by_order", "save_by_order",
           "count_by_order"]

_HDF5_ATTRIBUTE_LIMIT = 64512  # bytes; tf-keras splits longer list attributes in chunks


def attribute_list(group, name):
    """tf-keras's load_attributes_from_hdf5_group: a list attribute, possibly stored in
    numbered chunks (``weight_names0``, ``weight_names1``...)."""
    if name in group.attrs:
        return [text(n) for n in group.attrs[name]]
    data, chunk = [], 0
    while f"{name}{chunk}" in group.attrs:
        data += [text(n) for n in group.attrs[f"{name}{chunk}"]]
        chunk += 1
    return data


def save_attribute_list(group, name, data):
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


def saved_values(group):
    return [np.asarray(group[name]) for name in attribute_list(group, "weight_names")]


def top_layers(model):
    return list(model.layers) if hasattr(model, "layers") else [model]


def legacy_weights(layer):
    """tf-keras's hdf5_format._legacy_weights: trainable, then non-trainable."""
    return list(layer.trainable_weights) + list(layer.non_trainable_weights)


def load_by_order(model, f, skip_mismatch=False, by_name=False):
    if not model.built:
        raise ValueError("Unable to load weights saved in HDF5 format into a model which "
                         "has not created its variables yet. Call the model first (or "
                         "`build(input_shape)`), then load the weights.")
    if by_name:
        return load_by_name(model, f, skip_mismatch)
    layers = [layer for layer in top_layers(model) if legacy_weights(layer)]
    names = [name for name in attribute_list(f, "layer_names")
             if attribute_list(f[name], "weight_names")]
    if len(names) != len(layers):
        raise ValueError("Layer count mismatch when loading weights from file. Model "
                         f"expected {len(layers)} layers, found {len(names)} saved layers.")
    pairs = []
    for k, (name, layer) in enumerate(zip(names, layers)):
        expected, values = legacy_weights(layer), saved_values(f[name])
        if len(values) != len(expected):
            raise ValueError(
                f"Weight count mismatch for layer #{k} (named {layer.name} in the current "
                f"model, {name} in the save file). Layer expects {len(expected)} "
                f"weight(s). Received {len(values)} saved weight(s)")
        pairs += zip(expected, values)
    pairs += top_level_pairs(model, f)
    check_pairs(pairs)
    assign_all(pairs)


def _top_level(model, f):
    """``(variables, saved values)`` of the model's own weights (not its layers'), from
    ``top_level_model_weights``; None when the file has no such group."""
    if "top_level_model_weights" not in f:
        return None
    expected = [] if top_layers(model) == [model] else own_variables(model)
    return expected, saved_values(f["top_level_model_weights"])


def top_level_pairs(model, f):
    """The top-level weights' ``(variable, value)`` pairs, by order."""
    top = _top_level(model, f)
    if top is None:
        return []
    expected, values = top
    if len(values) != len(expected):
        raise ValueError("Weight count mismatch for top-level weights when loading weights "
                         f"from file. Model expects {len(expected)} top-level weight(s). "
                         f"Received {len(values)} saved top-level weight(s)")
    return list(zip(expected, values))


def _fitting_pairs(expected, values, skip_mismatch, subject, skip_count, skip_shape,
                   mismatch, counts):
    """The ``(variable, value)`` pairs of tf-keras's by-name loading: a count or shape
    that does not fit is skipped with a warning under ``skip_mismatch``, else a
    ValueError. ``subject``, ``skip_count``, ``skip_shape`` and ``mismatch`` are the
    parts of tf-keras's messages that name the layer (or the model's top-level weights);
    ``counts`` spells the expected and saved counts as its message does."""
    if len(values) != len(expected):
        counts = counts.format(expected=len(expected), saved=len(values))
        if skip_mismatch:
            warnings.warn(f"{skip_count} due to mismatch in number of weights. {counts}",
                          stacklevel=7)
            return []
        raise ValueError(f"Weight count mismatch for {subject}. {counts}")
    pairs = []
    for variable, value in zip(expected, values):
        if value.shape == variable.shape:
            pairs.append((variable, value))
            continue
        detail = (f"Weight expects shape {variable.shape}. Received saved weight with "
                  f"shape {value.shape}")
        if skip_mismatch:
            warnings.warn(f"{skip_shape} due to mismatch in shape for weight {variable.name}"
                          f". {detail}", stacklevel=7)
            continue
        raise ValueError(f"{mismatch.format(weight=variable.name)}. {detail}")
    return pairs


def load_by_name(model, f, skip_mismatch):
    """tf-keras's load_weights_from_hdf5_group_by_name: layers without a saved group of
    their name keep their weights."""
    by_name = {}
    for layer in top_layers(model):
        by_name.setdefault(layer.name, []).append(layer)
    pairs = []
    for k, name in enumerate(attribute_list(f, "layer_names")):
        values = saved_values(f[name])
        for layer in by_name.get(name, []):
            named = f"layer #{k} (named {layer.name})"
            pairs += _fitting_pairs(
                legacy_weights(layer), values, skip_mismatch, subject=named,
                skip_count=f"Skipping loading of weights for {named}",
                skip_shape=f"Skipping loading weights for {named}",
                mismatch=f"Shape mismatch in {named} for weight {{weight}}",
                counts="Layer expects {expected} weight(s). Received {saved} saved "
                       "weight(s)")
    top = _top_level(model, f)
    if top is not None:
        pairs += _fitting_pairs(
            *top, skip_mismatch, subject="top-level weights of model",
            skip_count="Skipping loading top-level weights for model",
            skip_shape="Skipping loading top-level weight for model",
            mismatch="Shape mismatch in model for top-level weight {weight}",
            counts="Model expects {expected} top-level weight(s). Received {saved} saved "
                   "top-level weight(s)")
    check_pairs(pairs)
    assign_all(pairs)


def save_weight_group(group, variables):
    names = [v.name.encode("utf-8") for v in variables]
    save_attribute_list(group, "weight_names", names)
    for name, variable in zip(names, variables):
        group.create_dataset(name.decode("utf-8"), data=variable.numpy())


def save_by_order(model, f):
    """tf-keras's save_weights_to_hdf5_group: a group per top-level layer (in name
    order), its weights named in ``weight_names``."""
    from .. import __version__
    layers = top_layers(model)
    save_attribute_list(f, "layer_names", [layer.name.encode("utf-8") for layer in layers])
    f.attrs["backend"] = b"numbarnn"
    f.attrs["keras_version"] = f"numbarnn {__version__}".encode("utf-8")
    for layer in sorted(layers, key=lambda layer: layer.name):
        save_weight_group(f.create_group(layer.name), legacy_weights(layer))
    top = [] if layers == [model] else own_variables(model)
    save_weight_group(f.create_group("top_level_model_weights"), top)


def count_by_order(group):
    """How many values a group of this layout (with ``layer_names``) holds."""
    return sum(len(attribute_list(group[name], "weight_names"))
               for name in attribute_list(group, "layer_names") if name in group)
