"""AbstractRNNCell: the base for user-written cells."""
from ..engine.base_layer import Layer
from .rnn_utils import generate_zero_filled_state_for_cell

__all__ = ["AbstractRNNCell"]


class AbstractRNNCell(Layer):
    """Base class for RNN cells (tf-keras ``AbstractRNNCell``).

    Subclasses define ``call(inputs, states) -> (output, new_states)``, ``state_size`` and
    ``output_size``. A subclass may also define ``compiled_step``: an ``@njit`` function
    ``(x_t, h, params) -> (output, new_h)`` on 1-D rows, with ``params`` the tuple its
    ``compiled_params()`` returns (default: the cell's weights); the whole time loop then
    runs compiled (see :class:`RNN`).
    """

    def call(self, inputs, states):
        raise NotImplementedError

    @property
    def state_size(self):
        raise NotImplementedError

    @property
    def output_size(self):
        raise NotImplementedError

    def get_initial_state(self, inputs=None, batch_size=None, dtype=None):
        """Zeros shaped by ``state_size``."""
        return generate_zero_filled_state_for_cell(self, inputs, batch_size, dtype)
