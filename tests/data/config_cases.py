"""Layer constructions whose configs are compared with tf-keras's (shared by the recorder,
``make_tf_keras_configs.py``, and ``tests/test_config_parity.py``).

Each case is ``(name, expression, build)``: the expression is evaluated with ``L`` (the
layers module), ``R`` (regularizers), ``I`` (initializers), ``C`` (constraints) and
``ResidualWrapper`` bound to tf-keras's or numbarnn's; ``build`` is None (left unbuilt),
``("build", shape)`` or ``("call", shape)`` (called on zeros of that shape).
"""

CASES = [
    ("simple_rnn_defaults", "L.SimpleRNN(3, name='s')", None),
    ("simple_rnn_options",
     "L.SimpleRNN(4, activation='relu', use_bias=False, return_sequences=True, "
     "return_state=True, go_backwards=True, stateful=False, unroll=True, "
     "kernel_initializer=I.RandomNormal(0.5, 2.0, seed=3), "
     "recurrent_initializer='identity', bias_initializer=I.Constant(0.25), "
     "kernel_regularizer=R.L1L2(0.1, 0.2), recurrent_regularizer='l2', "
     "bias_regularizer=R.L1(0.3), activity_regularizer=R.OrthogonalRegularizer(0.2), "
     "kernel_constraint=C.MaxNorm(2.0), recurrent_constraint='non_neg', "
     "bias_constraint=C.MinMaxNorm(0.1, 0.9, rate=0.5, axis=0), dropout=0.25, "
     "recurrent_dropout=1.5, name='s', dtype='float64', time_major=True, "
     "zero_output_for_mask=True)", None),
    ("simple_rnn_dtype_alias", "L.SimpleRNN(2, dtype='double', name='s')", None),
    ("simple_rnn_caching_device",
     "L.SimpleRNN(2, enable_caching_device=False, name='s')", None),
    ("simple_rnn_built", "L.SimpleRNN(3, name='s')", ("build", (None, 5, 4))),
    ("simple_rnn_called", "L.SimpleRNN(3, stateful=True, name='s')", ("call", (2, 5, 4))),
    ("cell_options",
     "L.SimpleRNNCell(5, activation='sigmoid', kernel_initializer='he_normal', "
     "recurrent_initializer=I.Orthogonal(gain=2.0, seed=1), dropout=-0.5, name='c')",
     None),
    ("cell_built", "L.SimpleRNNCell(3, name='c')", ("build", (None, 4))),
    ("rnn_stacked",
     "L.RNN([L.SimpleRNNCell(3, name='a'), L.SimpleRNNCell(2, name='b')], "
     "return_sequences=True, name='r')", ("call", (2, 5, 4))),
    ("rnn_stacked_unbuilt",
     "L.RNN(L.StackedRNNCells([L.SimpleRNNCell(3, name='a')], name='st'), name='r')",
     None),
    ("rnn_residual",
     "L.RNN(ResidualWrapper(L.SimpleRNNCell(4, name='a')), name='r')",
     ("call", (2, 3, 4))),
    ("dense",
     "L.Dense(3, activation='softmax', kernel_regularizer='l1_l2', "
     "bias_constraint='unit_norm', name='d')", ("build", (None, 7))),
    ("masking", "L.Masking(mask_value=-1.0, name='m')", ("call", (2, 3, 4))),
    ("mixed_policy", "L.SimpleRNN(3, dtype='mixed_float16', name='s')", None),
    ("embedding_defaults", "L.Embedding(10, 3, name='e')", None),
    ("embedding_options",
     "L.Embedding(50, 4, mask_zero=True, input_length=6, embeddings_regularizer='l2', "
     "embeddings_constraint=C.NonNeg(), embeddings_initializer='ones', name='e')",
     ("call", (2, 6))),
    ("dropout", "L.Dropout(0.3, noise_shape=(None, 1, 4), seed=5, name='dr')",
     ("call", (2, 3, 4))),
]


def make(expression, build, namespace):
    """The layer of a case, built or called as the case says."""
    import numpy as np
    layer = eval(expression, dict(namespace))
    if build is not None:
        how, shape = build
        if how == "build":
            layer.build(shape)
        else:
            layer(np.zeros(shape, "float32"))
    return layer
