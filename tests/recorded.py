"""Reading the recordings of tf-keras outputs (tests/data/tf_keras_*.npz, written by
tests/data/make_tf_keras_*.py through tests/data/recording.py): each case a spec and
its arrays (``x``, ``mask``, ``h0_<i>``, ``w_<i>``, ``out_<call>_<i>``)."""
import json

import numpy as np


def load_recordings(path):
    """``{case: (spec, arrays)}`` of a recording file."""
    with np.load(path) as data:
        flat = {key: data[key] for key in data.files}
    cases = {}
    for key, value in flat.items():
        if "/" in key:
            case, name = key.split("/", 1)
            cases.setdefault(case, {})[name] = value
    return {case: (json.loads(arrays.pop("__spec__").tobytes()), arrays)
            for case, arrays in sorted(cases.items())}


def numbered(arrays, prefix):
    """``arrays[prefix + "0"], arrays[prefix + "1"], ...`` while they exist."""
    out = []
    while f"{prefix}{len(out)}" in arrays:
        out.append(arrays[f"{prefix}{len(out)}"])
    return out


def call_kwargs(arrays):
    """The ``mask`` / ``initial_state`` the recorded calls were given."""
    kwargs = {}
    if "mask" in arrays:
        kwargs["mask"] = arrays["mask"]
    if numbered(arrays, "h0_"):
        kwargs["initial_state"] = numbered(arrays, "h0_")
    return kwargs


def check_calls(layer, arrays, tol):
    """Call ``layer`` as the recording did, once per recorded call, comparing every
    output (dtype, shape, values) with tf-keras's."""
    calls = 0
    while f"out_{calls}_0" in arrays:
        out = layer(arrays["x"], **call_kwargs(arrays))
        out = out if isinstance(out, list) else [out]
        expected = numbered(arrays, f"out_{calls}_")
        assert len(out) == len(expected)
        for got, want in zip(out, expected):
            assert got.dtype == want.dtype and got.shape == want.shape
            np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
        calls += 1
    assert calls >= 1
