"""``numbarnn.backend.rnn`` against tf-keras ``keras.backend.rnn`` on what it accepts:
nested initial states, dict inputs, and the shapes of ``mask``.

Expectations are float64 numpy loops written from the tf-keras rules (a masked step
holds every state and repeats the previous output, or outputs zeros with
``zero_output_for_mask``), or small hand-computed values. tf-keras's own results for
the same cases agree (checked outside CI, which has no TensorFlow).
"""
import re

import numpy as np
import pytest

import numbarnn as nr

B, T, D, U = 2, 3, 2, 3


@pytest.fixture
def weights():
    rng = np.random.default_rng(7)
    return (rng.standard_normal((D, U)), rng.standard_normal((U, U)),
            rng.standard_normal((B, U)), rng.standard_normal((B, 1)))


def reference(step, xs, states, mask, go_backwards=False, zero_output_for_mask=False):
    """tf-keras ``backend.rnn`` on flat float64 states: ``step(x_t, states) -> (outputs,
    states)``, ``xs`` a list of ``(B, T, ...)`` arrays, outputs a list. Returns
    ``(per-step outputs [T, B, ...] each, final states)`` in processing order."""
    order = range(T - 1, -1, -1) if go_backwards else range(T)
    prev, collected = None, []
    for t in order:
        outs, new = step([x[:, t] for x in xs], states)
        if prev is None:
            prev = [np.zeros_like(o) for o in outs]
        m = mask[:, t][:, None]
        states = [np.where(m, n, s) for n, s in zip(new, states)]
        outs = [np.where(m, o, 0.0 if zero_output_for_mask else p)
                for o, p in zip(outs, prev)]
        prev = outs
        collected.append(outs)
    return [np.stack(o, axis=1) for o in zip(*collected)], states


@pytest.mark.parametrize("kwargs", [{}, {"mask": True},
                                    {"mask": True, "go_backwards": True,
                                     "zero_output_for_mask": True}])
def test_nested_initial_states_reach_the_step_and_come_back_nested(weights, kwargs):
    # tf-keras: `[[h0, c0]]` is one nested state; the step unpacks `h, c = states[0]`
    # and returns `[[h, c]]`. The old loop made an array of each state (and failed).
    W, R, h0, c0 = weights
    rng = np.random.default_rng(3)
    x1, x2 = rng.standard_normal((B, T, D)), rng.standard_normal((B, T, 1))
    mask = np.array([[1, 0, 1], [0, 1, 1]], bool)
    kwargs = dict(kwargs, mask=mask) if "mask" in kwargs else kwargs
    seen = []

    def step(x_t, states):
        seen.append(states)
        (a, b), (h, c) = x_t, states[0]
        h2 = np.tanh(a @ W + h @ R)
        return (h2, c + b), [[h2, c + b]]

    h0_before, c0_before = h0.copy(), c0.copy()
    last, outputs, states = nr.backend.rnn(step, (x1, x2), [[h0, c0]], **kwargs)

    def flat_step(xs, flat):
        out, new = step(xs, (flat,))
        return list(out), new[0]
    want_outs, want_states = reference(
        flat_step, [x1, x2], [h0, c0], kwargs.get("mask", np.ones((B, T), bool)),
        kwargs.get("go_backwards", False), kwargs.get("zero_output_for_mask", False))
    # tf-keras hands the step tuple(states) + tuple(constants): a tuple of the nests
    assert all(isinstance(s, tuple) and len(s) == 1 and isinstance(s[0], list)
               for s in seen)
    # the final states: a tuple, as tf-keras's while loop returns them, of the nests
    assert isinstance(states, tuple) and len(states) == 1
    assert isinstance(states[0], list) and len(states[0]) == 2
    np.testing.assert_allclose(states[0][0], want_states[0], rtol=1e-12)
    np.testing.assert_allclose(states[0][1], want_states[1], rtol=1e-12)
    assert isinstance(outputs, tuple) and isinstance(last, tuple)
    for got, want in zip(outputs, want_outs):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    for got, want in zip(last, want_outs):
        np.testing.assert_allclose(got, want[:, -1], rtol=1e-12)
    np.testing.assert_array_equal(h0, h0_before)  # the caller's arrays are not updated
    np.testing.assert_array_equal(c0, c0_before)


def test_mixed_nested_and_flat_states_keep_their_structure():
    # Tuples nest too, beside plain array states; constants still follow the states.
    x = np.ones((B, T, 1))
    h0, c0, k0 = np.zeros((B, 1)), np.full((B, 2), 10.0), np.zeros((B, 1))
    const = np.full((B, 1), 0.5)

    def step(x_t, states):
        (h, c), k, bias = states
        assert isinstance(states[0], tuple)
        return h + x_t, [(h + x_t, c - 1), k + bias]

    last, outputs, states = nr.backend.rnn(step, x, [(h0, c0), k0], constants=[const])
    np.testing.assert_array_equal(outputs[..., 0], [[1, 2, 3]] * B)  # hand-computed
    assert isinstance(states, tuple) and isinstance(states[0], tuple)
    np.testing.assert_array_equal(states[0][0], np.full((B, 1), 3.0))
    np.testing.assert_array_equal(states[0][1], np.full((B, 2), 7.0))
    np.testing.assert_array_equal(states[1], np.full((B, 1), 1.5))


def test_final_states_are_a_tuple_but_after_an_unmasked_unrolled_loop():
    """tf-keras 2.21: the while loop, and the unrolled loop with a mask, return the
    states as a tuple; the unrolled loop without one, as the step gave them."""
    x = np.ones((B, T, 1))

    def step(x_t, states):
        return states[0] + x_t, [states[0] + x_t]

    mask = np.ones((B, T), bool)
    for unroll, with_mask, kind in ((False, False, tuple), (False, True, tuple),
                                    (True, True, tuple), (True, False, list)):
        states = nr.backend.rnn(step, x, [np.zeros((B, 1))], unroll=unroll,
                                mask=mask if with_mask else None)[2]
        assert type(states) is kind
        np.testing.assert_array_equal(states[0], np.full((B, 1), float(T)))


@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("zero_output_for_mask", [False, True])
def test_input_length_masks_each_row_after_its_length(go_backwards, zero_output_for_mask):
    """Per-row lengths without a mask, as tf-keras's while loop reads a lengths tensor
    (with go_backwards, tf-keras's formula: processing step k runs where k > max - 1 -
    length); an int length is unused, and unroll ignores them, as there."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 5, 2))
    lengths = np.array([4, 2, 1])
    weights = rng.standard_normal((2, 3))

    def step(x_t, states):
        h = np.tanh(x_t @ weights + 0.5 * states[0])
        return h, [h]

    if go_backwards:
        keep = np.arange(5)[None, :] > (lengths.max() - 1 - lengths)[:, None]
        mask = keep[:, ::-1]  # processing step k reads input step 4 - k
    else:
        mask = np.arange(5)[None, :] < lengths[:, None]
    kwargs = dict(go_backwards=go_backwards, zero_output_for_mask=zero_output_for_mask)
    h0 = [np.zeros((3, 3))]
    got = nr.backend.rnn(step, x, h0, input_length=lengths, **kwargs)
    want = nr.backend.rnn(step, x, h0, mask=mask, **kwargs)
    for a, b in zip(got[:2] + (got[2][0],), want[:2] + (want[2][0],)):
        np.testing.assert_array_equal(a, b)
    plain = nr.backend.rnn(step, x, h0, **kwargs)
    for ignored in (dict(input_length=5), dict(input_length=lengths, unroll=True)):
        np.testing.assert_array_equal(nr.backend.rnn(step, x, h0, **kwargs, **ignored)[1],
                                      plain[1])
    assert not np.array_equal(got[1], plain[1])
    with pytest.raises(ValueError, match="one length per row"):
        nr.backend.rnn(step, x, h0, input_length=np.array([1, 2]))


def test_input_length_steps_counted_as_tf_keras_counts_them():
    """The steps each row runs, as tf-keras 2.21 gave them for lengths [4, 2, 1] over 5
    steps: 4, 2, 1 forwards; 5, 3, 2 backwards (its formula counts from the longest)."""
    def count(x_t, states):
        return states[0] + 1.0, [states[0] + 1.0]

    for go_backwards, steps in ((False, [4, 2, 1]), (True, [5, 3, 2])):
        final = nr.backend.rnn(count, np.zeros((3, 5, 1)), [np.zeros((3, 1))],
                               go_backwards=go_backwards, input_length=[4, 2, 1])[2][0]
        np.testing.assert_array_equal(final.ravel(), steps)


def test_dict_inputs_are_nests_in_sorted_key_order(weights):
    # tf.nest treats dicts as nests: the step gets a dict per step (the old loop read
    # the dict as one array of rank 0). A dict output is stacked leaf by leaf.
    W, R, h0, _ = weights
    rng = np.random.default_rng(5)
    xa, xb = rng.standard_normal((B, T, D)), rng.standard_normal((B, T, 1))
    mask = np.array([[1, 1, 0], [0, 1, 1]], bool)

    def step(x_t, states):
        assert list(x_t) == ["b", "a"]  # the caller's key order
        h = np.tanh(x_t["a"] @ W + states[0] @ R) + x_t["b"]
        return {"z": h, "y": 2 * h}, [h]

    last, outputs, states = nr.backend.rnn(step, {"b": xb, "a": xa}, [h0], mask=mask)

    def flat_step(xs, flat):  # xs in sorted-key order: a, b
        out, new = step({"b": xs[1], "a": xs[0]}, flat)
        return [out["y"], out["z"]], new
    (want_y, want_z), want_states = reference(flat_step, [xa, xb], [h0], mask)
    assert list(outputs) == ["z", "y"] and list(last) == ["z", "y"]
    np.testing.assert_allclose(outputs["z"], want_z, rtol=1e-12)
    np.testing.assert_allclose(outputs["y"], want_y, rtol=1e-12)
    np.testing.assert_allclose(last["z"], want_z[:, -1], rtol=1e-12)
    np.testing.assert_allclose(states[0], want_states[0], rtol=1e-12)


def count_step(x_t, states):
    h = states[0] + x_t
    return h, [h]


@pytest.mark.parametrize("time_major", [False, True])
@pytest.mark.parametrize("batch", [B, 1], ids=["batch", "broadcast-batch"])
def test_mask_with_a_trailing_axis_of_one_is_the_2d_mask(time_major, batch):
    # tf-keras's docstring gives the mask as (batch, time, 1) and tf-keras treats it as
    # (batch, time); a batch of 1 broadcasts, as tf.where does. The old loop took the
    # trailing axis for the batch.
    mask = np.array([[1, 0, 1], [1, 1, 0]], bool)[:batch]
    x = np.ones((B, T, 1))
    x, mask3 = ((np.swapaxes(x, 0, 1), mask.T[..., None]) if time_major
                else (x, mask[..., None]))
    last, outputs, states = nr.backend.rnn(count_step, x, [np.zeros((B, 1))],
                                           mask=mask3, time_major=time_major)
    if time_major:
        outputs = np.swapaxes(outputs, 0, 1)
    want = [[1, 1, 2], [1, 2, 2]][:batch] * (B // batch)  # hand-computed
    np.testing.assert_array_equal(outputs[..., 0], want)
    np.testing.assert_array_equal(states[0][:, 0], np.asarray(want)[:, -1])


@pytest.mark.parametrize("shape", [(B, T + 1), (B, T - 1), (B, T + 1, 1), (B, T, 2),
                                   (B + 1, T), (B,), (B, T, 1, 1)])
def test_mask_of_another_shape_is_a_clear_error(shape):
    # A longer mask was silently cut to the first T steps, a shorter one failed with an
    # IndexError, others with errors about the outputs; tf-keras raises for all of them.
    x = np.ones((B, T, 1))
    with pytest.raises(ValueError, match=(
            rf"`mask` must have shape \({B}, {T}\) \(batch, timesteps\).*"
            rf"Received: mask.shape={re_shape(shape)}")):
        nr.backend.rnn(count_step, x, [np.zeros((B, 1))], mask=np.ones(shape, bool))


def test_time_major_mask_error_names_the_time_major_shape():
    x = np.ones((T, B, 1))
    with pytest.raises(ValueError, match=(
            rf"`mask` must have shape \({T}, {B}\) \(timesteps, batch\).*"
            rf"Received: mask.shape=\({B}, {T}\)")):
        nr.backend.rnn(count_step, x, [np.zeros((B, 1))], mask=np.ones((B, T), bool),
                       time_major=True)


def re_shape(shape):
    return "\\" + str(tuple(shape)).replace(")", "\\)")


@pytest.mark.parametrize("time_major", [False, True])
def test_inputs_without_a_timestep_are_a_clear_error(time_major):
    # tf-keras runs the step on timestep 0 before its loop and fails on none; this
    # returned last_output=None and (B, 0) float64 outputs.
    x = np.ones((0, B, 1)) if time_major else np.ones((B, 0, 1))
    with pytest.raises(ValueError, match=re.escape(
            "Argument `inputs` must have at least one timestep. Received: "
            f"inputs.shape={x.shape}")):
        nr.backend.rnn(count_step, x, [np.zeros((B, 1))], time_major=time_major)
    last, outputs, [state] = nr.backend.rnn(count_step, np.ones((B, 1, 1)),
                                            [np.zeros((B, 1))])
    assert last.shape == (B, 1) and outputs.shape == (B, 1, 1) and state.shape == (B, 1)
