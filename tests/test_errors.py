"""Bad input gets a clear error naming the argument, the expected and the received value."""
import numpy as np
import pytest

import numbarnn as nr


def built_layer(**kwargs):
    layer = nr.SimpleRNN(3, **kwargs)
    layer(np.zeros((2, 4, 5), "float32"))
    return layer


def test_wrong_rank():
    with pytest.raises(ValueError, match=r'layer "simple_rnn" is incompatible with the layer: '
                                         r"expected ndim=3, found ndim=2. Full shape "
                                         r"received: \(3, 4\)"):
        nr.SimpleRNN(2)(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="expected ndim>=3"):
        nr.RNN(nr.SimpleRNNCell(2))(np.zeros((3, 4)))


def test_wrong_feature_size_after_build():
    layer = built_layer()
    with pytest.raises(ValueError, match=r"expected shape=\(None, None, 5\), found "
                                         r"shape=\(2, 4, 6\)"):
        layer(np.zeros((2, 4, 6), "float32"))


def test_mask_of_wrong_shape():
    layer = built_layer()
    with pytest.raises(ValueError, match=r"`mask` must have shape \(2, 4\).*mask.shape=\(4, 2\)"):
        layer(np.zeros((2, 4, 5), "float32"), mask=np.ones((4, 2), bool))
    with pytest.raises(TypeError, match="mask"):
        layer(np.zeros((2, 4, 5), "float32"), mask=np.full((2, 4), "a"))


def test_initial_state_count_and_shape():
    layer = built_layer()
    x = np.zeros((2, 4, 5), "float32")
    with pytest.raises(ValueError, match="Layer has 1 states but was passed 2 initial states"):
        layer(x, initial_state=[np.zeros((2, 3))] * 2)
    with pytest.raises(ValueError, match=r"state 0 has shape \(2, 4\), expected \(2, 3\)"):
        layer(x, initial_state=[np.zeros((2, 4))])
    fresh = nr.SimpleRNN(3)
    with pytest.raises(ValueError, match="however `cell.state_size` is 3"):
        fresh(x, initial_state=[np.zeros((2, 4))])


def test_set_weights_wrong_count_and_shape():
    layer = built_layer()
    with pytest.raises(ValueError, match="expecting 3 weights"):
        layer.set_weights([np.zeros((5, 3))])
    with pytest.raises(ValueError, match="is not compatible with provided weight shape"):
        layer.set_weights([np.zeros((5, 3)), np.zeros((3, 3)), np.zeros(4)])


def test_reset_states_errors():
    with pytest.raises(AttributeError, match="Layer must be stateful"):
        built_layer().reset_states()
    with pytest.raises(ValueError, match="needs to know its batch size"):
        nr.SimpleRNN(2, stateful=True).reset_states()
    layer = built_layer(stateful=True)
    with pytest.raises(ValueError, match=r"expected shape=\(2, 3\) but found shape=\(2, 2\)"):
        layer.reset_states([np.zeros((2, 2))])
    with pytest.raises(ValueError, match="expects 1 states, but it received 2"):
        layer.reset_states([np.zeros((2, 3))] * 2)


def test_stateful_other_batch_size():
    layer = built_layer(stateful=True)
    with pytest.raises(ValueError, match=r"expected shape=\(2, None, 5\), found shape=\(3, 4, 5\)"):
        layer(np.zeros((3, 4, 5), "float32"))


def test_non_numeric_input():
    with pytest.raises(TypeError, match="numeric array"):
        nr.SimpleRNN(2)(np.array([[["a"]]]))
    with pytest.raises(TypeError, match="Inputs to a layer should be tensors"):
        nr.SimpleRNN(2)("hello")


@pytest.mark.parametrize("units", [0, -1, 2.5, None, True])
def test_bad_units(units):
    with pytest.raises(ValueError, match="expected a positive integer"):
        nr.SimpleRNN(units)


def test_unknown_names_and_kwargs():
    with pytest.raises(ValueError, match="Unknown activation function: 'tanhh'"):
        nr.SimpleRNN(2, activation="tanhh")
    with pytest.raises(ValueError, match="Unknown initializer: 'glorot'"):
        nr.SimpleRNN(2, kernel_initializer="glorot")
    with pytest.raises(ValueError, match="Unknown regularizer"):
        nr.SimpleRNN(2, kernel_regularizer="l3")
    with pytest.raises(TypeError, match="Keyword argument not understood"):
        nr.SimpleRNN(2, retrun_sequences=True)


def test_residual_size_mismatch():
    layer = nr.RNN(nr.ResidualWrapper(nr.SimpleRNNCell(3)))
    with pytest.raises(ValueError, match=r"input feature size to equal the wrapped cell's "
                                         r"output size: got input shape \(2, 4\)"):
        layer(np.zeros((2, 5, 4), "float32"))


def test_cell_without_call_or_state_size():
    class NoCall:
        state_size = 2

    class NoState:
        def call(self, x, s):
            return x, s
    with pytest.raises(ValueError, match="should have a `call` method"):
        nr.RNN(NoCall())
    with pytest.raises(ValueError, match="should have a `state_size` attribute"):
        nr.RNN(NoState())
    with pytest.raises(ValueError, match="All cells must have a `call` method"):
        nr.StackedRNNCells([NoCall()])


def test_constants_unsupported():
    with pytest.raises(ValueError, match="does not support constants"):
        nr.RNN(nr.SimpleRNNCell(2))(np.zeros((1, 2, 3), "float32"),
                                    constants=[np.zeros((1, 3))])


def test_get_initial_state_needs_batch_or_dtype():
    with pytest.raises(ValueError, match="batch_size and dtype cannot be None"):
        nr.SimpleRNNCell(2).get_initial_state(None, None, None)


def test_unknown_device():
    with pytest.raises(ValueError, match="`device` must be one of"):
        with nr.device("tpu"):
            pass
