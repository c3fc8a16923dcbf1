"""StackedRNNCells: a list of cells that behaves as one cell."""
import logging

from ..engine.base_layer import Layer
from ..engine.call_context import name_scope
from ..engine.call_args import accepts
from ..engine import serialization
from .rnn_utils import (TensorShape, cell_step_function, cell_step_kwargs, flatten,
                        flatten_shapes, initial_cell_state, is_nested,
                        map_structure, pack_sequence_as, state_shapes, steps_through_call)

__all__ = ["StackedRNNCells"]


class StackedRNNCells(Layer):
    """Wrap a list of cells into one cell: the output of each feeds the next.

    Parameters
    ----------
    cells : list of cells
        Each with ``call`` and ``state_size``. An empty list is accepted, as in
        tf-keras: the stack then has no states and returns its inputs at each step, so
        an ``RNN`` around it outputs its input sequence (or last step) under the usual
        masking rules.
    **kwargs
        Base Layer arguments, and the deprecated ``reverse_state_order`` (it warns):
        as in tf-keras it reverses ``state_size`` and :meth:`get_initial_state` only,
        while ``call`` reads and returns the states in the cells' order (a tf-keras
        bug: cells whose states differ in size then fail on their initial states).

    Raises
    ------
    TypeError
        If ``cells`` is not a list or tuple.
    ValueError
        If a cell has no ``call`` or no ``state_size``.
    """

    def __init__(self, cells, **kwargs):
        # tf-keras iterates whatever it gets ("'SimpleRNNCell' object is not iterable";
        # a string's characters become "cells")
        if not isinstance(cells, (list, tuple)):
            raise TypeError("Argument `cells` of StackedRNNCells must be a list or tuple "
                            f"of RNN cells. Received: cells={cells!r}")
        for cell in cells:
            if "call" not in dir(cell):
                raise ValueError("All cells must have a `call` method. "
                                 f"Received cell without a `call` method: {cell}")
            if "state_size" not in dir(cell):
                raise ValueError("All cells must have a `state_size` attribute. "
                                 f"Received cell without a `state_size`: {cell}")
        self.reverse_state_order = kwargs.pop("reverse_state_order", False)
        if self.reverse_state_order:
            # logged, as tf-keras logs it (absl), not a Python warning
            logging.getLogger("numbarnn").warning(
                "reverse_state_order=True in StackedRNNCells will soon be deprecated. "
                "Please update the code to work with the natural order of states if you "
                "rely on the RNN states, eg RNN(return_state=True).")
        super().__init__(**kwargs)
        self.cells = list(cells)

    @property
    def state_size(self):
        sizes = tuple(c.state_size for c in self.cells)
        return sizes[::-1] if self.reverse_state_order else sizes

    @property
    def output_size(self):
        if not self.cells:  # the stack returns its inputs: their feature shape
            step_shape = getattr(self, "_step_shape", None)
            if step_shape is None:
                raise ValueError("An empty StackedRNNCells returns its inputs, so its "
                                 "`output_size` is known only once it is built.")
            return TensorShape(step_shape[1:])
        last = self.cells[-1]
        if getattr(last, "output_size", None) is not None:
            return last.output_size
        if is_nested(last.state_size):
            return last.state_size[0]
        return last.state_size

    def get_initial_state(self, inputs=None, batch_size=None, dtype=None):
        states = []
        cells = self.cells[::-1] if self.reverse_state_order else self.cells
        for cell in cells:
            states.append(initial_cell_state(cell, batch_size, dtype, inputs=inputs))
        return tuple(states)

    def call(self, inputs, states, constants=None, training=None, **kwargs):
        """One step of every cell in turn; ``states`` holds each cell's states (flat or
        nested as ``state_size``).

        Raises
        ------
        ValueError
            If ``states`` does not hold one array per state of the stack.
        """
        flat = flatten(states)
        expected = len(flatten(self.state_size))
        if len(flat) != expected:
            raise ValueError(f'Layer "{self.name}" expects {expected} states (its '
                             f"`state_size` is {self.state_size}), but it received "
                             f"{len(flat)} state values.")
        # tf-keras reads and returns the states in the cells' order even with
        # reverse_state_order (which reverses only state_size and get_initial_state):
        # cells of different state sizes then get states of the wrong shapes, an error
        # there as here.
        in_order = tuple(cell.state_size for cell in self.cells)
        nested = pack_sequence_as(in_order, flat)
        new_nested = []
        for cell, cell_states in zip(self.cells, nested):
            cell_states = cell_states if is_nested(cell_states) else [cell_states]
            kw = cell_step_kwargs(cell, training)
            if constants is not None and accepts(cell.call, "constants",
                                                 var_keyword=False):
                kw["constants"] = constants
            # under the cell's name, as tf-keras's call of the cell: what the cell
            # builds in its call is named "stacked_rnn_cells/<cell>/..."
            with name_scope(cell.name if isinstance(cell, Layer) else None):
                inputs, cell_states = cell_step_function(cell, layer_call=True)(
                    inputs, cell_states, **kw)
            new_nested.append(cell_states)
        return inputs, pack_sequence_as(in_order, flatten(new_nested))

    def build(self, input_shape):
        self._build_input_shape = input_shape
        if isinstance(input_shape, list):
            input_shape = input_shape[0]
        self._step_shape = tuple(input_shape)
        for cell in self.cells:
            if isinstance(cell, Layer) and not cell.built:
                with name_scope(cell.name):
                    cell.build(input_shape)
                    cell.built = True
            # the next cell's input: this cell's output, nested as its output_size
            # (else its first state's size), with the batch of the first input shape
            size = getattr(cell, "output_size", None)
            if size is None:
                size = cell.state_size[0] if is_nested(cell.state_size) else \
                    cell.state_size
            batch = flatten_shapes(input_shape)[0][0]
            if is_nested(size):
                input_shape = tuple(map_structure(
                    lambda d, batch=batch: (batch,) + state_shapes(d)[0], size))
            else:
                input_shape = (batch,) + state_shapes(size)[0]
        self.built = True

    def _fused_levels(self, batch_size, dtype, training):
        # a cell the stack steps through its __call__ (see RNN.call) needs the loop
        if (self.reverse_state_order or not self.cells
                or any(steps_through_call(cell) for cell in self.cells)
                or type(self).call is not StackedRNNCells.call):  # a subclass's own step
            return None
        levels = []
        for cell in self.cells:
            fused = getattr(cell, "_fused_levels", None)
            sub = fused(batch_size, dtype, training) if fused else None
            if sub is None:
                return None
            levels += sub
        return levels

    def _fused_weights(self):
        out = []
        for cell in self.cells:
            out += getattr(cell, "_fused_weights", lambda: [])()
        return out

    def get_config(self):
        return {**super().get_config(),
                "cells": [serialization.serialize(c) for c in self.cells]}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        cells = [serialization.deserialize(c, custom_objects=custom_objects)
                 for c in config.pop("cells")]
        return cls(cells, **config)
