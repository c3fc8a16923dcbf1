"""Compiled recurrences. Nothing here knows about Layer objects: the layers describe a
stack as :class:`~numbarnn.kernels.plan.LevelSpec` arrays and an engine runs it."""
from .plan import LevelSpec
from .python_loop import rnn
from .run import run_stack

__all__ = ["LevelSpec", "rnn", "run_stack"]
