"""The feed-forward layers on device arrays (numbarnn.kernels.cuda_feedforward): Dense,
the activation layers (Activation, Softmax, ReLU, LeakyReLU, ELU, ThresholdedReLU,
PReLU), Dropout and Embedding compute a device input on the GPU (the simulator in CI)
against float64 numpy references, keep their host path where the kernels do not
apply, and hand back device arrays either way."""
import copy
import os
import pickle
import warnings

import numpy as np
import pytest

import numbarnn as nr
from naive import ACTIVATIONS
from conftest import skip_without_cuda

ALL_ACTIVATIONS = sorted(ACTIVATIONS) + ["softmax"]
# float32 results of the device path against the host's: sums in another order, and
# the GPU's exp and tanh, differ in the last bits (absolutely where terms cancel)
DEVICE_VS_HOST = {"rtol": 1e-6, "atol": 1e-6}


@pytest.fixture
def launches(monkeypatch):
    """The names of the kernels the engine launches in the test body."""
    skip_without_cuda()
    from numbarnn.kernels import cuda
    names = []
    real = cuda._launch
    monkeypatch.setattr(cuda, "_launch",
                        lambda kernel, *args: names.append(kernel.__name__) or real(
                            kernel, *args))
    return names


def _device(x):
    from numbarnn.kernels.cuda import to_device
    return to_device(x)


def _host(y):
    from numbarnn.kernels.cuda_support import is_device_array
    assert is_device_array(y)
    return y.copy_to_host()


def _activate_reference(name, z):
    """float64, one value (or, for softmax, one row of the last axis) at a time."""
    if name == "softmax":
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    return np.vectorize(ACTIVATIONS[name], otypes=[np.float64])(z)


def _tolerance(dtype):
    return ({"rtol": 2e-5, "atol": 2e-6} if np.dtype(dtype) == np.float32
            else {"rtol": 1e-12, "atol": 1e-13})


@pytest.mark.parametrize("activation", ALL_ACTIVATIONS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dense_runs_on_the_device_against_the_float64_reference(
        rng, launches, activation, dtype):
    # more rows and units than one projection tile (8 x 16 in the simulator), so the
    # edge tiles are met too
    layer = nr.Dense(17, activation=activation, bias_initializer="glorot_uniform",
                     dtype=dtype)
    x = rng.standard_normal((3, 3, 5)).astype(dtype)
    got = _host(layer(_device(x)))
    kernel, bias = (w.astype(np.float64) for w in layer.get_weights())
    want = _activate_reference(activation, x.astype(np.float64) @ kernel + bias)
    assert got.dtype == dtype and got.shape == (3, 3, 17)
    np.testing.assert_allclose(got, want, **_tolerance(dtype))
    assert launches[0] == "project"
    assert launches[1:] == ([] if activation == "linear" else
                            ["softmax_rows_kernel" if activation == "softmax"
                             else "activate_kernel"])


@pytest.mark.parametrize("make", [
    lambda rng: rng.standard_normal((9, 4)),                          # 2-D
    lambda rng: rng.standard_normal((2, 3, 2, 4)),                    # 4-D
    lambda rng: rng.standard_normal((4, 1, 4)),                       # one step
    lambda rng: np.zeros((0, 3, 4)),                                  # no rows
    lambda rng: np.zeros((2, 0, 4)),                                  # no steps
], ids=["2d", "4d", "one-step", "no-rows", "no-steps"])
def test_dense_takes_any_rank_and_empty_inputs(rng, launches, make):
    x = make(rng).astype("float32")
    layer = nr.Dense(3, activation="tanh", bias_initializer="ones")
    got = _host(layer(_device(x)))
    kernel, bias = (w.astype(np.float64) for w in layer.get_weights())
    assert got.shape == x.shape[:-1] + (3,)
    np.testing.assert_allclose(got, np.tanh(x.astype(np.float64) @ kernel + bias),
                               **_tolerance("float32"))
    assert launches == (["project", "activate_kernel"] if x.size else [])


def test_dense_reads_a_strided_sequence_in_place_and_leaves_it(rng, launches):
    from numba import cuda
    full = rng.standard_normal((3, 8, 10)).astype("float32")
    x = cuda.to_device(full)[:, 1::3, ::2]  # neither C- nor F-contiguous
    layer = nr.Dense(4, use_bias=False)
    got = _host(layer(x))
    (kernel,) = layer.get_weights()
    want = full[:, 1::3, ::2].astype(np.float64) @ kernel
    np.testing.assert_allclose(got, want, **_tolerance("float32"))
    assert launches == ["project"]
    np.testing.assert_array_equal(x.copy_to_host(), full[:, 1::3, ::2])


@pytest.mark.parametrize("given", ["float16", "float64", "int32", "bool"])
def test_dense_converts_other_input_dtypes_as_it_reads_them(rng, launches, given):
    """As the host casts them to the compute dtype first (float16 from a
    mixed-precision recurrence into a float32 readout, the usual mixed model)."""
    x = (3.0 * rng.standard_normal((2, 3, 4))).astype(given)
    layer = nr.Dense(5, activation="tanh")
    got = _host(layer(_device(x)))
    want = layer(x)
    assert got.dtype == want.dtype == np.float32
    np.testing.assert_allclose(got, want, **DEVICE_VS_HOST)
    assert launches == ["project", "activate_kernel"]


@pytest.mark.parametrize("case", ["user-activation", "layer-activation", "strided-2d",
                                  "mixed-precision"])
def test_dense_keeps_its_host_path_where_the_kernels_do_not_apply(rng, launches, case):
    """The same result as a numpy input, as a device array, and no kernel launched."""
    from numba import cuda
    x = rng.standard_normal((6, 4)).astype("float32")
    device_x = cuda.to_device(x)
    kwargs = {}
    if case == "user-activation":
        kwargs["activation"] = lambda z: z * 2.0
    elif case == "layer-activation":
        kwargs["activation"] = nr.LeakyReLU(0.1)
    elif case == "strided-2d":
        x = np.ascontiguousarray(x[::2])
        device_x = device_x[::2]
    elif case == "mixed-precision":
        kwargs["dtype"] = "mixed_float16"
    layer = nr.Dense(3, **kwargs)
    want = layer(x)
    got = _host(layer(device_x))
    assert got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
    assert launches == []


def test_dense_device_weights_follow_the_layer_weights(rng, launches):
    x = rng.standard_normal((2, 3, 4)).astype("float32")
    layer = nr.Dense(2)
    layer(_device(x))
    for change in (lambda: layer.kernel.assign(np.ones((4, 2), "float32")),
                   lambda: layer.set_weights([np.full((4, 2), -0.5, "float32"),
                                              np.array([1.0, 2.0], "float32")]),
                   lambda: layer.bias.assign_add(np.ones(2, "float32"))):
        change()
        np.testing.assert_allclose(_host(layer(_device(x))), layer(x), **DEVICE_VS_HOST)
    # a copied or pickled layer makes its own device copies
    for twin in (copy.deepcopy(layer), pickle.loads(pickle.dumps(layer))):
        twin.kernel.assign(np.zeros((4, 2), "float32"))
        np.testing.assert_allclose(_host(twin(_device(x))), twin(x), **DEVICE_VS_HOST)
        np.testing.assert_allclose(_host(layer(_device(x))), layer(x), **DEVICE_VS_HOST)


@pytest.mark.parametrize("activation", ALL_ACTIVATIONS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_activation_layer_runs_on_the_device(rng, launches, activation, dtype):
    x = (3.0 * rng.standard_normal((2, 3, 7))).astype(dtype)
    device_x = _device(x)
    got = _host(nr.Activation(activation, dtype=dtype)(device_x))
    np.testing.assert_allclose(got, _activate_reference(activation, x.astype(np.float64)),
                               **_tolerance(dtype))
    np.testing.assert_array_equal(device_x.copy_to_host(), x)  # computed into a copy
    assert len(launches) == (activation != "linear")


def _relu_reference(x, slope, max_value, threshold):
    out = np.where(x >= threshold, x, slope * (x - threshold))
    return out if max_value is None else np.minimum(out, max_value)


RELU_LAYERS = [
    (lambda **kw: nr.ReLU(**kw), lambda x: _relu_reference(x, 0.0, None, 0.0)),
    (lambda **kw: nr.ReLU(max_value=2.5, **kw), lambda x: _relu_reference(x, 0.0, 2.5, 0.0)),
    (lambda **kw: nr.ReLU(negative_slope=0.2, threshold=0.5, **kw),
     lambda x: _relu_reference(x, np.float32(0.2), None, 0.5)),
    (lambda **kw: nr.ReLU(max_value=3.0, negative_slope=0.1, threshold=1.0, **kw),
     lambda x: _relu_reference(x, np.float32(0.1), 3.0, 1.0)),
    (lambda **kw: nr.ReLU(max_value=0.0, **kw), lambda x: np.zeros_like(x)),
    (lambda **kw: nr.LeakyReLU(0.3, **kw), lambda x: np.where(x > 0, x, np.float32(0.3) * x)),
    (lambda **kw: nr.ELU(0.7, **kw),
     lambda x: np.where(x > 0, x, np.float32(0.7) * np.expm1(x))),
    (lambda **kw: nr.ThresholdedReLU(0.4, **kw),
     lambda x: np.where(x > np.float32(0.4), x, 0.0)),
]


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # (simulator: -inf * 0)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", range(len(RELU_LAYERS)))
def test_parametrised_relus_run_on_the_device(rng, launches, case, dtype):
    """Against the float64 reference on random values, and as the host path on the
    edges: exactly at a threshold or cap, -0, infinities and NaN."""
    make, reference = RELU_LAYERS[case]
    layer = make(dtype=dtype)
    x = (3.0 * rng.standard_normal((2, 3, 11))).astype(dtype)
    got = _host(layer(_device(x)))
    assert got.dtype == dtype
    np.testing.assert_allclose(got, reference(x.astype(np.float64)), **_tolerance(dtype))
    edges = np.array([0.0, -0.0, 0.5, 1.0, -1.0, 2.5, 3.0, 0.4, 0.3, np.inf, -np.inf,
                      np.nan, 1e-30, -1e-30], dtype)
    want = layer(edges[None])
    got = _host(layer(_device(edges[None])))
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=0)
    assert launches == ["relu_family_kernel"] * 2


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # (simulator: inf * 0)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shared_axes", [None, [1], [1, 2]])
def test_prelu_runs_on_the_device(rng, launches, dtype, shared_axes):
    """The slopes spread over a batch row (shared along ``shared_axes``), against the
    float64 reference, and as the host on -0, infinities and NaN; another sequence
    length (shared time axis) makes a new spread copy."""
    layer = nr.PReLU(shared_axes=shared_axes, dtype=dtype,
                     input_shape=(None if shared_axes else 4, 5))
    x = (2.0 * rng.standard_normal((3, 4, 5))).astype(dtype)
    layer.build((None, None if shared_axes else 4, 5))
    alpha = rng.standard_normal(layer.alpha.shape).astype(dtype)
    layer.set_weights([alpha])
    got = _host(layer(_device(x)))
    want = np.where(x > 0, x, alpha.astype(np.float64) * x)
    np.testing.assert_allclose(got, want, **_tolerance(dtype))
    x[0, 0, :] = [0.0, -0.0, np.inf, -np.inf, np.nan]
    got = _host(layer(_device(x)))
    np.testing.assert_array_equal(got, layer(x))  # (NaN where NaN)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(layer(x)))
    if shared_axes:
        longer = rng.standard_normal((2, 7, 5)).astype(dtype)
        np.testing.assert_allclose(_host(layer(_device(longer))), layer(longer),
                                   **_tolerance(dtype))
    assert launches == ["prelu_kernel"] * (3 if shared_axes else 2)
    if not shared_axes:  # one step, where the slopes have four: the host broadcasts
        short = rng.standard_normal((2, 1, 5)).astype(dtype)
        got = _host(layer(_device(short)))
        assert got.shape == (2, 4, 5)
        np.testing.assert_array_equal(got, layer(short))
        assert launches == ["prelu_kernel"] * 2


def test_parametrised_relus_keep_the_host_path_for_wider_parameters(rng, launches):
    """With float64 parameters (``floatx`` float64) on a float32 input, numpy computes
    in float64: the host path does, as for another input dtype."""
    x = rng.standard_normal((2, 5)).astype("float32")
    previous = nr.backend.floatx()
    nr.backend.set_floatx("float64")
    try:
        layer = nr.LeakyReLU(0.1, dtype="float32")
    finally:
        nr.backend.set_floatx(previous)
    np.testing.assert_array_equal(_host(layer(_device(x))), layer(x))
    np.testing.assert_array_equal(_host(nr.ELU()(_device(x.astype("float64")))),
                                  nr.ELU()(x.astype("float64")).astype("float32"))
    assert launches == []


# (the simulator computes inf - inf in Python floats, which warn; a GPU does not)
@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_softmax_rows_with_inf_and_nan_come_out_as_on_the_host(launches):
    x = np.array([[1.0, 2.0, 3.0], [np.inf, 0.0, 1.0], [np.nan, 0.0, 1.0],
                  [0.0, np.nan, 1.0], [-np.inf, 0.0, 0.0], [-np.inf] * 3,
                  [1e30, -1e30, 0.0]], "float32")
    layer = nr.Softmax()
    want = layer(x)
    got = _host(layer(_device(x)))
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got, want, **DEVICE_VS_HOST)
    assert launches == ["softmax_rows_kernel"]


def test_softmax_layer_on_another_axis_or_with_a_mask_stays_on_the_host(rng, launches):
    x = rng.standard_normal((2, 3, 4)).astype("float32")
    mask = rng.random(x.shape) < 0.7
    for layer, kwargs in ((nr.Softmax(axis=1), {}), (nr.Softmax(axis=[1, 2]), {}),
                          (nr.Softmax(), {"mask": mask})):
        want = layer(x, **kwargs)
        np.testing.assert_allclose(_host(layer(_device(x), **kwargs)), want, **DEVICE_VS_HOST)
    assert launches == []
    np.testing.assert_allclose(_host(nr.Softmax(axis=[2])(_device(x))),
                               nr.Softmax()(x), **DEVICE_VS_HOST)
    assert launches == ["softmax_rows_kernel"]


@pytest.mark.parametrize("width", [1, 5, 33, 300, 1000])
def test_softmax_rows_of_any_width_share_a_block(rng, launches, width):
    """A block per row, its threads striding over it (a row wider than the block's
    threads, a width not a power of two, a single entry)."""
    x = (4.0 * rng.standard_normal((3, width))).astype("float32")
    got = _host(nr.Softmax()(_device(x)))
    np.testing.assert_allclose(got, _activate_reference("softmax", x.astype(np.float64)),
                               **_tolerance("float32"))
    assert launches == ["softmax_rows_kernel"]


def test_layer_call_itself_takes_any_cuda_array(rng, launches):
    """``layer.call`` given a ``__cuda_array_interface__`` array that is not numba's
    (CuPy, PyTorch), without ``__call__``'s conversion. On a GPU only: the simulator's
    arrays have no interface to wrap."""
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        pytest.skip("the simulator's device arrays have no __cuda_array_interface__")
    from numbarnn.kernels.cuda import as_device_array

    class Foreign:
        def __init__(self, array):
            self._array = array

        @property
        def __cuda_array_interface__(self):
            return self._array.__cuda_array_interface__

    x = rng.standard_normal((2, 3, 4)).astype("float32")
    layer = nr.Dense(2, activation="softmax")
    layer.build(x.shape)
    got = _host(layer.call(Foreign(as_device_array(_device(x)))))
    np.testing.assert_allclose(got, layer(x), **DEVICE_VS_HOST)
    assert launches == ["project", "softmax_rows_kernel"]


def test_dropout_outside_training_is_a_device_copy(rng, launches, monkeypatch):
    from numbarnn.kernels import cuda_feedforward
    copies = []
    real_copy = cuda_feedforward.copy
    monkeypatch.setattr(cuda_feedforward, "copy",
                        lambda a: copies.append(a.shape) or real_copy(a))
    x = rng.standard_normal((3, 4, 5)).astype("float32")
    device_x = _device(x)
    for layer, kwargs in ((nr.Dropout(0.5), {}), (nr.Dropout(0.5), {"training": False}),
                          (nr.Dropout(0.0), {"training": True})):
        out = layer(device_x, **kwargs)
        assert out is not device_x
        np.testing.assert_array_equal(_host(out), x)
    np.testing.assert_array_equal(device_x.copy_to_host(), x)
    dropped = _host(nr.Dropout(0.5, seed=3)(device_x, training=True))
    kept = dropped != 0
    assert 0 < kept.sum() < x.size
    np.testing.assert_allclose(dropped[kept], 2.0 * x[kept], rtol=1e-6)
    assert launches == [] and copies == [(3, 4, 5)] * 3  # (not for the training call)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_embedding_looks_up_on_the_device(rng, launches, dtype):
    layer = nr.Embedding(11, 6, mask_zero=True, dtype=dtype)
    indices = rng.integers(0, 11, (4, 9))
    indices[0, 5:] = 0
    for given in (indices, indices.astype("int32"), indices.astype("float32") + 0.7):
        launches.clear()
        # the ids are copied to the host once, by the call, which attaches the mask:
        # compute_mask never reads the device array itself
        from numbarnn.kernels.cuda_support import is_device_array
        real_mask = layer.compute_mask
        layer.compute_mask = lambda ids, mask=None, real=real_mask: (
            pytest.fail("compute_mask given the device ids") if is_device_array(ids)
            else real(ids, mask))
        out = layer(_device(given))
        del layer.compute_mask
        table = layer.get_weights()[0]
        np.testing.assert_array_equal(_host(out), table[indices].astype(dtype))
        np.testing.assert_array_equal(out._keras_mask, given != 0)
        assert launches == ["gather_rows_kernel"]
    assert _host(layer(_device(np.zeros((0, 3), "int64")))).shape == (0, 3, 6)


def test_embedding_device_errors_and_fallbacks_are_the_host_paths(rng, launches):
    layer = nr.Embedding(5, 2)
    with pytest.raises(ValueError, match=r"indices\[1,0\] = 5 is not in \[0, 5\)"):
        layer(_device(np.array([[1, 2], [5, 0]])))
    layer.embeddings.assign(np.arange(10, dtype="float32").reshape(5, 2))
    np.testing.assert_array_equal(_host(layer(_device(np.array([[4]])))), [[[8.0, 9.0]]])
    assert launches == ["gather_rows_kernel"]


@pytest.mark.parametrize("policy", ["mixed_float16", "float16"])
def test_embedding_under_float16_looks_up_rounded_rows_on_the_device(rng, launches,
                                                                     policy):
    """The host looks up float32 rows and rounds them; the device looks up a rounded
    copy of the table: the same float16 bits, halfway cases and overflow included."""
    layer = nr.Embedding(6, 3, dtype=policy)
    layer.build((None, 2))
    table = np.array([[1 + 2.0 ** -11, 1 + 3 * 2.0 ** -11, -(1 + 2.0 ** -11)],
                      [70000.0, -70000.0, 65519.0], [1e-8, -1e-8, 2.0 ** -25],
                      [0.1, -0.0, np.nan]] + rng.standard_normal((2, 3)).tolist())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (the casts to float16 overflow silently)
        with np.errstate(over="ignore"):  # (the test's own: a float16 table)
            layer.embeddings.assign(table.astype(layer.embeddings.dtype))
        ids = np.array([[0, 1], [2, 3], [5, 4]])
        out = layer(_device(ids))
        want = layer(ids)
    assert want.dtype == np.float16 and _host(out).dtype == np.float16
    np.testing.assert_array_equal(_host(out).view(np.uint16), want.view(np.uint16))
    assert launches == ["gather_rows_kernel"]


def test_a_token_model_keeps_device_arrays_between_its_layers(rng, launches):
    """Embedding -> SimpleRNN -> Dropout -> Dense(softmax): every layer on the device
    (no host round trip of a sequence), as the model computes numpy input."""
    tokens = rng.integers(0, 20, (3, 5))
    tokens[1, 3:] = 0
    model = nr.Sequential([nr.Embedding(20, 4, mask_zero=True),
                           nr.SimpleRNN(3, return_sequences=True), nr.Dropout(0.2),
                           nr.Dense(4, activation="softmax")])
    want = model(tokens)
    got = model(_device(tokens))
    np.testing.assert_allclose(_host(got), want, rtol=1e-5, atol=1e-6)
    assert launches[0] == "gather_rows_kernel"
    assert launches[-2:] == ["project", "softmax_rows_kernel"]
