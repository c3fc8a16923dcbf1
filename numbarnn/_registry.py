"""Name lookup and ``{'class_name', 'config'}`` serialization shared by the Keras
utility modules (initializers, regularizers, constraints)."""
import re

__all__ = ["resolve", "serialize_object", "camel_to_snake"]


def camel_to_snake(name):
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


def resolve(identifier, classes, aliases, kind, base, custom_objects=None):
    """Turn ``identifier`` (None, str, config dict, instance, callable) into an object.

    ``classes`` maps class names to classes; ``aliases`` maps snake-case names to classes.
    """
    if identifier is None or isinstance(identifier, base):
        return identifier
    table = {**classes, **aliases, **(custom_objects or {})}
    if isinstance(identifier, dict):
        name = identifier.get("class_name")
        cls = table.get(name)
        if cls is None:
            raise ValueError(f"Unknown {kind}: '{name}'. Received: {identifier!r}")
        return cls.from_config(dict(identifier.get("config") or {}))
    if isinstance(identifier, str):
        cls = table.get(identifier) or table.get(camel_to_snake(identifier))
        if cls is None:
            raise ValueError(f"Unknown {kind}: '{identifier}'. Please ensure you are using a "
                             f"`numbarnn.{kind}s` name, e.g. one of "
                             f"{sorted(aliases)[:8]}...")
        return cls() if isinstance(cls, type) else cls
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret {kind} identifier: {identifier!r}")


def serialize_object(obj, module):
    if obj is None:
        return None
    if not hasattr(obj, "get_config"):
        return getattr(obj, "__name__", repr(obj))
    return {"module": module, "class_name": type(obj).__name__,
            "config": obj.get_config(), "registered_name": None}
