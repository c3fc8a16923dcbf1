"""Bad input gets a clear error naming the argument, the expected and the received value."""
import re

import numpy as np
import pytest

import numbarnn as nr


def built_layer(**kwargs):
    layer = nr.SimpleRNN(3, **kwargs)
    layer(np.zeros((2, 4, 5), "float32"))
    return layer


def test_wrong_rank():
    with pytest.raises(ValueError, match=r'layer "simple_rnn" is incompatible with the layer: '
                                         r"expected ndim=3, found ndim=2. Full shape "
                                         r"received: \(3, 4\)"):
        nr.SimpleRNN(2)(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="expected ndim>=3"):
        nr.RNN(nr.SimpleRNNCell(2))(np.zeros((3, 4)))


def test_wrong_feature_size_after_build():
    layer = built_layer()
    with pytest.raises(ValueError, match=r"expected shape=\(None, None, 5\), found "
                                         r"shape=\(2, 4, 6\)"):
        layer(np.zeros((2, 4, 6), "float32"))


def test_mask_of_wrong_shape():
    layer = built_layer()
    with pytest.raises(ValueError, match=r"`mask` must have shape \(2, 4\).*mask.shape=\(4, 2\)"):
        layer(np.zeros((2, 4, 5), "float32"), mask=np.ones((4, 2), bool))
    with pytest.raises(TypeError, match="mask"):
        layer(np.zeros((2, 4, 5), "float32"), mask=np.full((2, 4), "a"))


def test_initial_state_count_and_shape():
    layer = built_layer()
    x = np.zeros((2, 4, 5), "float32")
    with pytest.raises(ValueError, match="Layer has 1 states but was passed 2 initial states"):
        layer(x, initial_state=[np.zeros((2, 3))] * 2)
    with pytest.raises(ValueError, match=r"state 0 has shape \(2, 4\), expected \(2, 3\)"):
        layer(x, initial_state=[np.zeros((2, 4))])
    fresh = nr.SimpleRNN(3)
    # tf-keras's text: the state specs as InputSpecs, the state sizes as a list
    with pytest.raises(ValueError, match=re.escape(
            "Received `state_spec`=[InputSpec(shape=(2, 4), ndim=2)]; however "
            "`cell.state_size` is [3]")):
        fresh(x, initial_state=[np.zeros((2, 4))])
    # the rejected first call left the layer as it was
    assert fresh.state_spec is None and not fresh.built
    assert fresh(x).shape == (2, 3)
    stack = nr.RNN([nr.SimpleRNNCell(3), nr.SimpleRNNCell(2)])
    with pytest.raises(ValueError, match=re.escape("`cell.state_size` is [3, 2]")):
        stack(x, initial_state=[np.zeros((2, 3)), np.zeros((2, 3))])
    assert stack(x, initial_state=[np.zeros((2, 3)), np.zeros((2, 2))]).shape == (2, 2)


def test_rejected_constants_leave_the_layer_as_it_was():
    layer = nr.RNN(nr.SimpleRNNCell(3))
    x, h0 = np.zeros((2, 4, 5), "float32"), np.ones((2, 3), "float32")
    with pytest.raises(ValueError, match="does not support constants"):
        layer(x, constants=[np.zeros((2, 2))])
    assert layer._num_constants == 0 and "num_constants" not in layer.get_config()
    # [x, h0] is still [x, *initial_states]
    expected = nr.RNN(nr.SimpleRNNCell(3), weights=layer.get_weights())(x, initial_state=h0)
    np.testing.assert_array_equal(layer([x, h0]), expected)


def test_set_weights_wrong_count_and_shape():
    layer = built_layer()
    with pytest.raises(ValueError, match="expecting 3 weights"):
        layer.set_weights([np.zeros((5, 3))])
    with pytest.raises(ValueError, match="is not compatible with provided weight shape"):
        layer.set_weights([np.zeros((5, 3)), np.zeros((3, 3)), np.zeros(4)])


def test_reset_states_errors():
    with pytest.raises(AttributeError, match="Layer must be stateful"):
        built_layer().reset_states()
    with pytest.raises(ValueError, match="needs to know its batch size"):
        nr.SimpleRNN(2, stateful=True).reset_states()
    layer = built_layer(stateful=True)
    with pytest.raises(ValueError, match=r"expected shape=\(2, 3\) but found shape=\(2, 2\)"):
        layer.reset_states([np.zeros((2, 2))])
    with pytest.raises(ValueError, match="expects 1 states, but it received 2"):
        layer.reset_states([np.zeros((2, 3))] * 2)


def test_stateful_other_batch_size():
    layer = built_layer(stateful=True)
    with pytest.raises(ValueError, match=r"expected shape=\(2, None, 5\), found shape=\(3, 4, 5\)"):
        layer(np.zeros((3, 4, 5), "float32"))


def test_non_numeric_input():
    with pytest.raises(TypeError, match="numeric array"):
        nr.SimpleRNN(2)(np.array([[["a"]]]))
    with pytest.raises(TypeError, match="Inputs to a layer should be tensors"):
        nr.SimpleRNN(2)("hello")


@pytest.mark.parametrize("units,error", [(0, ValueError), (-1, ValueError),
                                         (2.5, TypeError), (3.0, TypeError),
                                         (None, TypeError), ("3", TypeError),
                                         (True, TypeError)])
def test_bad_units(units, error):
    # tf-keras: a non-positive number is a ValueError, another type a TypeError
    with pytest.raises(error, match="expected a positive integer"):
        nr.SimpleRNN(units)
    with pytest.raises(error, match="expected a positive integer"):
        nr.SimpleRNNCell(units)


def test_unknown_names_and_kwargs():
    with pytest.raises(ValueError, match="Unknown activation function: 'tanhh'"):
        nr.SimpleRNN(2, activation="tanhh")
    with pytest.raises(ValueError, match="Unknown initializer: 'glorot'"):
        nr.SimpleRNN(2, kernel_initializer="glorot")
    with pytest.raises(ValueError, match="Unknown regularizer"):
        nr.SimpleRNN(2, kernel_regularizer="l3")
    with pytest.raises(TypeError, match="Keyword argument not understood"):
        nr.SimpleRNN(2, retrun_sequences=True)


def test_residual_size_mismatch(layer_engine):
    engine = layer_engine
    # tf-keras's build only builds the wrapped cell (cell_wrappers_test
    # testWrapperV2Build builds a wrapper of 10 units with the shape (1,)): the
    # mismatch is an error at the call
    wrapper = nr.ResidualWrapper(nr.SimpleRNNCell(3))
    wrapper.build((2, 4))
    assert wrapper.built and wrapper.cell.built
    layer = nr.RNN(nr.ResidualWrapper(nr.SimpleRNNCell(3)))
    message = (r"shapes must match to be added. Shapes \(2, 4\) and \(2, 3\)"
               if engine == "python" else
               r"input feature size to equal the wrapped cell's output size: got input "
               r"width 4 and output size 3")
    with pytest.raises(ValueError, match=message):
        layer(np.zeros((2, 5, 4), "float32"))


def test_cell_without_call_or_state_size():
    class NoCall:
        state_size = 2

    class NoState:
        def call(self, x, s):
            return x, s
    with pytest.raises(ValueError, match="should have a `call` method"):
        nr.RNN(NoCall())
    with pytest.raises(ValueError, match="should have a `state_size` attribute"):
        nr.RNN(NoState())
    with pytest.raises(ValueError, match="All cells must have a `call` method"):
        nr.StackedRNNCells([NoCall()])


def test_a_dict_state_size_is_a_type_error():
    """tf-keras fails converting the dict's keys to shapes (TypeError); here the error
    says what a state_size may be (numbarnn's said an initial_state did not fit)."""
    class Keyed(nr.AbstractRNNCell):
        state_size = {"a": 2, "b": 3}
        output_size = 2

        def call(self, inputs, states):
            return inputs[:, :2], states

    with pytest.raises(TypeError, match=r"state_size .* not a dict. Received: "
                                        r"state_size=\{'a': 2, 'b': 3\}"):
        nr.RNN(Keyed())(np.ones((2, 4, 3), "float32"))


def test_constants_unsupported():
    with pytest.raises(ValueError, match="does not support constants"):
        nr.RNN(nr.SimpleRNNCell(2))(np.zeros((1, 2, 3), "float32"),
                                    constants=[np.zeros((1, 3))])


def test_get_initial_state_needs_batch_or_dtype():
    with pytest.raises(ValueError, match="batch_size and dtype cannot be None"):
        nr.SimpleRNNCell(2).get_initial_state(None, None, None)


@pytest.mark.parametrize("kwargs", [{"batch_size": 2}, {"dtype": "float32"}])
def test_get_initial_state_needs_both_batch_and_dtype(kwargs):
    """tf-keras's generate_zero_filled_state refuses either one missing (numbarnn gave
    float64 zeros for a batch size alone); a stack's plain cells get zeros from the
    inputs, as tf-keras's generate_zero_filled_state_for_cell gives them."""
    match = (f"batch_size and dtype cannot be None while constructing initial state. "
             f"Received: batch_size={kwargs.get('batch_size')}, dtype={kwargs.get('dtype')}")
    with pytest.raises(ValueError, match=match):
        nr.SimpleRNNCell(2).get_initial_state(**kwargs)

    class Plain:
        state_size = 3

        def call(self, x, states):
            return x, states

    stack = nr.StackedRNNCells([Plain(), nr.SimpleRNNCell(2)])
    with pytest.raises(ValueError, match="batch_size and dtype cannot be None"):
        stack.get_initial_state(**kwargs)
    states = stack.get_initial_state(inputs=np.ones((4, 5), "float64"))
    assert [(s.shape, s.dtype) for s in states] == [((4, 3), np.float64),
                                                    ((4, 2), np.float64)]


def test_unknown_device():
    with pytest.raises(ValueError, match="`device` must be one of"):
        with nr.device("tpu"):
            pass


# -- fuzzer findings (compared against tf-keras 2.21) ------------------------------------
HOST_ENGINES = ["cpu", "python"]


@pytest.mark.parametrize("engine_name", HOST_ENGINES)
def test_prebuilt_cell_with_another_input_width(engine_name):
    """A cell built for 4 features, reused in a new RNN: the fused kernel read out of
    bounds (narrower input) or ignored features (wider); now a ValueError on every path."""
    cell = nr.SimpleRNNCell(1, kernel_initializer="ones", recurrent_initializer="zeros")
    nr.RNN(cell)(np.zeros((1, 1, 4), "float32"))
    # the fused kernel names the layer and its input, the Python loop the cell's step
    with nr.device(engine_name):
        for width in (2, 6):
            layer = nr.RNN(cell, return_sequences=True, name="reuse")
            where, shape = (('"reuse"', f"(1, 3, {width})") if engine_name == "cpu"
                            else ('"simple_rnn_cell"', f"(1, {width})"))
            with pytest.raises(ValueError, match=re.escape(
                    f"Input 0 of layer {where} is incompatible with the layer: expected "
                    "axis -1 of input shape to have value 4, but received input with "
                    f"shape {shape}")):
                layer(np.ones((1, 3, width), "float32"))


@pytest.mark.parametrize("engine_name", HOST_ENGINES)
def test_prebuilt_second_cell_in_a_stack(engine_name):
    second = nr.SimpleRNNCell(3, name="second")
    nr.RNN(second)(np.zeros((1, 2, 7), "float32"))  # kernel (7, 3)
    with nr.device(engine_name):
        with pytest.raises(ValueError, match=r'layer "second".* expected axis -1 of input '
                                             r"shape to have value 7, but received input "
                                             r"with shape \(.*, 2\)"):
            nr.RNN([nr.SimpleRNNCell(2), second])(np.ones((1, 2, 4), "float32"))


def test_fused_stack_checks_its_levels():
    from numbarnn.kernels import LevelSpec, run_stack
    x = np.ones((2, 3, 4), "float32")
    state = [np.zeros((2, 3), "float32")]

    def level(in_dim, units, **kw):
        return LevelSpec(np.ones((in_dim, units), "float32"),
                         np.ones((units, units), "float32"), None, "tanh", name="c", **kw)
    with pytest.raises(ValueError, match='layer "rnn".*expected axis -1 .* value 5'):
        run_stack([level(5, 3)], x, None, state)
    with pytest.raises(ValueError, match="ResidualWrapper .* got input width 4 and output "
                                         "size 3"):
        run_stack([level(4, 3, residual=True)], x, None, state)
    with pytest.raises(ValueError, match="at least one level"):
        run_stack([], x, None, [])


@pytest.mark.parametrize("engine_name", HOST_ENGINES)
def test_4d_input_to_builtin_cell(engine_name):
    with nr.device(engine_name):
        with pytest.raises(ValueError, match=r"expected ndim=(3|2), found ndim=(4|3)"):
            nr.RNN(nr.SimpleRNNCell(2))(np.ones((2, 3, 4, 5), "float32"))


@pytest.mark.parametrize("dtype", ["int32", "bool"])
def test_non_float_layer_dtype(dtype):
    # tf-keras: TypeError "A Dense layer can only be built with a floating-point dtype";
    # a SimpleRNN's glorot initializer raises ValueError "Expected floating point type"
    x = np.ones((1, 2, 2), dtype)
    with pytest.raises(ValueError, match=re.escape(
            f"Expected floating point type, got <dtype: '{dtype}'>. A SimpleRNNCell layer "
            "can only be built with a floating-point dtype.")):
        nr.SimpleRNN(2, dtype=dtype, kernel_initializer="ones",
                     recurrent_initializer="zeros")(x)
    with pytest.raises(TypeError, match="Dense layer can only be built with a "
                                        "floating-point dtype"):
        nr.Dense(2, dtype=dtype)(x[0])
    with pytest.raises(TypeError, match="RNN layer can only be built with a floating"):
        nr.RNN(nr.SimpleRNNCell(2), dtype=dtype)(x.astype("float32"))


def test_cell_called_directly_checks_inputs_and_state():
    cell = nr.SimpleRNNCell(2)
    with pytest.raises(ValueError, match=r'"simple_rnn_cell" is incompatible with the '
                                         r"layer: expected ndim=2, found ndim=1"):
        cell(np.ones(4, "float32"), [np.zeros((3, 2), "float32")])
    with pytest.raises(ValueError, match=r"expected shape=\(2, 2\) \(batch, units\), "
                                         r"found shape=\(2, 1, 2\)"):
        cell(np.ones((2, 4), "float32"), [np.zeros((2, 1, 2), "float32")])
    with pytest.raises(ValueError, match=r"expected shape=\(2, 2\).*found shape=\(3, 2\)"):
        cell(np.ones((2, 4), "float32"), np.zeros((3, 2), "float32"))
    with pytest.raises(ValueError, match=r"expected axis -1 of input shape to have value "
                                         r"4, but received input with shape \(2, 5\)"):
        cell(np.ones((2, 5), "float32"), [np.zeros((2, 2), "float32")])
    out, [h] = cell(np.ones((2, 4), "float32"), [np.zeros((2, 2), "float32")])
    assert out.shape == h.shape == (2, 2)


class _StepCell(nr.AbstractRNNCell):
    """Returns ``result(x, states)`` from each step."""

    def __init__(self, result, **kwargs):
        super().__init__(**kwargs)
        self.result = result

    state_size = 2
    output_size = 2

    def call(self, inputs, states):
        return self.result(inputs, states)


@pytest.mark.parametrize("result,error,message", [
    (lambda x, s: (s[0][:1] + 1.0, [s[0][:1] + 1.0]), ValueError,
     r"returned an array of shape \(1, 2\) as new state 0, expected shape \(2, 2\)"),
    (lambda x, s: (s[0], [s[0], s[0]]), ValueError,
     r"returned 2 new state\(s\), but its `state_size` gives 1: expected shapes \[\(2, 2\)\]"),
    (lambda x, s: (s[0], []), ValueError, r"returned 0 new state\(s\)"),
    (lambda x, s: (np.concatenate([s[0], x[:, :1]], -1),) * 2, ValueError,
     r"returned an array of shape \(2, 3\) as new state 0, expected shape \(2, 2\)"),
    (lambda x, s: (None, s), ValueError, r"returned None as output 0, expected an array "
                                         r"of shape \(batch=2, \.\.\.\)"),
    (lambda x, s: (s[0][:1], s), ValueError, r"returned an array of shape \(1, 2\) as "
                                             r"output 0"),
    (lambda x, s: s[0], ValueError, r"must return a pair \(output, new_states\), but "
                                    r"returned an array of shape \(2, 2\)"),
    (lambda x, s: [], ValueError, "must return a pair .* a list of length 0"),
])
@pytest.mark.parametrize("masked", [False, True])
def test_custom_cell_results_are_checked(result, error, message, masked):
    x = np.ones((2, 3, 4), "float32")
    mask = np.array([[1, 0, 1], [1, 1, 1]], bool) if masked else None
    layer = nr.RNN(_StepCell(result, name="odd"), return_state=True)
    with pytest.raises(error, match=r'The cell "odd" \(_StepCell\) of layer "rnn" '
                                    + message):
        layer(x, mask=mask)


def test_output_shape_must_not_change_between_steps():
    steps = iter(range(10))

    def result(x, s):  # (2, 2) at the discarded shape-probing call, then (2, 3), ...
        return np.zeros((2, 2 + next(steps))), s
    with pytest.raises(ValueError, match=r"outputs of shapes \[\(2, 4\)\], but \[\(2, 3\)\] "
                                         "at the first step"):
        nr.RNN(_StepCell(result))(np.ones((2, 3, 4), "float32"))


def test_backend_rnn_checks_the_step_function():
    x = np.ones((2, 3, 4))
    with pytest.raises(ValueError, match=r"The step function returned 2 new state"):
        nr.backend.rnn(lambda x_t, s: (x_t, [s[0], s[0]]), x, [np.zeros((2, 4))])


def test_dropout_of_one_fails_in_training_only():
    # tf-keras clips the rate to 1, then tf.nn.dropout raises at a training call
    x = np.ones((2, 3, 2), "float32")
    for arg in ("dropout", "recurrent_dropout"):
        layer = nr.SimpleRNN(2, **{arg: 1.5})
        assert getattr(layer.cell, arg) == 1.0
        assert layer(x).shape == (2, 2)
        for engine_name in HOST_ENGINES:
            with nr.device(engine_name):
                with pytest.raises(ValueError, match=rf"Argument `{arg}` of layer "
                                                     r'"simple_rnn_cell" must be in the '
                                                     rf"range \[0, 1\) for a training call"
                                                     rf".*Received: {arg}=1.0"):
                    layer(x, training=True)


@pytest.mark.parametrize("value", ["no", 1, None, np.bool_(True)])
def test_trainable_must_be_a_bool(value):
    with pytest.raises(TypeError, match="Expected `trainable` argument to be a boolean, "
                                        f"but got: {value}"):
        nr.SimpleRNN(2, trainable=value)
    layer = nr.Dense(2)
    with pytest.raises(TypeError, match="Expected `trainable` argument to be a boolean"):
        layer.trainable = value
    assert layer.trainable is True


@pytest.mark.parametrize("shape", ["abc", {"a": (1, 2, 3)}, ((1, 2, 3), "x"), (2.0, 3, 4)])
def test_shape_arguments_must_be_shapes(shape):
    with pytest.raises(TypeError, match="Argument `input_shape` must be a shape"):
        nr.RNN(nr.SimpleRNNCell(2)).build(shape)
    with pytest.raises(TypeError, match="Argument `input_shape` must be a shape"):
        nr.SimpleRNN(2).compute_output_shape(shape)
    with pytest.raises(TypeError, match="Argument `input_shape` of a Sequential model"):
        nr.Sequential([nr.Dense(2)]).build(shape)


def test_activation_config_dict_error_names_what_was_passed():
    bad = {"class_name": "relux", "config": {}}
    with pytest.raises(ValueError, match=r"Unknown activation function: 'relux'.*"
                                         r"Received: \{'class_name': 'relux'"):
        nr.SimpleRNN(2, activation=bad)


@pytest.mark.parametrize("training", ["yes", 2, 0.5, [True], np.array([True, False])])
def test_training_must_be_a_flag(training):
    x = np.ones((2, 3, 2), "float32")
    with pytest.raises(TypeError, match="Argument `training` must be a boolean"):
        nr.SimpleRNN(2)(x, training=training)
    for ok in (True, False, None, 0, 1, np.bool_(True), np.array(False)):
        assert nr.SimpleRNN(2)(x, training=ok).shape == (2, 2)


def test_more_bad_arguments_name_themselves():
    cell = nr.SimpleRNNCell(2)
    with pytest.raises(ValueError, match="`batch_size` must be a non-negative integer"):
        cell.get_initial_state(batch_size=-1, dtype="float32")
    with pytest.raises(TypeError, match="`inputs` must be a numeric array"):
        nr.Dense(2)(np.full((1, 3), "a"))
    with pytest.raises(ValueError, match="`x` of `predict` must have a batch axis"):
        nr.Sequential([nr.Dense(2)]).predict(np.float32(1), batch_size=1)
    cell.build((None, 2))
    with pytest.raises(TypeError, match="`states` must be numeric"):
        cell(np.ones((2, 2)), [np.full((2, 2), "a")])


def test_sequential_checks_the_declared_input_shape():
    x = np.zeros((2, 6, 2), "float32")
    model = nr.Sequential([nr.SimpleRNN(3, input_shape=(4, 2))])
    with pytest.raises(ValueError, match=r'layer "sequential(_\d+)?" is incompatible with the '
                                         r"layer: expected shape=\(None, 4, 2\), found "
                                         r"shape=\(2, 6, 2\)"):
        model(x)
    assert model(x[:, :4]).shape == (2, 3)
    with pytest.raises(ValueError, match=r"expected shape=\(None, 2\)"):
        nr.Sequential([nr.Dense(3, input_shape=(2,))])(x)
    # the batch size is not checked, as in tf-keras
    assert nr.Sequential([nr.SimpleRNN(3, batch_input_shape=(3, None, 2))])(x).shape == (2, 3)


@pytest.mark.parametrize("bad", [np.ones((2, 3, 2), object), np.ones((2, 3), str),
                                 np.zeros((2, 3), "datetime64[s]")])
def test_masking_rejects_non_numeric_inputs(bad):
    with pytest.raises(TypeError, match="Masking expects numeric `inputs`"):
        nr.Masking()(bad)


def test_masking_rejects_a_scalar():
    with pytest.raises(ValueError, match=r"inputs.shape=\(\)"):
        nr.Masking()(np.float32(0))


def test_ragged_mask_names_the_argument():
    with pytest.raises(ValueError, match=r"Argument `mask` must be an array of shape \(2, 5\)"):
        nr.SimpleRNN(3)(np.zeros((2, 5, 2), "float32"), mask=[[1, 0, 1, 1, 1], [1]])


@pytest.mark.parametrize("value", [0.0, 1.0, np.float32(1)])
def test_training_as_a_float_flag(rng, value):
    layer = nr.SimpleRNN(3)
    x = rng.standard_normal((2, 5, 2)).astype("float32")
    np.testing.assert_array_equal(layer(x, training=value), layer(x))
    with pytest.raises(TypeError, match="Argument `training` must be a boolean"):
        layer(x, training=0.5)


def test_integer_step_inputs_keep_the_cells_dtype():
    cell = nr.SimpleRNNCell(3)
    cell.build((None, 2))
    out, states = cell(np.ones((4, 2), int), [np.zeros((4, 3), "float32")])
    assert out.dtype == np.float32 and states[0].dtype == np.float32


def test_a_python_cell_cannot_write_into_the_callers_inputs(rng):
    class Scribbler(nr.AbstractRNNCell):
        state_size = 2
        output_size = 2

        def call(self, inputs, states):
            inputs[:] = 99.0
            return inputs[:, :2], [inputs[:, :2]]

    x = rng.standard_normal((2, 3, 2)).astype("float32")
    before = x.copy()
    for time_major in (False, True):
        with pytest.raises(ValueError, match="read-only"):
            nr.RNN(Scribbler(), time_major=time_major)(x)
    np.testing.assert_array_equal(x, before)


def test_stacked_cells_called_with_a_wrong_number_of_states():
    # tf-keras packs the states with tf.nest, which raises ValueError ("Could not pack
    # sequence"): neither too few (an IndexError here before) nor too many (silently
    # dropped) states pass.
    stack = nr.StackedRNNCells([nr.SimpleRNNCell(3), nr.SimpleRNNCell(2)])
    x = np.ones((2, 4), "float32")
    h1, h2 = np.zeros((2, 3), "float32"), np.zeros((2, 2), "float32")
    for states, count in (([h1], 1), ([h1, h2, h2], 3)):
        with pytest.raises(ValueError, match=re.escape(
                'Layer "stacked_rnn_cells" expects 2 states (its `state_size` is (3, 2)), '
                f"but it received {count} state values.")):
            stack(x, states)
    out, (s1, s2) = stack(x, [h1, h2])
    assert out.shape == (2, 2) and s1.shape == (2, 3)
    np.testing.assert_array_equal(s2, out)


def test_pack_sequence_as_needs_one_item_per_leaf():
    from numbarnn.layers.rnn_utils import pack_sequence_as
    assert pack_sequence_as((1, [2, 3]), "abc") == ("a", ["b", "c"])
    for flat in ("ab", "abcd"):
        with pytest.raises(ValueError, match=f"Structure had 3 atoms, but flat_sequence "
                                             f"had {len(flat)} items"):
            pack_sequence_as((1, [2, 3]), flat)


def test_set_weights_and_reset_states_reject_non_numeric_values():
    # A string array failed in numpy's astype ("could not convert string to float"),
    # naming neither the argument nor the weight; an object array (which tf rejects
    # too) was silently converted. Nothing is assigned when one value is bad.
    layer = built_layer(stateful=True)
    before = layer.get_weights()
    for bad in (np.full((3,), "a"), np.zeros(3, object)):
        with pytest.raises(TypeError, match=re.escape(
                "Layer simple_rnn weight simple_rnn/simple_rnn_cell/bias:0 must be set "
                f"from a numeric array. Received an array of dtype {bad.dtype} with "
                "shape (3,).")):
            layer.set_weights([np.ones((5, 3)), np.ones((3, 3)), bad])
    for got, want in zip(layer.get_weights(), before):
        np.testing.assert_array_equal(got, want)
    layer.reset_states(np.full((2, 3), 0.5))
    with pytest.raises(TypeError, match=re.escape(
            "Argument `states` must be a numeric array. Received an array of dtype <U1 "
            "with shape (2, 3).")):
        layer.reset_states(np.full((2, 3), "a"))
    np.testing.assert_array_equal(layer.states[0].numpy(), np.full((2, 3), 0.5))


def test_residual_wrapper_checks_its_arguments():
    # tf-keras takes any value and fails later on one of its attributes.
    for bad, missing in ((5, "call"), (None, "call"), (nr.Dense(3), "state_size")):
        with pytest.raises(ValueError, match=re.escape(
                "Argument `cell` of ResidualWrapper should be an RNN cell with a "
                f"`{missing}`. Received: cell={bad!r}")):
            nr.ResidualWrapper(bad)
    with pytest.raises(TypeError, match=re.escape(
            "Argument `residual_fn` of ResidualWrapper must be a callable (inputs, "
            "outputs) -> outputs, or None. Received: residual_fn='add'")):
        nr.ResidualWrapper(nr.SimpleRNNCell(2), residual_fn="add")
    wrapper = nr.ResidualWrapper(nr.SimpleRNNCell(2), residual_fn=lambda i, o: o - o)
    out = nr.RNN(wrapper)(np.ones((1, 3, 4), "float32"))
    np.testing.assert_array_equal(out, np.zeros((1, 2)))


def test_states_given_as_python_lists_of_numbers(rng):
    # Each nested list of numbers is one state (at the level of the state's rank): it
    # used to be flattened into one "state" per number ("was passed 10 initial
    # states"). tf-keras takes tensors only, so this is numbarnn's own leniency.
    x = rng.standard_normal((2, 3, 4)).astype("float32")
    layer = nr.SimpleRNN(5, return_state=True)
    h = rng.standard_normal((2, 5)).astype("float32")
    want_out, want_h = layer(x, initial_state=h)
    for given in (h.tolist(), [h.tolist()], (h.tolist(),)):
        out, final = layer(x, initial_state=given)
        np.testing.assert_array_equal(out, want_out)
        np.testing.assert_array_equal(final, want_h)
    np.testing.assert_array_equal(layer([x, h.tolist()])[0], want_out)
    with pytest.raises(ValueError, match=r"state 0 has shape \(5,\), expected \(2, 5\)"):
        layer(x, initial_state=h[0].tolist())

    stack = nr.RNN([nr.SimpleRNNCell(3), nr.SimpleRNNCell(3)], return_state=True)
    h1, h2 = (rng.standard_normal((2, 3)).astype("float32") for _ in range(2))
    want = stack(x, initial_state=[h1, h2])
    for given in ([h1.tolist(), h2.tolist()], [[h1.tolist()], [h2.tolist()]]):
        got = stack(x, initial_state=given)
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(np.ravel(got[2]), np.ravel(want[2]))

    stateful = nr.SimpleRNN(5, stateful=True)
    stateful(x)
    for given in (h.tolist(), [h.tolist()]):
        stateful.reset_states(given)
        np.testing.assert_array_equal(stateful.states[0].numpy(), h)


def test_rnn_get_initial_state_needs_batch_and_time_axes():
    # A Python list is a nest: its first leaf, a number, had no batch axis
    # (IndexError: tuple index out of range).
    layer = nr.RNN(nr.SimpleRNNCell(3))
    x = np.ones((2, 4, 5), "float32")
    [h] = layer.get_initial_state(x)
    assert h.shape == (2, 3) and h.dtype == np.float32 and not h.any()
    with pytest.raises(ValueError, match=re.escape(
            "Argument `inputs` of `get_initial_state` must be an array [batch, time, ...] "
            "(or a tuple of them). Received a list whose first leaf has shape ().")):
        layer.get_initial_state(x.tolist())
    with pytest.raises(ValueError, match=re.escape(
            "must be an array [time, batch, ...] (or a tuple of them). Received a "
            "ndarray whose first value has shape (5,).")):
        nr.RNN(nr.SimpleRNNCell(3), time_major=True).get_initial_state(np.ones(5))


@pytest.mark.parametrize("kwargs, error, message", [
    ({"input_shape": 5}, TypeError,
     "Argument `input_shape` must be a tuple of non-negative integers or None. "
     "Received: input_shape=5"),
    ({"input_shape": (None, 4.0)}, TypeError, "Received: input_shape=(None, 4.0)"),
    ({"input_shape": "ab"}, TypeError, "Received: input_shape='ab'"),
    ({"batch_input_shape": 5}, TypeError, "Argument `batch_input_shape` must be a tuple"),
    ({"batch_input_shape": (2, -3, 4)}, ValueError,
     "Received: batch_input_shape=(2, -3, 4)"),
    ({"input_shape": (3, 4), "batch_size": -1}, ValueError,
     "Argument `batch_size` must be a non-negative integer or None. Received: "
     "batch_size=-1"),
    ({"input_shape": (3, 4), "batch_size": 2.0}, TypeError, "Received: batch_size=2.0"),
    ({"input_dim": "4"}, TypeError,
     "Argument `input_dim` must be a non-negative integer or None. "
     "Received: input_dim='4'"),
    ({"input_dim": -2, "input_length": 3}, ValueError, "Received: input_dim=-2"),
    ({"input_length": 2.5}, TypeError,
     "Argument `input_length` must be a non-negative integer or None. "
     "Received: input_length=2.5"),
])
def test_declared_input_shapes_are_checked_at_construction(kwargs, error, message):
    # tf-keras fails later ("'int' object is not iterable", or in its Input layer).
    with pytest.raises(error, match=re.escape(message)):
        nr.SimpleRNN(3, **kwargs)


def test_declared_input_shapes_that_are_accepted():
    assert nr.SimpleRNN(3, input_shape=[None, np.int64(4)])._batch_input_shape == (
        None, None, 4)
    assert nr.SimpleRNN(3, batch_input_shape=[2, 3, 4])._batch_input_shape == (2, 3, 4)
    assert nr.SimpleRNN(3, input_shape=(3, 4), batch_size=np.int32(2))._batch_input_shape \
        == (2, 3, 4)
    assert nr.Dense(2, input_dim=4)._batch_input_shape == (None, 4)
    with pytest.raises(TypeError, match="Argument `input_dim` must be a non-negative "
                                        "integer or None. Received: input_dim=4.5"):
        nr.Dense(2, input_dim=4.5)


@pytest.mark.parametrize("cells", [nr.SimpleRNNCell(3), "ab", None])
def test_stacked_cells_need_a_list_of_cells(cells):
    with pytest.raises(TypeError, match=re.escape(
            "Argument `cells` of StackedRNNCells must be a list or tuple of RNN cells. "
            f"Received: cells={cells!r}")):
        nr.StackedRNNCells(cells)
    stack = nr.StackedRNNCells((nr.SimpleRNNCell(3), nr.SimpleRNNCell(2)))
    assert stack.state_size == (3, 2) and stack.output_size == 2


def test_states_setter_checks_what_it_is_given(rng):
    # tf-keras's setter stores anything; here a bad value failed only at the next call
    # (with an `initial_state` message, or "could not convert string to float"), an
    # integer array made an integer state variable the next call could not store
    # into, and `states = None` made the next call fail with "'NoneType' object is
    # not iterable".
    layer = built_layer(stateful=True, return_state=True)
    x = rng.standard_normal((2, 4, 5)).astype("float32")
    with pytest.raises(ValueError, match=re.escape(
            "State 0 is incompatible with layer simple_rnn: expected shape=(2, 3) but "
            "found shape=(5, 5)")):
        layer.states = [np.ones((5, 5))]
    with pytest.raises(ValueError, match="expects 1 states, but it received 2 state"):
        layer.states = [np.ones((2, 3))] * 2
    with pytest.raises(TypeError, match="Argument `states` must be a numeric array"):
        layer.states = [np.full((2, 3), "a")]

    layer.states = [np.ones((2, 3), int)]
    assert layer.states[0].dtype == np.float32
    _, from_ones = layer(x)
    layer.reset_states(np.ones((2, 3)))
    _, again = layer(x)
    np.testing.assert_array_equal(from_ones, again)
    np.testing.assert_array_equal(layer.states[0].numpy(), again)

    layer.states = None
    _, from_none = layer(x)
    layer.reset_states()
    np.testing.assert_array_equal(from_none, layer(x)[1])


def test_arguments_tf_keras_refuses_or_takes_in_its_own_way():
    x = np.ones((2, 3, 4), "float32")
    # an empty initial_state: an unbuilt layer's build refuses it as a state list that
    # does not match the cell's; a built layer's call reads it as none given
    for empty in ([], ()):
        with pytest.raises(ValueError, match=re.escape(
                "An `initial_state` was passed that is not compatible with "
                "`cell.state_size`. Received `state_spec`=[]; however `cell.state_size` "
                "is [3]")):
            nr.SimpleRNN(3)(x, initial_state=empty)
        built = nr.SimpleRNN(3)
        plain = built(x)
        np.testing.assert_array_equal(built(x, initial_state=empty), plain)
    with pytest.raises(ValueError, match="expected a positive integer, got False."):
        nr.SimpleRNN(False)
    with pytest.raises(TypeError, match="Argument `dropout` must be a float in"):
        nr.SimpleRNN(3, dropout="0.5")
    # numbarnn's own dropout seed is checked at construction, not at the first training
    # call (numpy's SeedSequence error)
    with pytest.raises(ValueError, match="`seed` must be None or a non-negative integer"):
        nr.SimpleRNN(3, dropout=0.5, seed=-1)
    for bad in (1.5, "a", True):
        with pytest.raises(TypeError, match="`seed` must be None or a non-negative"):
            nr.SimpleRNNCell(3, seed=bad)
    assert nr.SimpleRNN(3, seed=np.int64(7)).cell.get_config()["seed"] == 7
    # input_shape wins over input_dim and may be empty; None is refused
    assert nr.Dense(3, input_shape=())._batch_input_shape == (None,)
    assert nr.Dense(3, input_shape=(4,), input_dim=9)._batch_input_shape == (None, 4)
    with pytest.raises(TypeError, match="Received: input_shape=None"):
        nr.SimpleRNN(3, input_shape=None)
    with pytest.raises(ValueError, match="last dimension of the inputs to a Dense layer "
                                         "should be defined. Found None."):
        nr.Dense(3).build(None)


class _Weights(nr.Layer):
    def __init__(self, shape, initializer="zeros"):
        super().__init__()
        self.shape, self.init = shape, initializer

    def build(self, input_shape):
        self.w = self.add_weight("w", shape=self.shape, initializer=self.init)

    def call(self, x):
        return x


def test_add_weight_shapes_as_tf_variable_reads_them():
    for shape in (2, np.int64(2)):   # tf.TensorShape(2) is (2,)
        layer = _Weights(shape)
        layer(np.zeros(1))
        assert layer.w.shape == (2,)
    # ... handed to the initializer as given: the fan-based ones need a tuple (tf-keras:
    # "object of type 'int' has no len()")
    with pytest.raises(TypeError, match="needs a shape tuple, not a bare length"):
        _Weights(2, "glorot_uniform")(np.zeros(1))
    # an initializer's value must have the weight's shape: tf.Variable refuses a
    # broadcastable one too
    for value in (np.arange(3.0), np.zeros((1, 3)), np.float32(1.0)):
        with pytest.raises(ValueError, match=re.escape(
                f"the initial value's shape ({np.shape(value)}) is not compatible with the "
                "explicitly supplied `shape` argument ((2, 3))")):
            _Weights((2, 3), lambda shape, dtype=None, v=value: v)(np.zeros(1))


@pytest.mark.parametrize("layer, x", [
    (nr.Dense(2), np.ones((2, 3, 4), "float32")),
    (nr.Masking(), np.ones((2, 3, 4), "float32")),
    (nr.Dropout(0.5), np.ones((2, 3, 4), "float32")),
    (nr.Embedding(5, 2), np.ones((2, 3), "int32")),
])
def test_an_explicit_mask_to_a_call_without_one_is_refused(layer, x):
    """As tf-keras's: the argument reaches a call that does not take it (a mask the
    input carries is handed on by compute_mask instead, and mask=None passes)."""
    with pytest.raises(TypeError, match=f"{type(layer).__name__}.call\\(\\) got an "
                       "unexpected keyword argument 'mask'"):
        layer(x, mask=np.ones((2, 3), bool))
    assert layer(x, mask=None).shape[:2] == (2, 3)
    if isinstance(layer, (nr.Dense, nr.Dropout)):  # a carried mask still flows through
        padded = np.ones((2, 3, 4), "float32")
        padded[:, 2] = 0.0
        np.testing.assert_array_equal(layer(nr.Masking(0.0)(padded))._keras_mask,
                                      [[True, True, False]] * 2)


def test_activation_names_are_not_snake_cased():
    """tf-keras's activations are looked up by their exact names ("Tanh" is unknown),
    while initializers, regularizers and constraints also take class names."""
    for name in ("Tanh", "Relu", "Sigmoid"):
        with pytest.raises(ValueError, match=f"Unknown activation function: '{name}'"):
            nr.SimpleRNN(2, activation=name)
    assert nr.activations.get("tanh") is nr.activations.tanh
    assert isinstance(nr.initializers.get("GlorotUniform"), nr.initializers.GlorotUniform)
    assert isinstance(nr.regularizers.get("L1L2"), nr.regularizers.L1L2)


def test_a_cell_called_with_no_state_names_it():
    cell = nr.SimpleRNNCell(2)
    for states in ([], ()):
        with pytest.raises(IndexError, match=r'Layer "simple_rnn_cell\w*" expects 1 state '
                           r"in `states` \(shape \(batch, 2\)\), but received an empty"):
            cell(np.ones((2, 4), "float32"), states)


@pytest.mark.parametrize("initial_state, entry", [([None], 0), ((None,), 0),
                                                   ([np.zeros((2, 2)), None], 1)])
def test_a_none_initial_state_entry_is_named(initial_state, entry):
    layer = nr.SimpleRNN(2, return_sequences=True)
    with pytest.raises(ValueError, match=f"`initial_state` entry {entry} is None"):
        layer(np.ones((2, 3, 4), "float32"), initial_state=initial_state)
    assert layer(np.ones((2, 3, 4), "float32")).shape == (2, 3, 2)  # still usable


def test_embedding_mask_refuses_what_its_call_refuses():
    layer = nr.Embedding(10, 4, mask_zero=True)
    with pytest.raises(TypeError, match="expects integer indices .* dtype <U1"):
        layer.compute_mask(np.array([["1", "0"]]))
    np.testing.assert_array_equal(layer.compute_mask(np.array([[1, 0]])), [[True, False]])


@pytest.mark.parametrize("layers", [[], [nr.Input((3, 4))]])
def test_a_model_without_layers_returns_a_copy(layers):
    x = np.ones((2, 3, 4), "float32")
    model = nr.Sequential(layers)
    for out in (model(x), model.predict(x), model.predict_on_batch(x)):
        np.testing.assert_array_equal(out, x)
        assert not np.shares_memory(out, x)
