"""``keras.models``: the model class and the saving functions under the names tf-keras
code uses (``nr.models.load_model("m.keras")`` is ``nr.load_model``)."""
from .cloning import clone_model
from .layers.sequential import Sequential
from .saving import load_model, model_from_json, save_model

__all__ = ["Sequential", "clone_model", "load_model", "save_model", "model_from_json"]
