"""Layer serialization: tf-keras's ``{'module', 'class_name', 'config',
'registered_name', 'build_config'}`` dicts, a registry of classes, and safe mode.

Names are looked up by :func:`numbarnn.utils.get_registered_object` (scoped, then
registered, then ``custom_objects``, then the built-in layers). Safe mode (on in
:func:`deserialize` and :func:`numbarnn.load_model` unless told otherwise) refuses to
run Python bytecode stored in a config, as tf-keras's does.
"""
import threading

from .._registry import (CustomObjectScope, get_custom_objects, get_registered_name,
                         get_registered_object, is_user_function, numpy_from_config,
                         plain_config, register_object, revive_passive,
                         serialize_function)

__all__ = ["serialize", "deserialize", "register_serializable",
           "register_keras_serializable", "SafeModeScope", "in_safe_mode",
           "enable_unsafe_deserialization"]

# The module tf-keras writes for each built-in class, so that tf-keras loads our
# configs: its public ``keras.layers`` classes, and ResidualWrapper, which tf-keras
# does not export under ``keras.`` (it writes its defining module and its name).
_TF_MODULES = {"ResidualWrapper": "tf_keras.src.layers.rnn.cell_wrappers"}

_SAFE_MODE = threading.local()


class SafeModeScope:
    """Turn safe mode on (or off, ``SafeModeScope(False)``) for the deserialization
    calls inside the block, nested ``from_config`` calls included."""

    def __init__(self, safe_mode=True):
        self.safe_mode = safe_mode

    def __enter__(self):
        self._outer = in_safe_mode()
        _SAFE_MODE.value = self.safe_mode
        return self

    def __exit__(self, *exc_info):
        _SAFE_MODE.value = self._outer


def in_safe_mode():
    """True or False inside a :class:`SafeModeScope`; None outside any (a direct
    ``from_config`` call then loads what it is given, as in tf-keras)."""
    return getattr(_SAFE_MODE, "value", None)


def enable_unsafe_deserialization():
    """Turn safe mode off for this thread (tf-keras
    ``keras.__internal__.enable_unsafe_deserialization``)."""
    _SAFE_MODE.value = False


def check_unsafe_allowed(what):
    """Raise if ``what`` (stored Python bytecode) may not be loaded here."""
    if in_safe_mode():
        raise ValueError(
            f"Requested the deserialization of {what}. This carries a potential risk "
            "of arbitrary code execution and thus it is disallowed by default. If you "
            "trust the source of the saved model, you can pass `safe_mode=False` to "
            "the loading function in order to allow `lambda` loading.")


def register_serializable(cls=None, name=None):
    """Register a user class or function so configs naming it can be deserialized.

    Use as ``@register_serializable`` or ``@register_serializable(name="MyCell")``; the
    object goes into :func:`numbarnn.utils.get_custom_objects` under ``name`` (default:
    its ``__name__``), and configs written for it carry that name as
    ``registered_name``.
    """
    def wrap(c):
        register_object(c, name or c.__name__)
        return c
    return wrap(cls) if cls is not None else wrap


def register_keras_serializable(package="Custom", name=None):
    """tf-keras's decorator: register under ``"package>name"`` (``name`` defaults to
    the object's ``__name__``), so that configs written by tf-keras for an object
    registered there load here too.
    """
    def wrap(obj):
        if isinstance(obj, type) and not hasattr(obj, "get_config"):
            raise ValueError("Cannot register a class that does not have a get_config() "
                             "method.")
        register_object(obj, f"{package}>{name or obj.__name__}")
        return obj
    return wrap


def _registered_items():
    from .._registry import scoped_objects
    return list(scoped_objects().items()) + list(get_custom_objects().items())


def _builtin_classes():
    from .. import layers
    return {name: getattr(layers, name) for name in layers.__all__
            if isinstance(getattr(layers, name), type)}


def _public_module_and_name(cls):
    """``(module, registered_name)`` as tf-keras writes them for ``cls``."""
    if _builtin_classes().get(cls.__name__) is cls:
        if cls.__name__ in _TF_MODULES:
            return _TF_MODULES[cls.__name__], cls.__name__
        # tf-keras exports Sequential as keras.Sequential
        return ("keras" if cls.__name__ == "Sequential" else "keras.layers"), None
    module = cls.__module__
    return (None if module == "__main__" else module), get_registered_name(cls)


def _class_from_module(module, name, registered, config):
    """A user class a config names with its module, found as tf-keras's
    serialization_lib finds it: by importing the module (so a model whose layers are
    defined in an importable module loads without ``custom_objects``).

    Raises
    ------
    TypeError
        If the module cannot be imported or does not hold the class.
    """
    import importlib
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError:
        raise TypeError(f"Could not deserialize class '{name}' because its parent module "
                        f"{module} cannot be imported. Full object config: {config}"
                        ) from None
    cls = vars(mod).get(name) or (vars(mod).get(registered) if registered else None)
    if cls is None and name.count(".") == 1:  # a __qualname__
        outer, inner = name.split(".")
        cls = getattr(vars(mod).get(outer), inner, None)
    if not isinstance(cls, type):  # (a function or a value of that name is no class)
        raise TypeError(f"Could not locate class '{name}'. Make sure custom classes are "
                        "decorated with `@numbarnn.utils.register_keras_serializable()`. "
                        f"Full object config: {config}")
    return cls


def serialize(obj):
    """The config dict of a layer, as tf-keras's ``keras.layers.serialize`` writes it:
    ``module``, ``class_name``, ``config`` (``obj.get_config()``),
    ``registered_name``, and ``build_config`` for a built layer."""
    if obj is None:
        return None
    if is_user_function(obj):  # tf-keras writes a function's registered name
        return serialize_function(obj)
    if not hasattr(obj, "get_config"):
        raise TypeError(f"Cannot serialize {obj!r}: it has no `get_config` method.")
    module, registered_name = _public_module_and_name(type(obj))
    out = {"module": module, "class_name": type(obj).__name__,
           "config": plain_config(obj.get_config()), "registered_name": registered_name}
    build_config = obj.get_build_config() if hasattr(obj, "get_build_config") else None
    if build_config is not None:
        out["build_config"] = build_config
    return out


def deserialize(config, custom_objects=None, safe_mode=True):
    """Create a layer from a config dict written by :func:`serialize` or by tf-keras.

    Parameters
    ----------
    config : dict
        ``{"class_name", "config"}``, plus optionally ``module``, ``registered_name``
        and ``build_config``. A user class is looked up by its ``registered_name``
        first, and built from ``build_config`` (as tf-keras builds custom objects;
        built-in layers build on their first call).
    custom_objects : dict, optional
        Extra name -> object mapping for user layers and cells, and for the custom
        activations, initializers, regularizers and constraints their configs name
        (they are in scope while the layer is created, as in tf-keras).
    safe_mode : bool, default True
        Refuse to load Python bytecode (a ``lambda`` ``residual_fn``). An enclosing
        :class:`SafeModeScope` overrides it.
    """
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError("Argument `config` must be a dict with keys 'class_name' and "
                         f"'config'. Received: {config!r}")
    name = config["class_name"]
    if name == "function":  # a function, as serialize writes one (tf-keras's form)
        fn = get_registered_object(config.get("config"), custom_objects)
        if fn is None:  # a built-in one, as tf-keras's BUILTIN_MODULES find it
            from .. import activations
            fn = activations.builtin(config.get("config"))
        if fn is None:
            raise ValueError(f"Unknown function: '{config.get('config')}'. Pass it in "
                             "`custom_objects` or register it.")
        return fn
    builtins = _builtin_classes()
    registered = config.get("registered_name")
    cls = None
    if registered:
        cls = get_registered_object(registered, custom_objects)
    if cls is None:
        cls = get_registered_object(name, custom_objects, builtins)
    if cls is None:  # a config that names a class registered under a package by its name
        packaged = [obj for key, obj in _registered_items() if key.endswith(f">{name}")]
        cls = packaged[0] if len(packaged) == 1 else None
    module = config.get("module")
    if cls is None and isinstance(module, str) and module.split(".")[0] not in (
            "keras", "tf_keras", "numbarnn"):
        cls = _class_from_module(module, name, registered, config)
    if cls is None and "module" in config and config["module"] is None:
        # tf-keras's serialization_lib: a config of the new format whose class has no
        # module is an unregistered user class
        raise TypeError(f"Cannot deserialize object of type `{name}`. If `{name}` is a "
                        "custom class, please register it using the "
                        "`@numbarnn.utils.register_keras_serializable()` decorator (or "
                        "pass it in `custom_objects`).")
    if cls is None:
        hint = (" It is a tf-keras functional or subclassed model: numbarnn has no "
                "functional API; rebuild the model as a `Sequential` (whose config and "
                "weights numbarnn loads), or load its layers' weights one by one with "
                "`set_weights`." if name in ("Functional", "Model") else "")
        raise ValueError(f"Unknown layer: '{name}'. Please ensure you are using a "
                         "`numbarnn.layers` class, or pass your class in "
                         "`custom_objects` or inside `numbarnn.utils.custom_object_scope`."
                         + hint)
    inner = config.get("config", {})
    if isinstance(inner, list):  # a Sequential's config of Keras <= 2.2: its layers'
        from ..layers.sequential import Sequential
        if not (isinstance(cls, type) and issubclass(cls, Sequential)):
            raise ValueError(f"The config of a {name} must be a dict. Received: "
                             f"{inner!r}")
        inner = list(inner)
    else:
        inner = revive_passive(numpy_from_config(dict(inner)), custom_objects)
    from .call_args import accepts
    outer = in_safe_mode()
    with CustomObjectScope(custom_objects), SafeModeScope(
            safe_mode if outer is None else outer):
        if accepts(cls.from_config, "custom_objects"):
            layer = cls.from_config(inner, custom_objects=custom_objects)
        else:
            layer = cls.from_config(inner)
        build_config = config.get("build_config")
        if (build_config and builtins.get(name) is not cls and not layer.built
                and hasattr(layer, "build_from_config")):
            layer.build_from_config(build_config)
    return layer
