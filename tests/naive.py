"""Slow, obviously-right float64 references the engines are tested against.

Written straight from the tf-keras rules (backend.rnn and SimpleRNNCell.call), one step
and one batch row at a time, with no vectorisation to get wrong.
"""
import math

import numpy as np

def _sigmoid(v):
    if v != v:
        return v
    return 1.0 / (1.0 + math.exp(-v)) if v > -700 else 0.0


def _clip01(v):
    """clip(v, 0, 1) as tf's clip_by_value: NaN stays NaN."""
    return 0.0 if v < 0 else (1.0 if v > 1 else v)


ACTIVATIONS = {
    "tanh": math.tanh,
    "linear": lambda v: v,
    "relu": lambda v: 0.0 if v < 0 else v,  # NaN stays NaN
    "sigmoid": lambda v: _sigmoid(v),
    "hard_sigmoid": lambda v: _clip01(0.2 * v + 0.5),
    "elu": lambda v: v if v > 0 else math.exp(v) - 1.0,
    "selu": lambda v: 1.0507009873554805 * (v if v > 0 else 1.6732632423543772
                                             * (math.exp(v) - 1.0)),
    "softplus": lambda v: math.log(1.0 + math.exp(v)) if v < 30 else v,
    "softsign": lambda v: v / (1.0 + abs(v)),
    "swish": lambda v: v * _sigmoid(v),
    "gelu": lambda v: 0.5 * v * math.erfc(-v / math.sqrt(2.0)),
    "exponential": math.exp,
}


def activate(name, z):
    if name == "softmax":
        e = np.exp(z - z.max())
        return e / e.sum()
    return np.array([ACTIVATIONS[name](float(v)) for v in z])


def simple_rnn_step(x, h, kernel, recurrent, bias, activation, in_drop=None, rec_drop=None):
    """One SimpleRNNCell step for one batch row."""
    x = x * in_drop if in_drop is not None else x
    hr = h * rec_drop if rec_drop is not None else h
    z = np.zeros(kernel.shape[1])
    for j in range(kernel.shape[1]):
        z[j] = sum(x[i] * kernel[i, j] for i in range(kernel.shape[0]))
        z[j] += sum(hr[i] * recurrent[i, j] for i in range(recurrent.shape[0]))
        if bias is not None:
            z[j] += bias[j]
    return activate(activation, z)


def rnn_forward(x, levels, mask=None, initial_states=None, go_backwards=False,
                zero_output_for_mask=False, time_major=False):
    """A stack of SimpleRNN levels with Keras masking, in float64.

    levels: list of dicts with kernel, recurrent, bias, activation, residual,
    in_drop (B, I) or None, rec_drop (B, U) or None.
    Returns (sequence (B, T, U) in processing order, last output (B, U), final states).
    """
    x = np.asarray(x, np.float64)
    if time_major:
        x = x.transpose(1, 0, 2)
        mask = None if mask is None else np.asarray(mask).T
    batch, steps, _ = x.shape
    states = [np.zeros((batch, lv["kernel"].shape[1])) if initial_states is None
              else np.array(initial_states[i], np.float64) for i, lv in enumerate(levels)]
    units = levels[-1]["kernel"].shape[1]
    seq = np.zeros((batch, steps, units))
    order = list(range(steps))[::-1] if go_backwards else list(range(steps))
    for b in range(batch):
        prev_out = np.zeros(units)
        for k, t in enumerate(order):
            inp = x[b, t]
            new_states = []
            for l, lv in enumerate(levels):
                ind = None if lv.get("in_drop") is None else lv["in_drop"][b]
                rd = None if lv.get("rec_drop") is None else lv["rec_drop"][b]
                h = simple_rnn_step(inp, states[l][b], lv["kernel"], lv["recurrent"],
                                    lv["bias"], lv["activation"], ind, rd)
                new_states.append(h)
                inp = inp + h if lv.get("residual") else h
            out = inp
            if mask is not None and not mask[b, t]:
                out = np.zeros(units) if zero_output_for_mask else prev_out
            else:
                for l in range(len(levels)):
                    states[l][b] = new_states[l]
            seq[b, k] = out
            prev_out = out
    last = seq[:, -1].copy()
    if time_major:
        seq = seq.transpose(1, 0, 2)
    return seq, last, states


def _activate_rows(name, z):
    if name == "softmax":
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    if name == "tanh":
        return np.tanh(z)
    return np.vectorize(ACTIVATIONS[name], otypes=[np.float64])(z)


def rnn_forward_vectorised(x, levels, mask=None, initial_states=None, go_backwards=False,
                           zero_output_for_mask=False):
    """:func:`rnn_forward` with the batch as numpy rows (for GPU-sized shapes), float64.

    Same rules, written the same way, one step at a time; checked against
    :func:`rnn_forward` in the tests. Batch-major only.
    """
    x = np.asarray(x, np.float64)
    batch, steps, _ = x.shape
    mask = np.ones((batch, steps), bool) if mask is None else np.asarray(mask, bool)
    states = [np.zeros((batch, lv["kernel"].shape[1])) if initial_states is None
              else np.array(initial_states[i], np.float64) for i, lv in enumerate(levels)]
    units = levels[-1]["kernel"].shape[1]
    seq = np.zeros((batch, steps, units))
    prev_out = np.zeros((batch, units))
    order = range(steps - 1, -1, -1) if go_backwards else range(steps)
    for k, t in enumerate(order):
        live = mask[:, t][:, None]
        inp = x[:, t]
        for l, lv in enumerate(levels):
            z = inp @ lv["kernel"] + states[l] @ lv["recurrent"]
            if lv["bias"] is not None:
                z = z + lv["bias"]
            h = _activate_rows(lv["activation"], z)
            states[l] = np.where(live, h, states[l])
            inp = inp + h if lv.get("residual") else h
        held = np.zeros_like(prev_out) if zero_output_for_mask else prev_out
        out = np.where(live, inp, held)
        seq[:, k] = out
        prev_out = out
    return seq, seq[:, -1].copy(), states
