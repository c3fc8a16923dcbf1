"""numbarnn given tf-keras weights reproduces outputs recorded from tf-keras itself.

The recordings (tests/data/tf_keras_reference.npz) come from
tests/data/make_tf_keras_reference.py run with tensorflow + tf_keras installed.
"""
import json
import os

import numpy as np
import pytest

import numbarnn as nr

PATH = os.path.join(os.path.dirname(__file__), "data", "tf_keras_reference.npz")
if not os.path.exists(PATH):
    pytest.skip("no tf-keras recordings (run tests/data/make_tf_keras_reference.py)",
                allow_module_level=True)

with np.load(PATH) as _data:
    RECORDED = {k: _data[k] for k in _data.files}
CASES = sorted({k.split("/")[0] for k in RECORDED if "/" in k})


def build(spec, x):
    spec = dict(spec)
    kind = spec.pop("kind")
    if kind == "SimpleRNN":
        return nr.SimpleRNN(spec.pop("units"), **spec)
    if kind == "stacked":
        cells = [nr.SimpleRNNCell(u, activation=a)
                 for u, a in zip(spec.pop("units"), spec.pop("activations"))]
        return nr.RNN(cells, **spec)
    units = spec.pop("units")
    return nr.RNN([nr.SimpleRNNCell(units), nr.ResidualWrapper(nr.SimpleRNNCell(units))],
                  **spec)


@pytest.mark.parametrize("case", CASES)
def test_matches_tf_keras(engine, case):
    spec = json.loads(RECORDED[f"{case}/__spec__"].tobytes())
    get = lambda key: RECORDED.get(f"{case}/{key}")  # noqa: E731
    x = get("x")
    layer = build(spec, x)
    weights = [get(f"w_{i}") for i in range(10) if get(f"w_{i}") is not None]
    layer.build(x.shape if not spec.get("stateful") else x.shape)
    layer.set_weights(weights)
    kwargs = {}
    if get("mask") is not None:
        kwargs["mask"] = get("mask")
    h0 = [get(f"h0_{i}") for i in range(4) if get(f"h0_{i}") is not None]
    if h0:
        kwargs["initial_state"] = h0
    tol = 1e-12 if x.dtype == np.float64 else 2e-6
    call = 0
    while get(f"out_{call}_0") is not None:
        out = layer(x, **kwargs)
        out = out if isinstance(out, list) else [out]
        expected = [get(f"out_{call}_{i}") for i in range(len(out))]
        for got, want in zip(out, expected):
            assert got.dtype == want.dtype
            np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
        call += 1
    assert call >= 1
