"""Bidirectional: against a float64 reference (two loops over time, one per direction),
against recorded tf-keras outputs, and the wrapper's contract (shapes, masks, weights,
config, errors) as tf-keras's."""
import json
import os

import numpy as np
import pytest
from conftest import skip_without_cuda
from naive import rnn_forward
from recorded import check_calls, load_recordings, numbered

import numbarnn as nr
from numbarnn.kernels.cuda_support import is_device_array

B, T, F = 3, 5, 2


def _levels(rnn):
    """The reference's levels for a built RNN of SimpleRNNCells (stacked or not; a
    ResidualWrapper marks its level residual)."""
    cells = getattr(rnn.cell, "cells", [rnn.cell])
    levels = []
    for cell in cells:
        inner = getattr(cell, "cell", cell)
        w = [v.numpy().astype(np.float64) for v in inner.weights]
        levels.append({"kernel": w[0], "recurrent": w[1], "bias": w[2] if len(w) > 2 else None,
                       "activation": inner.activation.__name__,
                       "residual": cell is not inner})
    return levels


def _reference(layer, x, mask=None, initial_state=None, merge_mode="concat"):
    """The Bidirectional's outputs from the two directions run by the reference."""
    fw, bw = layer.forward_layer, layer.backward_layer
    half = None if initial_state is None else len(initial_state) // 2
    results = []
    for direction, h0 in ((fw, None if half is None else initial_state[:half]),
                          (bw, None if half is None else initial_state[half:])):
        seq, last, states = rnn_forward(x, _levels(direction), mask=mask, initial_states=h0,
                                        go_backwards=direction.go_backwards,
                                        zero_output_for_mask=direction.return_sequences,
                                        time_major=direction.time_major)
        results.append((seq if direction.return_sequences else last, states))
    (y, fw_states), (y_rev, bw_states) = results
    if layer.return_sequences:
        y_rev = np.flip(y_rev, 0 if fw.time_major else 1)
    merged = {"concat": lambda: np.concatenate([y, y_rev], -1), "sum": lambda: y + y_rev,
              "mul": lambda: y * y_rev, "ave": lambda: (y + y_rev) / 2,
              None: lambda: [y, y_rev]}[merge_mode]()
    out = merged if merge_mode is None else [merged]
    return out + (fw_states + bw_states if layer.return_state else [])


def _as_list(out):
    return [np.asarray(o) for o in (out if isinstance(out, list) else [out])]


def _random_mask(rng, b, t):
    """Left padding, right padding, a fully masked row and an arbitrary pattern."""
    mask = rng.random((b, t)) > 0.4
    mask[0, :2] = False
    mask[0, 2:] = True
    mask[1, :] = False
    mask[2, -2:] = False
    return mask


def _randomize(layer, rng):
    layer.set_weights([rng.standard_normal(w.shape) * 0.6 for w in layer.get_weights()])


# (inner layer, merge_mode, call options): every merge mode, both return kinds,
# go_backwards on the inner layer, time_major, initial states, stacks and residual cells
CASES = [
    (lambda: nr.SimpleRNN(3, return_sequences=True), "concat", {"mask": True, "h0": True}),
    (lambda: nr.SimpleRNN(3, go_backwards=True, return_state=True), "sum", {"mask": True}),
    (lambda: nr.SimpleRNN(3, return_sequences=True, time_major=True), "mul",
     {"mask": True, "h0": True}),
    (lambda: nr.RNN(nr.SimpleRNNCell(3), return_sequences=True, return_state=True), None,
     {"mask": True}),
    (lambda: nr.RNN([nr.SimpleRNNCell(3), nr.SimpleRNNCell(2, activation="relu")],
                    return_sequences=True, return_state=True), "ave",
     {"mask": True, "h0": True}),
    (lambda: nr.RNN([nr.SimpleRNNCell(2), nr.ResidualWrapper(nr.SimpleRNNCell(2))]),
     "concat", {"mask": True}),
]


def test_matches_the_reference(layer_engine, rng):
    for make, mode, options in CASES:
        layer = nr.Bidirectional(make(), merge_mode=mode)
        time_major = layer.forward_layer.time_major
        x = rng.standard_normal((T, B, F) if time_major else (B, T, F)).astype("float32")
        kwargs = {}
        mask = _random_mask(rng, B, T) if options.get("mask") else None
        if mask is not None:
            kwargs["mask"] = mask.T if time_major else mask
        layer.build(x.shape)
        _randomize(layer, rng)
        if options.get("h0"):
            sizes = nr.layers.rnn_utils.flatten(layer.forward_layer.cell.state_size)
            kwargs["initial_state"] = [rng.standard_normal((B, s)).astype("float32")
                                       for s in sizes * 2]
        got = _as_list(layer(x, **kwargs))
        want = _reference(layer, x, kwargs.get("mask"), kwargs.get("initial_state"), mode)
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert g.dtype == np.float32
            np.testing.assert_allclose(g, w, rtol=2e-5, atol=2e-5)


def test_stateful_carries_both_directions_and_resets(layer_engine, rng):
    layer = nr.Bidirectional(nr.SimpleRNN(3, stateful=True, return_sequences=True),
                             merge_mode="sum", batch_input_shape=(2, 4, F))
    x = rng.standard_normal((2, 4, F)).astype("float32")
    layer.build(x.shape)
    _randomize(layer, rng)
    first = np.asarray(layer(x))
    second = np.asarray(layer(x))
    levels = [_levels(layer.forward_layer), _levels(layer.backward_layer)]
    fw_seq, _, fw_h = rnn_forward(x, levels[0], zero_output_for_mask=True)
    bw_seq, _, bw_h = rnn_forward(x, levels[1], go_backwards=True, zero_output_for_mask=True)
    np.testing.assert_allclose(first, fw_seq + bw_seq[:, ::-1], rtol=2e-5, atol=2e-5)
    fw_seq, _, _ = rnn_forward(x, levels[0], initial_states=fw_h)
    bw_seq, _, _ = rnn_forward(x, levels[1], initial_states=bw_h, go_backwards=True)
    np.testing.assert_allclose(second, fw_seq + bw_seq[:, ::-1], rtol=2e-5, atol=2e-5)
    layer.reset_states()
    np.testing.assert_allclose(np.asarray(layer(x)), first, rtol=1e-6, atol=1e-6)
    h = [np.full((2, 3), 0.5, "float32"), np.zeros((2, 3), "float32")]
    layer.reset_states(h)
    np.testing.assert_array_equal(layer.forward_layer.states[0].numpy(), h[0])
    with pytest.raises(ValueError, match="Expected `states` to be list or tuple"):
        layer.reset_states(h[0])


# -- recorded tf-keras outputs ----------------------------------------------------------
RECORDED = load_recordings(os.path.join(os.path.dirname(__file__), "data",
                                       "tf_keras_bidirectional.npz"))


@pytest.mark.parametrize("case", sorted(RECORDED))
def test_matches_recorded_tf_keras(case):
    spec, arrays = RECORDED[case]
    options = {k: spec[k] for k in ("return_sequences", "return_state", "go_backwards",
                                    "time_major", "stateful") if k in spec}
    inner = (nr.SimpleRNN(spec["units"], **options) if spec["kind"] == "SimpleRNN"
             else nr.RNN([nr.SimpleRNNCell(u) for u in spec["units"]], **options))
    x = arrays["x"]
    extra = {"batch_input_shape": x.shape} if spec.get("stateful") else {}
    layer = nr.Bidirectional(inner, merge_mode=spec["merge_mode"], **extra)
    layer.build(x.shape)
    layer.set_weights(numbered(arrays, "w_"))
    check_calls(layer, arrays, tol=2e-6)


# -- the wrapper's contract ---------------------------------------------------------------
def test_copies_names_weights_and_shapes():
    inner = nr.SimpleRNN(3, return_sequences=True)
    layer = nr.Bidirectional(inner)
    assert (layer.forward_layer.name, layer.backward_layer.name) == (
        "forward_simple_rnn", "backward_simple_rnn")
    assert inner.name == "simple_rnn" and not inner.built
    assert layer.forward_layer is not inner and layer.backward_layer.go_backwards
    assert layer.forward_layer.zero_output_for_mask  # forced to return_sequences
    y = layer(np.ones((2, 4, F), "float32"))
    assert y.shape == (2, 4, 6)
    assert [w.name for w in layer.weights] == [
        f"bidirectional/{d}_simple_rnn/simple_rnn_cell/{n}:0"
        for d in ("forward", "backward") for n in ("kernel", "recurrent_kernel", "bias")]
    assert inner.weights == []  # the layer given is not run, nor tracked
    assert [w.shape for w in layer.weights] == [(2, 3), (3, 3), (3,)] * 2
    weights = [np.full(w.shape, i, "float32") for i, w in enumerate(layer.weights)]
    layer.set_weights(weights)
    assert [float(w[0].ravel()[0]) for w in [layer.forward_layer.get_weights()[:1],
                                            layer.backward_layer.get_weights()[:1]]] == [0, 3]
    assert layer.count_params() == 2 * (6 + 9 + 3)
    assert layer.compute_output_shape((None, 4, F)) == (None, 4, 6)
    with_states = nr.Bidirectional(nr.SimpleRNN(3, return_state=True), merge_mode=None)
    assert with_states.compute_output_shape((None, 4, F)) == [(None, 3)] * 4
    assert nr.Bidirectional(nr.SimpleRNN(3, time_major=True, return_sequences=True),
                            merge_mode="sum").compute_output_shape((4, None, F)) == (4, None, 3)


def test_compute_mask_follows_tf_keras():
    mask = np.ones((2, 4), bool)
    x = np.ones((2, 4, F), "float32")

    def masks(merge_mode, **options):
        out = nr.Bidirectional(nr.SimpleRNN(3, **options), merge_mode).compute_mask(x, mask)
        return (["m" if m is not None else None for m in out] if isinstance(out, list)
                else "m" if out is not None else None)
    assert masks("concat", return_sequences=True) == "m"
    assert masks("concat") is None
    assert masks(None, return_sequences=True) == ["m", "m"]
    assert masks(None) == [None, None]
    assert masks("sum", return_sequences=True, return_state=True) == ["m", None, None]
    assert masks(None, return_sequences=True, return_state=True) == ["m", "m", None, None]


def test_weights_argument_is_not_applied_as_in_tf_keras():
    ones = [np.ones((F, 3)), np.ones((3, 3)), np.ones(3)] * 2
    layer = nr.Bidirectional(nr.SimpleRNN(3), weights=ones)
    layer(np.ones((1, 2, F), "float32"))
    assert not np.all(layer.get_weights()[0] == 1)
    assert len(layer.forward_layer.initial_weights) == 3


def test_masking_sequential_and_dense(rng):
    x = rng.standard_normal((3, 5, F)).astype("float32")
    x[0, 3:] = 0
    x[1, :2] = 0
    model = nr.Sequential([nr.Masking(input_shape=(5, F)),
                           nr.Bidirectional(nr.SimpleRNN(3, return_sequences=True)),
                           nr.Bidirectional(nr.SimpleRNN(2), merge_mode="ave"),
                           nr.Dense(2)])
    _randomize(model, rng)
    first, second, dense = model.layers[1:]
    mask = np.any(x != 0, axis=-1)
    h = _reference(first, x, mask)[0]
    h = _reference(second, h, mask, merge_mode="ave")[0]
    want = h @ dense.get_weights()[0] + dense.get_weights()[1]
    np.testing.assert_allclose(model(x), want, rtol=2e-5, atol=2e-5)
    assert model.count_params() == 2 * (6 + 9 + 3) + 2 * (12 + 4 + 2) + 6
    lines = []
    model.summary(print_fn=lines.append)
    assert " bidirectional (Bidirection  (None, 5, 6)              36        " in lines


def test_config_round_trips(tmp_path, rng):
    backward = nr.SimpleRNN(3, go_backwards=True, activation="relu", name="back",
                            return_sequences=True)
    layer = nr.Bidirectional(nr.SimpleRNN(3, return_sequences=True), merge_mode="mul",
                             backward_layer=backward)
    assert backward.name == "backward_back"  # the given layer itself, renamed
    config = layer.get_config()
    assert list(config) == ["name", "trainable", "dtype", "layer", "merge_mode",
                            "backward_layer"]
    assert config["layer"]["config"]["name"] == "simple_rnn"
    assert config["backward_layer"]["config"]["name"] == "back"  # as it was given
    again = nr.layers.deserialize(json.loads(json.dumps(nr.layers.serialize(layer))))
    assert (again.forward_layer.name, again.backward_layer.name) == (
        "forward_simple_rnn", "backward_back")
    assert again.backward_layer.activation is nr.activations.relu
    assert again.get_config() == config
    model = nr.Sequential([nr.Bidirectional(nr.SimpleRNN(3), input_shape=(4, F)),
                           nr.Dense(1)])
    _randomize(model, rng)
    x = rng.standard_normal((2, 4, F)).astype("float32")
    for loaded in (nr.Sequential.from_config(model.get_config()),
                   nr.model_from_json(model.to_json())):
        loaded.set_weights(model.get_weights())
        np.testing.assert_allclose(loaded(x), model(x), rtol=1e-6)
    nr.save_model(model, tmp_path / "m.npz")
    np.testing.assert_allclose(nr.load_model(tmp_path / "m.npz")(x), model(x), rtol=1e-6)


def test_dtypes_and_trainable(rng):
    x = rng.standard_normal((2, 4, F))
    wide = nr.Bidirectional(nr.SimpleRNN(3, dtype="float64"), dtype="float64")
    assert wide(x).dtype == np.float64
    # the wrapper's own (float32) policy rounds the inputs first, as tf-keras's
    narrow = nr.Bidirectional(nr.SimpleRNN(3, dtype="float64"))
    narrow.build(x.shape)
    narrow.set_weights(wide.get_weights())
    np.testing.assert_allclose(narrow(x), wide(x.astype("float32").astype("float64")),
                               rtol=1e-12)
    nr.set_global_policy("mixed_float16")
    try:
        half = nr.Bidirectional(nr.SimpleRNN(3, return_sequences=True), merge_mode="ave")
        assert half(x.astype("float32")).dtype == np.float16
    finally:
        nr.set_global_policy("float32")
    frozen = nr.Bidirectional(nr.SimpleRNN(3, trainable=False))
    assert not frozen.trainable and not frozen.forward_layer.trainable
    outer = nr.Bidirectional(nr.SimpleRNN(3), trainable=False)
    outer(x.astype("float32"))
    assert outer.forward_layer.trainable and outer.trainable_weights == []


def test_constants_reach_both_directions(rng):
    class AddConstant(nr.layers.Layer):
        state_size = 2

        def call(self, inputs, states, constants=None):
            h = np.tanh(inputs + states[0] + constants[0])
            return h, [h]

    layer = nr.Bidirectional(nr.RNN(AddConstant(), return_sequences=True), merge_mode="sum")
    x = rng.standard_normal((2, 3, 2)).astype("float32")
    c = rng.standard_normal((2, 2)).astype("float32")
    got = layer(x, constants=[c])
    assert layer.get_config()["num_constants"] == 1

    def direction(steps):  # float64, one step at a time
        h, out = np.zeros((2, 2)), []
        for t in steps:
            h = np.tanh(x[:, t].astype(np.float64) + h + c)
            out.append(h)
        return np.stack(out, axis=1)

    backward = direction([2, 1, 0])[:, ::-1]  # processed backwards, merged in input order
    np.testing.assert_allclose(got, direction([0, 1, 2]) + backward, rtol=1e-6, atol=1e-6)


def test_device_arrays_come_back_on_the_device(rng):
    skip_without_cuda()
    from numbarnn.kernels.cuda import to_device, to_host
    layer = nr.Bidirectional(nr.SimpleRNN(2, return_sequences=True))
    x = rng.standard_normal((2, 3, F)).astype("float32")
    out = layer(to_device(x))
    assert is_device_array(out)
    np.testing.assert_allclose(to_host(out), layer(x), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("merge_mode, return_sequences, time_major, dtype", [
    ("concat", True, False, "float32"), ("concat", False, False, "float32"),
    ("concat", True, True, "float64"), ("sum", True, False, "float32"),
    ("ave", True, True, "float32"), ("ave", False, False, "float64"),
    ("mul", True, False, "float64"), (None, True, False, "float32"),
    (None, False, True, "float32")])
def test_device_outputs_merge_on_the_device_as_on_the_host(
        rng, monkeypatch, merge_mode, return_sequences, time_major, dtype):
    """The device merge gives the host merge's bits: the backward sequence back in
    input order along the time axis, each merge one numpy operation."""
    skip_without_cuda()
    from numbarnn.kernels import cuda
    from numbarnn.kernels.cuda import to_device, to_host
    merges = []
    device_merge = cuda.merge_directions
    monkeypatch.setattr(cuda, "merge_directions",
                        lambda *args: merges.append(args[2]) or device_merge(*args))
    layer = nr.Bidirectional(nr.SimpleRNN(3, return_sequences=return_sequences,
                                          time_major=time_major, dtype=dtype),
                             merge_mode=merge_mode, dtype=dtype)
    x = to_device(rng.standard_normal((4, 2, F) if time_major else (2, 4, F)).astype(dtype))
    got = layer(x)
    assert merges[:1] == [merge_mode]  # merged by the device kernel
    y, y_rev = to_host(layer.forward_layer(x)), to_host(layer.backward_layer(x))
    if return_sequences:
        y_rev = np.flip(y_rev, 0 if time_major else 1)
    want = {"concat": lambda: np.concatenate([y, y_rev], -1), "sum": lambda: y + y_rev,
            "ave": lambda: (y + y_rev) / 2, "mul": lambda: y * y_rev,
            None: lambda: [y, y_rev]}[merge_mode]()
    for g, w in zip(got if merge_mode is None else [got],
                    want if merge_mode is None else [want]):
        assert is_device_array(g)
        g = to_host(g)
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_array_equal(g, w)


# (the simulator's threads compute in numpy, which warns of the overflows and NaNs)
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("dtype", ["float16", "float32"])
@pytest.mark.parametrize("shape, time_axis", [((3, 5, 4), 1), ((5, 3, 4), 0),
                                              ((3, 4), None)])
def test_device_merge_rounds_each_operation_once(rng, dtype, shape, time_axis):
    """Each merge one numpy operation in the outputs' dtype: the same numbers and
    signs, and NaN where numpy's is (its sign the GPU's own), on values where rounding
    shows: float16 sums and products rounded once (the kernel computes them in
    float32), overflow to inf, subnormals, -0, inf - inf, NaN."""
    skip_without_cuda()
    from numbarnn.kernels.cuda import merge_directions, to_device, to_host
    info = np.finfo(dtype)
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, info.max, -info.max,
                        info.tiny, info.smallest_subnormal, 1 + info.eps, 1.0,
                        -1 - info.eps, 3 * info.smallest_subnormal], dtype)
    y, y_rev = (np.where(rng.random(shape) < 0.5, rng.choice(special, shape),
                         rng.standard_normal(shape) * 1e3).astype(dtype)
                for _ in range(2))
    backward = y_rev if time_axis is None else np.flip(y_rev, time_axis)
    with np.errstate(all="ignore"):
        want = {"concat": np.concatenate([y, backward], -1), "sum": y + backward,
                "ave": (y + backward) / 2, "mul": y * backward}
    for mode, expected in want.items():
        got = to_host(merge_directions(to_device(y), to_device(y_rev), mode, time_axis))
        assert got.dtype == expected.dtype == np.dtype(dtype), mode
        np.testing.assert_array_equal(got, expected, err_msg=mode)
        # (signs of numbers: a NaN made by inf - inf or inf * 0 is the GPU's own, whose
        # sign is not x86's)
        number = ~np.isnan(expected)
        np.testing.assert_array_equal(np.signbit(got)[number], np.signbit(expected)[number],
                                      err_msg=mode)
    first, second = merge_directions(to_device(y), to_device(y_rev), None, time_axis)
    np.testing.assert_array_equal(to_host(second), backward)


@pytest.mark.parametrize("make, error, message", [
    (lambda: nr.Bidirectional(3), ValueError,
     "Please initialize `Bidirectional` layer with a `tf.keras.layers.Layer` instance. "
     "Received: 3"),
    (lambda: nr.Bidirectional(nr.SimpleRNN(3), merge_mode="max"), ValueError,
     'Invalid merge mode. Received: max. Merge mode should be one of {"sum", "mul", '
     '"ave", "concat", None}'),
    (lambda: nr.Bidirectional(nr.SimpleRNN(3), backward_layer="rnn"), ValueError,
     "`backward_layer` need to be a `tf.keras.layers.Layer` instance. Received: rnn"),
    (lambda: nr.Bidirectional(nr.SimpleRNN(3), backward_layer=nr.SimpleRNN(3)), ValueError,
     "Forward layer and backward layer should have different `go_backwards` value."
     "forward_layer.go_backwards = False,backward_layer.go_backwards = False"),
    (lambda: nr.Bidirectional(nr.SimpleRNN(3), backward_layer=nr.SimpleRNN(
        3, go_backwards=True, return_sequences=True)), ValueError,
     'Forward layer and backward layer are expected to have the same value for attribute '
     '"return_sequences", got "False" for forward layer and "True" for backward layer'),
    (lambda: nr.Bidirectional(nr.SimpleRNN(3, stateful=True), backward_layer=nr.SimpleRNN(
        3, go_backwards=True)), ValueError, 'for attribute "stateful", got "True"'),
    (lambda: nr.Bidirectional(nr.SimpleRNN(3))(np.ones((2, 4, F), "float32"),
                                               initial_state=[np.zeros((2, 3))]),
     ValueError, "When passing `initial_state` to a Bidirectional RNN, the state should be "
                 "a list containing the states of the underlying RNNs. Received: [array("),
    (lambda: nr.Bidirectional(nr.SimpleRNN(3))(np.ones((2, 4, F), "float32"),
                                               initial_state=[np.zeros((2, 4))] * 2),
     ValueError, "An `initial_state` was passed that is not compatible with "
                 "`cell.state_size`"),
    (lambda: nr.Bidirectional(nr.SimpleRNN(3)).reset_states(), AttributeError,
     "Layer must be stateful."),
])
def test_errors_as_tf_keras(make, error, message):
    with pytest.raises(error) as info:
        make()
    assert message in str(info.value)


def test_a_failed_call_leaves_the_layer_as_it_was():
    layer = nr.Bidirectional(nr.SimpleRNN(3))
    x = np.ones((2, 4, F), "float32")
    with pytest.raises(ValueError):
        layer(x, initial_state=[np.zeros((2, 4))] * 2)
    assert layer.forward_layer.state_spec is None
    assert layer(x, initial_state=[np.zeros((2, 3))] * 2).shape == (2, 6)


def test_a_backward_layer_of_other_units_sets_the_models_shapes():
    """tf-keras's models take the call's shape (forward + backward units), not its
    compute_output_shape's (twice the forward units, in numbarnn too): the Dense after
    it fits."""
    model = nr.Sequential([
        nr.Bidirectional(nr.SimpleRNN(5), backward_layer=nr.SimpleRNN(3, go_backwards=True),
                         input_shape=(6, 3)),
        nr.Dense(2)])
    assert model.layers[0].output_shape == (None, 8)
    assert model.layers[1].kernel.shape == (8, 2)
    assert model(np.ones((1, 6, 3), "float32")).shape == (1, 2)
    # the method itself answers as tf-keras's: twice the forward units, the forward
    # layer's state shapes repeated
    assert model.layers[0].compute_output_shape((None, 6, 3)) == (None, 10)
    # and so does a model's compute_output_shape, from its layers' methods, while its
    # output_shape is the call's (both as in tf-keras)
    assert model.compute_output_shape((None, 6, 3)) == (None, 2)
    nested = nr.Sequential([nr.Sequential([model.layers[0]])])
    assert (nested.output_shape, nested.compute_output_shape((None, 6, 3))) == (
        (None, 8), (None, 10))
    with_states = nr.Bidirectional(
        nr.SimpleRNN(5, return_state=True, return_sequences=True),
        backward_layer=nr.SimpleRNN(3, go_backwards=True, return_state=True,
                                    return_sequences=True), merge_mode=None)
    assert with_states.compute_output_shape((None, 6, 3)) == [(None, 6, 5)] * 2 + [
        (None, 5)] * 2
    assert with_states._call_output_shape((None, 6, 3)) == [
        (None, 6, 5), (None, 6, 3), (None, 5), (None, 3)]
    with pytest.raises(ValueError, match="Dimensions must be equal, but are 5 and 3"):
        nr.Sequential([nr.Bidirectional(
            nr.SimpleRNN(5), backward_layer=nr.SimpleRNN(3, go_backwards=True),
            merge_mode="sum", input_shape=(6, 3))])


def test_a_layer_without_go_backwards_is_named_in_the_key_error():
    with pytest.raises(KeyError, match="Bidirectional wraps a recurrent layer"):
        nr.Bidirectional(nr.Dense(3))


def test_constraints_merge_the_wrapped_layers():
    """tf-keras's property: empty for the recurrent layers (no `constraints` of their
    own); a wrapped layer with one has both directions' merged."""
    assert nr.Bidirectional(nr.SimpleRNN(2)).constraints == {}

    class Constrained(nr.SimpleRNN):
        @property
        def constraints(self):
            return {f"{self.name}/kernel": "non_neg"}

    layer = nr.Bidirectional(Constrained(2), name="bi")
    assert layer.constraints == {"forward_constrained/kernel": "non_neg",
                                 "backward_constrained/kernel": "non_neg"}
