"""Layer serialization: ``{'class_name', 'config'}`` dicts and a registry of classes.

Names are looked up by :func:`numbarnn.utils.get_registered_object` (scoped, then
registered, then ``custom_objects``, then the built-in layers).
"""
from .._registry import (CustomObjectScope, get_custom_objects, get_registered_object)

__all__ = ["serialize", "deserialize", "register_serializable"]


def register_serializable(cls=None, name=None):
    """Register a user class or function so configs naming it can be deserialized.

    Use as ``@register_serializable`` or ``@register_serializable(name="MyCell")``; the
    object goes into :func:`numbarnn.utils.get_custom_objects` under ``name`` (default:
    its ``__name__``).
    """
    def wrap(c):
        get_custom_objects()[name or c.__name__] = c
        return c
    return wrap(cls) if cls is not None else wrap


def _builtin_classes():
    from .. import layers
    return {name: getattr(layers, name) for name in layers.__all__
            if isinstance(getattr(layers, name), type)}


def serialize(obj):
    """Return ``{"class_name": ..., "config": obj.get_config()}``."""
    if obj is None:
        return None
    if not hasattr(obj, "get_config"):
        raise ValueError(f"Cannot serialize {obj!r}: it has no `get_config` method.")
    return {"class_name": type(obj).__name__, "config": obj.get_config()}


def deserialize(config, custom_objects=None):
    """Create a layer from a ``{"class_name", "config"}`` dict.

    Parameters
    ----------
    config : dict
    custom_objects : dict, optional
        Extra name -> object mapping for user layers and cells, and for the custom
        activations, initializers, regularizers and constraints their configs name
        (they are in scope while the layer is created, as in tf-keras).
    """
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError("Argument `config` must be a dict with keys 'class_name' and "
                         f"'config'. Received: {config!r}")
    name = config["class_name"]
    cls = get_registered_object(name, custom_objects, _builtin_classes())
    if cls is None:
        raise ValueError(f"Unknown layer: '{name}'. Please ensure you are using a "
                         "`numbarnn.layers` class, or pass your class in "
                         "`custom_objects` or inside `numbarnn.utils.custom_object_scope`.")
    inner = dict(config.get("config", {}))
    from .call_args import accepts
    with CustomObjectScope(custom_objects):
        if accepts(cls.from_config, "custom_objects"):
            return cls.from_config(inner, custom_objects=custom_objects)
        return cls.from_config(inner)
