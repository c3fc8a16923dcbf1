"""Custom objects and name lookup (tf-keras ``saving/object_registration.py``), and the
``{'class_name', 'config'}`` resolution shared by activations, initializers,
regularizers, constraints and layer deserialization.

Every name is looked up by :func:`get_registered_object`, in the Keras order: the
innermost active :class:`CustomObjectScope`, then registered objects
(:func:`get_custom_objects`), then an explicit ``custom_objects`` dict, then the
module's built-in names.
"""
import re
import threading
import types

import numpy as np

__all__ = ["CustomObjectScope", "custom_object_scope", "get_custom_objects",
           "get_registered_object", "get_registered_name", "resolve", "serialize_object",
           "camel_to_snake", "to_snake_case", "plain_config", "numpy_from_config"]

_GLOBAL_CUSTOM_OBJECTS = {}
_GLOBAL_CUSTOM_NAMES = {}  # object -> the name it was registered under
_SCOPED = threading.local()  # each thread sees only the scopes it entered


def scoped_objects():
    objects = getattr(_SCOPED, "objects", None)
    if objects is None:
        objects = _SCOPED.objects = {}
    return objects


class CustomObjectScope:
    """Make custom classes and functions visible to deserialization inside a block.

    Parameters
    ----------
    *args : dict
        ``{name: object}`` mappings; later ones win.

    Examples
    --------
    >>> import numbarnn as nr
    >>> def double_tanh(x):
    ...     return 2 * nr.activations.tanh(x)
    >>> config = nr.SimpleRNN(2, activation=double_tanh).get_config()
    >>> with nr.utils.custom_object_scope({"double_tanh": double_tanh}):
    ...     layer = nr.SimpleRNN.from_config(config)
    >>> layer.activation is double_tanh
    True
    """

    def __init__(self, *args):
        mappings = []
        for objects in args:
            if objects is None or isinstance(objects, dict):
                mappings.append(objects)
                continue
            try:  # any mapping, or (name, object) pairs, as tf-keras's dict.update
                mappings.append(dict(objects))
            except (TypeError, ValueError):
                raise TypeError("Arguments of `custom_object_scope` must be dicts of "
                                f"{{name: object}}. Received: {objects!r}") from None
        self.custom_objects = tuple(mappings)
        self._backups = []

    def __enter__(self):
        objects = scoped_objects()
        self._backups.append(dict(objects))
        for extra in self.custom_objects:
            objects.update(extra or {})
        return self

    def __exit__(self, *exc_info):
        objects = scoped_objects()
        objects.clear()
        objects.update(self._backups.pop())


custom_object_scope = CustomObjectScope


def get_custom_objects():
    """The live dict of globally registered custom objects (name -> object).

    Scoped objects (:class:`CustomObjectScope`) are not in it.
    """
    return _GLOBAL_CUSTOM_OBJECTS


def register_object(obj, name):
    """Register ``obj`` under ``name`` (what a config will call it)."""
    _GLOBAL_CUSTOM_OBJECTS[name] = obj
    _GLOBAL_CUSTOM_NAMES[obj] = name


def get_registered_name(obj):
    """The name ``obj`` was registered under, else its ``__name__`` (as in tf-keras)."""
    try:
        return _GLOBAL_CUSTOM_NAMES.get(obj, obj.__name__)
    except TypeError:  # unhashable
        return obj.__name__


def get_registered_object(name, custom_objects=None, module_objects=None):
    """The object registered under ``name``, or None.

    Parameters
    ----------
    name : str
    custom_objects : dict, optional
        Mappings given by the user (e.g. ``load_model(..., custom_objects=...)``).
    module_objects : dict, optional
        The calling module's built-in names.
    """
    for table in (scoped_objects(), _GLOBAL_CUSTOM_OBJECTS, custom_objects,
                  module_objects):
        if table and name in table:
            return table[name]
    return None


def _split_words(name, after):
    """``name`` split into lower-case words at its capitals (``"SimpleRNN"`` ->
    ``"simple_rnn"``), also after the characters of the class ``after``."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(rf"([{after}])([A-Z])", r"\1_\2", name).lower()


def to_snake_case(name):
    """tf-keras's generic_utils.to_snake_case: a class name as its layers' default
    names and its files' entries spell it (``SimpleRNN`` -> ``simple_rnn``; a private
    class gets a ``private`` prefix)."""
    name = _split_words(name, "a-z")
    return name if name[0] != "_" else "private" + name


def camel_to_snake(name):
    """A class name as a lookup alias: like :func:`to_snake_case`, also splitting after
    a digit (``L1L2`` -> ``l1_l2``, the function of that name)."""
    return _split_words(name, "a-z0-9")


def _config_name(identifier):
    """The name a config dict refers to: ``class_name``, or for a serialized function
    (tf-keras >= 2.13 / Keras 3: ``{"class_name": "function", "config": "relu"}``) the
    function's name held in ``config``."""
    config = identifier.get("config")
    if isinstance(config, str):
        return config
    if "class_name" not in identifier:
        raise ValueError(f"Improper config format for {identifier!r}. Expecting python "
                         "dict contains `class_name` and `config` as keys")
    return identifier["class_name"]


def _from_config(obj, config):
    """An instance of class ``obj`` built from ``config``; a function is returned as is."""
    if not isinstance(obj, type):
        return obj
    config = numpy_from_config(config) if isinstance(config, dict) else {}
    return obj.from_config(config) if hasattr(obj, "from_config") else obj(**config)


def plain_config(value):
    """``value`` with numpy scalars as Python numbers and arrays as tf-keras writes them
    (``{"class_name": "__numpy__", "config": {"value", "dtype"}}``), in nested dicts,
    lists and tuples: a config that ``json.dumps`` takes, as tf-keras serialises one.

    An object with a ``get_config`` in it (a layer or initializer a custom layer's
    config holds) is serialised as tf-keras's JSON encoder does it, marked
    ``"__passive_serialization__": True`` (deserialising the config makes it an
    object again); a function is written by name, as there.
    """
    if hasattr(value, "get_config") and not isinstance(value, type):
        return {**serialize_keras_object(value), "__passive_serialization__": True}
    if callable(value) and not isinstance(value, type):
        return getattr(value, "__name__", repr(value))
    if isinstance(value, dict):
        return {key: plain_config(v) for key, v in value.items()}
    if isinstance(value, (list, tuple)):  # a namedtuple becomes a tuple, as in tf-keras
        items = [plain_config(v) for v in value]
        return items if isinstance(value, list) else tuple(items)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return {"class_name": "__numpy__",
                "config": {"value": value.tolist(), "dtype": value.dtype.name}}
    return value


def serialize_keras_object(obj):
    """The config dict of any Keras object, as tf-keras's
    ``utils.serialize_keras_object`` writes it: a layer or cell, an initializer,
    regularizer or constraint, or a (registered) function; None for None. Plain
    values (strings, numbers, lists and dicts of them, numpy arrays) come back as
    tf-keras writes them (an array as a ``__numpy__`` config)."""
    if obj is None:
        return None
    if isinstance(obj, (str, bool, int, float, list, tuple, dict, np.ndarray, np.generic)):
        return plain_config(obj)
    for module, _, base in _utility_kinds():
        if isinstance(obj, base):
            return serialize_object(obj, module)
    from .engine import serialization  # a layer, a cell or a function
    return serialization.serialize(obj)


def _utility_kinds():
    """``(tf-keras module, numbarnn module, base class)`` of the objects that are not
    layers: initializers, regularizers, constraints."""
    from . import constraints, initializers, regularizers
    return (("keras.initializers", initializers, initializers.Initializer),
            ("keras.regularizers", regularizers, regularizers.Regularizer),
            ("keras.constraints", constraints, constraints.Constraint))


def deserialize_keras_object(config, custom_objects=None, safe_mode=True, **kwargs):
    """The object a config from :func:`serialize_keras_object` describes (tf-keras's
    ``utils.deserialize_keras_object``). A string is the registered or custom object
    of that name, else itself; numbers pass through; lists and plain dicts are
    deserialized item by item; a ``__numpy__`` config is its array. ``safe_mode`` as
    in :func:`numbarnn.load_model`; tf-keras's other keyword arguments
    (``module_objects``, ``printable_module_name``) are accepted and unused.

    Raises
    ------
    ValueError
        For a class nothing registered or built in answers to.
    """
    del kwargs
    if config is None or isinstance(config, (bool, int, float)):
        return config
    if isinstance(config, str):
        obj = get_registered_object(config, custom_objects)
        return config if obj is None else obj
    if isinstance(config, (list, tuple)):
        return [deserialize_keras_object(c, custom_objects, safe_mode) for c in config]
    if not isinstance(config, dict):
        raise TypeError("Argument `config` of deserialize_keras_object must be a config "
                        f"dict, a list or a plain value. Received: {config!r}")
    if "class_name" not in config or "config" not in config:  # a plain dict
        return {key: deserialize_keras_object(value, custom_objects, safe_mode)
                for key, value in config.items()}
    if config["class_name"] == "__numpy__":
        return numpy_from_config(config)
    written_under = config.get("module") or ""
    for module, kind, _ in _utility_kinds():
        if written_under.startswith(module):
            return kind.deserialize(config, custom_objects=custom_objects)
    from .engine import serialization  # a layer, a function, or a registered class
    return serialization.deserialize(config, custom_objects=custom_objects,
                                     safe_mode=safe_mode)


def revive_passive(config, custom_objects=None):
    """``config`` with each top-level entry that :func:`plain_config` serialised from
    an object (``__passive_serialization__``) made an object again, as tf-keras's
    legacy deserialisation does before ``from_config``."""
    out = dict(config)
    for key, item in config.items():
        if isinstance(item, dict) and item.get("__passive_serialization__"):
            item = {k: v for k, v in item.items() if k != "__passive_serialization__"}
            out[key] = deserialize_keras_object(item, custom_objects)
    return out


def numpy_from_config(config):
    """``config`` with each ``__numpy__`` entry, at any depth, an array again."""
    if isinstance(config, dict):
        if config.get("class_name") == "__numpy__":
            inner = config.get("config", {})
            return np.array(inner.get("value"), dtype=inner.get("dtype"))
        return {key: numpy_from_config(v) for key, v in config.items()}
    if isinstance(config, (list, tuple)) and not hasattr(config, "_fields"):
        return type(config)(numpy_from_config(v) for v in config)
    return config


def _examples(module_objects):
    names = sorted(n for n in module_objects if n.islower()) or sorted(module_objects)
    return names[:8] + ["..."] if len(names) > 8 else names


def resolve(identifier, module_objects, kind, module, base=(), custom_objects=None,
            snake_aliases=True):
    """Turn ``identifier`` (None, name, config dict, instance, callable) into an object.

    Parameters
    ----------
    identifier : None, str, dict, instance of ``base`` or callable
    module_objects : dict
        Built-in names (class names and snake-case aliases) of the calling module.
    kind : str
        What is looked up, for messages (``"initializer"``).
    module : str
        The public module, for messages (``"initializers"``).
    base : type or tuple of types
        Instances are returned unchanged.
    custom_objects : dict, optional
    snake_aliases : bool
        Whether a name not found is looked up again in snake case (``"L1L2"`` as
        ``"l1_l2"``), as tf-keras's initializers, regularizers and constraints are;
        its activations are not (``"Tanh"`` is unknown).
    """
    if identifier is None or isinstance(identifier, base):
        return identifier
    if isinstance(identifier, (dict, str)):
        name = _config_name(identifier) if isinstance(identifier, dict) else identifier
        # a user class by the name it was registered under (tf-keras writes
        # "package>Name"), then by its class name
        registered = identifier.get("registered_name") if isinstance(identifier,
                                                                     dict) else None
        obj = ((get_registered_object(registered, custom_objects)
                if registered and registered != "function" else None)
               or get_registered_object(name, custom_objects, module_objects)
               or (get_registered_object(camel_to_snake(name), custom_objects,
                                         module_objects) if snake_aliases else None))
        if obj is None:
            raise ValueError(
                f"Unknown {kind}: '{name}'. Please ensure you are using a "
                f"`numbarnn.{module}` name (e.g. one of {_examples(module_objects)}), "
                "or pass your object in `custom_objects` or inside "
                f"`numbarnn.utils.custom_object_scope`. Received: {identifier!r}")
        if isinstance(identifier, str):
            return obj() if isinstance(obj, type) else obj
        with CustomObjectScope(custom_objects):
            return _from_config(obj, identifier.get("config"))
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret {kind} identifier: {identifier!r}")


def serialize_object(obj, module):
    """An initializer's, regularizer's or constraint's config as tf-keras writes it:
    a built-in class under ``module`` (``"keras.initializers"``...), a user class
    under its own module (None for ``__main__``) with the name it is registered under,
    which is what loading it looks up first."""
    if obj is None:
        return None
    if is_user_function(obj):  # as tf-keras writes a function it is given
        return serialize_function(obj)
    if not hasattr(obj, "get_config"):
        return getattr(obj, "__name__", repr(obj))
    cls = type(obj)
    config = plain_config(obj.get_config())
    if cls.__module__.split(".")[0] == "numbarnn":
        return {"module": module, "class_name": cls.__name__, "config": config,
                "registered_name": None}
    return {"module": None if cls.__module__ == "__main__" else cls.__module__,
            "class_name": cls.__name__, "config": config,
            "registered_name": get_registered_name(cls)}


def serialize_function(fn):
    """A user function where a config names a function (an activation), as tf-keras
    writes it: ``{'module': 'builtins', 'class_name': 'function', 'config':
    <registered name>, 'registered_name': 'function'}``."""
    name = get_registered_name(fn)
    return {"module": "builtins", "class_name": "function", "config": name,
            "registered_name": "function"}


def is_user_function(fn):
    """A named Python function (not a lambda, not a builtin or ufunc)."""
    return isinstance(fn, types.FunctionType) and fn.__name__ != "<lambda>"
