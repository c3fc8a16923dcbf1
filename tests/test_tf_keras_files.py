"""Files of tf-keras's formats: models and weights that tf-keras saved
(tests/data/tf_keras_files, written by make_tf_keras_files.py) load with the outputs
tf-keras computed; what numbarnn writes has tf-keras's layout, entry for entry."""
import io
import json
import os
import sys
import warnings
import zipfile

import h5py
import numpy as np
import pytest

import numbarnn as nr

HERE = os.path.join(os.path.dirname(__file__), "data", "tf_keras_files")
REFERENCE = dict(np.load(os.path.join(HERE, "reference.npz")))
L = nr.layers


class Custom(L.Layer):
    """The user layer of make_tf_keras_files.py, in numbarnn."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.zeta = L.Dense(2)
        self.alpha = [L.Dense(3), L.Dense(2)]
        self._enc = L.Dense(2)  # reached through a property, in tf-keras's files

    @property
    def encoder(self):
        return self._enc

    def build(self, input_shape):
        self.w = self.add_weight("w", shape=(2,), initializer="random_normal")
        super().build(input_shape)

    def call(self, x):
        return self.encoder(self.zeta(self.alpha[1](self.alpha[0](x)))) + self.w


def stack():
    return nr.Sequential([
        L.Masking(0.0, input_shape=(5, 3)),
        L.SimpleRNN(4, return_sequences=True),
        L.RNN([L.SimpleRNNCell(3), L.SimpleRNNCell(2)]),
        L.Dense(2)])


def nested():
    return nr.Sequential([
        L.SimpleRNN(4, return_sequences=True, stateful=True, batch_input_shape=(2, 5, 3)),
        L.SimpleRNN(6, return_sequences=True, activation="relu"),
        L.Bidirectional(L.SimpleRNN(3, return_sequences=True), merge_mode="sum"),
        L.RNN(L.ResidualWrapper(L.SimpleRNNCell(3)), return_sequences=True),
        nr.Sequential([L.SimpleRNN(2, return_sequences=True),
                       L.Dense(2, trainable=False)]),
        L.RNN([L.SimpleRNNCell(3), L.ResidualWrapper(L.SimpleRNNCell(3))]),
        Custom()])


def built(model):
    model(REFERENCE["x"])
    if model.stateful:
        model.reset_states()
    return model


def h5_tree(path_or_file):
    """Every group and dataset of an HDF5 file: (path, shape or None, the list
    attributes that name layers and weights)."""
    def names(obj):
        return tuple((key, tuple(np.asarray(obj.attrs[key]).tolist()))
                     for key in ("layer_names", "weight_names") if key in obj.attrs)

    with h5py.File(path_or_file, "r") as f:
        entries = [("/", None, names(f))]
        f.visititems(lambda name, obj: entries.append(
            (name, obj.shape if isinstance(obj, h5py.Dataset) else None, names(obj))))
    return sorted(entries)


@pytest.mark.parametrize("name", ["stack.keras", "stack.h5"])
def test_load_model_saved_by_tf_keras(name):
    model = nr.load_model(os.path.join(HERE, name))
    assert [layer.name for layer in model.layers] == ["masking", "simple_rnn", "rnn", "dense"]
    assert model.built and model.layers[0].mask_value == 0.0
    np.testing.assert_allclose(model(REFERENCE["x"]), REFERENCE["y_stack"], atol=1e-6)


def test_load_model_built_by_its_first_call_in_float64():
    model = nr.load_model(os.path.join(HERE, "unbuilt_at_first.keras"))
    assert model.built and model.layers[0].go_backwards
    out = model(REFERENCE["x"].astype("float64"))
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, REFERENCE["y_unbuilt_at_first"], rtol=1e-12, atol=1e-12)


def test_load_text_classifier_with_embedding_and_dropout():
    """Embedding(mask_zero) with left, right and no padding, Dropout, SimpleRNN, Dense:
    tf-keras's outputs (inference: Dropout passes the values and the mask)."""
    model = nr.load_model(os.path.join(HERE, "text_classifier.keras"))
    assert [type(layer).__name__ for layer in model.layers] == [
        "Embedding", "Dropout", "SimpleRNN", "Dense"]
    assert model.layers[0].mask_zero and model.layers[1].rate == 0.5
    np.testing.assert_allclose(model(REFERENCE["tokens"]), REFERENCE["y_text_classifier"],
                               atol=1e-6)


@pytest.mark.parametrize("name", ["stack.weights.h5", "stack.keras", "stack.h5"])
def test_load_weights_saved_by_tf_keras(name):
    model = built(stack())
    model.load_weights(os.path.join(HERE, name))
    np.testing.assert_allclose(model(REFERENCE["x"]), REFERENCE["y_stack"], atol=1e-6)


@pytest.mark.parametrize("name", ["nested.weights.h5", "nested_legacy.h5"])
def test_load_weights_of_every_kind_of_sublayer(name):
    """Stateful, residual, stacked, nested Sequential with a frozen layer, two layers
    of a class, a user layer with a list of sublayers: each weight finds its place."""
    model = built(nested())
    model.load_weights(os.path.join(HERE, name))
    np.testing.assert_allclose(model(REFERENCE["x"]), REFERENCE["y_nested"], atol=2e-6)


@pytest.mark.parametrize("name", ["w.weights.h5", "w.h5"])
def test_saved_weights_have_tf_keras_layout(tmp_path, name):
    """What numbarnn writes holds the entries tf-keras writes for the same model
    (tf-keras's legacy groups are named after the layers and weights: the layers are
    made in the order of make_tf_keras_files.py, so that the names match too)."""
    stack()
    model = built(nested())
    theirs = "nested.weights.h5" if name == "w.weights.h5" else "nested_legacy.h5"
    model.save_weights(tmp_path / name)
    assert h5_tree(tmp_path / name) == h5_tree(os.path.join(HERE, theirs))
    again = built(nested())
    again.load_weights(tmp_path / name)
    for ours, back in zip(model.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(back, ours)


@pytest.mark.parametrize("name", ["m.keras", "m.h5", "m.hdf5"])
def test_saved_model_round_trip_and_layout(tmp_path, name):
    model = built(stack())
    model.layers[1].set_weights([w + 0.5 for w in model.layers[1].get_weights()])
    nr.save_model(model, tmp_path / name)
    loaded = nr.load_model(tmp_path / name)
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
    np.testing.assert_array_equal(loaded(REFERENCE["x"]), model(REFERENCE["x"]))
    if name.endswith(".keras"):
        with zipfile.ZipFile(tmp_path / name) as ours, \
                zipfile.ZipFile(os.path.join(HERE, "stack.keras")) as theirs:
            assert sorted(ours.namelist()) == sorted(theirs.namelist())
            assert h5_tree(ours.open("model.weights.h5")) == h5_tree(
                theirs.open("model.weights.h5"))
    else:
        assert h5_tree(tmp_path / name) == h5_tree(os.path.join(HERE, "stack.h5"))


def test_written_config_is_tf_keras_config(tmp_path):
    """The config.json numbarnn writes for the text classifier is the one tf-keras wrote
    (but for tf-keras's bookkeeping of shared objects)."""
    import json

    def without_ids(tree):
        if isinstance(tree, dict):
            return {k: without_ids(v) for k, v in tree.items() if k != "shared_object_id"}
        return [without_ids(v) for v in tree] if isinstance(tree, list) else tree

    def config_of(path):
        with zipfile.ZipFile(path) as archive:
            return without_ids(json.loads(archive.read("config.json")))

    model = nr.load_model(os.path.join(HERE, "text_classifier.keras"))
    model.save(tmp_path / "m.keras")
    assert config_of(tmp_path / "m.keras") == config_of(
        os.path.join(HERE, "text_classifier.keras"))


def test_written_legacy_config_is_tf_keras_config(tmp_path):
    """The legacy HDF5 model_config: the model's layer entries are class_name and
    config only (a registered class by its "package>Name"), as tf-keras writes them."""
    import json

    def config_of(path):
        with h5py.File(path, "r") as f:
            return json.loads(f.attrs["model_config"])

    model = nr.load_model(os.path.join(HERE, "stack.h5"))
    model.save(tmp_path / "m.h5")
    assert config_of(tmp_path / "m.h5") == config_of(os.path.join(HERE, "stack.h5"))

    @nr.utils.register_keras_serializable(package="pkg")
    class Doubled(nr.Layer):
        def call(self, x):
            return 2 * x

    nr.Sequential([nr.Dense(2, input_shape=(3,)), Doubled()]).save(tmp_path / "d.h5")
    entries = config_of(tmp_path / "d.h5")["config"]["layers"]
    assert [sorted(e) for e in entries] == [["class_name", "config"]] * 3
    assert [e["class_name"] for e in entries] == ["InputLayer", "Dense", "pkg>Doubled"]
    assert set(entries[1]["config"]["kernel_initializer"]) == {  # nested: current form
        "module", "class_name", "config", "registered_name"}
    assert nr.load_model(tmp_path / "d.h5")(np.ones((1, 3), "float32")).shape == (1, 2)


def test_numbarnn_files_are_unchanged_by_other_names(tmp_path):
    model = built(stack())
    model.save_weights(tmp_path / "w.npz")
    nr.save_model(model, tmp_path / "m.npz")
    assert not h5py.is_hdf5(tmp_path / "w.npz")
    assert "__numbarnn_format__.npy" in zipfile.ZipFile(tmp_path / "m.npz").namelist()


def test_load_weights_into_an_unbuilt_model_says_build_first():
    with pytest.raises(ValueError, match=r"expected 0 variables, but received 3 "
                       r".*the model is not built: call it on data"):
        nr.Sequential([L.Masking(0.0), L.SimpleRNN(4, return_sequences=True),
                       L.RNN([L.SimpleRNNCell(3), L.SimpleRNNCell(2)]),
                       L.Dense(2)]).load_weights(os.path.join(HERE, "stack.weights.h5"))
    with pytest.raises(ValueError, match="has not created its variables yet. Call the "
                       "model first"):
        nr.Sequential([L.SimpleRNN(4)]).load_weights(os.path.join(HERE, "stack.h5"))


@pytest.mark.parametrize("name", ["stack.weights.h5", "stack.h5"])
def test_a_wrong_size_changes_nothing(name):
    model = built(nr.Sequential([
        L.Masking(0.0, input_shape=(5, 3)), L.SimpleRNN(5, return_sequences=True),
        L.RNN([L.SimpleRNNCell(3), L.SimpleRNNCell(2)]), L.Dense(2)]))
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"Shape mismatch. The variable shape \(3, 5\), "
                       r"and the assigned value shape \(3, 4\) are incompatible"):
        model.load_weights(os.path.join(HERE, name))
    for old, now in zip(before, model.get_weights()):
        np.testing.assert_array_equal(now, old)


def test_skip_mismatch_loads_what_fits():
    """tf-keras's skip_mismatch: a layer whose variables do not fit keeps its own, with
    a warning; the others load."""
    model = built(nr.Sequential([
        L.Masking(0.0, input_shape=(5, 3)), L.SimpleRNN(5, return_sequences=True),
        L.RNN([L.SimpleRNNCell(3), L.SimpleRNNCell(2)]), L.Dense(2)]))
    before = model.get_weights()
    with pytest.warns(UserWarning, match="Could not load weights in object"):
        model.load_weights(os.path.join(HERE, "stack.weights.h5"), skip_mismatch=True)
    after = model.get_weights()
    for i in range(6):  # SimpleRNN(5) and the first stacked cell (input 5): not loaded
        np.testing.assert_array_equal(after[i], before[i])
    with h5py.File(os.path.join(HERE, "stack.weights.h5")) as f:
        np.testing.assert_array_equal(after[6], f["layers/rnn/cell/cells/simple_rnn_cell_1"
                                                  "/vars/0"][()])
        np.testing.assert_array_equal(after[-1], f["layers/dense/vars/1"][()])


def test_legacy_by_name_loads_the_layers_of_that_name(tmp_path):
    source = built(stack())
    source.save_weights(tmp_path / "w.h5")
    target = built(nr.Sequential([L.Masking(0.0, input_shape=(5, 3)),
                                  L.SimpleRNN(4, return_sequences=True, name="other"),
                                  L.SimpleRNN(2, name=source.layers[2].name),
                                  L.Dense(2, name=source.layers[3].name)]))
    before = target.get_weights()
    with pytest.raises(ValueError, match=r"Weight count mismatch for layer #2 \(named "):
        target.load_weights(tmp_path / "w.h5", by_name=True)
    with pytest.warns(UserWarning, match="due to mismatch in number of weights"):
        target.load_weights(tmp_path / "w.h5", by_name=True, skip_mismatch=True)
    after = target.get_weights()
    for i in range(6):  # "other" is not in the file; the RNN has 6 weights there
        np.testing.assert_array_equal(after[i], before[i])
    for ours, theirs in zip(after[6:], source.layers[3].get_weights()):
        np.testing.assert_array_equal(ours, theirs)


def test_load_model_of_a_weights_file_says_so():
    for name in ("stack.weights.h5", "nested_legacy.h5"):
        with pytest.raises(ValueError, match="No model config found in the file at .* "
                           "holds weights only; use `model.load_weights`"):
            nr.load_model(os.path.join(HERE, name))


def test_numbarnn_weights_file_refuses_tf_keras_only_arguments(tmp_path):
    model = built(stack())
    model.save_weights(tmp_path / "w.npz")
    with pytest.raises(ValueError, match=r"`by_name=True` applies to tf-keras's .h5"):
        model.load_weights(tmp_path / "w.npz", by_name=True)


def test_functional_model_config_explains_the_missing_api():
    config = {"class_name": "Functional", "config": {"name": "model", "layers": []}}
    with pytest.raises(ValueError, match="Unknown layer: 'Functional'.* numbarnn has no "
                       "functional API"):
        nr.layers.deserialize(config)


def test_missing_h5py_names_the_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "h5py", None)
    with pytest.raises(ImportError, match=r"with h5py \(a dependency of numbarnn\), "
                       "which is not installed here: `pip install h5py`"):
        nr.load_model(os.path.join(HERE, "stack.keras"))


def test_tf_keras_files_do_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nr.load_model(os.path.join(HERE, "stack.h5"))


def test_long_name_lists_are_chunked_as_tf_keras_does():
    """An HDF5 attribute holds at most 64 KiB: tf-keras splits a longer list into
    ``name0``, ``name1``... and reads them back in order."""
    from numbarnn.tf_keras_files.by_order import attribute_list, save_attribute_list
    names = [f"layer_{i:05d}/kernel:0".encode() for i in range(5000)]  # ~100 KB
    with h5py.File(io.BytesIO(), "w") as f:
        save_attribute_list(f, "weight_names", names)
        assert "weight_names" not in f.attrs and "weight_names1" in f.attrs
        assert attribute_list(f, "weight_names") == [n.decode() for n in names]


def test_sequential_save_as_tf_keras_model_save(tmp_path):
    model = built(stack())
    model.save(tmp_path / "m.keras")
    model.save(tmp_path / "m", save_format="h5")
    assert h5py.is_hdf5(tmp_path / "m")
    for name in ("m.keras", "m"):
        np.testing.assert_array_equal(nr.load_model(tmp_path / name)(REFERENCE["x"]),
                                      model(REFERENCE["x"]))
    with pytest.raises(FileExistsError, match="exists and `overwrite=False`"):
        model.save(tmp_path / "m.keras", overwrite=False)
    with pytest.raises(ValueError, match="Unknown `save_format` argument.*"
                       "save_format='tf'"):
        model.save(tmp_path / "saved", save_format="tf")


def test_tf_keras_arguments_of_saving_and_loading_are_taken(tmp_path):
    """Code written for tf-keras passes these; they have nothing to do here."""
    model = built(stack())
    model.save(tmp_path / "m.keras", include_optimizer=False, save_traces=True)
    nr.models.save_model(model, tmp_path / "m2", overwrite=True, save_format="h5")
    assert h5py.is_hdf5(tmp_path / "m2")
    model.save_weights(tmp_path / "w", save_format="h5", options=None)
    assert h5py.is_hdf5(tmp_path / "w")
    loaded = nr.models.load_model(tmp_path / "m.keras", compile=False, options=None)
    loaded.load_weights(tmp_path / "w", options=None)
    np.testing.assert_array_equal(loaded(REFERENCE["x"]), model(REFERENCE["x"]))
    with pytest.raises(TypeError, match=r"unexpected keyword argument\(s\) \['compile'\]"):
        nr.save_model(model, tmp_path / "m3.keras", compile=True)
    with pytest.raises(ValueError, match="expected a `.keras` extension. Received: "
                       "filepath=.*m.h5"):
        model.save(tmp_path / "m.h5", save_format="keras")
    with pytest.raises(ValueError, match="Unknown `save_format` argument. Expected one "
                       "of 'h5'.*Received: save_format='tf'"):
        model.save_weights(tmp_path / "w2", save_format="tf")
    for fmt in ("HDF5", " h5 ", "keras"):  # tf-keras's spellings of its h5 weights
        model.save_weights(tmp_path / "w4", save_format=fmt)
        assert h5py.is_hdf5(tmp_path / "w4")
    model.save_weights(tmp_path / "w5.weights.h5", save_format="tf")  # the name wins
    model.save(tmp_path / "m6.keras", save_format="keras_v3")
    model.save(tmp_path / "m7", save_format="hdf5")
    assert zipfile.is_zipfile(tmp_path / "m6.keras") and h5py.is_hdf5(tmp_path / "m7")
    with pytest.raises(ValueError, match="Weights for model 'unbuilt' have not yet "
                       "been created"):
        nr.Sequential([L.SimpleRNN(2)], name="unbuilt").save_weights(tmp_path / "w3.h5")


def test_a_layer_whose_sublayers_build_in_call_is_built_by_the_model(tmp_path):
    """tf-keras builds a Sequential by a symbolic call of each layer, which builds the
    sublayers a custom layer or cell makes in ``__init__`` and builds in ``call``: their
    weights exist, and load, before the first real call."""
    class DenseCell(L.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = self.state_size = units
            self.inner = L.Dense(units, activation="tanh")

        def call(self, inputs, states):
            h = self.inner(inputs) + states[0]
            return h, [h]

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    model = nr.Sequential([L.RNN(DenseCell(2), input_shape=(4, 3))])
    assert [w.shape for w in model.weights] == [(3, 2), (2,)]
    assert model.losses == [] and model.layers[0].cell.inner.built
    source = nr.Sequential([L.RNN(DenseCell(2), input_shape=(4, 3))])
    source.set_weights([np.full((3, 2), 0.5), np.arange(2.0)])
    source.save_weights(tmp_path / "w.weights.h5")
    model.load_weights(tmp_path / "w.weights.h5")  # before any call
    x = np.ones((1, 4, 3), "float32")
    np.testing.assert_array_equal(model(x), source(x))


def test_the_build_probe_leaves_states_and_waits_for_unknown_dimensions():
    class Wrapped(L.Layer):
        """A stateful RNN and a Dense whose width is the flattened time axis, both
        made in __init__ and built in call."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.rnn = L.SimpleRNN(2, stateful=True, return_sequences=True)
            self.head = L.Dense(1)

        def call(self, x):
            seq = self.rnn(x)
            return self.head(np.reshape(seq, (len(seq), -1)))

        def compute_output_shape(self, input_shape):
            return (input_shape[0], 1)

    known = nr.Sequential([Wrapped(batch_input_shape=(3, 4, 2))])
    rnn = known.layers[0].rnn
    assert rnn.built and known.layers[0].head.kernel.shape == (8, 1)
    np.testing.assert_array_equal(rnn.states[0].numpy(), np.zeros((3, 2)))
    free = nr.Sequential([nr.Input((None, 2), batch_size=3), Wrapped()])
    assert not free.layers[0].head.built  # the time axis is unknown: built by the call
    assert free(np.ones((3, 5, 2), "float32")).shape == (3, 1)
    assert free.layers[0].head.kernel.shape == (10, 1)


def test_a_model_started_by_input_writes_no_input_layer_entry(tmp_path):
    model = nr.Sequential([nr.Input((5, 3)), L.Masking(0.0), L.SimpleRNN(
        4, return_sequences=True), L.RNN([L.SimpleRNNCell(3), L.SimpleRNNCell(2)]),
        L.Dense(2)])
    model.save_weights(tmp_path / "w.weights.h5")
    assert h5_tree(tmp_path / "w.weights.h5") == h5_tree(
        os.path.join(HERE, "stack.weights.h5"))


def test_legacy_skip_mismatch_needs_by_name():
    with pytest.raises(ValueError, match="skip_mismatch can only be set to True when "
                       "by_name is True"):
        built(stack()).load_weights(os.path.join(HERE, "stack.h5"), skip_mismatch=True)


@pytest.mark.parametrize("name", ["stack.keras", "stack.h5"])
def test_a_truncated_file_is_tf_keras_os_error(tmp_path, name):
    data = open(os.path.join(HERE, name), "rb").read()
    (tmp_path / name).write_bytes(data[:len(data) // 2])
    with pytest.raises(OSError, match="is not a readable tf-keras file"):
        nr.load_model(tmp_path / name)


def test_a_keras_archive_without_one_of_its_members(tmp_path):
    with zipfile.ZipFile(os.path.join(HERE, "stack.keras")) as source:
        for missing in ("config.json", "model.weights.h5"):
            with zipfile.ZipFile(tmp_path / f"no_{missing}.keras", "w") as target:
                for item in source.namelist():
                    if item != missing:
                        target.writestr(item, source.read(item))
    model = built(stack())
    model.load_weights(tmp_path / "no_config.json.keras")  # the weights are there
    np.testing.assert_allclose(model(REFERENCE["x"]), REFERENCE["y_stack"], atol=1e-6)
    with pytest.raises(ValueError, match="archive without config.json"):
        nr.load_model(tmp_path / "no_config.json.keras")
    with pytest.raises(ValueError, match="Expected a model.weights.h5 or "
                       "model.weights.npz file"):
        model.load_weights(tmp_path / "no_model.weights.h5.keras")


def test_a_models_own_weights_go_through_top_level_model_weights(tmp_path):
    class Scaled(nr.Sequential):
        def build(self, input_shape):
            self.scale = self.add_weight("scale", shape=(), initializer="ones")
            super().build(input_shape)

    model = Scaled([L.SimpleRNN(2, input_shape=(4, 3))])
    model.scale.assign(3.0)
    model.save_weights(tmp_path / "w.h5")
    again = Scaled([L.SimpleRNN(2, input_shape=(4, 3))])
    again.load_weights(tmp_path / "w.h5")
    assert float(again.scale.numpy()) == 3.0
    plain = nr.Sequential([L.SimpleRNN(2, input_shape=(4, 3))])
    with pytest.raises(ValueError, match="Model expects 0 top-level weight\\(s\\). "
                       "Received 1 saved top-level weight\\(s\\)"):
        plain.load_weights(tmp_path / "w.h5")
    with pytest.raises(ValueError, match="Weight count mismatch for top-level weights of "
                       "model"):  # tf-keras's by-name message
        plain.load_weights(tmp_path / "w.h5", by_name=True)
    with pytest.warns(UserWarning, match="Skipping loading top-level weights"):
        plain.load_weights(tmp_path / "w.h5", by_name=True, skip_mismatch=True)


class _ListedVariable(L.Layer):
    """A user layer holding a Variable in a list it filled after assigning it: tf-keras
    tracks it with the layer's own weights and writes it to its files."""

    def build(self, input_shape):
        self.w = self.add_weight("w", shape=(2,), initializer="random_normal")
        self.extra = []
        self.extra.append(nr.Variable(np.array([1.0, 2.0, 3.0], "float32"), name="u"))
        super().build(input_shape)

    def call(self, x):
        return x * self.w


@pytest.mark.parametrize("name", ["w.weights.h5", "w.h5"])
def test_a_variable_appended_to_a_list_is_saved_and_loaded(tmp_path, name):
    x = np.ones((2, 3), "float32")
    ours = nr.Sequential([L.Dense(2, input_shape=(3,)), _ListedVariable()])
    ours(x)
    ours.layers[1].extra[0].assign(np.array([7.0, 8.0, 9.0], "float32"))
    ours.save_weights(tmp_path / name)
    with h5py.File(tmp_path / name, "r") as f:
        values = []
        f.visititems(lambda key, obj: values.append(np.asarray(obj)) if isinstance(
            obj, h5py.Dataset) and obj.shape == (3,) else None)
    assert [v.tolist() for v in values] == [[7.0, 8.0, 9.0]]
    again = nr.Sequential([L.Dense(2, input_shape=(3,)), _ListedVariable()])
    again(x)
    again.load_weights(tmp_path / name)
    assert len(again.weights) == 4
    for mine, back in zip(ours.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(back, mine)


def test_an_unbuilt_model_saves_its_config_only_as_tf_keras_does(tmp_path):
    """tf-keras warns and writes a .keras archive of the config with empty weight
    groups (it loads unbuilt, and builds on its first call); .h5 and numbarnn's own
    format need the weights."""
    model = nr.Sequential([L.SimpleRNN(3), L.Dense(2)])
    with pytest.warns(UserWarning, match="saving a model that has not yet been built"):
        model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        assert "build_config" not in json.loads(archive.read("config.json"))
        # tf-keras 2.21's groups for this model: every one, none holding a weight
        groups = ["layers", "layers/dense", "layers/dense/vars", "layers/simple_rnn",
                  "layers/simple_rnn/cell", "layers/simple_rnn/cell/vars",
                  "layers/simple_rnn/vars", "vars"]
        assert h5_tree(archive.open("model.weights.h5")) == sorted(
            [("/", None, ())] + [(g, None, ()) for g in groups])
    loaded = nr.load_model(tmp_path / "m.keras")
    assert not loaded.built and loaded.get_config() == model.get_config()
    assert loaded(np.ones((2, 4, 5), "float32")).shape == (2, 2)
    with pytest.raises(ValueError, match="Weights for model 'sequential' have not yet been "
                                         "created"):
        model.save(tmp_path / "m.h5")
    with pytest.raises(ValueError, match="it is not built"):
        model.save(tmp_path / "m.npz")


def test_tensorflow_only_formats_are_named_when_loaded(tmp_path):
    """tf-keras's defaults for a name without extension: a SavedModel folder, a
    checkpoint (name.index + name.data-*)."""
    (tmp_path / "saved").mkdir()
    (tmp_path / "saved" / "saved_model.pb").write_bytes(b"")
    with pytest.raises(ValueError, match="a folder .a TensorFlow SavedModel.*model.save"):
        nr.load_model(tmp_path / "saved")
    (tmp_path / "ckpt.index").write_bytes(b"")
    layer = L.Dense(2)
    layer.build((None, 3))
    with pytest.raises(ValueError, match="TensorFlow checkpoint .*ckpt.index"):
        layer.load_weights(tmp_path / "ckpt")


def test_an_open_h5py_file_is_read_and_written_as_tf_keras_does(tmp_path):
    """tf-keras's load_model and model.save take an open h5py.File (legacy HDF5); it
    stays open."""
    model = built(stack())
    with h5py.File(tmp_path / "m.h5", "w") as f:
        model.save(f)
        assert f  # still open
    assert h5_tree(tmp_path / "m.h5") == h5_tree(os.path.join(HERE, "stack.h5"))
    with h5py.File(tmp_path / "m.h5", "r") as f:
        loaded = nr.load_model(f)
        assert f
    np.testing.assert_array_equal(loaded(REFERENCE["x"]), model(REFERENCE["x"]))
    with h5py.File(os.path.join(HERE, "stack.h5"), "r") as f:
        theirs = nr.load_model(f)
    np.testing.assert_allclose(theirs(REFERENCE["x"]), REFERENCE["y_stack"], atol=1e-6)
