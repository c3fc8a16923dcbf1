"""What only the CUDA engine has: device arrays in and out, layouts read in place, chunked
time, the weight mirror, and the errors when CUDA cannot run.

The shared semantics (masks, direction, stacks, dropout, activations, dtypes) run on
the CUDA engine through the ``engine`` fixture of the other test files. Here: in CI
under NUMBA_ENABLE_CUDASIM=1 (see conftest.py), on the GPU when there is one.
"""
import numpy as np
import pytest

import numbarnn as nr
from conftest import cuda_ready
from naive import rnn_forward, rnn_forward_vectorised
from test_rnn_semantics import make_cell, random_mask

READY, WHY = cuda_ready()
needs_cuda = pytest.mark.skipif(not READY, reason=str(WHY))


def _dev():
    from numba import cuda
    return cuda


def _host(a):
    return a if isinstance(a, np.ndarray) else a.copy_to_host()


def _stack(rng, units, features, residual=False, dtype="float64"):
    cells, levels = [], []
    in_dim = features
    for u in units:
        c, lv = make_cell(u, in_dim, rng, residual=residual, dtype=dtype)
        cells.append(c)
        levels.append(lv)
        in_dim = u
    return cells, levels


@needs_cuda
@pytest.mark.parametrize("time_major", [False, True])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_device_arrays_in_device_arrays_out(rng, time_major, return_sequences):
    cells, levels = _stack(rng, [5, 4], 3)
    layer = nr.RNN(nr.StackedRNNCells(cells, dtype="float64"),
                   return_sequences=return_sequences, return_state=True,
                   time_major=time_major, go_backwards=True, dtype="float64")
    xb = rng.standard_normal((4, 6, 3))  # (B, T, I)
    mb = random_mask(rng, 4, 6, "random")
    x, mask = (np.ascontiguousarray(xb.transpose(1, 0, 2)), np.ascontiguousarray(mb.T)) \
        if time_major else (xb, mb)
    h0 = [rng.standard_normal((4, 5)), rng.standard_normal((4, 4))]
    x_dev = _dev().to_device(x)
    out, *states = layer(x_dev, mask=_dev().to_device(mask), initial_state=h0)
    assert not isinstance(out, np.ndarray) and not isinstance(states[0], np.ndarray)
    seq, last, ref_states = rnn_forward(xb, levels, mb, h0, go_backwards=True)
    expected = (seq.transpose(1, 0, 2) if time_major else seq) if return_sequences else last
    np.testing.assert_allclose(_host(out), expected, rtol=1e-10, atol=1e-12)
    for got, want in zip(states, ref_states):
        np.testing.assert_allclose(_host(got), want, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(_host(x_dev), x)  # the device input is not modified


@needs_cuda
@pytest.mark.parametrize("engine", ["cpu", "cuda"])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_a_call_without_states_gets_none_and_the_same_output(rng, engine,
                                                            return_sequences):
    """``return_states=False`` (a layer that neither returns nor keeps its states):
    an empty list of states, the same output, and the next call (the carry buffer
    kept for sequences, another batch size) unaffected."""
    from numbarnn.kernels import plan, run
    _, levels = _stack(rng, [5, 4], 3)
    specs = [plan.LevelSpec(lv["kernel"], lv["recurrent"], lv["bias"], lv["activation"])
             for lv in levels]
    packed = plan.pack(specs, np.float64)
    for batch in (4, 4, 2):
        x = rng.standard_normal((batch, 6, 3))
        mask = random_mask(rng, batch, 6, "random")
        h0 = [rng.standard_normal((batch, 5)), rng.standard_normal((batch, 4))]
        args = (specs, _dev().to_device(x) if engine == "cuda" else x, mask, h0)
        kwargs = dict(return_sequences=return_sequences, engine=engine, packed=packed)
        out, states = run.run_stack(*args, return_states=False, **kwargs)
        full, full_states = run.run_stack(*args, **kwargs)
        assert states == [] and len(full_states) == 2
        seq, last, _ = rnn_forward(x, levels, mask, h0)
        np.testing.assert_allclose(_host(out), seq if return_sequences else last,
                                   rtol=1e-10, atol=1e-12)
        np.testing.assert_array_equal(_host(out), _host(full))


@needs_cuda
def test_strided_integer_device_input_is_read_in_place_and_cast(rng):
    cell, level = make_cell(4, 3, rng)
    layer = nr.RNN(cell, return_sequences=True, dtype="float64")
    big = rng.integers(-3, 4, size=(5, 14, 6)).astype(np.int32)
    view = _dev().to_device(big)[:, ::2, ::2]  # non-contiguous, integer
    out = layer(view)
    seq, _, _ = rnn_forward(big[:, ::2, ::2].astype(np.float64), [level])
    np.testing.assert_allclose(_host(out), seq, rtol=1e-10, atol=1e-12)


@needs_cuda
def test_float64_device_input_to_float32_layer(rng):
    layer = nr.SimpleRNN(4, return_sequences=True)
    x = rng.standard_normal((3, 5, 2))
    with nr.device("cpu"):
        expected = layer(x)
    got = _host(layer(_dev().to_device(x)))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


@needs_cuda
def test_float64_list_of_cells_rounds_device_input_as_numpy_input(rng):
    """tf-keras wraps a list of cells in a float32 StackedRNNCells, whose __call__
    rounds each step's input to float32: device inputs too."""
    layer = nr.RNN([nr.SimpleRNNCell(3, dtype="float64")], dtype="float64")
    x = rng.standard_normal((2, 3, 4))
    with nr.device("cuda"):
        from_host = layer(x)
    from_device = _host(layer(_dev().to_device(x)))
    np.testing.assert_array_equal(from_device, from_host)
    with nr.device("cpu"):
        np.testing.assert_allclose(from_device, layer(x.astype("float32").astype("float64")),
                                   rtol=1e-12, atol=1e-12)


@needs_cuda
@pytest.mark.parametrize("recurrence", ["block", "grid", "tiled"])
@pytest.mark.parametrize("steps,chunk_elements", [(9, 24), (10, 24), (7, 1)])
def test_chunked_time_matches_one_chunk(rng, monkeypatch, steps, chunk_elements,
                                        recurrence):
    """Odd and even chunk lengths (the state buffers swap) give the one-chunk answer."""
    from numbarnn.kernels import cuda as cuda_kernels
    monkeypatch.setattr(cuda_kernels, "CHUNK_ELEMENTS", chunk_elements)
    monkeypatch.setattr(cuda_kernels, "RECURRENCE", recurrence)
    first, level0 = make_cell(3, 2, rng)
    second, level1 = make_cell(3, 3, rng, residual=True)
    cells, levels = [first, second], [level0, level1]
    layer = nr.RNN(nr.StackedRNNCells(cells, dtype="float64"), return_sequences=True,
                   go_backwards=True, dtype="float64")
    x = rng.standard_normal((4, steps, 2))
    mask = random_mask(rng, 4, steps, "random")
    with nr.device("cuda"):
        got = layer(x, mask=mask)
    seq, _, _ = rnn_forward(x, levels, mask, go_backwards=True)
    np.testing.assert_allclose(got, seq, rtol=1e-10, atol=1e-12)


@needs_cuda
@pytest.mark.parametrize("time_major", [False, True])
@pytest.mark.parametrize("recurrence", ["block", "grid", "tiled"])
def test_projection_launched_first_gives_the_same_answer(rng, monkeypatch, recurrence,
                                                         time_major):
    """The first projection goes to the GPU before the outputs are allocated and the
    initial states loaded (PROJECT_FIRST); the answer is the other order's, bit for
    bit, and the reference's: chunked time, a stack, a mask, initial states. (The
    simulator runs launches one after another: only a GPU can show an ordering
    hazard; the H200 run compared the two orders at six shapes.)"""
    from numbarnn.kernels import cuda as cuda_kernels
    monkeypatch.setattr(cuda_kernels, "CHUNK_ELEMENTS", 24)
    monkeypatch.setattr(cuda_kernels, "RECURRENCE", recurrence)
    cells, levels = _stack(rng, [3, 4], 2)
    layer = nr.RNN(nr.StackedRNNCells(cells, dtype="float64"), return_sequences=True,
                   go_backwards=True, time_major=time_major, dtype="float64")
    x = rng.standard_normal((4, 9, 2))
    mask = random_mask(rng, 4, 9, "random")
    states = [rng.standard_normal((4, 3)), rng.standard_normal((4, 4))]
    x_in, mask_in = (x.transpose(1, 0, 2), mask.T) if time_major else (x, mask)
    got = {}
    for first in (False, True):
        monkeypatch.setattr(cuda_kernels, "PROJECT_FIRST", first)
        with nr.device("cuda"):
            out = layer(x_in, mask=mask_in, initial_state=states)
        got[first] = out.transpose(1, 0, 2) if time_major else out
    np.testing.assert_array_equal(got[True], got[False])
    seq, _, _ = rnn_forward(x, levels, mask, initial_states=states, go_backwards=True)
    np.testing.assert_allclose(got[True], seq, rtol=1e-10, atol=1e-12)


@needs_cuda
def test_weights_mirror_refreshes_after_set_weights(rng):
    layer = nr.SimpleRNN(3, dtype="float64")
    x = rng.standard_normal((2, 4, 3))
    with nr.device("cuda"):
        first = layer(x)
        layer.set_weights([w * 0.5 for w in layer.get_weights()])
        second = layer(x)
    with nr.device("cpu"):
        expected = layer(x)
    assert not np.allclose(first, second)
    np.testing.assert_allclose(second, expected, rtol=1e-10, atol=1e-12)


@needs_cuda
def test_stateful_streaming_on_device(rng):
    layer = nr.SimpleRNN(4, stateful=True, batch_input_shape=(3, None, 2), dtype="float64")
    x = rng.standard_normal((3, 8, 2))
    with nr.device("cuda"):
        layer(x[:, :5])
        tail = layer(x[:, 5:])
    whole = nr.SimpleRNN(4, dtype="float64")
    whole.build((3, 8, 2))
    whole.set_weights(layer.get_weights())
    np.testing.assert_allclose(tail, whole(x), rtol=1e-10, atol=1e-12)


@needs_cuda
def test_mixed_float16_computes_in_float32(rng):
    layer = nr.SimpleRNN(4, dtype="mixed_float16")
    x = rng.standard_normal((2, 5, 3)).astype(np.float32)
    with nr.device("cpu"):
        expected = layer(x)
    with nr.device("cuda"):
        got = layer(x)
    assert got.dtype == expected.dtype == np.float16
    # Both compute in float32 and round to float16 at the end; their float32 results
    # differ by rounding (the CPU's vectorised tanh is within 3 float32 ulp), so a
    # value next to a float16 rounding boundary may round either way: one float16 ulp
    # (near zero, where float16's steps are finer than those float32 differences at
    # the scale of the sums, 1e-6).
    np.testing.assert_allclose(got.astype(np.float32), expected.astype(np.float32),
                               rtol=2.0 ** -10, atol=1e-6)


@needs_cuda
@pytest.mark.parametrize("return_sequences", [False, True])
def test_mixed_float16_device_results_are_float16_device_arrays(rng, monkeypatch,
                                                                 return_sequences):
    """As tf-keras (and the numpy path): float16 outputs and states, rounded once on the
    device; a second layer and a Bidirectional read the float16 device arrays in place."""
    from numbarnn.kernels import cuda
    from numbarnn.kernels.cuda_support import is_device_array
    launched = []  # (kernel, dtype of its first argument)
    real = cuda._launch
    monkeypatch.setattr(cuda, "_launch", lambda kernel, grid, block, shared, *args: (
        launched.append((kernel.__name__, np.dtype(args[0].dtype)))
        or real(kernel, grid, block, shared, *args)))
    x = rng.standard_normal((3, 5, 4)).astype(np.float32)
    first = nr.SimpleRNN(6, return_sequences=True, return_state=True,
                         dtype="mixed_float16")
    second = nr.Bidirectional(nr.SimpleRNN(3, return_sequences=return_sequences,
                                           dtype="mixed_float16"))
    with nr.device("cpu"):
        seq, state = first(x)
        expected = second(seq)
    got_seq, got_state = first(_dev().to_device(x))
    # the float32 input (autocast to float16), then the sequence and the state
    assert [(k, d) for k, d in launched if k == "cast_kernel"] == [
        ("cast_kernel", np.float32)] * 3
    launched.clear()
    got = second(got_seq)
    # both directions project the float16 sequence itself (no copy, no host round
    # trip), and their float16 outputs merge on the device
    assert [d for k, d in launched if k == "project"] == [np.float16, np.float16]
    assert ("merge_directions_kernel", np.float16) in launched
    for a, want in ((got_seq, seq), (got_state, state), (got, expected)):
        assert is_device_array(a) and a.dtype == want.dtype == np.float16
        # (float32 results rounded to float16 on each side: one float16 ulp at a
        # boundary, and the second layer's inputs may differ by that)
        np.testing.assert_allclose(_host(a).astype(np.float32), want.astype(np.float32),
                                   rtol=2e-3, atol=2e-3)


@needs_cuda
@pytest.mark.parametrize("given", ["float32", "float64", "strided float32"])
def test_float16_policy_rounds_device_inputs_as_host_ones(rng, given):
    """A float32/float64 device input of a mixed_float16 recurrent layer is rounded to
    float16 first, as a numpy one (tf-keras's autocast): on the device the bits of the
    float16-rounded input's results, a Bidirectional's merged outputs too; the host
    path's to one float16 ulp (the engines' float32 sums run in other orders, so a
    value at a float16 rounding boundary may round either way; near zero, where
    float16's steps are finer than float32's differences at the scale of the sums,
    to 1e-6)."""
    x = (rng.standard_normal((3, 8, 4)) * 3).astype(given.split()[-1])
    device_x = _dev().to_device(x)
    if given.startswith("strided"):
        x, device_x = x[:, ::2], device_x[:, ::2]
    for layer in (nr.SimpleRNN(5, return_sequences=True, dtype="mixed_float16"),
                  nr.Bidirectional(nr.SimpleRNN(3, return_sequences=True,
                                                dtype="mixed_float16"))):
        with nr.device("cpu"):
            want = layer(x)
        rounded = _host(layer(_dev().to_device(np.ascontiguousarray(x, np.float16))))
        got = _host(layer(device_x))
        assert got.dtype == want.dtype == rounded.dtype == np.float16
        np.testing.assert_array_equal(got.view(np.uint16), rounded.view(np.uint16))
        np.testing.assert_allclose(got.astype(np.float32), want.astype(np.float32),
                                   rtol=2.0 ** -10, atol=1e-6)


@needs_cuda
def test_python_cell_with_device_input_runs_on_host_and_returns_device_arrays(rng):
    class Minimal(nr.layers.Layer):
        state_size = 2

        def call(self, inputs, states):
            h = np.tanh(inputs[:, :2] + states[0])
            return h, [h]

    x = rng.standard_normal((3, 4, 2)).astype(np.float32)
    layer = nr.RNN(Minimal())
    expected = layer(x)
    got = layer(_dev().to_device(x))
    assert not isinstance(got, np.ndarray)
    np.testing.assert_allclose(_host(got), expected, rtol=1e-6)


@needs_cuda
def test_non_numeric_device_input_is_a_clear_error():
    x = _dev().to_device(np.zeros((2, 3, 4), np.complex64))
    with pytest.raises(TypeError, match="`inputs` must be a numeric array"):
        nr.SimpleRNN(3)(x)


def test_unavailable_cuda_is_one_clear_error(monkeypatch):
    from numbarnn.kernels import cuda_support
    monkeypatch.setattr(cuda_support, "cuda_status",
                        lambda: (False, "no usable NVIDIA GPU or driver was found"))
    with pytest.raises(cuda_support.CudaUnavailable, match="'cuda' device is not available"):
        with nr.device("cuda"):
            pass
    x = np.zeros((2, 3, 4), np.float32)
    np.testing.assert_array_equal(nr.SimpleRNN(3, kernel_initializer="zeros")(x), 0.0)


def test_vectorised_reference_agrees_with_the_per_element_one(rng):
    """The float64 reference used at GPU sizes is itself checked against naive.py."""
    _, levels = _stack(rng, [4, 3], 5, residual=False)
    x = rng.standard_normal((3, 7, 5))
    mask = random_mask(rng, 3, 7, "random")
    h0 = [rng.standard_normal((3, 4)), rng.standard_normal((3, 3))]
    for go_backwards in (False, True):
        for zofm in (False, True):
            a = rnn_forward(x, levels, mask, h0, go_backwards, zofm)
            b = rnn_forward_vectorised(x, levels, mask, h0, go_backwards, zofm)
            for u, v in zip(a[:2], b[:2]):
                np.testing.assert_allclose(u, v, rtol=1e-12, atol=1e-13)
            for u, v in zip(a[2], b[2]):
                np.testing.assert_allclose(u, v, rtol=1e-12, atol=1e-13)


GPU_SHAPES = [(1, 1000, 64, 64), (32, 100, 64, 128), (64, 200, 128, 256),
              (256, 50, 256, 256), (64, 1000, 512, 512), (1024, 100, 1024, 1024)]


@pytest.mark.gpu
@pytest.mark.skipif(not READY or "simulator" in str(WHY), reason="needs a real GPU")
@pytest.mark.parametrize("recurrence", ["auto", "block", "grid", "tiled"])
@pytest.mark.parametrize("shape", GPU_SHAPES, ids=str)
def test_target_shapes_on_the_gpu_match_the_float64_reference(shape, recurrence,
                                                              monkeypatch):
    """Each recurrence kernel where it can run (``grid`` falls back to ``block`` where
    its slices do not fit), at the six target shapes, right-padded masks."""
    from numbarnn.kernels import cuda as cuda_kernels
    monkeypatch.setattr(cuda_kernels, "RECURRENCE", recurrence)
    batch, steps, features, units = shape
    rng = np.random.default_rng(7)
    layer = nr.SimpleRNN(units, return_sequences=True,
                         recurrent_initializer="orthogonal")
    x = rng.standard_normal((batch, steps, features)).astype(np.float32)
    mask = random_mask(rng, batch, steps, "right")
    with nr.device("cuda"):
        got = layer(x, mask=mask)
    k, r, b = [w.astype(np.float64) for w in layer.get_weights()]
    level = {"kernel": k, "recurrent": r, "bias": b, "activation": "tanh"}
    seq, _, _ = rnn_forward_vectorised(x, [level], mask)
    np.testing.assert_allclose(got, seq, rtol=0, atol=2e-4)


@pytest.mark.gpu
@pytest.mark.skipif(not READY or "simulator" in str(WHY), reason="needs a real GPU")
@pytest.mark.parametrize("units, recurrence", [(256, "block"), (300, "block"),
                                               (512, "grid"), (64, "block")])
def test_float64_launches_at_the_largest_blocks(units, recurrence, monkeypatch):
    """float64 kernels use more registers than float32 ones: at 256+ outputs per block
    recur_block runs 512-thread blocks (and 300 units two rounds of them), which launch
    only within the kernel's launch bound; recur_grid likewise at its 256 threads."""
    from numbarnn.kernels import cuda as cuda_kernels
    monkeypatch.setattr(cuda_kernels, "RECURRENCE", recurrence)
    rng = np.random.default_rng(11)
    layer = nr.SimpleRNN(units, return_sequences=True, dtype="float64",
                         recurrent_initializer="orthogonal")
    x = rng.standard_normal((3, 20, 8))
    mask = random_mask(rng, 3, 20, "random")
    h0 = rng.standard_normal((3, units))
    with nr.device("cuda"):
        got = layer(x, mask=mask, initial_state=h0)
    k, r, b = layer.get_weights()
    level = {"kernel": k, "recurrent": r, "bias": b, "activation": "tanh"}
    seq, _, _ = rnn_forward_vectorised(x, [level], mask, [h0])
    np.testing.assert_allclose(got, seq, rtol=1e-10, atol=1e-12)


@needs_cuda
def test_gpu_bench_smoke_run_writes_its_table(tmp_path, capsys):
    import json

    from numbarnn import gpu_bench
    from numbarnn.kernels import cuda as engine
    assert gpu_bench.main(["--quick", "--repeats", "1", "--output-dir", str(tmp_path),
                           "--recurrence", "block", "grid", "tiled"]) == 0
    rows = json.loads((tmp_path / "gpu_bench.json").read_text())
    assert [(tuple(r["shape"]), r["recurrence"]) for r in rows] == [
        (tuple(s), kind) for s in gpu_bench.QUICK_SHAPES
        for kind in ("block", "grid", "tiled")]
    times = np.array([[r["numbarnn_best_ms"], r["numbarnn_ms"]] for r in rows])
    # (the simulator's events measure nothing: NaN both)
    assert np.all((times[:, 0] <= times[:, 1]) | np.isnan(times).all(axis=1))
    assert engine.RECURRENCE == "auto"
    assert "numbarnn" in capsys.readouterr().out


@needs_cuda
@pytest.mark.parametrize("shared_bytes", [0, 2 * 5 * 8 * 5])
@pytest.mark.parametrize("activation", ["tanh", "softmax"])
def test_recurrent_matrix_in_global_memory(rng, monkeypatch, activation, shared_bytes):
    """Units too wide for shared memory read the recurrent matrix from global memory;
    with no room for the state tile either, the state stays in global memory too."""
    from numbarnn.kernels import cuda as cuda_kernels
    monkeypatch.setattr(cuda_kernels, "SHARED_BYTES", shared_bytes)
    monkeypatch.setattr(cuda_kernels, "RECURRENCE", "block")
    cell, level = make_cell(5, 3, rng, activation=activation)
    layer = nr.RNN(cell, return_sequences=True, dtype="float64")
    x = rng.standard_normal((5, 6, 3))
    mask = random_mask(rng, 5, 6, "random")
    with nr.device("cuda"):
        got = layer(x, mask=mask)
    seq, _, _ = rnn_forward(x, [level], mask)
    np.testing.assert_allclose(got, seq, rtol=1e-10, atol=1e-12)


@needs_cuda
@pytest.mark.parametrize("batch", [1, 3])
def test_grid_kernel_with_its_own_sizing_over_many_blocks(rng, monkeypatch, batch):
    """recur_grid with one unit per block and one row per group, so the block's threads
    split each dot product (and add the parts in shared memory), over several row
    tiles; the engine's sizing, squeezed by a small shared-memory budget, fits it."""
    from numbarnn.kernels import cuda as cuda_kernels
    from numbarnn.kernels import cuda_recurrence as kernels
    monkeypatch.setattr(cuda_kernels, "RECURRENCE", "grid")
    # Four threads (the simulator's count; on a GPU a block smaller than a warp, so the
    # parts are added in shared memory there too): four parts per output, so one
    # unit's slots hold 4 x 6 words, a padded row 16 and the partial sums 4.
    monkeypatch.setattr(cuda_kernels, "GRID_THREADS", 4)
    budget = 4 * 6 + 16 + 4
    monkeypatch.setattr(cuda_kernels, "GRID_SHARED_BYTES", 8 * budget)
    monkeypatch.setattr(cuda_kernels, "_max_resident_blocks", lambda: 8)
    assert cuda_kernels._grid_shared(5, 1, 1) == budget
    # Sized by the engine, the fewest outputs per block: with one row, a unit each (five
    # blocks); eight blocks cannot give each of three rows' outputs its own, and three
    # outputs per block in two slices of three units beat five slices of one unit
    # over three rows (as many outputs, more slices, each reading the whole state).
    expected = (1, 1, 1) if batch == 1 else (3, 1, 1)
    assert cuda_kernels._grid_sizes(batch, 5, 8) == expected
    assert cuda_kernels._grid_shared(5, *expected[:2]) <= budget
    assert cuda_kernels._grid_shared(5, 5, 1) > budget  # one slice cannot fit
    monkeypatch.setattr(cuda_kernels, "_grid_sizes", lambda batch, units, size: (1, 1, 1))
    assert 4 < kernels.WARP
    first, level0 = make_cell(5, 2, rng)
    second, level1 = make_cell(5, 5, rng, residual=True)
    cells, levels = [first, second], [level0, level1]
    layer = nr.RNN(nr.StackedRNNCells(cells, dtype="float64"), return_sequences=True,
                   return_state=True, go_backwards=True, dtype="float64")
    x = rng.standard_normal((batch, 4, 2))
    mask = random_mask(rng, batch, 4, "random")
    h0 = [rng.standard_normal((batch, 5)), rng.standard_normal((batch, 5))]
    with nr.device("cuda"):
        seq, *states = layer(x, mask=mask, initial_state=h0)
    ref_seq, _, ref_states = rnn_forward(x, levels, mask, h0, go_backwards=True)
    np.testing.assert_allclose(seq, ref_seq, rtol=1e-10, atol=1e-12)
    for got, want in zip(states, ref_states):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@needs_cuda
@pytest.mark.parametrize("blocks", [1, 3])
def test_tiled_kernel_walks_many_tiles_per_block(rng, monkeypatch, blocks):
    """recur_tiled with more output tiles than blocks (several row bands and unit
    columns per block, the last ones partial), in a residual stack with both dropout
    masks, a random mask, initial states and go_backwards."""
    from numbarnn.kernels import cuda as cuda_kernels
    from numbarnn.kernels import cuda_recurrence as kernels
    monkeypatch.setattr(cuda_kernels, "RECURRENCE", "tiled")
    monkeypatch.setattr(cuda_kernels, "_tiled_blocks", lambda tiles: min(tiles, blocks))
    batch, units = kernels.TILE_ROWS + 3, kernels.TILE_COLS + 1  # 2 x 2 tiles, 3 partial
    assert cuda_kernels._tiled_plan(batch, units) == (blocks,)
    first, level0 = make_cell(units, 3, rng)
    second, level1 = make_cell(units, units, rng, residual=True)
    second.cell.dropout, second.cell.recurrent_dropout, second.cell.seed = 0.2, 0.3, 3
    layer = nr.RNN(nr.StackedRNNCells([first, second], dtype="float64"),
                   return_sequences=True, return_state=True, go_backwards=True,
                   dtype="float64")
    x = rng.standard_normal((batch, 3, 3))
    mask = random_mask(rng, batch, 3, "random")
    h0 = [rng.standard_normal((batch, units)) for _ in range(2)]
    with nr.device("cuda"):
        seq, *states = layer(x, mask=mask, initial_state=h0, training=True)
    level1["in_drop"] = second.cell._dropout_mask_cache
    level1["rec_drop"] = second.cell._recurrent_dropout_mask_cache
    assert (level1["rec_drop"] == 0).any()
    ref_seq, _, ref_states = rnn_forward(x, [level0, level1], mask, h0, go_backwards=True)
    np.testing.assert_allclose(seq, ref_seq, rtol=1e-10, atol=1e-12)
    for got, want in zip(states, ref_states):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


# (edge, micro rows, micro cols, depth): the GPU's tiles, the simulator's, and two more
# (one thread per staged row, and two).
TILE_GEOMETRIES = [(16, 8, 4, 16), (4, 2, 4, 4), (8, 4, 2, 8), (4, 4, 2, 8)]


def _set_tile_geometry(monkeypatch, kernels, edge, micro_rows, micro_cols, depth):
    threads, rows, cols = edge * edge, edge * micro_rows, edge * micro_cols
    a_loads, w_loads = depth * rows // threads, depth * cols // threads
    for name, value in {"TILE_EDGE": edge, "MICRO_ROWS": micro_rows,
                        "MICRO_COLS": micro_cols, "TILE_DEPTH": depth,
                        "TILE_THREADS": threads, "TILE_ROWS": rows, "TILE_COLS": cols,
                        "TILE_ROWS_PADDED": rows + 16, "A_LOADS": a_loads,
                        "ROW_THREADS": depth // a_loads, "W_LOADS": w_loads,
                        "W_DEPTH_STEP": threads // cols}.items():
        monkeypatch.setattr(kernels, name, value)


@pytest.mark.parametrize("geometry", TILE_GEOMETRIES, ids=str)
@pytest.mark.parametrize("use_drop", [False, True])
def test_tile_index_maps_cover_every_element_once(monkeypatch, rng, geometry, use_drop):
    """The register-tiled product's index maps and slice loop, run as plain Python for
    the GPU's tile geometry too (the simulator runs only its own, small one): the
    threads stage every element of both slices exactly once, a last partial slice is
    zero past the inner dimension (inf beyond it in both operands is never read), and
    the threads' register tiles together are the product."""
    pytest.importorskip("numba.cuda")
    from numbarnn.kernels import cuda_tiles as kernels
    if not kernels.SIMULATED:  # device functions call each other: Python only there
        pytest.skip("runs the device functions as Python, under the simulator")
    _set_tile_geometry(monkeypatch, kernels, *geometry)
    k = kernels
    threads, rows, cols, depth = k.TILE_THREADS, k.TILE_ROWS, k.TILE_COLS, k.TILE_DEPTH
    staged_a, staged_w = [], []
    for tid in range(threads):
        m, q = k._row_slot.py_func(tid)
        staged_a += [(m, q + c * k.ROW_THREADS) for c in range(k.A_LOADS)]
        j, q = k._col_slot.py_func(tid)
        staged_w += [(j, q + r * k.W_DEPTH_STEP) for r in range(k.W_LOADS)]
    assert sorted(staged_a) == [(m, q) for m in range(rows) for q in range(depth)]
    assert sorted(staged_w) == [(j, q) for j in range(cols) for q in range(depth)]
    inner = depth + 3  # a whole slice, then a partial one
    a = rng.standard_normal((rows, inner + 2))
    w = rng.standard_normal((inner + 2, cols))
    a[:, inner:], w[inner:] = np.inf, np.inf  # past the inner dimension
    drop = rng.random((rows, inner + 2)) * 2
    acc = np.zeros((threads, k.MICRO_ROWS, k.MICRO_COLS))
    for i0 in range(0, inner, depth):
        a_tile = np.full((depth, k.TILE_ROWS_PADDED), np.nan)
        w_tile = np.full((depth, cols), np.nan)
        for tid in range(threads):
            m, _ = k._row_slot.py_func(tid)
            j, _ = k._col_slot.py_func(tid)
            a_next, w_next = np.zeros(k.A_LOADS), np.zeros(k.W_LOADS)
            k._fetch_slice.py_func(a_next, a[m], drop[m], use_drop, i0,
                                   k._row_slot.py_func(tid)[1], k.ROW_THREADS, inner)
            k._fetch_slice.py_func(w_next, w[:, j], w[:, j], False, i0,
                                   k._col_slot.py_func(tid)[1], k.W_DEPTH_STEP, inner)
            k._store_slices.py_func(a_tile, a_next, w_tile, w_next, tid)
        want_a = np.zeros((rows, depth))
        want_w = np.zeros((depth, cols))
        n = min(depth, inner - i0)
        want_a[:, :n] = (a * drop if use_drop else a)[:, i0:i0 + n]
        want_w[:n] = w[i0:i0 + n]
        np.testing.assert_array_equal(a_tile[:, :rows], want_a.T)
        np.testing.assert_array_equal(w_tile, want_w)
        for tid in range(threads):
            ty, tx = divmod(tid, k.TILE_EDGE)
            k._multiply_stage.py_func(acc[tid], a_tile, w_tile, np.zeros(k.MICRO_ROWS),
                                      np.zeros(k.MICRO_COLS), tx, ty)
    product = np.full((rows, cols), np.nan)
    for tid in range(threads):
        ty, tx = divmod(tid, k.TILE_EDGE)
        product[ty * k.MICRO_ROWS:(ty + 1) * k.MICRO_ROWS,
                tx * k.MICRO_COLS:(tx + 1) * k.MICRO_COLS] = acc[tid]
    left = (a * drop if use_drop else a)[:, :inner]
    np.testing.assert_allclose(product, left @ w[:inner], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("itemsize", [4, 8])
@pytest.mark.parametrize("batch", [1, 7, 64, 1024, 5000])
@pytest.mark.parametrize("units", [1, 37, 128, 256, 512, 1024, 1500, 5000])
def test_launch_plans_fit_the_hardware_limits(monkeypatch, itemsize, batch, units):
    """Every plan stays within a block's shared memory, covers every unit and row, and
    a cooperative grid has no more blocks than can be resident (one per SM here)."""
    pytest.importorskip("numba.cuda")
    from numbarnn.kernels import cuda as cuda_kernels
    monkeypatch.setattr(cuda_kernels, "_max_resident_blocks", lambda: 132)
    monkeypatch.setattr(cuda_kernels, "GRID_SHARED_BYTES", 227 * 1024)  # an H100's
    from numbarnn.kernels import cuda_recurrence as kernels
    for recurrence in ("auto", "block", "grid", "tiled"):
        monkeypatch.setattr(cuda_kernels, "RECURRENCE", recurrence)
        level = type("Level", (), {"units": units, "activation": "tanh"})
        [(kind, plan)] = cuda_kernels._recurrence_plans([level], batch, itemsize)
        assert kind == recurrence or recurrence == "auto" or (
            recurrence == "grid" and kind == "block")
        if kind == "block":
            rows, threads, shared, rec_shared, state_shared = plan
            assert shared <= cuda_kernels.SHARED_BYTES and threads <= 1024
            assert rec_shared == (shared >= units * units * itemsize)
            assert state_shared == (shared >= 2 * rows * units * itemsize)
            if recurrence == "auto" and not rec_shared:  # too small for a grid barrier
                assert units * units * itemsize < cuda_kernels.GRID_MIN_MATRIX_BYTES
        elif kind == "tiled":
            (blocks,) = plan
            tiles = -(-batch // kernels.TILE_ROWS) * -(-units // kernels.TILE_COLS)
            assert blocks == min(tiles, 132)
            if recurrence == "auto":  # only where recur_grid would take many rounds
                grid = cuda_kernels._grid_plan(batch, units, itemsize)
                assert grid is None or grid[0] * grid[2] > (
                    cuda_kernels.GRID_MAX_ROUNDS * cuda_kernels.GRID_THREADS)
        else:
            slice_units, group_rows, rows_per_block, grid, shared = plan
            assert shared <= 227 * 1024
            assert grid[0] * slice_units >= units > (grid[0] - 1) * slice_units
            assert grid[1] * rows_per_block >= batch > (grid[1] - 1) * rows_per_block
            assert grid[0] * grid[1] <= 132 and 1 <= group_rows <= rows_per_block
            if recurrence == "auto":  # only where the matrix misses shared memory
                assert units * units * itemsize >= cuda_kernels.GRID_MIN_MATRIX_BYTES


@needs_cuda
@pytest.mark.parametrize("steps,batch,in_dim,units", [(1, 1, 1, 1), (3, 5, 9, 17),
                                                      (2, 7, 4, 8), (5, 3, 13, 3),
                                                      (4, 3, 8, 16)])
@pytest.mark.parametrize("reverse", [False, True])
def test_projection_kernel_on_partial_and_whole_tiles(rng, steps, batch, in_dim, units,
                                                      reverse):
    """The register-tiled projection against numpy, with rows, features and units that
    end inside a tile and on its edge; untouched columns beyond ``units`` and steps
    beyond ``steps`` keep their value."""
    from numbarnn.kernels import cuda as engine
    from numbarnn.kernels import cuda_recurrence as kernels
    cuda = _dev()
    total = steps + 2
    x = rng.standard_normal((batch, total, in_dim))  # batch-major source
    drop = rng.random((batch, in_dim)) * 2
    kernel = rng.standard_normal((in_dim, units))
    bias = rng.standard_normal(units)
    s0 = 1
    proj = cuda.to_device(np.full((steps + 1, batch, units + 2), 7.0))
    engine._launch(kernels.project,
                   (-(-steps * batch // kernels.TILE_ROWS),
                    -(-units // kernels.TILE_COLS)),
                   (kernels.TILE_EDGE, kernels.TILE_EDGE), 0,
                   cuda.to_device(x), True, reverse, s0, total, steps, units,
                   cuda.to_device(drop), True, cuda.to_device(kernel),
                   cuda.to_device(bias), proj)
    got = proj.copy_to_host()
    for k in range(steps):
        t = total - 1 - (s0 + k) if reverse else s0 + k
        want = (x[:, t] * drop) @ kernel + bias
        np.testing.assert_allclose(got[k, :, :units], want, rtol=1e-12, atol=1e-12)
    assert (got[:, :, units:] == 7.0).all() and (got[steps:] == 7.0).all()


@needs_cuda
@pytest.mark.parametrize("units", [1, 3])
@pytest.mark.parametrize("recurrence", ["block", "grid", "tiled"])
def test_split_dot_products_with_dropout_and_masks(rng, monkeypatch, units, recurrence):
    """One row of 1 or 3 units: more threads than outputs, so each dot product is split
    between threads (2 to 8 parts) and the parts added; with both dropout masks, a
    mask and softmax-free activations on both recurrence kernels."""
    from numbarnn.kernels import cuda as cuda_kernels
    monkeypatch.setattr(cuda_kernels, "RECURRENCE", recurrence)
    cell, level = make_cell(units, 4, rng)
    cell.dropout, cell.recurrent_dropout, cell.seed = 0.3, 0.4, 5
    layer = nr.RNN(cell, return_sequences=True, go_backwards=True, dtype="float64")
    x = rng.standard_normal((1, 6, 4))
    mask = np.array([[True, True, False, True, False, True]])
    with nr.device("cuda"):
        seq = layer(x, mask=mask, training=True)
    level["in_drop"] = cell._dropout_mask_cache
    level["rec_drop"] = cell._recurrent_dropout_mask_cache
    assert (level["rec_drop"] == 0).any() or units == 1
    ref_seq, _, _ = rnn_forward(x, [level], mask, go_backwards=True)
    np.testing.assert_allclose(seq, ref_seq, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("batch,units,expected,groups_in_48k", [
    (64, 512, (64, 4, 4), 3), (256, 256, (128, 4, 4), 2), (64, 256, (128, 1, 1), 1)])
def test_grid_plans_at_the_target_shapes_take_one_group(monkeypatch, batch, units,
                                                        expected, groups_in_48k):
    """On an H100 (132 SMs, 227 KiB of opt-in shared memory per block) recur_grid's
    plans for the float32 target shapes hold all of a block's rows on chip (one group
    per step) with the fewest outputs per block: the plans the forced-plan runs
    measured fastest or within noise of it (docs/benchmarks.rst). In 48 KiB the two
    wider shapes read their rows in three and two groups per step."""
    pytest.importorskip("numba.cuda")
    from numbarnn.kernels import cuda as cuda_kernels
    monkeypatch.setattr(cuda_kernels, "_max_resident_blocks", lambda: 132)
    monkeypatch.setattr(cuda_kernels, "GRID_THREADS", 256)
    monkeypatch.setattr(cuda_kernels, "GRID_SHARED_BYTES", 227 * 1024)
    assert cuda_kernels._grid_sizes(batch, units, 4) == expected
    monkeypatch.setattr(cuda_kernels, "GRID_SHARED_BYTES", 48 * 1024)
    _, group_rows, rows_per_block = cuda_kernels._grid_sizes(batch, units, 4)
    assert -(-rows_per_block // group_rows) == groups_in_48k


@needs_cuda
def test_grid_state_copy_eight_loads_at_a_time(rng, monkeypatch):
    """recur_grid copies a group's state rows into shared memory eight values per
    thread at a time, then the rest one by one (with the recurrent dropout mask applied
    on the way): groups of 4 x 9 and 3 x 9 values over the simulator's 4 threads take
    one batch of eight and a remainder, then the remainder alone, in three slices."""
    from numbarnn.kernels import cuda as cuda_kernels
    monkeypatch.setattr(cuda_kernels, "RECURRENCE", "grid")
    monkeypatch.setattr(cuda_kernels, "_grid_sizes", lambda batch, units, size: (3, 4, 7))
    cell, level = make_cell(9, 4, rng)
    cell.recurrent_dropout, cell.seed = 0.4, 7
    layer = nr.RNN(cell, return_sequences=True, dtype="float64")
    x = rng.standard_normal((7, 5, 4))
    mask = random_mask(rng, 7, 5, "random")
    with nr.device("cuda"):
        seq = layer(x, mask=mask, training=True)
    level["rec_drop"] = cell._recurrent_dropout_mask_cache
    assert (level["rec_drop"] == 0).any()
    ref_seq, _, _ = rnn_forward(x, [level], mask)
    np.testing.assert_allclose(seq, ref_seq, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("units", [1, 3, 4, 5, 9, 16, 37, 64])
@pytest.mark.parametrize("parts", [1, 2, 4, 8, 32])
def test_slot_layout_holds_each_weight_once_where_its_part_reads_it(rng, units, parts):
    """recur_block's on-chip layout: part ``p`` of unit ``j`` reads state group ``p +
    parts * g`` (4 values at ``4 * (p + parts * g)``) and finds the matching weights
    contiguous in slot ``j * parts + p``; decoded, the slots give back the matrix, and
    everything beyond the last unit is zero (it meets the zero padding of the state)."""
    pytest.importorskip("numba.cuda")
    from numbarnn.kernels import cuda as cuda_kernels
    from numbarnn.kernels import cuda_recurrence as kernels
    rec = rng.standard_normal((units, units))
    level = type("Level", (), dict(kernel=np.zeros((1, units)), recurrent=rec, bias=None,
                                   units=units))
    mirror = cuda_kernels._Mirror([level], np.dtype(np.float64))
    slots = _host(mirror.rec_slots(0, parts))
    groups, slot_stride, padded = kernels.slot_layout(units, parts)
    assert slot_stride % 4 == 2 and padded >= units and padded % (4 * parts) == 0
    assert 4 * parts * (groups - 1) < units  # no part reads only padding every time
    # Each slot starts on a pair (vector loads), and the pairs that the threads of one
    # phase of a vector load read start in different banks: 16 threads x 8 bytes in
    # float32, 8 x 16 bytes in float64 (32 banks of 4 bytes).
    for itemsize, threads in ((4, 16), (8, 8)):
        banks = {(s * slot_stride * itemsize // 4) % 32 for s in range(threads)}
        assert len(banks) == threads
    assert slots.shape == (units * parts * slot_stride,)
    decoded = np.zeros((padded, units))
    seen = np.zeros((padded, units), int)
    for j in range(units):
        for p in range(parts):
            start = (j * parts + p) * slot_stride
            assert (slots[start + 4 * groups:start + slot_stride] == 0).all()  # the gap
            for g in range(groups):
                for c in range(4):
                    i = 4 * (p + parts * g) + c
                    decoded[i, j] = slots[start + 4 * g + c]
                    seen[i, j] += 1
    assert (seen == 1).all()
    np.testing.assert_array_equal(decoded[:units], rec)
    assert (decoded[units:] == 0).all()


@pytest.mark.parametrize("units, parts", [(1, 1), (5, 2), (9, 4), (64, 2)])
def test_interleaved_slots_are_the_slots_read_across(rng, units, parts):
    """recur_block's weights in global memory: value ``e`` of slot ``s`` at ``e *
    slots + s``, the same values as the on-chip slots (so a warp's 32 neighbouring
    slots are one contiguous read)."""
    pytest.importorskip("numba.cuda")
    from numbarnn.kernels import cuda as cuda_kernels
    from numbarnn.kernels import cuda_recurrence as kernels
    rec = rng.standard_normal((units, units))
    level = type("Level", (), dict(kernel=np.zeros((1, units)), recurrent=rec, bias=None,
                                   units=units))
    mirror = cuda_kernels._Mirror([level], np.dtype(np.float64))
    groups, slot_stride, _ = kernels.slot_layout(units, parts)
    slots = _host(mirror.rec_slots(0, parts)).reshape(units * parts, slot_stride)
    spread = _host(mirror.rec_spread(0, parts))
    n = units * parts
    assert spread.shape == (4 * groups * n,)
    for s in range(n):
        np.testing.assert_array_equal(spread[s::n], slots[s, :4 * groups])


@needs_cuda
@pytest.mark.parametrize("weights", ["shared", "global", "all global"])
@pytest.mark.parametrize("threads", [4, 32])  # several rounds; 1 to 4 parts per output
@pytest.mark.parametrize("units", [1, 3, 5, 8])
def test_block_kernel_splits_dot_products_over_its_threads(rng, monkeypatch, threads,
                                                           units, weights):
    """recur_block at two block sizes, so that outputs take several rounds of threads
    or up to four threads share each dot product (a last block with fewer rows
    included), its weights in slots on chip (recur_block), interleaved in global
    memory beside the state on chip (a budget that holds only the state:
    recur_block_l2) or row-major beside the state in place in global memory (a budget
    for the partial sums alone: recur_block_global), with both dropout masks, a mask,
    an initial state and time split into chunks."""
    from numbarnn.kernels import cuda as cuda_kernels
    from numbarnn.kernels import cuda_recurrence as kernels
    monkeypatch.setattr(cuda_kernels, "RECURRENCE", "block")
    monkeypatch.setattr(cuda_kernels, "BLOCK_THREADS", threads)
    monkeypatch.setattr(cuda_kernels, "CHUNK_ELEMENTS", 3 * 3 * 8)
    batch = 3 if units > 1 else 9  # one row of one unit: rows of 8, the last short
    if weights == "global":
        rows = min(batch, 8)
        _, _, padded = kernels.slot_layout(
            units, kernels.parts_per_output(rows * units, threads))
        monkeypatch.setattr(cuda_kernels, "SHARED_BYTES", 8 * (2 * rows * padded + threads))
    elif weights == "all global":
        monkeypatch.setattr(cuda_kernels, "SHARED_BYTES", 8 * threads)
    _, _, _, rec_shared, state_shared = cuda_kernels._block_plan(batch, units, 8)
    assert rec_shared == (weights == "shared")
    assert state_shared == (weights != "all global")
    cell, level = make_cell(units, 4, rng)
    cell.dropout, cell.recurrent_dropout, cell.seed = 0.3, 0.4, 11
    layer = nr.RNN(cell, return_sequences=True, dtype="float64")
    x = rng.standard_normal((batch, 7, 4))
    mask = random_mask(rng, batch, 7, "random")
    h0 = rng.standard_normal((batch, units))
    with nr.device("cuda"):
        seq = layer(x, mask=mask, initial_state=h0, training=True)
    level["in_drop"] = cell._dropout_mask_cache
    level["rec_drop"] = cell._recurrent_dropout_mask_cache
    ref_seq, _, _ = rnn_forward(x, [level], mask, [h0])
    np.testing.assert_allclose(seq, ref_seq, rtol=1e-10, atol=1e-12)
    with nr.device("cuda"):  # and without dropout (the other dot product)
        seq = layer(x, mask=mask, initial_state=h0)
    plain = {k: v for k, v in level.items() if k not in ("in_drop", "rec_drop")}
    ref_seq, _, _ = rnn_forward(x, [plain], mask, [h0])
    np.testing.assert_allclose(seq, ref_seq, rtol=1e-10, atol=1e-12)


@needs_cuda
def test_work_buffers_are_reused_by_shorter_sequences(rng):
    """A call with fewer steps runs in the buffers of a longer one (the kernels take
    the step count); the answers stay those of the reference."""
    first, level0 = make_cell(4, 3, rng)
    second, level1 = make_cell(4, 4, rng, residual=True)
    layer = nr.RNN(nr.StackedRNNCells([first, second], dtype="float64"),
                   return_sequences=True, dtype="float64")
    x = rng.standard_normal((2, 6, 3))
    with nr.device("cuda"):
        layer(x)
        mirror = layer._packed_cache.value._device_mirror
        proj = mirror.buffers["proj"]
        got = layer(x[:, :3])
    assert mirror.buffers["proj"] is proj
    seq, _, _ = rnn_forward(x[:, :3], [level0, level1])
    np.testing.assert_allclose(got, seq, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("outputs, blocks, expected", [
    (64, 1, 128),      # one row of 64 units: two threads per output
    (256, 16, 512),    # (32, 100, 64, 128): two rows of 128 units per block
    (256, 64, 512),    # (64, 200, 128, 256)
    (256, 256, 256),   # (256, 50, 256, 256): 512 would leave 124 blocks for a 2nd wave
    (1024, 1024, 128),  # wider than any block: as resident as it gets
    (3, 1, 128),
])
def test_block_threads_two_per_output_within_residency(monkeypatch, outputs, blocks,
                                                       expected):
    """recur_block's threads per block on a GPU (the simulator always uses its own)."""
    pytest.importorskip("numba.cuda")
    from numbarnn.kernels import cuda as cuda_kernels
    monkeypatch.setattr(cuda_kernels, "BLOCK_THREADS", None)
    monkeypatch.setattr(cuda_kernels, "_max_resident_blocks", lambda: 132)
    assert cuda_kernels._block_threads(outputs, blocks) == expected


def test_launches_stay_within_the_kernels_launch_bounds():
    """recur_block and recur_grid are compiled for at most BLOCK_MAX_LAUNCH and
    GRID_MAX_LAUNCH threads (their registers then fit such a block); the engine never
    asks for more."""
    pytest.importorskip("numba.cuda")
    from numbarnn.kernels import cuda as cuda_kernels
    from numbarnn.kernels import cuda_recurrence as kernels
    assert cuda_kernels.BLOCK_MAX_THREADS <= kernels.BLOCK_MAX_LAUNCH
    assert cuda_kernels.GRID_THREADS <= kernels.GRID_MAX_LAUNCH
    assert 65536 // kernels.BLOCK_MAX_LAUNCH >= cuda_kernels.BLOCK_REGISTERS


def _count_launches(monkeypatch):
    """Count the engine's kernel launches by kernel name (a Counter, filled as it runs)."""
    import collections
    from numbarnn.kernels import cuda as cuda_kernels
    counts = collections.Counter()
    launch = cuda_kernels._launch

    def counting(kernel, *args):
        counts[kernel.py_func.__name__] += 1
        return launch(kernel, *args)

    monkeypatch.setattr(cuda_kernels, "_launch", counting)
    return counts


@needs_cuda
@pytest.mark.parametrize("lean", [True, False])
@pytest.mark.parametrize("weights", ["shared", "global"])
@pytest.mark.parametrize("case", [
    # (batch, steps, units per level, go_backwards, time_major, mask kind, zofm,
    #  return_sequences, initial state, residual, activation, chunk elements, dtype)
    (3, 7, (5,), False, False, "random", False, True, True, False, "tanh", 0, "float64"),
    (3, 7, (5,), True, True, "left", True, True, False, False, "relu", 0, "float64"),
    (2, 9, (4, 3), True, False, "random", False, False, True, False, "tanh", 20,
     "float64"),
    (2, 6, (3, 3), False, True, "right", False, True, True, True, "sigmoid", 0,
     "float64"),
    (4, 5, (2, 2), False, False, "none", True, True, False, True, "tanh", 12, "float32"),
    (1, 8, (3,), True, False, "random", True, False, True, False, "elu", 0, "float32"),
    # rows of 8: two blocks, the second with one row
    (9, 5, (2, 2), True, True, "random", False, True, True, True, "tanh", 0, "float64"),
    # 20 units, one thread per output: 5 groups of 4 (float32: two turns of two groups
    # and one more on chip; four groups at once and one more from L2)
    (1, 6, (20,), True, False, "random", False, True, True, False, "tanh", 0, "float32"),
], ids=str)
def test_lean_block_kernels_match_the_general_ones_and_the_reference(
        rng, monkeypatch, lean, weights, case):
    """recur_block's lean variants (one round of threads, no recurrent dropout, not
    softmax) and, with them switched off, the general kernels on the same cases: masks,
    both directions, both layouts, stacks with residuals, initial states, chunks of
    time, float32 and float64. Each case asserts which kernels ran."""
    from numbarnn.kernels import cuda as cuda_kernels
    (batch, steps, units, backwards, time_major, mask_kind, zofm, sequences, with_state,
     residual, activation, chunk, dtype) = case
    monkeypatch.setattr(cuda_kernels, "RECURRENCE", "block")
    monkeypatch.setattr(cuda_kernels, "BLOCK_LEAN", lean)
    monkeypatch.setattr(cuda_kernels, "BLOCK_THREADS", 32)  # every output in one round
    if chunk:
        monkeypatch.setattr(cuda_kernels, "CHUNK_ELEMENTS", chunk)
    if weights == "global":  # the state alone on chip: recur_block_l2(_lean)
        from numbarnn.kernels import cuda_recurrence as kernels
        itemsize = np.dtype(dtype).itemsize
        rows = min(batch, 8)
        state_bytes = [itemsize * (2 * rows * kernels.slot_layout(
            u, kernels.parts_per_output(rows * u, 32))[2] + 32) for u in units]
        monkeypatch.setattr(cuda_kernels, "SHARED_BYTES", min(state_bytes))
    counts = _count_launches(monkeypatch)
    cells, levels = [], []
    in_dim = 4
    for i, u in enumerate(units):
        c, lv = make_cell(u, in_dim, rng, activation=activation,
                          residual=residual and i > 0 and u == in_dim, dtype=dtype)
        cells.append(c)
        levels.append(lv)
        in_dim = u
    layer = nr.RNN(nr.StackedRNNCells(cells, dtype=dtype) if len(cells) > 1 else cells[0],
                   return_sequences=sequences,
                   return_state=True, go_backwards=backwards, time_major=time_major,
                   zero_output_for_mask=zofm, dtype=dtype)
    x = rng.standard_normal((batch, steps, 4))
    mask = random_mask(rng, batch, steps, mask_kind)
    h0 = [rng.standard_normal((batch, u)) for u in units] if with_state else None
    with nr.device("cuda"):
        got = layer(np.swapaxes(x, 0, 1) if time_major else x,
                    mask=None if mask is None else (mask.T if time_major else mask),
                    initial_state=h0)
    ref_seq, ref_last, ref_states = rnn_forward(x, levels, mask, h0, backwards, zofm)
    out = np.swapaxes(got[0], 0, 1) if time_major and sequences else got[0]
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == "float64" else dict(rtol=2e-5,
                                                                        atol=2e-6)
    np.testing.assert_allclose(out, ref_seq if sequences else ref_last, **tol)
    for state, ref in zip(got[1:], ref_states):
        np.testing.assert_allclose(state, ref, **tol)
    suffix = "" if weights == "shared" else "_l2"
    ran = {name for name in counts if name.startswith("recur")}
    assert ran == {f"recur_block{suffix}_lean" if lean else f"recur_block{suffix}"}
    if batch > 8:
        assert cuda_kernels._block_plan(batch, units[0], 8)[0] == 8


@pytest.mark.gpu
@pytest.mark.skipif(not READY or "simulator" in str(WHY), reason="needs a real GPU")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fast_launches_give_numba_cudas_own_results(rng, monkeypatch, dtype):
    """The engine's launches through numbarnn.kernels.cuda_launch pass what
    numba-cuda's call path passes: the same stack (two levels, a residual, a mask, an
    initial state, a strided input) gives bit-identical results both ways, and the
    fast path did take the launches."""
    from numbarnn.kernels import cuda as cuda_kernels
    from numbarnn.kernels import cuda_launch
    launched = []
    fast = cuda_launch.launch
    monkeypatch.setattr(cuda_launch, "launch",
                        lambda compiled, *rest: (launched.append(compiled), fast(
                            compiled, *rest)))
    cells, _ = _stack(rng, (6, 6), 5, residual=True, dtype=dtype)
    cells[0] = make_cell(6, 5, rng, dtype=dtype)[0]  # (no residual from 5 features)
    layer = nr.RNN(nr.StackedRNNCells(cells, dtype=dtype), return_sequences=True,
                   return_state=True, dtype=dtype)
    x = _dev().to_device(rng.standard_normal((9, 4, 5)))[::2]  # strided, float64
    mask = random_mask(rng, 5, 4, "random")
    h0 = [rng.standard_normal((5, 6)) for _ in cells]
    with nr.device("cuda"):
        got = [_host(a) for a in layer(x, mask=mask, initial_state=h0)]
    assert launched
    monkeypatch.setattr(cuda_kernels, "FAST_LAUNCH", False)
    with nr.device("cuda"):
        want = [_host(a) for a in layer(x, mask=mask, initial_state=h0)]
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


@needs_cuda
def test_gpu_bench_launch_cost_smoke_run(tmp_path, monkeypatch):
    """``--launch-cost`` times each recur_block launch of zero steps both ways and
    leaves the launch path as it found it (in the simulator both take numba's)."""
    import json

    from numbarnn import gpu_bench
    from numbarnn.kernels import cuda as engine
    asked = []
    real = gpu_bench._launch_cost
    monkeypatch.setattr(gpu_bench, "_launch_cost", lambda *a: asked.append(a))
    assert gpu_bench.main(["--launch-cost", "--repeats", "20",
                           "--output-dir", str(tmp_path)]) == 0
    assert asked == [(gpu_bench.LAUNCH_COST_SHAPES, 2000, str(tmp_path))]
    real(gpu_bench.QUICK_SHAPES, 3, str(tmp_path))
    rows = json.loads((tmp_path / "gpu_launch_cost.json").read_text())
    assert [r["fast_launch"] for r in rows] == [True, False, True, False]
    assert all(r["kernel"].startswith("recur_block") and r["us_per_launch"] > 0
               for r in rows)
    assert engine.FAST_LAUNCH is True


@needs_cuda
def test_gpu_bench_elementwise_smoke_run(tmp_path):
    """``--elementwise`` times the merge, masking and feed-forward device paths
    against the host round trips: the first three identical, the others to rounding."""
    import json

    from numbarnn import gpu_bench
    assert gpu_bench.main(["--elementwise", "--quick", "--repeats", "1",
                           "--output-dir", str(tmp_path)]) == 0
    rows = json.loads((tmp_path / "gpu_elementwise.json").read_text())
    assert [r["case"] for r in rows] == ["merge concat", "merge sum", "mask", "dense tanh",
                                         "dense softmax", "embedding"]
    assert all(r["shape"] == [2, 5, 3] for r in rows)
    assert all(r["identical"] for r in rows if r["bit_identical_expected"])
    assert all(r["max_abs_diff"] < 1e-6 for r in rows)
    assert rows[-1]["identical"]  # a lookup: the table's own values


@needs_cuda
def test_gpu_bench_host_profile_smoke_run(tmp_path):
    """``--host-profile`` splits a call into kernels and the rest, and lists the
    functions that took the host's time, the layer's call among them."""
    import json

    from numbarnn import gpu_bench
    assert gpu_bench.main(["--host-profile", "--quick", "--repeats", "2",
                           "--output-dir", str(tmp_path)]) == 0
    [row] = json.loads((tmp_path / "gpu_host_profile.json").read_text())
    assert row["shape"] == list(gpu_bench.QUICK_SHAPES[0])
    assert set(row["kernel_ms"]) >= {"project"} and len(row["functions"]) == 25
    assert all(f["calls_per_call"] > 0 for f in row["functions"])

@needs_cuda
def test_gpu_bench_first_call_times_fresh_processes(tmp_path):
    """``--first-call`` runs two fresh processes per shape on one new kernel cache (cold,
    then warm) and records each one's import, context, first- and second-call seconds."""
    import json

    from numbarnn import gpu_bench
    assert gpu_bench.main(["--first-call", "--quick", "--output-dir", str(tmp_path)]) == 0
    rows = json.loads((tmp_path / "gpu_first_call.json").read_text())
    assert [(r["shape"], r["cache"]) for r in rows] == [
        (list(s), state) for s in gpu_bench.QUICK_SHAPES for state in ("cold", "warm")]
    for row in rows:
        assert all(row[k] > 0 for k in ("import_s", "context_s", "first_call_s",
                                        "second_call_s"))
