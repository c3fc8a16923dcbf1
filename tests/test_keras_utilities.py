"""initializers, activations, regularizers, constraints: values by hand, configs, errors."""
import warnings

import numpy as np
import pytest

import numbarnn as nr
from numbarnn import activations, constraints, initializers, regularizers


def test_glorot_uniform_bounds_and_variance():
    w = initializers.GlorotUniform(seed=1)((400, 600))
    limit = np.sqrt(6 / 1000)
    assert np.abs(w).max() <= limit and w.dtype == np.float32
    assert abs(w.var() - limit ** 2 / 3) < 0.02 * limit ** 2


def test_variance_scaling_truncated_std_and_fans():
    w = initializers.VarianceScaling(2.0, "fan_in", "truncated_normal", seed=0)((500, 400))
    assert abs(w.std() - np.sqrt(2 / 500)) < 0.02 * np.sqrt(2 / 500)
    assert np.abs(w).max() <= 2 * np.sqrt(2 / 500) / 0.87962566103423978 + 1e-7
    w = initializers.HeUniform(seed=0)((3, 3, 20, 10))  # fan_in = 3*3*20
    assert np.abs(w).max() <= np.sqrt(6 / 180)


@pytest.mark.parametrize("shape", [(5, 5), (8, 3), (3, 8), (2, 3, 4)])
def test_orthogonal(shape):
    w = initializers.Orthogonal(gain=2.0, seed=3)(shape).reshape(-1, shape[-1])
    rows, cols = w.shape
    gram = w.T @ w if rows >= cols else w @ w.T
    np.testing.assert_allclose(gram, 4 * np.eye(min(rows, cols)), atol=1e-5)
    with pytest.raises(ValueError, match="at least two-dimensional"):
        initializers.Orthogonal()((3,))


def test_stateless_instances_and_fresh_string_instances():
    init = initializers.get("glorot_uniform")
    with pytest.warns(UserWarning, match="unseeded and being called multiple times"):
        np.testing.assert_array_equal(init((3, 3)), init((3, 3)))
    other = initializers.get("glorot_uniform")
    with pytest.warns(UserWarning, match="unseeded"):
        assert not np.array_equal(init((3, 3)), other((3, 3)))
    seeded = initializers.RandomNormal(seed=5)
    np.testing.assert_array_equal(seeded((4,)), initializers.RandomNormal(seed=5)((4,)))


def test_initializer_values_dtypes_and_errors():
    np.testing.assert_array_equal(initializers.Constant(3)((2,)), [3.0, 3.0])
    # as tf.constant(value, shape=shape): one value fills, as many as the shape reshape
    np.testing.assert_array_equal(initializers.Constant([1, 2, 3, 4])((2, 2)),
                                  [[1, 2], [3, 4]])
    np.testing.assert_array_equal(initializers.Constant([[5]])((2, 3)), np.full((2, 3), 5))
    with pytest.raises(TypeError, match=r"`value` has 3 elements .* shape \(4,\) has 4"):
        initializers.Constant([1, 2, 3])((4,))
    np.testing.assert_array_equal(initializers.Identity(2.0)((2, 2)), [[2, 0], [0, 2]])
    assert initializers.Zeros()((2,), dtype="int32").dtype == np.int32
    with pytest.raises(ValueError, match="Expected floating point type, got int32"):
        initializers.GlorotUniform()((2, 2), dtype="int32")
    with pytest.raises(ValueError, match="Unknown initializer: 'nope'"):
        initializers.get("nope")
    with pytest.raises(ValueError, match="scale"):
        initializers.VarianceScaling(scale=0)
    with pytest.raises(ValueError, match="mode"):
        initializers.VarianceScaling(mode="fan")
    assert isinstance(initializers.get("uniform"), initializers.RandomUniform)
    assert isinstance(initializers.get("normal"), initializers.RandomNormal)
    assert isinstance(initializers.get("GlorotUniform"), initializers.GlorotUniform)


@pytest.mark.parametrize("name", ["zeros", "ones", "constant", "random_normal",
                                  "random_uniform", "truncated_normal", "glorot_uniform",
                                  "glorot_normal", "he_normal", "he_uniform", "lecun_normal",
                                  "lecun_uniform", "orthogonal", "identity",
                                  "variance_scaling"])
def test_initializer_serialization_roundtrip(name):
    init = initializers.get(name)
    config = initializers.serialize(init)
    assert config["module"] == "keras.initializers"
    again = initializers.deserialize(config)
    assert type(again) is type(init) and again.get_config() == init.get_config()
    assert initializers.get({"class_name": config["class_name"],
                             "config": config["config"]}).get_config() == init.get_config()


PARTITIONED = ["zeros", "ones", "constant", "random_normal", "random_uniform",
               "truncated_normal", "glorot_uniform", "glorot_normal", "he_normal",
               "he_uniform", "lecun_normal", "lecun_uniform", "variance_scaling"]


@pytest.mark.parametrize("name", PARTITIONED)
def test_initializers_fill_one_partition_as_tf_keras(name):
    """tf-keras initializers_test test_partition: ``partition_shape`` is the shape
    filled; a seeded random initializer gives each ``partition_offset`` its own values
    and the same offset the same ones."""
    cls = type(initializers.get(name))
    seeded = "seed" in cls().get_config()
    init = cls(seed=7) if seeded else cls()
    part = dict(partition_shape=(2, 2))
    first = init((4, 2), partition_offset=(0, 0), **part)
    assert first.shape == (2, 2) and first.dtype == np.float32
    np.testing.assert_array_equal(init((4, 2), partition_offset=(0, 0), **part), first)
    other = init((4, 2), partition_offset=(2, 0), **part)
    assert (not np.allclose(other, first)) if seeded else np.array_equal(other, first)
    if name == "glorot_uniform":  # the fans are the partition's, as in tf-keras
        values = init((400, 2), partition_shape=(50, 2), partition_offset=(50, 0))
        assert np.sqrt(6 / 402) < np.abs(values).max() <= np.sqrt(6 / 52)
    with pytest.raises(TypeError, match=r"Unknown keyword arguments: \['foo'\]. "
                                        r"Allowed keyword arguments: \['partition_shape'"):
        init((2, 2), foo=1)


def test_random_uniform_of_an_integer_dtype_needs_whole_bounds():
    values = initializers.RandomUniform(0, 5, seed=1)((50,), dtype="int32")
    assert values.dtype == np.int32 and values.min() >= 0 and values.max() <= 4
    # tf-keras: "Cannot convert -0.05 to EagerTensor of dtype int32" (was numpy's
    # ValueError "high <= 0")
    with pytest.raises(TypeError, match="whole numbers for the integer dtype int32"):
        initializers.RandomUniform()((3, 3), dtype="int32")


def test_initializer_arguments_tf_keras_takes_or_refuses():
    # numpy integer seeds (OverflowError in `seed % 2**64` before)
    for seed in (np.int64(3), np.int32(3), np.uint64(3)):
        np.testing.assert_array_equal(initializers.GlorotUniform(seed=seed)((2, 2)),
                                      initializers.GlorotUniform(seed=3)((2, 2)))
    for bad in ("a", True):   # tf-keras: ValueError for both
        with pytest.raises(ValueError, match=f"argument `seed` must be an integer. "
                                             f"Received: seed={bad!r}"):
            initializers.GlorotUniform(seed=bad)((2, 2))
    # tf's formulas: mean + stddev * normal, minval + (maxval - minval) * uniform, so a
    # negative stddev or reversed bounds are no error (numpy's normal/uniform refuse them)
    flipped = initializers.RandomNormal(1.0, -2.0, seed=4)((1000,))
    np.testing.assert_allclose(flipped, 2.0 - initializers.RandomNormal(1.0, 2.0, seed=4)(
        (1000,)), rtol=1e-6, atol=1e-6)
    reversed_bounds = initializers.RandomUniform(1.0, 0.0, seed=5)((1000,))
    assert 0.0 <= reversed_bounds.min() and reversed_bounds.max() <= 1.0
    np.testing.assert_allclose(reversed_bounds, 1.0 - initializers.RandomUniform(
        0.0, 1.0, seed=5)((1000,)), rtol=1e-6, atol=1e-7)
    # Constant(value)(3): tf.constant takes a bare length; None is no number
    np.testing.assert_array_equal(initializers.Constant(2)(3), [2.0, 2.0, 2.0])
    with pytest.raises(ValueError, match="Received: value=None"):
        initializers.Constant(None)((2,))
    for init in (initializers.RandomNormal(seed=1), initializers.TruncatedNormal(seed=1),
                 initializers.Zeros()):
        with pytest.raises(ValueError, match="Received: shape=None"):
            init(None)   # tf-keras: tf.constant(None) fails
    for init in (initializers.GlorotUniform(seed=1), initializers.Orthogonal(seed=1)):
        with pytest.raises(TypeError, match="Received: shape=None"):
            init(None)   # tf-keras: len(None) fails
    constant = initializers.Constant([1.0, 2.0])(None)   # tf.constant(value, shape=None)
    np.testing.assert_array_equal(constant, [1.0, 2.0])
    assert constant.dtype == np.float32
    with pytest.raises(TypeError, match="Unknown keyword arguments: \\['foo'\\]"):
        initializers.Constant(1.0)(None, foo=1)
    # a bare length: zeros / ones / constant take it (tf.zeros(3)), the others refuse it
    for init in (initializers.RandomNormal(seed=1), initializers.RandomUniform(seed=1),
                 initializers.TruncatedNormal(seed=1), initializers.GlorotUniform(seed=1),
                 initializers.Orthogonal(seed=1)):
        with pytest.raises(TypeError, match="needs a shape tuple, not a bare length"):
            init(3)
    assert initializers.Ones()(3).shape == (3,)
    # tf.constant: a Python value must fit the dtype's kind; a numpy value is cast
    for value, dtype in [(1.5, "int32"), (2.0, "int32"), ([1, 2.5], "int64"), (2, "bool"),
                         (0, "bool"), (1 + 2j, "float32"), (np.array([1j]), "float32")]:
        with pytest.raises(TypeError, match=f"Cannot convert .* to EagerTensor of dtype "
                                            f"{dtype}"):
            initializers.Constant(value)((1,), dtype=dtype)
    for value, dtype, expected in [(2, "int32", [2, 2]), (True, "int32", [1, 1]),
                                   ([True, False], "bool", [True, False]),
                                   (np.float32(2.0), "int32", [2, 2]),
                                   (np.array([1.5, 2.0]), "int32", [1, 2]),
                                   (np.array([1.5, 0.0]), "bool", [True, False]),
                                   ([1, 2.5], "float16", [1.0, 2.5])]:
        out = initializers.Constant(value)((2,), dtype=dtype)
        assert out.dtype == dtype and out.tolist() == expected


@pytest.mark.parametrize("name", ["orthogonal", "identity"])
def test_orthogonal_and_identity_have_no_partitions(name):
    init = initializers.get(name)
    with pytest.raises(ValueError, match="initializer doesn't support partition-related "
                                         "arguments"):
        init((4, 2), partition_shape=(2, 2), partition_offset=(0, 0))


def test_partitions_of_an_unseeded_initializer_do_not_warn():
    init = initializers.RandomNormal()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for offset in [(0, 0), (2, 0), (0, 0)]:
            init((4, 2), partition_shape=(2, 2), partition_offset=offset)


def test_activation_values():
    a = activations
    assert float(a.hard_sigmoid(np.float32(1.0))) == pytest.approx(0.7)
    assert float(a.gelu(np.array(1.0))) == pytest.approx(0.8413447460685429)
    assert float(a.selu(np.array(-1.0))) == pytest.approx(1.0507009873554805
                                                          * 1.6732632423543772
                                                          * (np.exp(-1) - 1))
    assert float(a.elu(np.array(-1.0))) == pytest.approx(np.exp(-1) - 1)
    assert float(a.softsign(np.array(3.0))) == pytest.approx(0.75)
    assert float(a.swish(np.array(2.0))) == pytest.approx(2 / (1 + np.exp(-2)))
    np.testing.assert_allclose(a.relu(np.array([-2.0, 1.0, 9.0]), alpha=0.5, max_value=5),
                               [-1.0, 1.0, 5.0])
    np.testing.assert_allclose(a.softmax(np.array([[1.0, 2.0, 3.0]])).sum(), 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert float(a.softplus(np.array(100.0))) == pytest.approx(100.0)
        assert float(a.sigmoid(np.array(-1000.0))) == 0.0
        assert float(a.sigmoid(np.array(1000.0))) == 1.0
    assert a.tanh(np.ones(2, np.float32)).dtype == np.float32


@pytest.mark.parametrize("kwargs,expected", [
    # tf-keras 2.21 backend.relu on [nan, -inf, inf, -0.0, -1, 2] (float32)
    ({}, [np.nan, 0, np.inf, -0.0, 0, 2]),
    ({"threshold": 0.5}, [np.nan, np.nan, np.inf, -0.0, -0.0, 2]),
    ({"alpha": 0.1}, [np.nan, -np.inf, np.inf, -0.0, -0.1, 2]),
    ({"max_value": 2.0}, [np.nan, 0, 2, -0.0, 0, 2]),
    ({"alpha": 0.1, "max_value": 1.5}, [np.nan, -np.inf, 1.5, -0.0, -0.1, 1.5]),
    ({"alpha": 0.1, "threshold": 0.5}, [np.nan, np.nan, np.inf, -0.05, -0.15, 2]),
])
def test_relu_matches_tf_keras_on_non_finite_values(kwargs, expected):
    x = np.array([np.nan, -np.inf, np.inf, -0.0, -1, 2], np.float32)
    got = activations.relu(x, **kwargs)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, np.array(expected, np.float32), rtol=1e-6)
    np.testing.assert_array_equal(np.signbit(got[3]), np.signbit(np.float32(expected[3])))


@pytest.mark.parametrize("dtype", ["int32", "int64", "uint8"])
def test_relu_keeps_an_integer_dtype_as_tf_nn_relu(dtype):
    x = np.array([0, 3, 9, 100], dtype) if dtype == "uint8" else \
        np.array([-3, 0, 2, 9], dtype)
    got = activations.relu(x)
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(got, np.maximum(x, 0))
    capped = activations.relu(x, max_value=6)
    assert capped.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(capped, np.clip(x, 0, 6))
    np.testing.assert_array_equal(activations.relu(x, max_value=-2), np.zeros(4, dtype))
    with pytest.raises(TypeError, match="max_value.*whole number.*6.5"):
        activations.relu(x, max_value=6.5)
    # a leaky slope or a threshold needs float arithmetic: float32, as before
    assert activations.relu(x, alpha=0.1).dtype == np.float32


def test_activation_lookup_and_serialize():
    assert activations.get(None) is activations.linear
    assert activations.serialize(None) == "linear"
    assert activations.serialize(activations.get("tanh")) == "tanh"
    assert activations.name_of(np.tanh) is None
    assert activations.get(np.tanh) is np.tanh
    with pytest.raises(ValueError, match="Unknown activation function: 'tanhh'"):
        activations.get("tanhh")


def test_regularizers():
    w = np.array([[1.0, -2.0], [3.0, 0.0]])
    assert float(regularizers.L1(0.1)(w)) == pytest.approx(0.6)
    assert float(regularizers.L2(0.1)(w)) == pytest.approx(1.4)
    assert float(regularizers.l1_l2(0.1, 0.1)(w)) == pytest.approx(2.0)
    assert regularizers.L1L2(l1=0.1).get_config() == {"l1": float(np.float32(0.1)),
                                                       "l2": 0.0}
    r = regularizers.deserialize(regularizers.serialize(regularizers.L2(0.3)))
    assert isinstance(r, regularizers.L2) and r.l2 == float(np.float32(0.3))
    # as tf-keras: negative factors are taken, None is the default, non-numbers and
    # infinities are not; the function's name in a config builds L1L2 from its config
    assert float(regularizers.L2(-1)(w)) == pytest.approx(-14.0)
    assert regularizers.L1(None).l1 == float(np.float32(0.01))
    # tf-keras regularizers_test test_default_value_when_init_with_none reads the other
    # factor where there is one: L1 has no l2, L2 no l1, and neither is an L1L2
    assert not hasattr(regularizers.L1(None), "l2")
    assert not hasattr(regularizers.L2(None), "l1")
    assert not isinstance(regularizers.L1(), regularizers.L1L2)
    # the base classes by name, as tf-keras's get and deserialize give them
    assert type(regularizers.get("Regularizer")) is regularizers.Regularizer
    assert float(regularizers.get("Regularizer")(w)) == 0.0
    assert type(constraints.get("Constraint")) is constraints.Constraint
    np.testing.assert_array_equal(constraints.get("Constraint")(w), w)
    assert regularizers.L1L2(None, None).get_config() == {"l1": 0.0, "l2": 0.0}
    for bad in ("0.1", float("inf"), float("nan")):
        with pytest.raises(ValueError, match="not a valid regularization penalty.*l2="):
            regularizers.L2(bad)
    r = regularizers.get({"class_name": "l1_l2", "config": {"l1": 0.5, "l2": 0.1}})
    assert isinstance(r, regularizers.L1L2)
    assert float(r(w)) == pytest.approx(0.5 * 6 + 0.1 * 14, rel=1e-6)


def test_constraints():
    w = np.array([[3.0, 0.0], [4.0, 1.0]])
    before = w.copy()
    np.testing.assert_allclose(constraints.MaxNorm(2.0)(w)[:, 0], [1.2, 1.6], rtol=1e-6)
    np.testing.assert_allclose(constraints.MaxNorm(2.0)(w)[:, 1], [0.0, 1.0], rtol=1e-6)
    np.testing.assert_allclose(constraints.UnitNorm()(w)[:, 0], [0.6, 0.8], rtol=1e-6)
    np.testing.assert_array_equal(constraints.NonNeg()(np.array([-1.0, 2.0])), [0.0, 2.0])
    mm = constraints.MinMaxNorm(min_value=6.0, max_value=7.0, rate=0.5)(w)
    np.testing.assert_allclose(np.linalg.norm(mm[:, 0]), 5.5, rtol=1e-6)
    np.testing.assert_array_equal(w, before)  # never in place
    c = constraints.deserialize(constraints.serialize(constraints.MaxNorm(3, axis=1)))
    assert c.get_config() == {"max_value": 3, "axis": 1}
    with pytest.raises(ValueError, match="rank 4"):
        constraints.RadialConstraint()(np.zeros((3, 3)))
    assert isinstance(constraints.get("non_neg"), constraints.NonNeg)


def test_regularizers_reject_unknown_arguments():
    # tf-keras: TypeError "Argument(s) not recognized: {...}"
    with pytest.raises(TypeError, match=r"Argument\(s\) not recognized: \{'l2': 0.5\}"):
        regularizers.L1(l2=0.5)
    with pytest.raises(TypeError, match=r"Argument\(s\) not recognized: \{'l3': 1\}"):
        regularizers.get({"class_name": "L2", "config": {"l3": 1}})
    assert regularizers.L2(l=0.3).get_config() == {  # the legacy spelling
        "l2": float(np.float32(0.3))}


def test_activation_config_dicts():
    assert activations.get({"class_name": "relu", "config": {}}) is activations.relu
    # tf-keras >= 2.13 / Keras 3 form of a serialized function
    assert activations.deserialize({"module": "keras.activations", "class_name": "function",
                                    "config": "tanh", "registered_name": "tanh"}) \
        is activations.tanh
    with pytest.raises(ValueError, match="Improper config format"):
        activations.get({"config": {}})
    with pytest.raises(TypeError, match="Could not interpret activation function"):
        activations.get(3)


def _double(x):
    return 2 * np.asarray(x)


class _Scaled(initializers.Initializer):
    def __init__(self, scale=1.0):
        self.scale = scale

    def __call__(self, shape, dtype=None, **kwargs):
        return np.full(shape, self.scale, dtype or "float32")

    def get_config(self):
        return {"scale": self.scale}


class _Half(constraints.Constraint):
    def __call__(self, w):
        return np.asarray(w) / 2


def _custom_layer():
    import numbarnn as nr
    return nr.SimpleRNN(2, activation=_double, kernel_initializer=_Scaled(3.0),
                        recurrent_regularizer=regularizers.L1L2(0.1),
                        kernel_regularizer=_double, bias_constraint=_Half())


CUSTOM = {"_double": _double, "_Scaled": _Scaled, "_Half": _Half}


def test_custom_objects_round_trip_through_configs():
    import numbarnn as nr
    config = nr.layers.serialize(_custom_layer())
    with pytest.raises(ValueError, match="Unknown activation function: '_double'"):
        nr.layers.deserialize(config)
    for again in (nr.layers.deserialize(config, custom_objects=CUSTOM),
                  nr.SimpleRNN.from_config(config["config"], custom_objects=CUSTOM)):
        assert again.activation is _double and again.kernel_regularizer is _double
        assert isinstance(again.kernel_initializer, _Scaled)
        assert again.kernel_initializer.scale == 3.0
        assert isinstance(again.bias_constraint, _Half)
    with nr.utils.custom_object_scope(CUSTOM):
        again = nr.layers.deserialize(config)
        stacked = nr.RNN.from_config(nr.RNN([_custom_layer().cell]).get_config())
    assert again.activation is _double and stacked.cell.cells[0].activation is _double
    with pytest.raises(ValueError, match="Unknown activation"):  # the scope has ended
        nr.layers.deserialize(config)


def test_custom_object_scope_and_registration():
    from numbarnn import utils
    assert utils.CustomObjectScope is utils.custom_object_scope
    with utils.custom_object_scope({"x2": _double}):
        with utils.custom_object_scope({"x3": _Half}):
            assert activations.get("x2") is _double and constraints.get("x3").__class__ \
                is _Half
        assert utils.get_registered_object("x3") is None
        assert initializers.get("x2") is _double
    assert utils.get_registered_object("x2") is None
    with pytest.raises(TypeError, match="must be dicts"):
        utils.custom_object_scope(["x22"])  # no (name, object) pairs
    utils.register_serializable(_double, name="registered_double")
    try:
        assert activations.get("registered_double") is _double
        assert "registered_double" in utils.get_custom_objects()
    finally:
        del utils.get_custom_objects()["registered_double"]


# tf-keras 2.21: Sequential([SimpleRNN(3, input_shape=(5, 2), kernel_regularizer=
# L1L2(l1=0.01, l2=0.02)), Dense(1)], name="seq").get_config(), trimmed of defaults.
TF_SEQUENTIAL_CONFIG = {"name": "seq", "layers": [
    {"module": "keras.layers", "class_name": "InputLayer", "config": {
        "batch_input_shape": [None, 5, 2], "dtype": "float32", "sparse": False,
        "ragged": False, "name": "simple_rnn_input", "optional": False},
     "registered_name": None},
    {"module": "keras.layers", "class_name": "SimpleRNN", "config": {
        "name": "simple_rnn", "trainable": True, "dtype": "float32",
        "batch_input_shape": [None, 5, 2], "units": 3, "activation": "tanh",
        "kernel_regularizer": {"module": "keras.regularizers", "class_name": "L1L2",
                               "config": {"l1": 0.009999999776482582,
                                          "l2": 0.019999999552965164},
                               "registered_name": None}},
     "registered_name": None, "build_config": {"input_shape": [None, 5, 2]}},
    {"module": "keras.layers", "class_name": "Dense", "config": {
        "name": "dense", "trainable": True, "dtype": "float32", "units": 1,
        "activation": "linear"},
     "registered_name": None, "build_config": {"input_shape": [None, 3]}}]}


def test_sequential_reads_a_tf_keras_config_with_its_input_layer():
    model = nr.Sequential.from_config(TF_SEQUENTIAL_CONFIG)
    assert [type(l).__name__ for l in model.layers] == ["SimpleRNN", "Dense"]
    assert model.built
    assert [w.shape for w in model.get_weights()] == [(2, 3), (3, 3), (3,), (3, 1), (1,)]
    reg = model.layers[0].get_config()["kernel_regularizer"]
    assert reg["config"] == {"l1": 0.009999999776482582, "l2": 0.019999999552965164}
    assert model(np.ones((4, 5, 2), "float32")).shape == (4, 1)


def test_configs_spell_values_as_tf_keras_does():
    """Regularizer factors are float32 values (tf-keras casts them to floatx); silu is
    saved under its tf-keras name, swish."""
    assert regularizers.L1L2(l1=0.01, l2=0.02).get_config() == {
        "l1": 0.009999999776482582, "l2": 0.019999999552965164}
    assert regularizers.L1(0.3).get_config() == {"l1": 0.30000001192092896}
    assert activations.serialize(activations.silu) == "swish"
    assert nr.SimpleRNN(2, activation="silu").get_config()["activation"] == "swish"
    # one function, as tf-keras's get("silu"): swish itself
    assert activations.get("silu") is activations.swish
    assert activations.get("silu").__name__ == "swish"


def test_gelu_keeps_its_negative_tail():
    """tf computes 0.5 x erfc(-x / sqrt 2); 1 + erf(x / sqrt 2) cancels to 0 below -8."""
    got = activations.gelu(np.array([-6.0, -9.0, -12.0]))
    np.testing.assert_allclose(got, [-5.91952961e-09, -1.0e-18, -2.1e-32], rtol=0.05)
    assert got[0] == pytest.approx(-5.91952961e-09, rel=1e-8)


def test_activations_tf_keras_takes_from_tf_nn():
    """mish (tf-keras's own) and the tf.nn functions tf-keras resolves by name, against
    their float64 formulas; non-fusable, so recurrent layers run them on the generic
    engine."""
    x = np.array([[-30.0, -3.0, -1.0, 0.0, 0.5, 7.0], [np.nan, np.inf, -np.inf, 1, 2, 3]])
    with np.errstate(all="ignore"):
        want = {
            "mish": x * np.tanh(np.log1p(np.exp(x))),
            "relu6": np.where(np.isnan(x), np.nan, np.clip(x, 0, 6)),
            # tf.nn.leaky_relu's alpha is a float32 attribute, for float64 x too
            "leaky_relu": np.where(x > 0, x, float(np.float32(0.2)) * x),
            "log_softmax": x - np.log(np.exp(x).sum(-1, keepdims=True))}
    for name, expected in want.items():
        fn = activations.get(name)
        assert activations.serialize(fn) == name
        np.testing.assert_allclose(fn(x[:1]), expected[:1], rtol=1e-12, atol=1e-12)
        assert np.isnan(fn(x[1:])).any() or name in ("relu6", "leaky_relu")
        assert fn(x.astype("float32")).dtype == np.float32
    np.testing.assert_allclose(activations.relu6(x[1]), [np.nan, 6, 0, 1, 2, 3])
    layer = nr.SimpleRNN(3, activation="mish", return_sequences=True)
    seq = layer(np.ones((2, 4, 2), "float32"))
    assert seq.shape == (2, 4, 3) and layer.get_config()["activation"] == "mish"


def test_initializer_and_regularizer_names_tf_keras_configs_use():
    assert isinstance(initializers.get("one"), initializers.Ones)
    assert isinstance(initializers.get("zero"), initializers.Zeros)
    reg = regularizers.get("l1_l2")  # the function's defaults, as an instance
    assert isinstance(reg, regularizers.L1L2)
    assert reg.get_config() == pytest.approx({"l1": 0.01, "l2": 0.01})
    layer = nr.SimpleRNN(2, kernel_regularizer="l1_l2", activity_regularizer="l1_l2")
    layer(np.ones((1, 3, 2), "float32"))
    kernel = layer.cell.kernel.numpy()
    activity, kernel_loss = layer.losses  # the call's losses first, as in tf-keras
    assert float(kernel_loss) == pytest.approx(
        0.01 * np.abs(kernel).sum() + 0.01 * np.square(kernel).sum(), rel=1e-5)
    assert float(activity) > 0
    assert layer.get_config()["kernel_regularizer"]["class_name"] == "L1L2"


def test_radial_constraint_takes_tf_keras_ring_values():
    """tf-keras's rings (values recorded from tf_keras 2.21 on arange kernels): the
    middle takes w[s-1, s-1] and ring i further out w[s+i, s+i], s = size // 2."""
    radial = constraints.RadialConstraint()

    def rings(size):
        w = np.arange(size * size, dtype=float).reshape(size, size, 1, 1)
        return radial(w)[..., 0, 0]
    np.testing.assert_array_equal(rings(3), [[4, 4, 4], [4, 0, 4], [4, 4, 4]])
    np.testing.assert_array_equal(rings(4)[1:3, 1:3], 5)
    np.testing.assert_array_equal(rings(4)[0], 15)
    five = rings(5)
    assert (five[2, 2], five[1, 2], five[0, 2]) == (6, 12, 18)
    np.testing.assert_array_equal(rings(2), 0)
    w = np.random.default_rng(0).standard_normal((5, 5, 3, 2))
    out = radial(w)
    np.testing.assert_array_equal(out[2, 2], w[1, 1])  # every channel on its own
    np.testing.assert_array_equal(out[0, 4], w[3, 3])
    with pytest.raises(ValueError, match="at least 2"):
        radial(np.ones((1, 1, 1, 1)))


def test_norm_constraints_take_axis_lists_and_clip_as_tf_keras():
    w = np.random.default_rng(1).standard_normal((3, 4, 2))
    for make in (lambda axis: constraints.MaxNorm(1.0, axis=axis),
                 lambda axis: constraints.UnitNorm(axis=axis),
                 lambda axis: constraints.MinMaxNorm(0.5, 1.0, axis=axis)):
        np.testing.assert_array_equal(make([0, 1])(w), make((0, 1))(w))
    np.testing.assert_array_equal(constraints.MaxNorm(-1.0)(w), 0)  # cap raised to 0
    norms = np.sqrt((constraints.MinMaxNorm(2.0, 1.0)(w) ** 2).sum(0))
    np.testing.assert_allclose(norms, 2.0, rtol=1e-6)  # max raised to the min
    assert isinstance(constraints.get("maxnorm"), constraints.MaxNorm)
    assert isinstance(constraints.get("nonneg"), constraints.NonNeg)
    assert isinstance(constraints.get("unitnorm"), constraints.UnitNorm)


def test_initializer_classes_and_legacy_names_resolve():
    assert isinstance(initializers.get(initializers.Zeros), initializers.Zeros)
    for name, cls in [("ZerosV2", initializers.Zeros),
                      ("GlorotUniformV2", initializers.GlorotUniform),
                      ("glorot_uniformV2", initializers.GlorotUniform),
                      ("OrthogonalV2", initializers.Orthogonal)]:
        assert type(initializers.get(name)) is cls
    layer = nr.SimpleRNN(2, kernel_initializer=initializers.Zeros)
    layer(np.ones((1, 3, 2), np.float32))
    np.testing.assert_array_equal(layer.get_weights()[0], 0)


def test_activation_edges_as_tf_keras():
    x = np.array([-2.0, 0.5, 3.0], np.float32)
    np.testing.assert_array_equal(activations.relu(x, max_value=-1.0), 0)
    np.testing.assert_array_equal(activations.relu(x, max_value=1.0), [0, 0.5, 1])
    with pytest.raises(ValueError, match="softmax to a tensor that is 1D"):
        activations.softmax(x)
    with pytest.raises(ValueError, match="'relu' cannot be serialized"):
        activations.serialize("relu")


def test_pad_sequences_as_tf_keras():
    # values from tf-keras 2.21's keras.utils.pad_sequences (its docstring examples)
    seqs = [[1], [2, 3], [4, 5, 6]]
    np.testing.assert_array_equal(nr.utils.pad_sequences(seqs),
                                  [[0, 0, 1], [0, 2, 3], [4, 5, 6]])
    post = nr.utils.pad_sequences(seqs, padding="post", value=-1)
    np.testing.assert_array_equal(post, [[1, -1, -1], [2, 3, -1], [4, 5, 6]])
    assert post.dtype == np.int32
    np.testing.assert_array_equal(nr.utils.pad_sequences(seqs, maxlen=2),
                                  [[0, 1], [2, 3], [5, 6]])
    np.testing.assert_array_equal(nr.utils.pad_sequences(seqs, maxlen=2, truncating="post"),
                                  [[0, 1], [2, 3], [4, 5]])
    steps = [np.ones((2, 3)), np.zeros((0, 3)), 2 * np.ones((1, 3))]
    padded = nr.utils.pad_sequences(steps, dtype="float32", padding="post")
    assert padded.shape == (3, 2, 3) and padded.dtype == np.float32
    np.testing.assert_array_equal(padded[2], [[2, 2, 2], [0, 0, 0]])
    for kwargs, message in [({"padding": "mid"}, 'Padding type "mid" not understood'),
                            ({"truncating": "x"}, 'Truncating type "x" not understood'),
                            ({"value": "a"}, "is not compatible with `value`'s type")]:
        with pytest.raises(ValueError, match=message):
            nr.utils.pad_sequences(seqs, **kwargs)
    with pytest.raises(ValueError, match="must be a list of iterables. Found non-iterable"):
        nr.utils.pad_sequences([1, 2])
    with pytest.raises(ValueError, match=r"Shape of sample \(1, 2\) of sequence at position "
                                         r"1 is different from expected shape \(2,\)"):
        nr.utils.pad_sequences([[[1, 2]], [[[1, 2]]]])


def test_deserialize_keras_object_reads_built_ins_and_plain_values():
    """tf-keras's utils: a built-in activation written as a function config comes
    back; strings, numbers, lists and plain dicts pass; an array is a __numpy__
    config; safe_mode is taken."""
    utils = nr.utils
    config = utils.serialize_keras_object(nr.activations.tanh)
    assert config["class_name"] == "function" and config["config"] == "tanh"
    assert utils.deserialize_keras_object(config) is nr.activations.tanh
    for value in ("relu", 3, 1.5, [1, 2], {"a": 1}):
        assert utils.deserialize_keras_object(utils.serialize_keras_object(value)) == value
    array = utils.serialize_keras_object(np.arange(2))
    assert array["class_name"] == "__numpy__"
    np.testing.assert_array_equal(utils.deserialize_keras_object(array), [0, 1])
    zeros = utils.serialize_keras_object(nr.initializers.Zeros())
    assert isinstance(utils.deserialize_keras_object(zeros, safe_mode=False),
                      nr.initializers.Zeros)
    assert nr.saving.register_keras_serializable is utils.register_keras_serializable
    assert nr.saving.custom_object_scope is utils.custom_object_scope


def test_custom_object_scope_takes_any_mapping_or_pairs():
    import types

    def twice(x):
        return 2 * x

    with nr.utils.custom_object_scope(types.MappingProxyType({"twice": twice})):
        assert nr.utils.get_registered_object("twice") is twice
    with nr.utils.custom_object_scope([("twice", twice)]):
        assert nr.utils.get_registered_object("twice") is twice
    with pytest.raises(TypeError, match="must be dicts of"):
        nr.utils.custom_object_scope(3)


def test_pad_sequences_with_an_object_dtype_pads_strings():
    padded = nr.utils.pad_sequences([["a"], ["b", "c"]], dtype=np.dtype("O"), value="")
    assert padded.tolist() == [["", "a"], ["b", "c"]]


@pytest.mark.parametrize("labels, args, expected", [
    ([0, 2, 1], (), [[1, 0, 0], [0, 0, 1], [0, 1, 0]]),
    ([[0], [2]], (), [[1, 0, 0], [0, 0, 1]]),          # a trailing 1 is dropped
    ([0, 1], (4,), [[1, 0, 0, 0], [0, 1, 0, 0]]),
    ([0, -1], (3,), [[1, 0, 0], [0, 0, 1]]),           # numpy's negative index
])
def test_to_categorical_as_tf_keras(labels, args, expected):
    out = nr.utils.to_categorical(labels, *args)
    np.testing.assert_array_equal(out, expected)
    assert out.dtype == np.float32


def test_to_categorical_shapes_dtypes_and_errors():
    out = nr.utils.to_categorical([[0, 1], [2, 0]], dtype="int32")
    assert out.shape == (2, 2, 3) and out.dtype == np.int32
    np.testing.assert_array_equal(out[1, 0], [0, 0, 1])
    with pytest.raises(IndexError):
        nr.utils.to_categorical([0, 3], 3)


def test_set_random_seed_repeats_unseeded_weights_and_dropout(monkeypatch):
    """tf-keras's utils.set_random_seed: the same program draws the same weights and
    dropout masks after the same seed (the numbers are numbarnn's own)."""
    from numbarnn import random_seed
    monkeypatch.setattr(random_seed, "_generator", [None])  # the other tests' restored
    x = np.ones((2, 4, 2), "float32")

    def program():
        model = nr.Sequential([nr.SimpleRNN(3, dropout=0.5, input_shape=(4, 2)),
                               nr.Dropout(0.5), nr.Dense(2)])
        return model.get_weights(), model(x, training=True), np.random.rand()

    nr.utils.set_random_seed(42)
    first = program()
    nr.utils.set_random_seed(42)
    again = program()
    for a, b in zip(first[0], again[0]):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(first[1], again[1])
    assert first[2] == again[2]
    nr.utils.set_random_seed(7)
    assert not np.array_equal(program()[0][0], first[0][0])
    assert nr.SimpleRNN(2).get_config()["kernel_initializer"]["config"]["seed"] is None
    with pytest.raises(ValueError, match="Expected `seed` argument to be an integer"):
        nr.utils.set_random_seed(1.5)


def test_random_uniform_integer_dtypes_and_orthogonal_regularizer_none_as_tf_keras():
    """tf.random.uniform makes int32 and int64 integers only, with minval < maxval;
    OrthogonalRegularizer refuses factor=None (L1 reads it as its default)."""
    init = initializers.RandomUniform(0, 5, seed=1)
    for dtype in ("int32", "int64"):
        out = init((200,), dtype=dtype)
        assert out.dtype == dtype and out.min() >= 0 and out.max() <= 4
    for dtype in ("uint8", "int16", "uint32"):
        with pytest.raises(ValueError, match=f"`dtype` got invalid value {dtype}"):
            init((2,), dtype=dtype)
    with pytest.raises(ValueError, match="minval must be below maxval"):
        initializers.RandomUniform(5, 0)((2,), dtype="int32")
    with pytest.raises(ValueError, match="Value None is not a valid regularization"):
        nr.regularizers.OrthogonalRegularizer(None)
    assert nr.regularizers.L1(None).get_config()["l1"] == pytest.approx(0.01)
