"""The Layer engine: layers, weights, input specs, dtype policies, serialization."""
from .base_layer import Layer, reset_uids
from .call_context import name_scope
from .dtype_policy import Policy, global_policy, set_global_policy
from .input_spec import InputSpec, assert_input_compatibility
from .variables import Variable

__all__ = ["Layer", "InputSpec", "Variable", "Policy", "global_policy",
           "set_global_policy", "assert_input_compatibility", "name_scope", "reset_uids"]
