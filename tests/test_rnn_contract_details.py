"""Details of the RNN layer, its cells and their files that users run into: masks of
nested states, the training argument of plain cells, rejected calls, user compiled
steps, damaged files, and host layers given device arrays."""
import logging
import warnings

import numpy as np
import pytest
from numba import njit

import numbarnn as nr
from conftest import cuda_ready


class TwoStates(nr.AbstractRNNCell):
    """out = x[:, :1] + state0; both states take out."""

    @property
    def state_size(self):
        return [1, 1]

    @property
    def output_size(self):
        return 1

    def call(self, inputs, states):
        out = inputs[:, :1] + states[0]
        return out, [out, out]


def test_compute_mask_gives_one_mask_per_top_level_state():
    x, mask = np.ones((2, 3, 1), np.float32), np.ones((2, 3), bool)
    for cell, n_states in [([TwoStates(), TwoStates()], 2), (TwoStates(), 2),
                           (nr.SimpleRNNCell(2), 1)]:
        layer = nr.RNN(cell, return_sequences=True, return_state=True)
        outputs = layer(x, mask=mask)
        masks = layer.compute_mask(x, mask)
        assert len(masks) == len(outputs) == 1 + n_states
        assert masks[0] is mask and masks[1:] == [None] * n_states


class PlainCell:
    """Not a Layer: RNN passes ``training`` only to a call that names it."""

    state_size = 2

    def __init__(self):
        self.seen = []

    def call(self, inputs, states, **kwargs):
        self.seen.append(kwargs)
        return states[0], [states[0]]


class KwargsLayerCell(nr.Layer):
    """A Layer: its __call__ hands ``**kwargs`` the mode of the call it runs in."""

    state_size = 2

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seen = []

    def call(self, inputs, states, **kwargs):
        self.seen.append(kwargs)
        return states[0], [states[0]]


def test_training_reaches_a_cell_as_tf_keras_passes_it():
    x = np.ones((1, 2, 3), np.float32)
    plain, layer_cell = PlainCell(), KwargsLayerCell()
    nr.RNN(plain)(x, training=True)
    nr.RNN(layer_cell)(x, training=True)
    # three calls for two steps: tf-keras's while-loop path calls the step once more on
    # the first timestep (to learn the output's shape); the unrolled loop does not
    assert plain.seen == [{}, {}, {}]
    assert layer_cell.seen == [{"training": True}] * 3
    stacked_plain, stacked_layer = PlainCell(), KwargsLayerCell()
    nr.RNN([stacked_layer, stacked_plain])(x)
    assert stacked_plain.seen == [{}, {}, {}]
    assert stacked_layer.seen == [{"training": None}] * 3
    wrapped = KwargsLayerCell()
    nr.RNN(nr.ResidualWrapper(wrapped))(np.ones((1, 2, 2), np.float32), training=False)
    assert wrapped.seen == [{"training": False}] * 3
    unrolled = KwargsLayerCell()
    nr.RNN(unrolled, unroll=True)(x)
    assert unrolled.seen == [{"training": None}] * 2


class ZeroStateCell(nr.SimpleRNNCell):
    def zero_state(self, batch_size, dtype):
        return [np.zeros((batch_size, self.units), dtype)]


def test_residual_wrapper_forwards_zero_state():
    state = nr.ResidualWrapper(ZeroStateCell(3)).zero_state(2, "float32")
    assert state[0].shape == (2, 3) and state[0].dtype == np.float32
    with pytest.raises(AttributeError):
        nr.ResidualWrapper(nr.SimpleRNNCell(3)).zero_state(2, "float32")


def test_the_implementation_argument_is_logged_as_deprecated(caplog):
    with caplog.at_level(logging.WARNING, logger="numbarnn"):
        layer = nr.SimpleRNN(3, implementation=1)
    assert "The `implementation` argument in `SimpleRNN` has been deprecated" in caplog.text
    assert "implementation" not in layer.get_config()


@njit
def _tanh_step(x_t, h, params):
    out = np.tanh(x_t @ params[0] + h @ params[1])
    return out, out.copy()


class NoOutputSizeCell(nr.AbstractRNNCell):
    """A compiled step and no output_size (AbstractRNNCell's raises)."""

    compiled_step = staticmethod(_tanh_step)
    state_size = 3

    def build(self, input_shape):
        self.kernel = self.add_weight("kernel", (input_shape[-1], 3))
        self.recurrent = self.add_weight("recurrent", (3, 3))

    def call(self, inputs, states):
        h = np.tanh(inputs @ self.kernel.value() + states[0] @ self.recurrent.value())
        return h, [h]


def test_a_compiled_step_cell_without_output_size_runs_its_call(rng):
    layer = nr.RNN(NoOutputSizeCell(), return_sequences=True)
    x = rng.standard_normal((2, 4, 2))
    with nr.device("python"):
        expected = layer(x)
    np.testing.assert_allclose(layer(x), expected, rtol=1e-6, atol=1e-7)


def _python_step(x_t, h, params):
    out = np.tanh(x_t @ params[0] + h @ params[1])
    return out, out.copy()


@pytest.mark.parametrize("step", [staticmethod(_python_step), 3])
def test_compiled_step_must_be_an_njit_function(step):
    cell_class = type("BadStepCell", (NoOutputSizeCell,),
                      {"compiled_step": step, "output_size": 3})
    with pytest.raises(TypeError, match="`compiled_step` must be a numba `@njit` "
                                        "function"):
        nr.RNN(cell_class())(np.ones((2, 4, 2)))


def test_damaged_weight_entries_are_a_clear_error(tmp_path):
    model = nr.Sequential([nr.SimpleRNN(3), nr.Dense(2)])
    model(np.zeros((2, 4, 5), "float32"))
    nr.save_model(model, tmp_path / "m.npz")
    arrays = dict(np.load(tmp_path / "m.npz"))
    lost = {k: v for k, v in arrays.items() if k != "w1"}
    np.savez(tmp_path / "lost.npz", **lost)
    with pytest.raises(ValueError, match=r"not a readable numbarnn model file .*its "
                                         r"weight entries are \['w0', 'w2', 'w3', 'w4'\]"):
        nr.load_model(tmp_path / "lost.npz")
    model.save_weights(tmp_path / "w.npz")
    extra = dict(np.load(tmp_path / "w.npz"))
    extra["w99"] = extra["w0"]
    np.savez(tmp_path / "extra.npz", **extra)
    with pytest.raises(ValueError, match="not a readable numbarnn weights file"):
        model.load_weights(tmp_path / "extra.npz")
    assert len(nr.load_model(tmp_path / "m.npz").get_weights()) == 5


def test_a_sequential_config_whose_layers_are_not_a_list():
    with pytest.raises(ValueError, match="'layers' must be a list of layer configs"):
        nr.Sequential.from_config({"name": "s", "layers": 5})


def test_a_complex_value_is_not_assigned_to_a_float_variable():
    layer = nr.SimpleRNN(3)
    layer.build((None, None, 4))
    before = layer.cell.kernel.numpy()
    with pytest.raises(TypeError, match="Cannot convert"):
        layer.cell.kernel.assign(np.full((4, 3), 1 + 2j))
    np.testing.assert_array_equal(layer.cell.kernel.numpy(), before)


@pytest.mark.parametrize("initializer", [nr.initializers.Zeros(), nr.initializers.Ones()])
def test_zeros_and_ones_need_a_numeric_dtype(initializer):
    assert initializer((2,), dtype="int32").dtype == np.int32
    assert initializer((2,), dtype="bool").dtype == np.bool_
    for dtype in ("str", "object"):
        with pytest.raises(ValueError, match="Expected numeric or boolean dtype"):
            initializer((2,), dtype=dtype)


def test_an_unseeded_initializer_called_again_warns():
    unseeded = nr.initializers.GlorotUniform()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = unseeded((3, 3))
        assert not caught
        np.testing.assert_array_equal(unseeded((3, 3)), first)   # the same values
    assert "GlorotUniform is unseeded and being called multiple times" in str(
        caught[0].message)
    seeded = nr.initializers.Orthogonal(seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        seeded((3, 3))
        seeded((3, 3))
        # string identifiers make a new instance per layer: no warning
        for _ in range(2):
            nr.SimpleRNN(3)(np.ones((1, 2, 3), "float32"))


@pytest.mark.skipif(not cuda_ready()[0], reason="needs the CUDA engine (GPU or simulator)")
def test_dense_and_masking_give_device_arrays_for_device_arrays(rng):
    from numba import cuda
    from numbarnn.kernels.cuda_support import is_device_array
    x = rng.standard_normal((3, 4, 2)).astype("float32")
    x[0, 2:] = 0.0
    dense = nr.Dense(2)
    out = dense(cuda.to_device(x))
    assert is_device_array(out)
    # (the device GEMM sums in another order than the host's BLAS: float32 rounding)
    np.testing.assert_allclose(out.copy_to_host(), dense(x), rtol=1e-6, atol=1e-6)
    masked = nr.Masking(0.0)(cuda.to_device(x))
    assert is_device_array(masked)
    assert masked._keras_mask.tolist() == [[True, True, False, False]] + [[True] * 4] * 2
    model = nr.Sequential([nr.Masking(0.0), nr.SimpleRNN(2, return_sequences=True),
                           nr.Dense(1)])
    expected = model(x)
    out = model(cuda.to_device(x))
    assert is_device_array(out)
    np.testing.assert_allclose(out.copy_to_host(), expected, rtol=1e-5, atol=1e-6)


def test_reverse_state_order_reverses_state_size_only(rng, caplog):
    """tf-keras: the deprecated flag (logged, as there) reverses state_size and
    get_initial_state; call reads and returns the states in the cells' order."""
    x = rng.standard_normal((2, 3, 4)).astype("float32")
    with caplog.at_level(logging.WARNING, logger="numbarnn"):
        stack = nr.StackedRNNCells([nr.SimpleRNNCell(4), nr.SimpleRNNCell(4)],
                                   reverse_state_order=True)
    assert "reverse_state_order=True in StackedRNNCells" in caplog.text
    plain = nr.StackedRNNCells([nr.SimpleRNNCell(4), nr.SimpleRNNCell(4)])
    layer = nr.RNN(stack, return_state=True)
    layer.build(x.shape)
    reference = nr.RNN(plain, return_state=True, weights=layer.get_weights())
    out, first, second = layer(x)
    want_out, want_first, want_second = reference(x)
    np.testing.assert_array_equal(second, out)          # the last cell's state last
    # (the flag keeps the stack on the generic loop: float32 rounding differs)
    for got, want in [(out, want_out), (first, want_first), (second, want_second)]:
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    h0, h1 = (rng.standard_normal((2, 4)).astype("float32") for _ in range(2))
    _, (a, b) = stack(x[:, 0], [h0, h1])
    _, (want_a, want_b) = plain(x[:, 0], [h0, h1])
    np.testing.assert_array_equal(a, want_a)
    np.testing.assert_array_equal(b, want_b)


@pytest.mark.parametrize("policy", ["float16", "mixed_float16"])
def test_a_float16_cell_called_alone_gives_float16(policy, rng):
    cell = nr.SimpleRNNCell(4, dtype=policy)
    x = rng.standard_normal((2, 3)).astype("float16")
    h = rng.standard_normal((2, 4)).astype("float16")
    out, (state,) = cell(x, [h])
    assert out.dtype == state.dtype == np.float16
    kernel, recurrent, bias = (w.astype(np.float64) for w in cell.get_weights())
    want = np.tanh(x.astype(np.float64) @ kernel + bias + h.astype(np.float64) @ recurrent)
    np.testing.assert_allclose(out, want, rtol=2e-3, atol=2e-3)
    # the layer's loop keeps its state in float32, its result in float16
    layer = nr.SimpleRNN(4, dtype=policy)
    assert layer(rng.standard_normal((2, 5, 3)).astype("float16")).dtype == np.float16


def test_numbas_built_in_cuda_target_asks_for_numba_cuda(monkeypatch):
    from numba import cuda
    from numbarnn.kernels.cuda_support import cuda_status
    monkeypatch.setattr(cuda, "implementation", "Built-in", raising=False)
    ok, reason = cuda_status()
    assert not ok
    assert "numba-cuda is not installed" in reason and "numbarnn[cuda]" in reason


@nr.utils.register_keras_serializable(package="audit")
class ScaledL1(nr.regularizers.Regularizer):
    def __init__(self, a=1.0):
        self.a = a

    def __call__(self, x):
        return self.a * np.sum(np.abs(x))

    def get_config(self):
        return {"a": self.a}


@nr.utils.register_keras_serializable(package="audit")
class HalfInit(nr.initializers.Initializer):
    def __call__(self, shape, dtype=None, **kwargs):
        return np.full(shape, 0.5, dtype or "float32")

    def get_config(self):
        return {}


def test_registered_user_objects_in_configs_round_trip(tmp_path):
    written = nr.regularizers.serialize(ScaledL1(0.5))
    assert written == {"module": __name__, "class_name": "ScaledL1", "config": {"a": 0.5},
                       "registered_name": "audit>ScaledL1"}
    assert nr.regularizers.deserialize(written).a == 0.5
    # tf-keras's form for a class defined in a script: module None
    loaded = nr.regularizers.get({"module": None, "class_name": "ScaledL1",
                                  "config": {"a": 2.0}, "registered_name": "audit>ScaledL1"})
    assert isinstance(loaded, ScaledL1) and loaded.a == 2.0
    layer = nr.SimpleRNN(2, kernel_regularizer=ScaledL1(0.25),
                         recurrent_initializer=HalfInit())
    layer(np.ones((1, 3, 2), np.float32))
    nr.save_model(layer, tmp_path / "m.npz")
    again = nr.load_model(tmp_path / "m.npz")
    assert again.cell.kernel_regularizer.a == 0.25
    assert isinstance(again.cell.recurrent_initializer, HalfInit)
    np.testing.assert_array_equal(again(np.ones((1, 3, 2), np.float32)),
                                  layer(np.ones((1, 3, 2), np.float32)))


def test_numpy_values_in_configs_are_written_as_tf_keras_writes_them(tmp_path):
    import json
    layer = nr.SimpleRNN(3, kernel_constraint=nr.constraints.MaxNorm(np.float32(2)),
                         bias_initializer=nr.initializers.Constant(np.array([1., 2., 3.])))
    layer(np.ones((1, 2, 3), np.float32))
    config = nr.layers.serialize(layer)
    text = json.dumps(config)                                   # JSON as it is
    assert '"max_value": 2.0' in text and '"__numpy__"' in text
    nr.save_model(layer, tmp_path / "m.npz")
    again = nr.load_model(tmp_path / "m.npz")
    np.testing.assert_array_equal(again.cell.bias.numpy(), [1.0, 2.0, 3.0])
    fresh = nr.layers.deserialize(config)
    fresh.build((None, None, 3))
    np.testing.assert_array_equal(fresh.cell.bias.numpy(), [1.0, 2.0, 3.0])


def test_a_regularizer_subclass_must_say_its_config():
    class NoConfig(nr.regularizers.Regularizer):
        def __call__(self, x):
            return 0.0
    with pytest.raises(NotImplementedError, match="does not implement get_config"):
        nr.regularizers.serialize(NoConfig())


def test_plain_functions_in_configs_and_registering_classes():
    def penalty(x):
        return 0.1 * np.sum(np.square(x))
    config = nr.SimpleRNN(2, kernel_regularizer=penalty).get_config()
    assert config["kernel_regularizer"] == {"module": "builtins", "class_name": "function",
                                            "config": "penalty",
                                            "registered_name": "function"}
    with nr.utils.custom_object_scope({"penalty": penalty}):
        assert nr.SimpleRNN.from_config(config).cell.kernel_regularizer is penalty
    assert nr.utils.get_registered_name(ScaledL1) == "audit>ScaledL1"
    with pytest.raises(ValueError, match="does not have a get_config"):
        nr.utils.register_keras_serializable()(type("NoConfig", (), {}))


@pytest.mark.skipif(not cuda_ready()[0], reason="needs the CUDA engine (GPU or simulator)")
def test_device_outputs_pass_masks_on_layer_by_layer(rng):
    from numba import cuda
    x = rng.standard_normal((2, 5, 3)).astype("float32")
    x[0, 2:] = 0.0
    masking, dense, rnn = nr.Masking(0.0), nr.Dense(3), nr.SimpleRNN(4)
    expected = rnn(dense(masking(x)))
    hidden = dense(masking(cuda.to_device(x)))
    assert hidden._keras_mask.tolist()[0] == [True, True, False, False, False]
    np.testing.assert_allclose(rnn(hidden).copy_to_host(), expected, rtol=1e-5, atol=1e-6)


class _Pair(tuple):
    """A namedtuple-like value in a config."""
    _fields = ("a", "b")

    def __new__(cls, a, b):
        return super().__new__(cls, (a, b))


@nr.utils.register_keras_serializable(package="audit")
class ArrayInit(nr.initializers.Initializer):
    def __init__(self, values, pair=None):
        self.values, self.pair = values, pair

    def __call__(self, shape, dtype=None, **kwargs):
        return np.broadcast_to(np.asarray(self.values[0], dtype or "float32"), shape).copy()

    def get_config(self):
        return {"values": self.values, "pair": self.pair}


def test_nested_numpy_values_and_namedtuples_in_configs():
    import json
    init = ArrayInit([np.arange(3.0), 2.0], pair=_Pair(np.float32(1), 2))
    written = nr.initializers.serialize(init)
    json.dumps(written)
    assert written["config"]["pair"] == (1.0, 2)             # a tuple, as tf-keras
    again = nr.initializers.deserialize(written)
    np.testing.assert_array_equal(again.values[0], np.arange(3.0))
    assert again((3,)).tolist() == [0.0, 1.0, 2.0]


def test_a_float64_rnn_of_a_cell_list_rounds_its_inputs_as_tf_keras(engine):
    """tf-keras wraps a list of cells in a StackedRNNCells of the default policy
    (float32, whatever the RNN's dtype), and the wrapper's __call__ casts each step's
    input to float32: float64 cells then compute on float32-rounded inputs (a fuzz
    against tf-keras 2.21 found the 1e-9 kept here)."""
    def cell():
        return nr.SimpleRNNCell(1, activation="linear", use_bias=False,
                                kernel_initializer="ones", recurrent_initializer="zeros",
                                dtype="float64")
    x = np.full((1, 2, 1), 1 + 1e-9)
    layer = nr.RNN([cell(), cell()], dtype="float64")
    assert layer.cell.dtype == "float32"
    assert layer.get_config()["cell"]["config"]["dtype"] == "float32"
    out = layer(x)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, [[1.0]])
    again = nr.RNN.from_config(layer.get_config())
    again.build(x.shape)
    np.testing.assert_array_equal(again(x), [[1.0]])
    # a float64 StackedRNNCells keeps float64 throughout; the input is not modified
    exact = nr.RNN(nr.StackedRNNCells([cell(), cell()], dtype="float64"), dtype="float64")
    assert exact(x)[0, 0] - 1 == pytest.approx(1e-9, rel=1e-6)
    assert x[0, 0, 0] - 1 == pytest.approx(1e-9, rel=1e-6)


class _RegularizedCell(nr.Layer):
    state_size = 2

    def build(self, input_shape):
        self.k = self.add_weight("k", shape=(input_shape[-1], 2), initializer="ones")

    def call(self, inputs, states):
        out = np.tanh(inputs @ self.k + states[0])
        return out, [out]


@pytest.mark.parametrize("unroll", [False, True])
def test_a_cells_activity_regularizer_runs_at_every_step_as_tf_keras(unroll):
    """tf-keras's RNN calls the cell's __call__ at each step (plus once more, on the
    first step, in its while-loop path): each call adds one loss per output array,
    ``l2(a) / batch``. Values from tf-keras 2.21 for the SimpleRNNCell case."""
    x = np.random.default_rng(0).standard_normal((2, 4, 3)).astype("float32")
    layer = nr.RNN(_RegularizedCell(activity_regularizer="l2"), unroll=unroll)
    layer(x)
    h, expected = np.zeros((2, 2)), [] if unroll else [None, None]
    for t in range(4):
        h = np.tanh(x[:, t].astype(np.float64) @ np.ones((3, 2)) + h)
        expected += [0.01 * np.sum(h ** 2) / 2] * 2
    if not unroll:
        first = np.tanh(x[:, 0].astype(np.float64) @ np.ones((3, 2)))
        expected[:2] = [0.01 * np.sum(first ** 2) / 2] * 2
    np.testing.assert_allclose([float(v) for v in layer.losses], expected, rtol=1e-5)
    fused = nr.RNN(nr.SimpleRNNCell(2, activity_regularizer="l2",
                                    kernel_initializer="ones",
                                    recurrent_initializer="zeros"), unroll=unroll)
    fused(x)
    losses = [round(float(v), 4) for v in fused.losses]
    assert losses == ([0.0131] * 4 if not unroll else [0.0131] * 2) + [
        0.0085, 0.0085, 0.0159, 0.0159, 0.0152, 0.0152]


def test_a_cells_own_input_spec_is_checked_at_each_step():
    class Picky(_RegularizedCell):
        def __init__(self):
            super().__init__()
            self.input_spec = nr.InputSpec(ndim=2, axes={-1: 5})
    with pytest.raises(ValueError, match='Input 0 of layer "picky" is incompatible with '
                                         "the layer: expected axis -1 of input shape to "
                                         "have value 5"):
        nr.RNN(Picky())(np.ones((2, 4, 3), "float32"))


@pytest.mark.parametrize("size,error,message", [
    (3.0, TypeError, "Dimension value must be integer or None or have an __index__ "
                     "method, got value 3.0"),
    ("3", TypeError, "got value '3' with type <class 'str'>"),
    (None, ValueError, "a state of unknown size \\(None\\) cannot start from zeros"),
    (-2, ValueError, "Dimension -2 must be >= 0 in a cell.s state_size"),
])
def test_a_state_size_tf_shape_would_refuse_is_refused(size, error, message):
    class Cell(nr.Layer):
        state_size = size

        def call(self, inputs, states):
            return states[0], states
    with pytest.raises(error, match=message):
        nr.RNN(Cell())(np.ones((2, 3, 4), "float32"))
    Cell.state_size = True   # tf.TensorShape([True]) is [1]
    out, h = nr.RNN(Cell(), return_state=True)(np.ones((2, 3, 4), "float32"))
    assert out.shape == h.shape == (2, 1)


def test_compiled_params_must_be_a_tuple():
    @njit
    def step(x_t, h, params):
        (b,) = params
        out = np.tanh(h + b)
        return out, out

    class BiasCell(nr.Layer):
        state_size = output_size = 2
        compiled_step = staticmethod(step)

        def build(self, input_shape):
            self.b = self.add_weight("b", shape=(2,), initializer="ones")

        def call(self, inputs, states):
            out = np.tanh(states[0] + self.b)
            return out, [out]

        def compiled_params(self):
            return self.b.value()  # not `(self.b.value(),)`: tuple() would split it
    with nr.device("cpu"), pytest.raises(TypeError, match="compiled_params\\(\\) must "
                                                          "return a tuple"):
        nr.RNN(BiasCell())(np.ones((2, 3, 4), "float32"))


def test_final_states_take_the_structure_of_the_cells_initial_states():
    """tf-keras returns the final states in the structure the call started from: a
    cell whose get_initial_state gives a list (with an int state_size) gets its state
    back in a list, also inside a stack."""
    class ListStateCell(nr.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = self.state_size = units

        def build(self, input_shape):
            self.k = self.add_weight(name="k", shape=(input_shape[-1], self.units),
                                     initializer="ones")

        def call(self, inputs, states):
            h = np.tanh(inputs @ self.k.value() * 0.1 + states[0] * 0.5)
            return h, [h]

        def get_initial_state(self, inputs=None, batch_size=None, dtype=None):
            return [np.zeros((batch_size, self.units), dtype or "float32")]

    x = np.random.default_rng(0).random((2, 4, 3)).astype("float32")
    out, (h1,), (h2,) = nr.RNN([ListStateCell(2), ListStateCell(2)], return_state=True)(x)
    np.testing.assert_array_equal(out, h2)
    expected = np.zeros((2, 2))
    for t in range(4):  # float64 reference of the first cell
        expected = np.tanh(x[:, t].astype(np.float64) @ np.ones((3, 2)) * 0.1
                           + expected * 0.5)
    np.testing.assert_allclose(h1, expected, rtol=1e-6)
    out, h = nr.RNN(ListStateCell(2), return_state=True)(x)  # one cell: to_list spreads it
    assert h.shape == (2, 2)
    mixed = nr.RNN([nr.SimpleRNNCell(2), ListStateCell(3)], return_state=True)(x)
    assert [type(s) for s in mixed[1:]] == [np.ndarray, list]


@pytest.mark.parametrize("time_major", [False, True])
def test_unrolled_zero_output_last_output_is_the_loops(time_major):
    """tf-keras 2.21's unrolled loop fails for zero_output_for_mask, a mask and no
    return_sequences; numbarnn gives what its loop path gives: zeros for a row whose
    last step is masked."""
    x = np.random.default_rng(0).standard_normal((2, 3, 2)).astype("float32")
    mask = np.array([[True, True, False], [True, True, True]])
    outs = []
    for unroll in (False, True):
        layer = nr.SimpleRNN(2, unroll=unroll, zero_output_for_mask=True,
                             time_major=time_major, kernel_initializer="ones",
                             recurrent_initializer="identity")
        outs.append(layer(x.transpose(1, 0, 2) if time_major else x,
                          mask=mask.T if time_major else mask))
    np.testing.assert_array_equal(outs[0], outs[1])
    np.testing.assert_array_equal(outs[1][0], [0.0, 0.0])
    assert np.all(outs[1][1] != 0)
