"""Awkward but valid inputs, threads, numerical soundness and saved models."""
import os
import threading
import tracemalloc

import numpy as np
import pytest

import numbarnn as nr
from naive import rnn_forward


def weights_of(layer):
    k, r, b = [w.astype(np.float64) for w in layer.get_weights()]
    return [{"kernel": k, "recurrent": r, "bias": b, "activation": "tanh"}]


@pytest.mark.parametrize("layout", ["fortran", "strided", "float64", "int", "transposed"])
def test_awkward_layouts_give_the_right_answer(engine, rng, layout):
    layer = nr.SimpleRNN(3, return_sequences=True)
    base = rng.standard_normal((4, 5, 2))
    if layout == "fortran":
        x = np.asfortranarray(base.astype("float32"))
    elif layout == "strided":
        big = np.zeros((8, 10, 4), "float32")
        big[::2, ::2, ::2] = base
        x = big[::2, ::2, ::2]
    elif layout == "float64":
        x = base
    elif layout == "int":
        base = rng.integers(-2, 3, size=(4, 5, 2)).astype(np.float64)
        x = base.astype(np.int64)
    else:
        x = np.ascontiguousarray(base.transpose(1, 0, 2).astype("float32")).transpose(1, 0, 2)
    out = layer(x)
    assert out.dtype == np.float32
    ref, _, _ = rnn_forward(base.astype("float32"), weights_of(layer))
    np.testing.assert_allclose(out, ref, rtol=2e-5, atol=2e-6)


def test_integer_mask_equals_bool_mask(engine, rng):
    layer = nr.SimpleRNN(3, return_sequences=True)
    x = rng.standard_normal((3, 4, 2)).astype("float32")
    m = rng.integers(0, 2, size=(3, 4))
    np.testing.assert_array_equal(layer(x, mask=m), layer(x, mask=m.astype(bool)))


def test_mask_with_a_trailing_unit_axis(engine, rng):
    """tf-keras broadcasts a (batch, time, 1) mask over the units; a wider third axis
    stays an error."""
    layer = nr.SimpleRNN(3, return_sequences=True, time_major=True)
    x = rng.standard_normal((4, 3, 2)).astype("float32")  # (time, batch, features)
    m = rng.random((4, 3)) > 0.4
    np.testing.assert_array_equal(layer(x, mask=m[..., None]), layer(x, mask=m))
    with pytest.raises(ValueError, match=r"`mask` must have shape \(4, 3\)"):
        layer(x, mask=np.ones((4, 3, 2), bool))


def test_nested_list_mask_is_one_mask(engine, rng):
    """A plain nested list of numbers is one [batch, time] mask; a list of arrays is a
    list of per-input masks, of which the first is used (tf-keras)."""
    layer = nr.SimpleRNN(3, return_sequences=True)
    x = rng.standard_normal((2, 3, 2)).astype("float32")
    m = [[1, 0, 1], [1, 1, 1]]
    expected = layer(x, mask=np.array(m, bool))
    np.testing.assert_array_equal(layer(x, mask=m), expected)
    np.testing.assert_array_equal(layer(x, mask=[[True, False, True], [True] * 3]),
                                  expected)
    np.testing.assert_array_equal(layer(x, mask=[np.array(m), None]), expected)
    with pytest.raises(ValueError, match=r"`mask` must have shape \(2, 3\).*Received: "
                                         r"mask.shape=\(2, 2\)"):
        layer(x, mask=[[1, 0], [1, 1]])


def test_empty_batch_and_single_step(engine, rng):
    layer = nr.SimpleRNN(3, return_sequences=True, return_state=True)
    seq, h = layer(np.zeros((0, 4, 2), "float32"))
    assert seq.shape == (0, 4, 3) and h.shape == (0, 3)
    x = rng.standard_normal((2, 1, 2)).astype("float32")
    seq, h = layer(x)
    ref, _, _ = rnn_forward(x, weights_of(layer))
    np.testing.assert_allclose(seq, ref, rtol=2e-5, atol=2e-6)
    np.testing.assert_array_equal(seq[:, 0], h)


def test_fully_masked_rows(engine, rng):
    layer = nr.SimpleRNN(3, return_sequences=True, return_state=True)
    x = rng.standard_normal((2, 4, 2)).astype("float32")
    h0 = rng.standard_normal((2, 3)).astype("float32")
    mask = np.array([[False] * 4, [True] * 4])
    seq, h = layer(x, mask=mask, initial_state=h0)
    np.testing.assert_array_equal(seq[0], 0.0)      # output carry starts at zero
    np.testing.assert_array_equal(h[0], h0[0])      # state stays the initial state


def _peak_bytes(layer, x):
    tracemalloc.start()
    out = layer(x)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert np.isfinite(out).all()
    return peak


def test_long_sequence_bounded_memory():
    """100k steps with return_sequences=False: memory grows only by the input's
    time-major copy, not by anything of size (T, B, units)."""
    layer = nr.SimpleRNN(64)
    x = np.random.default_rng(0).standard_normal((2, 100_000, 4)).astype("float32") * 0.1
    short = np.ascontiguousarray(x[:, :10_000])
    layer(short)
    growth = _peak_bytes(layer, x) - _peak_bytes(layer, short)
    input_growth = x.nbytes - short.nbytes
    assert growth < 1.5 * input_growth, (growth, input_growth)
    assert growth < 0.25 * 2 * 100_000 * 64 * 4  # a (T, B, 64) float32 array would be 51 MB


def test_threads_get_their_own_results(rng):
    layer = nr.SimpleRNN(4, return_sequences=True)
    xs = [rng.standard_normal((3, 20, 2)).astype("float32") for _ in range(8)]
    expected = [layer(x) for x in xs]
    results = [None] * len(xs)

    def work(i):
        for _ in range(5):
            results[i] = layer(xs[i])
    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(xs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for got, want in zip(results, expected):
        np.testing.assert_array_equal(got, want)


def test_float32_stays_close_over_10k_steps(rng):
    """A contracting recurrence: float32 within 1e-5 relative of float64 over 10k steps."""
    layer32 = nr.SimpleRNN(16, return_sequences=True)
    layer32.build((None, None, 4))
    k = rng.standard_normal((4, 16)) * 0.3
    r = np.linalg.qr(rng.standard_normal((16, 16)))[0] * 0.5  # spectral radius 0.5
    b = rng.standard_normal(16) * 0.1
    layer32.set_weights([k, r, b])
    layer64 = nr.SimpleRNN(16, return_sequences=True, dtype="float64")
    layer64.build((None, None, 4))
    layer64.set_weights([w.astype(np.float64) for w in layer32.get_weights()])
    x = rng.standard_normal((2, 10_000, 4))
    out32 = layer32(x.astype("float32")).astype(np.float64)
    out64 = layer64(x.astype("float32").astype(np.float64))
    scale = np.abs(out64).max()
    assert np.abs(out32 - out64).max() <= 1e-5 * scale


def test_save_and_load_model_exactly(tmp_path, rng):
    model = nr.Sequential([nr.SimpleRNN(4, return_sequences=True, go_backwards=True),
                           nr.RNN([nr.SimpleRNNCell(4), nr.ResidualWrapper(
                               nr.SimpleRNNCell(4))]), nr.Dense(2)])
    x = rng.standard_normal((3, 5, 2)).astype("float32")
    y = model(x)
    path = tmp_path / "m.npz"
    nr.save_model(model, path)
    again = nr.load_model(path)
    np.testing.assert_array_equal(again(x), y)
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]  # no temp files left


def test_save_weights_roundtrip(tmp_path, rng):
    layer = nr.SimpleRNN(3)
    layer(np.zeros((1, 2, 2), "float32"))
    layer.save_weights(tmp_path / "w.npz")
    other = nr.SimpleRNN(3)
    other(np.zeros((1, 2, 2), "float32"))
    other.load_weights(tmp_path / "w.npz")
    for a, b in zip(layer.get_weights(), other.get_weights()):
        np.testing.assert_array_equal(a, b)


def _saved_small_model(tmp_path):
    model = nr.SimpleRNN(2)
    model(np.zeros((1, 2, 2), "float32"))
    path = tmp_path / "m.npz"
    nr.save_model(model, path)
    return model, path


def test_bad_model_files(tmp_path, rng):
    model, path = _saved_small_model(tmp_path)
    data = path.read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated, corrupted or another format"):
        nr.load_model(tmp_path / "cut.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip file at all")
    with pytest.raises(ValueError, match="not a readable numbarnn model file"):
        nr.load_model(tmp_path / "junk.npz")
    with pytest.raises(FileNotFoundError, match="No numbarnn model file"):
        nr.load_model(tmp_path / "missing.npz")
    np.savez(tmp_path / "foreign.npz", a=np.zeros(2))
    with pytest.raises(ValueError, match="not a numbarnn model file"):
        nr.load_model(tmp_path / "foreign.npz")
    np.savez(tmp_path / "newer.npz", __numbarnn_format__=np.array(99))
    with pytest.raises(ValueError, match="newer numbarnn"):
        nr.load_model(tmp_path / "newer.npz")
    np.save(tmp_path / "array.npy", np.zeros(3))
    with pytest.raises(ValueError, match=r"not a readable numbarnn model file .*single "
                                         r"array \(.npy\)"):
        nr.load_model(tmp_path / "array.npy")
    for bad in (np.array("x"), np.array([1, 2]), np.array(1.5)):
        np.savez(tmp_path / "bad.npz", __numbarnn_format__=bad)
        with pytest.raises(ValueError, match="not a readable numbarnn weights file .*"
                                             "'__numbarnn_format__' entry"):
            model.load_weights(tmp_path / "bad.npz")


def myact(x):
    return np.tanh(x) * 2


def test_load_model_with_custom_objects(tmp_path, rng):
    model = nr.Sequential([nr.SimpleRNN(3, activation=myact), nr.Dense(2, activation=myact)])
    x = rng.standard_normal((2, 4, 3)).astype("float32")
    y = model(x)
    nr.save_model(model, tmp_path / "m.npz")
    with pytest.raises(ValueError, match="Unknown activation function: 'myact'"):
        nr.load_model(tmp_path / "m.npz")
    again = nr.load_model(tmp_path / "m.npz", custom_objects={"myact": myact})
    np.testing.assert_array_equal(again(x), y)
    with nr.utils.custom_object_scope({"myact": myact}):
        again = nr.load_model(tmp_path / "m.npz")
    np.testing.assert_array_equal(again(x), y)


def test_saved_files_get_the_usual_mode_and_a_path_is_required(tmp_path):
    model, path = _saved_small_model(tmp_path)
    plain = tmp_path / "plain"
    plain.write_bytes(b"")  # mode from the umask, as numpy.savez's own files
    assert path.stat().st_mode & 0o777 == plain.stat().st_mode & 0o777
    for bad in ("", tmp_path):
        with pytest.raises(ValueError, match="Argument `path` must name a file"):
            nr.save_model(model, bad)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz", "plain"]


def test_save_is_atomic(tmp_path, monkeypatch):
    model, path = _saved_small_model(tmp_path)
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(np, "savez", boom)
    with pytest.raises(KeyboardInterrupt):
        nr.save_model(model, path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["m.npz"]


def test_stateful_streaming_equals_one_call(engine, rng):
    x = rng.standard_normal((2, 12, 3)).astype("float32")
    whole = nr.SimpleRNN(4, return_sequences=True)
    out = whole(x)
    stream = nr.SimpleRNN(4, return_sequences=True, stateful=True)
    stream(x[:, :4])
    stream.set_weights(whole.get_weights())
    stream.reset_states()
    parts = [stream(x[:, i:i + 4]) for i in range(0, 12, 4)]
    np.testing.assert_allclose(np.concatenate(parts, 1), out, rtol=1e-5, atol=1e-6)


def test_stateful_with_initial_state_rule(engine):
    """tf-keras: a given initial_state is used only while the stored states are all zero."""
    layer = nr.SimpleRNN(2, stateful=True, kernel_initializer="ones",
                         recurrent_initializer="zeros")
    x = np.ones((1, 1, 1), "float32")
    h0 = np.full((1, 2), 0.5, "float32")
    p1 = layer(x, initial_state=h0)
    p2 = layer(x, initial_state=h0)
    np.testing.assert_allclose(p1, np.tanh([[1.0, 1.0]]), rtol=1e-6)
    np.testing.assert_allclose(p2, p1)  # recurrent kernel zero: same value, state reused
    # ... and, running from its stored states, the layer ignores the given ones unchecked
    # (tf-keras's cond picks the stored states before it counts the given ones)
    np.testing.assert_allclose(layer(x, initial_state=[h0, h0]), p1)
    np.testing.assert_allclose(layer(x, initial_state=np.zeros((1, 5))), p1)
    layer.reset_states()
    assert not np.count_nonzero(layer.states[0])
    with pytest.raises(ValueError, match="Layer has 1 states but was passed 2 initial"):
        layer(x, initial_state=[h0, h0])  # zero stored states: the given ones count
