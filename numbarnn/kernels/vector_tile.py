"""A register-tiled multiply-add tile, emitted as LLVM vector IR through a numba intrinsic.

``c[r:r+4, j:j+w] += a[r:r+4, :] @ panel`` where ``panel`` is a ``(K, w)`` block of
``b`` stored contiguously (see :func:`numbarnn.kernels.matmul.pack_panels`) and ``w``
is 1, 2 or 3 hardware vectors. The 4 x w block of ``c`` stays in vector registers for
the whole loop over ``K``: per step of that loop, ``w / lanes`` vector loads of the
panel, four broadcasts of ``a`` and ``4 * w / lanes`` fused multiply-adds, no stores.
``row_tile`` is the same for one row over up to three consecutive panels (the rows
left over after the blocks of four).

Why IR: numba compiles Python loops to scalar code that LLVM's loop vectoriser then
widens along one loop only; it cannot keep a two-dimensional block of accumulators in
registers across the ``K`` loop, so the best loop form stores ``c`` every few FMAs
(measured 50-70 GFLOP/s per AVX2 core, against 70-87 for this tile). Writing the tile
with explicit vector types gives LLVM nothing to guess: it maps each vector to one
register of whatever width the CPU has (``VECTOR_BYTES``).

Each output element is summed over ``K`` in order with ``llvm.fmuladd`` (fused where
the CPU has FMA), the same order as the scalar kernels in ``matmul.py``; no fast-math
flags, so NaN and inf propagate as IEEE says.
"""
import os

import llvmlite.binding as llvm
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


def _vector_bytes():
    """Width of the CPU's widest float vector register, in bytes; the environment
    variable ``NUMBARNN_VECTOR_BYTES`` (16, 32 or 64) overrides it, which lets the tests
    run every width's code on one machine (LLVM splits or scalarises vectors wider
    than the CPU's). Compiled code keeps the width it was built with: change it only
    with a fresh ``NUMBA_CACHE_DIR``."""
    override = os.environ.get("NUMBARNN_VECTOR_BYTES", "")
    if override:
        if override not in ("16", "32", "64"):
            raise ValueError("NUMBARNN_VECTOR_BYTES must be 16, 32 or 64, "
                             f"got {override!r}")
        return int(override)
    features = llvm.get_host_cpu_features()
    return 64 if features.get("avx512f") else (32 if features.get("avx") else 16)


VECTOR_BYTES = _vector_bytes()
TILE_ROWS = 4
#: Vectors per full panel: 4 x 3 accumulators plus 3 panel loads and a broadcast fill
#: the 16 AVX2 registers (measured: 4 x 3 beat 4 x 2, 6 x 2, 3 x 4 and 8 x 1).
PANEL_VECTORS = 3
#: Vectors of one row that ``row_tile`` keeps in registers: three panels, nine
#: accumulators (with an FMA latency of four cycles and two FMAs per cycle, eight hide
#: it; 64 units are 8 vectors of float64 on AVX-512 and of float32 on AVX2).
ROW_TILE_VECTORS = 3 * PANEL_VECTORS


def _is_float_matrix(ty, ndim):
    return (isinstance(ty, types.Array) and ty.ndim == ndim
            and ty.dtype in (types.float32, types.float64))


def _make_tile(rows, most_vectors):
    """The intrinsic ``tile(c, a, panels, r, j, offset, vectors)``: ``c[r:r + rows, j:j +
    w] += a[r:r + rows] @ b[:, j:j + w]`` for ``w = vectors * lanes`` columns
    (``vectors`` from 1 to ``most_vectors``) that start a panel.

    ``c (M, N)`` and ``a (M, K)`` are 2-D with contiguous rows; ``panels`` is 1-D and
    holds element ``(k, q)`` of the panel at column ``j`` at ``panels[offset + k *
    width + q]``, the next panel right after it: every panel full (PANEL_VECTORS
    vectors) but the last. Each ``vectors`` compiles to its own loop over ``K``; a
    switch picks it, once per call.
    """

    @intrinsic
    def tile(typingctx, c, a, panels, r, j, offset, vectors):
        if not (_tile_types(c, a, panels) and isinstance(vectors, types.Integer)):
            return None
        sig = types.void(c, a, panels, types.intp, types.intp, types.intp, types.intp)

        def codegen(context, builder, sig, args):
            done = builder.append_basic_block("tile.done")
            switch = builder.switch(args[6], done)
            for count in range(1, most_vectors + 1):
                block = builder.append_basic_block(f"tile.{count}")
                switch.add_case(ir.Constant(args[6].type, count), block)
                builder.position_at_end(block)
                _emit_tile(context, builder, sig, args, rows, count)
                builder.branch(done)
            builder.position_at_end(done)
            return context.get_dummy_value()

        return sig, codegen

    return tile


def _tile_types(c, a, panels):
    return (_is_float_matrix(c, 2) and _is_float_matrix(a, 2)
            and _is_float_matrix(panels, 1) and c.dtype == a.dtype == panels.dtype)


def _emit_tile(context, builder, sig, args, rows, vectors):
    """``c[r:r + rows, j:j + vectors * lanes] += a[r:r + rows] @ panels`` (see
    :func:`_make_tile`); the first six of ``args`` are ``(c, a, panels, r, j,
    offset)``."""
    cty, aty, pty = sig.args[:3]
    fty = context.get_value_type(cty.dtype)
    itemsize = context.get_abi_sizeof(fty)
    lanes = VECTOR_BYTES // itemsize
    vty = ir.VectorType(fty, lanes)
    intp = context.get_value_type(types.intp)
    byte_ptr = ir.IntType(8).as_pointer()

    def const(value):
        return ir.Constant(intp, value)

    c_arr = context.make_array(cty)(context, builder, args[0])
    a_arr = context.make_array(aty)(context, builder, args[1])
    p_arr = context.make_array(pty)(context, builder, args[2])
    row0, col0, offset = args[3], args[4], args[5]
    c_stride = cgutils.unpack_tuple(builder, c_arr.strides)[0]
    a_stride = cgutils.unpack_tuple(builder, a_arr.strides)[0]
    depth = cgutils.unpack_tuple(builder, a_arr.shape)[1]
    c_data = builder.bitcast(c_arr.data, byte_ptr)
    a_data = builder.bitcast(a_arr.data, byte_ptr)
    p_data = builder.bitcast(p_arr.data, byte_ptr)
    fmuladd = cgutils.get_or_insert_function(
        builder.module, ir.FunctionType(vty, [vty, vty, vty]),
        f"llvm.fmuladd.v{lanes}{'f32' if itemsize == 4 else 'f64'}")

    def c_vector_ptr(i, v):
        row_bytes = builder.mul(builder.add(row0, const(i)), c_stride)
        col_bytes = builder.mul(builder.add(col0, const(v * lanes)), const(itemsize))
        return builder.bitcast(builder.gep(c_data, [builder.add(row_bytes, col_bytes)]),
                               vty.as_pointer())

    # Accumulators as entry-block allocas: LLVM's mem2reg turns them into registers.
    acc = [[cgutils.alloca_once(builder, vty) for _ in range(vectors)]
           for _ in range(rows)]
    for i in range(rows):
        for v in range(vectors):
            builder.store(builder.load(c_vector_ptr(i, v), align=itemsize), acc[i][v])
    a_rows = [builder.bitcast(builder.gep(a_data, [builder.mul(
        builder.add(row0, const(i)), a_stride)]), fty.as_pointer())
        for i in range(rows)]
    # Panel p holds vectors p * PANEL_VECTORS onwards, after p full panels of K rows.
    widths = [min(PANEL_VECTORS, vectors - v0) for v0 in range(0, vectors, PANEL_VECTORS)]
    full_bytes = builder.mul(depth, const(PANEL_VECTORS * lanes * itemsize))
    first = builder.gep(p_data, [builder.mul(offset, const(itemsize))])
    panels = [builder.gep(first, [builder.mul(full_bytes, const(p))])
              for p in range(len(widths))]
    splat_mask = ir.Constant(ir.VectorType(ir.IntType(32), lanes), [0] * lanes)
    undef = ir.Constant(vty, ir.Undefined)
    with cgutils.for_range(builder, depth) as loop:
        k = loop.index
        b_vecs = []
        for panel, width in zip(panels, widths):
            panel_row = builder.gep(panel, [builder.mul(k, const(width * lanes * itemsize))])
            b_vecs += [builder.load(builder.bitcast(
                builder.gep(panel_row, [const(v * lanes * itemsize)]), vty.as_pointer()),
                align=itemsize) for v in range(width)]
        for i in range(rows):
            scalar = builder.load(builder.gep(a_rows[i], [k]))
            splat = builder.shuffle_vector(
                builder.insert_element(undef, scalar, ir.Constant(ir.IntType(32), 0)),
                undef, splat_mask)
            for v in range(vectors):
                builder.store(builder.call(fmuladd, [splat, b_vecs[v],
                                                     builder.load(acc[i][v])]), acc[i][v])
    for i in range(rows):
        for v in range(vectors):
            builder.store(builder.load(acc[i][v]), c_vector_ptr(i, v), align=itemsize)
    return context.get_dummy_value()


#: Four rows by one panel of 1 to PANEL_VECTORS vectors (the blocks of four rows).
block_tile = _make_tile(TILE_ROWS, PANEL_VECTORS)
#: One row by 1 to ROW_TILE_VECTORS vectors over consecutive panels (the rows left over
#: after the blocks of four, all of them at batch 1). One row alone is a chain of ``K``
#: multiply-adds per output vector, so a single panel would wait on the FMA latency.
row_tile = _make_tile(1, ROW_TILE_VECTORS)
