"""Embedding (with its zero-index mask) and Dropout, alone and in front of the recurrent
layers, against float64 numpy references; their configs are in test_config_parity.py,
a tf-keras model of both in test_tf_keras_files.py."""
import numpy as np
import pytest

import numbarnn as nr
from naive import rnn_forward


def embedded_rnn(engine_rng, mask_zero):
    emb = nr.Embedding(12, 3, mask_zero=mask_zero)
    rnn = nr.SimpleRNN(4, return_sequences=True)
    model = nr.Sequential([emb, rnn])
    tokens = engine_rng.integers(1, 12, size=(3, 5))
    tokens[0, 3:] = 0  # right padding
    tokens[1, :2] = 0  # left padding
    tokens[2, 2] = 0  # a hole
    model(tokens)
    emb.set_weights([engine_rng.standard_normal((12, 3)).astype("float32")])
    return model, tokens


@pytest.mark.parametrize("mask_zero", [True, False])
def test_embedded_tokens_run_the_rnn_with_the_zero_mask(layer_engine, rng, mask_zero):
    model, tokens = embedded_rnn(rng, mask_zero)
    table = model.layers[0].get_weights()[0].astype(np.float64)
    kernel, recurrent, bias = model.layers[1].get_weights()
    level = {"kernel": kernel, "recurrent": recurrent, "bias": bias, "activation": "tanh"}
    expected, _, _ = rnn_forward(table[tokens], [level],
                                 mask=tokens != 0 if mask_zero else None)
    out = model(tokens)
    np.testing.assert_allclose(out, expected, rtol=2e-5, atol=2e-5)
    assert (nr.backend.int_shape(out) == (3, 5, 4))


@pytest.mark.parametrize("indices", [
    np.array([[1, 2, 0]], "int32"), np.array([[1, 2, 0]], "uint8"), np.array([4, 0]),
    np.array(3), np.zeros((2, 3, 2), "int64"), [[1, 5], [0, 2]]])
def test_lookup_is_the_table_row(indices):
    layer = nr.Embedding(6, 2)
    out = layer(indices)
    table = layer.get_weights()[0]
    np.testing.assert_array_equal(out, table[np.asarray(indices)])
    assert out.dtype == np.float32 and out.shape == np.shape(indices) + (2,)


def test_float_and_bool_indices_cast_as_tf_cast():
    layer = nr.Embedding(6, 2)
    out = layer(np.array([[1.7, 2.2, -0.5]]))
    np.testing.assert_array_equal(out, layer.get_weights()[0][[[1, 2, 0]]])
    out = layer(np.array([[True, False]]))
    np.testing.assert_array_equal(out, layer.get_weights()[0][[[1, 0]]])
    with pytest.raises(TypeError, match="with mask_zero=True expects integer indices"):
        nr.Embedding(6, 2, mask_zero=True)(np.array([[True, False]]))  # as tf's not_equal
    np.testing.assert_array_equal(nr.Embedding(6, 2, mask_zero=True).compute_mask(
        np.array([[0.5, 0.0, 2.0]])), [[True, False, True]])  # of the values given


def test_dtypes_follow_the_policy():
    assert nr.Embedding(5, 2, dtype="float64")(np.array([[1]])).dtype == np.float64
    layer = nr.Embedding(5, 2, dtype="mixed_float16")
    out = layer(np.array([[1]]))
    assert out.dtype == np.float16 and layer.embeddings.dtype == np.float32
    np.testing.assert_array_equal(out[0, 0], layer.get_weights()[0][1].astype(np.float16))


@pytest.mark.parametrize("dtype", ["float16", "mixed_float16"])
def test_float_indices_are_not_cast_to_the_compute_dtype(dtype):
    layer = nr.Embedding(5000, 2, dtype=dtype)
    out = layer(np.array([[4097.0, 4099.0]]))  # float16 holds neither
    np.testing.assert_array_equal(out[0], layer.get_weights()[0][[4097, 4099]].astype(
        np.float16))


def test_mask_is_where_the_index_is_not_zero():
    layer = nr.Embedding(5, 2, mask_zero=True)
    tokens = np.array([[3, 0, 1], [0, 0, 4]])
    np.testing.assert_array_equal(layer.compute_mask(tokens), tokens != 0)
    assert nr.Embedding(5, 2).compute_mask(tokens) is None


@pytest.mark.parametrize("bad, message", [
    (np.array([[1, 6]]), r"indices\[0,1\] = 6 is not in \[0, 6\)"),
    (np.array([[-1]]), r"indices\[0,0\] = -1 is not in \[0, 6\)"),
    (np.array([np.nan]), r"is not in \[0, 6\)")])
def test_indices_out_of_range_name_the_first(bad, message):
    layer = nr.Embedding(6, 2)
    with pytest.raises(ValueError, match=message):
        layer(bad)


def test_non_numeric_indices_are_refused():
    with pytest.raises(TypeError, match="expects integer indices. Received inputs of "
                       "dtype <U1"):
        nr.Embedding(6, 2)(np.array([["a"]]))


@pytest.mark.parametrize("args, error, message", [
    ((0, 3), ValueError, "Both `input_dim` and `output_dim` should be positive, Received "
     "input_dim = 0 and output_dim = 3"),
    ((4, -1), ValueError, "should be positive"),
    (("10", 3), TypeError, "Argument `input_dim` of Embedding must be a positive integer"),
    ((4, 2.5), TypeError, "Argument `output_dim`"),
    ((4, True), TypeError, "Argument `output_dim`")])
def test_sizes_are_checked(args, error, message):
    with pytest.raises(error, match=message):
        nr.Embedding(*args)


def test_sparse_is_refused():
    with pytest.raises(ValueError, match="numbarnn has no sparse arrays"):
        nr.Embedding(4, 2, sparse=True)


def test_input_length_completes_and_checks_the_output_shape():
    layer = nr.Embedding(10, 3, input_length=4)
    assert tuple(layer.compute_output_shape((None, 4))) == (None, 4, 3)
    assert tuple(layer.compute_output_shape((None, None))) == (None, 4, 3)
    with pytest.raises(ValueError, match=r'"input_length" is 4, but received input has '
                       r"shape \(None, 5\)"):
        layer.compute_output_shape((None, 5))
    model = nr.Sequential([nr.Embedding(10, 3), nr.SimpleRNN(2)])
    assert model.built and model.layers[0].input_shape == (None, None)


def test_a_model_takes_the_lookups_shape_whatever_the_input_length():
    """tf-keras's model builds from the call, which reads no input_length: an
    input_shape of other length builds and runs on it (its own input check stays)."""
    model = nr.Sequential([nr.Embedding(10, 3, input_length=5, input_shape=(6,))])
    assert model.output_shape == (None, 6, 3)
    with pytest.raises(ValueError, match='"input_length" is 5'):  # the method's, as there
        model.compute_output_shape((None, 6))
    out = model(np.arange(12).reshape(2, 6) % 10)
    assert out.shape == (2, 6, 3)
    np.testing.assert_array_equal(out[1, 0], model.layers[0].get_weights()[0][6])
    with pytest.raises(ValueError, match=r"expected shape=\(None, 6\), found shape=\(2, 5\)"):
        model(np.zeros((2, 5), "int32"))


def test_dropout_is_the_identity_outside_training():
    x = np.random.default_rng(0).standard_normal((2, 3, 4)).astype("float32")
    layer = nr.Dropout(0.5)
    for out in (layer(x), layer(x, training=False)):
        np.testing.assert_array_equal(out, x)
        assert out is not x  # a new array, as tf.identity's


def test_dropout_in_training_zeroes_or_scales_each_entry():
    x = np.random.default_rng(0).standard_normal((50, 4, 8)).astype("float32")
    out = nr.Dropout(0.25, seed=3)(x, training=True)
    kept = out != 0
    np.testing.assert_allclose(out[kept], x[kept] / np.float32(0.75), rtol=1e-6)
    assert 0.2 < 1 - kept.mean() < 0.3  # 1600 draws at 0.25
    assert out.dtype == np.float32


def test_dropout_noise_shape_and_seed():
    x = np.ones((3, 5, 4), "float64")
    first = nr.Dropout(0.5, noise_shape=(None, 1, 4), seed=7)(x, training=True)
    assert first.dtype == np.float32  # the layer's policy casts, as tf-keras's
    assert nr.Dropout(0.5, dtype="float64")(x, training=True).dtype == np.float64
    assert np.all(first == first[:, :1])  # the same features dropped at every step
    again = nr.Dropout(0.5, noise_shape=(None, 1, 4), seed=7)(x, training=True)
    np.testing.assert_array_equal(again, first)  # the seed repeats the draws
    with pytest.raises(ValueError, match="`noise_shape` of layer .* has 2 axes, but the "
                       "inputs have 3"):
        nr.Dropout(0.5, noise_shape=(None, 4))(x, training=True)


def test_dropout_training_through_a_model_keeps_the_mask():
    x = np.random.default_rng(1).standard_normal((2, 4, 3)).astype("float32")
    x[0, 2:] = 0.0
    plain = nr.Sequential([nr.Masking(0.0), nr.SimpleRNN(2)])
    with_dropout = nr.Sequential([nr.Masking(0.0), nr.Dropout(0.5, seed=1),
                                  nr.SimpleRNN(2)])
    plain(x), with_dropout(x)
    with_dropout.set_weights(plain.get_weights())
    np.testing.assert_array_equal(with_dropout(x), plain(x))
    trained = with_dropout(x, training=True)
    assert not np.allclose(trained, plain(x))  # the draws reached the RNN's inputs


@pytest.mark.parametrize("rate, message", [
    (1.5, "Invalid value 1.5 received for `rate`, expected a value between 0 and 1."),
    (-0.1, "Invalid value -0.1 received for `rate`")])
def test_dropout_rate_is_checked(rate, message):
    with pytest.raises(ValueError, match=message):
        nr.Dropout(rate)


def test_dropout_training_errors_are_tf_nn_dropouts():
    x = np.ones((2, 3), "float32")
    with pytest.raises(ValueError, match=r"`rate` must be a scalar tensor or a float in "
                       r"the range \[0, 1\). Received: rate=1"):
        nr.Dropout(1.0)(x, training=True)
    with pytest.raises(ValueError, match="`x.dtype` must be a floating point tensor"):
        nr.Dropout(0.5)(np.ones((2, 3), "int32"), training=True)
    with pytest.raises(ValueError, match="Argument `seed` of Dropout must be None or a "
                       "finite real number. Received: seed='3'"):
        nr.Dropout(0.5, seed="3")


@pytest.mark.parametrize("seed", [-2, 1.5, 2**70, True, np.int64(4), 4.0])
def test_dropout_takes_the_seeds_tf_keras_takes(seed):
    """Negative, float, large and bool seeds: each repeats its own draws, keeps the
    config value, and differs from its neighbour's."""
    x = np.ones((50, 40), "float32")
    first = nr.Dropout(0.5, seed=seed)
    draw = first(x, training=True)
    np.testing.assert_array_equal(nr.Dropout(0.5, seed=seed)(x, training=True), draw)
    assert first.get_config()["seed"] == seed
    assert not np.array_equal(nr.Dropout(0.5, seed=seed + 1)(x, training=True), draw)
    assert set(np.unique(draw)) == {0.0, 2.0}


def test_dropout_seeds_of_other_kinds_do_not_collide():
    """A negative seed, or a fraction, is no integer seed in disguise."""
    x = np.ones((50, 40), "float32")

    def draw(seed):
        return nr.Dropout(0.5, seed=seed)(x, training=True)

    negative = draw(-5)
    assert not np.array_equal(negative, draw(5))
    assert not np.array_equal(negative, draw(5 + 2 * 2**32))  # numpy's word packing
    half = draw(0.5)
    bits = int(np.float64(0.5).view(np.uint64))
    assert not np.array_equal(half, draw(bits)) and not np.array_equal(half, draw(-bits))
    np.testing.assert_array_equal(draw(2.0), draw(2))  # an integral float is that int


def test_build_keeps_the_declared_input_shape_and_numpy_sizes_serialise(tmp_path):
    """The tutorials' ``model.build((None, 100))`` after an Embedding (which declares
    ``(None,)``) leaves the model's input shape unknown in time, as tf-keras's build
    ignores the argument then; numpy integers in a config are written as numbers."""
    model = nr.Sequential([nr.Embedding(1000, 8, input_length=np.int64(20)),
                           nr.Bidirectional(nr.SimpleRNN(4)), nr.Dense(1)])
    assert model.input_shape == (None, 20)
    free = nr.Sequential([nr.Embedding(1000, 8), nr.SimpleRNN(4)])
    free.build((None, 100))
    assert free.input_shape == (None, None)
    assert free.get_config()["layers"][0]["config"]["batch_input_shape"] == (None, None)
    assert '"input_length": 20' in model.to_json()
    model.save(tmp_path / "m.keras")
    assert nr.load_model(tmp_path / "m.keras").layers[0].input_length == 20
