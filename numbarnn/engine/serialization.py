"""Layer serialization: ``{'class_name', 'config'}`` dicts and a registry of classes."""
__all__ = ["serialize", "deserialize", "register_serializable"]

_CUSTOM = {}


def register_serializable(cls=None, name=None):
    """Register a user layer/cell class so configs naming it can be deserialized."""
    def wrap(c):
        _CUSTOM[name or c.__name__] = c
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
        Extra name -> class mapping for user layers and cells.
    """
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError("Argument `config` must be a dict with keys 'class_name' and "
                         f"'config'. Received: {config!r}")
    name = config["class_name"]
    classes = {**_builtin_classes(), **_CUSTOM, **(custom_objects or {})}
    cls = classes.get(name)
    if cls is None:
        raise ValueError(f"Unknown layer: '{name}'. Please ensure you are using a "
                         "`numbarnn.layers` class, or pass your class in "
                         "`custom_objects`.")
    inner = dict(config.get("config", {}))
    from .base_layer import _accepts
    if _accepts(cls.from_config, "custom_objects"):
        return cls.from_config(inner, custom_objects=custom_objects)
    return cls.from_config(inner)
