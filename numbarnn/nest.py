"""Nested structures (tf.nest-like): lists, tuples, namedtuples and dicts of leaves.

It holds no Layer (the kernels' generic loop imports it, as the layers do).
"""
from .engine.tensor_shape import TensorShape

__all__ = ["is_nested", "children", "flatten", "pack_sequence_as", "rebuild",
           "map_structure"]


def is_nested(x):
    """Lists, tuples, namedtuples and dicts are nests, as in tf.nest (a TensorShape is
    a leaf)."""
    return (isinstance(x, (list, tuple)) and not isinstance(x, TensorShape)
            or isinstance(x, dict))


def children(node):
    """A nest's children in tf.nest's order: a dict's values by sorted key."""
    return [node[key] for key in sorted(node)] if isinstance(node, dict) else node


def flatten(x):
    """Flatten a nest (TensorShape counts as a leaf)."""
    if is_nested(x):
        out = []
        for item in children(x):
            out += flatten(item)
        return out
    return [x]


def pack_sequence_as(structure, flat):
    """Inverse of :func:`flatten`.

    Raises
    ------
    ValueError
        If ``flat`` has more or fewer items than ``structure`` has leaves (tf.nest's
        message).
    """
    flat = list(flat)
    leaves = len(flatten(structure))
    if len(flat) != leaves:
        raise ValueError(f"Could not pack sequence. Structure had {leaves} atoms, but "
                         f"flat_sequence had {len(flat)} items. Structure: {structure}, "
                         f"flat_sequence: {flat}.")
    flat.reverse()  # pop() from the end: linear time

    def build(node):
        if is_nested(node):
            return rebuild(node, [build(n) for n in children(node)])
        return flat.pop()
    return build(structure)


def rebuild(node, items):
    """A container of ``node``'s type (list, tuple, namedtuple or dict, the dict in its
    own key order) holding ``items`` (in :func:`children` order)."""
    if isinstance(node, dict):
        by_key = dict(zip(sorted(node), items))
        return type(node)((key, by_key[key]) for key in node)
    if hasattr(node, "_fields"):  # namedtuple
        return type(node)(*items)
    return type(node)(items) if isinstance(node, tuple) else list(items)


def map_structure(fn, structure):
    """Apply ``fn`` to every leaf of ``structure``, keeping its containers."""
    if is_nested(structure):
        return rebuild(structure, [map_structure(fn, s) for s in children(structure)])
    return fn(structure)
