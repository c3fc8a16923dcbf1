"""The RNN semantics on every engine against the float64 reference in naive.py."""
import itertools

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st, HealthCheck

import numbarnn as nr
from naive import ACTIVATIONS, activate, rnn_forward
from conftest import cuda_ready, float_warnings_are_errors, run_on, tolerance

# The property test draws the engine too; CUDA joins where it runs (GPU or simulator).
PROPERTY_ENGINES = ["cpu", "cpu-threads", "python"] + (
    ["cuda", "cuda-grid", "cuda-tiled"] if cuda_ready()[0] else [])


def make_cell(units, input_dim, rng, activation="tanh", use_bias=True, residual=False,
              dtype="float64"):
    cell = nr.SimpleRNNCell(units, activation=activation, use_bias=use_bias, dtype=dtype)
    cell.build((None, input_dim))
    ws = [rng.standard_normal((input_dim, units)) * 0.5,
          rng.standard_normal((units, units)) * 0.5]
    if use_bias:
        ws.append(rng.standard_normal(units) * 0.5)
    cell.set_weights(ws)
    ws = [w.astype(np.float64) for w in cell.get_weights()]  # as stored (maybe rounded)
    level = {"kernel": ws[0], "recurrent": ws[1], "bias": ws[2] if use_bias else None,
             "activation": activation, "residual": residual}
    return (nr.ResidualWrapper(cell) if residual else cell), level


def random_mask(rng, batch, steps, kind):
    if kind == "none":
        return None
    if kind == "random":
        return rng.random((batch, steps)) > 0.35
    lengths = rng.integers(0, steps + 1, size=batch)
    if kind == "right":
        return np.arange(steps)[None] < lengths[:, None]
    return np.arange(steps)[None] >= (steps - lengths)[:, None]  # left padding


OPTIONS = list(itertools.product(
    [False, True],                      # go_backwards
    [False, True],                      # zero_output_for_mask
    ["none", "random", "right", "left"],  # mask
))


# Each value of each option once: the matrix of the cooperative kernel variants, whose
# simulation costs seconds per case.
EVERY_VALUE = {(False, False, "none"), (True, True, "random"), (False, True, "right"),
               (True, False, "left")}


@pytest.mark.parametrize("go_backwards,zofm,mask_kind", OPTIONS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_single_cell_matches_reference(engine, rng, go_backwards, zofm, mask_kind, dtype):
    # 5 rows and 9 units: a 4-row vector tile plus a leftover row and column on the CPU
    batch, steps, feat, units = 5, 6, 3, 9
    if engine in ("cuda-grid", "cuda-tiled") and (
            dtype == "float32" or (go_backwards, zofm, mask_kind) not in EVERY_VALUE):
        pytest.skip(f"simulator time: {engine} runs each option value once, in float64 "
                    "(the full matrix runs on 'cuda', whose masking and output code it "
                    "shares; float32 in the tf-keras parity tests)")
    cell, level = make_cell(units, feat, rng, dtype=dtype)
    layer = nr.RNN(cell, return_sequences=True, return_state=True, go_backwards=go_backwards,
                   zero_output_for_mask=zofm, dtype=dtype)
    x = rng.standard_normal((batch, steps, feat))
    mask = random_mask(rng, batch, steps, mask_kind)
    h0 = rng.standard_normal((batch, units))
    seq, state = layer(x, mask=mask, initial_state=[h0])
    ref_seq, ref_last, ref_states = rnn_forward(x, [level], mask, [h0], go_backwards, zofm)
    assert seq.dtype == np.dtype(dtype) and state.dtype == np.dtype(dtype)
    np.testing.assert_allclose(seq, ref_seq, **tolerance(dtype))
    np.testing.assert_allclose(state, ref_states[0], **tolerance(dtype))
    layer.return_sequences = False
    last, _ = layer(x, mask=mask, initial_state=[h0])
    np.testing.assert_allclose(last, ref_last, **tolerance(dtype))


@pytest.mark.parametrize("time_major", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_stack_with_residual_matches_reference(engine, rng, time_major, go_backwards):
    batch, steps, feat = 3, 5, 4
    c0, l0 = make_cell(4, feat, rng, activation="relu")
    c1, l1 = make_cell(4, 4, rng, residual=True)
    c2, l2 = make_cell(2, 4, rng, activation="sigmoid", use_bias=False)
    # a float64 stack: a plain list is wrapped with the float32 default, as in tf-keras
    layer = nr.RNN(nr.StackedRNNCells([c0, c1, c2], dtype="float64"),
                   return_sequences=True, return_state=True, go_backwards=go_backwards,
                   time_major=time_major, dtype="float64")
    x = rng.standard_normal((batch, steps, feat))
    mask = random_mask(rng, batch, steps, "random")
    xin = x.transpose(1, 0, 2) if time_major else x
    min_ = mask.T if time_major else mask
    seq, s0, s1, s2 = layer(xin, mask=min_)
    ref_seq, _, ref_states = rnn_forward(x, [l0, l1, l2], mask, None, go_backwards)
    if time_major:
        ref_seq = ref_seq.transpose(1, 0, 2)
    np.testing.assert_allclose(seq, ref_seq, rtol=1e-10, atol=1e-12)
    for got, want in zip((s0, s1, s2), ref_states):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("activation", ["linear", "relu", "sigmoid", "hard_sigmoid", "elu",
                                        "selu", "softplus", "softsign", "swish", "gelu",
                                        "exponential", "softmax"])
def test_every_activation(engine, rng, activation):
    cell, level = make_cell(3, 2, rng, activation=activation)
    layer = nr.RNN(cell, return_sequences=True, dtype="float64")
    x = rng.standard_normal((2, 4, 2)) * 0.5
    ref_seq, _, _ = rnn_forward(x, [level])
    np.testing.assert_allclose(layer(x), ref_seq, rtol=1e-9, atol=1e-12)


def test_exponential_overflows_to_inf(engine):
    """tf-keras: exp of a pre-activation past the float range is inf, not an error (the
    CUDA simulator runs Python's math.exp, which raises OverflowError there)."""
    layer = nr.SimpleRNN(2, activation="exponential", use_bias=False)
    layer.build((2, 1, 1))
    layer.set_weights([np.array([[1.0, -1.0]], "float32"), np.zeros((2, 2), "float32")])
    out = layer(np.array([[[1000.0]], [[2.0]]], "float32"))
    np.testing.assert_array_equal(out[0], [np.inf, 0.0])
    np.testing.assert_allclose(out[1], [np.exp(2.0), np.exp(-2.0)], rtol=1e-6)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(batch=st.integers(1, 4) | st.integers(5, 9), steps=st.integers(1, 7),
       feat=st.integers(1, 4) | st.integers(5, 20),
       # beyond a vector (4 float64) and a panel (12): the CPU's vector tiles and edges
       units=st.lists(st.integers(1, 5) | st.integers(6, 30), min_size=1, max_size=3),
       go_backwards=st.booleans(), zofm=st.booleans(), return_sequences=st.booleans(),
       mask_kind=st.sampled_from(["none", "random", "right", "left"]),
       with_state=st.booleans(), seed=st.integers(0, 2**31 - 1),
       engine_name=st.sampled_from(PROPERTY_ENGINES))
def test_random_configurations(batch, steps, feat, units, go_backwards, zofm,
                               return_sequences, mask_kind, with_state, seed, engine_name):
    rng = np.random.default_rng(seed)
    cells, levels = [], []
    in_dim = feat
    for u in units:
        c, lv = make_cell(u, in_dim, rng)
        cells.append(c)
        levels.append(lv)
        in_dim = u
    layer = nr.RNN(nr.StackedRNNCells(cells, dtype="float64") if len(cells) > 1 else cells[0],
                   return_sequences=return_sequences,
                   go_backwards=go_backwards, zero_output_for_mask=zofm, dtype="float64")
    x = rng.standard_normal((batch, steps, feat))
    mask = random_mask(rng, batch, steps, mask_kind)
    h0 = [rng.standard_normal((batch, u)) for u in units] if with_state else None
    with run_on(engine_name):
        out = layer(x, mask=mask, initial_state=h0)
    ref_seq, ref_last, _ = rnn_forward(x, levels, mask, h0, go_backwards, zofm)
    np.testing.assert_allclose(out, ref_seq if return_sequences else ref_last,
                               rtol=1e-10, atol=1e-12)


def test_dropout_masks_fixed_within_call_and_new_per_call(engine):
    # Keras test_dropout_mask_reuse: kernel ones, recurrent zeros -> t0 == t1 in a call.
    layer = nr.SimpleRNN(3, dropout=0.5, kernel_initializer="ones",
                         recurrent_initializer="zeros", return_sequences=True, seed=7)
    x = np.ones((6, 2, 4), np.float32)
    a = layer(x, training=True)
    np.testing.assert_array_equal(a[:, 0], a[:, 1])
    b = layer(x, training=True)
    assert not np.array_equal(a, b)
    c = layer(x, training=False)
    np.testing.assert_allclose(c, np.tanh(np.full((6, 2, 3), 4.0)), rtol=1e-6)


def test_dropout_values_match_reference(engine, rng):
    cell, level = make_cell(3, 4, rng)
    cell.dropout = 0.4
    cell.recurrent_dropout = 0.3
    cell.seed = 3
    layer = nr.RNN(cell, return_sequences=True, dtype="float64")
    x = rng.standard_normal((5, 4, 4))
    seq = layer(x, training=True)
    level["in_drop"] = cell._dropout_mask_cache
    level["rec_drop"] = cell._recurrent_dropout_mask_cache
    kept = level["in_drop"][level["in_drop"] > 0]
    np.testing.assert_allclose(kept, 1 / 0.6)
    ref_seq, _, _ = rnn_forward(x, [level])
    np.testing.assert_allclose(seq, ref_seq, rtol=1e-10, atol=1e-12)


def test_nan_stays_in_its_row_and_masked_nan_does_not_leak(engine, rng):
    layer = nr.SimpleRNN(3, return_sequences=True)
    x = rng.standard_normal((3, 4, 2)).astype(np.float32)
    clean = layer(x)
    x_nan = x.copy()
    x_nan[1, 2, 0] = np.nan
    out = layer(x_nan)
    assert np.isnan(out[1, 2:]).all()
    np.testing.assert_array_equal(out[[0, 2]], clean[[0, 2]])
    mask = np.ones((3, 4), bool)
    mask[1, 2] = False
    out = layer(x_nan, mask=mask)
    assert not np.isnan(out).any()


def _tf_keras_unrolled(x, mask, W, R, b, go_backwards, zero_output_for_mask):
    """tf-keras's backend.rnn(unroll=True) for a SimpleRNN, float64, batch-major: a
    masked step carries the previous output, and zero_output_for_mask zeroes the
    processing-order sequence by the mask in *input* order (its bug)."""
    xs, ms = (x[:, ::-1], mask[:, ::-1]) if go_backwards else (x, mask)
    h = prev = np.zeros((x.shape[0], R.shape[0]))
    outs = []
    for k in range(x.shape[1]):
        y = np.tanh(xs[:, k] @ W + h @ R + b)
        m = ms[:, k, None]
        prev = np.where(m, y, prev)
        h = np.where(m, y, h)
        outs.append(prev)
    seq = np.stack(outs, 1)
    return np.where(mask[..., None], seq, 0.0) if zero_output_for_mask else seq


@pytest.mark.parametrize("time_major", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_unrolled_zero_output_follows_tf_keras_unrolled_loop(engine, rng, go_backwards,
                                                             time_major):
    if engine.startswith("cuda") and (time_major or not go_backwards):
        pytest.skip("simulator time: the unrolled loop's zeroing runs after any engine; "
                    "the CUDA kernels run the backwards batch-major case")
    x = rng.standard_normal((3, 6, 2))
    mask = rng.random((3, 6)) > 0.4
    mask[0, -1] = mask[1, 0] = False
    layer = nr.SimpleRNN(4, return_sequences=True, go_backwards=go_backwards, unroll=True,
                         zero_output_for_mask=True, time_major=time_major,
                         dtype="float64")
    layer.build((None, None, 2))
    want = _tf_keras_unrolled(x, mask, *layer.get_weights(), go_backwards, True)
    if time_major:
        got = np.swapaxes(layer(np.swapaxes(x, 0, 1), mask=mask.T), 0, 1)
    else:
        got = layer(x, mask=mask)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    # the loop path (unroll=False) zeroes each masked step: the same forwards only
    loop = nr.SimpleRNN(4, return_sequences=True, go_backwards=go_backwards,
                        zero_output_for_mask=True, dtype="float64",
                        weights=layer.get_weights())
    same = np.allclose(loop(x, mask=mask), want, rtol=1e-10, atol=1e-12)
    assert same == (not go_backwards)


@pytest.mark.parametrize("units", [1, 3])
def test_nan_times_a_zero_weight_is_nan(engine, units):
    """IEEE (and tf's matmul): NaN * 0 is NaN, also in a product of one unit, where
    numpy's np.dot gives 0 (the generic engine's cell once did)."""
    layer = nr.SimpleRNN(units, return_sequences=True)
    layer.build((None, None, 1))
    layer.set_weights([np.ones((1, units)), np.zeros((units, units)), np.zeros(units)])
    x = np.array([[[np.nan], [1.0]], [[np.nan], [1.0]]], np.float32)
    assert np.isnan(layer(x)).all()


def test_inputs_are_not_modified(engine, rng):
    layer = nr.SimpleRNN(3, return_sequences=True, return_state=True, go_backwards=True)
    x = rng.standard_normal((2, 5, 3)).astype(np.float32)
    mask = rng.random((2, 5)) > 0.3
    h0 = rng.standard_normal((2, 3)).astype(np.float32)
    copies = [a.copy() for a in (x, mask, h0)]
    layer(x, mask=mask, initial_state=[h0])
    for a, c in zip((x, mask, h0), copies):
        np.testing.assert_array_equal(a, c)


def test_nested_residual_wrappers_add_the_input_each_time(engine, rng):
    """tf-keras: ResidualWrapper(ResidualWrapper(cell)) outputs ``2 x + h`` (the state
    stays the cell's); one level of the fused kernels adds its input once."""
    single, level = make_cell(3, 3, rng)
    layer = nr.RNN(single, return_sequences=True, return_state=True, dtype="float64")
    double = nr.RNN(nr.ResidualWrapper(nr.ResidualWrapper(single)), return_sequences=True,
                    return_state=True, dtype="float64")
    x = rng.standard_normal((2, 4, 3))
    seq, state = double(x)
    ref_seq, _, ref_states = rnn_forward(x, [level])
    plain_seq, plain_state = layer(x)
    np.testing.assert_allclose(plain_seq, ref_seq, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(plain_state, ref_states[0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(seq, ref_seq + 2 * x, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(state, ref_states[0], rtol=1e-10, atol=1e-12)
    seq1, _ = nr.RNN(nr.ResidualWrapper(single), return_sequences=True, return_state=True,
                     dtype="float64")(x)
    np.testing.assert_allclose(seq1, ref_seq + x, rtol=1e-10, atol=1e-12)


def test_overflow_and_infinities_are_silent_and_stay_in_their_rows(engine, rng):
    """inf * 0, inf - inf and overflow in the products, a residual sum and a stacked
    level give NaN or inf in the rows that hold them and warn on no engine (tf ops are
    silent; numpy warns unless told not to)."""
    first, level1 = make_cell(3, 3, rng, activation="relu", residual=True)
    second, level2 = make_cell(2, 3, rng, activation="elu")
    x = rng.standard_normal((4, 3, 3))
    x[0, 1] = [np.inf, -np.inf, 0.0]
    x[2, 0] = 1e308  # the products overflow
    x[3, 2] = np.nan
    with float_warnings_are_errors(engine):
        seq = nr.RNN(nr.StackedRNNCells([first, second], dtype="float64"),
                     return_sequences=True, dtype="float64")(x)
    with np.errstate(all="ignore"):
        want, _, _ = rnn_forward(x, [level1, level2])
    np.testing.assert_allclose(seq, want, rtol=1e-10, atol=1e-12)  # NaN, inf included
    assert np.isnan(seq[0]).any() and np.isnan(seq[3]).any() and np.isfinite(seq[1]).all()


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS) + ["softmax"])
def test_non_finite_values_follow_tf(engine, activation):
    """NaN and infinities through each activation as tf computes them: tf.nn.relu keeps
    NaN and maps -inf to 0; clip (hard_sigmoid) keeps NaN; x * sigmoid(x) at -inf is
    NaN. One feature and unit per row, so no inf * 0 mixes rows' values. Silently, as
    tf does: numpy's floating-point warnings are errors here."""
    cell = nr.SimpleRNNCell(1, activation=activation, dtype="float64")
    cell.build((None, 1))
    cell.set_weights([np.ones((1, 1)), np.zeros((1, 1)), np.zeros(1)])
    x = np.array([np.nan, -np.inf, np.inf, -3.0, 0.0, 2.5]).reshape(6, 1, 1)
    with float_warnings_are_errors(engine):
        got = nr.RNN(cell, dtype="float64")(x)
    with np.errstate(all="ignore"):
        want = np.array([activate(activation, np.array([v]))[0] for v in x.ravel()])
    np.testing.assert_array_equal(np.isnan(got.ravel()), np.isnan(want))
    np.testing.assert_allclose(got.ravel(), want, rtol=1e-12, atol=0)


@pytest.mark.parametrize("dtype", ["int64", "bool"])
def test_dropout_on_integer_step_inputs_keeps_its_scale(dtype):
    # A cell called directly on integer (or bool) inputs and states: the masks are
    # floating, so kept entries are scaled by 1/(1-rate), not rounded down to 1.
    cell = nr.SimpleRNNCell(2, dropout=0.3, recurrent_dropout=0.3, activation="linear",
                            kernel_initializer="ones", recurrent_initializer="identity",
                            seed=0)
    x = np.ones((400, 1), dtype)
    h = np.ones((400, 2), dtype)
    out, [state] = cell(x, [h], training=True)
    assert out.dtype == np.float32
    in_mask = cell._dropout_mask_cache
    rec_mask = cell._recurrent_dropout_mask_cache
    np.testing.assert_allclose(np.unique(in_mask), [0.0, 1 / 0.7], rtol=1e-6)
    np.testing.assert_allclose(np.unique(rec_mask), [0.0, 1 / 0.7], rtol=1e-6)
    np.testing.assert_allclose(out, in_mask[:, :1] + rec_mask, rtol=1e-6)
    np.testing.assert_array_equal(state, out)
