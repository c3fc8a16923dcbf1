"""Details of the tf-keras Layer contract (reference §6) that Keras users run into:
losses added outside a call, from_config errors, "_infer" policies, InputSpec
matching of dicts, optional inputs and squeezed axes, the global policy, and the
attributes a ported model reads (input_shape, output_shape, updates, metrics,
submodules)."""
import re
import warnings

import numpy as np
import pytest

import numbarnn as nr
from numbarnn import InputSpec


class Identity(nr.Layer):
    def __init__(self, spec=None, **kwargs):
        super().__init__(**kwargs)
        self.input_spec = spec

    def call(self, inputs):
        return inputs


class AddsLosses(nr.Layer):
    def call(self, inputs):
        self.add_loss(0.5)                                  # a Python number
        self.add_loss([np.sum(inputs), None])               # a list, None skipped
        return inputs


def test_a_loss_value_only_inside_a_call():
    layer = Identity()
    with pytest.raises(ValueError, match="Expected a symbolic Tensors or a callable for "
                                         "the loss value"):
        layer.add_loss(np.float32(1.0))
    assert layer.losses == []
    layer.add_loss(lambda: 2.0)                            # a callable may come any time
    assert [float(v) for v in layer.losses] == [2.0]
    adds = AddsLosses()
    adds(np.full(3, 2.0, "float32"))
    assert [(float(v), v.dtype) for v in adds.losses] == [(0.5, np.float32),
                                                           (6.0, np.float32)]


@pytest.mark.parametrize("cls,config,message", [
    (nr.Dense, {"units": -1}, "expected a positive integer"),
    (nr.SimpleRNNCell, {"units": 0}, "expected a positive integer"),
    (nr.Masking, {"bogus": 1}, "Keyword argument not understood"),
])
def test_from_config_reports_constructor_errors_as_tf_keras(cls, config, message):
    with pytest.raises(TypeError, match=re.escape(
            f"Error when deserializing class '{cls.__name__}' using config={config}.")) \
            as info:
        cls.from_config(config)
    assert message in str(info.value)


def test_simple_rnn_from_config_errors_come_through_as_they_are():
    # tf-keras's SimpleRNN.from_config (and RNN's) do not wrap them
    with pytest.raises(ValueError, match="expected a positive integer"):
        nr.SimpleRNN.from_config({"units": 0})


def test_an_infer_policy_is_fixed_by_the_first_weight():
    layer = Identity(dtype=nr.Policy("_infer"))   # a string "_infer" is no dtype (below)
    layer.add_weight("w", (2,))
    assert layer.dtype_policy.name == "float32"
    assert layer(np.zeros(2, "float64")).dtype == np.float32   # autocast from then on
    f64 = Identity(dtype=nr.Policy("_infer"))
    f64.add_weight("w", (2,), dtype="float64")
    assert f64.dtype_policy.name == "float64"


class WithConfig(nr.Layer):
    def get_config(self):
        return super().get_config()


def test_base_config_serialises_policies_as_tf_keras():
    assert WithConfig(dtype=nr.Policy("_infer")).get_config()["dtype"] is None
    assert WithConfig(dtype="float64").get_config()["dtype"] == "float64"
    mixed = WithConfig(dtype="mixed_float16").get_config()["dtype"]
    assert mixed["class_name"] == "Policy" and mixed["config"] == {"name": "mixed_float16"}
    # keys in tf-keras's order: the declared shape after the dtype
    config = nr.SimpleRNN(2, input_shape=(None, 3)).get_config()
    keys = list(config)
    assert keys.index("dtype") < keys.index("batch_input_shape")


def test_policies_keep_their_names_and_layers_read_dtypes_as_tf_as_dtype():
    # tf-keras: Policy keeps the name it is given; a layer's dtype= string goes through
    # tf.as_dtype first (mixed names apart), so "foo" and "_infer" are TypeErrors there.
    for alias, dtype in [("float", "float32"), ("double", "float64"), ("half", "float16")]:
        policy = nr.Policy(alias)
        assert (policy.name, policy.compute_dtype, policy.variable_dtype) == (
            alias, dtype, dtype)
        assert policy.get_config() == {"name": alias} and repr(policy) == f'<Policy "{alias}">'
        assert WithConfig(dtype=policy).get_config()["dtype"] == alias
        layer = nr.Dense(2, dtype=alias)
        assert layer.dtype_policy.name == dtype and layer.get_config()["dtype"] == dtype
        assert Identity(dtype=alias).get_config()["dtype"] == alias   # the auto-config
    for bad in ["foo", "_infer"]:
        with pytest.raises(TypeError, match=re.escape(
                f"Cannot convert the argument `type_value`: '{bad}' to a TensorFlow DType.")):
            nr.Dense(2, dtype=bad)
    try:
        nr.set_global_policy("_infer")     # a Policy name, as tf-keras takes it here
        assert nr.global_policy().name == "_infer"
        nr.set_global_policy("float")
        assert nr.global_policy().name == "float" and nr.Dense(2).dtype == "float32"
    finally:
        nr.set_global_policy(None)


def test_dict_inputs_meet_named_specs_in_the_specs_order():
    vec, mat = np.zeros(3, "float32"), np.zeros((2, 3), "float32")
    layer = Identity([InputSpec(ndim=2, name="b"), InputSpec(ndim=1, name="a")])
    out = layer({"a": vec, "b": mat})
    assert out["a"] is not None and out["b"].shape == (2, 3)
    with pytest.raises(ValueError, match=re.escape(
            "Missing data for input \"a\". You passed a data dictionary with keys "
            "['b', 'z']. Expected the following keys: ['b', 'a']")):
        Identity([InputSpec(ndim=2, name="b"), InputSpec(ndim=1, name="a")])(
            {"b": mat, "z": vec})
    # unnamed specs: the dict's values in sorted key order, as tf.nest flattens them
    with pytest.raises(ValueError, match="expected ndim=2, found ndim=1"):
        Identity([InputSpec(ndim=2), InputSpec(ndim=1)])({"a": vec, "b": mat})


def test_an_optional_input_may_be_none():
    x = np.ones((2, 3), "float32")
    layer = Identity([InputSpec(ndim=2), InputSpec(ndim=2, optional=True)])
    out = layer([x, None])
    assert out[1] is None
    np.testing.assert_array_equal(out[0], x)
    with pytest.raises(TypeError, match="Inputs to a layer should be tensors"):
        Identity([InputSpec(ndim=2), InputSpec(ndim=2)])([x, None])


def test_squeezed_shapes_compare_over_the_shorter_rank():
    # tf-keras zips the two shapes: with the squeeze allowed, the ranks may differ
    spec = InputSpec(shape=(None, 4), allow_last_axis_squeeze=True)
    assert Identity(spec)(np.zeros((3, 4, 5), "float32")).shape == (3, 4, 5)
    assert Identity(spec)(np.zeros((3, 4, 1), "float32")).shape == (3, 4, 1)
    with pytest.raises(ValueError, match=re.escape("expected shape=(None, 4)")):
        Identity(spec)(np.zeros((3, 5), "float32"))
    with pytest.raises(ValueError, match="expected ndim=2, found ndim=3"):
        Identity(InputSpec(shape=(None, 4)))(np.zeros((3, 4, 5), "float32"))


def test_the_global_policy_must_be_floating_point():
    with pytest.raises(ValueError, match="set_global_policy can only be used to set the "
                                         "global policy to floating-point policies.*int32"):
        nr.set_global_policy("int32")
    assert nr.global_policy().name == "float32"
    try:
        nr.set_global_policy("mixed_bfloat16")
        assert nr.global_policy().name == "mixed_bfloat16"
        nr.set_global_policy("_infer")
        assert nr.global_policy().name == "_infer"
    finally:
        nr.set_global_policy(None)
    assert nr.global_policy().name == "float32"


@pytest.mark.parametrize("name,advice", [
    ("float16_with_float32_vars", "Please use the 'mixed_float16' policy instead."),
    ("bfloat16_with_float32_vars", "Please use the 'mixed_bfloat16' policy instead."),
    ("infer_float32_vars", "Please use the 'mixed_float16' or 'mixed_bfloat16' policy "
                           "instead."),
    ("int32_with_float32_vars", ""),
])
def test_removed_float32_vars_policies_say_what_to_use(name, advice):
    expected = ("Policies ending in '_float32_vars' have been removed from TensorFlow."
                + (" " + advice if advice else "") + f" Got policy name: '{name}'")
    with pytest.raises(ValueError, match=re.escape(expected) + "$"):
        nr.Policy(name)


def test_layers_of_a_sequential_model_report_their_shapes():
    model = nr.Sequential([nr.SimpleRNN(5, input_shape=(None, 4)), nr.Dense(1)])
    rnn, dense = model.layers
    assert (rnn.input_shape, rnn.output_shape) == ((None, None, 4), (None, 5))
    assert (dense.input_shape, dense.output_shape) == ((None, 5), (None, 1))
    # a model built by its first call: that call's shape, then relaxed by the next
    model = nr.Sequential([nr.SimpleRNN(5, return_sequences=True), nr.Dense(1)])
    model(np.zeros((2, 3, 4), "float32"))
    assert model.layers[0].input_shape == (2, 3, 4)
    assert model.layers[1].output_shape == (2, 3, 1)
    model(np.zeros((3, 3, 4), "float32"))
    assert model.layers[0].input_shape == (None, 3, 4)
    assert model.layers[1].output_shape == (None, 3, 1)


def test_a_layer_called_on_data_alone_has_no_shape_attributes():
    layer = nr.SimpleRNN(3)
    layer(np.zeros((2, 3, 4), "float32"))
    with pytest.raises(AttributeError, match="has never been called and thus has no "
                                             "defined input shape"):
        _ = layer.input_shape
    with pytest.raises(AttributeError, match="no defined output shape"):
        _ = layer.output_shape


def test_updates_metrics_and_submodules():
    model = nr.Sequential([nr.SimpleRNN(2), nr.Dense(1)])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert model.updates == []
    assert "will be removed in a future version" in str(caught[0].message)
    assert model.metrics == [] and model.layers[0].metrics == []
    rnn, dense = model.layers
    assert model.submodules == (rnn, rnn.cell, dense)
    assert dense.submodules == ()


class ScalarMaskLayer(nr.Layer):
    """tf-keras core_test test_compute_mask_with_positional_mask_arg's layer."""

    def call(self, inputs, mask=None):
        return inputs

    def compute_mask(self, inputs, mask=None):
        return np.ones(()) if mask is not None else np.zeros(())


def test_a_layer_with_its_own_compute_mask_supports_masking():
    # tf-keras: supports_masking = not is_default(self.compute_mask)
    assert ScalarMaskLayer().supports_masking
    assert not nr.Layer().supports_masking
    assert not nr.SimpleRNNCell(2).supports_masking
    x = np.ones((1, 1))
    assert float(ScalarMaskLayer()(x)._keras_mask) == 0.0


@pytest.mark.parametrize("how", ["positional", "keyword"])
def test_a_mask_passed_by_position_is_the_mask(how):
    layer = ScalarMaskLayer()
    x, mask = np.ones((1, 1)), np.ones((1, 1))
    y = layer(x, mask) if how == "positional" else layer(x, mask=mask)
    assert float(y._keras_mask) == 1.0


def test_a_positional_mask_replaces_the_one_the_input_carries():
    seen = []

    class Recorder(nr.Layer):
        def __init__(self):
            super().__init__()
            self.supports_masking = True

        def call(self, inputs, mask=None):
            seen.append(None if mask is None else np.asarray(mask).copy())
            return inputs

    x = np.ones((2, 3, 1), "float32")
    x[1, 2] = 0.0
    masked = nr.Masking(0.0)(x)
    Recorder()(masked)
    np.testing.assert_array_equal(seen[-1], [[True, True, True], [True, True, False]])
    given = np.zeros((2, 3), bool)
    out = Recorder()(masked, given)
    np.testing.assert_array_equal(seen[-1], given)
    # an output that already carries a mask keeps it (tf-keras's _set_mask_metadata:
    # "mask already computed"); here the output is the masked input itself
    np.testing.assert_array_equal(out._keras_mask, masked._keras_mask)


def test_a_float64_sequential_does_not_round_its_input_to_float32():
    """tf-keras: a model never casts its inputs (Functional sets autocast=False); each
    layer casts its own. 1e-50 became 0 in float32, and Masking masked that step."""
    x = np.array([[[1.0], [1e-50]]])
    model = nr.Sequential([
        nr.Masking(0.0, dtype="float64"),
        nr.SimpleRNN(1, activation="linear", use_bias=False, kernel_initializer="ones",
                     recurrent_initializer="zeros", dtype="float64")])
    out = model(x)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, [[1e-50]])
    dense = nr.Sequential([nr.Dense(1, kernel_initializer="ones", dtype="float64")])
    assert dense(np.array([[1 + 1e-9]]))[0, 0] - 1 == pytest.approx(1e-9, rel=1e-6)


def test_sequential_construction_as_tf_keras_sequential_test():
    # test_single_layer_in_init
    assert len(nr.Sequential(nr.Dense(1)).layers) == 1
    # test_nested_sequential_trainability: a built inner model gives its input shape
    inner = nr.Sequential([nr.Dense(10, input_shape=(20,))])
    model = nr.Sequential([inner, nr.Dense(2)])
    assert model.built and len(model.trainable_weights) == 4
    # test_input_assumptions_propagation: the input spec is checked before the build
    with pytest.raises(ValueError, match="expected min_ndim=2, found ndim=0"):
        nr.Sequential([nr.Dense(1)])(1.0)

    # test_multi_output_layer_not_accepted: at construction, with an input shape
    class TwoOutputs(nr.Layer):
        def call(self, x):
            return x, x
    with pytest.raises(ValueError, match="should have a single output tensor"):
        nr.Sequential([TwoOutputs(input_shape=(3,))])
    # test_build_empty_network: popping the last layer leaves an unbuilt model
    model = nr.Sequential([nr.Dense(5, input_shape=(6,))])
    assert model.built
    model.pop()
    assert not model.built


def test_base_layer_details_from_tf_keras_base_layer_test():
    # test_dynamic_not_boolean
    with pytest.raises(TypeError, match="Expected `dynamic` argument to be a boolean"):
        nr.Layer(dynamic=0)

    # test_super_not_called
    class NoSuper(nr.Layer):
        def __init__(self):
            pass

        def call(self, x):
            return x
    with pytest.raises(RuntimeError, match=r"You must call `super\(\).__init__\(\)`"):
        NoSuper()(np.ones(2))

    # test_build_input_shape_list_with_none: a None leaf builds with None
    class Record(nr.Layer):
        def build(self, shape):
            self.seen = shape

        def call(self, x):
            return x
    layer = Record()
    layer([np.array([1.0]), None, np.array([2.0])])
    assert layer.seen == [(1,), None, (1,)]

    # input_cast_to_dtype: inputs are not cast to a non-floating layer dtype
    class Identity(nr.Layer):
        def call(self, x):
            return x
    out = Identity(dtype="int32")(np.array([1.5]))
    assert out.dtype == np.float64 and out[0] == 1.5

    # test_variable_resetting: a replaced trainable Variable takes the old one's place
    dense = nr.Dense(1)
    dense.build([8, 2])
    dense.bias = nr.Variable(np.zeros(1, np.float32))
    dense.kernel = nr.Variable(np.zeros((2, 1), np.float32))
    assert dense.trainable_variables[0] is dense.kernel
    assert dense.trainable_variables[1] is dense.bias


def test_the_inputs_may_be_given_by_the_name_of_calls_first_parameter():
    """tf-keras base_layer_test test_first_arg_not_called_inputs."""
    class AddTwo(nr.Layer):
        def call(self, x=None, y=None):
            return x + y
    a = np.ones(2)
    np.testing.assert_array_equal(AddTwo()(x=a, y=a), [2.0, 2.0])
    np.testing.assert_array_equal(AddTwo()(a, y=a), [2.0, 2.0])
    with pytest.raises(ValueError, match="The first argument to `Layer.call` must always "
                                         "be passed"):
        AddTwo()(y=a)
    assert nr.SimpleRNN(2)(inputs=np.ones((1, 2, 3), "float32")).shape == (1, 2)


def test_sequential_configs_keep_the_input_dtype_and_tf_keras_module():
    x = np.ones((2, 3, 4), np.float16)
    model = nr.Sequential([nr.SimpleRNN(2)])
    model(x)
    config = model.get_config()
    assert config["layers"][0]["config"]["dtype"] == "float16"
    assert nr.Sequential.from_config(config).get_config() == config
    outer = nr.Sequential([nr.Sequential([nr.SimpleRNN(4, return_sequences=True,
                                                        input_shape=(5, 3))]), nr.Dense(2)])
    entry = outer.get_config()["layers"][1]
    assert (entry["module"], entry["registered_name"]) == ("keras", None)  # keras.Sequential


def test_mixed_precision_names_as_keras_mixed_precision():
    assert nr.mixed_precision.Policy is nr.Policy
    try:
        nr.mixed_precision.set_global_policy("mixed_float16")
        assert nr.mixed_precision.global_policy().name == "mixed_float16"
        assert nr.SimpleRNN(2).compute_dtype == "float16"
    finally:
        nr.mixed_precision.set_global_policy(None)  # back to floatx, as at the start


def test_mixed_bfloat16_layers_compute_in_float32():
    """numpy has no bfloat16 (tf-keras computes in it): every layer computes in float32
    under mixed_bfloat16, the host-computed ones too (Embedding's lookup, Dense on
    integer input, ThresholdedReLU), whether or not something registered a numpy
    "bfloat16" type (ml_dtypes, as TensorFlow's import does)."""
    ids = np.array([[1, 2, 3], [4, 0, 9]])
    rng = np.random.default_rng(0)

    def run():
        nr.utils.set_random_seed(3)
        embedding = nr.Sequential([nr.Embedding(10, 4), nr.SimpleRNN(2)])
        dense = nr.Dense(2, kernel_initializer="ones")
        values = rng.standard_normal((2, 3)).astype("float32")
        return (nr.Embedding(10, 4, embeddings_initializer="ones")(ids),
                embedding.predict(ids, verbose=0), dense(np.ones((2, 3), "int32")),
                nr.ThresholdedReLU(0.5)(values))

    try:
        nr.set_global_policy("mixed_bfloat16")
        mixed = run()
    finally:
        nr.set_global_policy(None)
    rng = np.random.default_rng(0)
    plain = run()
    for got, want in zip(mixed, plain):
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=1e-6)


@pytest.mark.parametrize("policy", ["mixed_float16", "float64"])
def test_dense_casts_its_input_to_the_compute_dtype_without_autocast(policy):
    """tf-keras's Dense.call casts its input itself, autocast=False or not."""
    x = np.array([[0.1, 0.2, 0.3]], "float32")
    try:
        nr.set_global_policy(policy)
        layer = nr.Dense(2, autocast=False, kernel_initializer="ones")
        out = layer(x)
    finally:
        nr.set_global_policy(None)
    compute = np.dtype("float16" if policy == "mixed_float16" else policy)
    assert out.dtype == compute
    want = x.astype(compute).astype("float64").sum() * np.ones((1, 2))
    np.testing.assert_allclose(out, want, rtol=1e-3 if compute == np.float16 else 1e-12)


def test_mixed_precision_variables_read_in_the_compute_dtype_inside_a_call():
    """tf-keras's AutoCastVariable (mixed_precision/layer_test test_mixed_policies_):
    inside a mixed_float16 layer's call, arithmetic on its float32 weights is float16;
    outside, and for add_weight(autocast=False), they read as float32."""
    class Scale(nr.Layer):
        def build(self, shape):
            self.v = self.add_weight("v", (), initializer="ones")
            self.kept = self.add_weight("kept", (), initializer="ones", autocast=False)

        def call(self, x):
            self.seen = (np.asarray(self.v).dtype, (x * self.kept).dtype,
                         nr.backend.dot(x[None], self.v[None, None]).dtype)
            # what the variable reports there: tf-keras's AutoCastVariable's
            self.reported = (self.v.dtype, self.v.true_dtype, self.v.read_value().dtype,
                             self.kept.dtype)
            nr.backend.set_value(self.v, 1.0 + 2 ** -13)  # stored in float32, not float16
            return x * self.v

    layer = Scale(dtype="mixed_float16")
    y = layer(np.array([1.0], "float32"))
    assert y.dtype == np.float16 and layer.v.dtype == np.float32
    assert layer.seen == (np.float16, np.float32, np.float16)
    assert layer.reported == (np.float16, np.float32, np.float16, np.float32)
    assert layer.v.numpy() == np.float32(1.0 + 2 ** -13)
    assert np.asarray(layer.v).dtype == np.float32  # outside a call
    plain = Scale()
    assert plain(np.array([1.0], "float32")).dtype == np.float32


def test_python_scalars_convert_as_tf_convert_to_tensor():
    """int32 (int64 where it does not fit), float32, bool: what the call and an
    InputSpec's dtype check see."""
    class Identity(nr.Layer):
        def __init__(self, **kwargs):
            super().__init__(autocast=False, **kwargs)

        def call(self, x):
            return x

    layer = Identity()
    assert [layer(v).dtype for v in (3, 3.0, True, 2**40)] == [
        np.int32, np.float32, np.bool_, np.int64]

    class Float32Only(Identity):
        def __init__(self):
            super().__init__()
            self.input_spec = InputSpec(dtype="float32")

    assert Float32Only()(3.0) == 3.0


def test_tensor_shape_has_tf_tensor_shapes_methods():
    shape = nr.layers.TensorShape([None, 3])
    assert shape == [None, 3] and shape == (None, 3) and not shape != [None, 3]
    assert hash(shape) == hash((None, 3))
    assert type(shape + (4,)) is nr.layers.TensorShape and shape + [4] == [None, 3, 4]
    assert shape.dims == [None, 3] and shape.with_rank(2) is shape
    assert shape.with_rank_at_least(1) is shape and shape.with_rank_at_most(2) is shape
    assert shape.merge_with([2, None]) == (2, 3)
    assert shape.is_compatible_with([5, 3]) and not shape.is_compatible_with([5, 4])
    assert not shape.is_compatible_with([5, 3, 1])
    with pytest.raises(ValueError, match=re.escape("Shape (None, 3) must have rank 3")):
        shape.with_rank(3)
    with pytest.raises(ValueError, match=re.escape(
            "Shapes (None, 3) and (2, 4) are not compatible")):
        shape.merge_with([2, 4])


def test_python_number_losses_are_floatx_and_input_spec_shapes_are_dimensions():
    layer = nr.Layer()
    layer.add_loss(lambda: 2.0)
    layer.add_weight("w", (1,), regularizer=lambda w: 0.5)
    assert [loss.dtype for loss in layer.losses] == [np.float32, np.float32]
    spec = InputSpec(shape=(None, np.int64(4)))
    assert spec.shape == (None, 4) and type(spec.shape[1]) is int
    for bad in ((None, "a"), (2.0, 3)):
        with pytest.raises(TypeError, match="Dimension value must be integer"):
            InputSpec(shape=bad)


def test_on_read_synchronized_weights_are_not_trainable():
    layer = nr.Layer()
    assert not layer.add_weight("a", (1,), synchronization="ON_READ").trainable
    with pytest.raises(ValueError, match="ON_READ only for non-trainable variables"):
        layer.add_weight("b", (1,), synchronization="ON_READ", trainable=True)


def test_residual_wrapper_takes_its_state_as_state_and_rnn_has_constants_spec():
    wrapper = nr.ResidualWrapper(nr.SimpleRNNCell(3))
    x, h = np.ones((2, 3), "float32"), np.zeros((2, 3), "float32")
    out, _ = wrapper(x, state=[h])  # tf-keras's cell wrappers name it `state`
    np.testing.assert_array_equal(out, wrapper(x, [h])[0])
    layer = nr.RNN(nr.SimpleRNNCell(2))
    assert layer.constants_spec is None


def test_automatic_config_lists_keyword_arguments_before_positional_ones():
    """tf-keras's Layer.__new__ adds the positional arguments after the keywords."""
    class Configured(nr.Layer):
        def __init__(self, units, extra=0, act="relu", **kwargs):
            super().__init__(**kwargs)

    config = Configured(3, extra=1, act="tanh").get_config()
    assert [k for k in config if k in ("units", "extra", "act")] == ["extra", "act", "units"]
