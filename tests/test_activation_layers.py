"""The activation layers (Activation, ReLU, LeakyReLU, ELU, ThresholdedReLU, Softmax,
PReLU)
against float64 numpy references, tf-keras's configs and errors, and files tf-keras
saved with them (tests/data/make_tf_keras_files.py)."""
import json
import os

import numpy as np
import pytest

import numbarnn as nr

HERE = os.path.join(os.path.dirname(__file__), "data", "tf_keras_files")


def _f32(value):
    return float(np.float32(value))


def _relu_reference(x, max_value, slope, threshold):
    x = x.astype(np.float64)
    out = np.where(x >= threshold, x, slope * (x - threshold))
    return out if max_value is None else np.minimum(out, max_value)


def _softmax_reference(x, axis):
    x = x.astype(np.float64)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@pytest.fixture
def x(rng):
    return (rng.standard_normal((3, 4, 5)) * 3).astype("float32")


@pytest.mark.parametrize("max_value, slope, threshold", [
    (None, 0.0, 0.0), (6.0, 0.0, 0.0), (4.5, 0.1, 0.5), (None, 0.3, 1.0), (0.0, 0.0, 0.0)])
def test_relu_layer_is_the_capped_leaky_thresholded_relu(x, max_value, slope, threshold):
    layer = nr.ReLU(max_value=max_value, negative_slope=slope, threshold=threshold)
    expected = _relu_reference(x, None if max_value is None else _f32(max_value),
                               _f32(slope), _f32(threshold))
    np.testing.assert_allclose(layer(x), expected, rtol=1e-6, atol=1e-6)
    assert layer(x).dtype == np.float32
    config = layer.get_config()
    assert (config["max_value"], config["negative_slope"], config["threshold"]) == (
        None if max_value is None else _f32(max_value), _f32(slope), _f32(threshold))


@pytest.mark.parametrize("make, reference", [
    (lambda: nr.LeakyReLU(), lambda x: np.where(x > 0, x, _f32(0.3) * x)),
    (lambda: nr.LeakyReLU(0.1), lambda x: np.where(x > 0, x, _f32(0.1) * x)),
    (lambda: nr.ELU(), lambda x: np.where(x > 0, x, np.expm1(x))),
    (lambda: nr.ELU(0.5), lambda x: np.where(x > 0, x, 0.5 * np.expm1(x))),
    (lambda: nr.ThresholdedReLU(), lambda x: np.where(x > 1.0, x, 0.0)),
    (lambda: nr.ThresholdedReLU(0.0), lambda x: np.where(x > 0.0, x, 0.0)),
    (lambda: nr.Activation("tanh"), np.tanh),
    (lambda: nr.Activation(lambda v: v * 2), lambda x: 2 * x),
])
def test_elementwise_layers_match_their_float64_formula(x, make, reference):
    np.testing.assert_allclose(make()(x), reference(x.astype(np.float64)), rtol=1e-6,
                               atol=1e-6)
    np.testing.assert_allclose(make()(x.astype("float64")).astype(np.float64),
                               reference(x.astype(np.float64)), rtol=1e-7, atol=1e-7)


@pytest.mark.parametrize("axis", [-1, 1, (1, 2), [2]])
def test_softmax_layer_normalises_along_its_axes(x, axis):
    axes = tuple(axis) if isinstance(axis, (tuple, list)) else axis
    np.testing.assert_allclose(nr.Softmax(axis=axis)(x), _softmax_reference(x, axes),
                               rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("robust", [False, True])
def test_softmax_layer_sends_masked_entries_to_zero(rng, robust):
    scores = rng.standard_normal((3, 6)).astype("float32")
    mask = rng.random((3, 6)) > 0.4
    mask[:, 0] = True
    expected = np.where(mask, np.exp(scores), 0.0)
    expected /= expected.sum(axis=1, keepdims=True)
    layer = nr.Softmax(axis=1, robust_masking=robust)
    np.testing.assert_allclose(layer(scores, mask=mask), expected, rtol=1e-5, atol=1e-7)
    assert layer.get_config().get("robust_masking", False) is robust
    if robust:  # a float mask: kept above 0.5
        np.testing.assert_allclose(layer(scores, mask=mask.astype("float32")), expected,
                                   rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("robust", [False, True])
def test_softmax_names_a_mask_that_does_not_fit(robust):
    """A (batch, time) mask (Masking's, after a recurrent layer's sequences) against
    (batch, time, units) scores: tf-keras fails in its addition; here an error that
    names the argument and both shapes, for either masking rule."""
    x = np.ones((3, 4, 5), "float32")
    x[0, 1] = 0.0
    model = nr.Sequential([nr.Masking(0.0), nr.SimpleRNN(3, return_sequences=True),
                           nr.Softmax(robust_masking=robust)])
    message = (r'Layer "softmax.*": argument `mask` must broadcast against the inputs.*'
               r"Received: mask.shape=\(3, 4\), inputs.shape=\(3, 4, 3\)")
    with pytest.raises(ValueError, match=message):
        model(x)


def test_activation_layers_pass_the_mask_on(x):
    padded = x.copy()
    padded[0, 2:] = 0.0
    masked = nr.Masking(0.0)(padded)
    for layer in (nr.Activation("relu"), nr.ReLU(), nr.LeakyReLU(), nr.ELU(),
                  nr.ThresholdedReLU()):  # (Softmax's call uses the mask: see above)
        np.testing.assert_array_equal(layer(masked)._keras_mask, masked._keras_mask)
        assert layer.compute_output_shape((None, 4, 5)) == (None, 4, 5)
        assert layer.weights == []


@pytest.mark.parametrize("make, message", [
    (lambda: nr.ReLU(max_value=-1.0), "max_value of a ReLU layer cannot be a negative "
                                      "value. Received: -1.0"),
    (lambda: nr.ReLU(negative_slope=-0.1), "negative_slope of a ReLU layer cannot be a "
                                           "negative value. Received: -0.1"),
    (lambda: nr.ReLU(threshold=None), "threshold of a ReLU layer cannot be a negative "
                                      "value. Received: None"),
    (lambda: nr.LeakyReLU(None), "The alpha value of a Leaky ReLU layer cannot be None"),
    (lambda: nr.ELU(None), "Alpha of an ELU layer cannot be None"),
    (lambda: nr.ThresholdedReLU(None), "Theta of a Thresholded ReLU layer cannot be None"),
    (lambda: nr.ThresholdedReLU(-1.0), "The theta value of a Thresholded ReLU layer "
                                       r"should be >=0. Received: -1.0"),
    (lambda: nr.Activation("Tanh"), "Unknown activation function: 'Tanh'"),
])
def test_bad_arguments_get_tf_keras_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_a_layer_as_another_layers_activation(rng, layer_engine):
    """tf-keras takes a layer as `activation` (and its class name as a string), and
    writes that layer's config in the owner's; the recurrence with one matches a
    float64 loop on every engine."""
    assert type(nr.activations.get("LeakyReLU")) is nr.LeakyReLU
    assert nr.activations.get("ReLU").max_value is None
    layer = nr.SimpleRNN(3, activation=nr.LeakyReLU(0.2), return_sequences=True)
    x = rng.standard_normal((2, 5, 4)).astype("float32")
    out = layer(x)
    kernel, recurrent, bias = (w.astype(np.float64) for w in layer.get_weights())
    h = np.zeros((2, 3))
    for t in range(5):
        z = x[:, t].astype(np.float64) @ kernel + h @ recurrent + bias
        h = np.where(z > 0, z, _f32(0.2) * z)
        np.testing.assert_allclose(out[:, t], h, rtol=1e-5, atol=1e-6)
    config = layer.get_config()["activation"]
    assert (config["module"], config["class_name"], config["config"]["alpha"]) == (
        "keras.layers", "LeakyReLU", _f32(0.2))
    again = nr.SimpleRNN.from_config(json.loads(json.dumps(layer.get_config())))
    assert type(again.activation) is nr.LeakyReLU and again.activation.alpha == _f32(0.2)
    dense = nr.Dense(2, activation="ELU")
    assert type(dense.activation) is nr.ELU


@pytest.mark.parametrize("name", ["activations.keras", "activations.h5"])
def test_a_tf_keras_model_with_activation_layers_loads_with_its_outputs(name, tmp_path):
    reference = np.load(os.path.join(HERE, "activations.npz"))
    model = nr.load_model(os.path.join(HERE, name))
    assert [type(layer).__name__ for layer in model.layers] == [
        "SimpleRNN", "Activation", "ReLU", "ELU", "ThresholdedReLU", "PReLU", "Dense",
        "Softmax", "LeakyReLU"]
    assert [w.name for w in model.layers[6].weights] == [  # the PReLU activation's too
        "dense/kernel:0", "dense/bias:0", "dense/p_re_lu_1/alpha:0"]
    np.testing.assert_allclose(model(reference["x"]), reference["y"], rtol=1e-5,
                               atol=1e-6)
    model.save(tmp_path / name)  # and numbarnn's file of it loads the same
    np.testing.assert_allclose(nr.load_model(tmp_path / name)(reference["x"]),
                               reference["y"], rtol=1e-5, atol=1e-6)


def test_prelu_learns_a_slope_per_entry_or_per_shared_axis(x, rng):
    layer = nr.PReLU(alpha_initializer="random_uniform")
    out = layer(x)
    alpha = layer.get_weights()[0]
    assert alpha.shape == (4, 5) and [w.name for w in layer.weights] == [
        f"{layer.name}/alpha:0"]
    np.testing.assert_allclose(out, np.where(x > 0, x, alpha * x), rtol=1e-6, atol=1e-7)
    shared = nr.PReLU(alpha_initializer="random_uniform", shared_axes=1)
    out = shared(x)
    slopes = shared.get_weights()[0]
    assert slopes.shape == (1, 5) and shared.shared_axes == [1]
    np.testing.assert_allclose(out, np.where(x > 0, x, slopes * x), rtol=1e-6, atol=1e-7)
    with pytest.raises(ValueError, match="incompatible"):  # its unshared axis is fixed
        shared(x[..., :3])
    config = shared.get_config()
    assert config["shared_axes"] == [1] and config["alpha_initializer"]["class_name"] == (
        "RandomUniform")
    assert nr.PReLU()(x).min() >= 0  # zeros: a plain ReLU
    with pytest.raises(ValueError, match="must be known"):
        nr.PReLU().build((None, None, 5))  # one slope per timestep: T must be known


def test_a_model_builds_an_rnn_cells_activation_layer_whatever_the_time_length():
    """tf-keras's symbolic call builds it (its weight is the model's before any call,
    with an unknown batch in its build_config), also for an unknown time length."""
    model = nr.Sequential([nr.Input((None, 3)),
                           nr.SimpleRNN(2, activation=nr.PReLU())])
    assert model.count_params() == 14 and len(model.weights) == 4
    activation = model.layers[0].cell.activation
    assert activation.get_build_config() == {"input_shape": (None, 2)}
    dense = nr.Dense(2, activation=nr.PReLU())
    nr.Sequential([nr.Input((3,)), dense])
    assert dense.activation.get_build_config() == {"input_shape": (None, 2)}
    assert model(np.ones((2, 5, 3), "float32")).shape == (2, 2)


def test_an_activation_layer_keeps_its_own_dtype_policy(x):
    """As in tf-keras, Dense(dtype=...) hands the activation layer the product in its
    own dtype, and the layer (float32 policy) answers in float32."""
    for dtype in ("float64", "mixed_float16"):
        dense = nr.Dense(2, activation=nr.LeakyReLU(), dtype=dtype)
        assert dense(x).dtype == np.float32
    assert nr.Dense(2, activation="relu", dtype="float64")(x).dtype == np.float64


def test_softmax_over_several_axes_makes_only_an_inf_entry_nan():
    """tf.reduce_logsumexp shifts a non-finite maximum by 0."""
    scores = np.array([[[np.inf, 0.0, 1.0], [1.0, 2.0, 3.0]]], "float32")
    out = nr.Softmax(axis=[1, 2])(scores)
    assert np.isnan(out[0, 0, 0])
    np.testing.assert_array_equal(np.nan_to_num(out, nan=-1.0)[0].ravel()[1:], 0.0)


@pytest.mark.parametrize("layer", [nr.PReLU(), nr.ThresholdedReLU()])
def test_layers_with_float_parameters_refuse_integer_inputs(layer):
    """TensorFlow refuses to mix them (numpy would truncate the slope or threshold)."""
    with pytest.raises(TypeError, match="expects floating inputs. Received inputs of "
                       "dtype int32"):
        layer(np.array([[-4, 3]], "int32"))
