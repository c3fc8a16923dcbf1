"""initializers, activations, regularizers, constraints: values by hand, configs, errors."""
import warnings

import numpy as np
import pytest

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
    np.testing.assert_array_equal(init((3, 3)), init((3, 3)))
    other = initializers.get("glorot_uniform")
    assert not np.array_equal(init((3, 3)), other((3, 3)))
    seeded = initializers.RandomNormal(seed=5)
    np.testing.assert_array_equal(seeded((4,)), initializers.RandomNormal(seed=5)((4,)))


def test_initializer_values_dtypes_and_errors():
    np.testing.assert_array_equal(initializers.Constant(3)((2,)), [3.0, 3.0])
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
    assert regularizers.L1L2(l1=0.1).get_config() == {"l1": 0.1, "l2": 0.0}
    r = regularizers.deserialize(regularizers.serialize(regularizers.L2(0.3)))
    assert isinstance(r, regularizers.L2) and r.l2 == 0.3
    with pytest.raises(ValueError, match="`l2` must be a non-negative number"):
        regularizers.L2(-1)


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
