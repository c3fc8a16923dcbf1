"""Record tf-keras 2.x Bidirectional outputs for tests/test_bidirectional.py (run where
tf_keras is), as make_tf_keras_reference.py does for the recurrent layers.

    python tests/data/make_tf_keras_bidirectional.py   # writes tf_keras_bidirectional.npz

Each case stores the spec, inputs, mask, initial states, the layer's weights
(get_weights order: forward layer's, then backward layer's) and tf-keras's outputs.
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf_keras as keras  # noqa: E402
from recording import save_cases  # noqa: E402

rng = np.random.default_rng(2025)
cases = {}


def inner(spec):
    kw = {k: spec[k] for k in ("return_sequences", "return_state", "go_backwards",
                               "time_major", "stateful") if k in spec}
    if spec["kind"] == "SimpleRNN":
        return keras.layers.SimpleRNN(spec["units"], **kw)
    return keras.layers.RNN([keras.layers.SimpleRNNCell(u) for u in spec["units"]], **kw)


def record(name, spec, x, mask=None, initial_state=None, calls=1):
    extra = {"batch_input_shape": x.shape} if spec.get("stateful") else {}
    layer = keras.layers.Bidirectional(inner(spec), merge_mode=spec["merge_mode"], **extra)
    layer.build(x.shape)
    layer.set_weights([w + rng.standard_normal(w.shape).astype(w.dtype) * 0.3
                       for w in layer.get_weights()])
    kwargs = {}
    if mask is not None:
        kwargs["mask"] = tf.constant(mask)
    if initial_state is not None:
        kwargs["initial_state"] = [tf.constant(s) for s in initial_state]
    arrays = {"x": x}
    for c in range(calls):
        out = layer(tf.constant(x), **kwargs)
        for i, o in enumerate(out if isinstance(out, list) else [out]):
            arrays[f"out_{c}_{i}"] = o.numpy()
    if mask is not None:
        arrays["mask"] = mask
    for i, s in enumerate(initial_state or []):
        arrays[f"h0_{i}"] = s
    for i, w in enumerate(layer.get_weights()):
        arrays[f"w_{i}"] = w
    cases[name] = {"spec": spec, "arrays": arrays}


def data(shape):
    return rng.standard_normal(shape).astype("float32")


def random_mask(b, t):
    m = rng.random((b, t)) > 0.3
    m[0, :] = False       # a fully masked row
    m[1, :2] = False      # left padding
    m[2, -2:] = False     # right padding
    return m


for mode in ["concat", "sum", "mul", "ave", None]:
    spec = {"kind": "SimpleRNN", "units": 3, "merge_mode": mode, "return_sequences": True,
            "return_state": mode is None}
    record(f"seq_{mode}", spec, data((4, 5, 2)), mask=random_mask(4, 5),
           initial_state=[data((4, 3)), data((4, 3))])
record("last_go_backwards", {"kind": "SimpleRNN", "units": 3, "merge_mode": "concat",
                             "go_backwards": True, "return_state": True},
       data((4, 5, 2)), mask=random_mask(4, 5))
record("time_major", {"kind": "SimpleRNN", "units": 3, "merge_mode": "concat",
                      "return_sequences": True, "time_major": True},
       data((5, 3, 2)), mask=rng.random((5, 3)) > 0.3)
record("stacked", {"kind": "stacked", "units": [3, 2], "merge_mode": "sum",
                   "return_sequences": True, "return_state": True},
       data((4, 5, 2)), mask=random_mask(4, 5))
record("stateful", {"kind": "SimpleRNN", "units": 3, "merge_mode": "ave",
                    "return_sequences": True, "stateful": True}, data((2, 4, 2)), calls=2)

save_cases(cases, "tf_keras_bidirectional.npz", tf, keras)
