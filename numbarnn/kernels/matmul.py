"""``c += a @ b`` for the CPU kernels: our own product, no BLAS.

Why not BLAS: a per-step BLAS call on a small matrix costs more than its arithmetic;
OpenBLAS threads keep spinning for a while after every call, which on a small machine
takes the cores from the time loop; and BLAS cannot run inside our own threads without
oversubscribing the cores.

:func:`matmul_acc_panels` works in two forms:

- blocks of four rows by one column panel run in the register-tiled
  :mod:`vector_tile`, reading ``b`` from panels made by :func:`pack_panels` (once per
  weight matrix). Packing makes each panel one contiguous stream: read in place, the
  rows of a 256-wide ``b`` are 1 KiB apart and fall into a few L1 cache sets, which
  evict each other (measured on AVX2, 32x256x256: 62-72 us in place, 50-57 us packed).
  The rows left over after the blocks of four (all of them at batch 1) run one at a
  time over up to three panels (``vector_tile.row_tile``);
- the columns that do not fill a vector run in vectorised AXPY loops over ``b``
  itself. :func:`matmul_acc` is this form alone.

Every output element is summed over the inner dimension in order, with fused
multiply-adds and no other fast-math, in both forms: a row gives the same bits whichever
form computes it, and NaN and inf propagate as IEEE says.
"""
import numpy as np
from numba import njit

from .disk_cache import lock_index
from .scalar_math import CPU_JIT
from .vector_tile import (PANEL_VECTORS, ROW_TILE_VECTORS, TILE_ROWS, VECTOR_BYTES,
                          block_tile, row_tile)

# ``contract`` lets LLVM fuse multiply-adds; no reassociation (fixed summation order) and
# no nnan/ninf.
_MATMUL_JIT = dict(CPU_JIT, fastmath={"contract"})


@lock_index
@njit(**_MATMUL_JIT)
def _rows4_acc(c, a, b, r, j_lo, j_hi):
    """c[r:r+4, j_lo:j_hi] += a[r:r+4] @ b[:, j_lo:j_hi], three inner terms per pass.

    The loop over columns vectorises. Each pass loads three rows of ``b`` once for four
    output rows and keeps the twelve ``a`` values in registers.
    """
    depth = a.shape[1]
    c0, c1, c2, c3 = c[r], c[r + 1], c[r + 2], c[r + 3]
    x0, x1, x2, x3 = a[r], a[r + 1], a[r + 2], a[r + 3]
    i = 0
    while i + 3 <= depth:
        p0, p1, p2 = x0[i], x0[i + 1], x0[i + 2]
        q0, q1, q2 = x1[i], x1[i + 1], x1[i + 2]
        s0, s1, s2 = x2[i], x2[i + 1], x2[i + 2]
        t0, t1, t2 = x3[i], x3[i + 1], x3[i + 2]
        b0, b1, b2 = b[i], b[i + 1], b[i + 2]
        for j in range(j_lo, j_hi):
            w0 = b0[j]
            w1 = b1[j]
            w2 = b2[j]
            c0[j] = c0[j] + p0 * w0 + p1 * w1 + p2 * w2  # chained FMAs
            c1[j] = c1[j] + q0 * w0 + q1 * w1 + q2 * w2
            c2[j] = c2[j] + s0 * w0 + s1 * w1 + s2 * w2
            c3[j] = c3[j] + t0 * w0 + t1 * w1 + t2 * w2
        i += 3
    while i < depth:
        p0, q0, s0, t0 = x0[i], x1[i], x2[i], x3[i]
        b0 = b[i]
        for j in range(j_lo, j_hi):
            w0 = b0[j]
            c0[j] += p0 * w0
            c1[j] += q0 * w0
            c2[j] += s0 * w0
            c3[j] += t0 * w0
        i += 1


@lock_index
@njit(**_MATMUL_JIT)
def _row1_acc(c, a, b, r, j_lo, j_hi):
    """c[r, j_lo:j_hi] += a[r] @ b[:, j_lo:j_hi], four inner terms per pass over the row."""
    depth = a.shape[1]
    c0 = c[r]
    x0 = a[r]
    i = 0
    while i + 4 <= depth:
        p0, p1, p2, p3 = x0[i], x0[i + 1], x0[i + 2], x0[i + 3]
        b0, b1, b2, b3 = b[i], b[i + 1], b[i + 2], b[i + 3]
        for j in range(j_lo, j_hi):
            c0[j] = c0[j] + p0 * b0[j] + p1 * b1[j] + p2 * b2[j] + p3 * b3[j]
        i += 4
    while i < depth:
        p0 = x0[i]
        b0 = b[i]
        for j in range(j_lo, j_hi):
            c0[j] += p0 * b0[j]
        i += 1


@lock_index
@njit(**CPU_JIT)
def vector_lanes(arr):
    """How many elements of ``arr``'s dtype fill one vector register."""
    return VECTOR_BYTES // arr.itemsize


@lock_index
@njit(**CPU_JIT)
def pack_panels(b, out):
    """Copy ``b (K, N)`` into the 1-D ``out`` as column panels; return the columns packed.

    Panels are ``PANEL_VECTORS`` vectors wide, the last one 1 or 2 vectors; a panel of
    width ``w`` starting at column ``j`` is stored row by row at ``out[j * K:]``. Columns
    beyond the last whole vector are not packed (``matmul_acc_panels`` reads them from
    ``b``). ``out`` needs at least ``K * N`` elements.
    """
    depth, n = b.shape
    lanes = vector_lanes(b)
    packed = n - n % lanes
    j0 = 0
    while j0 < packed:
        width = min(PANEL_VECTORS * lanes, packed - j0)
        base = j0 * depth
        for k in range(depth):
            row = b[k]
            for q in range(width):
                out[base + k * width + q] = row[j0 + q]
        j0 += width
    return packed


@lock_index
@njit(**CPU_JIT)
def matmul_acc_panels(c, a, b, panels, packed):
    """``c += a @ b`` with ``panels, packed`` from ``pack_panels(b, panels)``.

    ``c (M, N)`` and ``a (M, K)`` need contiguous rows. Blocks of four rows by one panel
    run in the vector tile, the leftover rows in the one-row tile over up to three
    panels; the unpacked columns (all of them when ``packed`` is 0) run in vectorised
    loops over ``b``.
    """
    m = c.shape[0]
    n = c.shape[1]
    depth = a.shape[1]
    lanes = vector_lanes(c)
    full = PANEL_VECTORS * lanes
    m4 = m - m % TILE_ROWS
    j0 = 0
    while j0 < packed:
        width = min(full, packed - j0)
        offset = j0 * depth
        for r in range(0, m4, TILE_ROWS):
            block_tile(c, a, panels, r, j0, offset, width // lanes)
        j0 += width
    if packed < n:
        for r in range(0, m4, TILE_ROWS):
            _rows4_acc(c, a, b, r, packed, n)
    for r in range(m4, m):
        j0 = 0
        while j0 < packed:  # (runs of whole panels start on a panel, as the tile needs)
            vectors = min(ROW_TILE_VECTORS, (packed - j0) // lanes)
            row_tile(c, a, panels, r, j0, j0 * depth, vectors)
            j0 += vectors * lanes
        if packed < n:
            _row1_acc(c, a, b, r, packed, n)


@lock_index
@njit(**CPU_JIT)
def matmul_acc(c, a, b):
    """``c += a @ b`` without panels: ``matmul_acc_panels`` with no column packed, so
    every row runs in the loop form (the baseline the tests and asv compare with)."""
    matmul_acc_panels(c, a, b, np.empty(0, c.dtype), 0)
