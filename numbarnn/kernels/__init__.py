"""Compiled recurrences. Nothing here knows about Layer objects: the layers describe a
stack as :class:`~numbarnn.kernels.plan.LevelSpec` arrays and an engine runs it.

Developers: numba's on-disk cache invalidates a compiled function only when its own
source file changes, not when a function it calls from another file does. After editing
``scalar_math.py`` in a source checkout, delete the ``__pycache__/*.nbi|*.nbc`` files
(the test suite keys its cache folder on a hash of these sources, so it is unaffected).
"""
from .plan import LevelSpec
from .python_loop import rnn
from .run import run_stack

__all__ = ["LevelSpec", "rnn", "run_stack"]
