"""numbarnn given tf-keras weights reproduces outputs recorded from tf-keras itself.

The recordings (tests/data/tf_keras_reference.npz) come from
tests/data/make_tf_keras_reference.py run with tensorflow + tf_keras installed.
"""
import os

import numpy as np
import pytest

import numbarnn as nr
from recorded import check_calls, load_recordings, numbered

PATH = os.path.join(os.path.dirname(__file__), "data", "tf_keras_reference.npz")
if not os.path.exists(PATH):
    pytest.skip("no tf-keras recordings (run tests/data/make_tf_keras_reference.py)",
                allow_module_level=True)

RECORDED = load_recordings(PATH)


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


@pytest.mark.parametrize("case", sorted(RECORDED))
def test_matches_tf_keras(engine, case):
    spec, arrays = RECORDED[case]
    x = arrays["x"]
    layer = build(spec, x)
    layer.build(x.shape)
    layer.set_weights(numbered(arrays, "w_"))
    check_calls(layer, arrays, tol=1e-12 if x.dtype == np.float64 else 2e-6)
