"""tf-keras's current layout (``.keras`` archives' ``model.weights.h5``, ``.weights.h5``
files; ``tf_keras/src/saving/saving_lib.py``): a group per object, reached by attribute
name from the model (``layers/simple_rnn/cell/vars/0``), each layer's own variables
under ``vars`` numbered in ``_trainable_weights + _non_trainable_weights`` order. A
list of layers names each item by its class in snake case, numbered from the second
(``dense``, ``dense_1``)."""
import warnings

import numpy as np

from .._registry import to_snake_case
from .weights import assign_all, check_pairs, own_variables

__all__ = ["objects_by_path", "load_by_path", "save_by_path", "count_by_path"]


def objects_by_path(root):
    """``(path, layer)`` for ``root`` and each layer under it, as tf-keras's
    saving_lib._save_state / _load_state walk them: a layer's children in reverse
    attribute-name order, the first path to reach a layer its only one."""
    from ..engine.base_layer import Layer
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


def vars_path(path):
    return f"{path}/vars" if path else "vars"


def load_by_path(root, f, skip_mismatch):
    pairs = []
    for path, layer in objects_by_path(root):
        own = own_variables(layer)
        group = f[vars_path(path)] if vars_path(path) in f else {}
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
                                 f"{vars_path(path)!r} are not numbered 0 to "
                                 f"{len(own) - 1} (no {missing}).")
            found = [(v, np.asarray(group[str(i)])) for i, v in enumerate(own)]
            check_pairs(found)
            pairs += found
        except ValueError as err:
            if not skip_mismatch:
                raise
            warnings.warn(f"Could not load weights in object {layer.name}. Skipping "
                          f"object. Exception encountered: {err}", stacklevel=5)
    assign_all(pairs)


def save_by_path(root, f):
    for path, layer in objects_by_path(root):
        group = f.create_group(vars_path(path))
        for i, variable in enumerate(own_variables(layer)):
            group.create_dataset(str(i), data=variable.numpy())


def count_by_path(f):
    """How many values a file of this layout holds."""
    count = [len(f["vars"]) if "vars" in f else 0]

    def visit(name, obj):
        if name.rsplit("/", 1)[-1] == "vars" and hasattr(obj, "keys"):
            count[0] += len(obj)

    f.visititems(visit)
    return count[0]
