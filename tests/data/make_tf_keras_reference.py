"""Record tf-keras 2.x outputs for tests/test_tf_keras_parity.py (run where tf_keras is).

    python tests/data/make_tf_keras_reference.py   # writes tests/data/tf_keras_reference.npz

Each case stores the inputs, mask, initial state, the layer's weights (get_weights order)
and tf-keras's outputs; the test rebuilds the same layer in numbarnn, sets the weights and
compares.
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf_keras as keras  # noqa: E402
from recording import save_cases  # noqa: E402
from tf_keras.src.layers.rnn.cell_wrappers import ResidualWrapper  # noqa: E402

rng = np.random.default_rng(2024)
cases = {}


def record(name, spec, layer, x, mask=None, initial_state=None, calls=1, dtype="float32"):
    kwargs = {}
    if mask is not None:
        kwargs["mask"] = tf.constant(mask)
    if initial_state is not None:
        kwargs["initial_state"] = [tf.constant(s) for s in initial_state]
    outs = []
    for _ in range(calls):
        out = layer(tf.constant(x), **kwargs)
        outs.append([o.numpy() for o in (out if isinstance(out, list) else [out])])
    arrays = {"x": x}
    if mask is not None:
        arrays["mask"] = mask
    for i, s in enumerate(initial_state or []):
        arrays[f"h0_{i}"] = s
    for i, w in enumerate(layer.get_weights()):
        arrays[f"w_{i}"] = w
    for c, out in enumerate(outs):
        for i, o in enumerate(out):
            arrays[f"out_{c}_{i}"] = o
    cases[name] = {"spec": spec, "arrays": arrays}


def data(shape, dtype="float32"):
    return rng.standard_normal(shape).astype(dtype)


def random_mask(b, t):
    m = rng.random((b, t)) > 0.3
    m[0, :] = False       # a fully masked row
    m[1, 0] = False       # step 0 masked
    return m


for opts in [dict(return_sequences=True), dict(return_sequences=False),
             dict(return_sequences=True, go_backwards=True),
             dict(return_sequences=True, zero_output_for_mask=True),
             dict(return_sequences=False, zero_output_for_mask=True, go_backwards=True),
             dict(return_sequences=True, return_state=True, activation="relu",
                  use_bias=False)]:
    name = "simple_rnn_" + "_".join(f"{k}-{v}" for k, v in opts.items())
    layer = keras.layers.SimpleRNN(5, **opts)
    x = data((4, 7, 3))
    layer.build((None, None, 3))
    layer.set_weights([w + rng.standard_normal(w.shape).astype(w.dtype) * 0.3
                       for w in layer.get_weights()])
    record(name, {"kind": "SimpleRNN", "units": 5, **opts}, layer, x, mask=random_mask(4, 7),
           initial_state=[data((4, 5))])

layer = keras.layers.SimpleRNN(4, return_sequences=True, time_major=True)
record("time_major", {"kind": "SimpleRNN", "units": 4, "return_sequences": True,
                      "time_major": True}, layer, data((6, 3, 2)),
       mask=rng.random((6, 3)) > 0.3)

layer = keras.layers.SimpleRNN(4, dtype="float64", return_sequences=True)
record("float64", {"kind": "SimpleRNN", "units": 4, "return_sequences": True,
                   "dtype": "float64"}, layer, data((3, 5, 2), "float64"))

layer = keras.layers.SimpleRNN(3, stateful=True, return_sequences=True)
record("stateful", {"kind": "SimpleRNN", "units": 3, "stateful": True,
                    "return_sequences": True}, layer, data((2, 4, 3)), calls=3)

cells = [keras.layers.SimpleRNNCell(4), keras.layers.SimpleRNNCell(4, activation="sigmoid"),
         keras.layers.SimpleRNNCell(2)]
layer = keras.layers.RNN(cells, return_sequences=True, return_state=True)
record("stacked", {"kind": "stacked", "units": [4, 4, 2],
                   "activations": ["tanh", "sigmoid", "tanh"], "return_sequences": True,
                   "return_state": True}, layer, data((3, 6, 2)), mask=random_mask(3, 6))

cells = [keras.layers.SimpleRNNCell(3), ResidualWrapper(keras.layers.SimpleRNNCell(3))]
layer = keras.layers.RNN(cells, return_sequences=True, go_backwards=True)
record("residual", {"kind": "residual", "units": 3, "return_sequences": True,
                    "go_backwards": True}, layer, data((3, 5, 3)), mask=random_mask(3, 5))

save_cases(cases, "tf_keras_reference.npz", tf, keras)
