"""``Input`` / ``InputLayer`` starting a Sequential, as tf-keras's (values checked against
tf-keras 2.21's behaviour: names, configs, errors)."""
import re

import numpy as np
import pytest

import numbarnn as nr
from numbarnn import backend as K


def test_input_starts_a_sequential_as_tf_keras():
    nr.backend.clear_session()
    x = nr.Input(shape=(10, 8))
    assert tuple(x.shape) == (None, 10, 8) and x.dtype == "float32" and x.name == "input_1"
    assert repr(x) == ("<KerasTensor: shape=(None, 10, 8) dtype=float32 (created by layer "
                       "'input_1')>")
    model = nr.Sequential([x, nr.SimpleRNN(4)])
    assert [layer.name for layer in model.layers] == ["simple_rnn"]  # not the InputLayer
    assert model.built and model.input_shape == (None, 10, 8)
    assert model.output_shape == (None, 4)
    entry = model.get_config()["layers"][0]
    assert entry == {"module": "keras.layers", "class_name": "InputLayer",
                     "config": {"batch_input_shape": (None, 10, 8), "dtype": "float32",
                                "sparse": False, "ragged": False, "name": "input_1",
                                "optional": False},
                     "registered_name": None}
    batch = nr.Input(batch_shape=(4, 3), dtype="float64", name="x")
    assert tuple(batch.shape) == (4, 3) and batch.dtype == "float64"
    assert tuple(nr.Input(shape=3).shape) == (None, 3)  # a bare length, as tf.TensorShape
    # the declared shape is checked on every call (batch free), weights exist at once
    with pytest.raises(ValueError, match=r"expected shape=\(None, 10, 8\), found shape="):
        model(np.zeros((2, 10, 5), "float32"))
    assert [w.shape for w in model.get_weights()] == [(8, 4), (4, 4), (4,)]
    again = nr.Sequential.from_config(model.get_config())
    again.set_weights(model.get_weights())
    data = np.random.default_rng(0).standard_normal((3, 10, 8)).astype("float32")
    np.testing.assert_allclose(again(data), model(data), rtol=1e-6)


def test_an_input_layer_keeps_its_dtype_and_an_input_comes_first():
    model = nr.Sequential()
    model.add(nr.layers.InputLayer(input_shape=(4,), dtype="float64", name="inp"))
    # built, as tf-keras's: its output is the input
    assert model.built and model.layers == [] and model.output_shape == (None, 4)
    model.add(nr.Dense(2))
    assert model.built and model.get_config()["layers"][0]["config"]["dtype"] == "float64"
    assert model.get_config()["layers"][0]["config"]["name"] == "inp"
    with pytest.raises(ValueError, match="can only be the first entry of a Sequential"):
        nr.Sequential([nr.Dense(2, input_shape=(3,)), nr.Input(shape=(3,))])
    with pytest.raises(ValueError, match="can only be the first entry of a Sequential"):
        nr.Sequential([nr.Input(shape=(3,)), nr.Input(shape=(3,))])


@pytest.mark.parametrize("make,message", [
    (lambda: nr.Input(), "Please provide to Input a `shape` or a `tensor` or a "
                         "`type_spec` argument."),
    (lambda: nr.Input(shape=(3,), batch_shape=(2, 3)), "Only provide the `shape` OR "
                                                       "`batch_input_shape` argument"),
    (lambda: nr.layers.InputLayer(input_shape=(3,), batch_input_shape=(2, 3)),
     "Only provide the input_shape OR batch_input_shape argument to InputLayer"),
    (lambda: nr.Input(shape=(3,), sparse=True), "Argument `sparse` of InputLayer is not "
                                                "supported"),
])
def test_input_errors(make, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        make()


def test_a_layer_called_on_a_symbolic_input_says_there_is_no_functional_api():
    x = nr.Input(shape=(3, 4))
    with pytest.raises(TypeError, match="has no functional API"):
        nr.SimpleRNN(2)(x)
    assert K.is_keras_tensor(x) and not K.is_keras_tensor(np.ones(2))
    assert not K.is_keras_tensor(K.variable(1.0))
    with pytest.raises(ValueError, match="Expected a symbolic tensor instance"):
        K.is_keras_tensor("x")


def test_a_declared_input_survives_a_config_round_trip():
    model = nr.Sequential([nr.Input(shape=(5, 3), name="inp"), nr.SimpleRNN(2)])
    again = nr.Sequential.from_config(model.get_config())
    assert again.get_config()["layers"][0]["config"]["name"] == "inp"
    with pytest.raises(ValueError, match=r"expected shape=\(None, 5, 3\), found shape="):
        again(np.zeros((1, 7, 3), "float32"))  # the Input's timesteps, as in tf-keras
    inferred = nr.Sequential([nr.SimpleRNN(2)])
    inferred(np.zeros((1, 5, 3), "float32"))
    entry = inferred.get_config()["layers"][0]["config"]
    assert entry["name"] == f"{inferred.layers[0].name}_input"
    loose = nr.Sequential.from_config(inferred.get_config())
    # numbarnn: no Input, not refused (tf-keras refuses it: a documented deviation, see
    # the from_tf_keras guide)
    assert loose(np.zeros((1, 7, 3), "float32")).shape == (1, 2)


def test_an_input_name_counts_among_the_layer_names():
    with pytest.raises(ValueError, match='The name "d" is used 2 times in the model. All '
                                         "layer names should be unique."):
        nr.Sequential([nr.Input(shape=(3,), name="d"), nr.Dense(2, name="d")])


def test_input_numbering_is_apart_from_layer_names():
    nr.backend.clear_session()
    nr.Dense(2)
    assert K.get_uid("dense") == 1          # tf-keras: its own counter
    assert nr.Dense(2).name == "dense_1"
    assert nr.Input(shape=(2,)).name == "input_1"
    assert nr.Input(shape=np.int64(3)).shape == (None, 3)


def test_data_is_cast_to_the_dtype_an_input_declares():
    # tf-keras's functional model conforms each input to its Input's dtype
    x = np.array([[0.6, 1.7, -0.4]], "float32")
    model = nr.Sequential([nr.Input(shape=(3,), dtype="int32"),
                           nr.Dense(1, kernel_initializer="ones")])
    np.testing.assert_array_equal(model(x), [[1.0]])        # int32: [0, 1, 0]
    half = nr.Sequential([nr.Input(shape=(3,), dtype="float16"),
                          nr.Dense(1, kernel_initializer="ones", dtype="float64")])
    np.testing.assert_array_equal(half(np.array([[0.1, 0.2, 0.3]])),
                                  [[np.float64(np.float16(0.1)) + np.float16(0.2)
                                    + np.float16(0.3)]])    # tf-keras: 0.59997559


def test_a_nested_model_with_an_input_runs_once_per_call_whatever_the_data_dtype():
    calls = []

    class Counting(nr.Layer):
        def call(self, x):
            calls.append(x.dtype)
            return x
    inner = nr.Sequential([nr.Input(shape=(3,)), Counting(),
                           nr.Dense(2, activity_regularizer="l2")])
    outer = nr.Sequential([inner, nr.Dense(1)])
    outer(np.ones((2, 3)))                     # float64 data, a float32 Input
    assert calls[-1] == np.float32
    before = len(calls)
    outer(np.ones((2, 3)))
    assert len(calls) == before + 1 and len(outer.losses) == 1   # tf-keras: one of each
    casted = nr.Sequential([nr.Input(shape=(3,), dtype="int32"),
                            nr.Dense(1, kernel_initializer="ones")])
    x = np.array([[0.6, 1.7, -0.4]], "float32")
    np.testing.assert_array_equal(casted([x]), [[1.0]])  # a one-element list too
