"""numbarnn: Keras recurrent layers with fused Numba kernels, no deep-learning framework.

The public API mirrors tf-keras 2.x::

    import numbarnn as nr
    layer = nr.layers.SimpleRNN(64, return_sequences=True)
    y = layer(x)            # x: (batch, time, features) numpy array
"""
__version__ = "0.1.0"

from . import activations, backend, constraints, initializers, regularizers  # noqa: E402
from . import layers, mixed_precision, utils  # noqa: E402
from .device import device, get_device, set_device  # noqa: E402
from .engine import (InputSpec, Layer, Policy, Variable, global_policy,  # noqa: E402
                     set_global_policy)
from .layers import (ELU, RNN, AbstractRNNCell, Activation, Bidirectional,  # noqa: E402
                     Dense, Dropout, Embedding, Input, InputLayer, LeakyReLU, Masking, PReLU,
                     ReLU, ResidualWrapper, Sequential, SimpleRNN, SimpleRNNCell, Softmax,
                     StackedRNNCells, ThresholdedReLU)
from .saving import load_model, model_from_json, save_model  # noqa: E402
from . import models  # noqa: E402  (after saving: it re-exports those functions)

__all__ = ["Layer", "InputSpec", "Variable", "Policy", "AbstractRNNCell", "SimpleRNNCell",
           "SimpleRNN", "RNN", "StackedRNNCells", "ResidualWrapper", "Bidirectional",
           "Dense", "Masking", "Embedding", "Dropout", "Activation", "ReLU", "LeakyReLU",
           "ELU", "Softmax", "ThresholdedReLU", "PReLU", "Sequential", "Input",
           "InputLayer", "activations", "backend", "constraints", "initializers", "regularizers",
           "layers", "mixed_precision", "models", "utils", "device", "set_device", "get_device",
           "global_policy", "set_global_policy", "save_model", "load_model", "model_from_json",
           "__version__"]
