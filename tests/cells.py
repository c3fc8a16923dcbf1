"""Shared scaffolding for the user-written cells in the tests."""
import numbarnn as nr


class UnitsCell(nr.AbstractRNNCell):
    """A cell with one ``[batch, units]`` state whose output has ``units`` features."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    @property
    def state_size(self):
        return self.units

    @property
    def output_size(self):
        return self.units
