"""The CPU engine's own building blocks: the matrix-product kernel, the batch split, and
the size-dependent paths at their real thresholds, against float64 references."""
import os
import signal

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import numbarnn as nr
from numbarnn.kernels import threads
from numbarnn.kernels.matmul import (matmul_acc, matmul_acc_panels, pack_panels,
                                     vector_lanes)
from numbarnn.kernels.vector_tile import PANEL_VECTORS, ROW_TILE_VECTORS
from naive import rnn_forward


def _assert_product_close(got, c, a, b):
    """``got`` against ``c + a @ b`` in float64, within the worst-case bound of summing
    ``k`` products in order in ``got.dtype`` (one rounding per fused multiply-add):
    ``(k + 1) * u * (|c| + |a| @ |b|)``, u the unit roundoff. A missing or doubled term
    is off by a whole product, far beyond it."""
    c, a, b = (np.asarray(v, np.float64) for v in (c, a, b))
    expected = c + a @ b
    unit_roundoff = np.finfo(got.dtype).eps / 2
    bound = (a.shape[1] + 1) * unit_roundoff * (np.abs(c) + np.abs(a) @ np.abs(b))
    excess = np.abs(got - expected) - bound
    assert (excess <= 1e-300).all(), f"off by {np.abs(got - expected).max()} at " \
        f"{np.unravel_index(np.argmax(excess), excess.shape)}"


@settings(max_examples=60, deadline=None)
@given(m=st.integers(0, 9), k=st.integers(0, 9), n=st.integers(1, 20),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**31 - 1))
def test_matmul_acc_matches_float64_reference(m, k, n, dtype, seed):
    rng = np.random.default_rng(seed)
    a, b, c = (rng.standard_normal(shape).astype(dtype) for shape in ((m, k), (k, n), (m, n)))
    a_copy, b_copy, c_before = a.copy(), b.copy(), c.copy()
    matmul_acc(c, a, b)
    _assert_product_close(c, c_before, a, b)
    np.testing.assert_array_equal(a, a_copy)  # inputs untouched
    np.testing.assert_array_equal(b, b_copy)


def test_matmul_acc_propagates_nan_and_inf_as_ieee():
    a = np.array([[np.inf, 1.0], [np.nan, 0.0], [1.0, 2.0], [0.0, 0.0], [np.inf, 0.0]],
                 np.float32)
    b = np.array([[0.0, 1.0, -1.0], [1.0, 1.0, 1.0]], np.float32)
    c = np.zeros((5, 3), np.float32)
    matmul_acc(c, a, b)
    with np.errstate(invalid="ignore"):
        expected = a.astype(np.float64) @ b.astype(np.float64)  # inf * 0 is NaN
    np.testing.assert_array_equal(c, expected.astype(np.float32))


def _panels_product(c, a, b):
    panels = np.full(b.size, np.nan, b.dtype)  # unwritten slots would show as NaN
    packed = pack_panels(b, panels)
    matmul_acc_panels(c, a, b, panels, packed)
    return packed


@settings(max_examples=80, deadline=None)
@given(m=st.integers(0, 13), k=st.integers(0, 40) | st.integers(100, 300),
       n=st.integers(1, 80), pad=st.integers(0, 5),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**31 - 1))
def test_panel_product_matches_float64_and_the_unpacked_form(m, k, n, pad, dtype, seed):
    """Shapes cross every tile edge: rows beyond a multiple of 4, panels of 1-3 vectors,
    columns beyond the last whole vector; ``c`` and ``a`` are row views of wider arrays."""
    rng = np.random.default_rng(seed)
    a_wide = rng.standard_normal((m, k + pad)).astype(dtype)
    c_wide = rng.standard_normal((m, n + pad)).astype(dtype)
    a, c = a_wide[:, pad:], c_wide[:, :n]
    b = rng.standard_normal((k, n)).astype(dtype)
    c_before = c.copy()
    unpacked = c.copy()
    matmul_acc(unpacked, a, b)
    a_copy, b_copy, right_of_c = a.copy(), b.copy(), c_wide[:, n:].copy()
    packed = _panels_product(c, a, b)
    assert packed == n - n % vector_lanes(b)
    _assert_product_close(c, c_before, a, b)
    np.testing.assert_array_equal(c, unpacked)  # same summation order, same bits
    np.testing.assert_array_equal(a, a_copy)
    np.testing.assert_array_equal(b, b_copy)
    np.testing.assert_array_equal(c_wide[:, n:], right_of_c)  # nothing written outside c


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rows", [1, 3, 6])
def test_leftover_rows_run_every_row_tile_width(rows, dtype):
    """The rows after the blocks of four run in the one-row tile, over every number of
    vectors it takes (1 to ROW_TILE_VECTORS), several runs of it, and with columns past
    the last whole vector: the same bits as the loop form, within the float64 bound,
    nothing written outside ``c``."""
    rng = np.random.default_rng(rows)
    lanes = vector_lanes(np.zeros(1, dtype))
    k = 37
    for vectors in range(1, 2 * ROW_TILE_VECTORS + 2):
        for tail in (0, lanes - 1):
            n = vectors * lanes + tail
            a = rng.standard_normal((rows, k)).astype(dtype)
            b = rng.standard_normal((k, n)).astype(dtype)
            c_wide = rng.standard_normal((rows, n + 3)).astype(dtype)
            c = c_wide[:, :n]
            c_before, right_of_c = c.copy(), c_wide[:, n:].copy()
            unpacked = c.copy()
            matmul_acc(unpacked, a, b)
            assert _panels_product(c, a, b) == vectors * lanes
            np.testing.assert_array_equal(c, unpacked)
            _assert_product_close(c, c_before, a, b)
            np.testing.assert_array_equal(c_wide[:, n:], right_of_c)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pack_panels_layout(dtype):
    lanes = vector_lanes(np.zeros(1, dtype))
    k, n = 3, 2 * PANEL_VECTORS * lanes + 2 * lanes + 1  # two full panels, one of 2 vectors
    b = np.arange(k * n, dtype=dtype).reshape(k, n)
    out = np.full(k * n, -1, dtype)
    assert pack_panels(b, out) == n - 1
    expected, j0 = [], 0
    for width in (PANEL_VECTORS * lanes, PANEL_VECTORS * lanes, 2 * lanes):
        expected.extend(b[:, j0:j0 + width].ravel())
        j0 += width
    np.testing.assert_array_equal(out[:len(expected)], expected)
    assert (out[len(expected):] == -1).all()


@pytest.mark.parametrize("rows", [9, 1])
def test_panel_product_propagates_nan_and_inf_as_ieee(rows):
    """In the four-row tile and in the one-row tile (a batch of one)."""
    rng = np.random.default_rng(3)
    a = rng.standard_normal((9, 5)).astype(np.float32)
    b = rng.standard_normal((5, 40)).astype(np.float32)
    a[0, 1], a[5, 4], b[2, 7], b[0, 33] = np.inf, np.nan, np.inf, np.nan
    b[3, 11] = 0.0
    a[2, 3] = np.inf  # times b[3, 11] == 0: NaN
    if rows == 1:
        a = a[2:3]  # its inf meets a zero weight: NaN; b's inf and NaN reach it too
    c = np.zeros((rows, 40), np.float32)
    _panels_product(c, a, b)
    with np.errstate(invalid="ignore"):
        expected = (a.astype(np.float64) @ b.astype(np.float64)).astype(np.float32)
    np.testing.assert_array_equal(np.isnan(c), np.isnan(expected))
    np.testing.assert_array_equal(np.isinf(c), np.isinf(expected))
    finite = np.isfinite(expected)
    np.testing.assert_allclose(c[finite], expected[finite], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("batch", [0, 1, 2, 7, 8, 16, 33, 37, 50, 256])
def test_row_slices_cover_the_batch_in_aligned_disjoint_ranges(batch, monkeypatch):
    monkeypatch.setattr(threads, "thread_count", lambda: 3)
    slices = threads.row_slices(batch, work=threads.MIN_PARALLEL_WORK)
    rows = [r for r0, r1 in slices for r in range(r0, r1)]
    assert rows == list(range(batch))
    assert all(r0 % threads.ROW_ALIGN == 0 for r0, _ in slices)
    assert len(slices) <= 3 * threads.SLICES_PER_THREAD
    assert all(r1 - r0 >= threads.MIN_ROWS for r0, r1 in slices) or len(slices) == 1
    assert threads.row_slices(batch, work=threads.MIN_PARALLEL_WORK - 1) == [(0, batch)]


def test_row_slices_serial_with_one_thread(monkeypatch):
    monkeypatch.setattr(threads, "thread_count", lambda: 1)
    assert threads.row_slices(1024, work=1 << 40) == [(0, 1024)]


def test_run_sliced_runs_each_slice_once_and_a_late_thread_takes_fewer(monkeypatch):
    """Threads take the next slice not yet started: while one thread is stuck in the
    first slice, the other runs all the rest."""
    import threading
    import time
    monkeypatch.setattr(threads, "thread_count", lambda: 2)
    ran = []

    def kernel(tag, row0, row1):
        if row0 == 0:
            time.sleep(0.3)
        ran.append((row0, row1, threading.get_ident()))

    threads.run_sliced(kernel, ("x",), [(0, 4), (4, 8), (8, 12), (12, 16)])
    assert sorted(r[:2] for r in ran) == [(0, 4), (4, 8), (8, 12), (12, 16)]
    slow_thread = next(r[2] for r in ran if r[0] == 0)
    assert [r[:2] for r in ran if r[2] == slow_thread] == [(0, 4)]


def test_run_sliced_raises_a_worker_error():
    seen = []

    def kernel(tag, row0, row1):
        seen.append((row0, row1))
        if row0 > 0:
            raise ValueError(f"{tag}: rows {row0}:{row1}")

    with pytest.raises(ValueError, match="boom: rows 4:8"):
        threads.run_sliced(kernel, ("boom",), [(0, 4), (4, 8)])
    assert sorted(seen) == [(0, 4), (4, 8)]


def _layer_case(rng, batch, steps, in_dim, units, stacked=False):
    """A float32 SimpleRNN (or a 2-level stack) and its float64 reference levels."""
    cells, levels, dim = [], [], in_dim
    for _ in range(2 if stacked else 1):
        cell = nr.SimpleRNNCell(units)
        cell.build((None, dim))
        ws = [rng.standard_normal((dim, units)) / np.sqrt(dim),
              rng.standard_normal((units, units)) / np.sqrt(units),
              rng.standard_normal(units) * 0.1]
        cell.set_weights(ws)
        ws = [w.astype(np.float64) for w in cell.get_weights()]
        cells.append(cell)
        levels.append({"kernel": ws[0], "recurrent": ws[1], "bias": ws[2],
                       "activation": "tanh", "residual": False})
        dim = units
    x = rng.standard_normal((batch, steps, in_dim)).astype(np.float32)
    return cells, levels, x


def test_default_thresholds_split_the_batch_and_match_reference(rng, monkeypatch):
    """A shape big enough for the batch-split threads at the shipped thresholds, with a
    mask, go_backwards and a stack, so each slice must pick its own rows throughout."""
    monkeypatch.setattr(threads, "thread_count", lambda: 2)
    batch, steps, in_dim, units = 37, 24, 40, 72
    work = batch * steps * (threads.step_work(in_dim, units) + threads.step_work(units, units))
    assert len(threads.row_slices(batch, work)) > 1
    cells, levels, x = _layer_case(rng, batch, steps, in_dim, units, stacked=True)
    mask = rng.random((batch, steps)) > 0.3
    layer = nr.RNN(cells, return_sequences=True, go_backwards=True)
    with nr.device("cpu"):
        out = layer(x, mask=mask)
    ref_seq, _, _ = rnn_forward(x.astype(np.float64), levels, mask, None, True, False)
    np.testing.assert_allclose(out, ref_seq, rtol=1e-4, atol=1e-4)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_threaded_path_works_in_a_forked_child(rng, monkeypatch):
    """The batch-split threads are plain Python threads: a child forked after they ran
    gets its own pool instead of waiting on its parent's threads (which it lacks)."""
    monkeypatch.setattr(threads, "thread_count", lambda: 2)
    cells, levels, x = _layer_case(rng, 32, 40, 32, 64)
    layer = nr.RNN(cells[0])
    expected = layer(x)
    pid = os.fork()
    if pid == 0:  # child: must finish, and agree with the parent
        signal.alarm(60)
        ok = False
        try:
            ok = np.allclose(layer(x), expected, rtol=1e-6, atol=1e-6)
        finally:
            os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def test_thread_count_follows_numba_set_num_threads():
    import numba
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        assert threads.thread_count() == 1
        assert threads.row_slices(1024, work=1 << 40) == [(0, 1024)]
    finally:
        numba.set_num_threads(before)
    assert threads.thread_count() == before


_OTHER_WIDTH_CHECK = """
import numpy as np
from numbarnn.kernels.matmul import matmul_acc_panels, pack_panels, vector_lanes
import numbarnn as nr
from naive import rnn_forward
rng = np.random.default_rng(0)
for dtype in (np.float32, np.float64):
    lanes = vector_lanes(np.zeros(1, dtype))
    assert lanes == {width} // np.dtype(dtype).itemsize, lanes
    for m, k, n in [(4, 3, lanes), (9, 17, 3 * lanes + 2 * lanes + 3), (13, 40, 7 * lanes)]:
        a, b, c = (rng.standard_normal(s).astype(dtype) for s in ((m, k), (k, n), (m, n)))
        expected = c.astype(np.float64) + a.astype(np.float64) @ b.astype(np.float64)
        panels = np.full(b.size, np.nan, dtype)
        matmul_acc_panels(c, a, b, panels, pack_panels(b, panels))
        tol = 1e-5 if dtype == np.float32 else 1e-13
        np.testing.assert_allclose(c, expected, rtol=tol, atol=tol)
layer = nr.SimpleRNN(37, return_sequences=True, dtype="float64")
x = rng.standard_normal((9, 5, 11))
out = layer(x)
kernel, recurrent, bias = layer.get_weights()
level = dict(kernel=kernel, recurrent=recurrent, bias=bias, activation="tanh", residual=False)
np.testing.assert_allclose(out, rnn_forward(x, [level])[0], rtol=1e-10, atol=1e-12)
print("ok")
"""


def test_vector_tile_at_other_register_widths(tmp_path):
    """SSE-wide and AVX-512-wide tiles (LLVM splits or scalarises what this CPU lacks),
    compiled fresh in two subprocesses at once (each compile is single-threaded): the
    panel widths and edges change with the lanes."""
    import subprocess
    import sys
    procs = {}
    for width in (16, 64):
        env = dict(os.environ, NUMBARNN_VECTOR_BYTES=str(width),
                   NUMBA_CACHE_DIR=str(tmp_path / str(width)),
                   PYTHONPATH=os.pathsep.join([os.path.dirname(__file__),
                                               os.environ.get("PYTHONPATH", "")]))
        procs[width] = subprocess.Popen(
            [sys.executable, "-c", _OTHER_WIDTH_CHECK.format(width=width)], env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        results = {width: proc.communicate(timeout=600) for width, proc in procs.items()}
    finally:
        for proc in procs.values():
            proc.kill()  # (a no-op once it has exited)
    for width, (out, err) in results.items():
        assert procs[width].returncode == 0 and out.strip() == "ok", (width, err[-3000:])


def test_vector_bytes_override_is_checked(monkeypatch):
    from numbarnn.kernels import vector_tile
    monkeypatch.setenv("NUMBARNN_VECTOR_BYTES", "48")
    with pytest.raises(ValueError, match="NUMBARNN_VECTOR_BYTES must be 16, 32 or 64"):
        vector_tile._vector_bytes()


def test_weight_panels_are_built_once_per_set_of_weights(rng):
    """The CPU engine packs the weights into panels on first use and keeps them with the
    layer's packed weights; new weights get new panels (and the new results)."""
    layer = nr.SimpleRNN(20, return_sequences=True, dtype="float64")
    x = rng.standard_normal((6, 3, 7))
    with nr.device("cpu"):
        layer(x)
        panels = layer._packed_cache.value.cpu_panels
        assert panels is not None
        layer(x)
        assert layer._packed_cache.value.cpu_panels is panels
        kernel, recurrent, bias = (w * 0.5 for w in layer.get_weights())
        layer.set_weights([kernel, recurrent, bias])
        out = layer(x)
    assert layer._packed_cache.value.cpu_panels is not panels
    level = dict(kernel=kernel, recurrent=recurrent, bias=bias, activation="tanh",
                 residual=False)
    np.testing.assert_allclose(out, rnn_forward(x, [level])[0], rtol=1e-10, atol=1e-12)
