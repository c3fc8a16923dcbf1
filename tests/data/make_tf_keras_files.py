"""Save small models with tf-keras 2.x, in each of its file formats, for
tests/test_tf_keras_files.py (run where tf_keras and h5py are):

    python tests/data/make_tf_keras_files.py   # writes tests/data/tf_keras_files/

``reference.npz`` holds the inputs ``x`` (and ``tokens`` for the text classifier) and,
for each model, tf-keras's output on them (``y_<model>``), computed right after the
model was saved.
"""
import os
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np  # noqa: E402
import tf_keras as keras  # noqa: E402
from tf_keras.src.layers.rnn.cell_wrappers import ResidualWrapper  # noqa: E402

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tf_keras_files")
L = keras.layers


class Custom(L.Layer):
    """A user layer with a weight of its own, a sublayer, a list of sublayers and a
    sublayer behind a property (the test defines the same class in numbarnn)."""

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
    """Masking, a SimpleRNN, an RNN of a stack of cells, Dense: the input shape given."""
    return keras.Sequential([
        L.Masking(0.0, input_shape=(5, 3)),
        L.SimpleRNN(4, return_sequences=True),
        L.RNN([L.SimpleRNNCell(3), L.SimpleRNNCell(2)]),
        L.Dense(2)])


def nested():
    """Every way of holding sublayers: a stateful layer, a Bidirectional wrapper, a
    residual cell alone and in a stack, a nested Sequential with a frozen layer, two
    layers of one class, a user layer."""
    return keras.Sequential([
        L.SimpleRNN(4, return_sequences=True, stateful=True, batch_input_shape=(2, 5, 3)),
        L.SimpleRNN(6, return_sequences=True, activation="relu"),
        L.Bidirectional(L.SimpleRNN(3, return_sequences=True), merge_mode="sum"),
        L.RNN(ResidualWrapper(L.SimpleRNNCell(3)), return_sequences=True),
        keras.Sequential([L.SimpleRNN(2, return_sequences=True),
                          L.Dense(2, trainable=False)]),
        L.RNN([L.SimpleRNNCell(3), ResidualWrapper(L.SimpleRNNCell(3))]),
        Custom()])


def unbuilt_at_first():
    """No input shape: built by its first call (its .keras config has a build_config)."""
    return keras.Sequential([L.SimpleRNN(3, go_backwards=True, dtype="float64"),
                             L.Dense(1, dtype="float64")])


def text_classifier():
    """The tutorials' model: Embedding with mask_zero, Dropout, SimpleRNN, Dense."""
    return keras.Sequential([L.Embedding(20, 4, mask_zero=True), L.Dropout(0.5),
                             L.SimpleRNN(3), L.Dense(1, activation="sigmoid")])


def activation_layers():
    """The activation layers, alone and as a layer's ``activation`` (whose config then
    holds that layer's; a PReLU's weight is then the Dense's third)."""
    return keras.Sequential([
        L.SimpleRNN(4, return_sequences=True, activation=L.LeakyReLU(0.2),
                    input_shape=(5, 3)),
        L.Activation("tanh"), L.ReLU(max_value=0.5, negative_slope=0.1, threshold=0.05),
        L.ELU(0.5), L.ThresholdedReLU(0.01),
        L.PReLU(alpha_initializer="random_uniform", shared_axes=[1]),
        L.Dense(3, activation=L.PReLU(alpha_initializer="random_uniform")),
        L.Softmax(axis=1), L.LeakyReLU()])


def save_activation_layers():
    """``activations.keras`` / ``.h5`` and their own reference (``activations.npz``:
    ``x`` and tf-keras's ``y``), written apart from the other files (main writes
    them too)."""
    x = np.random.default_rng(11).standard_normal((2, 5, 3)).astype("float32")
    model = activation_layers()
    np.savez(os.path.join(HERE, "activations.npz"), x=x, y=model(x).numpy())
    model.save(os.path.join(HERE, "activations.keras"))
    model.save(os.path.join(HERE, "activations.h5"))


def main():
    os.makedirs(HERE, exist_ok=True)
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 5, 3)).astype("float32")
    x[0, 3:] = 0.0  # padding for the Masking layer
    reference = {"x": x}
    warnings.simplefilter("ignore")  # tf-keras's "HDF5 is legacy" warning

    model = stack()
    reference["y_stack"] = model(x).numpy()
    model.save(os.path.join(HERE, "stack.keras"))
    model.save(os.path.join(HERE, "stack.h5"))
    model.save_weights(os.path.join(HERE, "stack.weights.h5"))

    model = nested()
    reference["y_nested"] = model(x).numpy()
    model.reset_states()
    model.save_weights(os.path.join(HERE, "nested.weights.h5"))
    model.save_weights(os.path.join(HERE, "nested_legacy.h5"))

    model = unbuilt_at_first()
    reference["y_unbuilt_at_first"] = model(x.astype("float64")).numpy()
    model.save(os.path.join(HERE, "unbuilt_at_first.keras"))
    tokens = rng.integers(1, 20, size=(3, 6))
    tokens[0, 4:] = 0  # right padding
    tokens[1, :2] = 0  # left padding
    reference["tokens"] = tokens
    model = text_classifier()
    reference["y_text_classifier"] = model(tokens).numpy()
    model.save(os.path.join(HERE, "text_classifier.keras"))
    np.savez(os.path.join(HERE, "reference.npz"), **reference)
    save_activation_layers()


if __name__ == "__main__":
    main()
