"""Saving and loading: build shapes, bare cells, safe mode, user classes and functions,
and the regularizer and dtype names tf-keras configs use."""
import json

import numpy as np
import pytest

import numbarnn as nr


def x_of(rng, shape):
    return rng.standard_normal(shape).astype("float32")


@pytest.mark.parametrize("make,shape", [
    (lambda: nr.SimpleRNN(3), (None, 5, 4)),
    (lambda: nr.RNN([nr.SimpleRNNCell(3), nr.SimpleRNNCell(2)]), (None, 5, 4)),
    (lambda: nr.RNN(nr.ResidualWrapper(nr.SimpleRNNCell(4))), (None, 5, 4)),
    (lambda: nr.Dense(2), (None, 4)),
    (lambda: nr.Sequential([nr.SimpleRNN(3), nr.Dense(2)]), (None, 5, 4)),
])
def test_save_after_an_explicit_build(tmp_path, rng, make, shape):
    layer = make()
    layer.build(shape)
    assert layer._build_input_shape == shape
    nr.save_model(layer, tmp_path / "m.npz")
    again = nr.load_model(tmp_path / "m.npz")
    x = x_of(rng, (2,) + shape[1:])
    np.testing.assert_array_equal(again(x), layer(x))


@pytest.mark.parametrize("make", [
    lambda: nr.SimpleRNNCell(3),
    lambda: nr.StackedRNNCells([nr.SimpleRNNCell(3), nr.SimpleRNNCell(2)]),
    lambda: nr.ResidualWrapper(nr.SimpleRNNCell(3)),
])
def test_save_and_load_a_bare_cell(tmp_path, rng, make):
    cell = make()
    cell.build((None, 3))
    nr.save_model(cell, tmp_path / "c.npz")
    again = nr.load_model(tmp_path / "c.npz")
    x = x_of(rng, (2, 3))
    states = [x_of(rng, (2, s)) for s in _flat(cell.state_size)]
    for got, want in zip(_flat(again(x, states)), _flat(cell(x, states))):
        np.testing.assert_array_equal(got, want)


def _flat(tree):
    if isinstance(tree, (list, tuple)):
        return [leaf for item in tree for leaf in _flat(item)]
    return [tree]


def test_build_records_the_input_shape_as_tf_keras_does(rng):
    stack = nr.StackedRNNCells([nr.SimpleRNNCell(4), nr.SimpleRNNCell(3)])
    stack.build((None, 5))
    assert stack._build_input_shape == (None, 5)
    assert [c._build_input_shape for c in stack.cells] == [(None, 5), (None, 4)]
    layer = nr.RNN(nr.SimpleRNNCell(2))
    layer(x_of(rng, (2, 3, 5)))
    assert layer.get_build_config() == {"input_shape": (2, 3, 5)}
    assert layer.cell.get_build_config() == {"input_shape": (2, 5)}
    assert nr.SimpleRNN(2).get_build_config() is None


def test_a_layer_that_forgets_super_build_cannot_be_saved_silently(tmp_path):
    class Custom(nr.Layer):
        def build(self, input_shape):
            self.w = self.add_weight("w", shape=(input_shape[-1], 2))
            self.built = True

        def call(self, x):
            return x @ self.w

    layer = Custom()
    layer.build((None, 4))
    with pytest.raises(ValueError, match="input shape it was built with is unknown"):
        nr.save_model(layer, tmp_path / "m.npz")


def test_stateful_state_variables_are_named_under_the_layer(rng):
    layer = nr.SimpleRNN(2, stateful=True, name="s")
    layer(x_of(rng, (2, 3, 4)))
    assert [v.name for v in layer.states] == ["s/Variable:0"]
    # created outside a call (a build, reset_states after `states = None`), they take
    # the name scope there: none (tf-keras's backend.variable)
    built = nr.SimpleRNN(2, stateful=True)
    built.build((2, 3, 4))
    layer.states = None
    layer.reset_states()
    assert built.states[0].name == layer.states[0].name == "Variable:0"


def _lambda_model(rng):
    layer = nr.RNN(nr.ResidualWrapper(nr.SimpleRNNCell(3),
                                      residual_fn=lambda i, o: i + 2 * o))
    x = x_of(rng, (2, 4, 3))
    return layer, x, layer(x)


def test_safe_mode_refuses_stored_bytecode(tmp_path, rng):
    layer, x, y = _lambda_model(rng)
    nr.save_model(layer, tmp_path / "m.npz")
    with pytest.raises(ValueError, match="Python `lambda`.*safe_mode=False"):
        nr.load_model(tmp_path / "m.npz")
    again = nr.load_model(tmp_path / "m.npz", safe_mode=False)
    np.testing.assert_array_equal(again(x), y)
    config = nr.layers.serialize(layer)
    with pytest.raises(ValueError, match="Python `lambda`"):
        nr.layers.deserialize(config)
    with nr.engine.serialization.SafeModeScope(False):
        again = nr.layers.deserialize(config)
    again.build(x.shape)
    again.set_weights(layer.get_weights())
    np.testing.assert_array_equal(again(x), y)
    # RNN.from_config deserializes its cell in safe mode; the wrapper's own from_config,
    # called directly, is not in safe mode (as in tf-keras)
    with pytest.raises(ValueError, match="Python `lambda`"):
        nr.RNN.from_config(layer.get_config())
    wrapper = nr.ResidualWrapper.from_config(layer.cell.get_config())
    assert wrapper._residual_fn(1.0, 2.0) == 5.0


def test_a_local_def_residual_fn_round_trips_as_tf_keras_saves_it(rng, tmp_path):
    """tf-keras cell_wrappers_test testResidualWrapperSerialization: every Python
    function (``types.LambdaType``) is saved as bytecode, a nested ``def`` included."""
    def make(scale):
        def residual_fn(inputs, outputs):
            return inputs * scale + outputs
        return nr.ResidualWrapper(nr.SimpleRNNCell(3), residual_fn=residual_fn)

    wrapper = make(3)
    config = wrapper.get_config()
    assert config["residual_fn_type"] == "lambda"
    assert config["residual_fn_module"] == __name__
    again = nr.ResidualWrapper.from_config(config)
    assert again._residual_fn(1, 2) == 5  # the closure's scale came along
    layer = nr.RNN(wrapper)
    x = x_of(rng, (2, 4, 3))
    y = layer(x)
    nr.save_model(layer, tmp_path / "m.npz")
    np.testing.assert_array_equal(nr.load_model(tmp_path / "m.npz", safe_mode=False)(x), y)
    # a callable that is not a Python function is saved by name, as in tf-keras
    ufunc = nr.ResidualWrapper(nr.SimpleRNNCell(3), residual_fn=np.add).get_config()
    assert (ufunc["residual_fn"], ufunc["residual_fn_type"]) == ("add", "function")
    assert nr.ResidualWrapper.from_config(
        ufunc, custom_objects={"add": np.add})._residual_fn is np.add


def double_tanh(x):
    return 2 * np.tanh(x)


def test_user_activation_is_written_as_tf_keras_writes_functions():
    config = nr.SimpleRNN(2, activation=double_tanh).get_config()
    assert config["activation"] == {"module": "builtins", "class_name": "function",
                                    "config": "double_tanh", "registered_name": "function"}
    with nr.utils.custom_object_scope({"double_tanh": double_tanh}):
        assert nr.SimpleRNN.from_config(config).activation is double_tanh


def test_registered_user_cell_round_trips_with_tf_keras_names(rng):
    @nr.utils.register_keras_serializable(package="test_pkg")
    class ScaledCell(nr.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.state_size = units

        def build(self, input_shape):
            self.kernel = self.add_weight("kernel", shape=(input_shape[-1], self.units))
            super().build(input_shape)

        def call(self, inputs, states):
            h = inputs @ self.kernel + 0.5 * states[0]
            return h, [h]

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    layer = nr.RNN(ScaledCell(2))
    x = x_of(rng, (2, 3, 4))
    y = layer(x)
    config = json.loads(json.dumps(nr.layers.serialize(layer)))
    cell = config["config"]["cell"]
    assert cell["registered_name"] == "test_pkg>ScaledCell"
    assert cell["build_config"] == {"input_shape": [2, 4]}
    again = nr.layers.deserialize(config)
    assert again.cell.built  # user classes build from build_config, as in tf-keras
    again.set_weights(layer.get_weights())
    np.testing.assert_array_equal(again(x), y)


def test_orthogonal_regularizer_against_mean_absolute_cosine(rng):
    w = rng.standard_normal((6, 4))
    for mode, vectors in (("rows", w), ("columns", w.T)):
        cosines = [abs(vectors[i] @ vectors[j]) / np.linalg.norm(vectors[i])
                   / np.linalg.norm(vectors[j])
                   for i in range(len(vectors)) for j in range(i + 1, len(vectors))]
        reg = nr.regularizers.OrthogonalRegularizer(0.3, mode)
        factor = float(np.float32(0.3))  # kept in floatx, as tf-keras does
        np.testing.assert_allclose(reg(w), factor * np.mean(cosines), rtol=1e-12)
    assert reg.get_config() == {"factor": factor, "mode": "columns"}
    assert isinstance(nr.regularizers.get("orthogonal_regularizer"),
                      nr.regularizers.OrthogonalRegularizer)
    with pytest.raises(ValueError, match="must have rank 2"):
        reg(np.zeros(3))
    with pytest.raises(ValueError, match="Received: mode=diagonal"):
        nr.regularizers.OrthogonalRegularizer(mode="diagonal")
    layer = nr.Dense(3, kernel_regularizer="orthogonal_regularizer")
    layer(np.ones((1, 5), "float32"))
    np.testing.assert_allclose(layer.losses[0], nr.regularizers.OrthogonalRegularizer()(
        layer.kernel.numpy()))


@pytest.mark.parametrize("alias,dtype", [("float", "float32"), ("double", "float64"),
                                         ("half", "float16"), ("f8", "float64")])
def test_tf_dtype_names(alias, dtype):
    layer = nr.SimpleRNN(2, dtype=alias)
    out = layer(np.ones((1, 2, 3), "float32"))
    assert layer.get_config()["dtype"] == dtype
    assert layer.cell.kernel.dtype == dtype and out.dtype == dtype
    with pytest.raises(ValueError, match="numpy has no bfloat16"):
        nr.SimpleRNN(2, dtype="bfloat16")


def test_seed_and_enable_caching_device_survive_a_config_round_trip():
    layer = nr.SimpleRNN.from_config(
        nr.SimpleRNN(2, seed=7, enable_caching_device=False).get_config())
    assert layer.cell.seed == 7
    assert layer.get_config()["enable_caching_device"] is False
    assert "seed" not in nr.SimpleRNN(2).get_config()  # tf-keras reads the default


def test_sequential_to_json_and_model_from_json(rng):
    model = nr.Sequential([nr.Masking(input_shape=(5, 3)), nr.SimpleRNN(4),
                           nr.Dense(2, activation="softmax")])
    again = nr.model_from_json(model.to_json())
    again.set_weights(model.get_weights())
    x = x_of(rng, (2, 5, 3))
    np.testing.assert_array_equal(again(x), model(x))
    assert json.loads(model.to_json())["class_name"] == "Sequential"
    with pytest.raises(ValueError, match="`json_string` must be a JSON model config"):
        nr.model_from_json("{not json")


def test_a_built_sequential_config_starts_with_its_input_layer():
    """tf-keras 2.21 ``Sequential.get_config``: once built, ``layers`` starts with an
    ``InputLayer`` entry (the input shape, relaxed as calls differ, the dtype of the
    first layer or of the first call's data, the name ``<first layer>_input``); an
    unbuilt model has none."""
    model = nr.Sequential([nr.SimpleRNN(4, name="r"), nr.Dense(2, name="d")], name="s")
    assert [c["class_name"] for c in model.get_config()["layers"]] == ["SimpleRNN", "Dense"]
    model(np.zeros((2, 5, 3), "float64"))
    first = model.get_config()["layers"][0]
    assert first == {"module": "keras.layers", "class_name": "InputLayer",
                     "config": {"batch_input_shape": (2, 5, 3), "dtype": "float64",
                                "sparse": False, "ragged": False, "name": "r_input",
                                "optional": False},
                     "registered_name": None}
    model(np.zeros((3, 5, 3), "float32"))
    assert model.get_config()["layers"][0]["config"]["batch_input_shape"] == (None, 5, 3)
    declared = nr.Sequential([nr.SimpleRNN(4, name="r", dtype="float64", input_shape=(5, 3)),
                              nr.Dense(2, name="d")])
    config = declared.get_config()
    assert [c["class_name"] for c in config["layers"]] == ["InputLayer", "SimpleRNN", "Dense"]
    assert config["layers"][0]["config"]["dtype"] == "float64"
    assert config["layers"][0]["config"]["batch_input_shape"] == (None, 5, 3)
    again = nr.Sequential.from_config(json.loads(json.dumps(config)))
    assert again.built and [l.name for l in again.layers] == ["r", "d"]


def test_sequential_get_layer():
    model = nr.Sequential([nr.SimpleRNN(2, name="a"), nr.Dense(1, name="b")])
    assert model.get_layer("b") is model.layers[1]
    assert model.get_layer(index=0) is model.layers[0]
    for kwargs, match in [({}, "Provide either a layer name or layer index"),
                          ({"name": "z"}, r"No such layer: z. Existing layers are: \['a', 'b'\]"),
                          ({"index": 2}, "at index 2 but model only has 2 layers"),
                          ({"name": "a", "index": 0}, "Provide only a layer name")]:
        with pytest.raises(ValueError, match=match):
            model.get_layer(**kwargs)


@nr.utils.register_keras_serializable("Passive")
class HoldsObjects(nr.Layer):
    """A custom layer whose config holds a layer and an initializer themselves (tf-keras
    serialization_lib_test test_serialize_deserialize_custom_layer_json)."""

    def __init__(self, inner, init=None, **kwargs):
        super().__init__(**kwargs)
        self.inner, self.init = inner, init

    def get_config(self):
        return {**super().get_config(), "inner": self.inner, "init": self.init}

    def call(self, x):
        return self.inner(x)


def test_objects_inside_a_custom_config_round_trip_through_json(rng, tmp_path):
    model = nr.Sequential([HoldsObjects(nr.Dense(3), nr.initializers.Constant(2.0),
                                        input_shape=(4,))])
    text = model.to_json()
    again = nr.model_from_json(text)
    assert again.to_json() == text
    layer = again.layers[0]
    assert isinstance(layer.inner, nr.Dense) and layer.inner.units == 3
    assert isinstance(layer.init, nr.initializers.Constant) and layer.init.value == 2.0
    entry = json.loads(text)["config"]["layers"][1]["config"]["inner"]
    assert entry["class_name"] == "Dense" and entry["__passive_serialization__"] is True
    x = x_of(rng, (2, 4))
    y = model(x)
    nr.save_model(model, tmp_path / "m.npz")
    np.testing.assert_array_equal(nr.load_model(tmp_path / "m.npz")(x), y)


@nr.utils.register_keras_serializable("Passive")
def registered_fn(x):
    return x


def test_serializing_a_registered_function_as_tf_keras():
    # object_registration_test test_serialize_custom_function
    config = nr.layers.serialize(registered_fn)
    assert config == {"module": "builtins", "class_name": "function",
                      "config": "Passive>registered_fn", "registered_name": "function"}
    assert nr.utils.serialize_keras_object(registered_fn) == config
    assert nr.layers.deserialize(config) is registered_fn
    assert nr.utils.deserialize_keras_object(config) is registered_fn
    constant = nr.utils.serialize_keras_object(nr.initializers.Constant(3))
    assert constant["module"] == "keras.initializers"
    assert nr.utils.deserialize_keras_object(constant).value == 3
    assert nr.utils.deserialize_keras_object(
        nr.utils.serialize_keras_object(nr.Dense(4))).units == 4
