"""``numbarnn run MODEL INPUT -o OUTPUT``: streamed batch inference from the command line."""
import hashlib
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import numbarnn as nr
from numbarnn.cli import main

SAMPLES, TIME, FEATURES, UNITS = 10, 7, 3, 4


@pytest.fixture
def files(tmp_path):
    """A tiny saved SimpleRNN, its input (.npy) and a right-padding mask."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((SAMPLES, TIME, FEATURES)).astype(np.float32)
    lengths = rng.integers(2, TIME + 1, size=SAMPLES)
    mask = np.arange(TIME)[None, :] < lengths[:, None]
    model = nr.SimpleRNN(UNITS)
    model(x)
    nr.save_model(model, tmp_path / "model.npz")
    np.save(tmp_path / "x.npy", x)
    return dict(dir=tmp_path, x=x, mask=mask, model=model,
                model_path=str(tmp_path / "model.npz"), x_path=str(tmp_path / "x.npy"),
                out=str(tmp_path / "out.npy"))


def run(*argv):
    return main(["run", *map(str, argv), "--no-progress"])


def leftovers(folder):
    return [p.name for p in folder.iterdir() if "numbarnn-partial" in p.name]


def one_error_line(capsys, *words):
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("numbarnn run: error: "), err
    for word in words:
        assert word in lines[0], err
    return lines[0]


# -- results ----------------------------------------------------------------------------
@pytest.mark.parametrize("batch_size", [1, 3, 5, 10, 256])
def test_npy_matches_direct_call_for_any_chunking(files, batch_size, capsys):
    assert run(files["model_path"], files["x_path"], "-o", files["out"],
               "--batch-size", batch_size) == 0
    got = np.load(files["out"])
    assert got.dtype == np.float32 and got.shape == (SAMPLES, UNITS)
    np.testing.assert_allclose(got, files["model"](files["x"]), rtol=1e-6)
    chunks = -(-SAMPLES // batch_size)
    summary = capsys.readouterr().err.strip().splitlines()[-1]
    assert f"{SAMPLES} samples in {chunks} chunks" in summary
    assert files["out"] in summary and f"({SAMPLES}, {UNITS})" in summary
    assert leftovers(files["dir"]) == []


@pytest.mark.parametrize("name", ["stack.h5", "stack.keras"])
def test_a_model_tf_keras_saved_runs(tmp_path, name):
    folder = os.path.join(os.path.dirname(__file__), "data", "tf_keras_files")
    reference = np.load(os.path.join(folder, "reference.npz"))
    np.save(tmp_path / "x.npy", reference["x"])
    assert run(os.path.join(folder, name), tmp_path / "x.npy", "-o", tmp_path / "y.npy",
               "--batch-size", 1) == 0
    np.testing.assert_allclose(np.load(tmp_path / "y.npy"), reference["y_stack"], atol=1e-6)


def test_npz_input_and_output(files):
    path = files["dir"] / "x.npz"
    np.savez(path, data=files["x"])
    out = files["dir"] / "out.npz"
    assert run(files["model_path"], path, "-o", out, "--batch-size", 3) == 0
    with np.load(out) as archive:
        assert archive.files == ["output"]
        got = archive["output"]
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, files["model"](files["x"]), rtol=1e-6)
    assert leftovers(files["dir"]) == []


def test_an_empty_input_gives_an_empty_output(files, capsys):
    path = files["dir"] / "empty.npy"
    np.save(path, np.zeros((0, TIME, FEATURES), np.float32))
    for out in (files["out"], files["dir"] / "out.npz"):
        assert run(files["model_path"], path, "-o", out) == 0
        got = np.load(out)
        got = got["output"] if hasattr(got, "files") else got
        assert got.shape == (0, UNITS) and got.dtype == np.float32
        assert "0 samples in 0 chunks" in capsys.readouterr().err
    assert leftovers(files["dir"]) == []


def test_the_time_axis_of_the_building_call_is_no_constraint(files, tmp_path):
    """A model built by a call on 7 steps runs on 9 (only a declared input_shape fixes
    the timesteps)."""
    x = np.random.default_rng(1).standard_normal((4, TIME + 2, FEATURES))
    np.save(tmp_path / "long.npy", x.astype(np.float32))
    assert run(files["model_path"], tmp_path / "long.npy", "-o", files["out"]) == 0
    np.testing.assert_allclose(np.load(files["out"]),
                               files["model"](x.astype(np.float32)), rtol=1e-6)


def test_a_float64_model_writes_float64(files, tmp_path):
    x = files["x"].astype(np.float64)
    model = nr.SimpleRNN(UNITS, dtype="float64", return_sequences=True)
    model(x)
    nr.save_model(model, tmp_path / "m64.npz")
    np.save(tmp_path / "x64.npy", x)
    for out in (tmp_path / "o.npy", tmp_path / "o.npz"):
        assert run(tmp_path / "m64.npz", tmp_path / "x64.npy", "-o", out,
                   "--batch-size", 4) == 0
        got = np.load(out)
        got = got["output"] if hasattr(got, "files") else got
        assert got.dtype == np.float64
        np.testing.assert_array_equal(got, model(x))


def test_an_npz_output_is_streamed_not_held(files, monkeypatch):
    """The rows go to a memory-mapped temporary .npy, then into the archive: no
    concatenation of all the rows in memory."""
    monkeypatch.setattr(np, "savez", lambda *a, **k: pytest.fail("held in memory"))
    out = files["dir"] / "out.npz"
    assert run(files["model_path"], files["x_path"], "-o", out, "--batch-size", 3) == 0
    with np.load(out) as archive:
        np.testing.assert_allclose(archive["output"], files["model"](files["x"]),
                                   rtol=1e-6)
    assert leftovers(files["dir"]) == []


def test_npz_input_key_picks_among_several(files):
    path = files["dir"] / "several.npz"
    np.savez(path, other=np.zeros((2, 2)), data=files["x"])
    assert run(files["model_path"], path, "-o", files["out"], "--input-key", "data") == 0
    np.testing.assert_allclose(np.load(files["out"]), files["model"](files["x"]), rtol=1e-6)


@pytest.mark.parametrize("kind", ["bool.npy", "int.npz"])
def test_mask_file_streams_with_the_input(files, kind):
    mask = files["mask"]
    path = files["dir"] / f"mask.{kind}"
    if kind == "bool.npy":
        np.save(path, mask)
    else:
        np.savez(path, mask=mask.astype(np.int8))
    assert run(files["model_path"], files["x_path"], "-o", files["out"], "--mask", path,
               "--batch-size", 3) == 0
    want = files["model"](files["x"], mask=mask)
    np.testing.assert_allclose(np.load(files["out"]), want, rtol=1e-6)
    # the mask mattered: without it the padded rows differ
    assert not np.allclose(want, files["model"](files["x"]))


def test_mask_value_masks_all_equal_timesteps(files):
    x = np.where(files["mask"][..., None], files["x"], np.float32(-1.0))
    np.save(files["x_path"], x)
    assert run(files["model_path"], files["x_path"], "-o", files["out"],
               "--mask-value", -1, "--batch-size", 4) == 0
    want = files["model"](x, mask=np.any(x != -1.0, axis=-1))
    np.testing.assert_allclose(np.load(files["out"]), want, rtol=1e-6)


def test_return_sequences_on_a_single_layer(files):
    reference = nr.SimpleRNN(UNITS, return_sequences=True)
    reference(files["x"])
    reference.set_weights(files["model"].get_weights())
    assert run(files["model_path"], files["x_path"], "-o", files["out"],
               "--return-sequences", "--batch-size", 3) == 0
    got = np.load(files["out"])
    assert got.shape == (SAMPLES, TIME, UNITS)
    np.testing.assert_allclose(got, reference(files["x"]), rtol=1e-6)


def test_return_sequences_sets_the_last_recurrent_layer_of_a_sequential(files):
    def stack(last_sequences):
        return nr.Sequential([nr.SimpleRNN(5, return_sequences=True, name="a"),
                              nr.SimpleRNN(UNITS, return_sequences=last_sequences,
                                           name="b")])
    model, reference = stack(False), stack(True)
    model(files["x"])
    reference(files["x"])
    reference.set_weights(model.get_weights())
    path = files["dir"] / "stack.npz"
    nr.save_model(model, path)
    assert run(path, files["x_path"], "-o", files["out"], "--return-sequences",
               "--mask", _save(files["dir"] / "m.npy", files["mask"])) == 0
    want = reference(files["x"], mask=files["mask"])
    np.testing.assert_allclose(np.load(files["out"]), want, rtol=1e-6)


def _save(path, array):
    np.save(path, array)
    return path


def test_int_input_is_cast_to_float32(files):
    x = np.random.default_rng(1).integers(-3, 4, size=(SAMPLES, TIME, FEATURES))
    np.save(files["x_path"], x.astype(np.int16))
    assert run(files["model_path"], files["x_path"], "-o", files["out"],
               "--batch-size", 3, "--device", "python") == 0
    with nr.device("python"):
        want = files["model"](x.astype(np.float32))
    # BLAS rounds a 3-row batch and the 10-row one differently (a few float32 ulp); a
    # wrong cast (to int, or float64 math) would be off by far more.
    np.testing.assert_allclose(np.load(files["out"]), want, rtol=1e-5, atol=1e-6)


def test_input_is_memory_mapped_and_fed_in_chunks(files, monkeypatch):
    loads, batches = [], []
    real_load, real_call = np.load, nr.SimpleRNN.__call__

    def spy_load(path, *args, **kwargs):
        loads.append((os.fspath(path), kwargs.get("mmap_mode")))
        return real_load(path, *args, **kwargs)

    def spy_call(self, x, *args, **kwargs):
        batches.append(np.shape(x))
        return real_call(self, x, *args, **kwargs)

    monkeypatch.setattr(np, "load", spy_load)
    monkeypatch.setattr(nr.SimpleRNN, "__call__", spy_call)
    assert run(files["model_path"], files["x_path"], "-o", files["out"],
               "--batch-size", 4) == 0
    assert (files["x_path"], "r") in loads
    assert [b[0] for b in batches[-3:]] == [4, 4, 2]


def test_runs_without_tqdm(files, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm -> ImportError
    assert main(["run", files["model_path"], files["x_path"], "-o", files["out"]]) == 0
    assert "samples in 1 chunks" in capsys.readouterr().err


def test_overwrites_an_existing_output_and_leaves_the_input_alone(files):
    before = hashlib.sha256(pathlib.Path(files["x_path"]).read_bytes()).hexdigest()
    np.save(files["out"], np.zeros(3))
    assert run(files["model_path"], files["x_path"], "-o", files["out"]) == 0
    assert np.load(files["out"]).shape == (SAMPLES, UNITS)
    assert hashlib.sha256(pathlib.Path(files["x_path"]).read_bytes()).hexdigest() == before


# -- errors -----------------------------------------------------------------------------
def _case(name, files):
    """``(argv, words the message names)`` for the error case ``name``."""
    d = files["dir"]
    m, x, out = files["model_path"], files["x_path"], files["out"]
    if name == "missing model":
        return [d / "nope.npz", x, "-o", out], ["MODEL", "nope.npz"]
    if name == "not a model":
        return [_save(d / "arr.npy", files["x"]), x, "-o", out], ["MODEL", "arr.npy"]
    if name == "model is another npz":
        np.savez(d / "plain.npz", a=np.zeros(2))
        return [d / "plain.npz", x, "-o", out], ["MODEL", "plain.npz"]
    if name == "missing input":
        return [m, d / "nope.npy", "-o", out], ["INPUT", "nope.npy"]
    if name == "input extension":
        (d / "x.csv").write_text("1,2,3\n")
        return [m, d / "x.csv", "-o", out], ["INPUT", ".npy or .npz", "x.csv"]
    if name == "input 2-D":
        return [m, _save(d / "flat.npy", np.zeros((SAMPLES, TIME))), "-o", out], \
            ["INPUT", "3-D", f"({SAMPLES}, {TIME})"]
    if name == "input strings":
        return [m, _save(d / "s.npy", np.full((2, 3, 3), "a")), "-o", out], \
            ["INPUT", "numeric", "<U1"]
    if name == "input objects":
        return [m, _save(d / "o.npy", np.empty((2, 3, 3), object)), "-o", out], ["INPUT"]
    if name == "input complex":
        return [m, _save(d / "c.npy", np.zeros((2, 3, 3), complex)), "-o", out], \
            ["INPUT", "complex128"]
    if name == "input features":
        return [m, _save(d / "f.npy", np.zeros((2, TIME, 5), np.float32)), "-o", out], \
            ["INPUT", "3 features", "(2, 7, 5)"]
    if name == "input timesteps":
        fixed = nr.SimpleRNN(UNITS, input_shape=(TIME, FEATURES))
        fixed(files["x"])
        nr.save_model(fixed, d / "fixed.npz")
        return [d / "fixed.npz", _save(d / "t.npy", np.zeros((2, TIME + 1, 3))), "-o", out], \
            ["INPUT", f"{TIME} timesteps", f"(2, {TIME + 1}, 3)"]
    if name == "output write-protected":
        np.save(out, np.zeros(1))
        os.chmod(out, 0o444)
        return [m, x, "-o", out], ["-o/--output", "write-protected"]
    if name == "npz several arrays":
        np.savez(d / "two.npz", a=files["x"], b=files["x"])
        return [m, d / "two.npz", "-o", out], ["--input-key", "'a'", "'b'"]
    if name == "npz unknown key":
        np.savez(d / "one.npz", data=files["x"])
        return [m, d / "one.npz", "-o", out, "--input-key", "dat"], \
            ["--input-key", "'data'", "'dat'"]
    if name == "input key on npy":
        return [m, x, "-o", out, "--input-key", "data"], ["--input-key"]
    if name == "missing mask":
        return [m, x, "-o", out, "--mask", d / "nope.npy"], ["--mask", "nope.npy"]
    if name == "mask npz several arrays":
        np.savez(d / "mk.npz", a=files["mask"], b=files["mask"])
        return [m, x, "-o", out, "--mask", d / "mk.npz"], ["--mask", "'a'", "'b'"]
    if name == "mask shape":
        return [m, x, "-o", out, "--mask", _save(d / "mk.npy", files["mask"][:, :3])], \
            ["--mask", f"({SAMPLES}, {TIME})", f"({SAMPLES}, 3)"]
    if name == "mask dtype":
        return [m, x, "-o", out, "--mask", _save(d / "mk.npy", files["mask"] * 0.5)], \
            ["--mask", "float64"]
    if name == "mask values":
        late = files["mask"].astype(np.int8)
        late[-1, -1] = 2  # in the last chunk: found before the first
        return [m, x, "-o", out, "--mask", _save(d / "mk.npy", late), "--batch-size", 2], \
            ["--mask", "0 and 1", f"row {SAMPLES - 1}"]
    if name == "mask and mask value":
        return [m, x, "-o", out, "--mask", _save(d / "mk.npy", files["mask"]),
                "--mask-value", 0], ["--mask-value", "--mask"]
    if name == "output folder":
        return [m, x, "-o", d / "no" / "out.npy"], ["-o/--output", "folder"]
    if name == "output extension":
        return [m, x, "-o", d / "out.txt"], ["-o/--output", ".npy or .npz", "out.txt"]
    if name == "output is input":
        return [m, x, "-o", x], ["-o/--output", "INPUT"]
    if name == "batch size":
        return [m, x, "-o", out, "--batch-size", 0], ["--batch-size", "0"]
    if name == "return sequences without rnn":
        dense = nr.Dense(2)
        dense(files["x"])
        nr.save_model(dense, d / "dense.npz")
        return [d / "dense.npz", x, "-o", out, "--return-sequences"], \
            ["--return-sequences", "recurrent"]
    if name in ("mask into masking", "mask value into masking"):
        # a Masking (or Embedding) first layer drops a given mask: refused, not ignored
        nr.save_model(nr.Sequential([nr.Input((None, FEATURES)), nr.Masking(0.0),
                                     nr.SimpleRNN(UNITS)]), d / "masking.npz")
        option = (["--mask", _save(d / "mk.npy", files["mask"])] if name.startswith("mask ")
                  else ["--mask-value", 7])
        return [d / "masking.npz", x, "-o", out, *option], [option[0], "Masking"]
    if name == "mask into embedding":
        nr.save_model(nr.Sequential([nr.Input((None,), dtype="int32"), nr.Embedding(10, 3),
                                     nr.SimpleRNN(UNITS)]), d / "embedding.npz")
        ids = _save(d / "ids.npy", np.ones((SAMPLES, TIME), "int32"))
        return [d / "embedding.npz", ids, "-o", out, "--mask",
                _save(d / "mk.npy", files["mask"])], ["--mask", "Embedding"]
    if name == "model saved unbuilt":
        # tf-keras saves a model before its first call (no weights in the file);
        # numbarnn's save_model refuses one, so the loaded model stands in here
        nr.save_model(files["model"], d / "unbuilt.npz")
        unbuilt, real = nr.Sequential([nr.SimpleRNN(UNITS)]), nr.load_model
        files["monkeypatch"].setattr(nr, "load_model", lambda path: (
            unbuilt if str(path).endswith("unbuilt.npz") else real(path)))
        return [d / "unbuilt.npz", x, "-o", out], ["MODEL", "unbuilt", "no weights"]
    if name == "model truncated h5":
        folder = os.path.join(os.path.dirname(__file__), "data", "tf_keras_files")
        with open(os.path.join(folder, "stack.h5"), "rb") as source:
            (d / "cut.h5").write_bytes(source.read()[:3000])
        return [d / "cut.h5", x, "-o", out], ["MODEL", "cut.h5", "truncated"]
    raise AssertionError(name)


ERROR_CASES = ["missing model", "not a model", "model is another npz", "missing input",
               "input extension", "input 2-D", "input strings", "input objects",
               "input complex", "input features", "input timesteps", "npz several arrays",
               "npz unknown key", "input key on npy", "missing mask",
               "mask npz several arrays", "mask shape", "mask dtype", "mask values",
               "mask and mask value", "output folder", "output extension",
               "output is input", "output write-protected", "batch size",
               "return sequences without rnn", "mask into masking",
               "mask value into masking", "mask into embedding", "model saved unbuilt",
               "model truncated h5"]


@pytest.mark.parametrize("name", ERROR_CASES)
def test_bad_arguments_exit_2_with_one_line(files, name, capsys, monkeypatch):
    if name == "output write-protected" and os.geteuid() == 0:
        pytest.skip("root may write any file")
    argv, words = _case(name, dict(files, monkeypatch=monkeypatch))
    if name == "mask values":  # no chunk may run before the error
        import numbarnn.batch_run as batch_run
        monkeypatch.setattr(batch_run, "_call", lambda *a: pytest.fail("a chunk ran"))
    assert run(*argv) == 2
    one_error_line(capsys, *map(str, words))
    if name not in ("output is input", "output write-protected"):
        assert not os.path.exists(files["out"])
    assert leftovers(files["dir"]) == []


def test_cuda_unavailable_exits_2(files, monkeypatch, capsys):
    from numbarnn.kernels import cuda_support
    monkeypatch.setattr(cuda_support, "cuda_status", lambda: (False, "no GPU in this test"))
    assert run(files["model_path"], files["x_path"], "-o", files["out"],
               "--device", "cuda") == 2
    one_error_line(capsys, "--device", "'cuda'", "no GPU in this test")
    assert not os.path.exists(files["out"])


@pytest.mark.parametrize("argv, word", [
    ([], "required"),
    (["M.npz", "X.npy", "-o", "o.npy", "--device", "tpu"], "--device"),
    (["M.npz", "X.npy", "-o", "o.npy", "--batch-size", "many"], "--batch-size"),
])
def test_argparse_errors_are_one_line_too(argv, word, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["run", *argv])
    assert exit_.value.code == 2
    one_error_line(capsys, word)


# -- failures mid-run -------------------------------------------------------------------
@pytest.mark.parametrize("error, status", [(KeyboardInterrupt, 130), (RuntimeError, 1)])
@pytest.mark.parametrize("out_name", ["out.npy", "out.npz"])
def test_failure_on_second_chunk_leaves_output_untouched(files, monkeypatch, capsys,
                                                          error, status, out_name):
    out = files["dir"] / out_name
    out.write_bytes(b"previous result")
    calls = []
    real_call = nr.SimpleRNN.__call__

    def flaky(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise error("boom")
        return real_call(self, *args, **kwargs)

    real_load = nr.load_model

    def load_then_count(path):  # load_model calls the layer once to build it
        model = real_load(path)
        calls.clear()
        return model

    before = hashlib.sha256(pathlib.Path(files["x_path"]).read_bytes()).hexdigest()
    monkeypatch.setattr(nr.SimpleRNN, "__call__", flaky)
    monkeypatch.setattr(nr, "load_model", load_then_count)
    assert run(files["model_path"], files["x_path"], "-o", out, "--batch-size", 3) == status
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    if error is RuntimeError:
        assert "rows 3..5" in err and "RuntimeError: boom" in err
    assert out.read_bytes() == b"previous result"
    assert leftovers(files["dir"]) == []
    assert hashlib.sha256(pathlib.Path(files["x_path"]).read_bytes()).hexdigest() == before


# -- entry point ------------------------------------------------------------------------
def test_module_entry_point_exit_codes(files):
    ok = subprocess.run([sys.executable, "-m", "numbarnn", "run", files["model_path"],
                         files["x_path"], "-o", files["out"], "--batch-size", "4"],
                        capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0, ok.stderr
    np.testing.assert_allclose(np.load(files["out"]), files["model"](files["x"]), rtol=1e-6)
    bad = subprocess.run([sys.executable, "-m", "numbarnn", "run", files["model_path"],
                          files["dir"] / "nope.npy", "-o", files["out"]],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2
    assert bad.stderr.startswith("numbarnn run: error: argument INPUT")
    assert "Traceback" not in bad.stderr


def test_unrecognized_extra_argument_is_one_line_exit_2(capsys):
    from numbarnn.cli import main
    assert main(["run", "m.npz", "x.npy", "-o", "y.npy", "extra"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "numbarnn run: error: unrecognized arguments: extra"


# -- found by the CLI audit ------------------------------------------------------------
def test_time_major_model_gets_its_rows_in_the_right_places(files):
    x = files["x"]
    for return_sequences in (False, True):
        model = nr.Sequential([nr.SimpleRNN(UNITS, time_major=True,
                                            return_sequences=return_sequences),
                               nr.Dense(2)])
        model(np.swapaxes(x, 0, 1))
        nr.save_model(model, files["dir"] / "tm.npz")
        assert run(files["dir"] / "tm.npz", files["x_path"], "-o", files["out"],
                   "--batch-size", 3) == 0
        want = model(np.swapaxes(x, 0, 1))
        want = np.swapaxes(want, 0, 1) if return_sequences else want
        np.testing.assert_allclose(np.load(files["out"]), want, rtol=1e-6, atol=1e-7)


def test_return_sequences_reaches_a_nested_model(files):
    model = nr.Sequential([nr.SimpleRNN(UNITS, return_sequences=True),
                           nr.Sequential([nr.SimpleRNN(2)]), nr.Dense(3)])
    model(files["x"])
    nr.save_model(model, files["dir"] / "nested.npz")
    assert run(files["dir"] / "nested.npz", files["x_path"], "-o", files["out"],
               "--return-sequences") == 0
    assert np.load(files["out"]).shape == (SAMPLES, TIME, 3)


def test_stateful_models_need_their_batch_size(files, capsys):
    model = nr.SimpleRNN(UNITS, stateful=True)
    model(files["x"][:5])
    model.reset_states()
    nr.save_model(model, files["dir"] / "stateful.npz")
    assert run(files["dir"] / "stateful.npz", files["x_path"], "-o", files["out"],
               "--batch-size", 4) == 2
    one_error_line(capsys, "--batch-size", "stateful layer", "(5)")
    # without --batch-size: the stateful layer's
    assert run(files["dir"] / "stateful.npz", files["x_path"], "-o", files["out"]) == 0
    # the state carries from the first chunk to the second, as predict(batch_size=5)
    model.reset_states()
    want = np.concatenate([model(files["x"][:5]), model(files["x"][5:])])
    np.testing.assert_allclose(np.load(files["out"]), want, rtol=1e-6)


def test_import_registers_custom_objects(files, monkeypatch, capsys):
    (files["dir"] / "my_cells.py").write_text(
        "import numbarnn as nr\n"
        "@nr.utils.register_serializable\n"
        "def half_tanh(x):\n"
        "    return 0.5 * nr.activations.tanh(x)\n")
    monkeypatch.syspath_prepend(str(files["dir"]))
    import my_cells
    model = nr.SimpleRNN(UNITS, activation=my_cells.half_tanh)
    model(files["x"])
    nr.save_model(model, files["dir"] / "custom.npz")
    del nr.utils.get_custom_objects()["half_tanh"]
    assert run(files["dir"] / "custom.npz", files["x_path"], "-o", files["out"]) == 2
    one_error_line(capsys, "MODEL", "--import")
    monkeypatch.delitem(sys.modules, "my_cells")
    assert run(files["dir"] / "custom.npz", files["x_path"], "-o", files["out"],
               "--import", "my_cells") == 0
    np.testing.assert_allclose(np.load(files["out"]), model(files["x"]), rtol=1e-6)
    capsys.readouterr()
    assert run(files["model_path"], files["x_path"], "-o", files["out"],
               "--import", "no_such_module_here") == 2
    one_error_line(capsys, "--import", "no_such_module_here")


@pytest.mark.parametrize("value", ["nan", "1e40"])
def test_mask_value_must_be_finite_in_float32(files, value, capsys):
    assert run(files["model_path"], files["x_path"], "-o", files["out"],
               "--mask-value", value) == 2
    one_error_line(capsys, "--mask-value", "finite in float32")


def test_files_whose_content_is_not_their_extension(files, capsys):
    d = files["dir"]
    np.save(d / "zero_t.npy", np.zeros((3, 0, FEATURES), "float32"))
    assert run(files["model_path"], d / "zero_t.npy", "-o", files["out"]) == 2
    one_error_line(capsys, "INPUT", "at least one timestep")
    os.replace(files["x_path"], d / "x.npz")
    assert run(files["model_path"], d / "x.npz", "-o", files["out"]) == 2
    one_error_line(capsys, "INPUT", "(a .npy array file)")
    np.savez(d / "arc.npz", a=files["x"])
    os.replace(d / "arc.npz", d / "arc.npy")
    assert run(files["model_path"], d / "arc.npy", "-o", files["out"]) == 2
    one_error_line(capsys, "INPUT", "(an .npz archive)")


def test_bare_cell_is_refused_at_load(files, capsys):
    cell = nr.SimpleRNNCell(UNITS)
    cell.build((None, FEATURES))
    nr.save_model(cell, files["dir"] / "cell.npz")
    assert run(files["dir"] / "cell.npz", files["x_path"], "-o", files["out"]) == 2
    one_error_line(capsys, "MODEL", "wrap it in numbarnn.RNN")


@pytest.mark.parametrize("suffix", [".npy", ".npz"])
def test_output_gets_the_umask_mode(files, suffix):
    out = files["dir"] / f"o{suffix}"
    assert run(files["model_path"], files["x_path"], "-o", out) == 0
    plain = files["dir"] / "plain"
    plain.write_bytes(b"")
    assert out.stat().st_mode & 0o777 == plain.stat().st_mode & 0o777


def test_full_disk_is_an_output_error_not_a_crash(files, monkeypatch, capsys):
    import errno
    from numbarnn import batch_run

    def no_space(fd, offset, length):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(batch_run.os, "posix_fallocate", no_space, raising=False)
    assert run(files["model_path"], files["x_path"], "-o", files["out"]) == 2
    one_error_line(capsys, "-o/--output", "No space left on device")
    assert leftovers(files["dir"]) == [] and not os.path.exists(files["out"])


def test_sigterm_removes_the_partial_output(files, monkeypatch, capsys):
    import signal
    from numbarnn import batch_run
    calls = []
    real = batch_run._call

    def terminated_on_second_chunk(*args):
        calls.append(1)
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGTERM)
        return real(*args)
    monkeypatch.setattr(batch_run, "_call", terminated_on_second_chunk)
    before = signal.getsignal(signal.SIGTERM)
    assert run(files["model_path"], files["x_path"], "-o", files["out"],
               "--batch-size", 3) == 128 + signal.SIGTERM
    assert "terminated by signal" in capsys.readouterr().err
    assert leftovers(files["dir"]) == [] and not os.path.exists(files["out"])
    assert signal.getsignal(signal.SIGTERM) == before


def test_an_interrupted_npz_archive_leaves_no_temporary_file(files, monkeypatch):
    import zipfile

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(zipfile.ZipFile, "write", interrupted)
    assert run(files["model_path"], files["x_path"], "-o",
               files["dir"] / "out.npz") == 130
    assert leftovers(files["dir"]) == [] and not (files["dir"] / "out.npz").exists()


def test_a_mask_value_is_checked_in_the_inputs_dtype(files, capsys):
    path = files["dir"] / "x16.npy"
    np.save(path, files["x"].astype(np.float16))
    assert run(files["model_path"], path, "-o", files["out"], "--mask-value", 70000) == 2
    one_error_line(capsys, "--mask-value", "finite in the INPUT's dtype (float16)")


def test_an_empty_input_for_a_stateful_model_is_refused_up_front(files, tmp_path, capsys):
    model = nr.SimpleRNN(UNITS, stateful=True)
    model(files["x"][:2])
    nr.save_model(model, tmp_path / "stateful.npz")
    np.save(tmp_path / "empty.npy", np.zeros((0, TIME, FEATURES), np.float32))
    assert run(tmp_path / "stateful.npz", tmp_path / "empty.npy", "-o", files["out"],
               "--batch-size", 2) == 2
    one_error_line(capsys, "INPUT", "at least one sample for stateful layer")


# -- from an audit of the command line as a new user meets it ---------------------------
def test_return_sequences_reaches_a_bidirectionals_two_layers(tmp_path, rng):
    model = nr.Sequential([nr.Input((TIME, FEATURES)),
                           nr.Bidirectional(nr.SimpleRNN(3)), nr.Dense(2)])
    model.save(tmp_path / "b.keras")
    x = rng.standard_normal((5, TIME, FEATURES)).astype("float32")
    np.save(tmp_path / "x.npy", x)
    assert run(tmp_path / "b.keras", tmp_path / "x.npy", "-o", tmp_path / "o.npy",
               "--return-sequences") == 0
    sequences = nr.Sequential([nr.Input((TIME, FEATURES)), nr.Bidirectional(
        nr.SimpleRNN(3, return_sequences=True)), nr.Dense(2)])
    sequences.set_weights(model.get_weights())
    np.testing.assert_array_equal(np.load(tmp_path / "o.npy"), sequences(x))


def test_an_embedding_model_takes_token_ids(tmp_path, rng, capsys):
    model = nr.Sequential([nr.Embedding(20, 4, mask_zero=True), nr.SimpleRNN(5)])
    tokens = rng.integers(0, 20, size=(6, TIME))
    tokens[0, 4:] = 0
    model(tokens)
    nr.save_model(model, tmp_path / "e.npz")
    np.save(tmp_path / "t.npy", tokens)
    assert run(tmp_path / "e.npz", tmp_path / "t.npy", "-o", tmp_path / "o.npy") == 0
    np.testing.assert_array_equal(np.load(tmp_path / "o.npy"), model(tokens))
    capsys.readouterr()
    np.save(tmp_path / "x.npy", rng.standard_normal((6, TIME, 3)).astype("float32"))
    assert run(tmp_path / "e.npz", tmp_path / "x.npy", "-o", tmp_path / "o.npy") == 2
    one_error_line(capsys, "INPUT", "2-D token ids (samples, time)", "(6, 7, 3)")
    assert run(tmp_path / "e.npz", tmp_path / "t.npy", "-o", tmp_path / "o.npy",
               "--mask-value", "0") == 2
    one_error_line(capsys, "--mask-value", "token ids")
    assert run(tmp_path / "e.npz", tmp_path / "t.npy", "-o", tmp_path / "o.npy",
               "--mask", tmp_path / "t.npy") == 2
    one_error_line(capsys, "--mask", "only 0 and 1 values")  # ids are no mask


def test_integer_input_is_cast_as_the_model_casts_it(tmp_path):
    """A float64 model gets integers in float64 (float32 would round 2**24 + 1)."""
    model = nr.SimpleRNN(1, activation="linear", use_bias=False, dtype="float64")
    model.build((None, 1, 1))
    model.set_weights([np.ones((1, 1)), np.zeros((1, 1))])
    nr.save_model(model, tmp_path / "m.npz")
    np.save(tmp_path / "x.npy", np.array([[[2**24 + 1]]], "int64"))
    assert run(tmp_path / "m.npz", tmp_path / "x.npy", "-o", tmp_path / "o.npy") == 0
    assert np.load(tmp_path / "o.npy")[0, 0] == 2**24 + 1


def test_integer_input_of_a_mixed_bfloat16_model_is_cast_to_float32(tmp_path):
    """mixed_bfloat16 computes in float32 here (numpy has no bfloat16)."""
    model = nr.SimpleRNN(1, activation="linear", use_bias=False, dtype="mixed_bfloat16")
    model.build((None, 1, 1))
    model.set_weights([np.ones((1, 1), "float32"), np.zeros((1, 1), "float32")])
    nr.save_model(model, tmp_path / "m.npz")
    np.save(tmp_path / "x.npy", np.array([[[3]]], "int64"))
    assert run(tmp_path / "m.npz", tmp_path / "x.npy", "-o", tmp_path / "o.npy") == 0
    out = np.load(tmp_path / "o.npy")
    assert out.dtype == np.float32 and out[0, 0] == 3


def test_an_inputs_declared_timesteps_are_checked_up_front(files, capsys):
    model = nr.Sequential([nr.Input((TIME + 2, FEATURES)), nr.SimpleRNN(UNITS)])
    nr.save_model(model, files["dir"] / "decl.npz")
    assert run(files["dir"] / "decl.npz", files["x_path"], "-o", files["out"]) == 2
    one_error_line(capsys, "INPUT", f"{TIME + 2} timesteps", "declares input shape")


def test_a_folder_as_model_says_what_is_read(files, capsys):
    assert run(files["dir"], files["x_path"], "-o", files["out"]) == 2
    one_error_line(capsys, "MODEL", "a folder", "SavedModel", ".keras")


def test_the_import_hint_follows_the_missing_module(files, capsys, monkeypatch):
    """A user layer's module that cannot be imported gets the --import hint (the
    loader names the module, not `custom_objects`)."""
    module_dir = files["dir"] / "mods"
    module_dir.mkdir()
    (module_dir / "cli_hint_layers.py").write_text(
        "import numbarnn as nr\n\n\nclass Twice(nr.Layer):\n"
        "    def call(self, x):\n        return 2 * x\n")
    monkeypatch.syspath_prepend(str(module_dir))
    import cli_hint_layers
    model = nr.Sequential([nr.SimpleRNN(UNITS), cli_hint_layers.Twice()])
    model(files["x"])
    nr.save_model(model, files["dir"] / "custom.npz")
    monkeypatch.delitem(sys.modules, "cli_hint_layers")
    (module_dir / "cli_hint_layers.py").unlink()
    assert run(files["dir"] / "custom.npz", files["x_path"], "-o", files["out"]) == 2
    one_error_line(capsys, "MODEL", "cannot be imported", "--import")


def test_a_stateful_bidirectional_sets_the_batch_size(files, capsys):
    """Its two layers hold the states and fix the batch size: the default, and the
    check of a given one."""
    model = nr.Sequential([nr.Bidirectional(nr.SimpleRNN(2, stateful=True),
                                            batch_input_shape=(5, TIME, FEATURES))])
    nr.save_model(model, files["dir"] / "b.npz")
    assert run(files["dir"] / "b.npz", files["x_path"], "-o", files["out"]) == 0
    model.reset_states()
    want = np.concatenate([model(files["x"][:5]), model(files["x"][5:])])
    np.testing.assert_allclose(np.load(files["out"]), want, rtol=1e-6)
    capsys.readouterr()
    assert run(files["dir"] / "b.npz", files["x_path"], "-o", files["out"],
               "--batch-size", 4) == 2
    one_error_line(capsys, "--batch-size", "stateful layer 'forward_", "(5)")


def test_a_model_without_layers_is_refused(files, capsys):
    nr.save_model(nr.Sequential([nr.Input((TIME, FEATURES))]), files["dir"] / "i.npz")
    assert run(files["dir"] / "i.npz", files["x_path"], "-o", files["out"]) == 2
    one_error_line(capsys, "MODEL", "at least one layer")
