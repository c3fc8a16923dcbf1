"""Nested (tuple / namedtuple) inputs and nested outputs of ``RNN`` (tf-keras
``test_nested_input_output*``), checked against a float64 numpy reference loop."""
import collections

import numpy as np
import pytest

import numbarnn as nr
from numbarnn.layers import TensorShape

NestedInput = collections.namedtuple("NestedInput", ["t1", "t2"])
NestedState = collections.namedtuple("NestedState", ["s1", "s2"])

B, T = 4, 5
I1, I2, I3 = 3, 4, 5
O1, O2, O3 = 2, 3, 4


class NestedCell(nr.Layer):
    """The tf-keras test cell, with recurrent kernels and a tanh so that the state
    feeds back: inputs ``([B, i1], [B, i2, i3])``, states/outputs ``([B, o1],
    [B, o2, o3])``. Records the structure it receives at each step."""

    def __init__(self, unit_1, unit_2, unit_3, use_tuple=False, tuple_output=False,
                 **kwargs):
        super().__init__(**kwargs)
        self.unit_1, self.unit_2, self.unit_3 = unit_1, unit_2, unit_3
        self.use_tuple = use_tuple
        self.tuple_output = tuple_output
        if use_tuple:
            self.state_size = NestedState(s1=unit_1, s2=TensorShape([unit_2, unit_3]))
        else:
            self.state_size = (TensorShape([unit_1]), TensorShape([unit_2, unit_3]))
        self.output_size = (TensorShape([unit_1]), TensorShape([unit_2, unit_3]))
        self.seen = []

    def build(self, inputs_shape):
        if self.use_tuple:
            input_1 = inputs_shape.t1[1]
            input_2, input_3 = inputs_shape.t2[1:]
        else:
            input_1 = inputs_shape[0][1]
            input_2, input_3 = inputs_shape[1][1:]
        self.build_shape = inputs_shape
        u1, u2, u3 = self.unit_1, self.unit_2, self.unit_3
        self.kernel_1 = self.add_weight("kernel_1", (input_1, u1), initializer="uniform")
        self.kernel_2 = self.add_weight("kernel_2", (input_2, input_3, u2, u3),
                                        initializer="uniform")
        self.recurrent_kernel_1 = self.add_weight("recurrent_kernel_1", (u1, u1),
                                                  initializer="uniform")
        self.recurrent_kernel_2 = self.add_weight("recurrent_kernel_2", (u2, u3, u2, u3),
                                                  initializer="uniform")

    def call(self, inputs, states):
        self.seen.append((type(inputs), [np.shape(x) for x in inputs]))
        x1, x2 = inputs
        s1, s2 = states
        weights = [w.numpy() for w in (self.kernel_1, self.kernel_2,
                                       self.recurrent_kernel_1, self.recurrent_kernel_2)]
        output_1, output_2 = nested_step(x1, x2, s1, s2, *weights)
        output = (output_1, output_2) if self.tuple_output else [output_1, output_2]
        return output, NestedState(s1=output_1, s2=output_2)


def nested_step(x1, x2, s1, s2, k1, k2, r1, r2):
    """One step of :class:`NestedCell`: ``(output_1, output_2)``, also the new states."""
    output_1 = np.tanh(x1 @ k1 + s1 @ r1)
    output_2 = np.tanh(np.einsum("bij,ijkl->bkl", x2, k2)
                       + np.einsum("bij,ijkl->bkl", s2, r2))
    return output_1, output_2


def reference(cell, x1, x2, mask=None, initial=None, go_backwards=False,
              zero_output_for_mask=False):
    """tf-keras ``backend.rnn`` for :class:`NestedCell`, batch-major, in float64.

    Returns ``(sequence_1, sequence_2, state_1, state_2)``; the sequences are in
    processing order.
    """
    weights = [w.numpy().astype(np.float64) for w in cell.weights]
    x1, x2 = np.asarray(x1, np.float64), np.asarray(x2, np.float64)
    batch, steps = x1.shape[:2]
    s1, s2 = ((np.zeros((batch, O1)), np.zeros((batch, O2, O3))) if initial is None
              else [np.asarray(s, np.float64) for s in initial])
    prev = [np.zeros((batch, O1)), np.zeros((batch, O2, O3))]
    seq_1, seq_2 = [], []
    for t in (range(steps - 1, -1, -1) if go_backwards else range(steps)):
        out = nested_step(x1[:, t], x2[:, t], s1, s2, *weights)
        new = out
        if mask is not None:
            m1 = mask[:, t, None]
            m2 = mask[:, t, None, None]
            fill = ([np.zeros_like(o) for o in out] if zero_output_for_mask else prev)
            out = (np.where(m1, out[0], fill[0]), np.where(m2, out[1], fill[1]))
            new = (np.where(m1, new[0], s1), np.where(m2, new[1], s2))
        s1, s2 = new
        prev = list(out)
        seq_1.append(out[0])
        seq_2.append(out[1])
    return np.stack(seq_1, 1), np.stack(seq_2, 1), s1, s2


def make_inputs(rng, batch=B, steps=T, dtype="float32"):
    return (rng.standard_normal((batch, steps, I1)).astype(dtype),
            rng.standard_normal((batch, steps, I2, I3)).astype(dtype))


TOL = {"rtol": 2e-5, "atol": 2e-5}


@pytest.mark.parametrize("stateful", [False, True])
@pytest.mark.parametrize("use_tuple", [False, True])
def test_nested_input_output(rng, stateful, use_tuple):
    x1, x2 = make_inputs(rng)
    cell = NestedCell(O1, O2, O3, use_tuple=use_tuple)
    layer = nr.RNN(cell, stateful=stateful)
    inputs = NestedInput(t1=x1, t2=x2) if use_tuple else (x1, x2)
    outputs = layer(inputs)
    assert isinstance(outputs, list) and len(outputs) == 2
    assert outputs[0].shape == (B, O1)
    assert outputs[1].shape == (B, O2, O3)
    assert outputs[0].dtype == np.float32 and outputs[1].dtype == np.float32
    # the cell is built with the step shapes, in the input's structure
    assert cell.build_shape == (NestedInput((B, I1), (B, I2, I3)) if use_tuple
                                else ((B, I1), (B, I2, I3)))
    assert type(cell.build_shape) is (NestedInput if use_tuple else tuple)
    # one InputSpec per flattened input
    batch = B if stateful else None
    assert [spec.shape for spec in layer.input_spec] == [(batch, None, I1),
                                                          (batch, None, I2, I3)]
    seq_1, seq_2, _, _ = reference(cell, x1, x2)
    np.testing.assert_allclose(outputs[0], seq_1[:, -1], **TOL)
    np.testing.assert_allclose(outputs[1], seq_2[:, -1], **TOL)
    shapes = ((batch, T, I1), (batch, T, I2, I3))
    assert layer.compute_output_shape(NestedInput(*shapes) if use_tuple else shapes) == [
        (batch, O1), (batch, O2, O3)]


@pytest.mark.parametrize("use_tuple", [False, True])
def test_cell_receives_the_input_structure(rng, use_tuple):
    x1, x2 = make_inputs(rng)
    cell = NestedCell(O1, O2, O3, use_tuple=use_tuple)
    nr.RNN(cell)(NestedInput(x1, x2) if use_tuple else (x1, x2))
    assert len(cell.seen) == T + 1  # (tf-keras's extra first-step call, as there)
    expected_type = NestedInput if use_tuple else tuple
    for kind, shapes in cell.seen:
        assert kind is expected_type
        assert shapes == [(B, I1), (B, I2, I3)]


@pytest.mark.parametrize("use_tuple", [False, True])
def test_nested_input_output_with_state(rng, use_tuple):
    x1, x2 = make_inputs(rng)
    cell = NestedCell(O1, O2, O3, use_tuple=use_tuple)
    layer = nr.RNN(cell, return_sequences=True, return_state=True)
    output1, output2, s1, s2 = layer(NestedInput(x1, x2) if use_tuple else (x1, x2))
    assert output1.shape == (B, T, O1)
    assert output2.shape == (B, T, O2, O3)
    assert s1.shape == (B, O1)
    assert s2.shape == (B, O2, O3)
    seq_1, seq_2, r1, r2 = reference(cell, x1, x2)
    for got, want in zip((output1, output2, s1, s2), (seq_1, seq_2, r1, r2)):
        np.testing.assert_allclose(got, want, **TOL)
    assert layer.compute_output_shape(((None, T, I1), (None, T, I2, I3))) == [
        (None, T, O1), (None, T, O2, O3), (None, O1), (None, O2, O3)]


@pytest.mark.parametrize("form", ["tuple", "namedtuple", "list"])
def test_nest_input_output_with_init_state(rng, form):
    x1, x2 = make_inputs(rng)
    init_s1 = rng.standard_normal((B, O1)).astype("float32")
    init_s2 = rng.standard_normal((B, O2, O3)).astype("float32")
    cell = NestedCell(O1, O2, O3, use_tuple=form == "namedtuple")
    layer = nr.RNN(cell, return_sequences=True, return_state=True)
    if form == "list":  # [inputs, *initial_states]
        outputs = layer([(x1, x2), init_s1, init_s2])
    elif form == "namedtuple":
        outputs = layer(NestedInput(x1, x2),
                        initial_state=NestedState(s1=init_s1, s2=init_s2))
    else:
        outputs = layer((x1, x2), initial_state=(init_s1, init_s2))
    assert [o.shape for o in outputs] == [(B, T, O1), (B, T, O2, O3), (B, O1),
                                          (B, O2, O3)]
    want = reference(cell, x1, x2, initial=(init_s1, init_s2))
    for got, ref in zip(outputs, want):
        np.testing.assert_allclose(got, ref, **TOL)


@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("zero_output_for_mask", [False, True])
@pytest.mark.parametrize("time_major", [False, True])
def test_masking_per_leaf(rng, go_backwards, zero_output_for_mask, time_major):
    x1, x2 = make_inputs(rng)
    mask = rng.random((B, T)) > 0.4
    mask[0] = False  # a fully masked row
    mask[1, 0] = False  # first step masked
    mask[2, -1] = False  # last step masked
    cell = NestedCell(O1, O2, O3)
    layer = nr.RNN(cell, return_sequences=True, return_state=True,
                   go_backwards=go_backwards, zero_output_for_mask=zero_output_for_mask,
                   time_major=time_major)
    if time_major:
        inputs = (np.swapaxes(x1, 0, 1), np.swapaxes(x2, 0, 1))
        out1, out2, s1, s2 = layer(inputs, mask=mask.T)
        out1, out2 = np.swapaxes(out1, 0, 1), np.swapaxes(out2, 0, 1)
    else:
        out1, out2, s1, s2 = layer((x1, x2), mask=mask)
    want = reference(cell, x1, x2, mask=mask, go_backwards=go_backwards,
                     zero_output_for_mask=zero_output_for_mask)
    for got, ref in zip((out1, out2, s1, s2), want):
        np.testing.assert_allclose(got, ref, **TOL)
    np.testing.assert_array_equal(out1[0], 0)  # fully masked row: zeros ...
    np.testing.assert_array_equal(s2[0], 0)  # ... and the initial (zero) state


def test_stateful_carries_nested_states(rng):
    x1, x2 = make_inputs(rng)
    cell = NestedCell(O1, O2, O3, use_tuple=True)
    layer = nr.RNN(cell, stateful=True, return_state=True)
    first = layer(NestedInput(x1[:, :2], x2[:, :2]))
    second = layer(NestedInput(x1[:, 2:], x2[:, 2:]))
    _, _, r1, r2 = reference(cell, x1, x2)
    np.testing.assert_allclose(second[2], r1, **TOL)
    np.testing.assert_allclose(second[3], r2, **TOL)
    assert [s.shape for s in layer.states] == [(B, O1), (B, O2, O3)]
    layer.reset_states()
    again = layer(NestedInput(x1[:, :2], x2[:, :2]))
    for a, b in zip(first, again):
        np.testing.assert_allclose(a, b, **TOL)
    with pytest.raises(ValueError, match="expected shape"):
        layer(NestedInput(x1[:3], x2[:3]))


def test_engines_agree(rng, engine):
    """Nested inputs always take the Python loop, whatever the engine."""
    x1, x2 = make_inputs(rng)
    cell = NestedCell(O1, O2, O3)
    out1, out2 = nr.RNN(cell, return_sequences=True)((x1, x2))
    seq_1, seq_2, _, _ = reference(cell, x1, x2)
    np.testing.assert_allclose(out1, seq_1, **TOL)
    np.testing.assert_allclose(out2, seq_2, **TOL)


def test_tuple_output_is_kept_as_one_item(rng):
    """A tuple step output stays a tuple; with ``return_state`` it is one list item,
    as tf-keras ``to_list(output) + states`` gives."""
    x1, x2 = make_inputs(rng)
    cell = NestedCell(O1, O2, O3, tuple_output=True)
    out = nr.RNN(cell)((x1, x2))
    assert isinstance(out, tuple) and [o.shape for o in out] == [(B, O1), (B, O2, O3)]
    out, s1, s2 = nr.RNN(cell, return_state=True)((x1, x2))
    assert isinstance(out, tuple) and s1.shape == (B, O1) and s2.shape == (B, O2, O3)


def test_dtype_follows_the_layer(rng):
    x1, x2 = make_inputs(rng)
    cell = NestedCell(O1, O2, O3, dtype="float64")
    out1, out2 = nr.RNN(cell, dtype="float64")((x1, x2))
    assert out1.dtype == np.float64 and out2.dtype == np.float64
    seq_1, seq_2, _, _ = reference(cell, x1, x2)
    np.testing.assert_allclose(out1, seq_1[:, -1], rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(out2, seq_2[:, -1], rtol=1e-10, atol=1e-10)


def test_every_input_needs_rank_3(rng):
    x1, x2 = make_inputs(rng)
    with pytest.raises(ValueError, match=r'Input 1 of layer "rnn" .*expected ndim>=3'):
        nr.RNN(NestedCell(O1, O2, O3), name="rnn")((x1, x2[:, 0, 0]))
    layer = nr.RNN(NestedCell(O1, O2, O3))
    layer((x1, x2))
    with pytest.raises(ValueError, match="expected shape"):
        layer((x1, x2[:, :, :, :2]))


def test_inputs_must_share_batch_and_time(rng):
    x1, x2 = make_inputs(rng)
    layer = nr.RNN(NestedCell(O1, O2, O3))
    with pytest.raises(ValueError, match="share the batch and time axes"):
        layer((x1, x2[:, :3]))
    with pytest.raises(ValueError, match="share the batch and time axes"):
        layer((x1, x2[:2]))


def test_plain_input_with_nested_output(rng):
    """A cell may return a nested output for a plain input: the Python loop stacks
    every leaf."""

    class TwoOutputs(nr.Layer):
        state_size = 3
        output_size = (3, 3)

        def call(self, inputs, states):
            h = states[0] + inputs
            return [h, 2 * h], [h]

    x = rng.standard_normal((2, 4, 3)).astype("float32")
    seq, doubled, state = nr.RNN(TwoOutputs(), return_sequences=True,
                                 return_state=True)(x)
    np.testing.assert_allclose(seq, np.cumsum(x, axis=1), rtol=1e-5)
    np.testing.assert_allclose(doubled, 2 * seq, rtol=1e-5)
    np.testing.assert_allclose(state, seq[:, -1], rtol=1e-5)


def test_backend_rnn_nested(rng):
    """``numbarnn.backend.rnn`` maps over nested inputs and outputs."""
    x1, x2 = make_inputs(rng)
    mask = rng.random((B, T)) > 0.3

    def step(x_t, states):
        a, b = x_t
        h = states[0] + a.sum(-1, keepdims=True) + b.sum((-2, -1))[:, None]
        return NestedState(h, -h), [h]

    last, outputs, states = nr.backend.rnn(step, NestedInput(x1, x2), [np.zeros((B, 1))],
                                           mask=mask)
    assert isinstance(last, NestedState) and isinstance(outputs, NestedState)
    assert outputs.s1.shape == (B, T, 1)
    increments = np.where(mask, x1.sum(-1) + x2.sum((-2, -1)), 0)
    want = np.cumsum(increments, axis=1)[..., None]
    # a masked step repeats the previous output (zero before the first valid step)
    np.testing.assert_allclose(outputs.s1, want, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(outputs.s2, -want, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(last.s1, want[:, -1], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(states[0], want[:, -1], rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="rank >= 3"):
        nr.backend.rnn(step, (x1, x2[:, :, 0, 0]), [np.zeros((B, 1))])


def test_a_stack_of_nested_cells_builds_each_on_the_outputs_before_it(rng):
    """tf-keras ``test_stacked_rnn_with_nested_cell``: the second cell is built with the
    first's nested output shapes, with the batch of the input (it got ``((B, O1), 2)``)."""
    first, second = NestedCell(O1, O2, O3), NestedCell(5, 2, 3)
    layer = nr.RNN([first, second], return_sequences=True, return_state=True)
    x1, x2 = make_inputs(rng)
    seq_1, seq_2, *states = layer((x1, x2))
    assert first.build_shape == ((B, I1), (B, I2, I3))
    assert second.build_shape == ((B, O1), (B, O2, O3))
    assert seq_1.shape == (B, T, 5) and seq_2.shape == (B, T, 2, 3)
    w1, w2 = ([w.numpy().astype(np.float64) for w in cell.weights]
              for cell in (first, second))
    a = (np.zeros((B, O1)), np.zeros((B, O2, O3)))
    b = (np.zeros((B, 5)), np.zeros((B, 2, 3)))
    want_1, want_2 = [], []
    for t in range(T):
        a = nested_step(x1[:, t].astype(np.float64), x2[:, t].astype(np.float64), *a, *w1)
        b = nested_step(*a, *b, *w2)
        want_1.append(b[0])
        want_2.append(b[1])
    np.testing.assert_allclose(seq_1, np.stack(want_1, 1), **TOL)
    np.testing.assert_allclose(seq_2, np.stack(want_2, 1), **TOL)
    flat_states = nr.layers.rnn_utils.flatten(states)
    for got, want in zip(flat_states, [*a, *b]):
        np.testing.assert_allclose(got, want, **TOL)
    assert len(flat_states) == 4
