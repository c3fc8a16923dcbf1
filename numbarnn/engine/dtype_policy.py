"""Dtype policies (tf-keras ``mixed_precision.Policy``): compute vs. variable dtype.

numpy has no bfloat16: under ``mixed_bfloat16`` the CPU computes and returns float32
(the variable dtype); the policy still reports ``compute_dtype == "bfloat16"``.
"""
import numpy as np

__all__ = ["Policy", "global_policy", "set_global_policy", "as_policy", "check_floating",
           "non_floating_dtype", "as_dtype", "MIXED"]

# The mixed policies: (compute dtype, variable dtype).
MIXED = {"mixed_float16": ("float16", "float32"),
          "mixed_bfloat16": ("bfloat16", "float32")}


# tf.as_dtype's other names; numpy reads 'float' as float64 and 'half' not at all.
_TF_DTYPE_ALIASES = {"float": "float32", "double": "float64", "half": "float16"}


# What tf.as_dtype refuses where numpy would read it (as int64 and complex128).
_NOT_TF_DTYPES = (int, "int", complex)


def as_dtype(dtype):
    """``dtype`` as a numpy dtype, read as ``tf.as_dtype`` reads it where numpy reads it
    otherwise: ``float`` and ``"float"`` are float32 (numpy: float64), ``"half"`` is
    float16, and ``int``, ``"int"`` and ``complex`` are a TypeError (other numpy
    spellings, e.g. ``"f4"``, are accepted).
    """
    if isinstance(dtype, (str, type)):
        if dtype in _NOT_TF_DTYPES:
            raise TypeError("Cannot convert the argument `type_value`: "
                            f"{dtype!r} to a TensorFlow DType.")
        if dtype is float:
            return np.dtype("float32")
        dtype = _TF_DTYPE_ALIASES.get(dtype, dtype) if isinstance(dtype, str) else dtype
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError("Cannot convert the argument `type_value`: "
                        f"{dtype!r} to a TensorFlow DType.") from None


# What tf-keras suggests instead of each removed '..._float32_vars' policy.
_FLOAT32_VARS_ADVICE = {
    "infer_float32_vars": " Please use the 'mixed_float16' or 'mixed_bfloat16' policy "
                          "instead.",
    "infer_with_float32_vars": " Please use the 'mixed_float16' or 'mixed_bfloat16' "
                               "policy instead.",
    "float16_with_float32_vars": " Please use the 'mixed_float16' policy instead.",
    "bfloat16_with_float32_vars": " Please use the 'mixed_bfloat16' policy instead."}


class Policy:
    """A dtype policy.

    Parameters
    ----------
    name : str
        ``"float32"``, ``"float64"``, ``"float16"``, ``"mixed_float16"``,
        ``"mixed_bfloat16"`` or ``"_infer"``.
    """

    def __init__(self, name):
        if isinstance(name, np.dtype) or isinstance(name, type):
            name = np.dtype(name).name
        if not isinstance(name, str):
            raise TypeError(f"'name' must be a string, not a {type(name).__name__}. "
                            f"Received: name={name!r}")
        # tf-keras's Policy("float").name is "float" (numpy spellings such as "f4",
        # which tf refuses, are named by their dtype below)
        self._name = name
        name = _TF_DTYPE_ALIASES.get(name, name)
        if name == "bfloat16":
            raise ValueError("dtype 'bfloat16' is not supported: numpy has no bfloat16. "
                             "Use 'mixed_bfloat16' (computed in float32 here) or "
                             "'float32'.")
        if name in MIXED:
            self._compute, self._variable = MIXED[name]
        elif name == "_infer":
            self._compute = self._variable = None
        elif name.endswith("_float32_vars"):
            raise ValueError("Policies ending in '_float32_vars' have been removed from "
                             f"TensorFlow.{_FLOAT32_VARS_ADVICE.get(name, '')} Got policy "
                             f"name: '{name}'")
        else:
            try:
                dtype = np.dtype(name)
            except TypeError:
                dtype = None
            if dtype is None or dtype.kind not in "fiub":
                raise ValueError(
                    f"Cannot convert value {name} to a mixed precision Policy. Valid "
                    "policies include 'mixed_float16', 'mixed_bfloat16', and the name "
                    "of any dtype such as 'float32'.")
            self._compute = self._variable = dtype.name
            if self._name not in _TF_DTYPE_ALIASES:
                self._name = dtype.name

    @property
    def name(self):
        return self._name

    @property
    def compute_dtype(self):
        return self._compute

    @property
    def variable_dtype(self):
        return self._variable

    def __repr__(self):
        return f'<Policy "{self._name}">'

    def __eq__(self, other):
        return isinstance(other, Policy) and other.name == self.name

    def __hash__(self):
        return hash(self._name)

    def get_config(self):
        return {"name": self._name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


_global = None  # None: the policy of the backend's floatx


def global_policy():
    """Return the policy layers get when constructed with ``dtype=None``: the one set
    by :func:`set_global_policy`, else that of ``backend.floatx()`` (as in tf-keras)."""
    if _global is not None:
        return _global
    from ..backend.config import floatx  # (the backend package imports this module)
    return Policy(floatx())


def set_global_policy(policy):
    """Set the global dtype policy (a name or a :class:`Policy`; None goes back to
    ``backend.floatx()``). As in tf-keras, only floating-point (or "_infer")
    policies."""
    global _global
    if policy is not None:
        policy = policy if isinstance(policy, Policy) else Policy(policy)
        compute = policy.compute_dtype
        if (compute is not None and compute != "bfloat16"
                and np.dtype(compute).kind != "f"):
            raise ValueError("set_global_policy can only be used to set the global policy "
                             'to floating-point policies, such as "float32" and '
                             f'"mixed_float16", but got policy: {policy.name}')
    _global = policy


def as_policy(dtype):
    """Turn a ``dtype=`` argument (None, str, numpy dtype, Policy, config dict) into a Policy."""
    if dtype is None:
        return global_policy()
    if isinstance(dtype, Policy):
        return dtype
    if isinstance(dtype, dict):
        return Policy(dtype.get("config", dtype).get("name"))
    # tf-keras's get_policy: a layer reads any other dtype with tf.as_dtype (Python's
    # float is float32 there, "double" float64; "foo", "_infer" and Python's int are a
    # TypeError), so its policy is named by the dtype.
    if isinstance(dtype, str) and (dtype in MIXED or dtype == "bfloat16"):
        return Policy(dtype)
    return Policy(as_dtype(dtype).name)


def numpy_compute_dtype(policy):
    """The numpy dtype arrays are computed in under ``policy`` (bfloat16 -> float32)."""
    name = policy.compute_dtype
    if name is None:
        return None
    return np.dtype("float32" if name == "bfloat16" else name)


def check_floating(layer):
    """Raise ``TypeError`` unless ``layer`` computes in a floating dtype.

    The tf-keras rule for ``Dense``, applied to every numbarnn layer with weights: the
    kernels and activations are defined for floats only (an integer or bool policy
    would otherwise fail deep inside numba).
    """
    dtype = non_floating_dtype(layer)
    if dtype is not None:
        raise TypeError(f"A {type(layer).__name__} layer can only be built with a "
                        f"floating-point dtype. Received: dtype={dtype}")


def non_floating_dtype(layer):
    """The name of ``layer``'s compute dtype where it is not floating, else None."""
    dtype = numpy_compute_dtype(layer.dtype_policy)
    return dtype.name if dtype is not None and dtype.kind != "f" else None
