"""The Layer / Sequential / Variable surface a custom-layer author touches, as in
tf-keras: attribute tracking, build shapes, output shapes, stateful models."""
import numpy as np
import pytest

import numbarnn as nr
from cells import UnitsCell


def test_sublayers_in_private_attributes_dicts_and_lists_filled_later(rng):
    class Block(nr.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self._rnn = nr.SimpleRNN(2, return_sequences=True, name="priv")
            self.heads = {"a": nr.Dense(1, name="head")}
            self.blocks = []
            self.blocks.append([nr.Dense(2, name="appended")])

        def call(self, x):
            h = self._rnn(x)
            return self.heads["a"](self.blocks[0][0](h))

    block = Block(name="blk")
    x = rng.standard_normal((2, 3, 4)).astype("float32")
    block(x)
    assert [w.name for w in block.weights] == [
        "blk/priv/simple_rnn_cell/kernel:0", "blk/priv/simple_rnn_cell/recurrent_kernel:0",
        "blk/priv/simple_rnn_cell/bias:0", "blk/head/kernel:0", "blk/head/bias:0",
        "blk/appended/kernel:0", "blk/appended/bias:0"]
    block.trainable = False
    assert not block._rnn.trainable and not block.heads["a"].trainable
    assert block.trainable_weights == [] and len(block.non_trainable_weights) == 7


def test_reassigning_or_deleting_an_attribute_untracks_its_old_value(rng):
    class Holder(nr.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.d = nr.Dense(2, name="old")

        def call(self, x):
            return self.d(x)

    holder = Holder(name="s")
    x = np.ones((1, 3), "float32")
    holder(x)
    holder.d = nr.Dense(4, name="new")
    holder(x)
    assert [w.name for w in holder.weights] == ["s/new/kernel:0", "s/new/bias:0"]
    del holder.d
    assert holder.weights == []


def test_a_build_without_super_called_twice_keeps_one_weight():
    class W(nr.Layer):
        def build(self, input_shape):
            self.w = self.add_weight("w", (input_shape[-1],))

        def call(self, x):
            return x * self.w

    layer = W(name="w")
    layer.build((None, 3))  # leaves built False: the first call builds again
    layer(np.ones((2, 3), "float32"))
    assert [v.name for v in layer.weights] == ["w/w:0"]


def test_build_gets_a_tensor_shape():
    seen = []

    class Probe(nr.Layer):
        def build(self, input_shape):
            seen.append((input_shape.as_list(), input_shape.rank, input_shape[-1]))
            super().build(input_shape)

    Probe()(np.ones((2, 3), "float32"))
    assert seen == [([2, 3], 2, 3)]


def test_default_compute_output_shape_calls_the_layer():
    class Double(nr.Layer):
        def call(self, x):
            return x * 2

    class Pool(nr.Layer):
        def call(self, x):
            return x.mean(axis=1)

    assert Double().compute_output_shape((None, 4)) == (None, 4)
    assert Pool().compute_output_shape((None, None, 5)) == (None, 5)
    model = nr.Sequential([nr.Dense(3, input_shape=(4,)), Double(), nr.Dense(2)])
    assert model.built and model.count_params() == 4 * 3 + 3 + 3 * 2 + 2

    class Broken(nr.Layer):
        def call(self, x):
            raise RuntimeError("no")

    with pytest.raises(NotImplementedError, match="implement `compute_output_shape`"):
        Broken().compute_output_shape((None, 2))


def test_compute_output_shape_leaves_no_losses():
    layer = nr.Dense(2, activity_regularizer="l2")
    layer(np.ones((1, 3), "float32"))
    before = [float(v) for v in layer.losses]
    layer.compute_output_shape((None, 3))
    assert [float(v) for v in layer.losses] == before


def test_nested_stateful_models_reset():
    inner = nr.Sequential([nr.SimpleRNN(2, stateful=True, batch_input_shape=(2, 4, 3))])
    outer = nr.Sequential([inner, nr.Dense(1)])
    outer(np.ones((2, 4, 3), "float32"))
    assert outer.stateful and not nr.Dense(1).stateful
    assert np.abs(inner.layers[0].states[0].numpy()).sum() > 0
    outer.reset_states()
    assert np.abs(inner.layers[0].states[0].numpy()).sum() == 0


def test_sequential_build_state_and_errors(rng):
    model = nr.Sequential([nr.Dense(4)])
    with pytest.raises(ValueError, match="have not yet been created"):
        _ = model.weights
    with pytest.raises(ValueError, match="has not yet been built"):
        model.summary()
    model(np.ones((2, 3), "float32"))
    model.add(nr.Dense(2))  # built again from the known input shape
    assert model.built and len(model.weights) == 4
    model.summary(print_fn=lambda line: None, show_trainable=True, expand_nested=True)
    with pytest.raises(ValueError, match="Expected input data to be non-empty"):
        model.predict(np.zeros((0, 3), "float32"))


def test_dense_compute_output_shape_checks_its_input():
    with pytest.raises(ValueError, match=r"Shape \(3,\) must have rank at least 2"):
        nr.Dense(2).compute_output_shape((3,))
    with pytest.raises(ValueError, match="last dimension of the input shape"):
        nr.Dense(2).compute_output_shape((None, None))


def test_input_spec_must_be_input_specs():
    layer = nr.Layer()
    layer.input_spec = [nr.InputSpec(ndim=2), None]
    with pytest.raises(TypeError, match="Layer input_spec must be an instance of InputSpec. "
                                        "Got: 3"):
        layer.input_spec = 3


def test_dict_inputs_reach_call():
    class Add(nr.Layer):
        def call(self, x):
            return x["a"] + 2 * x["b"]

    out = Add()({"a": np.ones((2, 3), "float32"), "b": np.ones((2, 3), "float32")})
    np.testing.assert_array_equal(out, np.full((2, 3), 3.0))


def test_variable_follows_tf_variable():
    assert nr.Variable(2.0).dtype == np.float32
    assert nr.Variable([1, 2]).dtype == np.int32
    assert nr.Variable(np.float64(1)).dtype == np.float64
    assert nr.Variable(1.0, name="v").name == "v:0"

    class Scaled(nr.Layer):
        def build(self, input_shape):
            self.scale = nr.Variable(2.0, name="scale")

        def call(self, x):
            return x * self.scale

    layer = Scaled(name="s")
    out = layer(np.ones((2, 3), "float32"))
    assert out.dtype == np.float32 and [w.name for w in layer.weights] == ["s/scale:0"]
    v = nr.Variable(np.zeros(2, "float32"))
    with pytest.raises(RuntimeError, match="assign_add"):
        v += 1
    assert v.assign([1.0, 1.0], read_value=False) is None
    np.testing.assert_array_equal(v.numpy(), [1.0, 1.0])
    assert v.get_shape() == (2,) and int(nr.Variable(3.0)) == 3
    with pytest.raises(ValueError, match="`constraint` must be None or a callable"):
        nr.Variable(1.0, constraint=3)
    with pytest.raises(TypeError, match="Cannot convert 1.7 to EagerTensor of dtype int32"):
        nr.Variable(1.7, dtype="int32")
    counter = nr.Variable(1)
    with pytest.raises(TypeError, match="dtype int32"):
        counter.assign(2.7)
    assert counter.assign(3).numpy() == 3


def test_layer_name_must_be_a_string():
    with pytest.raises(TypeError, match="Expected `name` argument to be a string, but got: 3"):
        nr.Dense(2, name=3)


def test_clear_session_restarts_layer_names():
    nr.Dense(1)
    nr.backend.clear_session()
    assert nr.Dense(1).name == "dense" and nr.Dense(1).name == "dense_1"


# Printed by tf-keras 2.21 for the same model (trailing spaces included).
TF_KERAS_SUMMARY = """\
Model: "sequential"
____________________________________________________________________________
 Layer (type)                Output Shape              Param #   Trainable  
============================================================================
 masking (Masking)           (None, 5, 3)              0         Y          
                                                                            
 inner (Sequential)          (None, 5, 3)              47        Y          
|¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯|
| a_really_long_layer_name_  (None, 5, 4)              32        Y         |
| that_wraps_around (Simple                                                |
| RNN)                                                                     |
|                                                                          |
| dense (Dense)              (None, 5, 3)              15        Y         |
¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯
 simple_rnn (SimpleRNN)      (None, 2)                 12        N          
                                                                            
============================================================================
Total params: 59 (236.00 Byte)
Trainable params: 47 (188.00 Byte)
Non-trainable params: 12 (48.00 Byte)
____________________________________________________________________________
"""


def test_summary_is_laid_out_as_tf_keras_lays_it_out():
    nr.backend.clear_session()
    inner = nr.Sequential([
        nr.SimpleRNN(4, return_sequences=True,
                     name="a_really_long_layer_name_that_wraps_around"),
        nr.Dense(3)], name="inner")
    model = nr.Sequential([nr.Masking(input_shape=(5, 3)), inner, nr.SimpleRNN(2)])
    model.layers[2].trainable = False
    lines = []
    model.summary(print_fn=lines.append, show_trainable=True, expand_nested=True)
    assert "\n".join(lines) + "\n" == TF_KERAS_SUMMARY


def _names(layer):
    return [w.name for w in layer.weights]


def test_tracking_order_follows_tf_keras(rng):
    x = np.ones((1, 3), "float32")

    class Dict(nr.Layer):
        def __init__(self):
            super().__init__(name="d")
            self.heads = {"z": nr.Dense(3, name="z"), "a": nr.Dense(3, name="a")}

        def call(self, x):
            return self.heads["a"](self.heads["z"](x))

    layer = Dict()
    layer(x)
    assert _names(layer) == ["d/a/kernel:0", "d/a/bias:0", "d/z/kernel:0", "d/z/bias:0"]

    class Alias(nr.Layer):
        def __init__(self):
            super().__init__(name="s")
            self.a = nr.Dense(3, name="first")
            self.b = nr.Dense(3, name="second")
            self.a = self.a  # the same value keeps its place
            self.c = self.a
            del self.a  # still held by c: still first

        def call(self, x):
            return self.b(self.c(x))

    layer = Alias()
    layer(x)
    assert _names(layer)[::2] == ["s/first/kernel:0", "s/second/kernel:0"]


def test_variables_put_in_containers_later_are_weights():
    class Late(nr.Layer):
        def __init__(self):
            super().__init__(name="a")
            self.vs = []
            self.vs.append(nr.Variable(np.zeros(2, "float32"), name="late"))
            self.d = {}
            self.d["v"] = nr.Variable(1.0, name="dict_late", trainable=False)
            self.w = nr.Variable(2.0, name="early")

        def call(self, x):
            return x

    layer = Late()
    # made in __init__: no name scope, as in tf-keras
    assert _names(layer) == ["early:0", "late:0", "dict_late:0"]
    assert [w.name for w in layer.non_trainable_weights] == ["dict_late:0"]


@pytest.mark.parametrize("attribute", ["_layers", "_stack", "_states", "_masks"])
def test_private_names_the_framework_uses_still_track_a_users_layers(attribute):
    class Holder(nr.Layer):
        def __init__(self):
            super().__init__(name="h")
            self.first = nr.Dense(3, name="first")
            setattr(self, attribute, [nr.Dense(2, name="second")])

        def call(self, x):
            return getattr(self, attribute)[0](self.first(x))

    layer = Holder()
    layer(np.ones((1, 4), "float32"))
    assert _names(layer) == ["h/first/kernel:0", "h/first/bias:0",
                             "h/second/kernel:0", "h/second/bias:0"]


def test_stacked_custom_cells_name_what_they_build_under_their_own_names(rng):
    class ACell(UnitsCell):
        def __init__(self, units, **kwargs):
            super().__init__(units, **kwargs)
            self.f = nr.Dense(units, name="f")

        def call(self, inputs, states):
            h = np.tanh(self.f(inputs) + states[0])
            return h, [h]

    nr.backend.clear_session()
    layer = nr.RNN([ACell(3), ACell(2)])
    with nr.device("python"):
        layer(rng.standard_normal((2, 4, 5)).astype("float32"))
    assert _names(layer) == [
        "rnn/stacked_rnn_cells/a_cell/f/kernel:0", "rnn/stacked_rnn_cells/a_cell/f/bias:0",
        "rnn/stacked_rnn_cells/a_cell_1/f/kernel:0",
        "rnn/stacked_rnn_cells/a_cell_1/f/bias:0"]


def test_compute_output_shape_leaves_stateful_sublayers_as_they_were(rng):
    class Wrap(nr.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.r = nr.SimpleRNN(2, stateful=True, return_sequences=True)

        def call(self, x):
            return self.r(x)

    x = rng.standard_normal((2, 4, 3)).astype("float32")
    model = nr.Sequential([nr.Dense(3, batch_input_shape=(2, 4, 3)), Wrap(), nr.Dense(1)])
    model(x)
    state = model.layers[1].r.states[0].numpy()
    model.summary(print_fn=lambda line: None)
    model.layers[1].compute_output_shape((2, 4, 3))
    np.testing.assert_array_equal(model.layers[1].r.states[0].numpy(), state)
    fresh = Wrap()
    assert fresh.compute_output_shape((2, 4, 3)) == (2, 4, 2)
    assert np.abs(fresh.r.states[0].numpy()).sum() == 0  # built by the calls: zeros
    fresh(x)


def test_compute_output_shape_builds_with_the_shape_asked_and_maps_dicts():
    class Split(nr.Layer):
        def build(self, input_shape):
            self.seen = input_shape
            super().build(input_shape)

        def call(self, x):
            return {"a": x, "b": x[..., :1]}

    layer = Split()
    assert layer.compute_output_shape((None, 7, 3)) == {"a": (None, 7, 3), "b": (None, 7, 1)}
    assert layer.seen == (None, 7, 3) and layer.get_build_config() == {
        "input_shape": (None, 7, 3)}


def test_tensor_shape_slices_and_prints_as_tf():
    shape = nr.layers.TensorShape([None, 5, 3])
    assert shape[1:].as_list() == [5, 3] and shape[-1] == 3
    assert str(shape) == "(None, 5, 3)" and not shape.is_fully_defined()
    assert shape[1:].num_elements() == 15 and shape.concatenate([2]) == (None, 5, 3, 2)


def test_a_packaged_cell_inside_a_residual_wrapper_reloads(tmp_path, rng):
    @nr.utils.register_keras_serializable("test_residual_pkg")
    class PackagedCell(nr.SimpleRNNCell):
        pass

    layer = nr.RNN(nr.ResidualWrapper(PackagedCell(4)))
    x = rng.standard_normal((2, 3, 4)).astype("float32")
    y = layer(x)
    nr.save_model(layer, tmp_path / "m.npz")
    np.testing.assert_allclose(nr.load_model(tmp_path / "m.npz")(x), y, rtol=1e-6)


def test_compute_output_shape_returns_tensor_shapes_as_tf_keras():
    """tf-keras returns ``tf.TensorShape`` objects (``as_list()`` works on them) from
    RNN, Dense, Sequential and the default (traced) ``compute_output_shape``; a list
    for several outputs. Masking returns its argument unchanged."""
    TS = nr.layers.TensorShape

    def check(shape, expected):
        assert isinstance(shape, TS) and shape.as_list() == expected

    check(nr.SimpleRNN(3).compute_output_shape((None, 5, 4)), [None, 3])
    check(nr.RNN(nr.SimpleRNNCell(3), return_sequences=True, time_major=True)
          .compute_output_shape((7, None, 4)), [7, None, 3])
    check(nr.RNN(nr.ResidualWrapper(nr.SimpleRNNCell(4))).compute_output_shape(
        (2, None, 4)), [2, 4])
    shapes = nr.RNN([nr.SimpleRNNCell(4), nr.SimpleRNNCell(2)],
                    return_state=True).compute_output_shape([None, 5, 4])
    assert isinstance(shapes, list)
    assert [s.as_list() for s in shapes] == [[None, 2], [None, 4], [None, 2]]
    check(nr.Dense(3).compute_output_shape((2, None, 4)), [2, None, 3])
    model = nr.Sequential([nr.SimpleRNN(3, input_shape=(5, 4)), nr.Dense(2)])
    check(model.compute_output_shape((None, 5, 4)), [None, 2])

    class Two(nr.Layer):
        def call(self, x):
            return [x * 2, x[..., :1]]

    shapes = Two().compute_output_shape((None, 4))
    assert [type(s) for s in shapes] == [TS, TS]
    assert [s.as_list() for s in shapes] == [[None, 4], [None, 1]]
    assert type(nr.Masking().compute_output_shape((None, 5, 4))) is tuple


def test_variables_print_as_tf_variables():
    # tf's repr: a scalar as a number, a line break only before a multi-line array
    assert repr(nr.Variable(2.0, name="s")) == (
        "<numbarnn.Variable 's:0' shape=() dtype=float32, numpy=2.0>")
    assert repr(nr.Variable(np.ones((1, 3), "float32"), name="k")) == (
        "<numbarnn.Variable 'k:0' shape=(1, 3) dtype=float32, numpy=array([[1., 1., 1.]], "
        "dtype=float32)>")
    assert repr(nr.Variable(np.ones((2, 2), "float32"), name="k")).startswith(
        "<numbarnn.Variable 'k:0' shape=(2, 2) dtype=float32, numpy=\narray([[1., 1.],")


class _WithMetric(nr.Layer):
    def build(self, input_shape):
        self.w = self.add_variable("w", shape=(input_shape[-1],), initializer="ones")

    def call(self, x):
        self.add_metric(x * 2.0, name="doubled")
        self.add_update(lambda: self.w.assign(self.w + 1.0))
        return x


def test_add_metric_keeps_a_mean_per_name_as_tf_keras():
    layer = _WithMetric()
    with pytest.warns(UserWarning, match="`layer.add_variable` is deprecated"):
        layer(np.arange(4.0, dtype="float32").reshape(2, 2))
    layer(np.ones((1, 2), "float32"))
    (metric,) = layer.metrics
    # the mean of every element given: (0 + 2 + 4 + 6 + 2 + 2) / 6 (tf-keras: 2.6666667)
    assert metric.name == "doubled" and metric.result() == np.float32(16 / 6)
    assert metric.result().dtype == np.float32
    np.testing.assert_array_equal(layer.w.numpy(), [3.0, 3.0])  # add_update ran twice
    assert nr.Sequential([layer]).metrics == [metric]
    with pytest.raises(ValueError, match="Expected a symbolic Tensor for the metric value"):
        layer.add_metric(1.0, name="z")
    with pytest.raises(ValueError, match="Please provide a name for your metric"):
        _NoName()(np.ones(2))


class _NoName(nr.Layer):
    def call(self, x):
        self.add_metric(x)
        return x


def test_summary_checks_its_layer_range_before_printing(capsys):
    model = nr.Sequential([nr.Dense(2, input_shape=(3,), name="a")])
    with pytest.raises(ValueError):
        model.summary(layer_range=["nope", "a"])
    assert capsys.readouterr().out == ""


class ModuleLevelLayer(nr.Layer):
    pass


def test_unregistered_user_classes_in_configs_as_tf_keras_finds_them():
    # tf-keras's serialization_lib imports the module a config names and takes the
    # class from it: no custom_objects needed for a class defined at module level
    config = nr.layers.serialize(ModuleLevelLayer(name="m"))
    assert config["module"] == __name__
    again = nr.layers.deserialize(config)
    assert type(again) is ModuleLevelLayer and again.name == "m"

    class Local(nr.Layer):
        pass
    with pytest.raises(TypeError, match="Could not locate class 'Local'"):
        nr.layers.deserialize(nr.layers.serialize(Local()))
    with pytest.raises(TypeError, match="parent module no_such_module cannot be imported"):
        nr.layers.deserialize({**config, "module": "no_such_module"})
    # module None (a class of __main__): tf-keras's TypeError
    with pytest.raises(TypeError, match="Cannot deserialize object of type "
                                        "`ModuleLevelLayer`. If `ModuleLevelLayer` is a "
                                        "custom class, please register it"):
        nr.layers.deserialize({**config, "module": None})
    with pytest.raises(ValueError, match="Unknown layer: 'Linear'"):  # the legacy form
        nr.layers.deserialize({"class_name": "Linear", "config": {}})


class _Observed(nr.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.updates_run = 0

    def call(self, x):
        self.add_metric(x, name="seen")
        self.add_update(lambda: setattr(self, "updates_run", self.updates_run + 1))
        return x


def test_shape_finding_calls_leave_metrics_and_updates_alone():
    # tf-keras traces the output shape symbolically: only real calls count
    observed = _Observed()
    model = nr.Sequential([nr.Input(shape=(2,)), nr.Dense(2, kernel_initializer="ones"),
                           observed])
    assert observed.updates_run == 0 and observed.metrics == []
    model.predict(np.ones((3, 2), "float32"))
    model.summary(print_fn=lambda line: None)
    _ = model.output_shape
    (metric,) = observed.metrics
    assert metric.result() == 2.0 and observed.updates_run == 1   # tf-keras: 2.0
    observed.trainable = False     # a frozen layer's updates do not run (tf-keras)
    model.predict(np.ones((3, 2), "float32"))
    assert observed.updates_run == 1


def test_set_global_policy_refuses_a_non_float_policy_object():
    with pytest.raises(ValueError, match="can only be used to set the global policy to "
                                         "floating-point policies"):
        nr.set_global_policy(nr.Policy("int32"))
    assert nr.global_policy().name == "float32"
    assert nr.Policy("f4").name == "float32"  # a numpy spelling (tf refuses it) is renamed


def test_training_methods_say_numbarnn_runs_inference_only():
    x = np.random.default_rng(0).standard_normal((2, 4, 3)).astype("float32")
    model = nr.Sequential([nr.SimpleRNN(2), nr.Dense(1)])
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])  # accepted: nothing to do
    np.testing.assert_allclose(model.predict(x, verbose=0), model(x))
    for method in ("fit", "evaluate", "train_on_batch", "test_on_batch"):
        with pytest.raises(NotImplementedError, match=f"`{method}` trains or evaluates a "
                           "model: numbarnn runs inference only"):
            getattr(model, method)(x, np.zeros((2, 1)))
