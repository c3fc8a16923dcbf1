"""numbarnn.backend beyond the basics: values against plain numpy float64 formulas,
result dtypes (tf-keras's, not numpy's promotions), and argument errors."""
import warnings

import numpy as np
import pytest

import numbarnn as nr
from numbarnn import backend as K

RNG = np.random.default_rng(7)


def rand(shape, dtype="float32"):
    return RNG.standard_normal(shape).astype(dtype)


def close(result, expected, dtype):
    """``result`` has ``dtype`` and the float64 ``expected`` values to its precision."""
    result = np.asarray(result)
    assert result.dtype == np.dtype(dtype), (result.dtype, dtype)
    tol = {"float16": 3e-3, "float32": 2e-6, "float64": 1e-12}.get(np.dtype(dtype).name, 0)
    np.testing.assert_allclose(result.astype(np.float64), expected, rtol=tol, atol=tol)


AXES = [None, 0, -1, 1, [0, 2], (1, 2), []]


# -- conversions ----------------------------------------------------------------------
@pytest.mark.parametrize("value, dtype", [(2, "int32"), (2 ** 40, "int64"), (2.5, "float32"),
                                          ([1, 2.5], "float32"), ([True], "bool"),
                                          ([[1, 2]], "int32")])
def test_python_values_convert_as_tensorflow(value, dtype):
    assert K.flatten(value).dtype == np.dtype(dtype)
    assert K.max(np.float64(1.0)).dtype == np.float64  # numpy scalars keep their dtype


def test_python_operand_takes_the_array_dtype_or_fails():
    x = np.array([1.5, 2.0], np.float32)
    assert K.pow(x, 2).dtype == np.float32
    assert K.pow(2, x).dtype == np.float32  # the array is the tensor
    np.testing.assert_allclose(K.pow(2, x), 2.0 ** x.astype(np.float64), rtol=1e-6)
    i = np.array([1, 2], np.int64)
    assert K.pow(i, 2).dtype == np.int64
    for bad in [(i, 0.5), (i, 2.0), (np.array([True]), 1)]:
        with pytest.raises(TypeError, match="Cannot convert"):
            K.equal(*bad)
    with pytest.raises(TypeError, match="Cannot convert 0.5 to EagerTensor of dtype int32"):
        K.pow(2, 0.5)
    assert K.equal(np.array([1.0], np.float16), 70000.0).tolist() == [False]  # inf


def test_mixed_arrays_take_the_first_dtype_and_variables_win():
    f32, f64 = np.array([1.5, 2.0], np.float32), np.array([2.0, 3.0])
    assert K.pow(f32, f64).dtype == np.float32
    assert K.pow(f64, f32).dtype == np.float64
    v = nr.Variable(f32)
    assert K.pow(f64, v).dtype == np.float32
    assert K.bias_add(np.ones((2, 2)), v).dtype == np.float32
    # an int array meets a float array as TensorFlow meets numpy input: cast to int
    assert K.equal(np.array([1, 2]), np.array([1.5, 2.0])).tolist() == [True, True]


# -- reductions -----------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("keepdims", [False, True])
def test_float_reductions(dtype, axis, keepdims):
    x = rand((2, 3, 4), dtype)
    x64 = x.astype(np.float64)
    ax = tuple(axis) if isinstance(axis, list) else axis
    mean = x64.mean(axis=ax, keepdims=True)
    var = ((x64 - mean) ** 2).mean(axis=ax, keepdims=keepdims)
    close(K.max(x, axis, keepdims), x64.max(axis=ax, keepdims=keepdims), dtype)
    close(K.min(x, axis, keepdims), x64.min(axis=ax, keepdims=keepdims), dtype)
    close(K.prod(x, axis, keepdims), x64.prod(axis=ax, keepdims=keepdims),
          dtype if dtype != "float16" else "float16")
    loose = dict(dtype=dtype) if dtype != "float16" else None
    if loose:
        close(K.var(x, axis, keepdims), var, dtype)
        close(K.std(x, axis, keepdims), np.sqrt(var), dtype)
    else:
        assert K.var(x, axis, keepdims).dtype == np.float16
        np.testing.assert_allclose(K.std(x, axis, keepdims).astype(float), np.sqrt(var),
                                   rtol=1e-2, atol=1e-2)
    assert K.all(x > -10, axis, keepdims).dtype == bool
    np.testing.assert_array_equal(K.any(x > 1, axis, keepdims),
                                  (x64 > 1).any(axis=ax, keepdims=keepdims))
    np.testing.assert_array_equal(K.all(x, axis, keepdims), (x64 != 0).all(axis=ax,
                                                                            keepdims=keepdims))


def test_reductions_keep_integer_dtypes_and_wrap():
    x = np.array([100, 100], np.int8)
    assert K.prod(x).dtype == np.int8 and int(K.prod(x)) == 16  # 10000 mod 256
    assert K.cumsum(x).tolist() == [100, -56]
    assert K.max([1, 5, 3]).dtype == np.int32
    assert K.max(np.array([200, 3], np.uint8)) == 200


def test_empty_reductions_give_identities_and_nan():
    e = np.ones((0, 3), np.float32)
    assert K.max(e, 0).tolist() == [-np.inf] * 3 and K.min(e, 0).tolist() == [np.inf] * 3
    assert K.max(np.ones((0, 2), np.int32), 0).tolist() == [np.iinfo(np.int32).min] * 2
    assert K.prod(e, 0).tolist() == [1, 1, 1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isnan(K.var(e, 0)).all() and np.isnan(K.std(np.ones(0, np.float32)))
        assert K.var(e, 0).dtype == np.float32


def test_nan_propagates_in_max_and_is_skipped_by_argmax():
    x = np.array([1.0, np.nan, 3.0, 0.0], np.float32)
    assert np.isnan(K.max(x)) and np.isnan(K.min(x))
    assert K.argmax(x) == 2 and K.argmin(x) == 3
    assert K.argmax(np.array([np.nan, 1.0])) == 1
    assert K.argmax(np.array([np.nan, np.nan])) == 0


def test_moments_of_bool_and_errors():
    b = np.array([True, False])
    assert K.std(b).dtype == np.float32 and float(K.std(b)) == 0.5
    assert float(K.var(b)) == 0.25
    with pytest.raises(TypeError, match="real or complex"):
        K.std(np.array([1, 2]))
    with pytest.raises(TypeError, match="real or complex"):
        K.var([1, 2])
    with pytest.raises(TypeError, match="does not support dtype bool"):
        K.max(b)
    with pytest.raises(TypeError, match="does not support dtype bool"):
        K.prod(b)
    with pytest.raises(ValueError, match="duplicate"):
        K.max(np.ones((2, 3)), axis=[0, 0])
    with pytest.raises(TypeError):
        K.max(np.ones((2, 3)), axis=1.0)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "bool"])
def test_argmax_argmin(dtype):
    x = rand((3, 4, 5)) if dtype != "bool" else rand((3, 4, 5)) > 0
    x = x.astype(dtype) if dtype != "int32" else (x * 10).astype(dtype)
    for axis in [-1, 0, 1]:
        r = K.argmax(x, axis)
        assert r.dtype == np.int64
        np.testing.assert_array_equal(r, np.argmax(x, axis))
        np.testing.assert_array_equal(K.argmin(x, axis), np.argmin(x, axis))
    np.testing.assert_array_equal(K.argmax(x, None), np.argmax(x, 0))  # None means 0
    assert K.argmax([1, 3, 3]) == 1  # first on ties
    with pytest.raises(TypeError, match="axis must be int"):
        K.argmax(x, [0])
    with pytest.raises(ValueError, match="range"):
        K.argmax(x, 3)
    with pytest.raises(ValueError, match="range"):
        K.argmax(np.float32(1.0))


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64"])
def test_cumsum_cumprod(dtype):
    x = (rand((3, 4)) * 3).astype(dtype)
    for axis in [0, 1, -1]:
        close(K.cumsum(x, axis), np.cumsum(x.astype(np.float64), axis), dtype)
        close(K.cumprod(x, axis), np.cumprod(x.astype(np.float64), axis), dtype)
    assert K.cumsum(x).shape == (3, 4)  # axis=0 by default, not flattened
    with pytest.raises(ValueError, match="None"):
        K.cumsum(x, axis=None)
    with pytest.raises(ValueError, match="range"):
        K.cumsum(x, 2)
    with pytest.raises(TypeError, match="bool"):
        K.cumsum(np.array([True]))


# -- element-wise ---------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_elementwise_values(dtype):
    x = (rand((3, 5)) * 4).astype(dtype)
    x64 = x.astype(np.float64)
    close(K.log(np.abs(x) + 1), np.log(np.abs(x64) + 1), dtype)
    close(K.sin(x), np.sin(x64), dtype)
    close(K.cos(x), np.cos(x64), dtype)
    close(K.sign(x), np.sign(x64), dtype)
    close(K.round(x), np.round(x64), dtype)
    close(K.softplus(x), np.log1p(np.exp(x64)), dtype)
    close(K.softsign(x), x64 / (1 + np.abs(x64)), dtype)
    close(K.elu(x), np.where(x64 > 0, x64, np.expm1(x64)), dtype)
    close(K.elu(x, 0.3), np.where(x64 > 0, x64, 0.3 * np.expm1(x64)), dtype)
    close(K.pow(np.abs(x), 3), np.abs(x64) ** 3, dtype)
    close(K.pow(np.abs(x), 0.5), np.abs(x64) ** 0.5, dtype)


def test_elementwise_special_values_are_silent():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = K.log(np.array([0.0, -1.0], np.float32))
        assert out[0] == -np.inf and np.isnan(out[1])
        assert K.pow(np.array([10.0], np.float32), 50)[0] == np.inf
        assert K.softplus(np.array([1000.0], np.float32))[0] == 1000.0
    assert K.round(np.array([0.5, 1.5, 2.5, -0.5], np.float32)).tolist() == [0, 2, 2, -0.0]
    assert K.round(np.array([1, 2], np.uint8)).dtype == np.uint8
    assert K.sign(np.array([-3, 0, 4])).tolist() == [-1, 0, 1]
    assert K.log(2.0).dtype == np.float32


@pytest.mark.parametrize("fn", [K.log, K.softplus, K.softsign, K.elu, K.sin, K.cos])
def test_float_only_functions_reject_integers(fn):
    with pytest.raises(TypeError):
        fn(np.array([1, 2]))
    with pytest.raises(TypeError):
        fn(2)


def test_sign_round_pow_dtype_errors():
    with pytest.raises(TypeError, match="uint8"):
        K.sign(np.array([1], np.uint8))
    with pytest.raises(TypeError, match="bool"):
        K.round(np.array([True]))
    with pytest.raises(TypeError, match="bool"):
        K.pow(np.array([True]), 2)
    with pytest.raises(ValueError, match="negative"):
        K.pow(np.array([2, 3], np.int32), -1)


@pytest.mark.parametrize("name, op", [("equal", np.equal), ("not_equal", np.not_equal),
                                      ("greater", np.greater), ("less", np.less),
                                      ("greater_equal", np.greater_equal),
                                      ("less_equal", np.less_equal)])
def test_comparisons(name, op):
    fn = getattr(K, name)
    x, y = np.round(rand((3, 4))), np.round(rand((4,)))
    r = fn(x, y)
    assert r.dtype == bool and r.shape == (3, 4)
    np.testing.assert_array_equal(r, op(x.astype(np.float64), y.astype(np.float64)))
    np.testing.assert_array_equal(fn(x, 0), op(x, 0.0))
    np.testing.assert_array_equal(fn(0.5, x), op(0.5, x))
    with pytest.raises(ValueError):
        fn(np.ones(2), np.ones(3))
    if name not in ("equal", "not_equal"):
        with pytest.raises(TypeError, match="bool"):
            fn(np.array([True]), np.array([False]))


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("axis", [None, 0, -1, [0, 1], (1,)])
def test_l2_normalize(dtype, axis):
    x = rand((3, 4), dtype)
    x64 = x.astype(np.float64)
    ax = tuple(axis) if isinstance(axis, list) else axis
    expected = x64 / np.sqrt(np.maximum((x64 ** 2).sum(axis=ax, keepdims=True), 1e-12))
    if dtype == "float16":
        r = K.l2_normalize(x, axis)
        assert r.dtype == np.float16
        np.testing.assert_allclose(r.astype(float), expected, rtol=1e-2, atol=1e-2)
    else:
        close(K.l2_normalize(x, axis), expected, dtype)
    zeros = K.l2_normalize(np.zeros((2, 2), dtype), axis)
    if dtype == "float16":  # 1e-12 underflows to 0 in float16: 0 / 0, as TensorFlow
        assert np.isnan(zeros).all()
    else:
        assert zeros.tolist() == [[0, 0], [0, 0]]
    with pytest.raises(TypeError):
        K.l2_normalize(np.array([3, 4]))


# -- bias_add -------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_bias_add(dtype):
    x, b = rand((2, 3, 4, 5), dtype), rand((5,), dtype)
    close(K.bias_add(x, b), x.astype(float) + b.astype(float), dtype)
    b1 = rand((3,), dtype)
    close(K.bias_add(x, b1, data_format="channels_first"),
          x.astype(float) + b1.astype(float)[:, None, None], dtype)
    x2 = rand((2, 3), dtype)
    close(K.bias_add(x2, b1, "channels_first"), x2.astype(float) + b1.astype(float), dtype)
    bn = rand((3, 4, 5), dtype)  # one bias per position, channels_last layout
    close(K.bias_add(x, bn), x.astype(float) + bn.astype(float), dtype)
    xf = rand((2, 5, 3, 4), dtype)  # channels_first: reshaped, as tf-keras (not transposed)
    close(K.bias_add(xf, bn, "channels_first"),
          xf.astype(float) + bn.astype(float).reshape(1, 5, 3, 4), dtype)
    assert K.bias_add(x2, b1.astype("float64" if dtype == "float32" else "float32")
                      ).dtype == np.dtype(dtype)


def test_bias_add_errors_and_default_format():
    x = np.ones((2, 3), np.float32)
    with pytest.raises(ValueError, match="Unknown data_format: NHWC"):
        K.bias_add(x, np.ones(3), data_format="NHWC")
    with pytest.raises(ValueError, match="as many biases"):
        K.bias_add(x, np.ones(4))
    with pytest.raises(ValueError, match="Unexpected bias dimensions 0"):
        K.bias_add(x, np.float32(1))
    with pytest.raises(ValueError, match="Unexpected bias dimensions 3"):
        K.bias_add(np.ones((2, 3, 4)), np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match="at least 2D"):
        K.bias_add(np.ones(3), np.ones(3))
    assert K.image_data_format() == "channels_last"
    try:
        K.set_image_data_format("channels_first")
        np.testing.assert_array_equal(K.bias_add(np.zeros((1, 2, 3)), [1.0, 2.0]),
                                      [[[1, 1, 1], [2, 2, 2]]])
    finally:
        K.set_image_data_format("channels_last")
    with pytest.raises(ValueError, match="Unknown `data_format`"):
        K.set_image_data_format("NCHW")


# -- shapes ---------------------------------------------------------------------------
def test_shape_functions():
    x = np.arange(24.0, dtype=np.float32).reshape(2, 3, 4)
    assert K.ndim(x) == 3 and type(K.ndim(x)) is int
    assert K.count_params(x) == 24 and K.count_params(np.float32(1)) == 1.0
    assert K.count_params(nr.Variable(np.ones((2, 5)))) == 10
    np.testing.assert_array_equal(K.flatten(x), x.ravel())
    assert K.flatten(np.float32(3)).shape == (1,)
    np.testing.assert_array_equal(K.batch_flatten(x), x.reshape(2, 12))
    assert K.batch_flatten(np.ones(5)).shape == (5, 1)
    assert K.batch_flatten(np.ones((2, 0))).shape == (2, 0)
    assert K.batch_flatten(np.ones((0, 3, 4))).shape == (0, 12)
    np.testing.assert_array_equal(K.squeeze(x[:, None], 1), x)
    np.testing.assert_array_equal(K.squeeze(x[:, :, None], -2), x)
    np.testing.assert_array_equal(K.tile(x, [1, 2, 1]), np.concatenate([x, x], axis=1))
    np.testing.assert_array_equal(K.tile(np.arange(3), 2), [0, 1, 2, 0, 1, 2])
    np.testing.assert_array_equal(K.permute_dimensions(x, (2, 0, 1)), x.transpose(2, 0, 1))
    np.testing.assert_array_equal(K.repeat_elements(x, 2, 1), np.repeat(x, 2, axis=1))
    np.testing.assert_array_equal(K.reverse(x, 1), x[:, ::-1])
    np.testing.assert_array_equal(K.reverse(x, [0, -1]), x[::-1, :, ::-1])
    r = K.repeat(x[0], 3)
    assert r.shape == (3, 3, 4) and (r[:, 1] == x[0]).all()


def test_shape_function_errors():
    x = np.ones((2, 3))
    with pytest.raises(ValueError):
        K.squeeze(x, 0)
    with pytest.raises(TypeError, match="axis"):
        K.squeeze(x, [0])
    with pytest.raises(ValueError, match="length 2 but got length 1"):
        K.tile(x, 2)
    with pytest.raises(ValueError, match=">= 0"):
        K.tile(x, [-1, 1])
    with pytest.raises(ValueError):
        K.permute_dimensions(x, (1,))
    with pytest.raises(ValueError):
        K.reverse(x, [1, 1])
    with pytest.raises(AssertionError):
        K.repeat(np.ones((2, 3, 4)), 2)


def test_gather():
    ref = np.arange(12.0, dtype=np.float32).reshape(4, 3)
    np.testing.assert_array_equal(K.gather(ref, [2, 0]), ref[[2, 0]])
    idx = np.array([[1, 3], [0, 0]], np.int64)
    r = K.gather(ref, idx)
    assert r.shape == (2, 2, 3) and r.dtype == np.float32
    np.testing.assert_array_equal(r, ref[idx])
    np.testing.assert_array_equal(K.gather(ref, 1), ref[1])
    np.testing.assert_array_equal(K.gather(nr.Variable(ref), [3]), ref[[3]])
    with pytest.raises(IndexError, match=r"indices\[0\] = -1 is not in \[0, 4\)"):
        K.gather(ref, [-1])
    with pytest.raises(IndexError, match="is not in"):
        K.gather(ref, np.array([[0, 4]]))
    with pytest.raises(TypeError, match="int16, int32 or int64"):
        K.gather(ref, [1.0])


# -- creation -------------------------------------------------------------------------
def test_constant():
    c = K.constant([1, 2])
    assert c.dtype == np.float32 and c.tolist() == [1.0, 2.0]
    assert K.constant(2.0, shape=(2, 3)).tolist() == [[2.0] * 3] * 2
    assert K.constant([7], shape=(2,)).tolist() == [7.0, 7.0]
    assert K.constant(np.arange(6), shape=[3, 2]).shape == (3, 2)
    assert K.constant(np.array([1.7, -1.7]), dtype="int32").tolist() == [1, -1]
    assert K.constant(1, dtype=np.float64).dtype == np.float64
    assert K.constant(True).dtype == np.float32
    assert K.constant(1e40)[()] == np.inf
    src = np.ones(2, np.float32)
    out = K.constant(src)
    out[0] = 5
    assert src[0] == 1  # a copy
    with pytest.raises(TypeError, match="Cannot convert"):
        K.constant([1.5, 2], dtype="int32")
    with pytest.raises(TypeError, match="unsupported shape"):
        K.constant([1.0, 2.0], shape=(3,))
    with pytest.raises(ValueError, match="scalar"):
        K.constant([[7.0]], shape=(2, 2))
    with pytest.raises(ValueError, match="None"):
        K.constant(None)


def test_variable_and_eye():
    v = K.variable([1, 2], name="w", constraint=abs)
    assert isinstance(v, nr.Variable) and v.name == "w:0" and v.dtype == np.float32
    assert v.constraint is abs and v.numpy().tolist() == [1.0, 2.0]
    assert K.variable(np.ones(2)).name == "Variable:0"
    assert K.variable(np.ones(2)).dtype == np.float32  # floatx, not the array's dtype
    assert K.variable(np.ones(2), dtype="float64").dtype == np.float64
    with pytest.raises(TypeError, match="Cannot convert"):
        K.variable(2.5, dtype="int32")
    e = K.eye(3, name="e")
    assert isinstance(e, nr.Variable) and e.name == "e:0" and e.dtype == np.float32
    np.testing.assert_array_equal(e.numpy(), np.eye(3))
    assert K.eye(2, dtype="int32").dtype == np.int32 and K.eye(0).shape == (0, 0)
    with pytest.raises(TypeError):
        K.eye(2.0)
    with pytest.raises(ValueError):
        K.eye(-1)


@pytest.mark.parametrize("args, kwargs, expected, dtype", [
    ((5,), {}, [0, 1, 2, 3, 4], "int32"),
    ((-3,), {}, [], "int32"),
    ((1.5, 4), {}, [1.5, 2.5, 3.5], "float32"),
    ((0, 2, 0.5), {}, [0, 0.5, 1, 1.5], "float32"),  # default "int32" does not cast
    ((0, 3), {"dtype": "float64"}, [0, 1, 2], "float64"),
    ((5, 0, -2), {}, [5, 3, 1], "int32"),
    ((2 ** 40, 2 ** 40 + 2), {}, [2 ** 40, 2 ** 40 + 1], "int64"),
    ((0, 10, 3), {"dtype": "int64"}, [0, 3, 6, 9], "int64"),
])
def test_arange(args, kwargs, expected, dtype):
    r = K.arange(*args, **kwargs)
    assert r.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(r, expected)


def test_arange_values_and_errors():
    r = K.arange(0.3, 100, 0.7)
    n = int(np.ceil((100 - 0.3) / 0.7))
    assert r.shape == (n,)
    np.testing.assert_allclose(r, 0.3 + 0.7 * np.arange(n), rtol=1e-6)
    with pytest.raises(ValueError, match="delta != 0"):
        K.arange(0, 3, 0)
    with pytest.raises(ValueError, match="start <= limit"):
        K.arange(5, 0)
    with pytest.raises(ValueError, match="start >= limit"):
        K.arange(0, 5, -1)


def test_random_functions():
    a = K.random_uniform((300, 200), -2.0, 3.0, seed=4)
    assert a.dtype == np.float32 and a.shape == (300, 200)
    assert a.min() >= -2 and a.max() < 3 and abs(a.mean() - 0.5) < 0.05
    assert not np.array_equal(a, K.random_uniform((300, 200), -2.0, 3.0, seed=5))
    assert K.random_uniform((4,), dtype="float64", seed=1).dtype == np.float64
    h = K.random_uniform((1000,), dtype="float16", seed=1)
    assert h.dtype == np.float16 and h.max() < 1
    i = K.random_uniform((1000,), 0, 10, dtype="int32", seed=1)
    assert i.dtype == np.int32 and set(np.unique(i)) == set(range(10))
    n = K.random_normal((400, 500), 1.0, 2.0, seed=3)
    assert n.dtype == np.float32 and abs(n.mean() - 1) < 0.02 and abs(n.std() - 2) < 0.02
    assert K.random_normal((2,), dtype="float16", seed=1).dtype == np.float16
    np.random.seed(11)  # seed=None draws the seed from numpy's global generator
    first = K.random_normal((3,))
    np.random.seed(11)
    np.testing.assert_array_equal(first, K.random_normal((3,)))
    with pytest.raises(TypeError, match="Cannot convert 0.0"):
        K.random_uniform((2,), dtype="int32")  # float default bounds
    with pytest.raises(ValueError, match="minval < maxval"):
        K.random_uniform((2,), 3, 3, dtype="int32")
    with pytest.raises(ValueError, match="invalid value bool"):
        K.random_uniform((2,), dtype="bool")
    with pytest.raises(TypeError, match="float16, float32 or float64"):
        K.random_normal((2,), dtype="int32")


def test_a_seed_draws_a_sequence_as_a_seeded_tf_op():
    """tf.random ops with an op seed give new values at each eager call (A1, A2, ...),
    the same sequence in every process."""
    def draws():
        K.clear_session()  # as in a new process: each (op, seed) sequence from its start
        return [K.random_uniform((5,), seed=4), K.random_uniform((5,), seed=4),
                K.random_normal((5,), seed=4), K.dropout(np.ones((5, 5)), 0.5, seed=4),
                K.truncated_normal((5,), seed=-3), K.random_uniform((5,), seed=-3)]

    first = draws()
    assert not np.array_equal(first[0], first[1])
    for a, b in zip(first, draws()):
        np.testing.assert_array_equal(a, b)
    # each op has its own sequence: a normal draw does not depend on uniform ones
    K.clear_session()
    normal = K.random_normal((5,), seed=9)
    K.clear_session()
    K.random_uniform((5,), seed=9)
    np.testing.assert_array_equal(K.random_normal((5,), seed=9), normal)


def test_truncated_normal_and_bernoulli():
    t = K.truncated_normal((20000,), 1.0, 2.0, seed=1)
    assert t.dtype == np.float32 and t.min() >= -3 and t.max() <= 5
    assert abs(t.mean() - 1) < 0.05 and abs(t.std() - 2 * 0.8796) < 0.05
    b = K.random_bernoulli((20000,), 0.3, seed=1)
    assert b.dtype == np.float32 and set(np.unique(b).tolist()) == {0.0, 1.0}
    assert abs(b.mean() - 0.3) < 0.02
    with pytest.warns(UserWarning, match="random_binomial` is deprecated"):
        assert K.random_binomial((3,), 1.0, dtype="float64").tolist() == [1.0] * 3
    with pytest.raises(TypeError, match="float16, float32 or float64"):
        K.truncated_normal((2,), dtype="int32")


def test_set_floatx_sets_the_default_dtype_of_layers_weights_and_the_backend():
    try:
        K.set_floatx("float64")
        assert K.floatx() == "float64" and nr.global_policy().name == "float64"
        layer = nr.SimpleRNN(2)
        assert layer.dtype == "float64"
        assert layer(np.ones((1, 3, 2), np.float32)).dtype == np.float64
        assert K.zeros((2,)).dtype == np.float64
        assert nr.initializers.GlorotUniform(seed=1)((2, 2)).dtype == np.float64
        nr.set_global_policy("float32")           # an explicit policy wins
        assert nr.SimpleRNN(2).dtype == "float32"
        nr.set_global_policy(None)
        assert nr.SimpleRNN(2).dtype == "float64"
    finally:
        K.set_floatx("float32")
        nr.set_global_policy(None)
    with pytest.raises(ValueError, match="Unknown `floatx` value: float8"):
        K.set_floatx("float8")


def test_dot_contracts_as_tf_keras_for_more_than_two_axes(rng):
    x, y = rng.standard_normal((2, 3)), rng.standard_normal((4, 3, 5))
    assert K.dot(x, y).shape == (2, 4, 5)            # tf-keras's docstring example
    np.testing.assert_allclose(K.dot(x, y), np.einsum("ij,kjl->ikl", x, y))
    x, y = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 4, 5))
    np.testing.assert_allclose(K.dot(x, y), np.einsum("abi,cid->abcd", x, y))
    np.testing.assert_allclose(K.dot(x, y[0]), x @ y[0])
    np.testing.assert_allclose(K.dot(x, y[0, :, 0]), x @ y[0, :, 0])
    nan = np.array([[[np.nan]]])
    assert np.isnan(K.dot(nan, np.zeros((1, 1)))).all()
    with pytest.raises(ValueError, match="Cannot do dot on inputs with shapes"):
        K.dot(x, rng.standard_normal((2, 3, 5)))


def test_zeros_ones_are_variables_and_shape_is_an_array():
    z = K.zeros((2, 3), dtype="float64")
    assert isinstance(z, nr.Variable) and z.dtype == np.float64
    K.set_value(z, np.ones((2, 3)))
    np.testing.assert_array_equal(K.get_value(z), np.ones((2, 3)))
    assert isinstance(K.ones((2,)), nr.Variable)
    assert isinstance(K.zeros((0, 2)), np.ndarray)        # a zero-size shape: an array
    s = K.shape(np.zeros((2, 3)))
    assert s.dtype == np.int32 and (s * 2).tolist() == [4, 6]
    assert K.int_shape(np.zeros((2, 3))) == (2, 3)


def test_softmax_of_a_scalar_is_refused():
    with pytest.raises(ValueError, match="Cannot apply softmax to a tensor that is 1D"):
        K.softmax(np.float32(2.0))


# -- control flow and training --------------------------------------------------------
def test_switch_scalar_condition():
    x, y = np.ones((2, 3), np.float32), np.zeros((2, 3), np.float32)
    assert K.switch(np.array(True), x, y) is x
    assert K.switch(0, x, y) is y
    assert K.switch(np.float32(np.nan), x, y) is x  # NaN is true
    calls = []
    out = K.switch(np.array(False), lambda: calls.append("then"), lambda: "else")
    assert out == "else" and calls == []  # only the picked branch runs
    assert K.switch(True, 1.0, 2) == 1.0


def test_switch_elementwise_condition():
    x = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    y = -x
    np.testing.assert_array_equal(K.switch(np.array([True, False, True]), x, y),
                                  np.where([True, False, True], x, y))  # last axis
    np.testing.assert_array_equal(K.switch(np.array([[True], [False]]), x, y),
                                  np.where([[True], [False]], x, y))
    c3 = np.array([[True], [False]])  # leading axes of a 3-D expression, tiled
    a, b = np.ones((2, 3, 4)), np.zeros((2, 3, 4))
    np.testing.assert_array_equal(K.switch(c3, a, b), np.where(c3[:, :, None], a, b))
    out = K.switch(np.array([1.0, 0.0, 2.0]), lambda: x, lambda: y)
    np.testing.assert_array_equal(out, np.where([True, False, True], x, y))
    assert K.switch(np.array([True, False]), np.ones(2), np.zeros(2, np.float32)
                    ).dtype == np.float64
    with pytest.raises(ValueError, match="Rank of `condition`"):
        K.switch(np.ones((2, 3, 1), bool), x, y)
    with pytest.raises(ValueError):
        K.switch(np.array([True, False]), x, y)  # does not broadcast against (2, 3)


class _Phase(nr.Layer):
    def call(self, inputs, training=None):
        return K.in_train_phase(lambda: inputs * 2, inputs)


class _Outer(nr.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.inner = _Phase()

    def call(self, inputs, training=None):
        return self.inner(inputs)


def test_in_train_phase():
    x, alt = np.ones(2, np.float32), np.zeros(2, np.float32)
    assert K.learning_phase() == 0
    assert K.in_train_phase(x, alt) is alt  # outside a layer call: the learning phase
    assert K.in_train_phase(x, alt, training=True) is x
    assert K.in_train_phase(x, alt, training=1) is x
    assert K.in_train_phase(lambda: "train", lambda: "test", training=0) == "test"
    assert K.in_test_phase(x, alt, training=False) is x
    np.testing.assert_array_equal(
        K.in_train_phase(x, alt, training=np.array([True, False])), [1, 0])
    with pytest.raises(TypeError, match="training"):
        K.in_train_phase(x, alt, training=0.5)
    # None: the training mode of the layer call it runs in, inner layers included
    data = np.ones((1, 2), np.float32)
    assert _Phase()(data, training=True)[0, 0] == 2
    assert _Phase()(data)[0, 0] == 1
    assert _Outer()(data, training=True)[0, 0] == 2
    assert _Outer()(data, training=False)[0, 0] == 1


def test_dropout():
    x = np.ones((300, 200), np.float32)
    d = K.dropout(x, 0.3, seed=2)
    assert d.dtype == np.float32 and d.shape == x.shape
    assert set(np.unique(d).tolist()) == {0.0, float(np.float32(1 / 0.7))}
    assert abs((d == 0).mean() - 0.3) < 0.01
    assert not np.array_equal(d, K.dropout(x, 0.3, seed=2))   # the seed's next draw
    rows = K.dropout(x, 0.5, noise_shape=(300, 1), seed=1)
    assert ((rows == 0).all(axis=1) | (rows != 0).all(axis=1)).all()
    cols = K.dropout(x, 0.5, noise_shape=(None, 1), seed=1)  # None: x's length
    assert ((cols == 0).all(axis=1) | (cols != 0).all(axis=1)).all()
    assert K.dropout(x, 0) is x
    assert K.dropout(x.astype(np.float64), np.array(0.5), seed=1).dtype == np.float64
    for level in [1, -0.1]:
        with pytest.raises(ValueError, match=r"range \[0, 1\)"):
            K.dropout(x, level)
    with pytest.raises(ValueError, match="floating point"):
        K.dropout(np.ones(3, np.int32), 0.5)
    with pytest.raises(ValueError, match="scalar"):
        K.dropout(x, "0.5")


# -- configuration --------------------------------------------------------------------
def test_configuration_functions():
    assert K.epsilon() == 1e-7
    try:
        K.set_epsilon(1e-5)
        assert K.epsilon() == 1e-5
    finally:
        K.set_epsilon(1e-7)
    c = K.cast_to_floatx([1, 2])
    assert isinstance(c, np.ndarray) and c.dtype == np.float32
    s = K.stop_gradient([np.ones(2), 1.0])
    assert [a.dtype for a in s] == [np.float64, np.float32]
    np.testing.assert_array_equal(K.stop_gradient(np.ones(2)), [1, 1])


def test_sum_and_mean_take_a_list_of_axes():
    x = np.ones((2, 3, 4), np.float32)
    assert K.sum(x, axis=[0, 2]).tolist() == [8.0] * 3
    assert K.mean(x, axis=[1, 2], keepdims=True).shape == (2, 1, 1)


def test_batch_dot_against_einsum(rng):
    """tf-keras's batch_dot: sum over one axis of x and one of y, per batch entry."""
    cases = [((2, 3), (2, 3), None, "bi,bi->b"), ((2, 3, 4), (2, 4, 5), None, "bij,bjk->bik"),
             ((2, 3, 4), (2, 3, 4), (1, 1), "bij,bik->bjk"),
             ((2, 3, 4), (2, 4), None, "bij,bj->bi"), ((2, 4), (2, 4, 3), (1, 1), "bi,bij->bj"),
             ((2, 3, 4), (2, 5, 4), (2, 2), "bij,bkj->bik"),
             ((2, 3, 4, 5), (2, 5, 6), None, "bijk,bkl->bijl")]
    for sx, sy, axes, spec in cases:
        x, y = rng.standard_normal(sx), rng.standard_normal(sy)
        want = np.einsum(spec, x, y)
        want = want[:, None] if want.ndim == 1 else want
        np.testing.assert_allclose(K.batch_dot(x, y, axes=axes), want, rtol=1e-12)
    with pytest.raises(ValueError, match="over axis 0"):
        K.batch_dot(np.ones((2, 3)), np.ones((2, 3)), axes=0)
    with pytest.raises(ValueError, match="different batch sizes"):
        K.batch_dot(np.ones((2, 3)), np.ones((3, 3)))


def test_python_values_get_tensorflow_dtypes_in_the_array_helpers():
    assert K.sqrt(2.0).dtype == np.float32 and K.sum([1.0, 2.0]).dtype == np.float32
    assert K.square([1, 2]).dtype == np.int32 and K.dtype(1.0) == "float32"
    assert K.maximum(np.ones(2, "float32"), 1.5).dtype == np.float32
    assert K.dot(np.ones((1, 2), "float32"), [[1.0], [2.0]]).dtype == np.float32


def test_sum_sqrt_clip_follow_tf_keras():
    ints = np.array([[1, -2, 3], [4, 0, -6]], "int32")
    assert K.sum(ints).dtype == np.int32 and K.sum(ints) == 0
    np.testing.assert_array_equal(K.sqrt(np.array([-1.0, 4.0], "float32")), [0.0, 2.0])
    np.testing.assert_array_equal(K.clip(np.array([0.0, 3.0]), 2.0, 1.0), [2.0, 2.0])


def test_numpy_functions_take_variables_inside_lists():
    z, x = K.zeros((2, 3)), np.ones((2, 3), np.float32)
    np.testing.assert_array_equal(np.concatenate([z, x]), np.r_[np.zeros((2, 3)), x])
    assert np.stack((z, [x[0], x[1]])).shape == (2, 2, 3)
    assert K.concatenate([z, x]).shape == (2, 6)


def _running_sum(x_t, states):
    total = states[0] + x_t
    return total, [total]


@pytest.mark.parametrize("unroll,want", [(False, [0.0, 1.0]), (True, [0.0, 0.0])])
def test_rnn_unrolled_backwards_zeroing_follows_tf_keras(unroll, want):
    """tf-keras's unrolled loop zeroes the (processing-order) outputs by the mask in
    input order; its while_loop by the processing order (differential fuzz against
    tf-keras 2.21: x = [1, 2], mask = [True, False], go_backwards)."""
    x = np.array([[[1.0], [2.0]]])
    mask = np.array([[True, False]])
    last, outputs, states = K.rnn(_running_sum, x, [np.zeros((1, 1))], go_backwards=True,
                                  mask=mask, unroll=unroll, zero_output_for_mask=True)
    np.testing.assert_array_equal(outputs.ravel(), want)
    np.testing.assert_array_equal(last.ravel(), [1.0])  # the last processed step's mask
    np.testing.assert_array_equal(states[0].ravel(), [1.0])


def test_float_only_functions_refuse_integers_as_tensorflow():
    ints = np.array([1, 2], "int32")
    for fn in (K.exp, K.tanh, K.sigmoid, K.hard_sigmoid, K.sqrt):
        with pytest.raises(TypeError, match="does not support dtype int32"):
            fn(ints)
    with pytest.raises(TypeError, match="does not support dtype bool"):
        K.exp(np.array([True]))  # numpy gives float16
    with pytest.raises(TypeError, match="does not support dtype int32"):
        K.softmax(ints.reshape(1, 2))
    for fn in (K.square, K.abs):
        with pytest.raises(TypeError, match="does not support dtype bool"):
            fn(np.array([True]))
        assert fn(np.array([-2])).dtype == np.int64


def test_mean_of_integers_keeps_the_dtype_as_tf_reduce_mean():
    got = K.mean(np.array([1, 2], "int32"))
    assert got.dtype == np.int32 and got == 1
    np.testing.assert_array_equal(K.mean(np.array([[-1, -2], [3, 4]]), axis=1), [-1, 3])
    assert K.mean(np.array([True, False])).dtype == np.float32  # bool: floatx
    assert K.mean(np.array([True, False])) == 0.5


def test_empty_axes_in_products_and_softmax():
    assert K.dot(np.zeros((3, 0)), np.zeros((1, 0, 2))).shape == (3, 1, 2)
    np.testing.assert_array_equal(K.dot(np.zeros((3, 0)), np.zeros((1, 0, 2))), 0.0)
    assert K.batch_dot(np.zeros((0, 2, 2)), np.zeros((0, 2)), axes=(2, 1)).shape == (0, 2)
    assert K.softmax(np.zeros((2, 0))).shape == (2, 0)


def test_clip_concatenate_and_leaky_relu_details_as_tf_keras():
    # array bounds broadcast (tf-keras compares the bounds only for Python numbers)
    np.testing.assert_array_equal(
        K.clip(np.array([-1.0, 0.3, 2.0]), np.array([0.0, 0.5, 0.0]), 1.0), [0, 0.5, 1])
    # an integer x keeps its dtype; its bounds must be whole numbers
    got = K.clip(np.array([-2, 5], "int32"), np.float32(0.2), 1)
    assert got.dtype == np.int32 and list(got) == [0, 1]
    for bounds in [(0, None), (0.5, 1)]:
        with pytest.raises(TypeError, match="whole numbers for an integer x"):
            K.clip(np.array([1, 2]), *bounds)
    np.testing.assert_array_equal(K.clip(np.array([1.0, 5.0]), None, 2), [1.0, 2.0])
    # concatenate: axis %= rank
    assert K.concatenate([np.ones((1, 2))] * 2, axis=-3).shape == (1, 4)
    # leaky relu's alpha is float32 in tf.nn.leaky_relu, for float64 too
    assert K.relu(np.array([-3.0]), alpha=0.1)[0] == -3.0 * float(np.float32(0.1))


def test_value_helpers_as_tf_keras_backend(capsys):
    np.testing.assert_array_equal(K.eval(K.zeros((2, 2))), np.zeros((2, 2)))
    assert not K.is_sparse(np.ones(2)) and K.to_dense(np.ones(2)).shape == (2,)
    first, second = K.get_uid("numbarnn_test_prefix"), K.get_uid("numbarnn_test_prefix")
    assert second == first + 1
    out = K.print_tensor(np.arange(10), message="x:")
    assert capsys.readouterr().out == "x: [0 1 2 ... 7 8 9]\n"
    np.testing.assert_array_equal(out, np.arange(10))
    uniform = K.random_uniform_variable((50,), 2.0, 3.0, seed=1)
    assert isinstance(uniform, nr.Variable) and uniform.dtype == np.float32
    assert 2.0 <= uniform.numpy().min() and uniform.numpy().max() < 3.0
    normal = K.random_normal_variable((2, 3), 0.0, 1.0, dtype="float64", name="n")
    assert normal.name == "n:0" and normal.dtype == np.float64 and normal.shape == (2, 3)


@pytest.mark.parametrize("value", [None, print, object()])
def test_shapes_of_things_that_are_not_arrays_are_attribute_errors(value):
    # tf-keras reads x.shape; np.shape would say () for an object scalar
    for fn in (K.int_shape, K.ndim, K.shape, K.count_params):
        with pytest.raises(AttributeError, match="object has no attribute 'shape'"):
            fn(value)


def test_clip_takes_tf_clip_by_value_order_where_array_bounds_cross():
    # max(min(x, hi), lo): tf-keras gives lo where lo > hi (np.clip gives hi)
    x = np.array([-15.0, -112.6, 0.2])
    np.testing.assert_array_equal(K.clip(x, np.array([-0.001, 1.5, 0.0]), 0.3),
                                  [-0.001, 1.5, 0.2])


def test_integer_means_do_not_wrap():
    """tf.reduce_mean sums narrow integers in a wider accumulator; the mean keeps the
    dtype, truncated toward zero."""
    assert K.mean(np.array([200, 200], "uint8")) == 200
    assert K.mean(np.array([2**30] * 4, "int32")) == 2**30
    assert K.mean(np.array([2**31 - 1] * 2 + [1], "int32")) == 1431655765
    assert K.mean(np.array([-7, 2], "int8")) == -2
    means = K.mean(np.array([[1, 2], [3, 5]], "int16"), axis=1)
    np.testing.assert_array_equal(means, [1, 4])
    assert means.dtype == np.int16


def test_concatenate_and_stack_keep_the_first_arrays_dtype():
    """As TensorFlow converts a list: the first variable's dtype, else the first
    array's (numpy would promote float32 with float64 to float64)."""
    h = np.ones((2, 2), "float32")
    assert K.concatenate([h, np.zeros((2, 1))]).dtype == np.float32
    assert K.concatenate([h, [[1], [2]]]).dtype == np.float32
    assert K.stack([h, np.ones((2, 2))]).dtype == np.float32
    assert K.concatenate([np.zeros(2), K.variable([1.0])]).dtype == np.float32
    assert K.concatenate([[1.0, 2.0], [3.0]]).dtype == np.float32  # Python floats
    np.testing.assert_array_equal(K.concatenate([h, np.full((2, 1), 0.5)])[:, 2], [0.5] * 2)
    # mixed kinds are never truncated: integers join the float
    mixed = K.concatenate([np.ones(2, "int32"), np.full(2, 1.5, "float32")])
    np.testing.assert_array_equal(mixed, [1, 1, 1.5, 1.5])
    assert mixed.dtype == np.float32
    scalars = K.stack([1, 2.5])  # as tf.stack converts the list: float32
    np.testing.assert_array_equal(scalars, [1.0, 2.5])
    assert scalars.dtype == np.float32


def test_cast_to_none_and_the_dtype_of_an_input():
    with pytest.raises(TypeError, match="Cannot convert the argument `type_value`: None"):
        K.cast(np.ones(2), None)
    assert K.dtype(nr.Input((3,))) == "float32"
    assert K.dtype(nr.Input((3,), dtype="int32")) == "int32"
