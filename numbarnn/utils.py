"""Keras utilities (``keras.utils``): custom objects for deserialization,
:func:`pad_sequences`, :func:`to_categorical` and :func:`set_random_seed`.

A config names user activations, initializers, regularizers, constraints, layers and
cells by their name; these make the names resolvable when a model is re-created::

    with nr.utils.custom_object_scope({"myact": myact}):
        model = nr.load_model(path)

or ``nr.load_model(path, custom_objects={"myact": myact})``, or register the object
once with :func:`register_serializable`.
"""
from ._registry import (CustomObjectScope, custom_object_scope, deserialize_keras_object,
                        get_custom_objects, get_registered_name, get_registered_object,
                        serialize_keras_object)
from .engine.serialization import register_keras_serializable, register_serializable
from .labels import to_categorical
from .padding import pad_sequences
from .random_seed import set_random_seed

__all__ = ["CustomObjectScope", "custom_object_scope", "get_custom_objects",
           "get_registered_object", "get_registered_name", "register_serializable",
           "register_keras_serializable", "serialize_keras_object",
           "deserialize_keras_object", "pad_sequences", "to_categorical",
           "set_random_seed"]
