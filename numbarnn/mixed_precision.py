"""``keras.mixed_precision``: dtype policies under the name tf-keras code uses.

``nr.mixed_precision.set_global_policy("mixed_float16")`` is
``nr.set_global_policy("mixed_float16")``; see :class:`numbarnn.Policy`.
"""
from .engine import Policy, global_policy, set_global_policy

__all__ = ["Policy", "global_policy", "set_global_policy"]
