"""The Masking layer and mask propagation through Sequential."""
import re

import numpy as np
import pytest

from conftest import skip_without_cuda

import numbarnn as nr
from numbarnn import initializers


def _padded_input():
    x = np.arange(24, dtype="float32").reshape(2, 4, 3) / 10
    x[0, 1] = 0.0
    x[1, 3] = 0.0
    x[1, 0] = 0.0
    return x


def _rnn(**kwargs):
    return nr.SimpleRNN(2, return_sequences=True,
                        kernel_initializer=initializers.Constant(0.1),
                        recurrent_initializer=initializers.Constant(-0.2),
                        bias_initializer=initializers.Constant(0.05), **kwargs)


def test_masking_then_simple_rnn_matches_tf_keras(engine):
    # tf-keras 2.21: Sequential([Masking(0.0), SimpleRNN(2, return_sequences=True, same
    # constant initializers)]) on the same input.
    expected = [[[0.07982976] * 2, [0.07982976] * 2, [0.22419436] * 2, [0.25459692] * 2],
                [[0.0] * 2, [0.4853811] * 2, [0.40184525] * 2, [0.40184525] * 2]]
    model = nr.Sequential([nr.Masking(0.0, input_shape=(4, 3)), _rnn()])
    np.testing.assert_allclose(model(_padded_input()), expected, rtol=1e-5, atol=1e-7)


def test_masking_equals_an_explicit_mask(engine, rng):
    x = rng.standard_normal((3, 5, 2)).astype("float32")
    x[0, 3:] = -1.0
    x[2, :2] = -1.0
    layer = _rnn(go_backwards=True)
    masked = nr.Sequential([nr.Masking(-1.0), layer])(x)
    mask = ~np.all(x == -1.0, axis=-1)
    np.testing.assert_allclose(masked, layer(x, mask=mask), rtol=1e-6)


def test_masking_output_mask_and_config():
    x = _padded_input()
    copy = x.copy()
    layer = nr.Masking(0.0)
    out = layer(x)
    keep = np.array([[True, False, True, True], [False, True, True, False]])
    np.testing.assert_array_equal(layer.compute_mask(x), keep)
    np.testing.assert_array_equal(out, x * keep[..., None])
    np.testing.assert_array_equal(x, copy)  # the input is not modified
    assert out.dtype == np.float32
    assert layer.compute_output_shape((None, 4, 3)) == (None, 4, 3)
    config = nr.Masking(0.5, name="pad", input_shape=(4, 3)).get_config()
    assert config["mask_value"] == 0.5 and config["batch_input_shape"] == (None, 4, 3)
    again = nr.layers.deserialize(nr.layers.serialize(nr.Masking(0.5, name="pad")))
    assert isinstance(again, nr.Masking) and again.mask_value == 0.5


def test_a_nan_step_is_not_masked():
    x = np.zeros((1, 3, 2), "float32")
    x[0, 1, 0] = np.nan
    np.testing.assert_array_equal(nr.Masking(0.0).compute_mask(x), [[False, True, False]])


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_mask_value_is_compared_in_the_inputs_dtype(dtype):
    # tf.not_equal converts mask_value to the inputs' dtype: 0.1 masks float32 steps of
    # 0.1 there (compared in float64, float32(0.1) != 0.1 and nothing was masked)
    x = np.array([[[0.1, 0.1], [1.0, 2.0], [0.1, 0.2]]], dtype)
    np.testing.assert_array_equal(nr.Masking(0.1).compute_mask(x), [[False, True, True]])
    np.testing.assert_array_equal(nr.Masking([0.1, 0.2]).compute_mask(x),
                                  [[True, True, False]])
    out = nr.Masking(0.1, dtype=dtype)(x)   # (the default float32 layer casts first)
    assert out.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(out[0, 0], [0.0, 0.0])
    # a value beyond the dtype's range becomes inf there, as tf's conversion rounds it
    big = np.full((1, 1, 2), np.inf, "float32")
    np.testing.assert_array_equal(nr.Masking(1e300).compute_mask(big), [[False]])


def test_sequential_mask_stops_at_a_sequence_reducing_layer():
    """SimpleRNN without return_sequences outputs no mask: the Dense after it gets
    none; with return_sequences the mask reaches it (Dense passes masks on)."""
    x = _padded_input()
    model = nr.Sequential([nr.Masking(0.0), _rnn(), nr.Dense(1)])
    assert model(x).shape == (2, 4, 1)
    model = nr.Sequential([nr.Masking(0.0), nr.SimpleRNN(2), nr.Dense(1)])
    assert model(x).shape == (2, 1)


@pytest.mark.parametrize("mask_value", [0.0, 2.5])
def test_saved_model_with_masking_reloads(tmp_path, mask_value):
    x = _padded_input()
    x[x == 0.0] = mask_value
    model = nr.Sequential([nr.Masking(mask_value), _rnn(), nr.Dense(1)])
    want = model(x)
    path = tmp_path / "model.npz"
    nr.save_model(model, path)
    np.testing.assert_allclose(nr.load_model(path)(x), want, rtol=1e-6)


def test_a_nested_sequential_passes_its_mask_on(engine):
    """tf-keras 2.21 gives [2, 2, 3, 3.5]: the inner model's Masking reaches the RNN."""
    x = np.ones((1, 4, 2), "float32")
    x[0, 1] = 0.0
    rnn = nr.SimpleRNN(1, return_sequences=True, kernel_initializer="ones",
                       recurrent_initializer=initializers.Constant(0.5), activation="linear")
    inner = nr.Sequential([nr.Masking(0.0)])
    model = nr.Sequential([inner, rnn])
    np.testing.assert_allclose(model(x).ravel(), [2, 2, 3, 3.5], rtol=1e-6)
    np.testing.assert_array_equal(inner.compute_mask(x), [[True, False, True, True]])
    two = nr.Sequential([nr.Sequential([nr.Masking(0.0), _rnn()]), nr.Dense(1)])
    assert two(x).shape == (1, 4, 1)


@pytest.mark.parametrize("bad", ["0", None, [], ["a"], True])
def test_mask_value_must_be_a_number(bad):
    with pytest.raises(TypeError, match="`mask_value` must be a number"):
        nr.Masking(bad)


def test_mask_value_per_feature():
    """tf-keras compares feature by feature with a list: a step is masked when every
    feature equals its own value."""
    x = np.array([[[0.0, 1.0], [1.0, 1.0], [0.0, 2.0]]], "float32")
    layer = nr.Masking(mask_value=[0.0, 1.0])
    out = layer(x)
    np.testing.assert_array_equal(out._keras_mask, [[False, True, True]])
    np.testing.assert_array_equal(out, [[[0, 0], [1, 1], [0, 2]]])
    assert layer.get_config()["mask_value"] == [0.0, 1.0]


def test_eager_calls_pass_masks_on_as_tf_keras_tensors_do(layer_engine, rng):
    """``SimpleRNN(...)(Masking()(x))`` outside a Sequential: the output carries the
    mask (``_keras_mask``, as a tf tensor does), the next layer uses it, layers that
    support masking pass it on, and an explicit ``mask=`` wins."""
    x = rng.standard_normal((3, 5, 2)).astype("float32")
    x[0, 3:] = 0.0
    x[2, :2] = 0.0
    keep = ~np.all(x == 0.0, axis=-1)
    masked = nr.Masking()(x)
    np.testing.assert_array_equal(masked._keras_mask, keep)
    first, second, dense = _rnn(), nr.SimpleRNN(3), nr.Dense(2)
    seq = first(masked)
    np.testing.assert_array_equal(seq, first(x, mask=keep))
    np.testing.assert_array_equal(seq._keras_mask, keep)
    projected = dense(seq)  # Dense supports masking: passes the mask on
    np.testing.assert_array_equal(projected._keras_mask, keep)
    np.testing.assert_allclose(second(projected), second(dense(first(x, mask=keep)),
                                                         mask=keep), rtol=1e-6)
    unmasked = second(projected, mask=np.ones((3, 5), bool))  # explicit wins
    np.testing.assert_allclose(unmasked, second(np.asarray(projected)), rtol=1e-6)
    assert not np.allclose(unmasked, second(projected))
    last = second(projected)
    assert type(last) is np.ndarray  # a reduced sequence has no mask
    stateful = nr.SimpleRNN(2, return_state=True, return_sequences=True)
    out, state = stateful(masked)
    assert out._keras_mask is not None and getattr(state, "_keras_mask", None) is None


def test_arrays_computed_from_a_masked_output_are_plain(tmp_path):
    import pickle
    x = np.zeros((2, 3, 2), "float32")
    x[:, 1] = 1.0
    out = nr.Masking()(x)
    assert isinstance(out, np.ndarray) and out._keras_mask is not None
    for derived in (out * 2, out[0], np.concatenate([out, out]), out.sum(axis=-1),
                    np.asarray(out), pickle.loads(pickle.dumps(out))):
        assert type(derived) is np.ndarray, type(derived)
    assert repr(out).startswith("array(")
    layer = nr.SimpleRNN(2)
    np.testing.assert_array_equal(layer(out * 1.0), layer(x))  # every step counts
    assert not np.allclose(layer(out), layer(x))


def test_masking_per_feature_values_must_match_the_features():
    x = np.zeros((2, 3, 4), "float32")
    x[0, 1] = [1.0, 2.0, 3.0, 4.0]
    with pytest.raises(ValueError, match=re.escape(
            'Argument `mask_value` of layer "masking" has 2 values (one per feature), but '
            "the inputs have 4 features. Received: inputs.shape=(2, 3, 4), "
            "mask_value=[0.0, 0.0]")):
        nr.Masking([0.0, 0.0], name="masking")(x)
    keep = nr.Masking([1.0, 2.0, 3.0, 4.0]).compute_mask(x)
    np.testing.assert_array_equal(keep, [[True, False, True], [True, True, True]])
    np.testing.assert_array_equal(nr.Masking([0.0]).compute_mask(x),
                                  [[False, True, False], [False, False, False]])


@pytest.mark.parametrize("dtype, shape, mask_value", [
    ("float32", (2, 4, 3), 0.0), ("float32", (5, 3), 0.1),
    ("float64", (2, 3, 4, 3), [0.0, 1.0, -2.0]), ("float32", (3,), 0.0),
    ("float32", (2, 2, 3), [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]),
    ("float16", (2, 4, 3), 0.1), ("float16", (5, 3), [0.0, 1.0, -2.0])])
def test_device_arrays_are_masked_on_the_device_as_on_the_host(
        rng, monkeypatch, dtype, shape, mask_value):
    """The device kernel gives the host's bits (inf and NaN times 0 are NaN, a negative
    times 0 is -0) and its mask; an input of another float dtype is cast first, on the
    host as a numpy input is, and a mask value of more dimensions broadcasts there."""
    skip_without_cuda()
    from numbarnn.engine.keras_mask import mask_of
    from numbarnn.kernels import cuda
    from numbarnn.kernels.cuda import to_device, to_host
    kernel_calls = []
    device_mask = cuda.mask_steps
    monkeypatch.setattr(cuda, "mask_steps",
                        lambda *args: kernel_calls.append(1) or device_mask(*args))
    from numbarnn.kernels.cuda_support import is_device_array
    x = rng.standard_normal(shape).astype(dtype)
    padded = rng.random(shape[:-1] + (1,)) < 0.5
    x = np.where(padded, np.broadcast_to(np.asarray(mask_value, dtype), shape), x)
    steps = x.reshape(-1, shape[-1])
    if len(steps) > 3 and np.ndim(mask_value) <= 1:
        steps[1, 0], steps[3] = np.inf, -np.asarray(mask_value, dtype)
    if len(steps) > 2:
        steps[2, -1] = np.nan
    layer = nr.Masking(mask_value, dtype=dtype)
    on_device = np.ndim(mask_value) <= 1
    for given in (x, x.astype("float64" if dtype == "float32" else "float32")):
        want = layer(given)
        kernel_calls.clear()
        got = layer(to_device(given))
        assert len(kernel_calls) == (on_device and given.dtype == dtype)
        assert is_device_array(got)
        host = to_host(got)
        assert host.dtype == want.dtype and host.shape == want.shape
        np.testing.assert_array_equal(host, want)
        np.testing.assert_array_equal(np.signbit(host), np.signbit(want))
        np.testing.assert_array_equal(mask_of(got), mask_of(want))


def test_device_masking_copies_its_value_to_the_device_once(rng, monkeypatch):
    """The mask value's device copy is kept across calls (no copy per call) and made
    again when the value changes."""
    skip_without_cuda()
    from numbarnn.kernels import cuda
    from numbarnn.kernels.cuda import to_device, to_host
    x = rng.standard_normal((2, 5, 3)).astype("float32")
    x[0, 1] = 1.5
    x[1, 3] = 2.0
    device_x = to_device(x)
    copies = []
    real = cuda.to_device
    monkeypatch.setattr(cuda, "to_device", lambda a: copies.append(np.shape(a)) or real(a))
    layer = nr.Masking(1.5)
    for _ in range(3):
        np.testing.assert_array_equal(to_host(layer(device_x)), layer(x))
    assert copies == [(1,)]
    layer.mask_value = 2.0
    got = layer(device_x)
    np.testing.assert_array_equal(got._keras_mask, np.any(x != 2.0, axis=-1))
    np.testing.assert_array_equal(to_host(got), layer(x))
    assert copies == [(1,), (1,)]


@pytest.mark.parametrize("steps, features", [
    (2500, 1), (700, 3), (40, 64), (7, 300), (3, 1500), (4, 0)])
@pytest.mark.parametrize("per_feature", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_device_masking_keeps_the_host_bits_at_any_feature_count(
        rng, steps, features, per_feature, dtype):
    """A block of the device kernel masks several rows or one, its threads taking
    consecutive elements: rows that straddle two threads' runs (odd feature counts),
    rows wider than a block's threads and than a round of their loads, a last block of
    fewer rows, no features. The mask and the bits are the host's ``x * keep``: -0
    from a negative or -0 masked, a kept row's NaN payloads and infs as they were
    (float16 too, which the kernel compares and multiplies in float32)."""
    skip_without_cuda()
    from numbarnn.kernels.cuda import mask_steps, to_device, to_host
    bits = np.uint32 if dtype == "float32" else np.uint16
    values = (rng.integers(-2, 2, features) if per_feature else np.array([-2]))
    values = values.astype(dtype)
    x = np.broadcast_to(values, (steps, features)).copy()
    if features:
        x[(rng.random((steps, features)) < 0.5) & (x == 0)] = -0.0
        kind, at = rng.integers(0, 5, steps), rng.integers(0, features, steps)
        rows = np.arange(steps)
        x[kind == 1, at[kind == 1]] += 1.0  # one feature differs
        payload = np.array([0x7FC00123, 0xFFC00005] if dtype == "float32" else
                           [0x7E23, 0xFE05], bits).view(dtype)
        x[kind == 2, at[kind == 2]] = payload[rows[kind == 2] % 2]
        x[kind == 3] = rng.standard_normal((np.sum(kind == 3), features))
        x[kind == 4, at[kind == 4]] = -np.inf
    keep = np.any(x != values, axis=-1)
    want = x * keep[:, None]
    out, got_keep = mask_steps(to_device(x), values)
    np.testing.assert_array_equal(got_keep, keep)
    np.testing.assert_array_equal(to_host(out).view(bits), want.view(bits))
