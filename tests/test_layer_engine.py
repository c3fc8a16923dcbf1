"""The Layer contract (reference §6) and the Keras Layer doc examples."""
import json
import re

import numpy as np
import pytest

import numbarnn as nr
from numbarnn import backend as K
from conftest import float_warnings_are_errors


class SimpleDense(nr.Layer):
    """The Keras docs' SimpleDense, written with add_weight."""

    def __init__(self, units=32, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units),
                                 initializer="random_normal", trainable=True, name="w")
        self.b = self.add_weight(shape=(self.units,), initializer="zeros", trainable=True,
                                 name="b")

    def call(self, inputs):
        return K.dot(inputs, self.w) + self.b


def test_simple_dense_doc_example():
    layer = SimpleDense(4)
    x = np.ones((2, 2), "float32")
    y = layer(x)
    assert layer.built and y.shape == (2, 4)
    np.testing.assert_allclose(y, np.ones((2, 2)) @ layer.w.numpy() + layer.b.numpy(),
                               rtol=1e-6)
    assert [w.name for w in layer.weights] == ["simple_dense/w:0", "simple_dense/b:0"]
    np.testing.assert_allclose(x @ layer.w, y, rtol=1e-6)


def test_identity_layer_and_add_loss():
    class ActivityRegularization(nr.Layer):
        def __init__(self, rate=1e-2):
            super().__init__()
            self.rate = rate

        def call(self, inputs):
            self.add_loss(self.rate * np.sum(inputs))
            return inputs

    layer = ActivityRegularization()
    x = np.ones((2, 3), "float32")
    np.testing.assert_array_equal(layer(x), x)
    assert len(layer.losses) == 1
    np.testing.assert_allclose(layer.losses[0], 0.06, rtol=1e-6)
    layer(x)
    assert len(layer.losses) == 1  # eager losses reset at each outermost call
    identity = nr.Layer()
    np.testing.assert_array_equal(identity(x), x)


def test_input_spec_error_text():
    class Conv(nr.Layer):
        def __init__(self):
            super().__init__(name="conv2d")
            self.input_spec = nr.InputSpec(ndim=4)

    with pytest.raises(ValueError) as err:
        Conv()(np.zeros(2))
    assert str(err.value) == ('Input 0 of layer "conv2d" is incompatible with the layer: '
                              "expected ndim=4, found ndim=1. Full shape received: (2,)")


def test_input_spec_axes_shape_and_repr():
    spec = nr.InputSpec(shape=(None, None, 4))
    assert repr(spec) == "InputSpec(shape=(None, None, 4), ndim=3)"
    from numbarnn.engine import assert_input_compatibility
    with pytest.raises(ValueError, match=r"expected shape=\(None, None, 4\), found shape"):
        assert_input_compatibility(spec, np.zeros((1, 2, 3)), "rnn")
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 3"):
        assert_input_compatibility(nr.InputSpec(axes={-1: 3}), np.zeros((1, 2)), "d")
    with pytest.raises(TypeError, match="integer keys"):
        nr.InputSpec(axes={"a": 1})


def test_unique_default_names():
    assert nr.SimpleRNNCell(2).name == "simple_rnn_cell"
    assert nr.SimpleRNNCell(2).name == "simple_rnn_cell_1"
    assert nr.SimpleRNN(2).name == "simple_rnn"


def test_weights_trainable_switch_and_count():
    layer = nr.SimpleRNN(3)
    layer(np.zeros((2, 4, 5), "float32"))
    assert [w.name for w in layer.weights] == [
        "simple_rnn/simple_rnn_cell/kernel:0", "simple_rnn/simple_rnn_cell/recurrent_kernel:0",
        "simple_rnn/simple_rnn_cell/bias:0"]
    assert layer.count_params() == 5 * 3 + 3 * 3 + 3
    assert len(layer.trainable_weights) == 3 and not layer.non_trainable_weights
    layer.trainable = False
    assert not layer.cell.trainable
    assert not layer.trainable_weights and len(layer.non_trainable_weights) == 3
    layer.trainable = True
    assert len(layer.trainable_weights) == 3
    assert nr.SimpleRNN(3, trainable=False).cell.trainable is False


def test_set_weights_errors_and_roundtrip(rng):
    layer = nr.SimpleRNN(2)
    layer(np.zeros((1, 2, 3), "float32"))
    ws = [rng.standard_normal(w.shape) for w in layer.get_weights()]
    layer.set_weights(ws)
    for got, want in zip(layer.get_weights(), ws):
        np.testing.assert_allclose(got, want.astype("float32"))
    with pytest.raises(ValueError, match="was expecting 3 weights"):
        layer.set_weights(ws[:2])
    with pytest.raises(ValueError, match=r"weight shape \(3, 2\) is not compatible with "
                                         r"provided weight shape \(2, 2\)"):
        layer.set_weights([ws[1], ws[1], ws[2]])


def test_count_params_unbuilt():
    with pytest.raises(ValueError, match="isn't built"):
        nr.SimpleRNN(2).count_params()


def test_unknown_kwargs():
    with pytest.raises(TypeError, match="Keyword argument not understood"):
        nr.SimpleRNN(2, foo=1)
    with pytest.raises(TypeError):
        nr.Layer().add_weight("w", (1,), bogus=True)


def test_variable_behaves_like_array():
    v = nr.Variable(np.arange(4.0).reshape(2, 2), name="v:0")
    x = np.ones((1, 2))
    np.testing.assert_allclose(x @ v, [[2.0, 4.0]])
    np.testing.assert_allclose(v @ np.ones(2), [1.0, 5.0])
    np.testing.assert_allclose(v + 1, np.arange(1.0, 5.0).reshape(2, 2))
    np.testing.assert_allclose(np.tanh(v), np.tanh(np.arange(4.0).reshape(2, 2)))
    v.assign(np.zeros((2, 2)))
    assert v.numpy().sum() == 0 and v.shape == (2, 2) and v.dtype == np.float64
    with pytest.raises(ValueError, match="Cannot assign"):
        v.assign(np.zeros(3))


def test_regularization_losses_recomputed():
    layer = nr.SimpleRNN(2, kernel_regularizer="l2", recurrent_regularizer="l1",
                         bias_regularizer="l2", activity_regularizer="l2")
    layer.build((None, None, 3))
    assert len(layer.losses) == 3
    k = layer.cell.kernel
    np.testing.assert_allclose(layer.losses[0], 0.01 * np.sum(k.numpy() ** 2), rtol=1e-6)
    k.assign(np.ones(k.shape))
    np.testing.assert_allclose(layer.losses[0], 0.01 * 6, rtol=1e-6)
    out = layer(np.ones((4, 2, 3), "float32"))
    assert len(layer.losses) == 4
    # tf-keras order: each layer's eager losses (activity) before its callable ones
    np.testing.assert_allclose(layer.losses[0], 0.01 * np.sum(out ** 2) / 4, rtol=1e-5)


def test_dtype_policies():
    layer = nr.SimpleRNN(2, dtype="float64")
    out = layer(np.ones((1, 2, 3), "float32"))
    assert out.dtype == np.float64 and layer.cell.kernel.dtype == np.float64
    mixed = nr.SimpleRNN(2, dtype="mixed_float16")
    assert mixed.compute_dtype == "float16" and mixed.variable_dtype == "float32"
    assert mixed(np.ones((1, 2, 3), "float32")).dtype == np.float16
    assert mixed.cell.kernel.dtype == np.float32
    with pytest.raises(ValueError, match="Cannot convert value foo to a mixed precision"):
        nr.Policy("foo")


@pytest.mark.parametrize("policy,x_dtype,out_dtype", [
    ("mixed_float16", "float32", "float16"), ("float32", "float64", "float32"),
    ("float64", "float32", "float64"), ("float32", "int32", "float32")])
def test_dense_returns_its_compute_dtype(policy, x_dtype, out_dtype):
    """As tf-keras: inputs are cast to the compute dtype, and so is the result (a
    float32 kernel does not promote a float16 product)."""
    dense = nr.Dense(2, dtype=policy, kernel_initializer="ones")
    x = np.arange(6).reshape(2, 3).astype(x_dtype)
    out = dense(x)
    assert out.dtype == np.dtype(out_dtype)
    np.testing.assert_allclose(out, [[3, 3], [12, 12]])
    model = nr.Sequential([nr.SimpleRNN(2, dtype=policy), nr.Dense(1, dtype=policy)])
    assert model(np.ones((1, 2, 3), x_dtype)).dtype == np.dtype(out_dtype)


def _half_bits(a):
    return np.asarray(a, np.float16).view(np.uint16)


@pytest.mark.parametrize("activation", ["linear", "tanh", "relu", "sigmoid", "softmax"])
@pytest.mark.parametrize("policy", ["mixed_float16", "float16"])
def test_float16_dense_rounds_each_step_as_tf_keras(rng, activation, policy):
    """tf-keras's float16 Dense: the kernel read as float16, the product (accumulated
    in float32) rounded, the float16 bias added, the activation of those values; a
    softmax computed in float32 and rounded once, as TensorFlow's kernel. Against a
    float64 reference of those steps: the float32 sum may round a product lying at a
    float16 rounding boundary the other way, so one ulp there."""
    x = (rng.standard_normal((5, 7, 24)) * 3).astype("float32")
    layer = nr.Dense(9, activation=activation, dtype=policy)
    layer.build((None, 24))
    kernel = rng.standard_normal((24, 9)).astype(layer.kernel.dtype)
    bias = rng.standard_normal(9).astype(layer.bias.dtype)
    layer.set_weights([kernel, bias])
    product = (x.astype(np.float16).astype(np.float64)
               @ kernel.astype(np.float16).astype(np.float64)).astype(np.float16)
    z = product + bias.astype(np.float16)  # float16 + float16: rounded once
    wide = z.astype(np.float64)
    want = {"linear": lambda: z, "tanh": lambda: np.tanh(wide),
            "relu": lambda: np.maximum(z, 0), "sigmoid": lambda: 1 / (1 + np.exp(-wide)),
            "softmax": lambda: np.exp(wide) / np.exp(wide).sum(-1, keepdims=True)}[
        activation]()
    got = layer(x)
    assert got.dtype == np.float16
    if activation == "sigmoid":  # numpy's float16 steps, as TensorFlow's: a few ulps
        np.testing.assert_allclose(got, want, rtol=3e-3, atol=1e-4)
    else:
        # A product at a float16 rounding boundary may round the other way (float32
        # sums, in the BLAS's order): one float16 step of the product, carried through
        # the bias and the activation (slopes at most 1; softmax's changes at most
        # twice its largest input change), and one step of the result's rounding.
        def step(a):
            return np.spacing(np.abs(np.asarray(a, np.float16))).astype(np.float64)

        bound = 2 * step(product) + step(want)
        error = np.abs(got.astype(np.float64) - np.asarray(want, np.float64))
        assert np.all(error <= bound), np.max(error / bound)


@pytest.mark.parametrize("policy", ["mixed_float16", "float16"])
def test_float16_recurrent_layers_round_float_inputs_to_float16(rng, policy):
    """tf-keras's autocast: a float32 or float64 input of a float16 recurrent layer (or
    Bidirectional) is rounded to float16 before the recurrence (computed in float32)."""
    x = rng.standard_normal((3, 5, 4)) * 3
    layer = nr.SimpleRNN(6, return_sequences=True, dtype=policy)
    want = layer(x.astype(np.float16))
    for given in (x, x.astype(np.float32)):
        np.testing.assert_array_equal(_half_bits(layer(given)), _half_bits(want))
    both = nr.Bidirectional(nr.SimpleRNN(3, return_sequences=True, dtype=policy),
                            dtype=policy)
    np.testing.assert_array_equal(_half_bits(both(x.astype(np.float32))),
                                  _half_bits(both(x.astype(np.float16))))


def test_mixed_float16_dense_gives_tf_keras_bits():
    """Recorded from tf-keras 2.21 (CPU): Dense(4, dtype="mixed_float16") on these
    weights, linear and softmax, as float16 bit patterns. (The data's products and
    softmax values lie at least 5.7e-5 (relative) from a float16 rounding boundary, so
    a float32 sum in any order, any machine's BLAS, rounds to the same bits.)"""
    x = [[-1.58, 1.06, 2.43, -3.89, 3.07, 1.02], [3.13, 1.09, 4.65, -3.75, 7.1, 4.81],
         [-2.4, 2.64, 1.78, -6.98, 2.38, -2.34]]
    kernel = [[-0.25, -0.602, -0.428, 0.072], [0.097, -1.559, -0.269, -1.345],
              [-1.271, -0.347, 0.855, 0.631], [-0.605, -0.71, -0.827, 0.143],
              [0.937, 0.018, 0.693, 0.315], [1.504, -2.007, -2.131, -0.198]]
    bias = [0.637, -0.411, 0.426, -1.174]
    recorded = {"linear": [[17615, 48316, 17937, 48068], [18715, 51773, 14424, 15634],
                           [16468, 17920, 19287, 49950]],
                "softmax": [[13075, 4230, 14905, 4505], [15360, 0, 1061, 2119],
                            [62, 2450, 15360, 0]]}
    for activation, bits in recorded.items():
        layer = nr.Dense(4, activation=activation, dtype="mixed_float16")
        layer.build((None, 6))
        layer.set_weights([np.array(kernel, "float32"), np.array(bias, "float32")])
        np.testing.assert_array_equal(_half_bits(layer(np.array(x, "float32"))), bits)


def test_get_config_keys_match_tf_keras():
    cell_keys = ["activation", "bias_constraint", "bias_initializer", "bias_regularizer",
                 "dropout", "dtype", "kernel_constraint", "kernel_initializer",
                 "kernel_regularizer", "name", "recurrent_constraint", "recurrent_dropout",
                 "recurrent_initializer", "recurrent_regularizer", "trainable", "units",
                 "use_bias"]
    assert sorted(nr.SimpleRNNCell(3).get_config()) == cell_keys
    layer_keys = ["activation", "activity_regularizer", "bias_constraint", "bias_initializer",
                  "bias_regularizer", "dropout", "dtype", "go_backwards", "kernel_constraint",
                  "kernel_initializer", "kernel_regularizer", "name", "recurrent_constraint",
                  "recurrent_dropout", "recurrent_initializer", "recurrent_regularizer",
                  "return_sequences", "return_state", "stateful", "time_major", "trainable",
                  "units", "unroll", "use_bias"]
    assert sorted(nr.SimpleRNN(3).get_config()) == layer_keys
    assert sorted(nr.RNN(nr.SimpleRNNCell(3)).get_config()) == [
        "cell", "dtype", "go_backwards", "name", "return_sequences", "return_state",
        "stateful", "time_major", "trainable", "unroll"]
    cfg = nr.SimpleRNNCell(3).get_config()
    assert cfg["activation"] == "tanh"
    assert cfg["kernel_initializer"]["class_name"] == "GlorotUniform"


@pytest.mark.parametrize("stateful", [False, True])
def test_from_config_roundtrip(stateful):
    layer = nr.SimpleRNN(3, stateful=stateful, zero_output_for_mask=True,
                         kernel_regularizer="l2")
    again = nr.SimpleRNN.from_config(layer.get_config())
    assert again.get_config() == layer.get_config()
    rnn = nr.RNN([nr.SimpleRNNCell(2), nr.ResidualWrapper(nr.SimpleRNNCell(2))])
    copy = nr.layers.deserialize(nr.layers.serialize(rnn))
    assert copy.get_config() == rnn.get_config()


def test_dense_and_sequential_summary(capsys, rng):
    model = nr.Sequential([nr.SimpleRNN(4, return_sequences=True), nr.SimpleRNN(3),
                           nr.Dense(2, activation="softmax")])
    x = rng.standard_normal((5, 6, 3)).astype("float32")
    y = model(x)
    assert y.shape == (5, 2)
    np.testing.assert_allclose(y.sum(1), 1.0, rtol=1e-6)
    h = model.layers[1](model.layers[0](x))
    d = model.layers[2]
    z = h @ d.kernel.numpy() + d.bias.numpy()
    np.testing.assert_allclose(y, np.exp(z) / np.exp(z).sum(1, keepdims=True), rtol=1e-5)
    model.summary()
    text = capsys.readouterr().out
    assert "Total params: 64 (256.00 Byte)" in text  # (3*4+16+4) + (4*3+9+3) + (3*2+2)
    again = nr.Sequential.from_config(model.get_config())
    assert [type(l) for l in again.layers] == [type(l) for l in model.layers]


@pytest.mark.parametrize("shape,error,message", [
    ((2.9,), TypeError, "Dimension value must be integer .* got value 2.9"),
    ((2.0, 3), TypeError, "got value 2.0 with type <class 'float'>"),
    (("2",), TypeError, "got value '2'"),
    ((None, 3), TypeError, "got value None"),
    ((True,), TypeError, "got value True"),
    ("3", TypeError, r"got value '3'"),
    ((-1,), ValueError, "Dimension -1 must be >= 0"),
])
def test_add_weight_shape_must_be_integers(shape, error, message):
    # tf-keras: TypeError "Dimension value must be integer or None or have an __index__
    # method"; a float dimension used to be truncated silently
    with pytest.raises(error, match=message):
        nr.Layer().add_weight("w", shape=shape)


def test_add_weight_shape_accepts_numpy_integers_and_none():
    layer = nr.Layer()
    assert layer.add_weight("a", shape=(np.int64(2), np.int32(3))).shape == (2, 3)
    assert layer.add_weight("b", shape=None).shape == ()
    assert layer.add_weight("c", shape=[]).shape == ()


def test_sequential_build_needs_the_feature_axis():
    # tf-keras Dense: "The last dimension of the inputs to a Dense layer should be
    # defined. Found None."; the layers used to be built with 1 feature instead
    with pytest.raises(ValueError, match="last dimension of the inputs to `SimpleRNNCell` "
                                         "should be defined. Found None"):
        nr.Sequential([nr.SimpleRNN(2)]).build((None, None, None))
    with pytest.raises(ValueError, match="last dimension of the inputs to a Dense layer "
                                         "should be defined. Found None"):
        nr.Sequential([nr.Dense(2)]).build((None, None))
    model = nr.Sequential([nr.SimpleRNN(2, return_sequences=True), nr.Dense(3)])
    model.build((None, None, 4))
    assert model.layers[0].cell.kernel.shape == (4, 2)
    assert model.layers[1].kernel.shape == (2, 3)
    assert model(np.ones((2, 5, 4), "float32")).shape == (2, 5, 3)
    with pytest.raises(ValueError, match="needs to know its batch size"):
        nr.Sequential([nr.SimpleRNN(2, stateful=True)]).build((None, 3, 4))


def test_unrolled_rnn_needs_the_time_dimension_in_a_model_built_from_a_shape(rng):
    # tf-keras test_unroll_zero_step: the symbolic call of an unrolled RNN on an input
    # whose time dimension is None raises (a Sequential builds from its input shape).
    message = "Cannot unroll a RNN if the time dimension is undefined."
    with pytest.raises(ValueError, match=message):
        nr.Sequential([nr.SimpleRNN(5, unroll=True, input_shape=(None, 5))])
    with pytest.raises(ValueError, match=message):
        nr.Sequential([nr.RNN(nr.SimpleRNNCell(5), return_sequences=True,
                              unroll=True)]).build((None, None, 5))
    with pytest.raises(ValueError, match=message):  # time major: the time axis is 0
        nr.Sequential([nr.SimpleRNN(5, unroll=True, time_major=True,
                                    input_shape=(2, 5))])
    with pytest.raises(ValueError, match=message):  # a later layer
        nr.Sequential([nr.SimpleRNN(3, return_sequences=True, input_shape=(None, 5)),
                       nr.SimpleRNN(2, unroll=True)])
    # a known time dimension, or a model built by its first call, is fine
    x = rng.standard_normal((2, 4, 5)).astype("float32")
    model = nr.Sequential([nr.SimpleRNN(3, unroll=True, input_shape=(4, 5))])
    assert model.output_shape == (None, 3)
    rolled = nr.SimpleRNN(3)
    rolled(x)
    rolled.set_weights(model.get_weights())
    np.testing.assert_array_equal(model(x), rolled(x))
    assert nr.Sequential([nr.SimpleRNN(3, unroll=True)])(x).shape == (2, 3)


def test_sequential_add_of_a_layer_that_fails_to_build_leaves_the_model_as_it_was(rng):
    # tf-keras adds the layer only once its call on the model's output succeeded.
    model = nr.Sequential([nr.SimpleRNN(3, return_sequences=True, input_shape=(4, 5))])
    x = rng.standard_normal((2, 4, 5)).astype("float32")
    before = model(x)
    with pytest.raises(ValueError, match="input feature size to equal"):
        model.add(nr.RNN(nr.ResidualWrapper(nr.SimpleRNNCell(2))))
    assert len(model.layers) == 1 and model.built
    np.testing.assert_array_equal(model(x), before)
    model.add(nr.Dense(2))
    assert [layer.name for layer in model.layers] == ["simple_rnn", "dense"]
    assert model(x).shape == (2, 4, 2)
    empty = nr.Sequential()
    with pytest.raises(ValueError, match="Cannot unroll"):
        empty.add(nr.SimpleRNN(2, unroll=True, input_shape=(None, 5)))
    assert empty.layers == []


def test_sequential_without_input_calls_its_first_layer_on_several_arrays(rng):
    """As tf-keras's deferred model: [x, h0] reaches a first recurrent layer as its
    initial state; a first Dense's input spec refuses two arrays (ValueError, not a
    shape error); the model is then built by a plain call as usual."""
    x = rng.standard_normal((2, 4, 3)).astype("float32")
    h0 = rng.standard_normal((2, 5)).astype("float32")
    rnn, dense = nr.SimpleRNN(5), nr.Dense(2)
    model = nr.Sequential([rnn, dense])
    np.testing.assert_allclose(model([x, h0]), dense(rnn(x, initial_state=h0)),
                               rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(model(x), dense(rnn(x)), rtol=1e-6, atol=1e-7)
    assert model.built
    # predict_on_batch hands predict_step (x,): the list stays whole
    np.testing.assert_allclose(model.predict_on_batch([x, h0]),
                               dense(rnn(x, initial_state=h0)), rtol=1e-6, atol=1e-7)
    flat = nr.Sequential([nr.Dense(2)])
    rows = x[:, 0]
    for given in ([rows, rows], (rows, rows), [[1.0, 2.0]]):
        with pytest.raises(ValueError, match=r'Layer "dense.*" expects 1 input\(s\), but it '
                                             r"received 2 input tensors"):
            flat(given)
    assert not flat.built
    assert flat(rows).shape == (2, 2)


def test_a_layer_built_by_a_sequential_gets_a_tensor_shape(rng):
    """As a layer called directly (and as tf-keras's models): ``build`` gets a
    TensorShape, so a ported layer's ``input_shape.as_list()`` works in a model."""
    seen = []

    class Scale(nr.Layer):
        def build(self, input_shape):
            seen.append(input_shape)
            self.w = self.add_weight("w", shape=(input_shape.as_list()[-1],),
                                     initializer="ones")

        def call(self, inputs):
            return inputs * self.w

    x = rng.standard_normal((2, 4, 3)).astype("float32")
    for make in (lambda: [Scale()], lambda: [nr.Input((4, 3)), Scale()],
                 lambda: [nr.SimpleRNN(3, return_sequences=True), Scale()]):
        seen.clear()
        out = nr.Sequential(make())(x)  # (built as it is made, with an Input)
        assert len(seen) == 1
        assert type(seen[0]) is nr.layers.TensorShape and seen[0].rank == 3
        assert out.shape == (2, 4, 3)
    seen.clear()
    nr.Sequential([Scale()]).build((None, 4, 3))
    assert type(seen[0]) is nr.layers.TensorShape and seen[0] == (None, 4, 3)


def test_sequential_pop_on_empty_model():
    model = nr.Sequential([nr.Dense(2)])
    assert model.pop() is None  # (tf-keras 2.x: None; Keras 3 returns the layer)
    assert model.layers == []
    with pytest.raises(TypeError, match="There are no layers in the model."):
        model.pop()


def test_sequential_predict_signature(rng):
    model = nr.Sequential([nr.SimpleRNN(3, dropout=0.5), nr.Dense(2)])
    x = rng.standard_normal((5, 4, 2)).astype("float32")
    whole = model.predict(x, verbose=0)
    np.testing.assert_array_equal(whole, model(x))  # inference: no dropout
    batched = model.predict(x, batch_size=2, verbose="auto", steps=None, callbacks=None,
                            max_queue_size=10, workers=1, use_multiprocessing=False)
    np.testing.assert_allclose(batched, whole, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(model.predict(x, batch_size=np.int64(3)), whole, rtol=1e-6,
                               atol=1e-7)
    for bad in (0, -1):
        with pytest.raises(ValueError, match=f"Expected batch_size to be positive. "
                                             f"Received is {bad}."):
            model.predict(x, batch_size=bad)
    with pytest.raises(TypeError, match="`batch_size` must be a positive integer"):
        model.predict(x, batch_size=2.5)
    with pytest.raises(TypeError, match="unexpected keyword argument 'training'"):
        model.predict(x, training=True)


def test_sequential_predict_steps_and_single_input_lists_as_tf_keras(rng, capsys):
    # tf-keras Model.predict: `steps` batches only (32 rows each without batch_size), a
    # one-element list/tuple is the single input, max_queue_size must be positive
    model = nr.Sequential([nr.SimpleRNN(3, input_shape=(4, 2))])
    x = rng.standard_normal((70, 4, 2)).astype("float32")
    whole = model.predict(x)
    np.testing.assert_allclose(model.predict(x, batch_size=2, steps=1), whole[:2],
                               rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(model.predict(x, batch_size=3, steps=np.int64(2)),
                               whole[:6], rtol=1e-6, atol=1e-7)
    assert model.predict(x, steps=1).shape == (32, 3)
    assert model.predict(x, batch_size=2, steps=50).shape == (70, 3)  # runs out of data
    assert model.predict(x, steps=-1).shape == (70, 3)
    np.testing.assert_array_equal(model.predict([x]), whole)
    np.testing.assert_array_equal(model.predict((x,)), whole)
    np.testing.assert_array_equal(model.predict_on_batch(x[:5]), whole[:5])
    np.testing.assert_array_equal(model.predict_on_batch([x[:5]]), whole[:5])
    with pytest.raises(ValueError, match=re.escape(
            "steps_per_epoch must be positive, None or -1. Received 0.")):
        model.predict(x, steps=0)
    with pytest.raises(TypeError, match="`steps` must be a positive integer"):
        model.predict(x, steps="1")
    with pytest.raises(ValueError, match="Expected max_queue_size to be positive. "
                                         "Received is 0."):
        model.predict(x, max_queue_size=0)
    model.summary(print_fn=None)     # tf-keras's defaults: print, 65 columns
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f'Model: "{model.name}"' and len(lines[1]) == 65


def test_predict_cuts_stateful_and_time_major_models_into_tf_keras_batches(rng):
    """Without batch_size, tf-keras's 32 rows per batch: a stateful model carries its
    states from batch to batch, a time-major model is cut along its first axis (as
    tf-keras cuts it); other built-in models run whole, with the same numbers."""
    stateful = nr.Sequential([nr.SimpleRNN(3, stateful=True,
                                           batch_input_shape=(32, 4, 3))])
    x = rng.standard_normal((64, 4, 3)).astype("float32")
    out = stateful.predict(x)
    stateful.reset_states()
    np.testing.assert_array_equal(out[:32], stateful(x[:32]))
    np.testing.assert_array_equal(out[32:], stateful(x[32:]))  # from the carried states
    time_major = nr.Sequential([nr.SimpleRNN(3, time_major=True, input_shape=(None, 3))])
    steps = rng.standard_normal((40, 6, 3)).astype("float32")
    out = time_major.predict(steps)
    assert out.shape == (12, 3)
    np.testing.assert_array_equal(out, np.concatenate([time_major(steps[:32]),
                                                        time_major(steps[32:])]))
    plain = nr.Sequential([nr.Masking(), nr.SimpleRNN(3, return_sequences=True)])
    np.testing.assert_allclose(plain.predict(x), np.concatenate(
        [plain(x[i:i + 32]) for i in (0, 32)]), rtol=1e-6, atol=1e-7)
    assert type(plain.predict(x)) is np.ndarray  # not the masked output's class

    class RowMixing(nr.Layer):  # a user layer may mix rows: cut as tf-keras cuts
        def call(self, inputs):
            return inputs - inputs.mean(axis=0)

    for mixing in (nr.Sequential([RowMixing()]), nr.Sequential([nr.Softmax(axis=0)])):
        np.testing.assert_allclose(mixing.predict(x), np.concatenate(
            [mixing(x[:32]), mixing(x[32:])]), rtol=1e-6)


def test_predict_takes_iterables_of_batches(rng):
    model = nr.Sequential([nr.SimpleRNN(2, input_shape=(4, 3))])
    x = rng.standard_normal((15, 4, 3)).astype("float32")
    whole = model(x)

    def batches():
        for i in range(0, 15, 5):
            yield (x[i:i + 5],)  # (x,) tuples, as from a dataset of pairs

    class Batches:  # keras.utils.Sequence-like
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return x[i * 8:(i + 1) * 8], np.zeros(8)

    np.testing.assert_allclose(model.predict(batches()), whole, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(model.predict(iter([x[:4], x[4:]])), whole, rtol=1e-6,
                               atol=1e-7)
    np.testing.assert_allclose(model.predict(Batches()), whole, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(model.predict(batches(), steps=2, batch_size=3),
                               whole[:10], rtol=1e-6, atol=1e-7)
    with pytest.raises(ValueError, match="Expected input data to be non-empty."):
        model.predict(iter([]))


def test_predict_step_unpacks_data_and_drives_predict(rng):
    """tf-keras's Model.predict_step: ``x``, ``(x,)``, ``(x, y)``, ``(x, y, w)`` (a
    list as a tuple); a subclass's override is what predict computes per batch."""
    x = rng.standard_normal((5, 3)).astype("float32")
    model = nr.Sequential([nr.Input((3,)), nr.Dense(2)])
    want = model(x)
    for data in (x, (x,), (x, None), [x, x], (x, x, x)):
        np.testing.assert_array_equal(model.predict_step(data), want)
    with pytest.raises(ValueError, match=r"Data is expected to be in format `x`, `\(x,\)`"):
        model.predict_step((x, x, x, x))

    class Doubled(nr.Sequential):
        def predict_step(self, data):
            seen.append(data)
            return super().predict_step(data) * 2

    doubled = Doubled([nr.Input((3,)), nr.Dense(2)])
    doubled.set_weights(model.get_weights())
    seen = []
    np.testing.assert_array_equal(doubled.predict(x), 2 * want)
    np.testing.assert_array_equal(doubled.predict(x, batch_size=2), 2 * want)
    np.testing.assert_array_equal(doubled.predict_on_batch(x), 2 * want)
    assert [len(d) for d in seen[:4]] == [5, 2, 2, 1]  # the batches themselves
    assert type(seen[4]) is tuple and seen[4][0] is x  # (x,), as tf-keras's
    # an iterable's items reach it whole, as tf-keras hands them over: (x, y), (x,)
    seen.clear()
    y = np.zeros(3)
    np.testing.assert_array_equal(doubled.predict(iter([(x[:3], y), (x[3:],)])),
                                  2 * want)
    assert [type(d) for d in seen] == [tuple, tuple] and seen[0][1] is y


def test_predict_leaves_a_call_built_model_with_an_unknown_batch():
    """tf-keras traces predict for batches of any size (a generator's: any shape), so a
    model built by a call then reports an unknown batch; predict_on_batch does not."""
    x = np.ones((2, 5, 3), "float32")
    for predict, shape in [(lambda m: m.predict(x), (None, 5, 3)),
                           (lambda m: m.predict(x, batch_size=1), (None, 5, 3)),
                           (lambda m: m.predict(iter([x, x])), (None, None, None)),
                           (lambda m: m.predict_on_batch(x), (2, 5, 3))]:
        model = nr.Sequential([nr.SimpleRNN(4)])
        model(x)
        predict(model)
        assert model.input_shape == shape
        assert model.output_shape == (shape[0], 4)
    declared = nr.Sequential([nr.SimpleRNN(4, batch_input_shape=(2, 5, 3))])
    declared.predict(x)
    assert declared.input_shape == (2, 5, 3)


def test_symbolic_inputs_and_outputs_of_a_sequential():
    """tf-keras's model.inputs / outputs / input / output and layer.input / output:
    tensors of the model's shapes (None before it is built)."""
    model = nr.Sequential([nr.Input((4, 3), name="x"), nr.SimpleRNN(2, return_sequences=True),
                           nr.Dense(1, dtype="float64")])
    assert model.inputs[0] is model.input and tuple(model.input.shape) == (None, 4, 3)
    assert model.input.name == "x" and model.input_names == ["x"]
    assert tuple(model.output.shape) == (None, 4, 1) and model.output.dtype == "float64"
    assert model.output.shape.as_list() == [None, 4, 1]
    assert model.output_names == [model.layers[-1].name]
    assert [tuple(t.shape) for t in model.outputs] == [(None, 4, 1)]
    assert tuple(model.layers[0].input.shape) == (None, 4, 3)
    assert tuple(model.layers[0].output.shape) == (None, 4, 2)
    assert tuple(model.layers[1].output.shape) == (None, 4, 1)
    # a layer's input is the tensor coming in: of the layer before it's dtype
    assert [l.input.dtype for l in model.layers] == ["float32", "float32"]
    assert [l.output.dtype for l in model.layers] == ["float32", "float64"]
    after = nr.Sequential([nr.Dense(2, input_shape=(3,), dtype="float64"), nr.Dense(1)])
    assert after.layers[1].input.dtype == "float64"
    unbuilt = nr.Sequential([nr.SimpleRNN(2)])
    assert unbuilt.inputs is None and unbuilt.outputs is None
    assert unbuilt.input_names is None and unbuilt.output_names is None
    for what in ("input", "output"):
        with pytest.raises(AttributeError, match=f"is not connected, no {what} to return"):
            getattr(unbuilt, what)
        with pytest.raises(AttributeError, match=f"is not connected, no {what} to return"):
            getattr(nr.Dense(2), what)
    unbuilt(np.ones((2, 4, 3), "float32"))
    assert tuple(unbuilt.input.shape) == (2, 4, 3)  # the shape it was called with
    assert unbuilt.input.name == f"{unbuilt.layers[0].name}_input"
    assert unbuilt.inputs[0] is unbuilt.input  # one tensor, as tf-keras's
    assert tuple(unbuilt.output.shape) == (2, 2)
    with pytest.raises(TypeError, match="no functional API"):
        nr.Sequential([model.output])
    alone = nr.models.model_from_json(nr.Sequential([nr.Input((4, 3), name="i")]).to_json())
    assert alone.built and alone.output_shape == (None, 4, 3) and alone.input.name == "i"


def test_clone_model_rebuilds_the_layers_with_weights_of_their_own(rng):
    model = nr.Sequential([nr.Input((4, 3), name="x"), nr.SimpleRNN(3), nr.Dense(1)])
    clone = nr.models.clone_model(model)
    assert clone.name == model.name and clone.built
    assert [l.name for l in clone.layers] == [l.name for l in model.layers]
    assert clone.get_config() == model.get_config()
    assert not any(a is b for a, b in zip(clone.layers, model.layers))
    assert not np.array_equal(clone.get_weights()[0], model.get_weights()[0])
    clone.set_weights(model.get_weights())
    x = rng.standard_normal((2, 4, 3)).astype("float32")
    np.testing.assert_array_equal(clone(x), model(x))
    other_input = nr.models.clone_model(model, input_tensors=[nr.Input((7, 3))])
    assert other_input.input_shape == (None, 7, 3)
    shared = nr.models.clone_model(model, clone_function=lambda layer: layer)
    assert all(a is b for a, b in zip(shared.layers, model.layers))
    with pytest.raises(ValueError, match="Expected `model` argument to be a `Model`"):
        nr.models.clone_model(nr.Dense(2))
    with pytest.raises(ValueError, match="must be an `Input`"):
        nr.models.clone_model(model, input_tensors=x)


def test_variable_shapes_are_tensor_shapes():
    layer = nr.SimpleRNN(2)
    layer(np.ones((1, 3, 4), "float32"))
    kernel = layer.weights[0]
    assert kernel.shape == (4, 2) and kernel.shape.as_list() == [4, 2]
    assert kernel.shape.rank == 2 and kernel.get_shape().as_list() == [4, 2]


def test_sequential_with_an_input_shape_is_built_as_layers_are_added():
    """As tf-keras: weights exist before any call, so set_weights works at once."""
    model = nr.Sequential([nr.SimpleRNN(2, input_shape=(4, 3))])
    assert model.built and [w.shape for w in model.get_weights()] == [(3, 2), (2, 2),
                                                                       (2,)]
    model.add(nr.Dense(1))
    assert model.built and len(model.get_weights()) == 5
    model.set_weights([np.ones_like(w) for w in model.get_weights()])
    assert model(np.zeros((1, 4, 3), "float32")).shape == (1, 1)


def test_sequential_input_and_output_shape_as_tf_keras():
    """tf-keras 2.21 ``Model.input_shape`` / ``output_shape`` of a Sequential: the
    declared shape, or the one it was built or first called with, a dimension that a
    later call changes becoming None; an AttributeError before it is built."""
    model = nr.Sequential([nr.SimpleRNN(4, return_sequences=True), nr.Dense(2)])
    with pytest.raises(AttributeError):
        _ = model.output_shape
    model(np.zeros((2, 5, 3), "float32"))
    assert (model.input_shape, model.output_shape) == ((2, 5, 3), (2, 5, 2))
    model(np.zeros((3, 5, 3), "float32"))
    assert (model.input_shape, model.output_shape) == ((None, 5, 3), (None, 5, 2))
    lines = []
    model.summary(print_fn=lines.append)  # tf-keras shows the relaxed shapes too
    assert any("(None, 5, 4)" in line for line in lines)
    model(np.zeros((3, 7, 3), "float32"))
    assert (model.input_shape, model.output_shape) == ((None, None, 3), (None, None, 2))
    built = nr.Sequential([nr.SimpleRNN(4, return_sequences=True), nr.Dense(2)])
    built.build((None, 5, 3))
    assert (built.input_shape, built.output_shape) == ((None, 5, 3), (None, 5, 2))
    declared = nr.Sequential([nr.SimpleRNN(4, input_shape=(None, 3)), nr.Dense(2)])
    declared(np.zeros((3, 7, 3), "float32"))
    assert (declared.input_shape, declared.output_shape) == ((None, None, 3), (None, 2))
    assert type(declared.input_shape) is tuple and type(declared.output_shape) is tuple
    declared.add(nr.Dense(7))
    assert declared.output_shape == (None, 7)
    stateful = nr.Sequential([nr.SimpleRNN(4, input_shape=(None, 3), stateful=True,
                                           batch_size=2)])
    assert (stateful.input_shape, stateful.output_shape) == ((2, None, 3), (2, 4))


def test_an_empty_layer_name_is_kept_and_names_weights_from_the_top_level(tmp_path):
    """tf-keras 2.21: ``name=""`` is kept (only None gets a default, so the next
    unnamed Dense is still ``dense``) and, as ``tf.name_scope("")``, its weights are
    named from the top level, also inside a named layer; a Sequential's "" is its
    default name."""
    x = np.zeros((2, 3, 4), "float32")
    nr.engine.reset_uids()
    rnn = nr.SimpleRNN(2, name="")
    rnn(x)
    assert rnn.name == "" and rnn.get_config()["name"] == ""
    assert [w.name for w in rnn.weights] == ["simple_rnn_cell/kernel:0",
                                             "simple_rnn_cell/recurrent_kernel:0",
                                             "simple_rnn_cell/bias:0"]

    class Wrap(nr.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.inner = nr.Dense(2, name="")

        def call(self, inputs):
            return self.inner(inputs)

    wrap = Wrap(name="wrap")
    wrap(x[:, 0])
    assert [w.name for w in wrap.weights] == ["kernel:0", "bias:0"]
    assert nr.Dense(2).name == "dense"
    model = nr.Sequential([nr.SimpleRNN(2, name=""), nr.Dense(1, name="d")], name="")
    assert model.name.startswith("sequential")
    model(x)
    nr.save_model(model, tmp_path / "m.npz")
    again = nr.load_model(tmp_path / "m.npz")
    assert again.layers[0].name == ""
    np.testing.assert_array_equal(again(x), model(x))


def test_sequential_layers_must_have_one_output():
    message = "should have a single output tensor"
    with pytest.raises(ValueError, match=message):
        nr.Sequential([nr.SimpleRNN(2, return_state=True, input_shape=(4, 3))])
    model = nr.Sequential([nr.SimpleRNN(2, return_state=True)])
    with pytest.raises(ValueError, match=message):
        model(np.zeros((1, 4, 3), "float32"))


@pytest.mark.parametrize("units,expected", [("4", 4), (4.0, 4), (2.5, 2), (0, 0)])
def test_dense_units_are_cast_as_in_tf_keras(units, expected):
    dense = nr.Dense(units)
    assert dense.units == expected
    assert dense(np.ones((2, 3), "float32")).shape == (2, expected)


def test_dense_units_errors():
    with pytest.raises(ValueError, match="Received: units=-1"):
        nr.Dense(-1)
    with pytest.raises(TypeError, match="Received: units=None"):
        nr.Dense(None)
    with pytest.raises(TypeError, match="got '4'"):  # tf-keras: '4' <= 0 fails
        nr.SimpleRNN("4")


def test_input_spec_takes_a_bare_int_shape():
    spec = nr.InputSpec(shape=3)
    assert spec.shape == (3,) and spec.ndim == 1


def test_layer_arithmetic_is_silent_on_overflow_and_infinities():
    """tf ops compute inf and NaN without a warning; so do Dense, the backend
    functions custom layers use, activations and regularizers (numpy would warn)."""
    x = np.array([[np.inf, -np.inf, 1e38], [1.0, 2.0, 3.0]], "float32")
    with float_warnings_are_errors("cpu"):
        out = nr.Dense(2, kernel_initializer="ones", activation="softmax")(x)
        layer = SimpleDense(2)
        layer(x)
        products = K.dot(x, np.ones((3, 2), "float32"))
        squares = K.sum(K.square(x)) + K.mean(K.exp(x)) + K.sqrt(-x).sum()
        penalty = nr.regularizers.L2(0.1)(np.array([1e30], "float32"))
        exps = nr.activations.exponential(np.array([100.0], "float32"))
    assert np.isnan(out[0]).all() and np.allclose(out[1], 0.5)
    # K.sqrt clips negatives to 0 (tf-keras): inf + inf + inf
    assert np.isnan(products[0]).all() and squares == np.inf and penalty == np.inf
    assert exps[0] == np.inf


def test_sequential_weights_go_layer_by_layer_with_frozen_layers(rng):
    """A tf-keras model lists its weights layer by layer, trainable or not, so
    ``set_weights(other.get_weights())`` lines up with a frozen layer too."""
    x = rng.standard_normal((2, 5, 3)).astype("float32")
    model = nr.Sequential([nr.SimpleRNN(4, return_sequences=True, trainable=False),
                           nr.SimpleRNN(4)])
    model(x)
    first, second = model.layers
    assert [id(w) for w in model.weights] == [id(w) for w in first.weights + second.weights]
    assert len(model.trainable_weights) == 3 and len(model.non_trainable_weights) == 3
    copy = nr.Sequential([nr.SimpleRNN(4, return_sequences=True), nr.SimpleRNN(4)])
    copy(x)
    copy.set_weights(model.get_weights())
    np.testing.assert_array_equal(copy(x), model(x))


def test_sequential_weight_names_and_layers_without_output_shapes(rng):
    """Built on its first call, a Sequential adds no name of its own to the weights
    (tf-keras's names); a layer that cannot compute its output shape is built by its
    own first call, as in tf-keras's eager models."""
    class Double(nr.Layer):
        def call(self, inputs):
            return inputs * 2.0

    x = rng.standard_normal((2, 5, 3)).astype("float32")
    model = nr.Sequential([nr.Sequential([nr.SimpleRNN(4, name="inner")]),
                           nr.Dense(2, name="out")])
    model(x)
    assert [w.name for w in model.weights] == [
        "inner/simple_rnn_cell/kernel:0", "inner/simple_rnn_cell/recurrent_kernel:0",
        "inner/simple_rnn_cell/bias:0", "out/kernel:0", "out/bias:0"]
    rnn = nr.SimpleRNN(3)
    doubled = nr.Sequential([Double(), rnn])
    out = doubled(x)
    np.testing.assert_array_equal(out, rnn(2.0 * x))
    assert len(doubled.weights) == 3


def test_training_reaches_the_layers_called_inside_a_call(rng):
    """tf-keras's call context: ``training`` given to the outer call is the default of
    every layer called inside it (explicit arguments win), whether the outer ``call``
    takes ``training`` or not; otherwise ``call``'s own default applies."""
    seen = []

    class Probe(nr.Layer):
        def call(self, inputs, training=None):
            seen.append(training)
            return inputs

    class Outer(nr.Layer):  # no `training` in its call
        def __init__(self):
            super().__init__()
            self.probe, self.rnn = Probe(), nr.SimpleRNN(4, dropout=0.5)

        def call(self, inputs):
            return self.rnn(self.probe(inputs))

    class Forcing(nr.Layer):
        def __init__(self):
            super().__init__()
            self.probe = Probe()

        def call(self, inputs, training=None):
            return self.probe(inputs, training=False)

    class DefaultsOn(nr.Layer):
        def call(self, inputs, training=True):
            seen.append(training)
            return inputs

    x = np.ones((64, 5, 3), "float32")
    outer = Outer()
    inference = outer(x)
    np.testing.assert_array_equal(outer(x, training=False), inference)
    dropped = outer(x, training=True)
    assert not np.allclose(dropped, inference)  # the inner SimpleRNN ran its dropout
    np.testing.assert_array_equal(outer.rnn(x, training=False), inference)
    assert seen == [None, False, True]
    seen.clear()
    Forcing()(x, training=True)
    DefaultsOn()(x)
    DefaultsOn()(x, False)  # by position
    Probe()(x, True)
    assert seen == [False, True, False, True]


def test_residual_wrapper_around_a_plain_layer_cell(rng):
    """The tf-keras docs' MinimalRNNCell subclasses Layer (no get_initial_state): the
    wrapper's zero state serves, as in tf-keras."""
    class MinimalRNNCell(nr.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = self.state_size = units

        def build(self, input_shape):
            self.kernel = self.add_weight(shape=(input_shape[-1], self.units),
                                          initializer="uniform", name="kernel")
            self.recurrent_kernel = self.add_weight(shape=(self.units, self.units),
                                                    initializer="uniform",
                                                    name="recurrent_kernel")

        def call(self, inputs, states):
            output = K.dot(inputs, self.kernel) + K.dot(states[0], self.recurrent_kernel)
            return output, [output]

    x = rng.standard_normal((2, 5, 4)).astype("float32")
    cell = MinimalRNNCell(4)
    seq = nr.RNN(nr.ResidualWrapper(cell), return_sequences=True)(x)
    h = np.zeros((2, 4))
    for t in range(5):
        h = x[:, t] @ cell.kernel.numpy() + h @ cell.recurrent_kernel.numpy()
        np.testing.assert_allclose(seq[:, t], h + x[:, t], rtol=1e-5, atol=1e-6)


def test_configs_of_subclasses_without_get_config(tmp_path, rng):
    """tf-keras >= 2.13: plain constructor arguments are the config of a layer that
    does not write get_config, so RNN configs and saved models with such a cell load;
    other arguments make get_config raise, as there."""
    class Cell(nr.Layer):
        def __init__(self, units, scale=1.0, **kw):
            super().__init__(**kw)
            self.units = self.state_size = units
            self.scale = scale

        def build(self, input_shape):
            self.kernel = self.add_weight(shape=(input_shape[-1], self.units),
                                          name="kernel")

        def call(self, inputs, states):
            out = self.scale * K.dot(inputs, self.kernel) + states[0]
            return out, [out]

    class Keeps(nr.Layer):
        def __init__(self, size, **kwargs):
            super().__init__(**kwargs)

    class Holds(nr.Layer):
        def __init__(self, inner):
            super().__init__()

    assert Cell(4, scale=0.5).get_config() == {"units": 4, "scale": 0.5}
    assert Cell(3).get_config() == {"units": 3}
    assert Keeps(2, name="k").get_config() == {"name": "k", "trainable": True,
                                               "dtype": "float32", "size": 2}
    with pytest.raises(NotImplementedError, match="non-serializable argument"):
        Holds(nr.Dense(2)).get_config()
    x = rng.standard_normal((2, 5, 3)).astype("float32")
    model = nr.Sequential([nr.RNN(Cell(4, scale=0.5))])
    want = model(x)
    path = tmp_path / "model.npz"
    nr.save_model(model, path)
    again = nr.load_model(path, custom_objects={"Cell": Cell})
    np.testing.assert_array_equal(again(x), want)
    assert again.layers[0].cell.scale == 0.5


def test_variables_set_as_attributes_are_weights():
    """The tf-keras Layer docs' pattern: ``self.w = tf.Variable(initial_value=...)``."""
    class Scale(nr.Layer):
        def build(self, input_shape):
            self.w = nr.Variable(initial_value=np.ones(input_shape[-1], "float32"))
            self.offset = nr.Variable(np.zeros(1, "float32"), trainable=False)
            self.w = self.w  # set twice: counted once

        def call(self, inputs):
            return inputs * self.w + self.offset

    layer = Scale()
    out = layer(np.full((2, 3), 2.0, "float32"))
    assert len(layer.trainable_weights) == 1 and len(layer.non_trainable_weights) == 1
    layer.set_weights([np.full(3, 3.0), np.ones(1)])
    np.testing.assert_array_equal(layer(np.full((2, 3), 2.0, "float32")), out * 3 + 1)
    read = layer.w.read_value()
    read[0] = 0.0
    assert layer.w.numpy()[0] == 3.0
    with pytest.raises(ValueError, match="initial_value"):
        nr.Variable()


def test_weights_built_inside_a_call_are_named_under_the_caller(rng):
    """tf-keras names the weights of a layer first built inside another's call (or a
    cell's step) under the caller: ``rnn/dense_cell/dense/kernel:0``; an unnamed
    add_weight is ``Variable``."""
    class DenseCell(nr.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = self.state_size = units
            self.dense = nr.Dense(units)

        def call(self, inputs, states):
            out = self.dense(inputs) + states[0]
            return out, [out]

    class Wrap(nr.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.inner = nr.SimpleRNN(2, name="inner")

        def build(self, input_shape):
            self.gain = self.add_weight(shape=(1,), initializer="ones")

        def call(self, inputs):
            return self.inner(inputs) * self.gain

    x = rng.standard_normal((2, 3, 4)).astype("float32")
    rnn = nr.RNN(DenseCell(3, name="dense_cell"), name="rnn")
    rnn(x)
    assert [w.name for w in rnn.weights] == ["rnn/dense_cell/dense/kernel:0",
                                             "rnn/dense_cell/dense/bias:0"]
    wrap = Wrap(name="wrap")
    wrap(x)
    assert [w.name for w in wrap.weights] == [
        "wrap/Variable:0", "wrap/inner/simple_rnn_cell/kernel:0",
        "wrap/inner/simple_rnn_cell/recurrent_kernel:0", "wrap/inner/simple_rnn_cell/bias:0"]


def test_python_float_dtype_is_float32_as_tf_as_dtype_reads_it():
    """tf-keras reads a layer's ``dtype`` with ``tf.as_dtype``: Python's ``float`` is
    float32 there (numpy would read float64), and Python's ``int`` is refused."""
    layer = nr.SimpleRNN(3, dtype=float)
    assert layer.dtype == "float32" and layer.get_config()["dtype"] == "float32"
    out = layer(np.ones((2, 3, 4)))
    assert out.dtype == np.float32 and layer.cell.kernel.dtype == np.float32
    assert nr.Dense(2, dtype=float).dtype_policy.name == "float32"
    with pytest.raises(TypeError, match="Cannot convert the argument `type_value`"):
        nr.Dense(2, dtype=int)


def test_python_float_dtype_is_float32_in_variables_weights_backend_and_initializers():
    """Every ``dtype=`` argument is read with ``tf.as_dtype`` in tf-keras 2.21:
    ``float`` and ``"float"`` give float32 (numpy reads both as float64) and ``int`` /
    ``"int"`` are a TypeError (numpy: int64). Recorded from tf-keras: tf.Variable(1.0,
    dtype=float), add_weight(dtype=float), backend.zeros/ones/cast/variable/constant/
    eye/zeros_like/random_normal(dtype=float), initializers and get_initial_state all
    float32; InputSpec(dtype=float).dtype == 'float32'."""
    for dtype in (float, "float"):
        assert nr.Variable(1.0, dtype=dtype).dtype == np.float32
        assert nr.Variable([1, 2], dtype=dtype).numpy().tolist() == [1.0, 2.0]
        assert nr.Layer().add_weight("w", shape=(2,), dtype=dtype,
                                     initializer="ones").dtype == np.float32
        assert nr.InputSpec(dtype=dtype).dtype == "float32"
        for made in (K.zeros((2,), dtype=dtype), K.ones((2,), dtype=dtype),
                     K.cast(np.ones(2, "float64"), dtype), K.variable([1, 2], dtype=dtype),
                     K.constant(1, dtype=dtype), K.eye(2, dtype=dtype),
                     K.zeros_like(np.ones(2, "float64"), dtype=dtype),
                     K.ones_like(np.ones(2, "float64"), dtype=dtype),
                     K.random_normal((2,), dtype=dtype, seed=1),
                     K.random_uniform((2,), dtype=dtype, seed=1),
                     K.arange(0, 3, dtype=dtype),
                     nr.initializers.Zeros()((2,), dtype=dtype),
                     nr.initializers.Constant(2.0)((2,), dtype=dtype),
                     nr.initializers.GlorotUniform(seed=1)((2, 2), dtype=dtype),
                     nr.initializers.RandomUniform(seed=1)((2, 2), dtype=dtype),
                     nr.initializers.Orthogonal(seed=1)((2, 2), dtype=dtype),
                     nr.SimpleRNNCell(3).get_initial_state(batch_size=2, dtype=dtype)):
            assert np.asarray(made).dtype == np.float32
    for dtype in (int, "int"):
        for make in (lambda dtype=dtype: nr.Variable(1, dtype=dtype),
                     lambda dtype=dtype: nr.Layer().add_weight("w", shape=(2,), dtype=dtype),
                     lambda dtype=dtype: K.zeros((2,), dtype=dtype),
                     lambda dtype=dtype: K.cast(np.ones(2), dtype),
                     lambda dtype=dtype: nr.SimpleRNN(2, dtype=dtype)):
            with pytest.raises(TypeError, match="Cannot convert the argument `type_value`"):
                make()


def test_a_keras_2_2_list_config_loads_as_tf_keras_reads_it():
    """Keras <= 2.2 wrote a Sequential's config as the list of its layers' configs; the
    first one's batch_input_shape builds the model (it loaded as an empty model)."""
    legacy = [{"class_name": "Dense",
               "config": {"name": "d1", "units": 2, "batch_input_shape": [None, 3]}},
              {"class_name": "Dense", "config": {"name": "d2", "units": 1}}]
    for model in (nr.model_from_json(json.dumps({"class_name": "Sequential",
                                                 "config": legacy})),
                  nr.Sequential.from_config(legacy)):
        assert [layer.name for layer in model.layers] == ["d1", "d2"]
        assert model.built and model.output_shape == (None, 1)
    with pytest.raises(TypeError, match="A Sequential config must be a dict"):
        nr.Sequential.from_config("d1")


def test_an_unbuilt_models_weight_lists_raise_as_tf_keras():
    for model in (nr.Sequential([nr.Dense(2)]), nr.Sequential()):
        for name in ("weights", "trainable_weights", "non_trainable_weights", "variables",
                     "trainable_variables", "non_trainable_variables"):
            with pytest.raises(ValueError, match="have not yet been created"):
                getattr(model, name)
    model = nr.Sequential([nr.Dense(2, input_shape=(3,), trainable=False),
                           nr.Dense(1, name="last")])
    assert [w.name for w in model.trainable_weights] == ["last/kernel:0", "last/bias:0"]
    assert len(model.non_trainable_weights) == 2 and len(model.weights) == 4


def test_sequential_takes_no_layer_keywords():
    """tf-keras's Sequential(layers, name) only: an input_shape given to it belongs to
    its first layer (it was dropped silently)."""
    for keyword in ({"input_shape": (3,)}, {"trainable": False}, {"dtype": "float64"}):
        with pytest.raises(TypeError, match="unexpected keyword argument"):
            nr.Sequential([nr.Dense(2)], **keyword)


@pytest.mark.parametrize("positions", [[0.5, 0.2, 0.9], [0, 0.5, 1.0], [30, 30, 65],
                                       [0.45, 0.48, 1.0]])
def test_summary_refuses_positions_that_leave_a_column_no_room(positions):
    """tf-keras loops forever there (its lines growing without end)."""
    model = nr.Sequential([nr.SimpleRNN(3, input_shape=(4, 2)), nr.Dense(1)])
    with pytest.raises(ValueError, match="positions"):
        model.summary(positions=positions, print_fn=lambda *args, **kwargs: None)


def test_a_dict_keyed_by_the_input_name_is_the_input():
    """tf-keras takes {"<input name>": x} in a model's call and predict, warns about
    other keys, and names the missing one."""
    x = np.ones((2, 3), "float32")
    model = nr.Sequential([nr.Dense(2, input_shape=(3,), name="dd")])
    assert model.input_names == ["dd_input"]
    np.testing.assert_array_equal(model({"dd_input": x}), model(x))
    np.testing.assert_array_equal(model.predict({"dd_input": x}), model(x))
    with pytest.warns(UserWarning, match=r"keys \['b'\] which did not match"):
        model({"dd_input": x, "b": x})
    with pytest.raises(ValueError, match='Missing data for input "dd_input"'):
        model.predict({"other": x})
