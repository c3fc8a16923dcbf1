"""Public layers: the RNN family and its Bidirectional wrapper, Dense, Masking,
Embedding, Dropout, the activation layers, Sequential and its Input."""
from ..engine.base_layer import Layer
from ..engine.input_spec import InputSpec
from ..engine.serialization import deserialize, serialize
from .abstract_rnn_cell import AbstractRNNCell
from .activation_layers import (ELU, Activation, LeakyReLU, PReLU, ReLU, Softmax,
                                ThresholdedReLU)
from .bidirectional import Bidirectional
from .cell_wrappers import ResidualWrapper
from .dense import Dense
from .dropout import Dropout
from .dropout_rnn_cell import DropoutRNNCellMixin
from .embedding import Embedding
from .input_layer import Input, InputLayer
from .masking import Masking
from .rnn import RNN
from .rnn_utils import TensorShape
from .sequential import Sequential
from .simple_rnn import SimpleRNN, SimpleRNNCell
from .stacked_rnn_cells import StackedRNNCells

__all__ = ["Layer", "InputSpec", "AbstractRNNCell", "SimpleRNNCell", "SimpleRNN", "RNN",
           "StackedRNNCells", "ResidualWrapper", "Bidirectional", "DropoutRNNCellMixin",
           "Dense", "Masking", "Embedding", "Dropout", "Activation", "ReLU", "LeakyReLU",
           "ELU", "Softmax", "ThresholdedReLU", "PReLU", "Sequential", "Input", "InputLayer",
           "TensorShape", "serialize", "deserialize"]
